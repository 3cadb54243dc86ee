#!/usr/bin/env bash
# VALIDATE latency of every client, in one run against one `wxauthd --dev`: N sequential calls on one connection
# (after unmeasured warm-up calls), p50/p90/p99 per client. Swift is the `wxauth` CLI's client (WXAuthClient).
#   clients/bench-validate.sh [N]        (default 10000; WXAUTHD_BIN / WXAUTH_BIN override the binaries)
# Needs what the client suites need (python3, node, go, JDK 17, php). Loopback only; the server it starts is stopped.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N=${1:-10000}
WXAUTHD="${WXAUTHD_BIN:-$HERE/../.build/debug/wxauthd}"
WXAUTH="${WXAUTH_BIN:-$(dirname "$WXAUTHD")/wxauth}"
WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

"$WXAUTHD" --dev --port 0 --sim-port 0 --log-level warning >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 200); do grep -q '"event":"ready"' "$WORK/out" 2>/dev/null && break; sleep 0.05; done
READY=$(grep '"event":"ready"' "$WORK/out")
PORT=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["port"])' "$READY")
SIM=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["simulator"])' "$READY")
APP=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["dev_app_id"])' "$READY")
CODE=$("$WXAUTH" mint-code --sim "$SIM" --app "$APP" --user bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
TOKEN=$("$WXAUTH" login --port "$PORT" --json --app "$APP" --code "$CODE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
ADDRESS="127.0.0.1:$PORT"
echo "VALIDATE x$N, one connection each, against $(basename "$WXAUTHD") --dev on $ADDRESS ($(nproc) cores)"

"$WXAUTH" validate --port "$PORT" --repeat "$N" "$TOKEN"
(cd "$HERE/go" && go run ./cmd/wxauth-bench -addr "$ADDRESS" -token "$TOKEN" -n "$N")
"$HERE/java/run-tests.sh" --bench "$N" "$ADDRESS" "$TOKEN"
php "$HERE/php/bench/validate-bench.php" "$N" "$ADDRESS" "$TOKEN"
PYTHONPATH="$HERE/python" python3 - "$PORT" "$TOKEN" "$N" <<'PY'
import sys, time
from wxauth import Client
port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with Client("127.0.0.1", port) as client:
    for _ in range(1000):
        client.validate(token)
    latencies = []
    started = time.perf_counter_ns()
    for _ in range(n):
        sent = time.perf_counter_ns()
        client.validate(token)
        latencies.append(time.perf_counter_ns() - sent)
    total = (time.perf_counter_ns() - started) / 1e9
latencies.sort()
print(f"python: VALIDATE x{n} sequential on one connection: p50 {latencies[n // 2] / 1e3:.1f} us, "
      f"p90 {latencies[n * 9 // 10] / 1e3:.1f} us, p99 {latencies[n * 99 // 100] / 1e3:.1f} us, "
      f"max {latencies[-1] / 1e3:.1f} us, {n / total:.0f} calls/s")
PY
node --input-type=module - "$PORT" "$TOKEN" "$N" "$HERE/node/index.js" <<'JS'
const [port, token, count, entry] = process.argv.slice(2);
const { WxAuthClient } = await import(entry);
const n = Number(count);
const client = new WxAuthClient({ host: '127.0.0.1', port: Number(port) });
for (let i = 0; i < 1000; i++) await client.validate(token);
const latencies = [];
const started = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const sent = process.hrtime.bigint();
  await client.validate(token);
  latencies.push(Number(process.hrtime.bigint() - sent));
}
const total = Number(process.hrtime.bigint() - started) / 1e9;
latencies.sort((a, b) => a - b);
const us = (v) => (v / 1e3).toFixed(1);
console.log(`node: VALIDATE x${n} sequential on one connection: p50 ${us(latencies[n >> 1])} us, p90 ${us(latencies[Math.floor(n * 0.9)])} us, p99 ${us(latencies[Math.floor(n * 0.99)])} us, max ${us(latencies[n - 1])} us, ${(n / total).toFixed(0)} calls/s`);
await client.close();
JS
