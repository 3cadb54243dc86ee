<?php

declare(strict_types=1);

namespace WxAuth\Tests;

use PHPUnit\Framework\TestCase;
use WxAuth\Codec;
use WxAuth\DecodeException;
use WxAuth\DecryptReason;
use WxAuth\Hello;
use WxAuth\Op;
use WxAuth\PhoneNumberResult;
use WxAuth\Request;
use WxAuth\ServerException;
use WxAuth\Session;
use WxAuth\Status;
use WxAuth\TokenResult;
use WxAuth\UnknownStatusException;

/** Every entry of protocol/vectors/vectors.json, read from the file at test time. */
final class VectorsTest extends TestCase
{
    private static function cases(string $key, ?callable $filter = null): array
    {
        $out = [];
        foreach (Support::vectors()[$key] as $v) {
            if ($filter === null || $filter($v)) {
                $out[$v['name']] = [$v];
            }
        }
        return $out;
    }

    public static function requests(): array { return self::cases('requests'); }
    public static function responses(): array { return self::cases('responses'); }
    public static function invalid(): array { return self::cases('invalid'); }

    public function testTablesMatch(): void
    {
        $v = Support::vectors();
        $this->assertSame(Codec::VERSION, $v['protocol_version']);
        $ops = $statuses = $reasons = [];
        foreach (Op::cases() as $op) { $ops[$op->name] = $op->value; }
        foreach (Status::cases() as $s) { $statuses[$s->name] = $s->value; }
        foreach (DecryptReason::cases() as $r) { $reasons[$r->wireName()] = $r->value; }
        ksort($ops); ksort($statuses); ksort($reasons);
        $want = [$v['opcodes'], $v['statuses'], $v['decrypt_failure_reasons']];
        foreach ($want as &$w) { ksort($w); }
        $this->assertSame($want, [$ops, $statuses, $reasons]);
        $this->assertGreaterThanOrEqual(8, count($v['requests']));
        $this->assertGreaterThanOrEqual(20, count($v['responses']));
        $this->assertGreaterThanOrEqual(9, count($v['invalid']));
    }

    /** The request built from a vector's decoded fields, independently of the decoder. */
    private static function requestFrom(array $d): Request
    {
        $op = constant(Op::class . '::' . $d['op']);
        $values = [];
        foreach ($op->fields() as $name) {
            $values[] = $name === 'proof' ? hex2bin($d['proof_hex']) : $d[$name];
        }
        return Request::of($op, $values);
    }

    /** @dataProvider requests */
    public function testRequest(array $v): void
    {
        $d = $v['decoded'];
        $this->assertSame($v['hex'], bin2hex(Codec::encodeRequest($d['request_id'], self::requestFrom($d))));
        [$id, $req] = Codec::decodeRequest(hex2bin($v['hex']));
        $got = ['request_id' => $id, 'op' => $req->op->name];
        foreach ($req->fields as $k => $value) {
            $got[$k === 'proof' ? 'proof_hex' : $k] = $k === 'proof' ? bin2hex($value) : $value;
        }
        $this->assertSame($d, $got);
    }

    private static function sessionDict(Session $s): array
    {
        return ['app_id' => $s->appId, 'openid' => $s->openid, 'unionid' => $s->unionid, 'created_at' => $s->createdAt,
            'expires_at' => $s->expiresAt, 'absolute_expires_at' => $s->absoluteExpiresAt];
    }

    private static function sessionFrom(array $d): Session
    {
        return new Session($d['app_id'], $d['openid'], $d['unionid'], $d['created_at'], $d['expires_at'], $d['absolute_expires_at']);
    }

    private static function okDict(Op $op, mixed $v): array
    {
        return match ($op) {
            Op::HELLO => ['flags' => $v->flags, 'nonce_hex' => bin2hex($v->nonce), 'max_frame' => $v->maxFrame],
            Op::PING => ['server_time' => $v],
            Op::AUTH => ['permissions' => $v],
            Op::LOGIN, Op::REFRESH => ['token' => $v->token(), 'session' => self::sessionDict($v->session)],
            Op::VALIDATE => ['session' => self::sessionDict($v)],
            Op::REVOKE_USER => ['revoked' => $v],
            Op::DECRYPT => ['data' => $v],
            Op::PHONE_NUMBER => ['phone_number' => $v->phoneNumber, 'pure_phone_number' => $v->purePhoneNumber,
                'country_code' => $v->countryCode],
            Op::CHECK_SESSION_KEY => ['current' => $v],
            default => [],
        };
    }

