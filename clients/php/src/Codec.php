<?php

declare(strict_types=1);

namespace WxAuth;

/**
 * The wire format of protocol/PROTOCOL.md, version 1: frames, request and response bodies. Pure functions, no I/O.
 * Both directions are implemented (requests are also decoded, responses also encoded) so that the shared test
 * vectors can be checked in full and tests can script a fake server.
 *
 * Frame: length u32 | version u8 | kind u8 | request_id u32 | body; length counts the 6 header bytes and the body.
 */
final class Codec
{
    public const VERSION = 1;
    public const HEADER_SIZE = 6;
    public const DEFAULT_MAX_FRAME = 65536;
    /** What the client accepts from a server (responses are small; this only bounds memory). */
    public const MAX_INCOMING_FRAME = 4 << 20;
    public const NONCE_SIZE = 32;
    public const PROOF_SIZE = 32;
    public const MAX_REQUEST_ID = 0xFFFFFFFF;

    /** Byte-length limits of request fields: [min, max]. */
    public const LIMITS = [
        'app_id' => [1, 64], 'code' => [1, 256], 'token' => [1, 128], 'openid' => [1, 128], 'caller_id' => [1, 64],
        'encrypted_data' => [1, 60000], 'iv' => [1, 64], 'raw_data' => [0, 60000], 'signature' => [1, 128],
    ];

