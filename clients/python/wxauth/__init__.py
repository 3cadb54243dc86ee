"""Python client for wxauthd, the WeChat mini program login-session service.

* ``wxauth.codec``: the wire format (no I/O).
* ``wxauth.Client``: blocking, thread-safe, pipelined client over one reused connection.
* ``wxauth.AsyncClient``: asyncio client, concurrent requests over one connection.
* ``wxauth.errors``: one exception class per protocol status, each with ``retryable``.
"""
from .aio import AsyncClient
from .client import Client, Pipeline, Reply
from .codec import Hello, Op, Permission, Session, Status, TokenResult, auth_proof
from .errors import (
    ConnectionLost, DecodeError, DecryptFailed, FieldLimitError, FrameTooLarge, FrameTooLargeError, FrameTooShortError,
    InternalError, InvalidToken, MalformedError, MalformedRequest, NotAuthorized, ProtocolError, RateLimited,
    RequestTimeout, ServerError, ServerFull, ShuttingDown, SignatureMismatch, StoreUnavailable, TokenError, TokenExpired, TokenRevoked, UnknownApp,
    UnknownOpcode, UnknownOpcodeError, UnknownStatus, UnsupportedVersion, UnsupportedVersionError, WeChatRejected,
    WeChatUnavailable, WxAuthError,
)

__version__ = "0.2.0"

__all__ = [
    "AsyncClient", "Client", "Pipeline", "Reply", "Hello", "Op", "Permission", "Session", "Status", "TokenResult",
    "auth_proof", "ConnectionLost", "DecodeError", "DecryptFailed", "SignatureMismatch", "FieldLimitError", "FrameTooLarge", "FrameTooLargeError",
    "FrameTooShortError", "InternalError", "InvalidToken", "MalformedError", "MalformedRequest", "NotAuthorized",
    "ProtocolError", "RateLimited", "RequestTimeout", "ServerError", "ServerFull", "ShuttingDown", "StoreUnavailable", "TokenError",
    "TokenExpired", "TokenRevoked", "UnknownApp", "UnknownOpcode", "UnknownOpcodeError", "UnknownStatus",
    "UnsupportedVersion", "UnsupportedVersionError", "WeChatRejected", "WeChatUnavailable", "WxAuthError",
]
