'use strict';
// Keeping users logged in: refresh ahead of expiresAt (one in flight), wx.checkSession before user-data requests,
// and no replay of a state-changing request without an idempotency marker. All against the fake `wx`.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { createAuth } = require('../wxauth-mp.js');
const { createFakeWx, bearer, delay } = require('../testing/fake-wx.js');

const APP = 'wx1234567890abcdef';
const MINUTE = 60 * 1000;
const START = 1_764_160_000_000;

/**
 * A fake backend with a clock: /login issues L1, L2, ... valid for `lifetime`; /refresh rotates a valid token to
 * R1, R2, ... (the old one stops working); other URLs answer 200 for a valid token, 401 otherwise.
 */
function backend(opts = {}) {
  const state = {
    clock: START, valid: new Map(), logins: 0, refreshes: 0, codes: 0, sessionCurrent: true,
    lifetime: opts.lifetime || 60 * MINUTE, refreshDelay: opts.refreshDelay || 0, order: [],
  };
  state.wx = createFakeWx({
    login: async () => {
      state.codes += 1;
      state.order.push('wx.login');
      return `c${state.codes}`;
    },
    checkSession: async () => {
      state.order.push('wx.checkSession');
      return state.sessionCurrent;
    },
    request: async (o) => {
      if (o.url.endsWith('/login')) {
        state.logins += 1;
        state.sessionCurrent = true; // a new wx.login: WeChat's session_key and the backend's agree again
        const token = `L${state.logins}`;
        state.valid.set(token, state.clock + state.lifetime);
        return { statusCode: 200, data: { token, expiresAt: state.valid.get(token) }, header: {} };
      }
      if (o.url.endsWith('/refresh')) {
        state.refreshes += 1;
        if (state.refreshDelay) await delay(state.refreshDelay);
        if (opts.refreshFails) throw new Error('connection reset');
        const old = bearer(o);
        if (!state.valid.has(old)) return { statusCode: 401, data: { error: 'token_expired' }, header: {} };
        const expiresAt = opts.refreshKeepsExpiry ? state.valid.get(old) : state.clock + state.lifetime;
        state.valid.delete(old);
        const token = `R${state.refreshes}`;
        state.valid.set(token, expiresAt);
        return { statusCode: 200, data: { token, expiresAt }, header: {} };
      }
      const token = bearer(o);
      state.order.push(`${o.method} ${o.url.replace('https://api.example.com', '')}`);
      if (!state.valid.has(token) || state.valid.get(token) <= state.clock) {
        return { statusCode: 401, data: { error: token ? 'token_expired' : 'missing_token' }, header: {} };
      }
      return { statusCode: 200, data: { token, key: o.header['Idempotency-Key'] ?? null, body: o.data ?? null }, header: {} };
    },
  });
  state.auth = createAuth({
    wx: state.wx, appId: APP, baseUrl: 'https://api.example.com', loginUrl: '/login', refreshUrl: '/refresh',
    refreshAheadMs: 5 * MINUTE, now: () => state.clock,
  });
  state.calls = (suffix) => state.wx.requests((o) => o.url.endsWith(suffix));
  return state;
}

test('far from expiresAt nothing is refreshed', async () => {
  const b = backend();
  await b.auth.request({ url: '/me' });
  b.clock += 50 * MINUTE;
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'L1');
  assert.equal(b.refreshes, 0);
});

test('within refreshAheadMs of expiresAt the token is refreshed first: one refresh however many requests wait', async () => {
  const b = backend({ refreshDelay: 20 });
  await b.auth.request({ url: '/me' });
  b.clock += 56 * MINUTE; // 4 minutes left
  const results = await Promise.all(Array.from({ length: 20 }, () => b.auth.request({ url: '/me' })));
  assert.equal(b.refreshes, 1);
  assert.ok(results.every((r) => r.statusCode === 200 && r.data.token === 'R1'));
  assert.equal(bearer(b.calls('/refresh')[0].options), 'L1');
  assert.equal(b.calls('/refresh')[0].options.method, 'POST');
  assert.equal(b.wx.storage.get(`wxauth:${APP}:token`), 'R1');
  assert.equal(b.wx.storage.get(`wxauth:${APP}:expiresAt`), START + 56 * MINUTE + 60 * MINUTE);
  assert.equal(b.wx.count('login'), 1, 'no login: the user stayed logged in');
  b.clock += 10 * MINUTE;
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'R1');
  assert.equal(b.refreshes, 1);
});

test('a refresh whose answer was lost is never sent again; the old token is used until refused, then a login', async () => {
  const b = backend({ refreshFails: true });
  await b.auth.request({ url: '/me' });
  b.clock += 56 * MINUTE;
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'L1');
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'L1');
  assert.equal(b.refreshes, 1, 'REFRESH changed state (or may have): not repeated');
  b.clock += 5 * MINUTE; // expired: the next request logs in first
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'L2');
  assert.equal(b.refreshes, 1);
});

