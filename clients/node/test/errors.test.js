// Error classes: one per status; `retryable` as in PROTOCOL.md's status table (parsed from the file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ConnectionLostError, ERROR_CLASSES, FieldLimitError, InvalidTokenError, RateLimitedError, RequestTimeoutError,
  Status, TokenError, TokenExpiredError, TokenRevokedError, UnknownStatusError, WeChatRejectedError, WxAuthError,
  errorForStatus,
} from '../index.js';
import { PROTOCOL_MD } from '../testing/servers.js';

function statusTable() {
  const rows = new Map();
  for (const line of readFileSync(PROTOCOL_MD, 'utf8').split('\n')) {
    const m = line.match(/^\|\s*`0x([0-9A-Fa-f]{2})`\s*\|\s*([A-Z_]+)\s*\|[^|]*\|\s*([^|]*)\|/);
    if (m && m[2] in Status) rows.set(parseInt(m[1], 16), { name: m[2], retry: m[3].trim() });
  }
  return rows;
}

const table = statusTable();

test('PROTOCOL.md status table parsed', () => {
  assert.deepEqual([...table.keys()].sort((a, b) => a - b), Object.values(Status).sort((a, b) => a - b));
});

for (const [name, status] of Object.entries(Status)) {
  if (status === Status.OK) continue;
  test(`${name}: class and retryable match PROTOCOL.md`, () => {
    const row = table.get(status);
    assert.equal(row.name, name);
    const err = errorForStatus(status, { message: 'm' }, 9);
    assert.equal(err.constructor, ERROR_CLASSES.get(status));
    assert.ok(err instanceof WxAuthError && err instanceof Error);
    assert.equal(err.status, status);
    assert.equal(err.statusName, name);
    assert.equal(err.requestId, 9);
    assert.equal(err.retryable, row.retry.startsWith('yes'), `${name}: ${row.retry}`);
  });
}

test('fields of WeChat and rate limit errors', () => {
  const rejected = errorForStatus(Status.WECHAT_REJECTED, { message: 'code been used', errcode: 40163 });
  assert.ok(rejected instanceof WeChatRejectedError);
  assert.equal(rejected.errcode, 40163);
  assert.equal(rejected.errmsg, 'code been used');
  assert.equal(rejected.retryable, false);
  const limited = errorForStatus(Status.RATE_LIMITED, { message: 'q', errcode: 45011, retryAfterMs: 60000 });
  assert.ok(limited instanceof RateLimitedError);
  assert.equal(limited.retryAfterMs, 60000);
  assert.equal(limited.retryable, true);
  for (const cls of [InvalidTokenError, TokenExpiredError, TokenRevokedError]) {
    assert.ok(new cls('x') instanceof TokenError);
    assert.equal(new cls('x').retryable, false);
  }
});

test('unknown status: not retryable, body kept', () => {
  const err = errorForStatus(0x7e, { message: 'new', body: Buffer.from('0003616263', 'hex') });
  assert.ok(err instanceof UnknownStatusError);
  assert.equal(err.status, 0x7e);
  assert.equal(err.statusName, 'STATUS_0x7E');
  assert.equal(err.retryable, false);
});

test('local errors', () => {
  assert.equal(new ConnectionLostError('x').retryable, true);
  assert.equal(new RequestTimeoutError('x').retryable, true);
  assert.equal(new FieldLimitError('token', 'too long').retryable, false);
  assert.equal(new FieldLimitError('token', 'too long').name, 'FieldLimitError');
});
