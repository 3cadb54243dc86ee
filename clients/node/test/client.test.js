// WxAuthClient against the Python fake server (an independent encoder) and scripted peers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  ConnectionLostError, FieldLimitError, FrameTooLargeStatusError, InvalidTokenError, NotAuthorizedError,
  ProtocolError, RateLimitedError, RequestTimeoutError, ServerFullError, TokenRevokedError, UnknownAppError,
  UnknownStatusError, WeChatRejectedError, WeChatUnavailableError, WxAuthClient, encodeResponse,
} from '../index.js';
import { startFakeServer } from '../testing/servers.js';
import { helloFrame, startScripted } from '../testing/scripted.js';

const APP = 'wxdevapp00000001';
let fake;
let slow;
let authed;

before(async () => {
  [fake, slow, authed] = await Promise.all([
    startFakeServer(),
    startFakeServer('--delay', 'LOGIN=0.4', '--delay', 'REVOKE_USER=0.5'),
    startFakeServer('--caller', 'orders-api:s3cret'),
  ]);
});

after(async () => {
  await Promise.all([fake, slow, authed].filter(Boolean).map((s) => s.stop()));
});

test('login, validate, refresh rotation, revoke', async () => {
  const c = new WxAuthClient({ port: fake.port });
  try {
    assert.ok(Math.abs((await c.ping()) - Date.now()) < 60000);
    assert.equal(c.hello.authRequired, false);
    assert.equal(c.hello.maxFrame, 65536);
    const issued = await c.login(APP, 'alice.1');
    assert.equal(issued.token.length, 44);
    assert.equal(issued.session.openid, 'o-alice');
    const session = await c.validate(issued.token);
    assert.equal(session.absoluteExpiresAt, issued.session.absoluteExpiresAt);
    const rotated = await c.refresh(issued.token);
    assert.notEqual(rotated.token, issued.token);
    assert.equal((await c.refresh(issued.token)).token, rotated.token);
    assert.equal(await c.revoke(rotated.token), undefined);
    await assert.rejects(c.revoke(rotated.token), TokenRevokedError);
    await assert.rejects(c.validate('B'.repeat(44)), (e) => e instanceof InvalidTokenError && !e.retryable);
  } finally {
    c.close();
  }
});

test('login errors are typed', async () => {
  const c = new WxAuthClient({ port: fake.port });
  try {
    await c.login(APP, 'bob.1');
    await assert.rejects(c.login(APP, 'bob.1'), (e) => e instanceof WeChatRejectedError && e.errcode === 40163);
    await assert.rejects(c.login(APP, 'busy.1'), (e) => e instanceof WeChatUnavailableError && e.retryable);
    await assert.rejects(c.login(APP, 'quota.1'), (e) => e instanceof RateLimitedError && e.retryAfterMs === 60000);
    await assert.rejects(c.login('wxnope', 'bob.2'), UnknownAppError);
  } finally {
    c.close();
  }
});

test('revokeUser counts', async () => {
  const c = new WxAuthClient({ port: fake.port });
  try {
    for (let i = 0; i < 3; i++) await c.login(APP, `carol.${i}`);
    assert.equal(await c.revokeUser(APP, 'o-carol'), 3);
    assert.equal(await c.revokeUser(APP, 'o-carol'), 0);
  } finally {
    c.close();
  }
});

test('out-of-order answers are matched by request id', async () => {
  const c = new WxAuthClient({ port: slow.port });
  try {
    const order = [];
    const login = c.login(APP, 'dave.1').then(() => order.push('login'));
    await new Promise((r) => setTimeout(r, 20));
    const ping = c.ping().then(() => order.push('ping'));
    await Promise.all([login, ping]);
    assert.deepEqual(order, ['ping', 'login']);
  } finally {
    c.close();
  }
});

test('reversed answers land on the right promises', async () => {
  const batch = [];
  const srv = await startScripted((req, send) => {
    batch.push(req);
    if (batch.length === 3) {
      for (const r of [...batch].reverse()) send(encodeResponse(r.requestId, 'REVOKE_USER', { revoked: 100 + r.requestId }));
    }
  });
  const c = new WxAuthClient({ port: srv.port });
  try {
    const results = await c.batch([0, 1, 2].map((i) => ({ op: 'REVOKE_USER', appId: APP, openid: `o${i}` })));
    const ids = srv.received.map((r) => r.requestId);
    assert.deepEqual(results.map((r) => r.value), ids.map((id) => 100 + id));
    assert.equal(new Set(ids).size, 3);
    assert.ok(!ids.includes(0));
  } finally {
    c.close();
    await srv.close();
  }
});

test('100 concurrent validates on one connection', async () => {
  const c = new WxAuthClient({ port: fake.port });
  try {
    const { token } = await c.login(APP, 'erin.1');
    const conn = await c.connect();
    const sessions = await Promise.all(Array.from({ length: 100 }, () => c.validate(token)));
    assert.ok(sessions.every((s) => s.openid === 'o-erin'));
    assert.equal(await c.connect(), conn);
    const settled = await c.batch([{ op: 'VALIDATE', token }, { op: 'VALIDATE', token: 'C'.repeat(44) }]);
    assert.equal(settled[0].status, 'fulfilled');
    assert.ok(settled[1].reason instanceof InvalidTokenError);
  } finally {
    c.close();
  }
});