test('a refresh the backend refuses (session over) logs in again', async () => {
  const b = backend();
  await b.auth.request({ url: '/me' });
  b.valid.clear(); // revoked at the backend
  b.clock += 57 * MINUTE;
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'L2');
  assert.equal(b.refreshes, 1);
  assert.equal(b.wx.count('login'), 2);
});

test('a refresh that cannot move expiresAt (absolute deadline) is not repeated on every request', async () => {
  const b = backend({ refreshKeepsExpiry: true });
  await b.auth.request({ url: '/me' });
  b.clock += 56 * MINUTE;
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'R1');
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'R1');
  assert.equal(b.refreshes, 1);
});

test('a token already past expiresAt is not refreshed: the client logs in', async () => {
  const b = backend();
  await b.auth.request({ url: '/me' });
  b.clock += 61 * MINUTE;
  assert.equal((await b.auth.request({ url: '/me' })).data.token, 'L2');
  assert.equal(b.refreshes, 0);
  assert.equal(b.calls('/me').length, 2, 'no request was sent with the expired token');
});

test('user data: wx.checkSession first; a stale session_key means a new login before the data is fetched', async () => {
  const b = backend();
  await b.auth.request({ url: '/me' });
  b.sessionCurrent = false; // another wx.login elsewhere replaced the session_key at WeChat
  b.order.length = 0;
  const fetched = [];
  const res = await Promise.all([1, 2, 3].map((n) => b.auth.request({
    url: '/decrypt', method: 'POST', userData: true, idempotencyKey: `k${n}`,
    fetchUserData: async () => {
      fetched.push(b.order.length);
      return { encryptedData: `enc${n}`, iv: 'iv' };
    },
  })));
  assert.ok(res.every((r) => r.statusCode === 200 && r.data.token === 'L2'));
  assert.equal(b.wx.count('checkSession'), 1, 'one check in flight for everyone');
  assert.equal(b.wx.count('login'), 2, 'one new login');
  assert.deepEqual(b.order.slice(0, 2), ['wx.checkSession', 'wx.login']);
  assert.ok(fetched.every((at) => at >= 2), 'the data was fetched after the new login');
  assert.deepEqual(res.map((r) => r.data.body), [1, 2, 3].map((n) => ({ encryptedData: `enc${n}`, iv: 'iv' })));
});

test('user data with a current session_key: no login', async () => {
  const b = backend();
  await b.auth.request({ url: '/me' });
  const res = await b.auth.request({ url: '/decrypt', method: 'POST', userData: true, idempotencyKey: 'k' });
  assert.equal(res.data.token, 'L1');
  assert.equal(b.wx.count('checkSession'), 1);
  assert.equal(b.wx.count('login'), 1);
  assert.equal(await b.auth.ensureSessionKey(), 'L1');
});

test('a state-changing request without an idempotency marker is not replayed after a 401', async () => {
  const b = backend();
  b.wx.storage.set(`wxauth:${APP}:token`, 'OLD');
  await assert.rejects(b.auth.request({ url: '/orders', method: 'POST', data: { item: 1 } }),
    (err) => err.code === 'not_replayed' && err.reason === 'token_expired' && err.statusCode === 401);
  assert.equal(b.calls('/orders').length, 1, 'sent once');
  assert.equal(b.wx.count('login'), 1, 'the session was renewed for the next request');
  const again = await b.auth.request({ url: '/orders', method: 'POST', data: { item: 1 } });
  assert.equal(again.data.token, 'L1');
});

test('with an idempotency marker it is replayed once, with the same Idempotency-Key', async () => {
  const b = backend();
  b.wx.storage.set(`wxauth:${APP}:token`, 'OLD');
  const res = await b.auth.request({ url: '/orders', method: 'POST', data: { item: 1 }, idempotencyKey: 'order-42' });
  assert.equal(res.data.key, 'order-42');
  const sent = b.calls('/orders');
  assert.deepEqual(sent.map((c) => [bearer(c.options), c.options.header['Idempotency-Key']]), [['OLD', 'order-42'], ['L1', 'order-42']]);

  b.wx.storage.set(`wxauth:${APP}:token`, 'OLD2');
  await b.auth.request({ url: '/orders', method: 'PUT', idempotencyKey: true });
  const keys = b.calls('/orders').slice(2).map((c) => c.options.header['Idempotency-Key']);
  assert.equal(keys.length, 2);
  assert.ok(keys[0] && keys[0] === keys[1], 'a generated key is the same on the replay');
  for (const c of b.calls('/orders')) assert.equal(c.options.idempotencyKey, undefined, 'only the header goes out');
});
