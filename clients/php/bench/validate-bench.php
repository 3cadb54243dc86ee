<?php

// VALIDATE latency: N sequential calls on one connection against a `wxauthd --dev` it starts (WXAUTHD_BIN).
//   WXAUTHD_BIN=/path/to/wxauthd php bench/validate-bench.php 10000

declare(strict_types=1);

require_once __DIR__ . '/../src/autoload.php';
require_once __DIR__ . '/../tests/Support.php';

use WxAuth\Client;
use WxAuth\Tests\Wxauthd;

$n = (int) ($argv[1] ?? 10000);
// With ADDRESS TOKEN after N: a running server (clients/bench-validate.sh measures every client there).
$server = isset($argv[3]) ? null : new Wxauthd();
$c = new Client($server ? $server->address : $argv[2]);
$token = $server ? $c->login($server->devAppId, $server->mintCode('bench'))->token() : $argv[3];
for ($i = 0; $i < 1000; $i++) {
    $c->validate($token);
}
$lat = [];
$start = hrtime(true);
for ($i = 0; $i < $n; $i++) {
    $t0 = hrtime(true);
    $c->validate($token);
    $lat[] = hrtime(true) - $t0;
}
$total = (hrtime(true) - $start) / 1e9;
sort($lat);
printf("php: VALIDATE x%d sequential on one connection: p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us, %.0f calls/s\n",
    $n, $lat[intdiv($n, 2)] / 1e3, $lat[(int) ($n * 0.9)] / 1e3, $lat[(int) ($n * 0.99)] / 1e3, $lat[$n - 1] / 1e3, $n / $total);
$c->close();
$server?->stop();
