#!/usr/bin/env bash
# The shared store (issue 13), one run: a 3+3 Redis Cluster, wechat-sim and wxauthd nodes on loopback, release
# build. Measures, with the same load generator (wxauth-bench):
#   - VALIDATE on one node with the near cache warm;
#   - VALIDATE with the cache off (--near-cache-capacity 0: one Redis round trip each);
#   - a raw Redis GET through the same client stack (WXAuthRedis's RedisConnection, a standalone redis-server);
#   - throughput of two nodes vs one;
#   - revocation visibility: REVOKE on node A until node B refuses, p50/p99 over TRIALS trials;
#   - resident bytes per session in Redis (MEMORY USAGE of session keys, and used_memory growth per session).
#   benchmarks/shared-store.sh           SESSIONS=50000 DURATION=10 TRIALS=10000
#   QUICK=1 benchmarks/shared-store.sh   a short smoke run
# Writes benchmarks/results/shared-store-<stamp>.md and shared-store-latest.md. Everything on 127.0.0.1; every
# process it starts is stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-0}" = "1" ]; then
    SESSIONS=${SESSIONS:-2000}; DURATION=${DURATION:-2}; WARMUP=${WARMUP:-0.5}; TRIALS=${TRIALS:-300}
else
    SESSIONS=${SESSIONS:-50000}; DURATION=${DURATION:-10}; WARMUP=${WARMUP:-2}; TRIALS=${TRIALS:-10000}
fi
SCRATCH=${SCRATCH:-.build-release}
CONNECTIONS=${CONNECTIONS:-50}

echo "== release build (swift build -c release --scratch-path $SCRATCH)" >&2
for product in wxauthd wxauth-bench wechat-sim; do swift build -c release --scratch-path "$SCRATCH" --product "$product" >&2; done
BIN="$SCRATCH/release"
BENCH="$BIN/wxauth-bench"

source scripts/lib/redis-cluster.sh
work_dir wxauth-shared-bench
read -r -a PORTS <<<"$(free_ports 12)"
REDIS_PORTS=("${PORTS[@]:0:6}")
SIM_PORT=${PORTS[6]}; NODE1=${PORTS[7]}; NODE2=${PORTS[8]}; COLD=${PORTS[9]}; PLAIN_REDIS=${PORTS[10]}

echo "== Redis Cluster 3+3 on ${REDIS_PORTS[*]}, standalone redis on $PLAIN_REDIS" >&2
REDIS_FLAGS=(--appendonly no)
start_redis_cluster "${REDIS_PORTS[@]}"
redis-server --port "$PLAIN_REDIS" --bind 127.0.0.1 --save '' --appendonly no --logfile "$WORK/plain.log" &
PLAIN_PID=$!
PIDS+=($PLAIN_PID)
for _ in $(seq 100); do redis-cli -p "$PLAIN_REDIS" ping >/dev/null 2>&1 && break; sleep 0.05; done
PRIMARIES=$(for port in "${REDIS_PORTS[@]}"; do if redis-cli -p "$port" role | head -1 | grep -q master; then echo "$port"; fi; done)
used_memory() { for port in $PRIMARIES; do redis-cli -p "$port" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; done | awk '{s+=$1} END {print s}'; }

APP=wxbenchapp000001
export WXAUTH_SECRET_BENCH="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
"$BIN/wechat-sim" --port "$SIM_PORT" --app "$APP:$WXAUTH_SECRET_BENCH" --code-lifetime-s 3600 --log-level warning >"$WORK/sim.out" 2>&1 &
PIDS+=($!)
export WXAUTH_KEY_1="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
cat >"$WORK/wxauthd.json" <<JSON
{"apps": [{"app_id": "$APP", "secret_env": "WXAUTH_SECRET_BENCH"}],
 "keys": [{"id": 1, "secret_hex_env": "WXAUTH_KEY_1"}],
 "wechat": {"base_url": "http://127.0.0.1:$SIM_PORT"},
 "login_rate_per_app": {"per_second": 100000, "burst": 100000},
 "login_rate_per_user": {"per_second": 1000, "burst": 1000}}
