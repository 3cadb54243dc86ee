# Sourced by scripts/cluster-demo.sh and benchmarks/shared-store.sh: a temp dir whose processes are stopped on exit,
# free loopback ports and a local Redis Cluster.

# work_dir NAME: sets WORK (a new temp dir) and PIDS (processes to stop), and stops them all and removes WORK when the
# script exits, whatever happens.
work_dir() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    PIDS=()
    trap stop_all EXIT INT TERM
}

stop_all() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}

# Prints N distinct free loopback ports, each with port+10000 free too (a cluster node's bus port).
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port)); return True
        except OSError:
            return False
ports = []
while len(ports) < int(sys.argv[1]):
    p = random.randint(20000, 29999)
    if p not in ports and free(p) and free(p + 10000):
        ports.append(p)
print(" ".join(map(str, ports)))
PY
}

# start_redis_cluster PORT... : one redis-server per port (cluster mode, loopback, files under $WORK), then
# `redis-cli --cluster create` with one replica per primary; returns once the cluster says cluster_state:ok.
# Extra redis-server flags come from REDIS_FLAGS (an array).
start_redis_cluster() {
    local port
    for port in "$@"; do
        mkdir -p "$WORK/redis-$port"
        (cd "$WORK/redis-$port" && exec redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
            --cluster-config-file nodes.conf --cluster-node-timeout 1000 --save '' \
            --logfile "$WORK/redis-$port/redis.log" "${REDIS_FLAGS[@]}") &
        PIDS+=($!)
    done
    for port in "$@"; do
        for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
    done
    redis-cli --cluster create $(printf '127.0.0.1:%s ' "$@") --cluster-replicas 1 --cluster-yes >"$WORK/cluster-create.log"
    for _ in $(seq 200); do
        redis-cli -p "$1" cluster info | grep -q cluster_state:ok && return 0
        sleep 0.05
    done
    echo "the Redis Cluster did not reach cluster_state:ok (see $WORK)" >&2
    return 1
}

# redis_seeds PORT... : the --store URL for those nodes.
redis_seeds() {
    local IFS=,
    local ports=("$@")
    echo "redis://${ports[*]/#/127.0.0.1:}"
}