    /** HMAC-SHA256(key = the caller secret's bytes, message = "wxauth-auth-v1" || nonce). */
    public static function authProof(#[\SensitiveParameter] string $secret, string $nonce): string
    {
        return hash_hmac('sha256', 'wxauth-auth-v1' . $nonce, $secret, true);
    }

    // ---- frames -------------------------------------------------------------------------------------------

    public static function encodeFrame(int $version, int $kind, int $requestId, string $body): string
    {
        return pack('NCCN', self::HEADER_SIZE + strlen($body), $version, $kind, $requestId) . $body;
    }

    /** Judges a length prefix alone, before any body byte is waited for. */
    public static function checkLength(int $length, int $maxFrame): void
    {
        if ($length < self::HEADER_SIZE) {
            throw new DecodeException('frame_too_short', "length $length is below the 6-byte header");
        }
        if ($length > $maxFrame) {
            throw new DecodeException('frame_too_large', "length $length exceeds the limit of $maxFrame");
        }
    }

    /**
     * Takes one complete frame off the front of $buffer; null when more bytes are needed. A bad length prefix is
     * reported as soon as its 4 bytes are there.
     */
    public static function takeFrame(string &$buffer, int $maxFrame): ?Frame
    {
        if (strlen($buffer) < 4) {
            return null;
        }
        $length = unpack('N', $buffer)[1];
        self::checkLength($length, $maxFrame);
        if (strlen($buffer) < 4 + $length) {
            return null;
        }
        $h = unpack('Cversion/Ckind/Nid', $buffer, 4);
        $frame = new Frame($h['version'], $h['kind'], $h['id'], substr($buffer, 10, $length - self::HEADER_SIZE));
        $buffer = substr($buffer, 4 + $length);
        return $frame;
    }

    /** Exactly one complete frame held in $data. */
    public static function parseFrame(string $data, int $maxFrame): Frame
    {
        if (strlen($data) < 4) {
            throw new DecodeException('malformed', strlen($data) . ' bytes, no length prefix');
        }
        $length = unpack('N', $data)[1];
        self::checkLength($length, $maxFrame);
        if (strlen($data) - 4 !== $length) {
            throw new DecodeException('malformed', "length prefix says $length bytes, " . (strlen($data) - 4) . ' follow');
        }
        $buf = $data;
        return self::takeFrame($buf, $maxFrame);
    }

    // ---- primitives ---------------------------------------------------------------------------------------

    /** A str; with a field name that has limits, they are checked (FieldLimitException). */
    public static function str(string $value, ?string $field = null): string
    {
        $n = strlen($value);
        if ($field !== null && isset(self::LIMITS[$field])) {
            [$lo, $hi] = self::LIMITS[$field];
            if ($n < $lo || $n > $hi) {
                throw new FieldLimitException($field, "$n bytes, must be $lo..$hi");
            }
        }
        if ($n > 0xFFFF) {
            throw new FieldLimitException($field ?? 'str', 'longer than 65535 bytes');
        }
        if (preg_match('//u', $value) !== 1) {
            throw new FieldLimitException($field ?? 'str', 'not valid UTF-8');
        }
        return pack('n', $n) . $value;
    }

    public static function bytes(string $value, string $field = 'bytes'): string
    {
        if (strlen($value) > 0xFFFF) {
            throw new FieldLimitException($field, 'longer than 65535 bytes');
        }
        return pack('n', strlen($value)) . $value;
    }

    private static function i64(int $v): string
    {
        return pack('J', $v);
    }

    // ---- requests -----------------------------------------------------------------------------------------

    /** The body of a request (field limits checked). */
    public static function encodeRequestBody(Request $request): string
    {
        $out = '';
        foreach ($request->fields as $name => $value) {
            if ($name === 'proof') {
                if (strlen($value) !== self::PROOF_SIZE) {
                    throw new FieldLimitException('proof', strlen($value) . ' bytes, must be 32');
                }
                $out .= self::bytes($value, 'proof');
            } else {
                $out .= self::str($value, $name);
            }
        }
        return $out;
    }

    /** The complete frame of one request. */
    public static function encodeRequest(int $requestId, Request $request): string
    {
        return self::encodeFrame(self::VERSION, $request->op->value, $requestId, self::encodeRequestBody($request));
    }

    /**
     * Decodes a request frame the way a server must (version, opcode, exact body, field limits).
     * @return array{0: int, 1: Request} request id and request
     */
    public static function decodeRequest(string $data, int $maxFrame = self::DEFAULT_MAX_FRAME): array
    {
        $f = self::parseFrame($data, $maxFrame);
        if ($f->version !== self::VERSION) {
            throw new DecodeException('unsupported_version', "protocol version {$f->version} is not supported");
        }
        $op = Op::tryFrom($f->kind);
        if ($op === null || $op === Op::HELLO) {
            throw new DecodeException('unknown_opcode', sprintf('unknown opcode 0x%02x', $f->kind));
        }
        $r = new BodyReader($f->body);
        $values = [];
        foreach ($op->fields() as $name) {
            if ($name === 'proof') {
                $proof = $r->blob('proof');
                if (strlen($proof) !== self::PROOF_SIZE) {
                    throw new DecodeException('malformed', 'proof: ' . strlen($proof) . ' bytes, must be 32');
                }
                $values[] = $proof;
            } else {
                $values[] = $r->str($name, true);
            }
        }
        $r->end();
        return [$f->requestId, Request::of($op, $values)];
    }

    // ---- OK response bodies -------------------------------------------------------------------------------

    private static function readSession(BodyReader $r): Session
    {
        return new Session($r->str('session.app_id'), $r->str('session.openid'), $r->str('session.unionid'),
            $r->i64('session.created_at'), $r->i64('session.expires_at'), $r->i64('session.absolute_expires_at'));
    }

    /**
     * The OK body of a response to $op: HELLO Hello; PING int (server time, Unix ms); AUTH int (permissions); LOGIN,
     * REFRESH TokenResult; VALIDATE Session; REVOKE, VERIFY_SIGNATURE, RESET_SESSION_KEY null; REVOKE_USER int;
     * DECRYPT string; PHONE_NUMBER PhoneNumberResult; CHECK_SESSION_KEY bool.
     */
    public static function decodeOk(Op $op, string $body): mixed
    {
        $r = new BodyReader($body);
        switch ($op) {
            case Op::HELLO:
                $flags = $r->u8('flags');
                $nonce = $r->blob('nonce');
                if (strlen($nonce) !== self::NONCE_SIZE) {
                    throw new DecodeException('malformed', 'nonce: ' . strlen($nonce) . ' bytes, must be 32');
                }
                $out = new Hello($flags, $nonce, $r->u32('max_frame'));
                break;
            case Op::PING:
                $out = $r->i64('server_time');
                break;
            case Op::AUTH:
                $out = $r->u32('permissions');
                break;
            case Op::LOGIN:
            case Op::REFRESH:
                $out = new TokenResult($r->str('token'), self::readSession($r));
                break;
            case Op::VALIDATE:
                $out = self::readSession($r);
                break;
            case Op::REVOKE_USER:
                $out = $r->u32('revoked');
                break;
            case Op::DECRYPT:
                $out = $r->str('data');
                break;
            case Op::PHONE_NUMBER:
                $out = new PhoneNumberResult($r->str('phone_number'), $r->str('pure_phone_number'), $r->str('country_code'));
                break;
            case Op::CHECK_SESSION_KEY:
                $v = $r->u8('current');
                if ($v > 1) {
                    throw new DecodeException('malformed', "current: $v is not 0 or 1");
                }
                $out = $v === 1;
                break;
            default: // REVOKE, VERIFY_SIGNATURE, RESET_SESSION_KEY
                $out = null;
        }
        $r->end();
        return $out;
    }

    private static function session(Session $s): string
    {
        return self::str($s->appId) . self::str($s->openid) . self::str($s->unionid)
            . self::i64($s->createdAt) . self::i64($s->expiresAt) . self::i64($s->absoluteExpiresAt);
    }

    /** The complete OK response frame for a value shaped like decodeOk()'s (tests and fake servers). */
    public static function encodeOk(int $requestId, Op $op, mixed $value): string
    {
        $body = match ($op) {
            Op::HELLO => pack('C', $value->flags) . self::bytes($value->nonce) . pack('N', $value->maxFrame),
            Op::PING => self::i64($value),
            Op::AUTH, Op::REVOKE_USER => pack('N', $value),
            Op::LOGIN, Op::REFRESH => self::str($value->token()) . self::session($value->session),
            Op::VALIDATE => self::session($value),
            Op::DECRYPT => self::str($value),
            Op::PHONE_NUMBER => self::str($value->phoneNumber) . self::str($value->purePhoneNumber) . self::str($value->countryCode),
            Op::CHECK_SESSION_KEY => pack('C', $value ? 1 : 0),
            default => '',
        };
        return self::encodeFrame(self::VERSION, Status::OK->value, $requestId, $body);
    }

    /** The complete error response frame. */
    public static function encodeError(int $requestId, ServerException $e): string
    {
        return self::encodeFrame(self::VERSION, $e->statusCode, $requestId, $e->encodeBody());
    }
}

/** Reads the fields of one body; every failure is a malformed DecodeException. */
final class BodyReader
{
    private int $pos = 0;

