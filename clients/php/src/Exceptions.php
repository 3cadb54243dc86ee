<?php

declare(strict_types=1);

namespace WxAuth;

/** Base of every exception of this client. */
class WxAuthException extends \RuntimeException
{
    /** Whether the request may be retried (see the subclasses). */
    public function isRetryable(): bool
    {
        return false;
    }
}

/** The connection failed or closed before the answer (or no address could be reached). The request may have run. */
class ConnectionLostException extends WxAuthException
{
    public function isRetryable(): bool
    {
        return true;
    }
}

/** No answer in time. The request may still have run. */
class TimeoutException extends WxAuthException
{
    public function isRetryable(): bool
    {
        return true;
    }
}

/** The server sent something that does not follow the protocol. */
class ProtocolException extends WxAuthException
{
}

/**
 * Bytes that do not follow the wire format; code() names the failure like the "invalid" test vectors
 * (malformed, frame_too_short, frame_too_large, unknown_opcode, unsupported_version).
 */
class DecodeException extends ProtocolException
{
    public function __construct(private readonly string $failure, string $message)
    {
        parent::__construct("$failure: $message");
    }

    public function code(): string
    {
        return $this->failure;
    }
}

/** A request field outside PROTOCOL.md's limits; nothing was sent. */
class FieldLimitException extends WxAuthException
{
    public function __construct(public readonly string $field, string $message)
    {
        parent::__construct("$field: $message");
    }
}

/**
 * wxauthd answered with a non-OK status: one subclass per status (UnknownStatusException for a status this client
 * does not know: not retryable, the connection is kept). serverMessage() is the server's text, which never contains
 * a token, session_key or secret. Fields the status does not carry are 0.
 */
class ServerException extends WxAuthException
{
    /** status code => exception class */
    private const CLASSES = [
        0x01 => MalformedRequestException::class, 0x02 => UnsupportedVersionException::class,
        0x03 => UnknownOpcodeException::class, 0x04 => FrameTooLargeException::class,
        0x10 => InvalidTokenException::class, 0x11 => TokenExpiredException::class,
        0x12 => TokenRevokedException::class, 0x13 => UnknownAppException::class,
        0x14 => DecryptFailedException::class, 0x15 => SignatureMismatchException::class,
        0x20 => WeChatRejectedException::class, 0x21 => WeChatUnavailableException::class,
        0x30 => RateLimitedException::class, 0x31 => ServerFullException::class,
        0x32 => NotAuthorizedException::class, 0x33 => ShuttingDownException::class,
        0x34 => StoreUnavailableException::class, 0x3F => InternalErrorException::class,
    ];

    final public function __construct(
        public readonly int $statusCode,
        private readonly string $serverMessage = '',
        public readonly int $requestId = 0,
        public readonly int $errcode = 0,
        public readonly int $retryAfterMs = 0,
        public readonly int $supported = 0,
        public readonly int $maxFrame = 0,
        public readonly int $reasonCode = 0,
        public readonly string $body = '',
    ) {
        $text = Status::nameOf($statusCode);
        $status = Status::tryFrom($statusCode);
        if ($status === Status::DECRYPT_FAILED) {
            $text .= ' (' . DecryptReason::fromCode($reasonCode)->wireName() . ')';
        } elseif ($status === Status::WECHAT_REJECTED || $status === Status::WECHAT_UNAVAILABLE) {
            $text .= " errcode=$errcode";
        } elseif ($status === Status::RATE_LIMITED) {
            $text .= " retry_after_ms=$retryAfterMs errcode=$errcode";
        }
        parent::__construct($serverMessage === '' ? $text : "$text: $serverMessage", $statusCode);
    }

    /** The exception for a status and its fields (the class of the status). */
    public static function create(int $statusCode, string $serverMessage = '', int $requestId = 0, int $errcode = 0,
                                  int $retryAfterMs = 0, int $supported = 0, int $maxFrame = 0, int $reasonCode = 0,
                                  string $body = ''): self
    {
        $class = self::CLASSES[$statusCode] ?? UnknownStatusException::class;
        return new $class($statusCode, $serverMessage, $requestId, $errcode, $retryAfterMs, $supported, $maxFrame,
            $reasonCode, $body);
    }

    /** null for a status this client does not know. */
    public function status(): ?Status
    {
        return Status::tryFrom($this->statusCode);
    }

