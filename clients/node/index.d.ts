// Type declarations for the wxauth Node client (protocol v1).

/// <reference types="node" />

// --- protocol constants ------------------------------------------------------------------------------------

export declare const VERSION: 1;
export declare const HEADER_SIZE: 6;
export declare const LENGTH_PREFIX_SIZE: 4;
export declare const DEFAULT_MAX_FRAME: 65536;
export declare const NONCE_SIZE: 32;
export declare const PROOF_SIZE: 32;
export declare const MAX_REQUEST_ID: 4294967295;
export declare const HELLO_FLAG_AUTH_REQUIRED: 1;
export declare const ALL_PERMISSIONS: 2047;

export declare const Op: Readonly<{
  HELLO: 0x00; PING: 0x01; AUTH: 0x02; LOGIN: 0x10; VALIDATE: 0x11; REFRESH: 0x12; REVOKE: 0x13; REVOKE_USER: 0x14;
  DECRYPT: 0x20; VERIFY_SIGNATURE: 0x21; PHONE_NUMBER: 0x22; CHECK_SESSION_KEY: 0x23; RESET_SESSION_KEY: 0x24;
}>;
export type OpName = keyof typeof Op;

export declare const Status: Readonly<{
  OK: 0x00; MALFORMED_REQUEST: 0x01; UNSUPPORTED_VERSION: 0x02; UNKNOWN_OPCODE: 0x03; FRAME_TOO_LARGE: 0x04;
  INVALID_TOKEN: 0x10; TOKEN_EXPIRED: 0x11; TOKEN_REVOKED: 0x12; UNKNOWN_APP: 0x13; DECRYPT_FAILED: 0x14;
  SIGNATURE_MISMATCH: 0x15; WECHAT_REJECTED: 0x20;
  WECHAT_UNAVAILABLE: 0x21; RATE_LIMITED: 0x30; SERVER_FULL: 0x31; NOT_AUTHORIZED: 0x32; SHUTTING_DOWN: 0x33;
  STORE_UNAVAILABLE: 0x34; INTERNAL_ERROR: 0x3f;
}>;
export type StatusName = keyof typeof Status;

export declare const Permission: Readonly<{
  PING: 1; LOGIN: 2; VALIDATE: 4; REFRESH: 8; REVOKE: 16; REVOKE_USER: 32;
  DECRYPT: 64; VERIFY_SIGNATURE: 128; PHONE_NUMBER: 256; CHECK_SESSION_KEY: 512; RESET_SESSION_KEY: 1024;
}>;

/** DECRYPT_FAILED reasons (the `reason` u8). */
export declare const DecryptReason: Readonly<{
  bad_base64: 1; bad_key_length: 2; bad_iv_length: 3; bad_padding_or_key: 4; appid_mismatch: 5; stale_watermark: 6;
}>;
export type DecryptReasonName = keyof typeof DecryptReason;
export declare function reasonName(reason: number): string;

/** Byte-length limits (UTF-8 bytes) of request fields: [min, max]. */
export declare const LIMITS: Readonly<{
  appId: [1, 64]; code: [1, 256]; token: [1, 128]; openid: [1, 128]; callerId: [1, 64];
  encryptedData: [1, 60000]; iv: [1, 64]; rawData: [0, 60000]; signature: [1, 128];
}>;

// --- values ------------------------------------------------------------------------------------------------

/** The public view of a session (never contains the session_key). Times are Unix milliseconds. */
export interface Session {
  appId: string;
  openid: string;
  /** Empty when WeChat gave none. */
  unionid: string;
  createdAt: number;
  /** The earlier of the idle deadline and the absolute deadline; VALIDATE slides it. */
  expiresAt: number;
  /** Never extended. */
  absoluteExpiresAt: number;
}

/** LOGIN and REFRESH. */
export interface TokenResult {
  token: string;
  session: Session;
}

export interface Hello {
  flags: number;
  nonce: Buffer;
  maxFrame: number;
  authRequired: boolean;
}

export type Request =
  | { op: 'PING' }
  | { op: 'AUTH'; callerId: string; proof: Uint8Array }
  | { op: 'LOGIN'; appId: string; code: string }
  | { op: 'VALIDATE'; token: string }
  | { op: 'REFRESH'; token: string }
  | { op: 'REVOKE'; token: string }
  | { op: 'REVOKE_USER'; appId: string; openid: string }
  | { op: 'DECRYPT'; token: string; encryptedData: string; iv: string }
  | { op: 'VERIFY_SIGNATURE'; token: string; rawData: string; signature: string }
  | { op: 'PHONE_NUMBER'; token: string; code: string }
  | { op: 'CHECK_SESSION_KEY'; token: string }
  | { op: 'RESET_SESSION_KEY'; token: string };

/** PHONE_NUMBER (the server checked the watermark). */
export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

export type DecodedRequest = Request & { requestId: number };

export interface Frame {
  version: number;
  kind: number;
  requestId: number;
  body: Buffer;
}

export interface ErrorFields {
  status: number;
  message: string;
  errcode?: number;
  retryAfterMs?: number;
  supported?: number;
  maxFrame?: number;
  /** The raw body of a status this client does not know. */
  body?: Buffer;
}

