#!/usr/bin/env bash
# Runs every client suite: Python (pytest, incl. the end-to-end test), Node and mini program (node --test), Go
# (go vet + go test), Java (javac + JUnit 5 console launcher) and PHP (phpunit).
# Works from any cwd; needs python3 + pytest, node >= 18, go >= 1.19, a JDK 17 with Debian's junit5, php >= 8.2 with
# phpunit (.ci/run installs them). Exits non-zero if any suite fails.
#
# Integration and end-to-end tests use the real server at <repo>/.build/debug/wxauthd (override with WXAUTHD_BIN);
# they are skipped when it is missing, or fail instead with WXAUTH_REQUIRE_SERVER=1.
set -u -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
NODE="${NODE:-node}"
GO="${GO:-go}"
PHPUNIT="${PHPUNIT:-phpunit}"
export PYTHONDONTWRITEBYTECODE=1
# go needs a build cache; a bare CI environment may have no HOME.
if [ -z "${GOCACHE:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ] && [ -z "${HOME:-}" ]; then
  export GOCACHE="${TMPDIR:-/tmp}/wxauth-go-cache"
fi

status=0
run() {
  local name="$1"
  shift
  echo "=== ${name}"
  if "$@"; then
    echo "=== ${name}: ok"
  else
    echo "=== ${name}: FAILED"
    status=1
  fi
}

if [ ! -x "${WXAUTHD_BIN:-$HERE/../.build/debug/wxauthd}" ]; then
  echo "note: no wxauthd binary at ${WXAUTHD_BIN:-$HERE/../.build/debug/wxauthd}; integration tests will be skipped"
fi

run "python (clients/python)" bash -c 'cd "$1" && "$2" -m pytest -p no:cacheprovider -q' _ "$HERE/python" "$PYTHON"
run "node (clients/node)" bash -c 'cd "$1" && "$2" --test test/' _ "$HERE/node" "$NODE"
run "miniprogram (clients/miniprogram)" bash -c 'cd "$1" && "$2" --test test/' _ "$HERE/miniprogram" "$NODE"
run "go (clients/go)" bash -c 'cd "$1" && "$2" vet ./... && "$2" test -count=1 ./...' _ "$HERE/go" "$GO"
run "java (clients/java)" "$HERE/java/run-tests.sh"
run "php (clients/php)" bash -c 'cd "$1" && "$2"' _ "$HERE/php" "$PHPUNIT"

if [ "$status" -eq 0 ]; then
  echo "all client suites passed"
else
  echo "some client suites FAILED"
fi
exit "$status"
