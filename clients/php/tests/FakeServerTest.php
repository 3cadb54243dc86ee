<?php

declare(strict_types=1);

namespace WxAuth\Tests;

use PHPUnit\Framework\TestCase;
use WxAuth\Client;
use WxAuth\ConnectionLostException;
use WxAuth\ProtocolException;
use WxAuth\Request;
use WxAuth\ServerException;
use WxAuth\ServerFullException;
use WxAuth\Session;
use WxAuth\ShuttingDownException;
use WxAuth\TimeoutException;
use WxAuth\TokenResult;
use WxAuth\UnknownStatusException;

/**
 * Against scripted servers (tests/fake_server.php in a child process): what a real wxauthd does not do on demand
 * (unknown statuses, broken frames, SHUTTING_DOWN and lost connections at chosen moments, out-of-order answers).
 */
final class FakeServerTest extends TestCase
{
    private static function client(string ...$addresses): Client
    {
        return new Client($addresses, ['timeout' => 3, 'connectTimeout' => 2]);
    }

    public function testUnknownStatusIsTypedAndKeepsTheConnection(): void
    {
        $f = new FakeServer('unknown-status');
        $c = self::client($f->address);
        try {
            $c->validate('tok');
            $this->fail('no exception');
        } catch (UnknownStatusException $e) {
            $this->assertNull($e->status());
            $this->assertSame(0x40, $e->statusCode);
            $this->assertSame('future', $e->serverMessage());
            $this->assertFalse($e->isRetryable());
        }
        $c->ping();
        $this->assertSame(['VALIDATE', 'PING'], $f->ops(), 'retried or reconnected');
    }

    public static function brokenFrames(): array
    {
        return ['length below the header' => ['short-length'], 'huge length' => ['huge-length'],
            'truncated session' => ['truncated-session'], 'trailing bytes' => ['trailing-bytes'],
            'unknown version' => ['unknown-version'], 'error body too short' => ['short-error-body']];
    }

    /** @dataProvider brokenFrames */
    public function testBrokenFramesAreProtocolErrors(string $scenario): void
    {
        $f = new FakeServer($scenario);
        $c = self::client($f->address);
        $start = microtime(true);
        try {
            $c->validate('tok');
            $this->fail('no exception');
        } catch (ProtocolException $e) {
            $this->assertLessThan(2.0, microtime(true) - $start, 'took until the timeout');
        }
        $c->ping(); // recovers, on a new connection when needed
    }

    public function testOutOfOrderAnswers(): void
    {
        $f = new FakeServer('out-of-order');
        $r = self::client($f->address)->multi([Request::login('wx1', 'c'), Request::ping()], true);
        $this->assertInstanceOf(TokenResult::class, $r[0]);
        $this->assertIsInt($r[1]);
    }

    public function testFailoverOnShuttingDown(): void
    {
        $a = new FakeServer('shutting-down');
        $b = new FakeServer('ok');
        $this->assertInstanceOf(Session::class, self::client($a->address, $b->address)->validate('tok'));
        $this->assertSame(['VALIDATE'], $b->ops(), 'VALIDATE is repeated once at B');

        $c = self::client($a->address, $b->address);
        try {
            $c->revoke('tok');
            $this->fail('no exception');
        } catch (ShuttingDownException $e) {
            $this->assertTrue($e->isRetryable());
        }
        $this->assertNotContains('REVOKE', $b->ops(), 'REVOKE was repeated');
        $this->assertSame($b->address, $c->currentAddress());
        $c->revoke('tok'); // the next call goes to B
        $this->assertContains('REVOKE', $b->ops());
    }

    public function testConnectionLostMidRequest(): void
    {
        $a = new FakeServer('close');
        $b = new FakeServer('ok');
        $this->assertInstanceOf(TokenResult::class, self::client($a->address, $b->address)->login('wx1', 'code'));
        try {
            self::client($a->address, $b->address)->refresh('tok');
            $this->fail('no exception');
        } catch (ConnectionLostException $e) {
            $this->assertTrue($e->isRetryable());
        }
        $this->assertNotContains('REFRESH', $b->ops(), 'REFRESH was repeated');
    }

    public function testErrorFrameInPlaceOfHello(): void
    {
        $a = new FakeServer('server-full-greeting');
        $b = new FakeServer('ok');
        try {
            self::client($a->address)->ping();
            $this->fail('no exception');
        } catch (ServerFullException $e) {
            $this->assertTrue($e->isRetryable());
        }
        self::client($a->address, $b->address)->ping();
        $this->assertSame(['PING'], $b->ops());
    }

