<?php

declare(strict_types=1);

namespace WxAuth;

/** Response statuses of PROTOCOL.md. */
enum Status: int
{
    case OK = 0x00;
    case MALFORMED_REQUEST = 0x01;
    case UNSUPPORTED_VERSION = 0x02;
    case UNKNOWN_OPCODE = 0x03;
    case FRAME_TOO_LARGE = 0x04;
    case INVALID_TOKEN = 0x10;
    case TOKEN_EXPIRED = 0x11;
    case TOKEN_REVOKED = 0x12;
    case UNKNOWN_APP = 0x13;
    case DECRYPT_FAILED = 0x14;
    case SIGNATURE_MISMATCH = 0x15;
    case WECHAT_REJECTED = 0x20;
    case WECHAT_UNAVAILABLE = 0x21;
    case RATE_LIMITED = 0x30;
    case SERVER_FULL = 0x31;
    case NOT_AUTHORIZED = 0x32;
    case SHUTTING_DOWN = 0x33;
    case STORE_UNAVAILABLE = 0x34;
    case INTERNAL_ERROR = 0x3F;

    /** PROTOCOL.md's "retry?" column. */
    public function isRetryable(): bool
    {
        return match ($this) {
            self::WECHAT_UNAVAILABLE, self::RATE_LIMITED, self::SERVER_FULL, self::SHUTTING_DOWN,
            self::STORE_UNAVAILABLE, self::INTERNAL_ERROR => true,
            default => false,
        };
    }

    /**
     * The retryable statuses about the node (PROTOCOL.md "Clients and several nodes" rule 2): the client leaves it.
     * RATE_LIMITED and WECHAT_UNAVAILABLE are about the caller or WeChat and keep the client where it is.
     */
    public function leavesTheNode(): bool
    {
        return match ($this) {
            self::SHUTTING_DOWN, self::STORE_UNAVAILABLE, self::SERVER_FULL, self::INTERNAL_ERROR => true,
            default => false,
        };
    }

    /** "STATUS_0x40" for codes this client does not know. */
    public static function nameOf(int $code): string
    {
        $s = self::tryFrom($code);
        return $s !== null ? $s->name : sprintf('STATUS_0x%02X', $code);
    }
}