    public function __construct(private readonly string $buf)
    {
    }

    private function take(int $n, string $what): string
    {
        $left = strlen($this->buf) - $this->pos;
        if ($n > $left) {
            throw new DecodeException('malformed', "$what: needs $n bytes, $left left");
        }
        $out = substr($this->buf, $this->pos, $n);
        $this->pos += $n;
        return $out;
    }

    public function u8(string $what): int
    {
        return ord($this->take(1, $what));
    }

    public function u16(string $what): int
    {
        return unpack('n', $this->take(2, $what))[1];
    }

    public function u32(string $what): int
    {
        return unpack('N', $this->take(4, $what))[1];
    }

    public function i32(string $what): int
    {
        $v = $this->u32($what);
        return $v >= 0x80000000 ? $v - 0x100000000 : $v;
    }

    public function i64(string $what): int
    {
        return unpack('J', $this->take(8, $what))[1]; // 64-bit PHP: two's complement as a signed int
    }

    public function blob(string $what): string
    {
        return $this->take($this->u16($what), $what);
    }

    /** A str; $limited applies the request field limits of $what. */
    public function str(string $what, bool $limited = false): string
    {
        $raw = $this->blob($what);
        if ($limited && isset(Codec::LIMITS[$what])) {
            [$lo, $hi] = Codec::LIMITS[$what];
            if (strlen($raw) < $lo || strlen($raw) > $hi) {
                throw new DecodeException('malformed', "$what: " . strlen($raw) . " bytes, must be $lo..$hi");
            }
        }
        if (preg_match('//u', $raw) !== 1) {
            throw new DecodeException('malformed', "$what: invalid UTF-8");
        }
        return $raw;
    }

    public function end(): void
    {
        if ($this->pos !== strlen($this->buf)) {
            throw new DecodeException('malformed', (strlen($this->buf) - $this->pos) . ' trailing bytes after the body');
        }
    }
}
