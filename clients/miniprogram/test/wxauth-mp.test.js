'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { createAuth, storageKeys, sessionFailure } = require('../wxauth-mp.js');
const { createFakeWx, bearer, delay } = require('../testing/fake-wx.js');

const APP = 'wx1234567890abcdef';

/** A fake backend: codes c1, c2, ... -> tokens T1, T2, ...; `valid` is the set of tokens /me accepts. */
function backend(opts = {}) {
  const state = { codes: 0, valid: new Set(), reason: opts.reason || 'token_expired', logins: 0, meDelay: opts.meDelay || 0 };
  state.wx = createFakeWx({
    login: async () => {
      if (opts.loginFails) throw new Error('no network');
      await delay(opts.loginDelay || 5);
      state.codes += 1;
      return `c${state.codes}`;
    },
    request: async (o) => {
      if (o.url.endsWith('/login')) {
        state.logins += 1;
        if (opts.loginStatus) return { statusCode: opts.loginStatus, data: opts.loginBody, header: {} };
        const token = `T${o.data.code.slice(1)}`;
        state.valid.add(token);
        return { statusCode: 200, data: { token, expiresAt: 1764161800000 }, header: {} };
      }
      if (o.url.endsWith('/down')) throw new Error('connection refused');
      if (o.url.endsWith('/boom')) return { statusCode: 500, data: { error: 'internal' }, header: {} };
      const token = bearer(o);
      const wait = typeof state.meDelay === 'function' ? state.meDelay(token) : state.meDelay;
      if (wait) await delay(wait);
      if (opts.alwaysReject || !state.valid.has(token)) {
        return { statusCode: 401, data: { error: token ? state.reason : 'missing_token' }, header: {} };
      }
      return { statusCode: 200, data: { openid: 'o1', token }, header: {} };
    },
  });
  state.auth = createAuth({ wx: state.wx, appId: APP, baseUrl: 'https://api.example.com', loginUrl: '/login' });
  return state;
}

test('first request logs in, stores the token under a namespaced key, sends Bearer', async () => {
  const b = backend();
  const res = await b.auth.request({ url: '/me' });
  assert.equal(res.statusCode, 200);
  assert.equal(b.wx.count('login'), 1);
  const [loginCall, meCall] = b.wx.requests();
  assert.equal(loginCall.options.url, 'https://api.example.com/login');
  assert.equal(loginCall.options.method, 'POST');
  assert.deepEqual(loginCall.options.data, { code: 'c1', app_id: APP });
  assert.equal(meCall.options.url, 'https://api.example.com/me');
  assert.equal(meCall.options.header.Authorization, 'Bearer T1');
  assert.equal(b.wx.storage.get(`wxauth:${APP}:token`), 'T1');
  assert.equal(b.wx.storage.get(`wxauth:${APP}:expiresAt`), 1764161800000);
  assert.deepEqual([...b.wx.storage.keys()].sort(), [`wxauth:${APP}:expiresAt`, `wxauth:${APP}:token`]);

  await b.auth.request({ url: '/me', header: { 'X-Trace': '1', authorization: 'Bearer stale' } });
  assert.equal(b.wx.count('login'), 1, 'the stored token is reused');
  const last = b.wx.requests().at(-1).options.header;
  assert.deepEqual(last, { 'X-Trace': '1', Authorization: 'Bearer T1' });
});

test('many concurrent requests without a token share one wx.login', async () => {
  const b = backend({ loginDelay: 30 });
  const results = await Promise.all(Array.from({ length: 20 }, () => b.auth.request({ url: '/me' })));
  assert.ok(results.every((r) => r.statusCode === 200));
  assert.equal(b.wx.count('login'), 1);
  assert.equal(b.logins, 1);
});

test('expiry with requests in flight: exactly one wx.login, each request replayed once', async () => {
  const b = backend({ meDelay: 10 });
  await b.auth.request({ url: '/me' });
  b.valid.clear(); // the session expired at the backend
  const before = b.wx.requests((o) => o.url.endsWith('/me')).length;
  const results = await Promise.all(Array.from({ length: 25 }, () => b.auth.request({ url: '/me' })));
  assert.ok(results.every((r) => r.statusCode === 200 && r.data.token === 'T2'));
  assert.equal(b.wx.count('login'), 2, 'one login at start, exactly one re-login');
  assert.equal(b.logins, 2);
  const meCalls = b.wx.requests((o) => o.url.endsWith('/me')).slice(before);
  assert.equal(meCalls.length, 50, 'each of the 25 requests: one try + one replay');
  assert.equal(meCalls.filter((c) => bearer(c.options) === 'T1').length, 25);
  assert.equal(meCalls.filter((c) => bearer(c.options) === 'T2').length, 25);
  assert.equal(b.wx.storage.get(`wxauth:${APP}:token`), 'T2');
});

