// The package as a consumer sees it: every runtime export has a type declaration, every subpath in "exports"
// resolves to a file that is shipped, and the three client packages declare the same license.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(HERE, 'package.json'), 'utf8'));

/** Names a .d.ts declares or re-exports. */
function declared(file) {
  const text = fs.readFileSync(path.join(HERE, file), 'utf8');
  const names = new Set();
  for (const m of text.matchAll(/^export declare (?:const|function|class|let) (\w+)/gm)) names.add(m[1]);
  for (const m of text.matchAll(/^export (?:interface|type) (\w+)/gm)) names.add(m[1]);
  for (const m of text.matchAll(/^export \{([^}]*)\} from/gm)) {
    for (const name of m[1].split(',').map((s) => s.trim()).filter(Boolean)) names.add(name);
  }
  return names;
}

test('every runtime export of every entry point has a type declaration', async () => {
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue;
    const mod = await import(path.join(HERE, target.default));
    const types = declared(target.types);
    const missing = Object.keys(mod).filter((name) => !types.has(name));
    assert.deepEqual(missing, [], `${subpath}: exports without types`);
    assert.ok(pkg.files.includes(target.default.slice(2)) && pkg.files.includes(target.types.slice(2)), subpath);
  }
});

test('a real name and version, and the same license as the other client packages', () => {
  assert.equal(pkg.name, 'wxauthd-client');
  assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
  const mini = JSON.parse(fs.readFileSync(path.join(HERE, '..', 'miniprogram', 'package.json'), 'utf8'));
  const pyproject = fs.readFileSync(path.join(HERE, '..', 'python', 'pyproject.toml'), 'utf8');
  assert.equal(mini.license, pkg.license);
  assert.ok(pyproject.includes(`license = { text = "${pkg.license}`), 'pyproject.toml declares the same license');
  assert.equal(mini.version, pkg.version);
  assert.ok(pyproject.includes(`version = "${pkg.version}"`));
});
