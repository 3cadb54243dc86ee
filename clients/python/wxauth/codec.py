"""The wxauth wire format (PROTOCOL.md, version 1): frames, request and response bodies, statuses.

Pure functions and plain data; no sockets. Both directions are implemented (a server or a test can decode
requests and encode responses with the same code), which is what the shared test vectors exercise.

Frame: ``length u32 | version u8 | kind u8 | request_id u32 | body``; ``length`` counts header + body.
"""
import hashlib
import hmac
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, Dict, Iterator, Optional, Tuple, Union

from .errors import (
    FieldLimitError, FrameTooLargeError, FrameTooShortError, MalformedError, ServerError, UnknownOpcodeError,
    UnsupportedVersionError, error_for_status,
)

VERSION = 1
LENGTH_PREFIX_SIZE = 4
HEADER_SIZE = 6  # version + kind + request id
DEFAULT_MAX_FRAME = 65536
NONCE_SIZE = 32
PROOF_SIZE = 32
MAX_REQUEST_ID = 0xFFFFFFFF
AUTH_CONTEXT = b"wxauth-auth-v1"
HELLO_FLAG_AUTH_REQUIRED = 0x01

# Byte-length limits of request fields (PROTOCOL.md "Field limits").
LIMITS = {
    "app_id": (1, 64),
    "code": (1, 256),
    "token": (1, 128),
    "openid": (1, 128),
    "caller_id": (1, 64),
    "encrypted_data": (1, 60000),
    "iv": (1, 64),
    "raw_data": (0, 60000),
    "signature": (1, 128),
}


class Op(IntEnum):
    """Request opcodes. ``HELLO`` (0) is not sent by clients: it names the server's greeting frame."""

    HELLO = 0x00
    PING = 0x01
    AUTH = 0x02
    LOGIN = 0x10
    VALIDATE = 0x11
    REFRESH = 0x12
    REVOKE = 0x13
    REVOKE_USER = 0x14
    DECRYPT = 0x20
    VERIFY_SIGNATURE = 0x21
    PHONE_NUMBER = 0x22
    CHECK_SESSION_KEY = 0x23
    RESET_SESSION_KEY = 0x24


class Status(IntEnum):
    OK = 0x00
    MALFORMED_REQUEST = 0x01
    UNSUPPORTED_VERSION = 0x02
    UNKNOWN_OPCODE = 0x03
    FRAME_TOO_LARGE = 0x04
    INVALID_TOKEN = 0x10
    TOKEN_EXPIRED = 0x11
    TOKEN_REVOKED = 0x12
    UNKNOWN_APP = 0x13
    DECRYPT_FAILED = 0x14
    SIGNATURE_MISMATCH = 0x15
    WECHAT_REJECTED = 0x20
    WECHAT_UNAVAILABLE = 0x21
    RATE_LIMITED = 0x30
    SERVER_FULL = 0x31
    NOT_AUTHORIZED = 0x32
    SHUTTING_DOWN = 0x33
    STORE_UNAVAILABLE = 0x34
    INTERNAL_ERROR = 0x3F


RETRYABLE_STATUSES = frozenset({Status.WECHAT_UNAVAILABLE, Status.RATE_LIMITED, Status.SERVER_FULL,
                                Status.SHUTTING_DOWN, Status.STORE_UNAVAILABLE,
                                Status.INTERNAL_ERROR})


class Permission(IntEnum):
    PING = 1
    LOGIN = 2
    VALIDATE = 4
    REFRESH = 8
    REVOKE = 16
    REVOKE_USER = 32
    DECRYPT = 64
    VERIFY_SIGNATURE = 128
    PHONE_NUMBER = 256
    CHECK_SESSION_KEY = 512
    RESET_SESSION_KEY = 1024


ALL_PERMISSIONS = 2047

# DECRYPT_FAILED's reason byte (PROTOCOL.md). Unknown reasons are kept as numbers.
DECRYPT_REASONS = {1: "bad_base64", 2: "bad_key_length", 3: "bad_iv_length", 4: "bad_padding_or_key",
                   5: "appid_mismatch", 6: "stale_watermark"}
DECRYPT_REASON_CODES = {name: code for code, name in DECRYPT_REASONS.items()}


def reason_name(reason: int) -> str:
    return DECRYPT_REASONS.get(reason, f"reason_{reason}")


