<?php

declare(strict_types=1);

namespace WxAuth\Tests;

use PHPUnit\Framework\TestCase;
use WxAuth\Client;
use WxAuth\ConnectionLostException;
use WxAuth\DecryptFailedException;
use WxAuth\DecryptReason;
use WxAuth\FieldLimitException;
use WxAuth\InvalidTokenException;
use WxAuth\NotAuthorizedException;
use WxAuth\Request;
use WxAuth\ServerException;
use WxAuth\Session;
use WxAuth\SignatureMismatchException;
use WxAuth\TimeoutException;
use WxAuth\TokenException;
use WxAuth\TokenResult;
use WxAuth\TokenRevokedException;
use WxAuth\UnknownAppException;
use WxAuth\WeChatRejectedException;

/**
 * Against a real `wxauthd --dev` (skipped when the binary is missing, unless WXAUTH_REQUIRE_SERVER=1). Codes,
 * encrypted user data and phone codes come from its embedded WeChat simulator.
 */
final class IntegrationTest extends TestCase
{
    private static ?Wxauthd $shared = null;

    protected function setUp(): void
    {
        Support::requireServer($this);
        self::$shared ??= new Wxauthd();
    }

    public static function tearDownAfterClass(): void
    {
        self::$shared?->stop();
        self::$shared = null;
    }

    private static function client(string ...$addresses): Client
    {
        return new Client($addresses, ['timeout' => 10]);
    }

    /** @template T @param class-string<T> $class @return T */
    private function expectThrown(string $class, callable $call): \Throwable
    {
        try {
            $call();
        } catch (\Throwable $e) {
            $this->assertInstanceOf($class, $e, $e->getMessage());
            return $e;
        }
        $this->fail("expected $class");
    }

    public function testHelloAndPing(): void
    {
        $s = self::$shared;
        $c = self::client($s->address);
        $h = $c->hello();
        $this->assertFalse($h->authRequired());
        $this->assertSame(32, strlen($h->nonce));
        $this->assertGreaterThanOrEqual(6, $h->maxFrame);
        $this->assertSame(2047, $c->permissions());
        $this->assertNotSame($h->nonce, self::client($s->address)->hello()->nonce, 'a fresh nonce per connection');
        $this->assertLessThan(5000, abs($c->ping() - (int) (microtime(true) * 1000)));
    }

    public function testLoginValidateRepeatRevoke(): void
    {
        $s = self::$shared;
        $c = self::client($s->address);
        $minted = $s->mint('php-alice');
        $issued = $c->login($s->devAppId, $minted['code']);
        $this->assertMatchesRegularExpression('/^[A-Za-z0-9_-]{1,128}$/', $issued->token());
        $this->assertStringNotContainsString($issued->token(), print_r($issued, true), 'print_r shows the token');
        $ss = $issued->session;
        $this->assertSame([$s->devAppId, $minted['openid']], [$ss->appId, $ss->openid]);
        $this->assertTrue($ss->createdAt <= $ss->expiresAt && $ss->expiresAt <= $ss->absoluteExpiresAt);
        usleep(10000);
        $v = $c->validate($issued->token());
        $this->assertSame([$ss->openid, $ss->createdAt, $ss->absoluteExpiresAt], [$v->openid, $v->createdAt, $v->absoluteExpiresAt]);
        $this->assertGreaterThanOrEqual($ss->expiresAt, $v->expiresAt);
        $this->assertSame($issued->token(), $c->login($s->devAppId, $minted['code'])->token(), 'repeat LOGIN, same session');
        $c->revoke($issued->token());
        $e = $this->expectThrown(WeChatRejectedException::class, fn () => $c->login($s->devAppId, $minted['code']));
        $this->assertSame(40163, $e->errcode);
        $this->assertFalse($e->isRetryable());
        $this->expectThrown(UnknownAppException::class, fn () => $c->login('wxnotconfigured01', $minted['code']));
    }

    public function testRefreshRevokeAndRevokeUser(): void
    {
        $s = self::$shared;
        $c = self::client($s->address);
        $issued = $c->login($s->devAppId, $s->mintCode('php-carol'));
        $rotated = $c->refresh($issued->token());
        $this->assertNotSame($issued->token(), $rotated->token());
        $this->assertSame([$issued->session->openid, $issued->session->createdAt, $issued->session->absoluteExpiresAt],
            [$rotated->session->openid, $rotated->session->createdAt, $rotated->session->absoluteExpiresAt]);
        $this->assertSame($rotated->token(), $c->refresh($issued->token())->token(), 'grace window');
        $this->assertInstanceOf(TokenException::class,
            $this->expectThrown(TokenRevokedException::class, fn () => $c->validate($issued->token())));
        $c->validate($rotated->token());
        $c->revoke($rotated->token());
        $this->expectThrown(TokenRevokedException::class, fn () => $c->revoke($rotated->token()));
        $this->expectThrown(InvalidTokenException::class, fn () => $c->validate(str_repeat('A', 44)));
        $this->expectThrown(InvalidTokenException::class, fn () => $c->validate('not-a-token'));
        $this->assertSame('token', $this->expectThrown(FieldLimitException::class, fn () => $c->validate(''))->field);

        $tokens = [];
        $openid = null;
        for ($i = 0; $i < 3; $i++) {
            $r = $c->login($s->devAppId, $s->mintCode('php-frank'));
            $tokens[] = $r->token();
            $openid = $r->session->openid;
        }
        $c->revoke($tokens[0]);
        $this->assertSame(2, $c->revokeUser($s->devAppId, $openid));
        $this->assertSame(0, $c->revokeUser($s->devAppId, $openid));
    }