JSON
SEEDS=$(redis_seeds "${REDIS_PORTS[@]}")
start_node() {  # $1 port, rest extra flags
    local port=$1; shift
    "$BIN/wxauthd" --config "$WORK/wxauthd.json" --host 127.0.0.1 --port "$port" --store "$SEEDS" --log-level warning "$@" \
        >"$WORK/node-$port.out" 2>"$WORK/node-$port.err" &
    PIDS+=($!)
    for _ in $(seq 200); do grep -q '"event":"ready"' "$WORK/node-$port.out" 2>/dev/null && return; sleep 0.05; done
    echo "wxauthd on $port did not start" >&2; cat "$WORK/node-$port.err" >&2; exit 1
}
start_node "$NODE1"; NODE1_PID=${PIDS[-1]}
start_node "$NODE2"; NODE2_PID=${PIDS[-1]}
start_node "$COLD" --near-cache-capacity 0; COLD_PID=${PIDS[-1]}

RUNS="$WORK/runs.jsonl"; : >"$RUNS"
cell() {  # label, target, extra...
    local label=$1 target=$2; shift 2
    echo "== $label" >&2
    "$BENCH" run "$target" "$@" --duration "$DURATION" --warmup "$WARMUP" --json --quiet \
        | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["label"]=sys.argv[1]; print(json.dumps(d))' "$label" >>"$RUNS"
}

MEMORY_BEFORE=$(used_memory)
echo "== logging in $SESSIONS sessions through node 1 (tokens kept for the runs)" >&2
"$BENCH" run "wxauth://127.0.0.1:$NODE1" --sessions "$SESSIONS" --simulator "http://127.0.0.1:$SIM_PORT" --app "$APP" \
    --requests 1 --warmup 0 --json --quiet >/dev/null
MEMORY_AFTER=$(used_memory)
INDEX_USAGE=$(set +o pipefail; for port in $PRIMARIES; do
    redis-cli -p "$port" --scan --pattern 'wxu:*' | head -300 | while read -r key; do redis-cli -p "$port" memory usage "$key"; done
done | awk '{s+=$1; n+=1} END {printf "%.1f", s/n}')
SESSION_KEYS=$(for port in $PRIMARIES; do redis-cli -p "$port" dbsize; done | awk '{s+=$1} END {print s}')
MEMORY_USAGE=$(set +o pipefail; for port in $PRIMARIES; do
    redis-cli -p "$port" --scan --pattern 'wxs:*' | head -300 | while read -r key; do redis-cli -p "$port" memory usage "$key"; done
done | awk '{s+=$1; n+=1} END {printf "%.1f", s/n}')

# The tokens for the cells: node 1's bench logs in its own sessions (same store, so every node can validate them).
COMMON=(--sessions "$SESSIONS" --simulator "http://127.0.0.1:$SIM_PORT" --app "$APP")
cell "VALIDATE, near cache warm (node 1), C=1" "wxauth://127.0.0.1:$NODE1" "${COMMON[@]}" -c 1 -p 1 --server-pid "$NODE1_PID"
cell "VALIDATE, near cache warm (node 1), C=$CONNECTIONS" "wxauth://127.0.0.1:$NODE1" "${COMMON[@]}" -c "$CONNECTIONS" -p 1 --server-pid "$NODE1_PID"
cell "VALIDATE, cache off: one Redis round trip (node 3), C=1" "wxauth://127.0.0.1:$COLD" "${COMMON[@]}" -c 1 -p 1 --server-pid "$COLD_PID"
cell "VALIDATE, cache off: one Redis round trip (node 3), C=$CONNECTIONS" "wxauth://127.0.0.1:$COLD" "${COMMON[@]}" -c "$CONNECTIONS" -p 1 --server-pid "$COLD_PID"
"$BENCH" preload "redis://127.0.0.1:$PLAIN_REDIS" --keys "$SESSIONS" --server-pid "$PLAIN_PID" --json >/dev/null
cell "Redis GET through WXAuthRedis's RedisConnection, C=1" "redis://127.0.0.1:$PLAIN_REDIS" --keys "$SESSIONS" --redis-path client -c 1 -p 1 --server-pid "$PLAIN_PID"
cell "Redis GET through WXAuthRedis's RedisConnection, C=$CONNECTIONS" "redis://127.0.0.1:$PLAIN_REDIS" --keys "$SESSIONS" --redis-path client -c "$CONNECTIONS" -p 1 --server-pid "$PLAIN_PID"