    private static function okFrom(Op $op, array $d): mixed
    {
        return match ($op) {
            Op::HELLO => new Hello($d['flags'], hex2bin($d['nonce_hex']), $d['max_frame']),
            Op::PING => $d['server_time'],
            Op::AUTH => $d['permissions'],
            Op::LOGIN, Op::REFRESH => new TokenResult($d['token'], self::sessionFrom($d['session'])),
            Op::VALIDATE => self::sessionFrom($d['session']),
            Op::REVOKE_USER => $d['revoked'],
            Op::DECRYPT => $d['data'],
            Op::PHONE_NUMBER => new PhoneNumberResult($d['phone_number'], $d['pure_phone_number'], $d['country_code']),
            Op::CHECK_SESSION_KEY => $d['current'],
            default => null,
        };
    }

    private static function errorDict(ServerException $e): array
    {
        $m = match ($e->status()) {
            Status::UNSUPPORTED_VERSION => ['supported' => $e->supported],
            Status::FRAME_TOO_LARGE => ['max_frame' => $e->maxFrame],
            Status::RATE_LIMITED => ['retry_after_ms' => $e->retryAfterMs, 'errcode' => $e->errcode],
            Status::WECHAT_REJECTED, Status::WECHAT_UNAVAILABLE => ['errcode' => $e->errcode],
            Status::DECRYPT_FAILED => ['reason' => $e->reason()->wireName()],
            default => [],
        };
        return $m + ['message' => $e->serverMessage()];
    }

    /** @dataProvider responses */
    public function testResponse(array $v): void
    {
        $d = $v['decoded'];
        $op = constant(Op::class . '::' . $d['op']);
        // fed one byte at a time through the streaming decoder
        $data = hex2bin($v['hex']);
        $buf = '';
        $frames = [];
        for ($i = 0; $i < strlen($data); $i++) {
            $buf .= $data[$i];
            if (($f = Codec::takeFrame($buf, Codec::DEFAULT_MAX_FRAME)) !== null) {
                $frames[] = $f;
            }
        }
        $this->assertCount(1, $frames);
        $this->assertSame('', $buf);
        $f = $frames[0];
        $got = ['request_id' => $f->requestId, 'op' => $op->name, 'status' => Status::nameOf($f->kind)];
        if ($f->kind === 0) {
            $got += self::okDict($op, Codec::decodeOk($op, $f->body));
            $encoded = Codec::encodeOk($d['request_id'], $op, self::okFrom($op, $d));
        } else {
            $e = ServerException::decode($f->kind, $f->requestId, $f->body);
            $got += self::errorDict($e);
            // the exception class of the status, its retryability, its request id
            $this->assertSame(constant(Status::class . '::' . $d['status']), $e->status());
            $this->assertStringEndsWith(str_replace('_', '', ucwords(strtolower($d['status']), '_')) . 'Exception',
                str_replace('WeChat', 'Wechat', get_class($e)));
            $this->assertSame($e->status()->isRetryable(), $e->isRetryable());
            $this->assertSame($d['request_id'], $e->requestId);
            $reason = 0;
            foreach (DecryptReason::cases() as $r) {
                if ($r->wireName() === ($d['reason'] ?? '')) {
                    $reason = $r->value;
                }
            }
            $encoded = Codec::encodeError($d['request_id'], ServerException::create(constant(Status::class . '::' . $d['status'])->value,
                $d['message'], $d['request_id'], $d['errcode'] ?? 0, $d['retry_after_ms'] ?? 0, $d['supported'] ?? 0,
                $d['max_frame'] ?? 0, $reason));
        }
        $this->assertSame($d, $got);
        $this->assertSame($v['hex'], bin2hex($encoded));
    }