export type OkBody =
  | Hello
  | { serverTime: number }
  | { permissions: number }
  | TokenResult
  | { session: Session }
  | Record<string, never>
  | { revoked: number };

export type DecodedResponse =
  | { requestId: number; op: string; status: 0; ok: true; result: OkBody }
  | { requestId: number; op: string; status: number; ok: false; error: ErrorFields };

// --- codec -------------------------------------------------------------------------------------------------

export declare function opName(op: number): string;
export declare function statusName(status: number): string;
export declare function opCode(op: OpName | number): number;
/** HMAC-SHA256(key = caller secret, message = "wxauth-auth-v1" || nonce). */
export declare function authProof(secret: string | Uint8Array, nonce: Uint8Array): Buffer;
export declare function encodeFrame(kind: number, requestId: number, body?: Uint8Array, version?: number): Buffer;
export declare function encodeRequestBody(request: Request): Buffer;
export declare function encodeRequest(requestId: number, request: Request): Buffer;
export declare function encodeOkBody(op: OpName | number, result: OkBody): Buffer;
export declare function encodeErrorBody(status: number, error: Partial<ErrorFields>): Buffer;
export declare function encodeResponse(
  requestId: number, op: OpName | number,
  response: OkBody | { status: number; result?: OkBody; error?: Partial<ErrorFields> },
): Buffer;
export declare function decodeFrame(data: Uint8Array, maxFrame?: number): Frame;
export declare function decodeRequest(data: Uint8Array | Frame, maxFrame?: number): DecodedRequest;
export declare function decodeResponse(data: Uint8Array | Frame, op: OpName | number, maxFrame?: number): DecodedResponse;
export declare function decodeErrorBody(status: number, body: Uint8Array): ErrorFields;
export declare function responseError(response: DecodedResponse & { ok: false }): ServerError;

export declare class FrameDecoder {
  constructor(maxFrame?: number);
  readonly maxFrame: number;
  readonly buffered: number;
  /** The frames completed by `chunk`; throws FrameTooShortError / FrameTooLargeError on a bad length prefix. */
  push(chunk: Uint8Array): Frame[];
}

export declare class BodyReader {
  constructor(buf: Buffer);
  u8(what: string): number;
  u16(what: string): number;
  u32(what: string): number;
  i32(what: string): number;
  i64(what: string): number;
  string(what: string, limit?: [number, number]): string;
  blob(what: string, exact?: number): Buffer;
  readonly remaining: number;
  end(): void;
}

// --- errors ------------------------------------------------------------------------------------------------

export declare class WxAuthError extends Error {
  /** Whether sending the same request again may succeed (PROTOCOL.md's "retry?" column). */
  readonly retryable: boolean;
}
export declare class ProtocolError extends WxAuthError {}
export declare class DecodeError extends ProtocolError {
  /** The name the invalid test vectors use. */
  readonly code: 'malformed' | 'frame_too_short' | 'frame_too_large' | 'unknown_opcode' | 'unsupported_version';
}
export declare class FrameTooShortError extends DecodeError {}
export declare class FrameTooLargeError extends DecodeError {
  readonly length: number;
  readonly limit: number;
}
export declare class MalformedError extends DecodeError {}
export declare class UnknownOpcodeError extends DecodeError {
  readonly opcode: number;
}
export declare class UnsupportedVersionError extends DecodeError {
  readonly version: number;
}
export declare class FieldLimitError extends WxAuthError {
  readonly field: string;
}
export declare class ConnectionLostError extends WxAuthError {}
export declare class RequestTimeoutError extends WxAuthError {}

export declare class ServerError extends WxAuthError {
  static readonly status: number;
  static readonly statusName: string;
  readonly status: number;
  readonly statusName: string;
  /** The server's human-readable message (never a token or secret). */
  readonly serverMessage: string;
  readonly requestId: number | null;
}
export declare class MalformedRequestError extends ServerError {}
export declare class UnsupportedVersionStatusError extends ServerError {
  readonly supported: number;
}
export declare class UnknownOpcodeStatusError extends ServerError {}
export declare class FrameTooLargeStatusError extends ServerError {
  readonly maxFrame: number;
}
export declare class TokenError extends ServerError {}
export declare class InvalidTokenError extends TokenError {}
export declare class TokenExpiredError extends TokenError {}
export declare class TokenRevokedError extends TokenError {}
export declare class UnknownAppError extends ServerError {}
export declare class DecryptFailedError extends ServerError {
  /** bad_base64, bad_key_length, bad_iv_length, bad_padding_or_key (log in again), appid_mismatch, stale_watermark. */
  readonly reason: string;
  readonly detail: string;
}
export declare class SignatureMismatchError extends ServerError {}
export declare class WeChatRejectedError extends ServerError {
  readonly errcode: number;
  readonly errmsg: string;
}
export declare class WeChatUnavailableError extends ServerError {
  readonly errcode: number;
}
export declare class RateLimitedError extends ServerError {
  readonly retryAfterMs: number;
  readonly errcode: number;
}
export declare class ServerFullError extends ServerError {}
export declare class NotAuthorizedError extends ServerError {}
export declare class ShuttingDownError extends ServerError {}
export declare class StoreUnavailableError extends ServerError {}
export declare class InternalServerError extends ServerError {}
export declare class UnknownStatusError extends ServerError {
  readonly body: Buffer;
}
export declare const ERROR_CLASSES: ReadonlyMap<number, typeof ServerError>;
export declare function errorForStatus(
  status: number, fields?: Partial<ErrorFields>, requestId?: number | null,
): ServerError;

