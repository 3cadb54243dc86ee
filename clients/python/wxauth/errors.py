"""Exceptions raised by the wxauth client.

Three families:

* ``ServerError`` and its subclasses: wxauthd answered a request with a non-OK status (one class per status in
  PROTOCOL.md). Each carries ``status``, ``message`` (the server's human-readable text, never a secret),
  ``request_id`` and ``retryable`` (the "retry?" column of PROTOCOL.md's status table).
* ``DecodeError`` and its subclasses: bytes that do not follow the wire format (raised by the codec). The ``code``
  attribute is the name used by the "invalid" test vectors (``malformed``, ``frame_too_short``, ...).
* Local failures: ``ConnectionLost``, ``RequestTimeout``, ``FieldLimitError``, ``ProtocolError``.

Everything derives from ``WxAuthError``.
"""
from typing import Optional

__all__ = [
    "WxAuthError", "ProtocolError", "DecodeError", "FrameTooShortError", "FrameTooLargeError", "MalformedError",
    "UnknownOpcodeError", "UnsupportedVersionError", "FieldLimitError", "ConnectionLost", "RequestTimeout",
    "ServerError", "MalformedRequest", "UnsupportedVersion", "UnknownOpcode", "FrameTooLarge", "TokenError",
    "InvalidToken", "TokenExpired", "TokenRevoked", "UnknownApp", "WeChatRejected", "WeChatUnavailable",
    "RateLimited", "ServerFull", "NotAuthorized", "ShuttingDown", "StoreUnavailable", "InternalError", "UnknownStatus",
    "ERROR_CLASSES", "error_for_status",
]


class WxAuthError(Exception):
    """Base class of every exception this package raises."""

    retryable = False


# --- local errors -----------------------------------------------------------------------------------------------


class ProtocolError(WxAuthError):
    """The peer broke the protocol (unexpected frame, undecodable response, ...)."""


class DecodeError(ProtocolError, ValueError):
    """Bytes that do not follow the wire format. ``code`` names the failure like the test vectors do."""

    code = "malformed"


class FrameTooShortError(DecodeError):
    """A length prefix below the 6-byte header."""

    code = "frame_too_short"


class FrameTooLargeError(DecodeError):
    """A length prefix above the frame limit (detected before any body byte is read)."""

    code = "frame_too_large"

    def __init__(self, message: str, length: int = 0, limit: int = 0):
        super().__init__(message)
        self.length = length
        self.limit = limit


class MalformedError(DecodeError):
    """A body that does not parse: short field, invalid UTF-8, a field outside its limits, trailing bytes."""

    code = "malformed"


class UnknownOpcodeError(DecodeError):
    """A request frame whose opcode is not defined."""

    code = "unknown_opcode"

    def __init__(self, message: str, opcode: int = 0):
        super().__init__(message)
        self.opcode = opcode


class UnsupportedVersionError(DecodeError):
    """A frame whose version byte is not 1."""

    code = "unsupported_version"

    def __init__(self, message: str, version: int = 0):
        super().__init__(message)
        self.version = version