    public function serverMessage(): string
    {
        return $this->serverMessage;
    }

    /** DECRYPT_FAILED: the reason to act on (unknown reasons read as BAD_PADDING_OR_KEY). */
    public function reason(): DecryptReason
    {
        return DecryptReason::fromCode($this->reasonCode);
    }

    public function isRetryable(): bool
    {
        return $this->status()?->isRetryable() ?? false;
    }

    // ---- error bodies: the one place that knows their layouts ---------------------------------------------

    /**
     * Decodes the body of a non-OK status: every error body is `message str` first, then the status's own fields
     * (PROTOCOL.md "Responses and statuses"). A known status's body is consumed exactly; a status this client does
     * not know has its message read and the rest of its body skipped (later versions may add fields there).
     */
    public static function decode(int $statusCode, int $requestId, string $body): self
    {
        $status = Status::tryFrom($statusCode);
        $r = new BodyReader($body);
        $message = $r->str('message');
        if ($status === null || $status === Status::OK) {
            return self::create($statusCode, $message, $requestId, body: $body); // the rest is skipped
        }
        $errcode = $retryAfter = $supported = $maxFrame = $reason = 0;
        switch ($status) {
            case Status::UNSUPPORTED_VERSION:
                $supported = $r->u8('supported');
                break;
            case Status::FRAME_TOO_LARGE:
                $maxFrame = $r->u32('max_frame');
                break;
            case Status::WECHAT_REJECTED:
            case Status::WECHAT_UNAVAILABLE:
                $errcode = $r->i32('errcode');
                break;
            case Status::RATE_LIMITED:
                $retryAfter = $r->u32('retry_after_ms');
                $errcode = $r->i32('errcode');
                break;
            case Status::DECRYPT_FAILED:
                $reason = $r->u8('reason');
                break;
            default:
                break;
        }
        $r->end();
        return self::create($statusCode, $message, $requestId, $errcode, $retryAfter, $supported, $maxFrame, $reason, $body);
    }

    /** The error body (tests and fake servers); an unknown status sends $body as is. */
    public function encodeBody(): string
    {
        $status = $this->status();
        if ($status === null) {
            return $this->body;
        }
        $fields = match ($status) {
            Status::UNSUPPORTED_VERSION => pack('C', $this->supported),
            Status::FRAME_TOO_LARGE => pack('N', $this->maxFrame),
            Status::WECHAT_REJECTED, Status::WECHAT_UNAVAILABLE => pack('N', $this->errcode & 0xFFFFFFFF),
            Status::RATE_LIMITED => pack('NN', $this->retryAfterMs, $this->errcode & 0xFFFFFFFF),
            Status::DECRYPT_FAILED => pack('C', $this->reasonCode),
            default => '',
        };
        return Codec::str($this->serverMessage) . $fields;
    }
}

class MalformedRequestException extends ServerException {}
class UnsupportedVersionException extends ServerException {}
class UnknownOpcodeException extends ServerException {}
/** The server refused a frame as too large and closed the connection (maxFrame is its limit). */
class FrameTooLargeException extends ServerException {}
/** INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED: the user must log in again. */
abstract class TokenException extends ServerException {}
class InvalidTokenException extends TokenException {}
class TokenExpiredException extends TokenException {}
class TokenRevokedException extends TokenException {}
class UnknownAppException extends ServerException {}
/** reason(): bad_padding_or_key means "log in again, then fetch the data again". */
class DecryptFailedException extends ServerException {}
class SignatureMismatchException extends ServerException {}
/** WeChat refused the code (errcode 40029 invalid, 40163 used, ...): get a new code. */
class WeChatRejectedException extends ServerException {}
class WeChatUnavailableException extends ServerException {}
/** Retry after retryAfterMs (errcode 45011: WeChat's quota; 0: wxauthd's own limit). */
class RateLimitedException extends ServerException {}
class ServerFullException extends ServerException {}
class NotAuthorizedException extends ServerException {}
/** Retry on a new connection (the client moves to the next address). */
class ShuttingDownException extends ServerException {}
/** The server cannot keep changes; nothing was changed. A LOGIN refused this way did not spend its code. */
class StoreUnavailableException extends ServerException {}
/** Retry once (the client moves to the next address). */
class InternalErrorException extends ServerException {}
/** A status this client does not know: not retryable; the connection is kept. */
class UnknownStatusException extends ServerException {}