test('timeout keeps the connection and drops the late answer', async () => {
  const c = new WxAuthClient({ port: slow.port, timeout: 100 });
  try {
    const conn = await c.connect();
    const t0 = Date.now();
    await assert.rejects(c.revokeUser(APP, 'o-nobody'), (e) => e instanceof RequestTimeoutError && e.retryable);
    assert.ok(Date.now() - t0 < 400);
    await new Promise((r) => setTimeout(r, 600));
    assert.ok((await c.ping()) > 0);
    assert.equal(await c.connect(), conn);
  } finally {
    c.close();
  }
});

test('connect refused and HELLO timeout', async () => {
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  await assert.rejects(new WxAuthClient({ port }).ping(), ConnectionLostError);
  const silent = await startScripted(() => {}, { greeting: null });
  try {
    const t0 = Date.now();
    await assert.rejects(new WxAuthClient({ port: silent.port, connectTimeout: 300 }).ping(), RequestTimeoutError);
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    await silent.close();
  }
});

test('AUTH when HELLO requires it', async () => {
  const c = new WxAuthClient({ port: authed.port, callerId: 'orders-api', callerSecret: 's3cret' });
  try {
    const { token } = await c.login(APP, 'hank.1');
    assert.equal(c.hello.authRequired, true);
    assert.equal(c.permissions, 2047); // ALL_PERMISSIONS (every op, user data included)
    assert.equal((await c.validate(token)).openid, 'o-hank');
  } finally {
    c.close();
  }
  await assert.rejects(new WxAuthClient({ port: authed.port, callerId: 'orders-api', callerSecret: 'nope' }).ping(),
    NotAuthorizedError);
  await assert.rejects(new WxAuthClient({ port: authed.port }).ping(), NotAuthorizedError);
});

test('server hang-up: pending fails, next call reconnects', async () => {
  let n = 0;
  const srv = await startScripted((req, send) => {
    n += 1;
    if (n === 1) send(null, true); // hang up without answering
    else send(encodeResponse(req.requestId, 'PING', { serverTime: 7 }), true); // answer, then hang up
  });
  const c = new WxAuthClient({ port: srv.port });
  try {
    await assert.rejects(c.ping(), (e) => e instanceof ConnectionLostError && e.retryable);
    assert.equal(await c.ping(), 7);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await c.ping(), 7);
    assert.equal(srv.accepted, 3);
  } finally {
    c.close();
    await srv.close();
  }
});

test('connection-level error frame fails every pending request', async () => {
  const seen = [];
  const srv = await startScripted((req, send) => {
    seen.push(req);
    if (seen.length === 3) {
      send(encodeResponse(0, 'PING', { status: 0x04, error: { maxFrame: 65536, message: 'too large' } }), true);
    }
  });
  const c = new WxAuthClient({ port: srv.port });
  try {
    const results = await c.batch([{ op: 'PING' }, { op: 'PING' }, { op: 'PING' }]);
    assert.ok(results.every((r) => r.reason instanceof FrameTooLargeStatusError && r.reason.maxFrame === 65536));
  } finally {
    c.close();
    await srv.close();
  }
});

test('unknown status: error, connection kept', async () => {
  const srv = await startScripted((req, send) => {
    if (req.op === 'VALIDATE') send(encodeResponse(req.requestId, 'VALIDATE', { status: 0x7e, error: { body: Buffer.from('000568656c6c6f', 'hex') } }));
    else send(encodeResponse(req.requestId, 'PING', { serverTime: 1 }));
  });
  const c = new WxAuthClient({ port: srv.port });
  try {
    await assert.rejects(c.validate('D'.repeat(44)), (e) => e instanceof UnknownStatusError && e.status === 0x7e && !e.retryable && e.serverMessage === 'hello');
    assert.equal(await c.ping(), 1);
    assert.equal(srv.accepted, 1);
  } finally {
    c.close();
    await srv.close();
  }
});

test('error greeting (server full) is raised', async () => {
  const greeting = encodeResponse(0, 'HELLO', { status: 0x31, error: { message: 'too many connections' } });
  const srv = await startScripted(() => {}, { greeting });
  try {
    await assert.rejects(new WxAuthClient({ port: srv.port }).ping(), ServerFullError);
  } finally {
    await srv.close();
  }
});

test('bad arguments are refused before sending; max_frame respected', async () => {
  const srv = await startScripted((req, send) => send(encodeResponse(req.requestId, 'PING', { serverTime: 1 })),
    { greeting: helloFrame({ maxFrame: 40 }) });
  const c = new WxAuthClient({ port: srv.port });
  try {
    await assert.rejects(c.validate(''), FieldLimitError);
    await assert.rejects(c.login('a'.repeat(65), 'x'), FieldLimitError);
    await assert.rejects(c.validate('E'.repeat(44)), ProtocolError); // 52 > 40
    assert.equal(await c.ping(), 1);
    assert.deepEqual(srv.received.map((r) => r.op), ['PING']);
  } finally {
    c.close();
    await srv.close();
  }
});

test('closed client refuses; close fails pending', async () => {
  const c = new WxAuthClient({ port: slow.port, timeout: null });
  const pending = c.revokeUser(APP, 'o-x');
  await new Promise((r) => setTimeout(r, 50));
  c.close();
  await assert.rejects(pending, ConnectionLostError);
  await assert.rejects(c.ping(), ConnectionLostError);
});
