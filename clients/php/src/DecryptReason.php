<?php

declare(strict_types=1);

namespace WxAuth;

/** DECRYPT_FAILED's reason byte. */
enum DecryptReason: int
{
    case BAD_BASE64 = 1;
    case BAD_KEY_LENGTH = 2;
    case BAD_IV_LENGTH = 3;
    case BAD_PADDING_OR_KEY = 4;
    case APPID_MISMATCH = 5;
    case STALE_WATERMARK = 6;

    /** The name used on the wire documentation and in the vectors (bad_base64, ...). */
    public function wireName(): string
    {
        return strtolower($this->name);
    }

    /** A reason this client does not know is treated like BAD_PADDING_OR_KEY (PROTOCOL.md). */
    public static function fromCode(int $code): self
    {
        return self::tryFrom($code) ?? self::BAD_PADDING_OR_KEY;
    }
}
