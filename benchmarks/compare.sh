#!/usr/bin/env bash
# wxauth VALIDATE vs Redis GET, same machine, same run, same load generator (wxauth-bench). See BENCHMARKS.md.
#
#   benchmarks/compare.sh            full run: 1M sessions / 1M keys, 4 closed-loop cells + 1 open-loop cell
#   QUICK=1 benchmarks/compare.sh    a short smoke run (10k sessions, 2 s cells) to check the setup
#
# Environment: SESSIONS, DURATION (s per cell), WARMUP (s), RATE (open-loop req/s), WX_PORT, SIM_PORT,
# REDIS_PORT, SCRATCH (SwiftPM scratch path for the release build, default .build-release), WX_THREADS (wxauthd's
# event-loop threads, `--threads`; default: one per core. WX_THREADS=1 runs it single-threaded like Redis).
# Needs redis-server (Debian: sudo apt-get install -y redis-server). Everything stays on 127.0.0.1; the servers
# this script starts are stopped when it exits, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-0}" = "1" ]; then
    SESSIONS=${SESSIONS:-10000}; DURATION=${DURATION:-2}; WARMUP=${WARMUP:-0.5}
else
    SESSIONS=${SESSIONS:-1000000}; DURATION=${DURATION:-10}; WARMUP=${WARMUP:-2}
fi
RATE=${RATE:-20000}
WX_PORT=${WX_PORT:-7480}
SIM_PORT=${SIM_PORT:-7481}
REDIS_PORT=${REDIS_PORT:-6380}
SCRATCH=${SCRATCH:-.build-release}
WX_THREADS=${WX_THREADS:-$(nproc)}

if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server is not installed. On Debian/Ubuntu: sudo apt-get install -y redis-server" >&2
    echo "(the script starts its own instance on 127.0.0.1:$REDIS_PORT; the system service is not used)" >&2
    exit 69
fi

echo "== release build (swift build -c release --scratch-path $SCRATCH)" >&2
swift build -c release --scratch-path "$SCRATCH" --product wxauthd >&2
swift build -c release --scratch-path "$SCRATCH" --product wxauth-bench >&2
BIN="$SCRATCH/release"
BENCH="$BIN/wxauth-bench"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wxauth-compare.XXXXXX")
REDIS_PID=""
WXAUTHD_PID=""
cleanup() {
    [ -n "$WXAUTHD_PID" ] && kill "$WXAUTHD_PID" 2>/dev/null && wait "$WXAUTHD_PID" 2>/dev/null || true
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "== redis-server on 127.0.0.1:$REDIS_PORT (no persistence)" >&2
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --protected-mode yes \
    --daemonize no --logfile "$WORK/redis.log" &
REDIS_PID=$!

echo "== wxauthd --dev on 127.0.0.1:$WX_PORT, preloading $SESSIONS sessions" >&2
"$BIN/wxauthd" --dev --host 127.0.0.1 --port "$WX_PORT" --sim-port "$SIM_PORT" --log-level warning --threads "$WX_THREADS" \
    --preload-sessions "$SESSIONS" --preload-tokens "$WORK/tokens.txt" >"$WORK/wxauthd.out" 2>"$WORK/wxauthd.err" &
WXAUTHD_PID=$!
for _ in $(seq 1 600); do
    grep -q '"event":"ready"' "$WORK/wxauthd.out" 2>/dev/null && break
    kill -0 "$WXAUTHD_PID" 2>/dev/null || { cat "$WORK/wxauthd.err" >&2; echo "wxauthd exited" >&2; exit 1; }
    sleep 0.2
done
grep -q '"event":"ready"' "$WORK/wxauthd.out" || { echo "wxauthd did not get ready in 120 s" >&2; exit 1; }
SIMULATOR=$(sed -n 's/.*"simulator":"\([^"]*\)".*/\1/p' "$WORK/wxauthd.out")

echo "== preloading $SESSIONS Redis keys" >&2
"$BENCH" preload "redis://127.0.0.1:$REDIS_PORT" --keys "$SESSIONS" --server-pid "$REDIS_PID" --json >"$WORK/memory-redis.jsonl"

RUNS="$WORK/runs.jsonl"
: >"$RUNS"
run_cell() {  # $1 = label, rest = options shared by the three targets
    local label=$1; shift
    echo "== $label" >&2
    "$BENCH" run echo:// "$@" --duration "$DURATION" --warmup "$WARMUP" --json --quiet >>"$RUNS"
    "$BENCH" run "wxauth://127.0.0.1:$WX_PORT" --tokens "$WORK/tokens.txt" --simulator "$SIMULATOR" \
        --server-pid "$WXAUTHD_PID" "$@" --duration "$DURATION" --warmup "$WARMUP" --json --quiet >>"$RUNS"
    # --redis-path codec: Redis on the same raw load connection as wxauth (WXAuthRedis's codec), so both sides pay
    # the same framing cost; the client's own cost is measured apart (BENCHMARKS.md, "through WXAuthRedis").
    "$BENCH" run "redis://127.0.0.1:$REDIS_PORT" --keys "$SESSIONS" --server-pid "$REDIS_PID" --redis-path codec \
        "$@" --duration "$DURATION" --warmup "$WARMUP" --json --quiet >>"$RUNS"
}
for c in 1 50; do
    for p in 1 16; do
        run_cell "closed loop C=$c P=$p" -c "$c" -p "$p"
    done
done
run_cell "open loop $RATE req/s C=50" -c 50 --rate "$RATE"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)-threads$WX_THREADS
OUT=benchmarks/results
mkdir -p "$OUT"
{
    echo "# wxauth vs Redis, $STAMP"
    echo
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB,"
    echo "Linux $(uname -r); $(redis-server --version | cut -d' ' -f1-3); $(swift --version 2>/dev/null | head -1)."
    echo "Sessions/keys: $SESSIONS; $DURATION s per cell after $WARMUP s warm-up; open loop at $RATE req/s."
    echo "wxauthd event-loop threads: $WX_THREADS (Redis: 1)."
    echo "Command: benchmarks/compare.sh (SESSIONS=$SESSIONS DURATION=$DURATION WARMUP=$WARMUP RATE=$RATE WX_THREADS=$WX_THREADS)"
    echo
    "$BENCH" report "$RUNS" "$WORK/memory-redis.jsonl" "$WORK/wxauthd.out" \
        --svg "$OUT/$STAMP-percentiles.svg" --plot-cell "C=1 P=1" --plot-cell "C=50 P=1" --plot-cell "C=50 P=16"
    echo
    echo "![latency by percentile]($STAMP-percentiles.svg)"
} >"$OUT/$STAMP.md"
cat "$RUNS" "$WORK/memory-redis.jsonl" >"$OUT/$STAMP.jsonl"
grep '"event":"preloaded"' "$WORK/wxauthd.out" >>"$OUT/$STAMP.jsonl" || true
LATEST=latest
[ "$WX_THREADS" = "$(nproc)" ] || LATEST="latest-threads$WX_THREADS"
cp "$OUT/$STAMP.md" "$OUT/$LATEST.md"
cp "$OUT/$STAMP-percentiles.svg" "$OUT/$LATEST-percentiles.svg"
sed -i "s/$STAMP-percentiles.svg/$LATEST-percentiles.svg/" "$OUT/$LATEST.md"
cat "$OUT/$STAMP.md"
echo >&2
echo "written: $OUT/$STAMP.md, $OUT/$STAMP.jsonl, $OUT/$STAMP-percentiles.svg (and $LATEST.md, $LATEST-percentiles.svg)" >&2
