<?php

// For use without Composer: loads every class of the client (Composer users get the same through "classmap").
foreach (['Op', 'Status', 'DecryptReason', 'Exceptions', 'Types', 'Codec', 'Connection', 'Client'] as $file) {
    require_once __DIR__ . "/$file.php";
}
