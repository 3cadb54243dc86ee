#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (with AddressSanitizer) and runs each for N seconds (default 60), seeded
# with every frame of protocol/vectors/vectors.json. Crashes are written to Fuzz/findings/ and fail the run; each
# one found so far has become a regression test (Tests/WXAuthProtocolTests).
# Usage: ./scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
set +e
swift build --package-path Fuzz --scratch-path .build-fuzz -c debug \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -E "error|Compiling Fuzz|Build"
build_status=${PIPESTATUS[0]}
set -e
[ "$build_status" -eq 0 ] || { echo "fuzz build failed" >&2; exit 1; }
bin=$(swift build --package-path Fuzz --scratch-path .build-fuzz -c debug --show-bin-path)

corpus=.build-fuzz/corpus
rm -rf "$corpus"; mkdir -p "$corpus/frames" "$corpus/bodies" "$corpus/tokens" "$corpus/resp3" Fuzz/findings
python3 - "$corpus" <<'PY'
import json, sys, os
corpus = sys.argv[1]
v = json.load(open("protocol/vectors/vectors.json"))
for group in ("requests", "responses", "invalid"):
    for e in v[group]:
        raw = bytes.fromhex(e["hex"])
        open(os.path.join(corpus, "frames", e["name"] + "_" + group), "wb").write(raw)
        if len(raw) >= 10:  # opcode/status byte + body
            kind = raw[5]
            ops = v["opcodes"]
            op = ops.get(e.get("decoded", {}).get("op", ""), kind)
            open(os.path.join(corpus, "bodies", e["name"] + "_" + group), "wb").write(bytes([op, kind]) + raw[10:])
        if "token" in e.get("decoded", {}):
            open(os.path.join(corpus, "tokens", e["name"]), "wb").write(e["decoded"]["token"].encode())
PY
# RESP3 seeds: one of every type (the decoder's byte-vector tests hold the same shapes).
printf '+OK\r\n' > "$corpus/resp3/simple"; printf '$5\r\nhello\r\n' > "$corpus/resp3/blob"
printf '=15\r\ntxt:Some string\r\n' > "$corpus/resp3/verbatim"; printf '!3\r\nERR\r\n-ERR x\r\n' > "$corpus/resp3/errors"
printf ':-42\r\n,inf\r\n,1.5e3\r\n(123456789012345678901234567890\r\n#t\r\n_\r\n' > "$corpus/resp3/scalars"
printf '*2\r\n%%1\r\n+k\r\n~1\r\n:1\r\n$-1\r\n' > "$corpus/resp3/aggregates"
printf '|1\r\n+a\r\n:1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n' > "$corpus/resp3/attribute-push"
status=0
for target in FuzzFrameDecoder:frames FuzzMessageDecoders:bodies FuzzTokenParser:tokens FuzzRESP3Decoder:resp3; do
    name=${target%%:*}; seeds=${target##*:}
    echo "== $name for ${seconds}s"
    if ! "$bin/$name" "$corpus/$seeds" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="Fuzz/findings/$name-" -max_len=4200 2>&1 | grep -E "DONE|stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|leak"; then
        :
    fi
    if ls Fuzz/findings/"$name"-* >/dev/null 2>&1; then
        echo "$name: crash found, see Fuzz/findings/" >&2
        status=1
    fi
done
exit $status
