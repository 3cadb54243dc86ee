// User data against a real `wxauthd --dev`: DECRYPT, VERIFY_SIGNATURE, PHONE_NUMBER, CHECK/RESET_SESSION_KEY.
// The embedded simulator encrypts with the user's current session_key, as WeChat does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DecryptFailedError, SignatureMismatchError, WeChatRejectedError, WxAuthClient } from '../index.js';
import { mintCode, startWxauthd, wxauthdSkipReason } from '../testing/servers.js';

const skip = wxauthdSkipReason();
let server;
let client;

async function sim(path, body) {
  const res = await fetch(`${server.simulator}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return res.json();
}

const login = async (user) => client.login(server.devAppId, (await mintCode(server.simulator, server.devAppId, user)).code);

before(async () => {
  if (skip) return;
  server = await startWxauthd();
  client = new WxAuthClient({ host: server.host, port: server.port, timeout: 10000 });
});

after(async () => {
  client?.close();
  await server?.stop();
});

test('decrypt, signature, rotated key, check and reset', { skip }, async () => {
  const older = await login('node-ud');
  const issued = await login('node-ud'); // WeChat replaces the session_key
  const info = await sim('/sim/encrypt', { appid: server.devAppId, user: 'node-ud', data: { nickName: 'Nodé' } });
  const data = await client.decrypt(issued.token, info.encryptedData, info.iv);
  assert.equal(JSON.parse(data).nickName, 'Nodé');
  assert.equal(JSON.parse(data).watermark.appid, server.devAppId);
  await assert.rejects(client.decrypt(older.token, info.encryptedData, info.iv), (e) =>
    e instanceof DecryptFailedError && e.reason === 'bad_padding_or_key' && !e.retryable && /log in again/.test(e.message));
  await assert.rejects(client.decrypt(issued.token, '%%%', info.iv), (e) => e.reason === 'bad_base64');

  await client.verifySignature(issued.token, info.rawData, info.signature);
  await assert.rejects(client.verifySignature(issued.token, `${info.rawData} `, info.signature), SignatureMismatchError);

  assert.equal(await client.checkSessionKey(issued.token), true);
  assert.equal(await client.checkSessionKey(older.token), false);
  await client.resetSessionKey(issued.token);
  const fresh = await sim('/sim/encrypt', { appid: server.devAppId, user: 'node-ud', data: { city: 'Shenzhen' } });
  assert.equal(JSON.parse(await client.decrypt(issued.token, fresh.encryptedData, fresh.iv)).city, 'Shenzhen');
});

test('phone numbers (concurrent, single-use codes)', { skip }, async () => {
  const issued = await login('node-phone');
  const codes = await Promise.all([0, 1, 2, 3].map((i) =>
    sim('/sim/phone-code', { appid: server.devAppId, user: 'node-phone', phone: `+86 1390013900${i}` })));
  const phones = await Promise.all(codes.map(({ code }) => client.phoneNumber(issued.token, code)));
  assert.deepEqual(phones.map((p) => p.purePhoneNumber), ['13900139000', '13900139001', '13900139002', '13900139003']);
  assert.equal(phones[0].countryCode, '86');
  await assert.rejects(client.phoneNumber(issued.token, codes[0].code), (e) => e instanceof WeChatRejectedError && e.errcode === 40163);
});