    public function testMultiPipelines(): void
    {
        $s = self::$shared;
        $c = self::client($s->address);
        $issued = $c->login($s->devAppId, $s->mintCode('php-gina'));
        $many = $c->multi(array_fill(0, 200, Request::validate($issued->token())), true);
        $this->assertCount(200, $many);
        foreach ($many as $session) {
            $this->assertSame($issued->session->openid, $session->openid);
        }
        $code = $s->mintCode('php-hank');
        $r = $c->multi([Request::login($s->devAppId, $code), Request::validate(str_repeat('C', 44)),
            Request::validate($issued->token()), Request::ping(), Request::login($s->devAppId, $code), Request::validate('')]);
        $this->assertInstanceOf(TokenResult::class, $r[0]);
        $this->assertSame($r[0]->token(), $r[4]->token(), 'two pipelined LOGINs with one code share the session');
        $this->assertInstanceOf(InvalidTokenException::class, $r[1]);
        $this->assertInstanceOf(Session::class, $r[2]);
        $this->assertIsInt($r[3]);
        $this->assertInstanceOf(FieldLimitException::class, $r[5]);
        $this->expectException(InvalidTokenException::class);
        $c->multi([Request::ping(), Request::validate(str_repeat('C', 44))], true);
    }

    public function testUserData(): void
    {
        $s = self::$shared;
        $c = self::client($s->address);
        $older = $c->login($s->devAppId, $s->mintCode('php-ud'));
        $issued = $c->login($s->devAppId, $s->mintCode('php-ud')); // WeChat replaces the session_key
        $info = $s->sim('/sim/encrypt', ['appid' => $s->devAppId, 'user' => 'php-ud',
            'data' => ['nickName' => 'Alice', 'city' => 'Guangzhou']]);
        $data = $c->decrypt($issued->token(), $info['encryptedData'], $info['iv']);
        $this->assertStringContainsString('"nickName":"Alice"', $data);
        $this->assertStringContainsString($s->devAppId, $data);
        $this->assertSame($data, $c->decrypt($issued->token(), str_replace('+', ' ', $info['encryptedData']), $info['iv']));
        $e = $this->expectThrown(DecryptFailedException::class, fn () => $c->decrypt($older->token(), $info['encryptedData'], $info['iv']));
        $this->assertSame(DecryptReason::BAD_PADDING_OR_KEY, $e->reason());
        $this->assertFalse($e->isRetryable());
        $e = $this->expectThrown(DecryptFailedException::class, fn () => $c->decrypt($issued->token(), $info['encryptedData'], 'AAAA'));
        $this->assertSame(DecryptReason::BAD_IV_LENGTH, $e->reason());

        $c->verifySignature($issued->token(), $info['rawData'], $info['signature']);
        $bad = ($info['signature'][0] === '0' ? '1' : '0') . substr($info['signature'], 1);
        $this->expectThrown(SignatureMismatchException::class, fn () => $c->verifySignature($issued->token(), $info['rawData'], $bad));

        $this->assertTrue($c->checkSessionKey($issued->token()));
        $this->assertFalse($c->checkSessionKey($older->token()));
        $c->resetSessionKey($issued->token());
        $this->assertTrue($c->checkSessionKey($issued->token()));
        $fresh = $s->sim('/sim/encrypt', ['appid' => $s->devAppId, 'user' => 'php-ud', 'data' => ['city' => 'Guangzhou']]);
        $this->assertStringContainsString('Guangzhou', $c->decrypt($issued->token(), $fresh['encryptedData'], $fresh['iv']));

        $codes = [];
        for ($i = 0; $i < 5; $i++) {
            $codes[] = $s->sim('/sim/phone-code', ['appid' => $s->devAppId, 'user' => 'php-ud', 'phone' => "+86 1380013800$i"])['code'];
        }
        $phones = $c->multi(array_map(fn ($code) => Request::phoneNumber($issued->token(), $code), $codes), true);
        foreach ($phones as $i => $p) {
            $this->assertSame("1380013800$i", $p->purePhoneNumber);
            $this->assertSame('86', $p->countryCode);
        }
        $e = $this->expectThrown(WeChatRejectedException::class, fn () => $c->phoneNumber($issued->token(), $codes[0]));
        $this->assertSame(40163, $e->errcode);
    }

