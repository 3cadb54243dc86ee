// The wxauth wire format (PROTOCOL.md, version 1). Pure functions over Buffers; no sockets.
//
// Frame: length u32 | version u8 | kind u8 | request_id u32 | body   (length counts header + body)
// Requests are plain objects: { op: 'LOGIN', appId, code }, { op: 'VALIDATE', token }, ...
// Decoded responses: { requestId, op, status, ok, result } or { requestId, op, status, ok: false, error }.

import { createHmac } from 'node:crypto';
import {
  FieldLimitError, FrameTooLargeError, FrameTooShortError, MalformedError, UnknownOpcodeError,
  UnsupportedVersionError, errorForStatus,
} from './errors.js';

export const VERSION = 1;
export const LENGTH_PREFIX_SIZE = 4;
export const HEADER_SIZE = 6;
export const DEFAULT_MAX_FRAME = 65536;
export const NONCE_SIZE = 32;
export const PROOF_SIZE = 32;
export const MAX_REQUEST_ID = 0xffffffff;
export const HELLO_FLAG_AUTH_REQUIRED = 0x01;
const AUTH_CONTEXT = Buffer.from('wxauth-auth-v1', 'utf8');

export const Op = Object.freeze({
  HELLO: 0x00, // the server's greeting; never sent by a client
  PING: 0x01,
  AUTH: 0x02,
  LOGIN: 0x10,
  VALIDATE: 0x11,
  REFRESH: 0x12,
  REVOKE: 0x13,
  REVOKE_USER: 0x14,
  DECRYPT: 0x20,
  VERIFY_SIGNATURE: 0x21,
  PHONE_NUMBER: 0x22,
  CHECK_SESSION_KEY: 0x23,
  RESET_SESSION_KEY: 0x24,
});

export const Status = Object.freeze({
  OK: 0x00,
  MALFORMED_REQUEST: 0x01,
  UNSUPPORTED_VERSION: 0x02,
  UNKNOWN_OPCODE: 0x03,
  FRAME_TOO_LARGE: 0x04,
  INVALID_TOKEN: 0x10,
  TOKEN_EXPIRED: 0x11,
  TOKEN_REVOKED: 0x12,
  UNKNOWN_APP: 0x13,
  DECRYPT_FAILED: 0x14,
  SIGNATURE_MISMATCH: 0x15,
  WECHAT_REJECTED: 0x20,
  WECHAT_UNAVAILABLE: 0x21,
  RATE_LIMITED: 0x30,
  SERVER_FULL: 0x31,
  NOT_AUTHORIZED: 0x32,
  SHUTTING_DOWN: 0x33,
  STORE_UNAVAILABLE: 0x34,
  INTERNAL_ERROR: 0x3f,
});

export const Permission = Object.freeze({
  PING: 1, LOGIN: 2, VALIDATE: 4, REFRESH: 8, REVOKE: 16, REVOKE_USER: 32,
  DECRYPT: 64, VERIFY_SIGNATURE: 128, PHONE_NUMBER: 256, CHECK_SESSION_KEY: 512, RESET_SESSION_KEY: 1024,
});
export const ALL_PERMISSIONS = 2047;

/** DECRYPT_FAILED's reason byte (PROTOCOL.md); unknown reasons decode as `reason_<n>`. */
export const DecryptReason = Object.freeze({
  bad_base64: 1, bad_key_length: 2, bad_iv_length: 3, bad_padding_or_key: 4, appid_mismatch: 5, stale_watermark: 6,
});
const REASON_NAMES = new Map(Object.entries(DecryptReason).map(([k, v]) => [v, k]));
export function reasonName(reason) {
  return REASON_NAMES.get(reason) ?? `reason_${reason}`;
}

/** Byte-length limits of request fields (UTF-8 bytes, not characters). */
export const LIMITS = Object.freeze({
  appId: [1, 64], code: [1, 256], token: [1, 128], openid: [1, 128], callerId: [1, 64],
  encryptedData: [1, 60000], iv: [1, 64], rawData: [0, 60000], signature: [1, 128],
});

const OP_NAMES = new Map(Object.entries(Op).map(([k, v]) => [v, k]));
const STATUS_NAMES = new Map(Object.entries(Status).map(([k, v]) => [v, k]));

export function opName(op) {
  return OP_NAMES.get(op) ?? `OP_0x${op.toString(16).toUpperCase().padStart(2, '0')}`;
}

