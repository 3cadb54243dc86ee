<?php

declare(strict_types=1);

namespace WxAuth;

/** The public view of a session (never the session_key). Times are Unix milliseconds, UTC. */
final class Session
{
    public function __construct(
        public readonly string $appId,
        public readonly string $openid,
        /** empty when WeChat gave none */
        public readonly string $unionid,
        public readonly int $createdAt,
        /** the earlier of the idle deadline and the absolute deadline */
        public readonly int $expiresAt,
        /** never extended */
        public readonly int $absoluteExpiresAt,
    ) {
    }
}

/** The server's greeting. */
final class Hello
{
    public function __construct(public readonly int $flags, public readonly string $nonce, public readonly int $maxFrame)
    {
    }

    public function authRequired(): bool
    {
        return ($this->flags & 1) !== 0;
    }
}

/** LOGIN's and REFRESH's answer: the (new) token and its session. var_dump/print_r never show the token. */
final class TokenResult
{
    public function __construct(
        #[\SensitiveParameter] private readonly string $token,
        public readonly Session $session,
    ) {
    }

    public function token(): string
    {
        return $this->token;
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        return ['token' => '<redacted>', 'session' => $this->session];
    }
}

/** PHONE_NUMBER's answer (the server checked the watermark). */
final class PhoneNumberResult
{
    public function __construct(
        public readonly string $phoneNumber,
        public readonly string $purePhoneNumber,
        public readonly string $countryCode,
    ) {
    }
}

/** One frame: kind is the opcode of a request or the status of a response. */
final class Frame
{
    public function __construct(
        public readonly int $version,
        public readonly int $kind,
        public readonly int $requestId,
        public readonly string $body,
    ) {
    }
}

/** One request: an opcode and its fields in wire order. */
final class Request
{
    /** @param array<string, string> $fields */
    private function __construct(public readonly Op $op, public readonly array $fields)
    {
    }

    /** @param list<string> $values in Op::fields() order */
    public static function of(Op $op, array $values): self
    {
        $names = $op->fields();
        if ($op === Op::HELLO || count($values) !== count($names)) {
            throw new \InvalidArgumentException("{$op->name} takes " . implode(', ', $names));
        }
        return new self($op, array_combine($names, array_values($values)));
    }

    public static function ping(): self { return self::of(Op::PING, []); }
    public static function auth(string $callerId, string $proof): self { return self::of(Op::AUTH, [$callerId, $proof]); }
    public static function login(string $appId, string $code): self { return self::of(Op::LOGIN, [$appId, $code]); }
    public static function validate(string $token): self { return self::of(Op::VALIDATE, [$token]); }
    public static function refresh(string $token): self { return self::of(Op::REFRESH, [$token]); }
    public static function revoke(string $token): self { return self::of(Op::REVOKE, [$token]); }
    public static function revokeUser(string $appId, string $openid): self { return self::of(Op::REVOKE_USER, [$appId, $openid]); }
    public static function decrypt(string $token, string $encryptedData, string $iv): self
    {
        return self::of(Op::DECRYPT, [$token, $encryptedData, $iv]);
    }
    public static function verifySignature(string $token, string $rawData, string $signature): self
    {
        return self::of(Op::VERIFY_SIGNATURE, [$token, $rawData, $signature]);
    }
    public static function phoneNumber(string $token, string $code): self { return self::of(Op::PHONE_NUMBER, [$token, $code]); }
    public static function checkSessionKey(string $token): self { return self::of(Op::CHECK_SESSION_KEY, [$token]); }
    public static function resetSessionKey(string $token): self { return self::of(Op::RESET_SESSION_KEY, [$token]); }

    /** @return array<string, mixed> field names only, never values */
    public function __debugInfo(): array
    {
        return ['op' => $this->op->name, 'fields' => array_keys($this->fields)];
    }
}
