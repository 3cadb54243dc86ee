<?php

// A scripted wxauthd for the client tests: php fake_server.php SCENARIO LOGFILE. Prints {"event":"ready","port":N},
// then serves connections one at a time, appending each request's opcode name to LOGFILE.

declare(strict_types=1);

require_once __DIR__ . '/../src/autoload.php';

use WxAuth\Codec;
use WxAuth\Hello;
use WxAuth\Op;
use WxAuth\ServerException;
use WxAuth\Session;
use WxAuth\Status;
use WxAuth\TokenResult;

[, $scenario, $logFile] = $argv;
$server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
$port = (int) substr(strrchr(stream_socket_get_name($server, false), ':'), 1);
echo json_encode(['event' => 'ready', 'port' => $port]), "\n";
fflush(STDOUT);

function ok(int $id, Op $op): string
{
    $session = new Session('wx1', 'o1', '', 1, 2, 3);
    return Codec::encodeOk($id, $op, match ($op) {
        Op::PING => (int) (microtime(true) * 1000),
        Op::VALIDATE => $session,
        Op::LOGIN, Op::REFRESH => new TokenResult('T', $session),
        default => null,
    });
}

$count = 0;
$held = '';
while ($conn = @stream_socket_accept($server, -1)) {
    if ($scenario === 'rate-limited-greeting') {
        fwrite($conn, Codec::encodeError(0, ServerException::create(Status::RATE_LIMITED->value, 'm', retryAfterMs: 1000)));
        fclose($conn);
        continue;
    }
    if ($scenario === 'server-full-greeting') {
        fwrite($conn, Codec::encodeError(0, ServerException::create(Status::SERVER_FULL->value, 'too many connections')));
        fclose($conn);
        continue;
    }
    fwrite($conn, Codec::encodeOk(0, Op::HELLO, new Hello(0, str_repeat("\0", 32), 65536)));
    $buf = '';
    while (true) {
        $chunk = fread($conn, 65536);
        if ($chunk === '' || $chunk === false) {
            break;
        }
        $buf .= $chunk;
        while (($f = Codec::takeFrame($buf, 65536)) !== null) {
            $op = Op::from($f->kind);
            $id = $f->requestId;
            file_put_contents($logFile, $op->name . "\n", FILE_APPEND);
            $first = $count++ === 0;
            $out = match (true) {
                $scenario === 'ok' => ok($id, $op),
                $scenario === 'silent' => '',
                $scenario === 'close' => null,
                str_starts_with($scenario, 'status-') => // status-NAME: every request is answered NAME
                    Codec::encodeError($id, ServerException::create(constant(Status::class . '::' . substr($scenario, 7))->value,
                        'scripted', errcode: -1, retryAfterMs: 5)),
                $scenario === 'shutting-down' =>
                    Codec::encodeError($id, ServerException::create(Status::SHUTTING_DOWN->value, 'server is shutting down')),
                $scenario === 'unknown-status' && $first =>
                    Codec::encodeFrame(1, 0x40, $id, pack('n', 6) . 'future' . pack('N', 7)), // message, then an unknown field
                $scenario === 'out-of-order' && $op === Op::LOGIN => (function () use ($id, $op, &$held) {
                    $held = ok($id, $op);
                    return '';
                })(),
                $scenario === 'out-of-order' => (function () use ($id, $op, &$held) {
                    $o = ok($id, $op) . $held;
                    $held = '';
                    return $o;
                })(),
                $scenario === 'short-length' && $first => "\0\0\0\3\1\0\0",
                $scenario === 'huge-length' && $first => "\xff\xff\xff\xff\1\0",
                $scenario === 'truncated-session' && $first => Codec::encodeFrame(1, 0, $id, "\0\3w"),
                $scenario === 'trailing-bytes' && $first => (function () use ($id) {
                    $good = substr(Codec::encodeOk($id, Op::VALIDATE, new Session('wx1', 'o1', '', 1, 2, 3)), 4) . "\0";
                    return pack('N', strlen($good)) . $good;
                })(),
                $scenario === 'unknown-version' && $first => Codec::encodeFrame(9, 0, $id, ''),
                $scenario === 'short-error-body' && $first => Codec::encodeFrame(1, Status::RATE_LIMITED->value, $id, "\0\0"),
                default => ok($id, $op),
            };
            if ($out === null) {
                fclose($conn);
                continue 3;
            }
            fwrite($conn, $out);
        }
    }
    @fclose($conn);
}