    /** @dataProvider invalid */
    public function testInvalid(array $v): void
    {
        $data = hex2bin($v['hex']);
        try {
            Codec::decodeRequest($data);
            $this->fail('decoded an invalid frame');
        } catch (DecodeException $e) {
            $this->assertSame($v['expect'], $e->code());
        }
        if (str_starts_with($v['expect'], 'frame_')) {
            $prefix = substr($data, 0, 4); // a bad length prefix is reported from its four bytes alone
            try {
                Codec::takeFrame($prefix, Codec::DEFAULT_MAX_FRAME);
                $this->fail('accepted a bad length prefix');
            } catch (DecodeException $e) {
                $this->assertSame($v['expect'], $e->code());
            }
        }
    }

    public static function unknownStatuses(): array { return self::cases('unknown_statuses'); }

    public static function authProofs(): array
    {
        $out = [];
        foreach (Support::vectors()['auth_proofs'] as $i => $v) {
            $out["auth_proof_$i"] = [$v];
        }
        return $out;
    }

    /**
     * unknown_statuses: a status this client does not know has its message read and the rest of its body skipped.
     *
     * @dataProvider unknownStatuses
     */
    public function testUnknownStatusVector(array $v): void
    {
        $d = $v['decoded'];
        $buffer = hex2bin($v['hex']);
        $f = Codec::takeFrame($buffer, Codec::DEFAULT_MAX_FRAME);
        $this->assertNotNull($f);
        $this->assertSame('', $buffer);
        $this->assertSame($d['request_id'], $f->requestId);
        $this->assertSame($d['status_code'], $f->kind);
        $this->assertNull(Status::tryFrom($f->kind), 'the vector\'s status is known to this client: it tests nothing');
        $e = ServerException::decode($f->kind, $f->requestId, $f->body);
        $this->assertInstanceOf(UnknownStatusException::class, $e);
        $this->assertNull($e->status());
        $this->assertSame($d['message'], $e->serverMessage());
        $this->assertFalse($e->isRetryable());
        if (strlen($f->body) > 2 + strlen($e->serverMessage())) {
            // the same body under a known status without fields has bytes left over: a protocol error
            $this->expectException(DecodeException::class);
            ServerException::decode(Status::INVALID_TOKEN->value, 1, $f->body);
        }
    }

    /**
     * auth_proofs: HMAC-SHA256 keyed with the caller secret's UTF-8 bytes (a hex-looking secret is not decoded).
     *
     * @dataProvider authProofs
     */
    public function testAuthProofVector(array $v): void
    {
        $proof = Codec::authProof($v['secret'], hex2bin($v['nonce_hex']));
        $this->assertTrue(bin2hex($proof) === $v['proof_hex'], 'proof differs from the vector'); // no secret printed
    }

    public function testVectorSectionsArePresent(): void
    {
        $this->assertGreaterThanOrEqual(2, count(Support::vectors()['unknown_statuses']));
        $this->assertGreaterThanOrEqual(3, count(Support::vectors()['auth_proofs']));
    }

    /** Tokens are opaque: version 1 has 44 characters, version 2 (shared store) 52; any 1..128 is sent and received. */
    public function testTokensOfAnyLengthUpTo128(): void
    {
        foreach ([1, 44, 52, 128] as $n) {
            $tok = str_repeat('A', $n - 1) . '_';
            Codec::encodeRequest(1, Request::validate($tok));
            $buf = Codec::encodeOk(1, Op::REFRESH, new TokenResult($tok, new Session('wx1', 'o1', '', 1, 2, 3)));
            $f = Codec::takeFrame($buf, Codec::DEFAULT_MAX_FRAME);
            $this->assertSame($tok, Codec::decodeOk(Op::REFRESH, $f->body)->token());
        }
        $this->expectException(\WxAuth\FieldLimitException::class);
        Codec::encodeRequest(1, Request::validate(str_repeat('A', 129)));
    }

    public function testUnknownDecryptReasonIsBadPaddingOrKey(): void
    {
        $this->assertSame(DecryptReason::BAD_PADDING_OR_KEY, DecryptReason::fromCode(99));
    }
}