    public function testAuth(): void
    {
        $cfg = tempnam(sys_get_temp_dir(), 'wxauth-php-callers-');
        file_put_contents($cfg, json_encode(['callers' => [
            ['id' => 'orders-api', 'secret_env' => 'WXAUTH_PHP_T1', 'permissions' => ['ALL']],
            ['id' => 'reader', 'secret_env' => 'WXAUTH_PHP_T2', 'permissions' => ['VALIDATE']]]]));
        $s = new Wxauthd(['WXAUTH_PHP_T1' => 's3cret', 'WXAUTH_PHP_T2' => 'r34d'], '--config', $cfg);
        try {
            $full = new Client($s->address, ['callerId' => 'orders-api', 'callerSecret' => 's3cret']);
            $this->assertTrue($full->hello()->authRequired());
            $this->assertNotSame(0, $full->permissions() & 32);
            $issued = $full->login($s->devAppId, $s->mintCode('php-auth'));
            $reader = new Client($s->address, ['callerId' => 'reader', 'callerSecret' => 'r34d']);
            $this->assertNotSame(0, $reader->permissions() & 4);
            $this->assertSame(0, $reader->permissions() & 32);
            $reader->validate($issued->token());
            $this->expectThrown(NotAuthorizedException::class, fn () => $reader->revokeUser($s->devAppId, $issued->session->openid));
            $reader->validate($issued->token()); // the connection stays open
            $this->expectThrown(NotAuthorizedException::class,
                fn () => (new Client($s->address, ['callerId' => 'reader', 'callerSecret' => 'wrong']))->ping());
            $this->expectThrown(NotAuthorizedException::class, fn () => (new Client($s->address))->ping());
            $this->assertStringNotContainsString('r34d', print_r($reader, true));
        } finally {
            $s->stop();
            unlink($cfg);
        }
    }

    public function testTimeout(): void
    {
        $s = new Wxauthd();
        $c = new Client($s->address, ['timeout' => 0.3]);
        $s->sim('/sim/latency', ['ms' => 1500]);
        $code = $s->mintCode('php-slow');
        $e = $this->expectThrown(TimeoutException::class, fn () => $c->login($s->devAppId, $code));
        $this->assertTrue($e->isRetryable());
        $c->ping(); // still usable; the late answer is dropped
        $this->assertMatchesRegularExpression('/^[A-Za-z0-9_-]{1,128}$/', self::client($s->address)->login($s->devAppId, $code)->token(),
            "the code's late answer was kept");
        $s->stop();
    }

    public function testFailover(): void
    {
        $probe = stream_socket_server('tcp://127.0.0.1:0');
        $dead = stream_socket_get_name($probe, false);
        fclose($probe);
        $a = new Wxauthd();
        $b = new Wxauthd();
        try {
            $c1 = self::client($dead, $b->address);
            $c1->ping();
            $this->assertSame($b->address, $c1->currentAddress());

            $c = self::client($a->address, $b->address);
            $c->ping();
            $this->assertSame($a->address, $c->currentAddress());
            $a->stop();
            $minted = $b->mint('php-failover');
            $r = $c->login($b->devAppId, $minted['code']);
            $this->assertSame($minted['openid'], $r->session->openid);
            $this->assertSame($b->address, $c->currentAddress());
            $c->validate($r->token());

            $this->expectThrown(ConnectionLostException::class, fn () => self::client($dead, $a->address)->ping());
        } finally {
            $a->stop();
            $b->stop();
        }
    }

    /**
     * A server draining after SIGTERM closes its idle connections: the client notices before it sends, so even a
     * REVOKE (never repeated after it was sent) goes to the next address instead of failing as a lost connection.
     */
    public function testIdleConnectionClosedByADrainingServer(): void
    {
        $a = new Wxauthd();
        $b = new Wxauthd();
        try {
            $c = self::client($a->address, $b->address);
            $issued = $c->login($a->devAppId, $a->mintCode('php-drain'));
            $a->terminate();
            usleep(300000);
            // B does not know A's token: INVALID_TOKEN shows the REVOKE went to B, and was not lost on the way.
            $this->expectThrown(InvalidTokenException::class, fn () => $c->revoke($issued->token()));
            $this->assertSame($b->address, $c->currentAddress());
            $c->ping();
        } finally {
            $a->stop();
            $b->stop();
        }
    }

    /** A request larger than the max_frame the server announced is refused before it is sent. */
    public function testRequestAboveMaxFrame(): void
    {
        $s = new Wxauthd([], '--max-frame', '1024');
        try {
            $c = self::client($s->address);
            $this->assertSame(1024, $c->hello()->maxFrame);
            $issued = $c->login($s->devAppId, $s->mintCode('php-maxframe'));
            $this->expectThrown(FieldLimitException::class,
                fn () => $c->decrypt($issued->token(), str_repeat('A', 1500), str_repeat('B', 24)));
            $c->validate($issued->token()); // still open
        } finally {
            $s->stop();
        }
    }
}