test('a 401 that arrives after the re-login finished reuses the new token', async () => {
  const b = backend();
  await b.auth.request({ url: '/me' });
  b.valid.clear();
  b.meDelay = (token) => (token === 'T1' && !b.slowSent ? ((b.slowSent = true), 150) : 0);
  const slow = b.auth.request({ url: '/me' }); // its 401 comes back late
  await delay(20);
  const fast = await b.auth.request({ url: '/me' });
  assert.equal(fast.data.token, 'T2');
  assert.equal((await slow).data.token, 'T2');
  assert.equal(b.wx.count('login'), 2, 'no third login for the late 401');
});

test('the replay happens once, not forever', async () => {
  const b = backend({ alwaysReject: true, reason: 'token_revoked' });
  b.wx.storage.set(`wxauth:${APP}:token`, 'OLD');
  await assert.rejects(b.auth.request({ url: '/me' }), (err) => err.code === 'session_rejected' && err.reason === 'token_revoked');
  assert.equal(b.wx.count('login'), 1);
  assert.deepEqual(b.wx.requests((o) => o.url.endsWith('/me')).map((c) => bearer(c.options)), ['OLD', 'T1']);
  assert.equal(b.wx.storage.has(`wxauth:${APP}:token`), false, 'a refused fresh token is not kept');
  // Without a stored token: one login, one try; a refused fresh token is not worth a second login.
  await assert.rejects(b.auth.request({ url: '/me' }), (err) => err.code === 'session_rejected');
  assert.equal(b.wx.count('login'), 2);
  assert.equal(b.wx.requests((o) => o.url.endsWith('/me')).length, 3);
});

for (const reason of ['invalid_token', 'token_expired', 'token_revoked']) {
  test(`401 ${reason} triggers one re-login and a replay`, async () => {
    const b = backend({ reason });
    b.wx.storage.set(`wxauth:${APP}:token`, 'OLD');
    const res = await b.auth.request({ url: '/me', method: 'GET' });
    assert.equal(res.statusCode, 200);
    assert.equal(b.wx.count('login'), 1);
    assert.deepEqual(b.wx.requests((o) => o.url.endsWith('/me')).map((c) => bearer(c.options)), ['OLD', 'T1']);
  });
}

test('other answers pass through untouched (401 without reason, 500)', async () => {
  const b = backend();
  b.wx.storage.set(`wxauth:${APP}:token`, 'T9');
  b.valid.add('T9');
  const boom = await b.auth.request({ url: '/boom' });
  assert.equal(boom.statusCode, 500);
  assert.equal(sessionFailure({ statusCode: 401, data: { error: 'something_else' } }), null);
  assert.equal(sessionFailure({ statusCode: 401, data: '{"error":"token_expired"}' }), 'token_expired');
  assert.equal(sessionFailure({ statusCode: 403, data: { error: 'token_expired' } }), null);
  assert.equal(b.wx.count('login'), 0);
});

test('network failure rejects without logging in', async () => {
  const b = backend();
  b.wx.storage.set(`wxauth:${APP}:token`, 'T9');
  await assert.rejects(b.auth.request({ url: '/down' }), (err) => err.code === 'network');
  assert.equal(b.wx.count('login'), 0);
});

test('wx.login failure rejects every waiter; the next request tries again', async () => {
  const b = backend({ loginFails: true });
  const results = await Promise.allSettled([1, 2, 3].map(() => b.auth.request({ url: '/me' })));
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason.code === 'login_failed' && r.reason.stage === 'wx.login'));
  assert.equal(b.wx.count('login'), 1);
  await assert.rejects(b.auth.request({ url: '/me' }));
  assert.equal(b.wx.count('login'), 2);
});

test('backend login errors carry the reason', async () => {
  const b = backend({ loginStatus: 400, loginBody: { error: 'wechat_rejected', errcode: 40163 } });
  await assert.rejects(b.auth.request({ url: '/me' }), (err) =>
    err.code === 'login_failed' && err.stage === 'backend' && err.statusCode === 400 &&
    err.reason === 'wechat_rejected' && err.errcode === 40163);
  const limited = backend({ loginStatus: 429, loginBody: { error: 'rate_limited', retryAfterMs: 60000 } });
  await assert.rejects(limited.auth.login(), (err) => err.reason === 'rate_limited' && err.retryAfterMs === 60000);
});

