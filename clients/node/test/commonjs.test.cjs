// CommonJS consumers: the package is ES modules only, and Node >= 20.19 / 22.12 loads it with require()
// (require(esm)); on older Node, CommonJS code uses `await import('wxauthd-client')` (README "CommonJS").
const { test } = require('node:test');
const assert = require('node:assert/strict');

const [major, minor] = process.versions.node.split('.').map(Number);
const requireEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);

test('require() of the package gives the same exports as import', { skip: !requireEsm && 'Node without require(esm)' }, async () => {
  const required = require('../index.js');
  const imported = await import('../index.js');
  assert.deepEqual(Object.keys(required).sort(), Object.keys(imported).sort());
  assert.equal(required.WxAuthClient, imported.WxAuthClient);
  assert.equal(typeof required.parseNodes, 'function');
});

test('dynamic import works from CommonJS on every supported Node', async () => {
  const { WxAuthClient, Status } = await import('../index.js');
  assert.equal(typeof WxAuthClient, 'function');
  assert.equal(Status.SHUTTING_DOWN, 0x33);
});
