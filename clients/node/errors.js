// Errors raised by the wxauth Node client.
//
// - ServerError and subclasses: wxauthd answered with a non-OK status (one class per status of PROTOCOL.md), each
//   with `status`, `statusName`, `requestId` and `retryable` (PROTOCOL.md's "retry?" column).
// - DecodeError and subclasses: bytes that do not follow the wire format; `code` is the name the invalid test
//   vectors use (malformed, frame_too_short, frame_too_large, unknown_opcode, unsupported_version).
// - Local: ConnectionLostError, RequestTimeoutError, FieldLimitError, ProtocolError.

export class WxAuthError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }

  get retryable() {
    return false;
  }
}

export class ProtocolError extends WxAuthError {}

export class DecodeError extends ProtocolError {
  get code() {
    return 'malformed';
  }
}

export class FrameTooShortError extends DecodeError {
  get code() {
    return 'frame_too_short';
  }
}

export class FrameTooLargeError extends DecodeError {
  constructor(message, length = 0, limit = 0) {
    super(message);
    this.length = length;
    this.limit = limit;
  }

  get code() {
    return 'frame_too_large';
  }
}

export class MalformedError extends DecodeError {}

export class UnknownOpcodeError extends DecodeError {
  constructor(message, opcode = 0) {
    super(message);
    this.opcode = opcode;
  }

  get code() {
    return 'unknown_opcode';
  }
}

export class UnsupportedVersionError extends DecodeError {
  constructor(message, version = 0) {
    super(message);
    this.version = version;
  }

  get code() {
    return 'unsupported_version';
  }
}

/** A request field outside PROTOCOL.md's limits; nothing was sent. */
export class FieldLimitError extends WxAuthError {
  constructor(field, message) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** The connection failed or closed before the response. The server may have executed the request. */
export class ConnectionLostError extends WxAuthError {
  get retryable() {
    return true;
  }
}

/** No response in time. The server may still execute the request (a LOGIN code may be used up). */
export class RequestTimeoutError extends WxAuthError {
  get retryable() {
    return true;
  }
}

export class ServerError extends WxAuthError {
  constructor(message = '', { requestId = null } = {}) {
    super(message ? `${new.target.statusName}: ${message}` : new.target.statusName);
    this.serverMessage = message;
    this.requestId = requestId;
  }

  get status() {
    return this.constructor.status;
  }

  get statusName() {
    return this.constructor.statusName;
  }

