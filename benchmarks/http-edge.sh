#!/usr/bin/env bash
# The HTTP edge's price (issue 15, BENCHMARKS.md "The HTTP edge"): in one run on one machine,
#   1. GET /v1/auth with wrk            vs  binary VALIDATE with wxauth-bench (same sessions, same connections)
#   2. nginx /api/ behind auth_request  vs  nginx proxying the same upstream without the check
# The upstream is an nginx server block answering 200 from memory, so cell 2 measures nginx + the check only.
#
#   benchmarks/http-edge.sh           SESSIONS=100000, DURATION=10 s per cell, C=50 connections, wrk -t1
# Environment: SESSIONS, DURATION, CONNECTIONS, SCRATCH (release build folder, default .build-release).
# Needs wrk and nginx (Debian: apt-get install -y wrk nginx). Everything is on 127.0.0.1; every process this
# script starts is stopped when it exits. The system nginx service is never used.
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=${SESSIONS:-100000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
SCRATCH=${SCRATCH:-.build-release}
for tool in wrk nginx; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "$tool is not installed (apt-get install -y $tool)" >&2; exit 69; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

echo "== release build (swift build -c release --scratch-path $SCRATCH)" >&2
swift build -c release --scratch-path "$SCRATCH" --product wxauthd >&2
swift build -c release --scratch-path "$SCRATCH" --product wxauth-bench >&2
BIN="$SCRATCH/release"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wxauth-http-bench.XXXXXX")
chmod 755 "$WORK"
WXAUTHD_PID=""
NGINX_PID=""
cleanup() {
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
    [ -n "$WXAUTHD_PID" ] && kill "$WXAUTHD_PID" 2>/dev/null && wait "$WXAUTHD_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== wxauthd --dev, preloading $SESSIONS sessions" >&2
"$BIN/wxauthd" --dev --port 0 --sim-port 0 --log-level warning --idle-timeout 36000 --absolute-lifetime 36000 \
    --preload-sessions "$SESSIONS" --preload-tokens "$WORK/tokens.txt" >"$WORK/wxauthd.out" 2>"$WORK/wxauthd.err" &
WXAUTHD_PID=$!
for _ in $(seq 1 600); do
    grep -q '"event":"ready"' "$WORK/wxauthd.out" 2>/dev/null && break
    kill -0 "$WXAUTHD_PID" 2>/dev/null || { cat "$WORK/wxauthd.err" >&2; exit 1; }
    sleep 0.2
done
READY=$(grep '"event":"ready"' "$WORK/wxauthd.out")
WX_PORT=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["port"])' "$READY")
HTTP_PORT=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["http_port"])' "$READY")

# wrk: every request carries a random preloaded token (as wxauth-bench's VALIDATE does).
cat >"$WORK/tokens.lua" <<LUA
local tokens = {}
for line in io.lines("$WORK/tokens.txt") do tokens[#tokens + 1] = line end
math.randomseed(os.time())
request = function()
    return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end
LUA

NGINX_PORT=$(free_port); NOCHECK_PORT=$(free_port); UPSTREAM_PORT=$(free_port)
sed -e "s/server 127.0.0.1:7402;/server 127.0.0.1:$HTTP_PORT;/" -e "s/server 127.0.0.1:8080;/server 127.0.0.1:$UPSTREAM_PORT;/" \
    -e "s/listen 127.0.0.1:8000;/listen 127.0.0.1:$NGINX_PORT;/" deploy/nginx/wxauth.conf >"$WORK/wxauth.conf"
cat >"$WORK/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/client_body; proxy_temp_path $WORK/proxy; fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
    include $WORK/wxauth.conf;
    server { listen 127.0.0.1:$UPSTREAM_PORT; location / { return 200 "ok\n"; } }
    server { listen 127.0.0.1:$NOCHECK_PORT; location /api/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://app_api; } }
}
NGINX
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" &
NGINX_PID=$!
sleep 1
kill -0 "$NGINX_PID" 2>/dev/null || { cat "$WORK/error.log" >&2; exit 1; }

run_wrk() { # label url [lua]
    local name=$1 url=$2 script=${3:-} file
    file="$WORK/wrk-$RANDOM.txt"
    wrk -t1 -c"$CONNECTIONS" -d2s ${script:+-s "$script"} "$url" >/dev/null  # warm-up, not counted
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency ${script:+-s "$script"} "$url" >"$file"
    python3 - "$name" "$file" <<'PY'
import re, sys
name, text = sys.argv[1], open(sys.argv[2]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def pct(p):
    m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 1, "ms": 1000, "s": 1e6}[unit]
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"| {name} | {rps:,.0f} | {pct(50):,.0f} | {pct(90):,.0f} | {pct(99):,.0f} | {non2xx.group(1) if non2xx else 0} |")
PY
}

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="benchmarks/results/$STAMP-http-edge.md"
{
    echo "# HTTP edge, $STAMP"
    echo
    echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $SESSIONS sessions; ${DURATION} s per cell after 2 s warm-up; C=$CONNECTIONS; wrk -t1 (HTTP/1.1 keep-alive, no pipelining); wxauth-bench P=1."
    echo
    echo "| cell | req/s | p50 µs | p90 µs | p99 µs | errors |"
    echo "|---|---:|---:|---:|---:|---:|"
    "$BIN/wxauth-bench" wxauth://127.0.0.1:"$WX_PORT" --tokens "$WORK/tokens.txt" -c "$CONNECTIONS" -p 1 \
        --duration "$DURATION" --warmup 2 --json >"$WORK/validate.json"
    python3 - "$WORK/validate.json" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")][-1]
lat = r["latency"]; errors = sum(v for k, v in r["statuses"].items() if k != "OK")
print(f"| binary VALIDATE (wxauth-bench) | {r['throughput']:,.0f} | {lat['p50Micros']:,.0f} | {lat['p90Micros']:,.0f} | {lat['p99Micros']:,.0f} | {errors} |")
PY
    run_wrk "GET /v1/auth (wrk, direct)" "http://127.0.0.1:$HTTP_PORT/v1/auth" "$WORK/tokens.lua"
    run_wrk "nginx /api/ without the check" "http://127.0.0.1:$NOCHECK_PORT/api/me"
    run_wrk "nginx /api/ behind auth_request" "http://127.0.0.1:$NGINX_PORT/api/me" "$WORK/tokens.lua"
} | tee "$OUT"
echo "written: $OUT" >&2
