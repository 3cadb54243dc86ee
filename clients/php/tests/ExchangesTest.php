<?php

declare(strict_types=1);

namespace WxAuth\Tests;

use PHPUnit\Framework\TestCase;
use WxAuth\Codec;
use WxAuth\Op;
use WxAuth\Request;
use WxAuth\ServerException;
use WxAuth\Status;

/**
 * The "exchanges" of protocol/vectors/vectors.json, run against a real wxauthd: whole conversations (request id 0,
 * framing errors, the checks before and after AUTH, a second AUTH) checked with nothing but the vectors, a socket
 * and this client's codec. One server per distinct caller configuration among the exchanges.
 */
final class ExchangesTest extends TestCase
{
    /** @var array<string, Wxauthd> */
    private static array $servers = [];

    public static function tearDownAfterClass(): void
    {
        foreach (self::$servers as $s) {
            $s->stop();
        }
        self::$servers = [];
    }

    public static function exchanges(): array
    {
        $out = [];
        foreach (Support::vectors()['exchanges'] as $e) {
            $out[$e['name']] = [$e];
        }
        return $out;
    }

    public function testTheVectorsHaveExchanges(): void
    {
        $this->assertGreaterThanOrEqual(10, count(Support::vectors()['exchanges']), 'vector file looks truncated');
    }

    private static function serverFor(array $exchange): Wxauthd
    {
        $key = json_encode($exchange['callers'], JSON_THROW_ON_ERROR);
        if (!isset(self::$servers[$key])) {
            $extra = [];
            if ($exchange['callers'] !== []) {
                $config = tempnam(sys_get_temp_dir(), 'wxauth-exchanges-');
                file_put_contents($config, json_encode(['callers' => $exchange['callers']], JSON_THROW_ON_ERROR));
                $extra = ['--config', $config];
            }
            self::$servers[$key] = new Wxauthd([], ...$extra);
        }
        return self::$servers[$key];
    }

    /** @param resource $sock */
    private static function nextFrame($sock, string &$buf, string $label): \WxAuth\Frame
    {
        $deadline = microtime(true) + 5;
        while (($f = Codec::takeFrame($buf, 1 << 24)) === null) {
            if (microtime(true) > $deadline) {
                throw new \RuntimeException("$label: no answer within 5 s");
            }
            $r = [$sock];
            $w = $e = null;
            if (stream_select($r, $w, $e, 0, 200000) > 0) {
                $chunk = fread($sock, 65536);
                if ($chunk === '' || $chunk === false) {
                    throw new \RuntimeException("$label: the server closed the connection before answering");
                }
                $buf .= $chunk;
            }
        }
        return $f;
    }

    /** @param resource $sock */
    private static function closedByServer($sock): bool
    {
        $r = [$sock];
        $w = $e = null;
        if (stream_select($r, $w, $e, 5) <= 0) {
            return false;
        }
        $chunk = @fread($sock, 1);
        return $chunk === '' || $chunk === false;
    }

    /** @dataProvider exchanges */
    public function testExchange(array $exchange): void
    {
        Support::requireServer($this);
        $server = self::serverFor($exchange);
        $sock = stream_socket_client("tcp://{$server->address}", $errno, $errstr, 5);
        $this->assertNotFalse($sock, "connect: $errstr");
        try {
            $buf = '';
            $hello = self::nextFrame($sock, $buf, 'HELLO');
            $this->assertSame(0, $hello->requestId);
            $this->assertSame(Status::OK->value, $hello->kind);
            $nonce = Codec::decodeOk(Op::HELLO, $hello->body)->nonce;
            foreach ($exchange['steps'] as $i => $step) {
                $label = "{$exchange['name']} step $i";
                if (isset($step['send'])) {
                    fwrite($sock, hex2bin($step['send']));
                }
                if (isset($step['send_auth'])) {
                    $a = $step['send_auth'];
                    $proof = Codec::authProof($a['secret'], $nonce);
                    fwrite($sock, Codec::encodeRequest($a['request_id'], Request::auth($a['caller_id'], $proof))
                        . hex2bin($a['then'] ?? ''));
                }
                if (isset($step['expect'])) {
                    $want = $step['expect'];
                    $f = self::nextFrame($sock, $buf, $label);
                    $this->assertSame($want['request_id'], $f->requestId, $label);
                    $this->assertSame($want['status'], Status::nameOf($f->kind), $label);
                    if ($f->kind === Status::OK->value) {
                        $v = Codec::decodeOk(isset($want['permissions']) ? Op::AUTH : Op::PING, $f->body);
                        if (isset($want['permissions'])) {
                            $this->assertSame($want['permissions'], $v, $label);
                        }
                    } else {
                        ServerException::decode($f->kind, $f->requestId, $f->body); // every error body: the common shape
                    }
                }
                if (!empty($step['expect_close'])) {
                    $this->assertTrue(self::closedByServer($sock), "$label: the server hangs up");
                }
            }
        } finally {
            fclose($sock);
        }
    }
}