test('storage is namespaced per app', async () => {
  const storage = new Map();
  const mk = (appId, token) => {
    const wx = createFakeWx({
      storage,
      login: async () => 'code',
      request: async (o) => (o.url === '/login'
        ? { statusCode: 200, data: { token, expiresAt: 1 } }
        : { statusCode: 200, data: { seen: bearer(o) } }),
    });
    return { wx, auth: createAuth({ wx, appId, loginUrl: '/login' }) };
  };
  const a = mk('wxAAA', 'tokA');
  const b = mk('wxBBB', 'tokB');
  assert.equal((await a.auth.request({ url: '/x' })).data.seen, 'tokA');
  assert.equal((await b.auth.request({ url: '/x' })).data.seen, 'tokB');
  assert.equal((await a.auth.request({ url: '/x' })).data.seen, 'tokA');
  assert.equal(storage.get('wxauth:wxAAA:token'), 'tokA');
  assert.equal(storage.get('wxauth:wxBBB:token'), 'tokB');
  assert.deepEqual(storageKeys('wxAAA'), { token: 'wxauth:wxAAA:token', expiresAt: 'wxauth:wxAAA:expiresAt' });
  a.auth.logout();
  assert.equal(storage.has('wxauth:wxAAA:token'), false);
  assert.equal(storage.get('wxauth:wxBBB:token'), 'tokB');
});

test('configuration is checked', () => {
  assert.throws(() => createAuth({ appId: APP, loginUrl: '/login' }), /no wx object/);
  assert.throws(() => createAuth({ wx: {}, loginUrl: '/login' }), /appId/);
  assert.throws(() => createAuth({ wx: {}, appId: APP }), /loginUrl/);
});

test('the HTTP edge: expires_at is kept and a bodiless 401 with X-WXAuth-Reason triggers one re-login', async () => {
  const valid = new Set();
  let logins = 0;
  const wx = createFakeWx({
    login: async () => `c${logins + 1}`,
    request: async (o) => {
      if (o.url.endsWith('/login')) {
        logins += 1;
        assert.deepEqual(o.data, { code: `c${logins}`, app_id: APP });
        valid.add(`E${logins}`);
        return { statusCode: 200, data: { token: `E${logins}`, expires_at: 1764161900000, absolute_expires_at: 1764200000000 }, header: {} };
      }
      if (!valid.has(bearer(o))) return { statusCode: 401, data: '', header: { 'x-wxauth-reason': 'revoked' } };
      return { statusCode: 200, data: { ok: true }, header: {} };
    },
  });
  const auth = createAuth({ wx, appId: APP, baseUrl: 'https://api.example.com', loginUrl: '/login' });
  assert.equal((await auth.request({ url: '/api/me' })).statusCode, 200);
  assert.equal(wx.storage.get(`wxauth:${APP}:expiresAt`), 1764161900000);
  valid.clear();
  const res = await auth.request({ url: '/api/me' });
  assert.equal(res.statusCode, 200);
  assert.equal(logins, 2);
  assert.equal(bearer(wx.requests().at(-1).options), 'E2');
});

test('sessionFailure reads backend reasons, edge error bodies and the X-WXAuth-Reason header', () => {
  assert.equal(sessionFailure({ statusCode: 401, data: { error: 'token_expired' } }), 'token_expired');
  assert.equal(sessionFailure({ statusCode: 401, data: { error: { status: 'TOKEN_REVOKED', retryable: false } } }), 'token_revoked');
  assert.equal(sessionFailure({ statusCode: 401, data: '', header: { 'X-WXAuth-Reason': 'expired' } }), 'token_expired');
  assert.equal(sessionFailure({ statusCode: 401, data: '', header: { 'x-wxauth-reason': 'invalid' } }), 'invalid_token');
  assert.equal(sessionFailure({ statusCode: 401, data: '', header: { 'x-wxauth-reason': 'sleepy' } }), null);
  assert.equal(sessionFailure({ statusCode: 401, data: { error: { status: 'NOT_AUTHORIZED' } } }), null);
  assert.equal(sessionFailure({ statusCode: 403, data: '', header: { 'x-wxauth-reason': 'expired' } }), null);
});

test('an edge login error keeps its status name, errcode and retry_after_ms', async () => {
  const wx = createFakeWx({
    login: async () => 'c1',
    request: async () => ({ statusCode: 429, data: { error: { status: 'RATE_LIMITED', retryable: true, message: 'slow', retry_after_ms: 1500 } }, header: {} }),
  });
  const auth = createAuth({ wx, appId: APP, loginUrl: '/login' });
  await assert.rejects(auth.login(), (err) => err.code === 'login_failed' && err.reason === 'rate_limited' && err.retryAfterMs === 1500 && err.statusCode === 429);
});