def status_name(status: int) -> str:
    try:
        return Status(status).name
    except ValueError:
        return f"STATUS_0x{status:02X}"


def op_name(op: int) -> str:
    try:
        return Op(op).name
    except ValueError:
        return f"OP_0x{op:02X}"


def auth_proof(secret: Union[bytes, str], nonce: bytes) -> bytes:
    """HMAC-SHA256(key = caller secret, message = b"wxauth-auth-v1" || nonce)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    return hmac.new(key, AUTH_CONTEXT + bytes(nonce), hashlib.sha256).digest()


# --- primitive writers and reader ---------------------------------------------------------------------------


def _check_len(name: str, n: int) -> None:
    lo, hi = LIMITS[name]
    if not lo <= n <= hi:
        raise FieldLimitError(name, f"{n} bytes, must be {lo}..{hi}")


def _str(value: str, name: Optional[str] = None) -> bytes:
    if not isinstance(value, str):
        raise FieldLimitError(name or "str", f"expected str, got {type(value).__name__}")
    raw = value.encode("utf-8")
    if name is not None:
        _check_len(name, len(raw))
    if len(raw) > 0xFFFF:
        raise FieldLimitError(name or "str", "longer than 65535 bytes")
    return struct.pack(">H", len(raw)) + raw


def _bytes(value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise FieldLimitError("bytes", "longer than 65535 bytes")
    return struct.pack(">H", len(value)) + bytes(value)


class BodyReader:
    """Reads the fields of one body; every failure is a ``MalformedError``."""

    __slots__ = ("_buf", "_pos")

    def __init__(self, body: bytes):
        self._buf = bytes(body)
        self._pos = 0

    def _take(self, n: int, what: str) -> bytes:
        end = self._pos + n
        if end > len(self._buf):
            raise MalformedError(f"{what}: needs {n} bytes, {len(self._buf) - self._pos} left")
        chunk = self._buf[self._pos:end]
        self._pos = end
        return chunk

    def _unpack(self, fmt: str, what: str) -> int:
        return struct.unpack(fmt, self._take(struct.calcsize(fmt), what))[0]

    def u8(self, what: str) -> int:
        return self._unpack(">B", what)

    def u16(self, what: str) -> int:
        return self._unpack(">H", what)

    def u32(self, what: str) -> int:
        return self._unpack(">I", what)

    def i32(self, what: str) -> int:
        return self._unpack(">i", what)

    def i64(self, what: str) -> int:
        return self._unpack(">q", what)

    def string(self, what: str, limit: Optional[Tuple[int, int]] = None) -> str:
        raw = self._take(self.u16(what), what)
        if limit is not None and not limit[0] <= len(raw) <= limit[1]:
            raise MalformedError(f"{what}: {len(raw)} bytes, must be {limit[0]}..{limit[1]}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedError(f"{what}: invalid UTF-8") from None

    def blob(self, what: str, exact: Optional[int] = None) -> bytes:
        raw = self._take(self.u16(what), what)
        if exact is not None and len(raw) != exact:
            raise MalformedError(f"{what}: {len(raw)} bytes, must be {exact}")
        return raw

    @property
    def remaining(self) -> int:
        return len(self._buf) - self._pos

    def end(self) -> None:
        if self._pos != len(self._buf):
            raise MalformedError(f"{len(self._buf) - self._pos} trailing bytes after the body")


# --- frames -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    version: int
    kind: int
    request_id: int
    body: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(self.kind, self.request_id, self.body, version=self.version)


def encode_frame(kind: int, request_id: int, body: bytes = b"", *, version: int = VERSION) -> bytes:
    if not 0 <= request_id <= MAX_REQUEST_ID:
        raise FieldLimitError("request_id", "must fit in u32")
    return struct.pack(">IBBI", HEADER_SIZE + len(body), version, kind, request_id) + body


def _check_length(length: int, max_frame: int) -> None:
    if length < HEADER_SIZE:
        raise FrameTooShortError(f"frame length {length} is shorter than the {HEADER_SIZE}-byte header")
    if length > max_frame:
        raise FrameTooLargeError(f"frame of {length} bytes exceeds the limit of {max_frame}", length, max_frame)


class FrameDecoder:
    """Incremental framer: ``feed`` bytes, then iterate complete frames.

    The length prefix is checked as soon as its 4 bytes are buffered, so a hostile length raises
    ``FrameTooShortError`` / ``FrameTooLargeError`` without waiting for (or buffering) the body. After such an
    error the stream cannot be trusted; discard the decoder.
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME):
        if max_frame < HEADER_SIZE:
            raise ValueError("max_frame below the header size")
        self.max_frame = max_frame
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def next_frame(self) -> Optional[Frame]:
        if len(self._buf) < LENGTH_PREFIX_SIZE:
            return None
        (length,) = struct.unpack_from(">I", self._buf, 0)
        _check_length(length, self.max_frame)
        total = LENGTH_PREFIX_SIZE + length
        if len(self._buf) < total:
            return None
        version, kind, request_id = struct.unpack_from(">BBI", self._buf, LENGTH_PREFIX_SIZE)
        body = bytes(self._buf[LENGTH_PREFIX_SIZE + HEADER_SIZE:total])
        del self._buf[:total]
        return Frame(version, kind, request_id, body)

    def __iter__(self) -> Iterator[Frame]:
        while True:
            frame = self.next_frame()
            if frame is None:
                return
            yield frame


