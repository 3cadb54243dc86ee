#!/usr/bin/env bash
# Compiles the Java client and its tests with javac and runs them with the JUnit 5 console launcher (Debian's
# junit5 package: /usr/share/java/junit-platform-console-standalone.jar; override with JUNIT_CONSOLE_JAR).
# Usage: clients/java/run-tests.sh            (tests)
#        clients/java/run-tests.sh --bench    (VALIDATE p50 over 10,000 sequential calls on one connection)
# Integration tests use WXAUTHD_BIN or <repo>/.build/debug/wxauthd (skipped when missing unless
# WXAUTH_REQUIRE_SERVER=1).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
JAVAC="${JAVAC:-javac}"
JAVA="${JAVA:-java}"
JUNIT="${JUNIT_CONSOLE_JAR:-/usr/share/java/junit-platform-console-standalone.jar}"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/wxauth-java.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

"$JAVAC" -Xlint:all,-serial -Werror --release 17 -d "$OUT/main" $(find src/main/java -name '*.java')
if [ "${1:-}" = "--bench" ]; then
  "$JAVAC" --release 17 -cp "$OUT/main:$JUNIT" -d "$OUT/test" $(find src/test/java -name '*.java')
  exec "$JAVA" -Dwxauth.java.dir="$HERE" -cp "$OUT/main:$OUT/test:$JUNIT" com.github.wxauth.client.ValidateBench "${@:2}"
fi
if [ ! -f "$JUNIT" ]; then
  echo "JUnit console launcher not found at $JUNIT (apt-get install junit5, or set JUNIT_CONSOLE_JAR)" >&2
  exit 1
fi
"$JAVAC" -Xlint:all,-serial --release 17 -cp "$OUT/main:$JUNIT" -d "$OUT/test" $(find src/test/java -name '*.java')
"$JAVA" -Dwxauth.java.dir="$HERE" -jar "$JUNIT" --class-path "$OUT/main:$OUT/test" --scan-class-path \
  --disable-banner --details=summary --fail-if-no-tests
