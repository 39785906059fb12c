#!/usr/bin/env bash
# test/codec/run_tap.sh BINARY SUFFIX -- run a cmocka test binary and print
# one TAP line per test, "ok - codec NAME SUFFIX" / "not ok - codec NAME
# SUFFIX", plus its "# ..." comments; a crash (e.g. a sanitizer report, which
# aborts) that no test line reports becomes a "not ok" line of its own.
set -uo pipefail
bin=$1
sfx=${2:-}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
CMOCKA_MESSAGE_OUTPUT=TAP timeout 900 "$bin" >"$out" 2>&1
rc=$?
sed -n -E -e "s/^(not ok|ok) [0-9]+ - (test_)?(.*)\$/\\1 - codec \\3$sfx/p" \
  -e '/^# (ok|not ok) - /d' -e '/^#/p' "$out"
if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$out"; then
  echo "not ok - codec $(basename "$bin") exited with status $rc$sfx"
  grep -v '^\(ok\|#\|1\.\.\)' "$out" | tail -40 | sed 's/^/# /'
elif ! grep -q '^ok ' "$out"; then
  echo "not ok - codec $(basename "$bin") printed no result$sfx"
fi
exit 0
