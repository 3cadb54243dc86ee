<?php

declare(strict_types=1);

namespace WxAuth\Tests;

use PHPUnit\Framework\TestCase;

/** Paths, the vectors file, real `wxauthd --dev` processes with their simulator, and scripted fake servers. */
final class Support
{
    public static function repoDir(): string
    {
        return dirname(__DIR__, 3);
    }

    /** @return array<string, mixed> */
    public static function vectors(): array
    {
        $path = getenv('WXAUTH_VECTORS') ?: self::repoDir() . '/protocol/vectors/vectors.json';
        return json_decode((string) file_get_contents($path), true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
    }

    public static function bin(): string
    {
        return getenv('WXAUTHD_BIN') ?: self::repoDir() . '/.build/debug/wxauthd';
    }

    /** Skips the test when the binary is missing, or fails it with WXAUTH_REQUIRE_SERVER=1. */
    public static function requireServer(TestCase $t): void
    {
        if (is_file(self::bin()) && is_executable(self::bin())) {
            return;
        }
        $msg = 'wxauthd binary not found at ' . self::bin() . ' (build it or set WXAUTHD_BIN)';
        $req = getenv('WXAUTH_REQUIRE_SERVER');
        if ($req !== false && $req !== '' && $req !== '0') {
            $t->fail($msg);
        }
        $t->markTestSkipped($msg);
    }

    /**
     * Starts a process that prints a JSON ready line first; returns [process, pipes, ready].
     * @param list<string> $cmd
     * @param array<string, string> $env
     * @return array{0: resource, 1: array<int, resource>, 2: array<string, mixed>}
     */
    public static function spawn(array $cmd, array $env = [], float $timeout = 30.0): array
    {
        $log = tempnam(sys_get_temp_dir(), 'wxauth-php-test-');
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $log, 'w']],
            $pipes, null, $env + getenv());
        if ($proc === false) {
            throw new \RuntimeException('cannot start ' . $cmd[0]);
        }
        $line = '';
        $deadline = microtime(true) + $timeout;
        while (!str_contains($line, "\n") && microtime(true) < $deadline) {
            $r = [$pipes[1]];
            $w = $e = null;
            if (stream_select($r, $w, $e, 0, 200000) > 0) {
                $chunk = fread($pipes[1], 4096);
                if ($chunk === '' || $chunk === false) {
                    break;
                }
                $line .= $chunk;
            }
        }
        $ready = json_decode(strtok($line, "\n") ?: 'null', true);
        if (!is_array($ready) || ($ready['event'] ?? null) !== 'ready') {
            proc_terminate($proc, 9);
            throw new \RuntimeException("{$cmd[0]}: no ready line (got " . substr($line, 0, 200) . ')');
        }
        stream_set_blocking($pipes[1], false);
        return [$proc, $pipes, $ready];
    }

    public static function stop($proc, array $pipes): void
    {
        $st = proc_get_status($proc);
        if ($st['running']) {
            proc_terminate($proc, 15);
            $deadline = microtime(true) + 10;
            while (proc_get_status($proc)['running'] && microtime(true) < $deadline) {
                usleep(20000);
            }
            if (proc_get_status($proc)['running']) {
                proc_terminate($proc, 9);
            }
        }
        foreach ($pipes as $p) {
            @fclose($p);
        }
        proc_close($proc);
    }
}

/** A running `wxauthd --dev --port 0 --sim-port 0 ...`. */
final class Wxauthd
{
    /** @var resource */
    private $proc;
    /** @var array<int, resource> */
    private array $pipes;
    public readonly string $address;
    public readonly string $simulator;
    public readonly string $devAppId;

    /** @param array<string, string> $env */
    public function __construct(array $env = [], string ...$extra)
    {
        [$this->proc, $this->pipes, $ready] = Support::spawn(
            [Support::bin(), '--dev', '--port', '0', '--sim-port', '0', ...$extra], $env);
        $this->address = $ready['host'] . ':' . $ready['port'];
        $this->simulator = rtrim($ready['simulator'], '/');
        $this->devAppId = $ready['dev_app_id'];
    }

    /** SIGTERM without waiting: the server drains, then exits. */
    public function terminate(): void
    {
        proc_terminate($this->proc, 15);
    }

    public function stop(): void
    {
        if ($this->proc !== null) {
            Support::stop($this->proc, $this->pipes);
            $this->proc = null;
        }
    }

    public function __destruct()
    {
        $this->stop();
    }

    /** POST a JSON body to a simulator control endpoint; the decoded answer. */
    public function sim(string $path, array $body): array
    {
        $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "Content-Type: application/json\r\n",
            'content' => json_encode($body), 'timeout' => 10, 'ignore_errors' => true]]);
        $raw = file_get_contents($this->simulator . $path, false, $ctx);
        $status = (int) explode(' ', $http_response_header[0] ?? 'HTTP/1.1 0')[1];
        if ($raw === false || $status !== 200) {
            throw new \RuntimeException("simulator $path answered $status: $raw");
        }
        return json_decode($raw, true, 512, JSON_THROW_ON_ERROR);
    }

    /** @return array{code: string, openid: string} */
    public function mint(string $user): array
    {
        return $this->sim('/sim/code', ['appid' => $this->devAppId, 'user' => $user]);
    }

    public function mintCode(string $user): string
    {
        return $this->mint($user)['code'];
    }
}

/** A scripted server (tests/fake_server.php) in a child process; it logs the opcodes it received. */
final class FakeServer
{
    private $proc;
    private array $pipes;
    public readonly string $address;
    private string $log;

    public function __construct(string $scenario)
    {
        $this->log = tempnam(sys_get_temp_dir(), 'wxauth-php-fake-');
        [$this->proc, $this->pipes, $ready] = Support::spawn(
            [PHP_BINARY, __DIR__ . '/fake_server.php', $scenario, $this->log]);
        $this->address = '127.0.0.1:' . $ready['port'];
    }

    /** @return list<string> opcode names received so far */
    public function ops(): array
    {
        $text = trim((string) file_get_contents($this->log));
        return $text === '' ? [] : explode("\n", $text);
    }

    public function __destruct()
    {
        Support::stop($this->proc, $this->pipes);
        @unlink($this->log);
    }
}
