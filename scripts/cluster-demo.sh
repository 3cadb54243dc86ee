#!/usr/bin/env bash
# One command for a local cluster: a 3-primary/3-replica Redis Cluster, a WeChat simulator and two wxauthd nodes
# sharing sessions through it, all on loopback in a temp dir; runs `wxauth demo` across the two nodes (LOGIN on
# node 1; the LOGIN retry, VALIDATE, REFRESH and REVOKE on node 2) and stops everything, whatever happens.
# Usage: ./scripts/cluster-demo.sh            (needs redis-server + redis-tools; builds the debug binaries if missing)
#        KEEP=1 ./scripts/cluster-demo.sh     (leave it all running until Ctrl-C, to try `wxauth` by hand)
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "cluster-demo: $tool is missing (apt-get install -y redis-server redis-tools)" >&2; exit 69; }
done
BIN="${WXAUTH_BIN_DIR:-.build/debug}"
if [ ! -x "$BIN/wxauthd" ] || [ ! -x "$BIN/wxauth" ] || [ ! -x "$BIN/wechat-sim" ]; then
    swift build --product wxauthd && swift build --product wxauth && swift build --product wechat-sim
fi

source scripts/lib/redis-cluster.sh
work_dir wxauth-cluster-demo
read -r -a PORTS <<<"$(free_ports 10)"
REDIS_PORTS=("${PORTS[@]:0:6}")
SIM_PORT=${PORTS[6]}; NODE1=${PORTS[7]}; NODE2=${PORTS[8]}

echo "== Redis Cluster: 3 primaries + 3 replicas on ${REDIS_PORTS[*]}"
REDIS_FLAGS=(--appendonly yes)
start_redis_cluster "${REDIS_PORTS[@]}"

echo "== WeChat simulator on $SIM_PORT"
APP=wxclusterdemo0001
export WXAUTH_SECRET_DEMO="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
"$BIN/wechat-sim" --port "$SIM_PORT" --app "$APP:$WXAUTH_SECRET_DEMO" --log-level warning >"$WORK/sim.out" 2>&1 &
PIDS+=($!)

# Both nodes need the same server key (tokens and records are sealed with it) and the same apps.
export WXAUTH_KEY_1="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
cat >"$WORK/wxauthd.json" <<JSON
{"apps": [{"app_id": "$APP", "secret_env": "WXAUTH_SECRET_DEMO"}],
 "keys": [{"id": 1, "secret_hex_env": "WXAUTH_KEY_1"}],
 "wechat": {"base_url": "http://127.0.0.1:$SIM_PORT"}}
JSON
SEEDS=$(redis_seeds "${REDIS_PORTS[@]}")
for node in "$NODE1" "$NODE2"; do
    echo "== wxauthd on $node, store $SEEDS"
    "$BIN/wxauthd" --config "$WORK/wxauthd.json" --host 127.0.0.1 --port "$node" --store "$SEEDS" \
        >"$WORK/node-$node.out" 2>"$WORK/node-$node.err" &
    PIDS+=($!)
done
for node in "$NODE1" "$NODE2"; do
    for _ in $(seq 200); do grep -q '"event":"ready"' "$WORK/node-$node.out" 2>/dev/null && break; sleep 0.05; done
    grep -q '"event":"ready"' "$WORK/node-$node.out" || { echo "wxauthd on $node did not start:" >&2; cat "$WORK/node-$node.err" >&2; exit 1; }
done

echo
"$BIN/wxauth" demo --port "$NODE1" --second-node "127.0.0.1:$NODE2" --sim "http://127.0.0.1:$SIM_PORT" --app "$APP"
echo
echo "sessions in the cluster: $(for port in "${REDIS_PORTS[@]}"; do redis-cli -p "$port" --scan --pattern 'wxs:*' 2>/dev/null; done | sort -u | wc -l) keys (wxs:*), on $(for port in "${REDIS_PORTS[@]}"; do redis-cli -p "$port" role | head -1; done | grep -c master) primaries"
if [ "${KEEP:-0}" = "1" ]; then
    echo "running: node 1 127.0.0.1:$NODE1, node 2 127.0.0.1:$NODE2, simulator http://127.0.0.1:$SIM_PORT, app $APP. Ctrl-C stops all."
    wait
fi
