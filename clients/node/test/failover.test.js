// Several wxauthd nodes: the client moves on when a node is lost or answers a status about itself, and repeats the
// request on the next node only when it is safe to (PROTOCOL.md "Clients and several nodes").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  ConnectionLostError, InvalidTokenError, Op, RequestTimeoutError, ShuttingDownError, Status, WxAuthClient,
  encodeResponse, errorForStatus, isSafeToRepeat, movesToAnotherNode, parseNodes,
} from '../index.js';
import { startScripted } from '../testing/scripted.js';
import { mintCode, startWxauthd, wxauthdSkipReason } from '../testing/servers.js';

const skip = wxauthdSkipReason();
const TOKEN = 'A'.repeat(44);
const shuttingDown = (req, send) => send(encodeResponse(req.requestId, req.op, { status: Status.SHUTTING_DOWN, message: 'scripted' }));
const hangUp = (req, send) => send(null, true);
const ops = (scripted) => scripted.received.map((r) => r.op);

async function refusedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('the rule as a table', () => {
  for (const op of ['PING', 'VALIDATE', 'DECRYPT', 'VERIFY_SIGNATURE', 'CHECK_SESSION_KEY', 'LOGIN']) assert.ok(isSafeToRepeat(op), op);
  for (const op of ['REFRESH', 'REVOKE', 'REVOKE_USER', 'RESET_SESSION_KEY', 'PHONE_NUMBER', 'AUTH']) assert.ok(!isSafeToRepeat(op), op);
  assert.ok(isSafeToRepeat(Op.VALIDATE));
  assert.ok(movesToAnotherNode(new ConnectionLostError('x')));
  assert.ok(movesToAnotherNode(new RequestTimeoutError('x')));
  for (const status of [Status.SHUTTING_DOWN, Status.STORE_UNAVAILABLE, Status.SERVER_FULL, Status.INTERNAL_ERROR]) {
    const err = errorForStatus(status, { message: 'm' });
    assert.ok(err.retryable && movesToAnotherNode(err), String(status));
  }
  for (const status of [Status.WECHAT_UNAVAILABLE, Status.RATE_LIMITED, Status.INVALID_TOKEN, Status.NOT_AUTHORIZED, 0x3e]) {
    assert.ok(!movesToAnotherNode(errorForStatus(status, { message: 'm' })), String(status));
  }
  assert.deepEqual(parseNodes(['10.0.0.1:7400', { host: 'h', port: 7401 }, '[::1]:7402']),
    [{ host: '10.0.0.1', port: 7400 }, { host: 'h', port: 7401 }, { host: '::1', port: 7402 }]);
  for (const bad of [['nohost'], [':1'], ['h:0'], []]) assert.throws(() => parseNodes(bad), TypeError);
});

test('a killed node is left and the client continues on the other', { skip }, async () => {
  const first = await startWxauthd();
  const second = await startWxauthd();
  const client = new WxAuthClient({ nodes: [`127.0.0.1:${first.port}`, { host: '127.0.0.1', port: second.port }], timeout: 10000 });
  try {
    const onFirst = await client.login(first.devAppId, (await mintCode(first.simulator, first.devAppId, 'alice')).code);
    assert.equal((await client.validate(onFirst.token)).openid, onFirst.session.openid);
    assert.deepEqual(client.currentNode, { host: '127.0.0.1', port: first.port });
    const exited = new Promise((resolve) => first.proc.once('exit', resolve));
    first.proc.kill('SIGKILL');
    await exited;
    assert.ok((await client.ping()) > 0); // PING is safe to repeat: answered by the other node
    assert.deepEqual(client.currentNode, { host: '127.0.0.1', port: second.port });
    const onSecond = await client.login(second.devAppId, (await mintCode(second.simulator, second.devAppId, 'bob')).code);
    const refreshed = await client.refresh(onSecond.token);
    assert.equal((await client.validate(refreshed.token)).openid, onSecond.session.openid);
    // In-memory nodes share no sessions (a Redis store does): the first node's token is unknown here.
    await assert.rejects(client.validate(onFirst.token), InvalidTokenError);
  } finally {
    client.close();
    await first.stop();
    await second.stop();
  }
});

