// WxAuthClient against a real `wxauthd --dev` (skipped when the binary is missing, unless WXAUTH_REQUIRE_SERVER=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidTokenError, TokenExpiredError, TokenRevokedError, UnknownAppError, WeChatRejectedError, WxAuthClient,
} from '../index.js';
import { mintCode, startWxauthd, wxauthdSkipReason } from '../testing/servers.js';

const skip = wxauthdSkipReason();
let server;
let client;

const mint = (user) => mintCode(server.simulator, server.devAppId, user);

before(async () => {
  if (skip) return;
  server = await startWxauthd();
  client = new WxAuthClient({ host: server.host, port: server.port, timeout: 10000 });
});

after(async () => {
  client?.close();
  await server?.stop();
});

test('HELLO and ping', { skip }, async () => {
  assert.ok(Math.abs((await client.ping()) - Date.now()) < 5000);
  assert.equal(client.hello.authRequired, false);
  assert.equal(client.hello.nonce.length, 32);
});

test('login and validate', { skip }, async () => {
  const { code, openid } = await mint('alice');
  const issued = await client.login(server.devAppId, code);
  assert.match(issued.token, /^[A-Za-z0-9_-]{44}$/);
  assert.equal(issued.session.openid, openid);
  assert.equal(issued.session.appId, server.devAppId);
  assert.ok(issued.session.expiresAt <= issued.session.absoluteExpiresAt);
  const s = await client.validate(issued.token);
  assert.equal(s.absoluteExpiresAt, issued.session.absoluteExpiresAt);
  assert.ok(s.expiresAt >= issued.session.expiresAt);
});

test('code reuse and unknown app', { skip }, async () => {
  const { code } = await mint('bob');
  const first = await client.login(server.devAppId, code);
  // A used code never makes a second session: WECHAT_REJECTED 40163, or (PROTOCOL.md leaves it open) a replay
  // of the first outcome.
  try {
    const again = await client.login(server.devAppId, code);
    assert.equal(again.token, first.token);
    assert.deepEqual(again.session, first.session);
  } catch (e) {
    assert.ok(e instanceof WeChatRejectedError && e.errcode === 40163, String(e));
  }
  await assert.rejects(client.login(server.devAppId, '081invalidEXAMPLEcode'), WeChatRejectedError);
  await assert.rejects(client.login('wxnotconfigured01', (await mint('bob')).code), UnknownAppError);
});

test('refresh rotates; a repeat within the grace window returns the same token', { skip }, async () => {
  const issued = await client.login(server.devAppId, (await mint('carol')).code);
  const rotated = await client.refresh(issued.token);
  assert.notEqual(rotated.token, issued.token);
  assert.equal(rotated.session.createdAt, issued.session.createdAt);
  assert.equal((await client.refresh(issued.token)).token, rotated.token);
  assert.equal((await client.validate(rotated.token)).openid, issued.session.openid);
});

test('unknown well-formed token is invalid', { skip }, async () => {
  await assert.rejects(client.validate('A'.repeat(44)), InvalidTokenError);
});

test('revoke and revokeUser', { skip }, async () => {
  const a = await mint('dave');
  const t1 = (await client.login(server.devAppId, a.code)).token;
  const t2 = (await client.login(server.devAppId, (await mint('dave')).code)).token;
  const t3 = (await client.login(server.devAppId, (await mint('dave')).code)).token;
  await client.revoke(t1);
  await assert.rejects(client.revoke(t1), TokenRevokedError);
  assert.equal(await client.revokeUser(server.devAppId, a.openid), 2);
  assert.equal(await client.revokeUser(server.devAppId, a.openid), 0);
  for (const t of [t2, t3]) await assert.rejects(client.validate(t), (e) => e instanceof TokenRevokedError || e instanceof InvalidTokenError);
});

test('100 concurrent validates pipelined on one connection', { skip }, async () => {
  const { token, session } = await client.login(server.devAppId, (await mint('erin')).code);
  const conn = await client.connect();
  const sessions = await Promise.all(Array.from({ length: 100 }, () => client.validate(token)));
  assert.ok(sessions.every((s) => s.openid === session.openid));
  const settled = await client.batch([{ op: 'VALIDATE', token }, { op: 'VALIDATE', token: 'B'.repeat(44) }, { op: 'PING' }]);
  assert.equal(settled[0].value.openid, session.openid);
  assert.ok(settled[1].reason instanceof InvalidTokenError);
  assert.equal(typeof settled[2].value, 'number');
  assert.equal(await client.connect(), conn);
});

test('idle timeout expires the session', { skip }, async () => {
  const short = await startWxauthd('--idle-timeout', '1');
  const c = new WxAuthClient({ host: short.host, port: short.port });
  try {
    const { code } = await mintCode(short.simulator, short.devAppId, 'frank');
    const { token } = await c.login(short.devAppId, code);
    await new Promise((r) => setTimeout(r, 1500));
    await assert.rejects(c.validate(token), TokenExpiredError);
  } finally {
    c.close();
    await short.stop();
  }
});