def decode_frame(data: bytes, max_frame: int = DEFAULT_MAX_FRAME) -> Frame:
    """Decodes exactly one complete frame (no bytes missing, none left over)."""
    data = bytes(data)
    if len(data) < LENGTH_PREFIX_SIZE:
        raise MalformedError("fewer than 4 bytes: no length prefix")
    (length,) = struct.unpack_from(">I", data, 0)
    _check_length(length, max_frame)
    if len(data) != LENGTH_PREFIX_SIZE + length:
        raise MalformedError(f"length prefix says {length} bytes, {len(data) - LENGTH_PREFIX_SIZE} present")
    version, kind, request_id = struct.unpack_from(">BBI", data, LENGTH_PREFIX_SIZE)
    return Frame(version, kind, request_id, data[LENGTH_PREFIX_SIZE + HEADER_SIZE:])


def _as_frame(data: Union[bytes, bytearray, Frame], max_frame: int) -> Frame:
    return data if isinstance(data, Frame) else decode_frame(data, max_frame)


# --- requests -----------------------------------------------------------------------------------------------


class Request:
    """Base of the request bodies. ``op`` is the opcode; ``encode_body`` / ``decode_body`` the body."""

    op: ClassVar[Op]

    def encode_body(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Request":
        raise NotImplementedError

    def fields(self) -> Dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Ping(Request):
    op: ClassVar[Op] = Op.PING

    def encode_body(self) -> bytes:
        return b""

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Ping":
        return cls()


@dataclass(frozen=True)
class Auth(Request):
    caller_id: str
    proof: bytes = field(repr=False)
    op: ClassVar[Op] = Op.AUTH

    def encode_body(self) -> bytes:
        if len(self.proof) != PROOF_SIZE:
            raise FieldLimitError("proof", f"{len(self.proof)} bytes, must be {PROOF_SIZE}")
        return _str(self.caller_id, "caller_id") + _bytes(self.proof)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Auth":
        return cls(r.string("caller_id", LIMITS["caller_id"]), r.blob("proof", PROOF_SIZE))

    def fields(self) -> Dict[str, Any]:
        return {"caller_id": self.caller_id, "proof_hex": self.proof.hex()}


@dataclass(frozen=True)
class Login(Request):
    app_id: str
    code: str = field(repr=False)
    op: ClassVar[Op] = Op.LOGIN

    def encode_body(self) -> bytes:
        return _str(self.app_id, "app_id") + _str(self.code, "code")

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Login":
        return cls(r.string("app_id", LIMITS["app_id"]), r.string("code", LIMITS["code"]))

    def fields(self) -> Dict[str, Any]:
        return {"app_id": self.app_id, "code": self.code}


@dataclass(frozen=True)
class _TokenRequest(Request):
    token: str = field(repr=False)

    def encode_body(self) -> bytes:
        return _str(self.token, "token")

    @classmethod
    def decode_body(cls, r: BodyReader) -> "_TokenRequest":
        return cls(r.string("token", LIMITS["token"]))

    def fields(self) -> Dict[str, Any]:
        return {"token": self.token}


@dataclass(frozen=True)
class Validate(_TokenRequest):
    op: ClassVar[Op] = Op.VALIDATE


@dataclass(frozen=True)
class Refresh(_TokenRequest):
    op: ClassVar[Op] = Op.REFRESH


@dataclass(frozen=True)
class Revoke(_TokenRequest):
    op: ClassVar[Op] = Op.REVOKE


@dataclass(frozen=True)
class RevokeUser(Request):
    app_id: str
    openid: str
    op: ClassVar[Op] = Op.REVOKE_USER

    def encode_body(self) -> bytes:
        return _str(self.app_id, "app_id") + _str(self.openid, "openid")

    @classmethod
    def decode_body(cls, r: BodyReader) -> "RevokeUser":
        return cls(r.string("app_id", LIMITS["app_id"]), r.string("openid", LIMITS["openid"]))

    def fields(self) -> Dict[str, Any]:
        return {"app_id": self.app_id, "openid": self.openid}


@dataclass(frozen=True)
class Decrypt(Request):
    """Decrypt user data inside wxauthd (the session_key never leaves it)."""

    token: str = field(repr=False)
    encrypted_data: str = field(repr=False)
    iv: str = field(repr=False)
    op: ClassVar[Op] = Op.DECRYPT

    def encode_body(self) -> bytes:
        return _str(self.token, "token") + _str(self.encrypted_data, "encrypted_data") + _str(self.iv, "iv")

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Decrypt":
        return cls(r.string("token", LIMITS["token"]), r.string("encrypted_data", LIMITS["encrypted_data"]),
                   r.string("iv", LIMITS["iv"]))

    def fields(self) -> Dict[str, Any]:
        return {"token": self.token, "encrypted_data": self.encrypted_data, "iv": self.iv}


@dataclass(frozen=True)
class VerifySignature(Request):
    token: str = field(repr=False)
    raw_data: str
    signature: str
    op: ClassVar[Op] = Op.VERIFY_SIGNATURE

    def encode_body(self) -> bytes:
        return _str(self.token, "token") + _str(self.raw_data, "raw_data") + _str(self.signature, "signature")

    @classmethod
    def decode_body(cls, r: BodyReader) -> "VerifySignature":
        return cls(r.string("token", LIMITS["token"]), r.string("raw_data", LIMITS["raw_data"]),
                   r.string("signature", LIMITS["signature"]))

    def fields(self) -> Dict[str, Any]:
        return {"token": self.token, "raw_data": self.raw_data, "signature": self.signature}


@dataclass(frozen=True)
class PhoneNumber(Request):
    token: str = field(repr=False)
    code: str = field(repr=False)
    op: ClassVar[Op] = Op.PHONE_NUMBER

    def encode_body(self) -> bytes:
        return _str(self.token, "token") + _str(self.code, "code")

    @classmethod
    def decode_body(cls, r: BodyReader) -> "PhoneNumber":
        return cls(r.string("token", LIMITS["token"]), r.string("code", LIMITS["code"]))

    def fields(self) -> Dict[str, Any]:
        return {"token": self.token, "code": self.code}


@dataclass(frozen=True)
class CheckSessionKey(_TokenRequest):
    op: ClassVar[Op] = Op.CHECK_SESSION_KEY


@dataclass(frozen=True)
class ResetSessionKey(_TokenRequest):
    op: ClassVar[Op] = Op.RESET_SESSION_KEY


REQUEST_TYPES = {cls.op: cls for cls in (Ping, Auth, Login, Validate, Refresh, Revoke, RevokeUser, Decrypt,
                                         VerifySignature, PhoneNumber, CheckSessionKey, ResetSessionKey)}


def encode_request(request_id: int, request: Request) -> bytes:
    """The complete frame (length prefix included) of one request."""
    return encode_frame(request.op, request_id, request.encode_body())


@dataclass(frozen=True)
class RequestFrame:
    request_id: int
    request: Request

    def as_dict(self) -> Dict[str, Any]:
        """The shape of a request vector's ``decoded`` field."""
        return {"request_id": self.request_id, "op": self.request.op.name, **self.request.fields()}


def decode_request(data: Union[bytes, Frame], max_frame: int = DEFAULT_MAX_FRAME) -> RequestFrame:
    """Decodes a request frame the way a server must (version, opcode, exact body, field limits)."""
    frame = _as_frame(data, max_frame)
    if frame.version != VERSION:
        raise UnsupportedVersionError(f"protocol version {frame.version} is not supported", frame.version)
    cls = REQUEST_TYPES.get(frame.kind)  # type: ignore[call-overload]
    if cls is None:
        raise UnknownOpcodeError(f"unknown opcode 0x{frame.kind:02x}", frame.kind)
    r = BodyReader(frame.body)
    request = cls.decode_body(r)
    r.end()
    return RequestFrame(frame.request_id, request)


# --- response bodies ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """The public view of a session (never contains the session_key). Times are Unix milliseconds."""

    app_id: str
    openid: str
    unionid: str
    created_at: int
    expires_at: int
    absolute_expires_at: int

    def encode(self) -> bytes:
        return (_str(self.app_id) + _str(self.openid) + _str(self.unionid) +
                struct.pack(">qqq", self.created_at, self.expires_at, self.absolute_expires_at))

    @classmethod
    def decode(cls, r: BodyReader) -> "Session":
        return cls(r.string("session.app_id"), r.string("session.openid"), r.string("session.unionid"),
                   r.i64("session.created_at"), r.i64("session.expires_at"), r.i64("session.absolute_expires_at"))

    def as_dict(self) -> Dict[str, Any]:
        return {"app_id": self.app_id, "openid": self.openid, "unionid": self.unionid,
                "created_at": self.created_at, "expires_at": self.expires_at,
                "absolute_expires_at": self.absolute_expires_at}


@dataclass(frozen=True)
class Hello:
    flags: int
    nonce: bytes
    max_frame: int

    @property
    def auth_required(self) -> bool:
        return bool(self.flags & HELLO_FLAG_AUTH_REQUIRED)

    def encode(self) -> bytes:
        return struct.pack(">B", self.flags) + _bytes(self.nonce) + struct.pack(">I", self.max_frame)

    @classmethod
    def decode(cls, r: BodyReader) -> "Hello":
        return cls(r.u8("flags"), r.blob("nonce", NONCE_SIZE), r.u32("max_frame"))

    def as_dict(self) -> Dict[str, Any]:
        return {"flags": self.flags, "nonce_hex": self.nonce.hex(), "max_frame": self.max_frame}


@dataclass(frozen=True)
class Pong:
    server_time: int

    def encode(self) -> bytes:
        return struct.pack(">q", self.server_time)

    @classmethod
    def decode(cls, r: BodyReader) -> "Pong":
        return cls(r.i64("server_time"))

    def as_dict(self) -> Dict[str, Any]:
        return {"server_time": self.server_time}


@dataclass(frozen=True)
class AuthResult:
    permissions: int

    def encode(self) -> bytes:
        return struct.pack(">I", self.permissions)

    @classmethod
    def decode(cls, r: BodyReader) -> "AuthResult":
        return cls(r.u32("permissions"))

    def as_dict(self) -> Dict[str, Any]:
        return {"permissions": self.permissions}


@dataclass(frozen=True)
class TokenResult:
    """LOGIN and REFRESH: the (new) token and its session."""

    token: str = field(repr=False)
    session: Session

    def encode(self) -> bytes:
        return _str(self.token) + self.session.encode()

    @classmethod
    def decode(cls, r: BodyReader) -> "TokenResult":
        return cls(r.string("token"), Session.decode(r))

    def as_dict(self) -> Dict[str, Any]:
        return {"token": self.token, "session": self.session.as_dict()}


@dataclass(frozen=True)
class SessionResult:
    """VALIDATE."""

    session: Session

    def encode(self) -> bytes:
        return self.session.encode()

    @classmethod
    def decode(cls, r: BodyReader) -> "SessionResult":
        return cls(Session.decode(r))

    def as_dict(self) -> Dict[str, Any]:
        return {"session": self.session.as_dict()}


@dataclass(frozen=True)
class Empty:
    """REVOKE."""

    def encode(self) -> bytes:
        return b""

    @classmethod
    def decode(cls, r: BodyReader) -> "Empty":
        return cls()

    def as_dict(self) -> Dict[str, Any]:
        return {}


@dataclass(frozen=True)
class RevokedCount:
    """REVOKE_USER."""

    revoked: int

    def encode(self) -> bytes:
        return struct.pack(">I", self.revoked)

    @classmethod
    def decode(cls, r: BodyReader) -> "RevokedCount":
        return cls(r.u32("revoked"))

    def as_dict(self) -> Dict[str, Any]:
        return {"revoked": self.revoked}


@dataclass(frozen=True)
class DecryptResult:
    """DECRYPT: the plaintext JSON (watermark included), as text."""

    data: str = field(repr=False)

    def encode(self) -> bytes:
        return _str(self.data)

    @classmethod
    def decode(cls, r: BodyReader) -> "DecryptResult":
        return cls(r.string("data"))

    def as_dict(self) -> Dict[str, Any]:
        return {"data": self.data}


@dataclass(frozen=True)
class PhoneNumberResult:
    """PHONE_NUMBER (the server checked the watermark)."""

    phone_number: str
    pure_phone_number: str
    country_code: str

    def encode(self) -> bytes:
        return _str(self.phone_number) + _str(self.pure_phone_number) + _str(self.country_code)

    @classmethod
    def decode(cls, r: BodyReader) -> "PhoneNumberResult":
        return cls(r.string("phone_number"), r.string("pure_phone_number"), r.string("country_code"))

    def as_dict(self) -> Dict[str, Any]:
        return {"phone_number": self.phone_number, "pure_phone_number": self.pure_phone_number,
                "country_code": self.country_code}


@dataclass(frozen=True)
class SessionKeyCheck:
    """CHECK_SESSION_KEY: whether WeChat still considers the stored session_key current."""

    current: bool

    def encode(self) -> bytes:
        return struct.pack(">B", 1 if self.current else 0)

    @classmethod
    def decode(cls, r: BodyReader) -> "SessionKeyCheck":
        value = r.u8("current")
        if value > 1:
            raise MalformedError(f"current: {value} is not 0 or 1")
        return cls(value == 1)

    def as_dict(self) -> Dict[str, Any]:
        return {"current": self.current}


OK_BODY_TYPES = {Op.HELLO: Hello, Op.PING: Pong, Op.AUTH: AuthResult, Op.LOGIN: TokenResult,
                 Op.VALIDATE: SessionResult, Op.REFRESH: TokenResult, Op.REVOKE: Empty, Op.REVOKE_USER: RevokedCount,
                 Op.DECRYPT: DecryptResult, Op.VERIFY_SIGNATURE: Empty, Op.PHONE_NUMBER: PhoneNumberResult,
                 Op.CHECK_SESSION_KEY: SessionKeyCheck, Op.RESET_SESSION_KEY: Empty}

OkBody = Union[Hello, Pong, AuthResult, TokenResult, SessionResult, Empty, RevokedCount, DecryptResult,
               PhoneNumberResult, SessionKeyCheck]


@dataclass(frozen=True)
class ErrorBody:
    """The body of a non-OK status. Fields that the status does not carry are 0."""

    status: int
    message: str
    errcode: int = 0
    retry_after_ms: int = 0
    supported: int = 0
    max_frame: int = 0
    reason: Union[int, str] = 0
    raw: bytes = field(default=b"", repr=False)

    @property
    def reason_code(self) -> int:
        return DECRYPT_REASON_CODES[self.reason] if isinstance(self.reason, str) else self.reason

    def encode(self) -> bytes:
        """Every error body: ``message str`` first, then the status's own fields (PROTOCOL.md)."""
        s = self.status
        if s == Status.UNSUPPORTED_VERSION:
            fields = struct.pack(">B", self.supported)
        elif s == Status.FRAME_TOO_LARGE:
            fields = struct.pack(">I", self.max_frame)
        elif s in (Status.WECHAT_REJECTED, Status.WECHAT_UNAVAILABLE):
            fields = struct.pack(">i", self.errcode)
        elif s == Status.RATE_LIMITED:
            fields = struct.pack(">Ii", self.retry_after_ms, self.errcode)
        elif s == Status.DECRYPT_FAILED:
            fields = struct.pack(">B", self.reason_code)
        elif s in ERROR_STATUSES:
            fields = b""
        else:
            return self.raw
        return _str(self.message) + fields

    @classmethod
    def decode(cls, status: int, body: bytes) -> "ErrorBody":
        """A known status's body is consumed exactly; a status this client does not know is read up to its
        message and the rest of its body is skipped (later versions may add fields after the message)."""
        r = BodyReader(body)
        message = r.string("message")
        if status not in ERROR_STATUSES:
            return cls(status, message, raw=body)
        extra: Dict[str, Any] = {}
        if status == Status.UNSUPPORTED_VERSION:
            extra["supported"] = r.u8("supported")
        elif status == Status.FRAME_TOO_LARGE:
            extra["max_frame"] = r.u32("max_frame")
        elif status in (Status.WECHAT_REJECTED, Status.WECHAT_UNAVAILABLE):
            extra["errcode"] = r.i32("errcode")
        elif status == Status.RATE_LIMITED:
            extra["retry_after_ms"] = r.u32("retry_after_ms")
            extra["errcode"] = r.i32("errcode")
        elif status == Status.DECRYPT_FAILED:
            extra["reason"] = reason_name(r.u8("reason"))
        r.end()
        return cls(status, message, raw=body, **extra)

    def as_dict(self) -> Dict[str, Any]:
        s = self.status
        d: Dict[str, Any] = {}
        if s == Status.UNSUPPORTED_VERSION:
            d["supported"] = self.supported
        elif s == Status.FRAME_TOO_LARGE:
            d["max_frame"] = self.max_frame
        elif s == Status.RATE_LIMITED:
            d["retry_after_ms"] = self.retry_after_ms
            d["errcode"] = self.errcode
        elif s in (Status.WECHAT_REJECTED, Status.WECHAT_UNAVAILABLE):
            d["errcode"] = self.errcode
        elif s == Status.DECRYPT_FAILED:
            d["reason"] = reason_name(self.reason_code)
        elif s not in ERROR_STATUSES:
            d["body_hex"] = self.raw.hex()
        d["message"] = self.message
        return d

    def to_exception(self, request_id: Optional[int] = None) -> ServerError:
        return error_for_status(self.status, message=self.message, request_id=request_id, errcode=self.errcode,
                                retry_after_ms=self.retry_after_ms, supported=self.supported,
                                max_frame=self.max_frame, reason=reason_name(self.reason_code), body=self.raw)


ERROR_STATUSES = frozenset(s for s in Status if s != Status.OK)


@dataclass(frozen=True)
class Response:
    """A decoded response frame. Exactly one of ``result`` (status OK) and ``error`` is set."""

    request_id: int
    op: int
    status: int
    result: Optional[OkBody] = None
    error: Optional[ErrorBody] = None

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def unwrap(self) -> OkBody:
        """The OK body, or raises the ``ServerError`` subclass of the status."""
        if self.error is not None:
            raise self.error.to_exception(self.request_id)
        assert self.result is not None
        return self.result

    def as_dict(self) -> Dict[str, Any]:
        """The shape of a response vector's ``decoded`` field."""
        body = self.result.as_dict() if self.result is not None else self.error.as_dict()  # type: ignore[union-attr]
        return {"request_id": self.request_id, "op": op_name(self.op), "status": status_name(self.status), **body}


def decode_response(data: Union[bytes, Frame], op: int, max_frame: int = DEFAULT_MAX_FRAME) -> Response:
    """Decodes a response frame to a request of opcode ``op`` (``Op.HELLO`` for the greeting).

    The op is needed because an OK body's layout depends on the request it answers.
    """
    frame = _as_frame(data, max_frame)
    if frame.version != VERSION:
        raise UnsupportedVersionError(f"response with protocol version {frame.version}", frame.version)
    if frame.kind == Status.OK:
        body_type = OK_BODY_TYPES.get(op)  # type: ignore[call-overload]
        if body_type is None:
            raise MalformedError(f"no OK body is defined for opcode 0x{op:02x}")
        r = BodyReader(frame.body)
        result = body_type.decode(r)
        r.end()
        return Response(frame.request_id, op, Status.OK, result=result)
    return Response(frame.request_id, op, frame.kind, error=ErrorBody.decode(frame.kind, frame.body))


def encode_response(request_id: int, body: Union[OkBody, ErrorBody]) -> bytes:
    """The complete response frame (used by tests and fake servers)."""
    status = body.status if isinstance(body, ErrorBody) else Status.OK
    return encode_frame(status, request_id, body.encode())
