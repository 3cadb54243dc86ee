// wxauth: zero-dependency Node client for wxauthd (protocol v1).
export * from './errors.js';
export {
  VERSION, HEADER_SIZE, LENGTH_PREFIX_SIZE, DEFAULT_MAX_FRAME, NONCE_SIZE, PROOF_SIZE, MAX_REQUEST_ID,
  HELLO_FLAG_AUTH_REQUIRED, Op, Status, Permission, ALL_PERMISSIONS, DecryptReason, reasonName, LIMITS, opName, statusName, opCode, authProof,
  encodeFrame, encodeRequest, encodeRequestBody, encodeOkBody, encodeErrorBody, encodeResponse, decodeFrame,
  decodeRequest, decodeResponse, decodeErrorBody, responseError, FrameDecoder, BodyReader,
} from './codec.js';
export { WxAuthClient, Connection, resultValue } from './client.js';
export { SAFE_TO_REPEAT, NODE_STATUSES, isSafeToRepeat, movesToAnotherNode, parseNodes } from './failover.js';
