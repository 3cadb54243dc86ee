'use strict';
// End-to-end driver: the real mini program client (wxauth-mp.js) with a `wx` whose login mints a real code at the
// WeChat simulator and whose request does real HTTP to the example backend. Run by clients/python/tests/test_e2e.py.
//
// env: BACKEND_URL, APP_ID, SIMULATOR (empty: codes "<user>.<n>" for the fake server), IDLE_WAIT_MS,
//      WXAUTH_E2E_SECRETS_FILE (where the tokens seen are written, so the test can grep logs for them),
//      EDGE=1: BACKEND_URL is nginx with deploy/nginx/wxauth.conf in front of wxauthd's HTTP edge and an app whose
//      /api/me answers {openid, appId} from the headers nginx set (refusals: bodiless 401 + X-WXAuth-Reason).
// Prints one JSON line with the outcome; exits 1 when a check fails.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const { createAuth } = require('../wxauth-mp.js');
const { createFakeWx, bearer, delay } = require('../testing/fake-wx.js');

const BACKEND_URL = process.env.BACKEND_URL;
const APP_ID = process.env.APP_ID;
const SIMULATOR = process.env.SIMULATOR || '';
const IDLE_WAIT_MS = Number(process.env.IDLE_WAIT_MS || 2500);
const USER = 'e2e-user';
const EDGE = process.env.EDGE === '1';
const ME = EDGE ? '/api/me' : '/me';

let localCodes = 0;
const minted = [];

async function mintCode() {
  if (!SIMULATOR) {
    localCodes += 1;
    minted.push({ openid: `o-${USER}` });
    return `${USER}.${localCodes}`;
  }
  const res = await fetch(`${SIMULATOR}/sim/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appid: APP_ID, user: USER }),
  });
  if (!res.ok) throw new Error(`simulator answered ${res.status}`);
  const body = await res.json();
  minted.push({ openid: body.openid });
  return body.code;
}

async function httpRequest(o) {
  const headers = { ...(o.header || {}) };
  let body;
  if (o.data !== undefined && o.method !== 'GET') {
    body = typeof o.data === 'string' ? o.data : JSON.stringify(o.data);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const res = await fetch(o.url, { method: o.method || 'GET', headers, body, signal: AbortSignal.timeout(15000) });
  const text = await res.text();
  let data = text;
  try {
    data = text ? JSON.parse(text) : '';
  } catch {
    // leave as text, as wx.request does for non-JSON bodies
  }
  return { statusCode: res.status, data, header: Object.fromEntries(res.headers) };
}

async function main() {
  const answers = []; // every /me answer as the backend gave it
  const wx = createFakeWx({
    login: mintCode,
    request: async (o) => {
      const res = await httpRequest(o);
      if (o.url.endsWith('/me')) answers.push({ status: res.statusCode, error: (res.data && res.data.error) || res.header['x-wxauth-reason'], bearer: bearer(o) });
      return res;
    },
  });
  const auth = createAuth({ wx, appId: APP_ID, baseUrl: BACKEND_URL, loginUrl: '/login' });
  const tokens = new Set();
  const out = { steps: [] };

  // 1-5: first request logs in, stores the token, sends it as Bearer.
  const first = await auth.request({ url: ME });
  assert.equal(first.statusCode, 200);
  assert.deepEqual(first.data, { openid: minted[0].openid, appId: APP_ID });
  assert.equal(wx.count('login'), 1);
  const token1 = wx.storage.get(`wxauth:${APP_ID}:token`);
  assert.equal(typeof token1, 'string');
  assert.equal(token1.length, 44);
  tokens.add(token1);
  assert.equal((await auth.request({ url: ME })).statusCode, 200);
  assert.equal(wx.count('login'), 1, 'the stored token is reused');
  out.steps.push('login');

  // 7: the session expires while idle; several requests hit the expiry at once -> one login, one replay each.
  await delay(IDLE_WAIT_MS);
  const mark = answers.length;
  const results = await Promise.all(Array.from({ length: 5 }, () => auth.request({ url: ME })));
  assert.ok(results.every((r) => r.statusCode === 200 && r.data.openid === minted[0].openid), JSON.stringify(results.map((r) => r.data)));
  assert.equal(wx.count('login'), 2, 'exactly one re-login for 5 concurrent requests');
  const token2 = wx.storage.get(`wxauth:${APP_ID}:token`);
  assert.notEqual(token2, token1);
  tokens.add(token2);
  const after = answers.slice(mark);
  const refused = after.filter((a) => a.status === 401);
  assert.equal(refused.length, 5, 'each request was refused once');
  assert.ok(refused.every((a) => a.bearer === token1));
  assert.equal(after.filter((a) => a.status === 200 && a.bearer === token2).length, 5, 'and replayed once');
  out.expiredReasons = [...new Set(refused.map((a) => a.error))];
  out.steps.push('expired-and-relogged');

  // Revocation (logout at the backend): the next request logs in again once.
  const logout = await httpRequest({ url: `${BACKEND_URL}/logout`, method: 'POST', header: { Authorization: `Bearer ${token2}` } });
  assert.equal(logout.statusCode, EDGE ? 200 : 204);
  const third = await auth.request({ url: ME });
  assert.equal(third.statusCode, 200);
  assert.equal(wx.count('login'), 3);
  assert.equal(answers.at(-2).error, EDGE ? 'revoked' : 'token_revoked');
  tokens.add(wx.storage.get(`wxauth:${APP_ID}:token`));
  out.steps.push('revoked-and-relogged');

  // Kept logged in: with a refresh URL and a refresh window longer than the session, the next request refreshes
  // first (one refresh), goes out with the new token, and the old token is refused from then on.
  const refreshing = createAuth({ wx, appId: APP_ID, baseUrl: BACKEND_URL, loginUrl: '/login', refreshUrl: '/refresh',
    refreshAheadMs: 365 * 24 * 3600 * 1000 });
  const beforeRefresh = wx.storage.get(`wxauth:${APP_ID}:token`);
  const refreshed = await refreshing.request({ url: ME });
  assert.equal(refreshed.statusCode, 200);
  const afterRefresh = wx.storage.get(`wxauth:${APP_ID}:token`);
  assert.notEqual(afterRefresh, beforeRefresh);
  assert.equal(answers.at(-1).bearer, afterRefresh);
  assert.equal(wx.requests((o) => o.url.endsWith('/refresh')).length, 1);
  assert.equal(wx.count('login'), 3, 'refreshing needs no login');
  const stale = await httpRequest({ url: `${BACKEND_URL}${ME}`, header: { Authorization: `Bearer ${beforeRefresh}` } });
  assert.equal(stale.statusCode, 401);
  tokens.add(afterRefresh);
  out.steps.push('refreshed-ahead');

  // Storage holds only the namespaced keys.
  assert.deepEqual([...wx.storage.keys()].sort(), [`wxauth:${APP_ID}:expiresAt`, `wxauth:${APP_ID}:token`]);
  out.logins = wx.count('login');
  out.meRequests = answers.length;
  if (process.env.WXAUTH_E2E_SECRETS_FILE) fs.writeFileSync(process.env.WXAUTH_E2E_SECRETS_FILE, [...tokens].join('\n'));
  out.ok = true;
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.log(JSON.stringify({ ok: false, error: String(err && err.stack || err) }));
  process.exit(1);
});