test('SHUTTING_DOWN moves the client; only requests safe to repeat go again', { skip }, async () => {
  const draining = await startScripted(shuttingDown);
  const node = await startWxauthd();
  const nodes = [{ host: '127.0.0.1', port: draining.port }, { host: '127.0.0.1', port: node.port }];
  const first = new WxAuthClient({ nodes });
  const second = new WxAuthClient({ nodes });
  try {
    await assert.rejects(first.revoke(TOKEN), ShuttingDownError); // may have changed state: not repeated
    assert.deepEqual(ops(draining), ['REVOKE']);
    const issued = await first.login(node.devAppId, (await mintCode(node.simulator, node.devAppId, 'dave')).code);
    assert.deepEqual(first.currentNode, nodes[1]);
    assert.equal((await second.validate(issued.token)).openid, issued.session.openid); // repeated on the next node
    assert.deepEqual(ops(draining), ['REVOKE', 'VALIDATE']);
  } finally {
    first.close();
    second.close();
    await draining.close();
    await node.stop();
  }
});

test('a lost connection repeats LOGIN but never REFRESH', { skip }, async () => {
  const lost = await startScripted(hangUp);
  const node = await startWxauthd();
  const nodes = [{ host: '127.0.0.1', port: lost.port }, { host: '127.0.0.1', port: node.port }];
  const first = new WxAuthClient({ nodes });
  const second = new WxAuthClient({ nodes });
  try {
    const issued = await first.login(node.devAppId, (await mintCode(node.simulator, node.devAppId, 'erin')).code);
    assert.deepEqual(ops(lost), ['LOGIN']);
    await assert.rejects(second.refresh(issued.token), ConnectionLostError);
    assert.deepEqual(ops(lost), ['LOGIN', 'REFRESH']);
    // The refresh never reached the live node: the session is unchanged there.
    assert.equal((await second.validate(issued.token)).openid, issued.session.openid);
  } finally {
    first.close();
    second.close();
    await lost.close();
    await node.stop();
  }
});

test('a node down at start is skipped, and nothing was sent to it', { skip }, async () => {
  const node = await startWxauthd();
  const client = new WxAuthClient({ nodes: [{ host: '127.0.0.1', port: await refusedPort() }, { host: '127.0.0.1', port: node.port }] });
  try {
    await assert.rejects(client.refresh(TOKEN), InvalidTokenError);
    assert.deepEqual(client.currentNode, { host: '127.0.0.1', port: node.port });
  } finally {
    client.close();
    await node.stop();
  }
});

test('leaving a node lets it answer what it was already asked', { skip }, async () => {
  const held = [];
  const draining = await startScripted((req, send) => {
    if (req.op === 'PING') {
      held.push(req.requestId);
      return;
    }
    send(encodeResponse(req.requestId, req.op, { status: Status.SHUTTING_DOWN, message: 'scripted' }));
    const ids = held.splice(0);
    // A draining node finishes slower work after it refused new work.
    setTimeout(() => send(Buffer.concat(ids.map((id) => encodeResponse(id, 'PING', { serverTime: 42 })))), 300);
  });
  const node = await startWxauthd();
  const nodes = [{ host: '127.0.0.1', port: draining.port }, { host: '127.0.0.1', port: node.port }];
  const client = new WxAuthClient({ nodes });
  try {
    const ping = client.ping();
    while (draining.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(client.validate(TOKEN), InvalidTokenError); // repeated on the next node
    assert.equal(await ping, 42, "the PING in flight got the draining node's own answer");
    assert.deepEqual(client.currentNode, nodes[1]);
  } finally {
    client.close();
    await draining.close();
    await node.stop();
  }
});