class FieldLimitError(WxAuthError, ValueError):
    """A request field outside PROTOCOL.md's limits; raised before anything is sent."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class ConnectionLost(WxAuthError, ConnectionError):
    """The connection failed or closed before the response arrived.

    Retryable on a new connection, but note that the server may have executed the request (for LOGIN the code may
    already be used at WeChat; REFRESH is safe to repeat within the grace window).
    """

    retryable = True


class RequestTimeout(WxAuthError, TimeoutError):
    """No response within the timeout. The request may still have been executed by the server."""

    retryable = True


# --- errors reported by the server ----------------------------------------------------------------------------


class ServerError(WxAuthError):
    """wxauthd answered with a non-OK status."""

    status = -1
    status_name = "UNKNOWN"

    def __init__(self, message: str = "", *, request_id: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.status_name}: {self.message}" if self.message else self.status_name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class MalformedRequest(ServerError):
    status, status_name = 0x01, "MALFORMED_REQUEST"


class UnsupportedVersion(ServerError):
    status, status_name = 0x02, "UNSUPPORTED_VERSION"

    def __init__(self, supported: int, message: str = "", *, request_id: Optional[int] = None):
        super().__init__(message, request_id=request_id)
        self.supported = supported


class UnknownOpcode(ServerError):
    status, status_name = 0x03, "UNKNOWN_OPCODE"


class FrameTooLarge(ServerError):
    """The server refused a frame as too large and closed the connection."""

    status, status_name = 0x04, "FRAME_TOO_LARGE"

    def __init__(self, max_frame: int, message: str = "", *, request_id: Optional[int] = None):
        super().__init__(message, request_id=request_id)
        self.max_frame = max_frame


class TokenError(ServerError):
    """The token cannot be used any more; the user must log in again (base of the three token statuses)."""


class InvalidToken(TokenError):
    status, status_name = 0x10, "INVALID_TOKEN"


class TokenExpired(TokenError):
    status, status_name = 0x11, "TOKEN_EXPIRED"


class TokenRevoked(TokenError):
    status, status_name = 0x12, "TOKEN_REVOKED"


class UnknownApp(ServerError):
    status, status_name = 0x13, "UNKNOWN_APP"


class DecryptFailed(ServerError):
    """DECRYPT refused the data. ``reason``: bad_base64, bad_key_length, bad_iv_length, bad_padding_or_key (the
    session_key changed or the data was altered: log in again and fetch the data again), appid_mismatch,
    stale_watermark."""

    status, status_name = 0x14, "DECRYPT_FAILED"

    def __init__(self, reason: str, message: str = "", *, request_id: Optional[int] = None):
        super().__init__(message, request_id=request_id)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.status_name} ({self.reason}): {self.message}"


class SignatureMismatch(ServerError):
    """VERIFY_SIGNATURE: the signature is not sha1(rawData + session_key)."""

    status, status_name = 0x15, "SIGNATURE_MISMATCH"


class WeChatRejected(ServerError):
    """WeChat refused the code (40029 invalid, 40163 already used, 40226 risky user, ...): get a new code."""

    status, status_name = 0x20, "WECHAT_REJECTED"

    def __init__(self, errcode: int, errmsg: str = "", *, request_id: Optional[int] = None):
        super().__init__(errmsg, request_id=request_id)
        self.errcode = errcode
        self.errmsg = errmsg

    def __str__(self) -> str:
        return f"{self.status_name} errcode={self.errcode}: {self.errmsg}"


class WeChatUnavailable(ServerError):
    """WeChat was busy (errcode -1) or did not answer (errcode 0). The code may already be used."""

    status, status_name, retryable = 0x21, "WECHAT_UNAVAILABLE", True

    def __init__(self, errcode: int, message: str = "", *, request_id: Optional[int] = None):
        super().__init__(message, request_id=request_id)
        self.errcode = errcode


class RateLimited(ServerError):
    """Retry after ``retry_after_ms`` (errcode 45011: WeChat's quota; 0: wxauthd's own limit)."""

    status, status_name, retryable = 0x30, "RATE_LIMITED", True

    def __init__(self, retry_after_ms: int, errcode: int = 0, message: str = "", *,
                 request_id: Optional[int] = None):
        super().__init__(message, request_id=request_id)
        self.retry_after_ms = retry_after_ms
        self.errcode = errcode


class ServerFull(ServerError):
    status, status_name, retryable = 0x31, "SERVER_FULL", True


class NotAuthorized(ServerError):
    status, status_name = 0x32, "NOT_AUTHORIZED"


class ShuttingDown(ServerError):
    """Retry on a new connection (the client does this by itself on the next call)."""

    status, status_name, retryable = 0x33, "SHUTTING_DOWN", True


class StoreUnavailable(ServerError):
    """The server cannot keep changes (its disk refuses writes, or its Redis is unreachable): nothing was changed; retry with backoff. A LOGIN
    refused this way did not spend its code."""

    status, status_name, retryable = 0x34, "STORE_UNAVAILABLE", True


class InternalError(ServerError):
    """Retry once."""

    status, status_name, retryable = 0x3F, "INTERNAL_ERROR", True


class UnknownStatus(ServerError):
    """A status this client does not know: not retryable, and the connection is kept."""

    def __init__(self, status: int, message: str = "", body: bytes = b"", *, request_id: Optional[int] = None):
        super().__init__(message, request_id=request_id)
        self.status = status
        self.status_name = f"STATUS_0x{status:02X}"
        self.body = body


ERROR_CLASSES = {cls.status: cls for cls in (
    MalformedRequest, UnsupportedVersion, UnknownOpcode, FrameTooLarge, InvalidToken, TokenExpired, TokenRevoked,
    UnknownApp, DecryptFailed, SignatureMismatch, WeChatRejected, WeChatUnavailable, RateLimited, ServerFull, NotAuthorized, ShuttingDown,
    StoreUnavailable, InternalError)}


def error_for_status(status: int, *, message: str = "", request_id: Optional[int] = None, errcode: int = 0,
                     retry_after_ms: int = 0, supported: int = 0, max_frame: int = 0, reason: str = "",
                     body: bytes = b"") -> ServerError:
    """Builds the exception for an error status and its decoded body fields."""
    cls = ERROR_CLASSES.get(status)
    if cls is None:
        return UnknownStatus(status, message, body, request_id=request_id)
    if cls is DecryptFailed:
        return DecryptFailed(reason, message, request_id=request_id)
    if cls is WeChatRejected:
        return WeChatRejected(errcode, message, request_id=request_id)
    if cls is WeChatUnavailable:
        return WeChatUnavailable(errcode, message, request_id=request_id)
    if cls is RateLimited:
        return RateLimited(retry_after_ms, errcode, message, request_id=request_id)
    if cls is UnsupportedVersion:
        return UnsupportedVersion(supported, message, request_id=request_id)
    if cls is FrameTooLarge:
        return FrameTooLarge(max_frame, message, request_id=request_id)
    return cls(message, request_id=request_id)