    /** Rule 1: a status not about the node while connecting is the same on every node: fail at once. */
    public function testRateLimitedInPlaceOfHelloFailsAtOnce(): void
    {
        $a = new FakeServer('rate-limited-greeting');
        $b = new FakeServer('ok');
        try {
            self::client($a->address, $b->address)->ping();
            $this->fail('no exception');
        } catch (ServerException $e) {
            $this->assertSame('RATE_LIMITED', $e->status()?->name);
        }
        $this->assertSame([], $b->ops(), 'B was tried');
    }

    public function testSilentServerTimesOut(): void
    {
        $f = new FakeServer('silent');
        $b = new FakeServer('ok');
        $c = new Client([$f->address, $b->address], ['timeout' => 0.1]);
        try {
            $c->validate('tok');
            $this->fail('no exception');
        } catch (TimeoutException $e) {
            $this->assertTrue($e->isRetryable());
        }
        // no answer within the timeout: the client left the node; the next request goes to B
        $this->assertSame($b->address, $c->currentAddress());
        $c->ping();
        $this->assertSame(['PING'], $b->ops());
    }

    public static function nodeStatuses(): array
    {
        return ['SHUTTING_DOWN' => ['SHUTTING_DOWN', true], 'STORE_UNAVAILABLE' => ['STORE_UNAVAILABLE', true],
            'SERVER_FULL' => ['SERVER_FULL', true], 'INTERNAL_ERROR' => ['INTERNAL_ERROR', true],
            'RATE_LIMITED' => ['RATE_LIMITED', false], 'WECHAT_UNAVAILABLE' => ['WECHAT_UNAVAILABLE', false],
            'INVALID_TOKEN' => ['INVALID_TOKEN', false]];
    }

    /**
     * PROTOCOL.md "Clients and several nodes" rule 2: the retryable statuses about the node move the client (a safe
     * request is repeated once at the next node, REVOKE never); RATE_LIMITED and WECHAT_UNAVAILABLE keep it there.
     *
     * @dataProvider nodeStatuses
     */
    public function testWhichStatusesLeaveTheNode(string $status, bool $moves): void
    {
        $a = new FakeServer('status-' . $status);
        $b = new FakeServer('ok');
        $c = self::client($a->address, $b->address);
        if (!$moves) {
            try {
                $c->validate('tok');
                $this->fail('no exception');
            } catch (ServerException $e) {
                $this->assertSame($status, $e->status()?->name);
            }
            $this->assertSame([], $b->ops(), 'moved to B');
            $this->assertSame($a->address, $c->currentAddress());
            return;
        }
        $this->assertInstanceOf(Session::class, $c->validate('tok'), 'VALIDATE is repeated once at B');
        $this->assertSame(['VALIDATE'], $b->ops());
        $this->assertSame($b->address, $c->currentAddress());
        $c2 = self::client($a->address, $b->address);
        try {
            $c2->revoke('tok');
            $this->fail('no exception');
        } catch (ServerException $e) {
            $this->assertSame($status, $e->status()?->name);
        }
        $this->assertNotContains('REVOKE', $b->ops(), 'REVOKE was repeated');
        $this->assertSame($b->address, $c2->currentAddress());
        // multi() is not repeated, but its answer moves the client all the same
        $c3 = self::client($a->address, $b->address);
        $before = count($b->ops());
        $r = $c3->multi([Request::validate('tok')]);
        $this->assertInstanceOf(ServerException::class, $r[0]);
        $this->assertSame($status, $r[0]->status()?->name);
        $this->assertCount($before, $b->ops(), 'multi() was repeated');
        $this->assertSame($b->address, $c3->currentAddress());
    }

    public function testAuthIsNotSentByHand(): void
    {
        $f = new FakeServer('ok');
        $c = self::client($f->address);
        $auth = Request::auth('x', str_repeat("\0", 32));
        $r = $c->multi([$auth, Request::ping()]);
        $this->assertInstanceOf(\WxAuth\FieldLimitException::class, $r[0]);
        $this->assertIsInt($r[1]);
        $this->assertSame(['PING'], $f->ops());
        $this->expectException(\WxAuth\FieldLimitException::class);
        $c->request($auth);
    }
}
