// Test helpers shared by the Node and mini program suites: paths, the vectors file, starting a real wxauthd (port 0)
// or the Python fake server, minting login codes at the simulator.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const NODE_DIR = path.resolve(HERE, '..');
export const CLIENTS_DIR = path.resolve(NODE_DIR, '..');
export const REPO_DIR = path.resolve(CLIENTS_DIR, '..');
export const PYTHON_DIR = path.join(CLIENTS_DIR, 'python');
export const VECTORS_PATH = process.env.WXAUTH_VECTORS || path.join(REPO_DIR, 'protocol', 'vectors', 'vectors.json');
export const PROTOCOL_MD = path.join(REPO_DIR, 'protocol', 'PROTOCOL.md');
const READY_TIMEOUT_MS = Number(process.env.WXAUTHD_READY_TIMEOUT || 30) * 1000;

export function loadVectors() {
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8'));
}

export function wxauthdBin() {
  return process.env.WXAUTHD_BIN || path.join(REPO_DIR, '.build', 'debug', 'wxauthd');
}

/** undefined when the real server can be used, else the reason to skip (or fail, with WXAUTH_REQUIRE_SERVER=1). */
export function wxauthdSkipReason() {
  const bin = wxauthdBin();
  if (existsSync(bin)) return undefined;
  const reason = `wxauthd binary not found at ${bin} (build it or set WXAUTHD_BIN)`;
  if (process.env.WXAUTH_REQUIRE_SERVER && process.env.WXAUTH_REQUIRE_SERVER !== '0') {
    throw new Error(reason);
  }
  return reason;
}

function stopProcess(proc, timeoutMs = 10000) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    proc.kill('SIGTERM');
  });
}

/** Resolves with the parsed first stdout line of `proc` (a {"event":"ready",...} object). */
function readReadyLine(proc, what, timeoutMs = READY_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const fail = (msg) => {
      cleanup();
      stopProcess(proc).finally(() => reject(new Error(`${what}: ${msg}`)));
    };
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      cleanup();
      proc.stdout.resume(); // keep draining
      let ready;
      try {
        ready = JSON.parse(buf.slice(0, nl));
      } catch {
        return fail(`first stdout line is not JSON: ${buf.slice(0, 200)}`);
      }
      if (ready.event !== 'ready') return fail(`unexpected first line ${buf.slice(0, 200)}`);
      resolve(ready);
    };
    const onExit = (code) => fail(`exited with ${code} before it was ready`);
    function cleanup() {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
    }
    proc.stdout.on('data', onData);
    proc.once('exit', onExit);
  });
}

function spawnLogged(cmd, args, env) {
  const dir = mkdtempSync(path.join(tmpdir(), 'wxauth-node-test-'));
  const logPath = path.join(dir, 'stderr.log');
  const fd = openSync(logPath, 'w');
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', fd], env: env ?? process.env });
  closeSync(fd);
  return { proc, logPath };
}

/** Starts `wxauthd --dev --port 0 --sim-port 0 ...extra` and resolves once it printed its ready line. */
export async function startWxauthd(...extra) {
  const { proc, logPath } = spawnLogged(wxauthdBin(), ['--dev', '--port', '0', '--sim-port', '0', ...extra]);
  const ready = await readReadyLine(proc, 'wxauthd');
  return {
    proc,
    host: ready.host,
    port: ready.port,
    simulator: ready.simulator.replace(/\/$/, ''),
    devAppId: ready.dev_app_id,
    logs: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    stop: () => stopProcess(proc),
  };
}

/** Starts the Python fake server (`python3 -m wxauth.testing ...args`). */
export async function startFakeServer(...args) {
  const python = process.env.PYTHON || 'python3';
  const env = { ...process.env, PYTHONPATH: [PYTHON_DIR, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  const { proc, logPath } = spawnLogged(python, ['-m', 'wxauth.testing', '--port', '0', ...args], env);
  const ready = await readReadyLine(proc, 'fake wxauthd');
  return {
    proc,
    host: ready.host,
    port: ready.port,
    devAppId: ready.dev_app_id,
    logs: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    stop: () => stopProcess(proc),
  };
}

/** POST {simulator}/sim/code -> { code, openid }. */
export async function mintCode(simulator, appId, user) {
  const res = await fetch(`${simulator}/sim/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appid: appId, user }),
  });
  if (!res.ok) throw new Error(`simulator answered ${res.status}`);
  return res.json();
}
