// Every entry of protocol/vectors/vectors.json, loaded from the file at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DecryptReason, FrameDecoder, FrameTooLargeError, FrameTooShortError, MalformedError, Op, ServerError, Status,
  UnknownOpcodeError, UnsupportedVersionError, decodeRequest, decodeResponse, encodeRequest, encodeResponse,
  responseError, statusName, authProof,
} from '../index.js';
import { loadVectors } from '../testing/servers.js';

const vectors = loadVectors();

const INVALID = {
  frame_too_short: FrameTooShortError,
  frame_too_large: FrameTooLargeError,
  malformed: MalformedError,
  unknown_opcode: UnknownOpcodeError,
  unsupported_version: UnsupportedVersionError,
};

const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const snake = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Vector `decoded` (snake_case, *_hex) -> this client's shape (camelCase, Buffers). */
function toJs(obj) {
  if (Array.isArray(obj) || obj === null || typeof obj !== 'object') return obj;
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k.endsWith('_hex')) out[camel(k.slice(0, -4))] = Buffer.from(v, 'hex');
    else out[camel(k)] = toJs(v);
  }
  return out;
}

/** This client's shape -> vector `decoded` shape. */
function toVector(obj) {
  if (Buffer.isBuffer(obj) || obj === null || typeof obj !== 'object') return obj;
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    if (Buffer.isBuffer(v)) out[`${snake(k)}_hex`] = v.toString('hex');
    else out[snake(k)] = toVector(v);
  }
  return out;
}

function responseAsVector(res) {
  const fields = res.ok ? { ...res.result } : { ...res.error };
  delete fields.authRequired; // derived from flags, checked separately
  delete fields.status;
  return { request_id: res.requestId, op: res.op, status: statusName(res.status), ...toVector(fields) };
}

test('vector file and tables', () => {
  assert.equal(vectors.protocol_version, 1);
  assert.deepEqual(vectors.opcodes, { ...Op });
  assert.deepEqual(vectors.statuses, { ...Status });
  assert.deepEqual(vectors.decrypt_failure_reasons, { ...DecryptReason });
  assert.ok(vectors.requests.length >= 8 && vectors.responses.length >= 20 && vectors.invalid.length >= 9);
});

for (const v of vectors.requests) {
  test(`request ${v.name}: encodes to exact hex`, () => {
    const { requestId, ...request } = toJs(v.decoded);
    assert.equal(encodeRequest(requestId, request).toString('hex'), v.hex);
  });

  test(`request ${v.name}: decodes`, () => {
    const decoded = decodeRequest(Buffer.from(v.hex, 'hex'));
    assert.deepEqual(toVector(decoded), v.decoded);
  });
}

for (const v of vectors.responses) {
  const op = v.decoded.op;

  test(`response ${v.name}: decodes`, () => {
    const res = decodeResponse(Buffer.from(v.hex, 'hex'), op);
    assert.deepEqual(responseAsVector(res), v.decoded);
    if (op === 'HELLO') assert.equal(res.result.authRequired, (v.decoded.flags & 1) === 1);
  });

  test(`response ${v.name}: encodes to exact hex`, () => {
    const { requestId, op: _op, status, ...fields } = toJs(v.decoded);
    const body = status === 'OK' ? fields : { status: Status[status], error: fields };
    assert.equal(encodeResponse(requestId, op, body).toString('hex'), v.hex);
  });

  test(`response ${v.name}: incremental decoder, byte by byte`, () => {
    const data = Buffer.from(v.hex, 'hex');
    const dec = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < data.length; i++) frames.push(...dec.push(data.subarray(i, i + 1)));
    assert.equal(frames.length, 1);
    assert.equal(dec.buffered, 0);
    assert.deepEqual(responseAsVector(decodeResponse(frames[0], op)), v.decoded);
  });

  if (v.decoded.status !== 'OK') {
    test(`response ${v.name}: typed error`, () => {
      const err = responseError(decodeResponse(Buffer.from(v.hex, 'hex'), op));
      assert.ok(err instanceof ServerError);
      assert.equal(err.status, Status[v.decoded.status]);
      assert.equal(err.statusName, v.decoded.status);
      assert.equal(err.serverMessage, v.decoded.message);
      assert.equal(err.requestId, v.decoded.request_id);
      for (const k of ['errcode', 'retry_after_ms', 'supported', 'max_frame']) {
        if (k in v.decoded) assert.equal(err[camel(k)], v.decoded[k]);
      }
    });
  }
}

for (const v of vectors.invalid) {
  test(`invalid ${v.name}: ${v.expect}`, () => {
    const cls = INVALID[v.expect];
    assert.throws(() => decodeRequest(Buffer.from(v.hex, 'hex')), (err) => err instanceof cls && err.code === v.expect);
  });

  if (v.expect.startsWith('frame_')) {
    test(`invalid ${v.name}: detected from the length prefix alone`, () => {
      const dec = new FrameDecoder();
      assert.throws(() => dec.push(Buffer.from(v.hex, 'hex').subarray(0, 4)), INVALID[v.expect]);
    });
  }
}

for (const v of vectors.unknown_statuses) {
  test(`unknown status ${v.name}: its message is read and the rest skipped`, () => {
    const res = decodeResponse(Buffer.from(v.hex, 'hex'), 'VALIDATE');
    assert.equal(res.requestId, v.decoded.request_id);
    assert.equal(res.status, v.decoded.status_code);
    assert.equal(res.ok, false);
    assert.equal(res.error.message, v.decoded.message);
    assert.equal(responseError(res).retryable, false);
  });
}

for (const v of vectors.auth_proofs) {
  test(`AUTH proof with secret ${v.secret.slice(0, 8)}: the secret's UTF-8 bytes are the key`, () => {
    assert.equal(authProof(v.secret, Buffer.from(v.nonce_hex, 'hex')).toString('hex'), v.proof_hex);
  });
}