// --- client ------------------------------------------------------------------------------------------------

export interface ClientOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 7400 (wxauthd's default port). */
  port?: number;
  /**
   * Several wxauthd nodes instead of host/port: one is used at a time, and the client fails over between them
   * (PROTOCOL.md "Clients and several nodes").
   */
  nodes?: Array<string | NodeAddress>;
  /** Per-request timeout in ms (default 5000); null waits forever. */
  timeout?: number | null;
  /** Connect + HELLO + AUTH timeout in ms (default 5000). */
  connectTimeout?: number | null;
  /** Sent with AUTH when the server's HELLO requires authentication. */
  callerId?: string;
  callerSecret?: string | Uint8Array;
}

export interface NodeAddress {
  host: string;
  port: number;
}

export interface RequestOptions {
  timeout?: number | null;
}

export declare function resultValue(op: number, result: OkBody): unknown;

export declare class Connection {
  static open(options: {
    host: string; port: number; connectTimeout?: number | null; callerId?: string; callerSecret?: string | Uint8Array;
  }): Promise<Connection>;
  readonly hello: Hello | null;
  readonly permissions: number | null;
  readonly usable: boolean;
  readonly pendingCount: number;
  send(requests: Request[], timeout: number | null): Promise<unknown>[];
  /** No new requests: closes once the requests in flight are answered (or time out). */
  retire(): void;
  close(err?: Error): void;
}

export declare class WxAuthClient {
  constructor(options?: ClientOptions);
  readonly host: string;
  readonly port: number;
  /** Every configured node, in order. */
  readonly nodes: ReadonlyArray<NodeAddress>;
  /** The node in use now (or tried first by the next connect). */
  readonly currentNode: NodeAddress;
  /** The HELLO of the current connection (null before the first request). */
  readonly hello: Hello | null;
  readonly permissions: number | null;
  connect(): Promise<Connection>;
  request(request: Request, options?: RequestOptions): Promise<unknown>;
  /** Sends every request in one write; results in call order, as from Promise.allSettled. */
  batch(requests: Request[], options?: RequestOptions): Promise<PromiseSettledResult<unknown>[]>;
  /** The server's clock in Unix ms. */
  ping(options?: RequestOptions): Promise<number>;
  /** Exchanges a wx.login code for a session token. Never retry with the same code after a timeout. */
  login(appId: string, code: string, options?: RequestOptions): Promise<TokenResult>;
  validate(token: string, options?: RequestOptions): Promise<Session>;
  refresh(token: string, options?: RequestOptions): Promise<TokenResult>;
  revoke(token: string, options?: RequestOptions): Promise<void>;
  /** Ends every live session of the user; resolves to how many there were. */
  revokeUser(appId: string, openid: string, options?: RequestOptions): Promise<number>;
  /** Decrypts encryptedData inside wxauthd; resolves to the plaintext JSON text. */
  decrypt(token: string, encryptedData: string, iv: string, options?: RequestOptions): Promise<string>;
  /** Resolves when signature == sha1(rawData + session_key); rejects with SignatureMismatchError otherwise. */
  verifySignature(token: string, rawData: string, signature: string, options?: RequestOptions): Promise<void>;
  /** The phone number for a getPhoneNumber button code (single use). */
  phoneNumber(token: string, code: string, options?: RequestOptions): Promise<PhoneNumber>;
  /** Whether WeChat still considers the session's stored session_key current. */
  checkSessionKey(token: string, options?: RequestOptions): Promise<boolean>;
  /** WeChat issues a new session_key; wxauthd stores it in the session. */
  resetSessionKey(token: string, options?: RequestOptions): Promise<void>;
  close(): void;
}

// --- several nodes (failover.js) ----------------------------------------------------------------------------

/** Opcodes a client sends once more to the next node after leaving a node (PING, VALIDATE, DECRYPT, ...). */
export declare const SAFE_TO_REPEAT: ReadonlySet<number>;
/** Retryable statuses about the node itself (SHUTTING_DOWN, STORE_UNAVAILABLE, SERVER_FULL, INTERNAL_ERROR). */
export declare const NODE_STATUSES: ReadonlySet<number>;
export declare function isSafeToRepeat(op: OpName | number): boolean;
/** Whether `err` says the node failed: connection lost or timed out, or a status about the node. */
export declare function movesToAnotherNode(err: unknown): boolean;
/** `['10.0.0.1:7400', { host, port }, '[::1]:7400']` to `[{ host, port }, ...]`; throws TypeError on bad input. */
export declare function parseNodes(nodes: Array<string | NodeAddress>): NodeAddress[];