  get retryable() {
    return this.constructor.retryable === true;
  }
}

export class MalformedRequestError extends ServerError {
  static status = 0x01;
  static statusName = 'MALFORMED_REQUEST';
}

export class UnsupportedVersionStatusError extends ServerError {
  static status = 0x02;
  static statusName = 'UNSUPPORTED_VERSION';
  constructor(supported, message, opts) {
    super(message, opts);
    this.supported = supported;
  }
}

export class UnknownOpcodeStatusError extends ServerError {
  static status = 0x03;
  static statusName = 'UNKNOWN_OPCODE';
}

export class FrameTooLargeStatusError extends ServerError {
  static status = 0x04;
  static statusName = 'FRAME_TOO_LARGE';
  constructor(maxFrame, message, opts) {
    super(message, opts);
    this.maxFrame = maxFrame;
  }
}

/** Base of the three token statuses: the user must log in again. */
export class TokenError extends ServerError {}

export class InvalidTokenError extends TokenError {
  static status = 0x10;
  static statusName = 'INVALID_TOKEN';
}

export class TokenExpiredError extends TokenError {
  static status = 0x11;
  static statusName = 'TOKEN_EXPIRED';
}

export class TokenRevokedError extends TokenError {
  static status = 0x12;
  static statusName = 'TOKEN_REVOKED';
}

export class UnknownAppError extends ServerError {
  static status = 0x13;
  static statusName = 'UNKNOWN_APP';
}

/**
 * DECRYPT refused the data. `reason`: bad_base64, bad_key_length, bad_iv_length, bad_padding_or_key (the
 * session_key changed or the data was altered: log in again and fetch the data again), appid_mismatch,
 * stale_watermark.
 */
export class DecryptFailedError extends ServerError {
  static status = 0x14;
  static statusName = 'DECRYPT_FAILED';
  constructor(reason, message, opts) {
    super(message, opts);
    this.message = `DECRYPT_FAILED (${reason}): ${message}`;
    this.reason = reason;
    this.detail = message;
  }
}

/** VERIFY_SIGNATURE: the signature is not sha1(rawData + session_key). */
export class SignatureMismatchError extends ServerError {
  static status = 0x15;
  static statusName = 'SIGNATURE_MISMATCH';
}

/** WeChat refused the code (40029 invalid, 40163 used, 40226 risky user): get a new code with wx.login. */
export class WeChatRejectedError extends ServerError {
  static status = 0x20;
  static statusName = 'WECHAT_REJECTED';
  constructor(errcode, errmsg, opts) {
    super(errmsg, opts);
    this.message = `WECHAT_REJECTED errcode=${errcode}: ${errmsg}`;
    this.errcode = errcode;
    this.errmsg = errmsg;
  }
}

export class WeChatUnavailableError extends ServerError {
  static status = 0x21;
  static statusName = 'WECHAT_UNAVAILABLE';
  static retryable = true;
  constructor(errcode, message, opts) {
    super(message, opts);
    this.errcode = errcode;
  }
}

export class RateLimitedError extends ServerError {
  static status = 0x30;
  static statusName = 'RATE_LIMITED';
  static retryable = true;
  constructor(retryAfterMs, errcode, message, opts) {
    super(message, opts);
    this.retryAfterMs = retryAfterMs;
    this.errcode = errcode;
  }
}

export class ServerFullError extends ServerError {
  static status = 0x31;
  static statusName = 'SERVER_FULL';
  static retryable = true;
}

export class NotAuthorizedError extends ServerError {
  static status = 0x32;
  static statusName = 'NOT_AUTHORIZED';
}

export class ShuttingDownError extends ServerError {
  static status = 0x33;
  static statusName = 'SHUTTING_DOWN';
  static retryable = true;
}

/** The server cannot keep changes (its disk refuses writes, or its Redis is unreachable): nothing was changed; retry with backoff. */
export class StoreUnavailableError extends ServerError {
  static status = 0x34;
  static statusName = 'STORE_UNAVAILABLE';
  static retryable = true;
}

export class InternalServerError extends ServerError {
  static status = 0x3f;
  static statusName = 'INTERNAL_ERROR';
  static retryable = true;
}

/** A status this client does not know: not retryable; the connection is kept. */
export class UnknownStatusError extends ServerError {
  static statusName = 'UNKNOWN_STATUS';
  constructor(status, message, body, opts) {
    super(message, opts);
    this.unknownStatus = status;
    this.body = body;
    this.message = `STATUS_0x${status.toString(16).toUpperCase().padStart(2, '0')}: ${message}`;
  }

  get status() {
    return this.unknownStatus;
  }

  get statusName() {
    return `STATUS_0x${this.unknownStatus.toString(16).toUpperCase().padStart(2, '0')}`;
  }
}

export const ERROR_CLASSES = new Map(
  [
    MalformedRequestError, UnsupportedVersionStatusError, UnknownOpcodeStatusError, FrameTooLargeStatusError,
    InvalidTokenError, TokenExpiredError, TokenRevokedError, UnknownAppError, DecryptFailedError,
    SignatureMismatchError, WeChatRejectedError,
    WeChatUnavailableError, RateLimitedError, ServerFullError, NotAuthorizedError, ShuttingDownError,
    StoreUnavailableError, InternalServerError,
  ].map((cls) => [cls.status, cls]),
);

/** The exception for an error status and its decoded body fields. */
export function errorForStatus(status, fields = {}, requestId = null) {
  const { message = '', errcode = 0, retryAfterMs = 0, supported = 0, maxFrame = 0, reason = '', body } = fields;
  const opts = { requestId };
  switch (status) {
    case DecryptFailedError.status: return new DecryptFailedError(reason, message, opts);
    case WeChatRejectedError.status: return new WeChatRejectedError(errcode, message, opts);
    case WeChatUnavailableError.status: return new WeChatUnavailableError(errcode, message, opts);
    case RateLimitedError.status: return new RateLimitedError(retryAfterMs, errcode, message, opts);
    case UnsupportedVersionStatusError.status: return new UnsupportedVersionStatusError(supported, message, opts);
    case FrameTooLargeStatusError.status: return new FrameTooLargeStatusError(maxFrame, message, opts);
    default: {
      const cls = ERROR_CLASSES.get(status);
      return cls ? new cls(message, opts) : new UnknownStatusError(status, message, body ?? Buffer.alloc(0), opts);
    }
  }
}
