<?php

declare(strict_types=1);

namespace WxAuth;

/** Request opcodes. HELLO (0) names the server's greeting; it is never sent. */
enum Op: int
{
    case HELLO = 0x00;
    case PING = 0x01;
    case AUTH = 0x02;
    case LOGIN = 0x10;
    case VALIDATE = 0x11;
    case REFRESH = 0x12;
    case REVOKE = 0x13;
    case REVOKE_USER = 0x14;
    case DECRYPT = 0x20;
    case VERIFY_SIGNATURE = 0x21;
    case PHONE_NUMBER = 0x22;
    case CHECK_SESSION_KEY = 0x23;
    case RESET_SESSION_KEY = 0x24;

    /** @return list<string> the body's field names in wire order (AUTH's proof is bytes, the rest str) */
    public function fields(): array
    {
        return match ($this) {
            self::HELLO, self::PING => [],
            self::AUTH => ['caller_id', 'proof'],
            self::LOGIN => ['app_id', 'code'],
            self::VALIDATE, self::REFRESH, self::REVOKE, self::CHECK_SESSION_KEY, self::RESET_SESSION_KEY => ['token'],
            self::REVOKE_USER => ['app_id', 'openid'],
            self::DECRYPT => ['token', 'encrypted_data', 'iv'],
            self::VERIFY_SIGNATURE => ['token', 'raw_data', 'signature'],
            self::PHONE_NUMBER => ['token', 'code'],
        };
    }

    /**
     * Whether the client may send it again after a lost connection or a fail-over status: reads, and LOGIN (the
     * server remembers a code's outcome). Never REFRESH, REVOKE, REVOKE_USER, PHONE_NUMBER, RESET_SESSION_KEY.
     */
    public function safeToRepeat(): bool
    {
        return match ($this) {
            self::PING, self::VALIDATE, self::DECRYPT, self::VERIFY_SIGNATURE, self::CHECK_SESSION_KEY, self::LOGIN => true,
            default => false,
        };
    }
}
