// Codec behaviour beyond the shared vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  FieldLimitError, FrameDecoder, FrameTooLargeError, MalformedError, Op, Status, UnknownStatusError,
  UnsupportedVersionError, authProof, decodeFrame, decodeRequest, decodeResponse, encodeFrame, encodeRequest,
  encodeResponse, responseError,
} from '../index.js';

const TOKEN = 'A'.repeat(44);

function hmacByHand(key, msg) {
  // RFC 2104 spelled out with plain SHA-256, to check authProof independently of createHmac.
  const block = 64;
  let k = Buffer.from(key);
  if (k.length > block) k = createHash('sha256').update(k).digest();
  k = Buffer.concat([k, Buffer.alloc(block - k.length)]);
  const inner = createHash('sha256').update(Buffer.concat([k.map((b) => b ^ 0x36), msg])).digest();
  return createHash('sha256').update(Buffer.concat([k.map((b) => b ^ 0x5c), inner])).digest();
}

test('auth proof = HMAC-SHA256(secret, "wxauth-auth-v1" || nonce)', () => {
  const nonce = Buffer.from([...Array(32).keys()]);
  const expected = hmacByHand(Buffer.from('s3cret'), Buffer.concat([Buffer.from('wxauth-auth-v1'), nonce]));
  assert.deepEqual(authProof('s3cret', nonce), expected);
  assert.deepEqual(authProof(Buffer.from('s3cret'), nonce), expected);
});

const tooLong = [
  [{ op: 'LOGIN', appId: '', code: 'c' }, 'appId'],
  [{ op: 'LOGIN', appId: 'a'.repeat(65), code: 'c' }, 'appId'],
  [{ op: 'LOGIN', appId: 'wx1', code: '' }, 'code'],
  [{ op: 'LOGIN', appId: 'wx1', code: 'c'.repeat(257) }, 'code'],
  [{ op: 'VALIDATE', token: '' }, 'token'],
  [{ op: 'REFRESH', token: 't'.repeat(129) }, 'token'],
  [{ op: 'REVOKE', token: 'é'.repeat(65) }, 'token'], // 130 UTF-8 bytes
  [{ op: 'REVOKE_USER', appId: 'wx1', openid: 'o'.repeat(129) }, 'openid'],
  [{ op: 'AUTH', callerId: '', proof: Buffer.alloc(32) }, 'callerId'],
  [{ op: 'AUTH', callerId: 'svc', proof: Buffer.alloc(31) }, 'proof'],
  [{ op: 'VALIDATE', token: undefined }, 'token'],
];
for (const [req, field] of tooLong) {
  test(`field limit: ${req.op} ${field}`, () => {
    assert.throws(() => encodeRequest(1, req), (err) => err instanceof FieldLimitError && err.field === field);
  });
}

test('upper bounds round-trip', () => {
  for (const req of [
    { op: 'LOGIN', appId: 'a'.repeat(64), code: 'c'.repeat(256) },
    { op: 'VALIDATE', token: 't'.repeat(128) },
    { op: 'REVOKE_USER', appId: 'a', openid: 'o'.repeat(128) },
  ]) {
    assert.deepEqual(decodeRequest(encodeRequest(0xffffffff, req)), { requestId: 0xffffffff, ...req });
  }
  assert.throws(() => encodeRequest(2 ** 32, { op: 'PING' }), FieldLimitError);
});

test('coalesced frames split by the incremental decoder', () => {
  const data = Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeRequest(i + 1, { op: 'VALIDATE', token: TOKEN })));
  const dec = new FrameDecoder();
  const got = [...dec.push(data.subarray(0, 7)), ...dec.push(data.subarray(7, 1000)), ...dec.push(data.subarray(1000))];
  assert.deepEqual(got.map((f) => f.requestId), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.equal(dec.buffered, 0);
});

test('max frame boundary', () => {
  const len = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  assert.deepEqual(new FrameDecoder(100).push(len(100)), []);
  assert.throws(() => new FrameDecoder(100).push(len(101)), (e) => e instanceof FrameTooLargeError && e.limit === 100);
});

test('truncated, overlong and trailing', () => {
  const f = encodeRequest(3, { op: 'PING' });
  assert.throws(() => decodeFrame(f.subarray(0, 8)), MalformedError);
  assert.throws(() => decodeFrame(Buffer.concat([f, Buffer.from([0])])), MalformedError);
  const okWithTrailing = encodeFrame(Status.OK, 4, Buffer.alloc(9));
  assert.throws(() => decodeResponse(okWithTrailing, 'PING'), MalformedError);
  assert.throws(() => decodeResponse(encodeFrame(0, 4, Buffer.alloc(0), 2), 'REVOKE'), UnsupportedVersionError);
});

test('unknown status keeps body and message', () => {
  const body = Buffer.concat([Buffer.from('0009', 'hex'), Buffer.from('new error'), Buffer.from('00000007', 'hex')]);
  const res = decodeResponse(encodeFrame(0x7e, 12, body), Op.LOGIN);
  assert.equal(res.ok, false);
  assert.equal(res.error.message, 'new error');
  const err = responseError(res);
  assert.ok(err instanceof UnknownStatusError);
  assert.deepEqual(err.body, body);
});

test('unicode session and large times round-trip', () => {
  const session = { appId: 'wx1', openid: 'o用户🙂', unionid: 'u', createdAt: -1, expiresAt: 0, absoluteExpiresAt: 2 ** 53 - 1 };
  const res = decodeResponse(encodeResponse(5, 'REFRESH', { token: TOKEN, session }), 'REFRESH');
  assert.deepEqual(res.result, { token: TOKEN, session });
});