export function statusName(status) {
  return STATUS_NAMES.get(status) ?? `STATUS_0x${status.toString(16).toUpperCase().padStart(2, '0')}`;
}

export function opCode(op) {
  if (typeof op === 'number') return op;
  const code = Op[op];
  if (code === undefined) throw new TypeError(`unknown op ${op}`);
  return code;
}

/** HMAC-SHA256(key = caller secret, message = "wxauth-auth-v1" || nonce). */
export function authProof(secret, nonce) {
  return createHmac('sha256', secret).update(AUTH_CONTEXT).update(nonce).digest();
}

// --- writing -----------------------------------------------------------------------------------------------

function u8(n) {
  const b = Buffer.alloc(1);
  b.writeUInt8(n);
  return b;
}

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function i32(n) {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function i64(n) {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

function lengthPrefixed(raw, field) {
  if (raw.length > 0xffff) throw new FieldLimitError(field ?? 'str', 'longer than 65535 bytes');
  const b = Buffer.alloc(2 + raw.length);
  b.writeUInt16BE(raw.length);
  raw.copy(b, 2);
  return b;
}

function str(value, field) {
  if (typeof value !== 'string') throw new FieldLimitError(field ?? 'str', `expected a string, got ${typeof value}`);
  const raw = Buffer.from(value, 'utf8');
  if (field && LIMITS[field]) {
    const [lo, hi] = LIMITS[field];
    if (raw.length < lo || raw.length > hi) throw new FieldLimitError(field, `${raw.length} bytes, must be ${lo}..${hi}`);
  }
  return lengthPrefixed(raw, field);
}

function bytes(value, field, exact) {
  const raw = Buffer.from(value);
  if (exact !== undefined && raw.length !== exact) {
    throw new FieldLimitError(field, `${raw.length} bytes, must be ${exact}`);
  }
  return lengthPrefixed(raw, field);
}

export function encodeFrame(kind, requestId, body = Buffer.alloc(0), version = VERSION) {
  if (!Number.isInteger(requestId) || requestId < 0 || requestId > MAX_REQUEST_ID) {
    throw new FieldLimitError('requestId', 'must fit in u32');
  }
  const head = Buffer.alloc(LENGTH_PREFIX_SIZE + HEADER_SIZE);
  head.writeUInt32BE(HEADER_SIZE + body.length, 0);
  head.writeUInt8(version, 4);
  head.writeUInt8(kind, 5);
  head.writeUInt32BE(requestId, 6);
  return Buffer.concat([head, body]);
}

/** The body of a request object ({ op, ...fields }). Throws FieldLimitError on a field outside its limits. */
export function encodeRequestBody(request) {
  switch (opCode(request.op)) {
    case Op.PING: return Buffer.alloc(0);
    case Op.AUTH: return Buffer.concat([str(request.callerId, 'callerId'), bytes(request.proof, 'proof', PROOF_SIZE)]);
    case Op.LOGIN: return Buffer.concat([str(request.appId, 'appId'), str(request.code, 'code')]);
    case Op.VALIDATE:
    case Op.REFRESH:
    case Op.REVOKE: return str(request.token, 'token');
    case Op.REVOKE_USER: return Buffer.concat([str(request.appId, 'appId'), str(request.openid, 'openid')]);
    case Op.DECRYPT:
      return Buffer.concat([str(request.token, 'token'), str(request.encryptedData, 'encryptedData'), str(request.iv, 'iv')]);
    case Op.VERIFY_SIGNATURE:
      return Buffer.concat([str(request.token, 'token'), str(request.rawData, 'rawData'), str(request.signature, 'signature')]);
    case Op.PHONE_NUMBER: return Buffer.concat([str(request.token, 'token'), str(request.code, 'code')]);
    case Op.CHECK_SESSION_KEY:
    case Op.RESET_SESSION_KEY: return str(request.token, 'token');
    default: throw new TypeError(`no request body for op ${request.op}`);
  }
}

export function encodeRequest(requestId, request) {
  return encodeFrame(opCode(request.op), requestId, encodeRequestBody(request));
}

function sessionBytes(s) {
  return Buffer.concat([str(s.appId), str(s.openid), str(s.unionid ?? ''), i64(s.createdAt), i64(s.expiresAt),
    i64(s.absoluteExpiresAt)]);
}

/** The body of an OK response for `op` (used by tests and fake servers). */
export function encodeOkBody(op, result) {
  switch (opCode(op)) {
    case Op.HELLO: return Buffer.concat([u8(result.flags), bytes(result.nonce, 'nonce'), u32(result.maxFrame)]);
    case Op.PING: return i64(result.serverTime);
    case Op.AUTH: return u32(result.permissions);
    case Op.LOGIN:
    case Op.REFRESH: return Buffer.concat([str(result.token), sessionBytes(result.session)]);
    case Op.VALIDATE: return sessionBytes(result.session);
    case Op.REVOKE: return Buffer.alloc(0);
    case Op.REVOKE_USER: return u32(result.revoked);
    case Op.DECRYPT: return str(result.data);
    case Op.VERIFY_SIGNATURE:
    case Op.RESET_SESSION_KEY: return Buffer.alloc(0);
    case Op.PHONE_NUMBER: return Buffer.concat([str(result.phoneNumber), str(result.purePhoneNumber), str(result.countryCode)]);
    case Op.CHECK_SESSION_KEY: return u8(result.current ? 1 : 0);
    default: throw new TypeError(`no OK body for op ${op}`);
  }
}

/**
 * The body of an error response: { message, errcode?, retryAfterMs?, supported?, maxFrame? }. Every error body is
 * `message str` first, then the status's own fields (PROTOCOL.md).
 */
export function encodeErrorBody(status, e) {
  const message = str(e.message ?? '');
  switch (status) {
    case Status.UNSUPPORTED_VERSION: return Buffer.concat([message, u8(e.supported ?? VERSION)]);
    case Status.FRAME_TOO_LARGE: return Buffer.concat([message, u32(e.maxFrame ?? 0)]);
    case Status.WECHAT_REJECTED:
    case Status.WECHAT_UNAVAILABLE: return Buffer.concat([message, i32(e.errcode ?? 0)]);
    case Status.RATE_LIMITED: return Buffer.concat([message, u32(e.retryAfterMs ?? 0), i32(e.errcode ?? 0)]);
    case Status.DECRYPT_FAILED: {
      const reason = typeof e.reason === 'string' ? DecryptReason[e.reason] ?? Number(e.reason.replace('reason_', '')) : e.reason ?? 0;
      return Buffer.concat([message, u8(reason)]);
    }
    default:
      if (STATUS_NAMES.has(status)) return message;
      return Buffer.from(e.body ?? message);
  }
}

// --- reading -----------------------------------------------------------------------------------------------

/** Reads the fields of one body; every failure is a MalformedError. */
export class BodyReader {
  constructor(buf) {
    this.buf = buf;
    this.pos = 0;
  }

  take(n, what) {
    if (this.pos + n > this.buf.length) {
      throw new MalformedError(`${what}: needs ${n} bytes, ${this.buf.length - this.pos} left`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(what) { return this.take(1, what).readUInt8(0); }
  u16(what) { return this.take(2, what).readUInt16BE(0); }
  u32(what) { return this.take(4, what).readUInt32BE(0); }
  i32(what) { return this.take(4, what).readInt32BE(0); }
  i64(what) { return Number(this.take(8, what).readBigInt64BE(0)); }

  string(what, limit) {
    const raw = this.take(this.u16(what), what);
    if (limit && (raw.length < limit[0] || raw.length > limit[1])) {
      throw new MalformedError(`${what}: ${raw.length} bytes, must be ${limit[0]}..${limit[1]}`);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new MalformedError(`${what}: invalid UTF-8`);
    }
  }

  blob(what, exact) {
    const raw = this.take(this.u16(what), what);
    if (exact !== undefined && raw.length !== exact) {
      throw new MalformedError(`${what}: ${raw.length} bytes, must be ${exact}`);
    }
    return Buffer.from(raw);
  }

  get remaining() {
    return this.buf.length - this.pos;
  }

  end() {
    if (this.pos !== this.buf.length) throw new MalformedError(`${this.buf.length - this.pos} trailing bytes after the body`);
  }
}

function checkLength(length, maxFrame) {
  if (length < HEADER_SIZE) {
    throw new FrameTooShortError(`frame length ${length} is shorter than the ${HEADER_SIZE}-byte header`);
  }
  if (length > maxFrame) {
    throw new FrameTooLargeError(`frame of ${length} bytes exceeds the limit of ${maxFrame}`, length, maxFrame);
  }
}

function frameAt(buf, offset, length) {
  return {
    version: buf.readUInt8(offset + 4),
    kind: buf.readUInt8(offset + 5),
    requestId: buf.readUInt32BE(offset + 6),
    body: Buffer.from(buf.subarray(offset + LENGTH_PREFIX_SIZE + HEADER_SIZE, offset + LENGTH_PREFIX_SIZE + length)),
  };
}

/**
 * Incremental framer. `push(chunk)` returns the complete frames. A bad length prefix throws as soon as its 4 bytes
 * are in (FrameTooShortError / FrameTooLargeError) without waiting for the body; discard the decoder after that.
 */
export class FrameDecoder {
  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame;
    this.buf = Buffer.alloc(0);
  }

  get buffered() {
    return this.buf.length;
  }

  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const frames = [];
    let offset = 0;
    while (this.buf.length - offset >= LENGTH_PREFIX_SIZE) {
      const length = this.buf.readUInt32BE(offset);
      try {
        checkLength(length, this.maxFrame);
      } catch (err) {
        this.buf = this.buf.subarray(offset);
        err.frames = frames; // frames completed before the bad prefix
        throw err;
      }
      if (this.buf.length - offset < LENGTH_PREFIX_SIZE + length) break;
      frames.push(frameAt(this.buf, offset, length));
      offset += LENGTH_PREFIX_SIZE + length;
    }
    this.buf = offset ? Buffer.from(this.buf.subarray(offset)) : this.buf;
    return frames;
  }
}

/** Decodes exactly one complete frame. */
export function decodeFrame(data, maxFrame = DEFAULT_MAX_FRAME) {
  const buf = Buffer.from(data);
  if (buf.length < LENGTH_PREFIX_SIZE) throw new MalformedError('fewer than 4 bytes: no length prefix');
  const length = buf.readUInt32BE(0);
  checkLength(length, maxFrame);
  if (buf.length !== LENGTH_PREFIX_SIZE + length) {
    throw new MalformedError(`length prefix says ${length} bytes, ${buf.length - LENGTH_PREFIX_SIZE} present`);
  }
  return frameAt(buf, 0, length);
}

function asFrame(data, maxFrame) {
  return Buffer.isBuffer(data) || data instanceof Uint8Array ? decodeFrame(data, maxFrame) : data;
}

/** Decodes a request frame the way a server must: { requestId, op, ...fields }. */
export function decodeRequest(data, maxFrame = DEFAULT_MAX_FRAME) {
  const frame = asFrame(data, maxFrame);
  if (frame.version !== VERSION) {
    throw new UnsupportedVersionError(`protocol version ${frame.version} is not supported`, frame.version);
  }
  const r = new BodyReader(frame.body);
  let fields;
  switch (frame.kind) {
    case Op.PING: fields = {}; break;
    case Op.AUTH: fields = { callerId: r.string('callerId', LIMITS.callerId), proof: r.blob('proof', PROOF_SIZE) }; break;
    case Op.LOGIN: fields = { appId: r.string('appId', LIMITS.appId), code: r.string('code', LIMITS.code) }; break;
    case Op.VALIDATE:
    case Op.REFRESH:
    case Op.REVOKE: fields = { token: r.string('token', LIMITS.token) }; break;
    case Op.REVOKE_USER: fields = { appId: r.string('appId', LIMITS.appId), openid: r.string('openid', LIMITS.openid) }; break;
    case Op.DECRYPT:
      fields = { token: r.string('token', LIMITS.token), encryptedData: r.string('encryptedData', LIMITS.encryptedData),
        iv: r.string('iv', LIMITS.iv) };
      break;
    case Op.VERIFY_SIGNATURE:
      fields = { token: r.string('token', LIMITS.token), rawData: r.string('rawData', LIMITS.rawData),
        signature: r.string('signature', LIMITS.signature) };
      break;
    case Op.PHONE_NUMBER: fields = { token: r.string('token', LIMITS.token), code: r.string('code', LIMITS.code) }; break;
    case Op.CHECK_SESSION_KEY:
    case Op.RESET_SESSION_KEY: fields = { token: r.string('token', LIMITS.token) }; break;
    default: throw new UnknownOpcodeError(`unknown opcode 0x${frame.kind.toString(16).padStart(2, '0')}`, frame.kind);
  }
  r.end();
  return { requestId: frame.requestId, op: opName(frame.kind), ...fields };
}

function readSession(r) {
  return {
    appId: r.string('session.appId'),
    openid: r.string('session.openid'),
    unionid: r.string('session.unionid'),
    createdAt: r.i64('session.createdAt'),
    expiresAt: r.i64('session.expiresAt'),
    absoluteExpiresAt: r.i64('session.absoluteExpiresAt'),
  };
}

function readOkBody(op, r) {
  switch (op) {
    case Op.HELLO: {
      const flags = r.u8('flags');
      const nonce = r.blob('nonce', NONCE_SIZE);
      return { flags, nonce, maxFrame: r.u32('maxFrame'), authRequired: (flags & HELLO_FLAG_AUTH_REQUIRED) !== 0 };
    }
    case Op.PING: return { serverTime: r.i64('serverTime') };
    case Op.AUTH: return { permissions: r.u32('permissions') };
    case Op.LOGIN:
    case Op.REFRESH: return { token: r.string('token'), session: readSession(r) };
    case Op.VALIDATE: return { session: readSession(r) };
    case Op.REVOKE: return {};
    case Op.REVOKE_USER: return { revoked: r.u32('revoked') };
    case Op.DECRYPT: return { data: r.string('data') };
    case Op.VERIFY_SIGNATURE:
    case Op.RESET_SESSION_KEY: return {};
    case Op.PHONE_NUMBER:
      return { phoneNumber: r.string('phoneNumber'), purePhoneNumber: r.string('purePhoneNumber'), countryCode: r.string('countryCode') };
    case Op.CHECK_SESSION_KEY: {
      const current = r.u8('current');
      if (current > 1) throw new MalformedError(`current: ${current} is not 0 or 1`);
      return { current: current === 1 };
    }
    default: throw new MalformedError(`no OK body is defined for opcode 0x${op.toString(16)}`);
  }
}

/**
 * Decodes an error body: { status, message, errcode?, retryAfterMs?, supported?, maxFrame?, body? }. A known
 * status's body is consumed exactly; for a status this client does not know, the message is read and the rest of
 * the body (fields of a later version) is skipped.
 */
export function decodeErrorBody(status, body) {
  const r = new BodyReader(body);
  const message = r.string('message');
  if (!STATUS_NAMES.has(status)) return { status, message, body: Buffer.from(body) };
  const out = { status };
  if (status === Status.UNSUPPORTED_VERSION) out.supported = r.u8('supported');
  else if (status === Status.FRAME_TOO_LARGE) out.maxFrame = r.u32('maxFrame');
  else if (status === Status.WECHAT_REJECTED || status === Status.WECHAT_UNAVAILABLE) out.errcode = r.i32('errcode');
  else if (status === Status.RATE_LIMITED) {
    out.retryAfterMs = r.u32('retryAfterMs');
    out.errcode = r.i32('errcode');
  } else if (status === Status.DECRYPT_FAILED) out.reason = reasonName(r.u8('reason'));
  out.message = message;
  r.end();
  return out;
}

/**
 * Decodes a response frame to a request of opcode `op` ('HELLO' for the greeting); the op is needed because an OK
 * body's layout depends on the request it answers.
 */
export function decodeResponse(data, op, maxFrame = DEFAULT_MAX_FRAME) {
  const frame = asFrame(data, maxFrame);
  const code = opCode(op);
  if (frame.version !== VERSION) {
    throw new UnsupportedVersionError(`response with protocol version ${frame.version}`, frame.version);
  }
  const base = { requestId: frame.requestId, op: opName(code), status: frame.kind };
  if (frame.kind === Status.OK) {
    const r = new BodyReader(frame.body);
    const result = readOkBody(code, r);
    r.end();
    return { ...base, ok: true, result };
  }
  return { ...base, ok: false, error: decodeErrorBody(frame.kind, frame.body) };
}

/** The typed ServerError for a decoded error response. */
export function responseError(response) {
  return errorForStatus(response.status, response.error, response.requestId);
}

/** A complete response frame (for tests and fake servers). */
export function encodeResponse(requestId, op, response) {
  if (response.status === undefined || response.status === Status.OK) {
    return encodeFrame(Status.OK, requestId, encodeOkBody(op, response.result ?? response));
  }
  return encodeFrame(response.status, requestId, encodeErrorBody(response.status, response.error ?? response));
}