echo "== two nodes vs one (C=$CONNECTIONS in total)" >&2
HALF=$((CONNECTIONS / 2))
# The same load-generator capacity both ways: one process with two threads, or two processes with one each.
cell "one node, C=$CONNECTIONS P=16" "wxauth://127.0.0.1:$NODE1" "${COMMON[@]}" -c "$CONNECTIONS" -p 16 --threads 2 --server-pid "$NODE1_PID"
"$BENCH" run "wxauth://127.0.0.1:$NODE1" "${COMMON[@]}" -c "$HALF" -p 16 --duration "$DURATION" --warmup "$WARMUP" --json --quiet >"$WORK/two-a.json" &
A=$!
"$BENCH" run "wxauth://127.0.0.1:$NODE2" "${COMMON[@]}" -c "$HALF" -p 16 --duration "$DURATION" --warmup "$WARMUP" --json --quiet >"$WORK/two-b.json"
wait "$A"
TWO_NODES=$(python3 -c 'import json,sys; print(sum(json.load(open(f))["throughput"] for f in sys.argv[1:]))' "$WORK/two-a.json" "$WORK/two-b.json")

echo "== revocation visibility, $TRIALS trials" >&2
"$BENCH" revocation --node-a "127.0.0.1:$NODE1" --node-b "127.0.0.1:$NODE2" --trials "$TRIALS" \
    --simulator "http://127.0.0.1:$SIM_PORT" --app "$APP" --json >"$WORK/revocation.json"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=benchmarks/results
mkdir -p "$OUT"
python3 - "$RUNS" "$WORK/revocation.json" "$SESSIONS" "$MEMORY_BEFORE" "$MEMORY_AFTER" "$SESSION_KEYS" "$MEMORY_USAGE" "$INDEX_USAGE" "$TWO_NODES" "$DURATION" "$TRIALS" >"$OUT/shared-store-$STAMP.md" <<'PY'
import json, os, subprocess, sys
runs, revocation, sessions, before, after, keys, usage, index_usage, two, duration, trials = sys.argv[1:]
cpu = subprocess.run(["sh", "-c", "sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1"], capture_output=True, text=True).stdout.strip()
print("# The shared store (wxauthd over Redis Cluster)\n")
print(f"Machine: {os.cpu_count()} cores, {cpu}; release build; everything on loopback, the load generator included.")
print(f"Sessions: {sessions}; {duration} s per cell. Command: benchmarks/shared-store.sh\n")
print("| cell | throughput (req/s) | p50 (us) | p99 (us) | p99.9 (us) | server CPU (s per 100k req) | statuses |")
print("|---|---:|---:|---:|---:|---:|---|")
for line in open(runs):
    d = json.loads(line)
    lat = d["latency"]
    server = d.get("server") or {}
    cpu = f"{server['cpuSecondsPerMillionOps'] / 10:.3f}" if "cpuSecondsPerMillionOps" in server else ""
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(d.get("statuses", {}).items()))
    print(f"| {d['label']} | {d['throughput']:,.0f} | {lat['p50Micros']:.0f} | {lat['p99Micros']:.0f} | {lat['p999Micros']:.0f} | {cpu} | {statuses} |")
one = [json.loads(l) for l in open(runs) if json.loads(l)["label"].startswith("one node")]
print(f"\nTwo nodes vs one (closed loop, same total connections, P=16): one node {one[0]['throughput']:,.0f} req/s, two nodes {float(two):,.0f} req/s "
      f"({float(two) / one[0]['throughput']:.2f}x). On this 2-core machine the nodes, six Redis processes and the load generator share the same cores.\n")
r = json.load(open(revocation))
print(f"Revocation visibility over {r['trials']:,} trials (REVOKE on node A, VALIDATE on node B until TOKEN_REVOKED; B's near cache held the session):\n")
print("| measured from | p50 (us) | p99 (us) | max (us) |")
print("|---|---:|---:|---:|")
print(f"| REVOKE acknowledged by A | {r['since_ack_p50_us']:.0f} | {r['since_ack_p99_us']:.0f} | {r['since_ack_max_us']:.0f} |")
print(f"| REVOKE sent to A | {r['since_send_p50_us']:.0f} | {r['since_send_p99_us']:.0f} | {r['since_send_max_us']:.0f} |")
print(f"\nVALIDATEs B still accepted after A acknowledged the REVOKE: {r['validations_accepted_after_revoke_ack']} in {r['trials']:,} trials.\n")
growth = (int(after) - int(before)) / int(sessions)
print(f"Memory in Redis: MEMORY USAGE of a session key {float(usage):.0f} B and of a user's index {float(index_usage):.0f} B (sampled; every "
      f"benchmark user has one session, so one index each); used_memory growth over the primaries {growth:.0f} B per session "
      f"(key, value, expiry entry and the index; {keys} keys in all after the runs). In-memory store: 155 B per session (BENCHMARKS.md).")
PY
cp "$OUT/shared-store-$STAMP.md" "$OUT/shared-store-latest.md"
cat "$OUT/shared-store-latest.md"
