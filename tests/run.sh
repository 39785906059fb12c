#!/usr/bin/env bash
# tests/run.sh -- every test of `make check`, against throwaway servers.
#
# 1. C unit tests (cmocka binaries in build/tests/)
# 2. pg_regress suites of the extensions, telos and telos_vector (tests/regress.sh,
#    own temp instances; also telos_vector's kernel test, test/scripts/kernels.sh),
#    then the column codecs' unit tests and fuzzers (make codec-check, fuzz-check)
# 3. black-box tests tests/t_*.sh against a temp cluster (never ./var) on a
#    free port and a `telos serve` on a free port
# Ends with the line "N passed, N failed"; exits non-zero if any failed.
# Usage: tests/run.sh [PATTERN]  -- run only t_*PATTERN*.sh black-box scripts
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export TELOS="$ROOT/build/telos"
ONLY=${1:-}
PASSED=0
FAILED=0
FAILS=()

count_tap() {  # count_tap FILE: add its ok/not ok lines to the totals
  local p f
  p=$(grep -c '^ok ' "$1")
  f=$(grep -c '^not ok ' "$1")
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
  while IFS= read -r line; do FAILS+=("$line"); done < <(grep '^not ok ' "$1")
}

free_port() {  # a TCP port on 127.0.0.1 nobody listens on
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

WORK=$(mktemp -d /tmp/telos-check.XXXXXX)
chmod 755 "$WORK"   # the postgres account must reach the cluster under it
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  TELOS_HOME="$WORK/home" TELOS_PG_PORT="${TELOS_PG_PORT:-0}" "$TELOS" db stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. unit tests ---------------------------------------------------------
if [ -z "$ONLY" ]; then
  for t in build/tests/test_*; do
    [ -x "$t" ] || continue
    out="$WORK/$(basename "$t").out"
    timeout 120 "$t" >"$out" 2>&1
    rc=$?
    p=$(awk '/^\[  PASSED  \] [0-9]+ test/ {s += $4} END {print s + 0}' "$out")
    f=$(awk '/^\[  FAILED  \] [0-9]+ test/ {s += $4} END {print s + 0}' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or timed out
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    echo "unit $(basename "$t"): $p passed, $f failed"
    if [ "$f" -gt 0 ]; then cat "$out"; FAILS+=("unit $(basename "$t")"); fi
  done

# --- 2. pg_regress -----------------------------------------------------------
  tests/regress.sh >"$WORK/regress.out" 2>&1
  grep -E '^(ok|not ok) ' "$WORK/regress.out"
  if grep -q '^not ok ' "$WORK/regress.out" || ! grep -q '^ok ' "$WORK/regress.out"; then
    cat "$WORK/regress.out"
    grep -q '^ok \|^not ok ' "$WORK/regress.out" || echo "not ok - regress (no result)" >>"$WORK/regress.out"
  fi
  count_tap "$WORK/regress.out"

# --- 2b. column codecs: unit tests (plain + ASan/UBSan), fuzzers 15 s each ---
  for target in codec-check fuzz-check; do
    out="$WORK/$target.out"
    make -s --no-print-directory -C extension/telos "$target" >"$out" 2>&1
    grep -E '^(ok|not ok) ' "$out"
    if grep -q '^not ok ' "$out" || ! grep -q '^ok ' "$out"; then
      cat "$out"
      grep -q '^ok \|^not ok ' "$out" || echo "not ok - $target (no result)" >>"$out"
    fi
    count_tap "$out"
  done
fi

# --- 3. black-box: temp cluster + server ------------------------------------
export TELOS_HOME="$WORK/home"
mkdir -p "$TELOS_HOME" && chmod 755 "$TELOS_HOME"
export TELOS_PG_PORT
TELOS_PG_PORT=$(free_port)
if ! "$TELOS" setup >"$WORK/setup.out" 2>&1; then
  cat "$WORK/setup.out"
  echo "not ok - setup of the test cluster" >"$WORK/setup.tap"
  count_tap "$WORK/setup.tap"
else
  TELOS_PORT=0 "$TELOS" serve >"$WORK/serve.out" 2>"$WORK/serve.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$WORK/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  export SERVE_LOG="$WORK/serve.log" BASE_URL
  BASE_URL=$(sed -n 's/^telos: listening on \(http:[^ ]*\)$/\1/p' "$WORK/serve.out")
  export TELOS_PORT=${BASE_URL##*:}
  echo "cluster on port $TELOS_PG_PORT, API at $BASE_URL"
  for t in tests/t_*.sh; do
    [ -n "$ONLY" ] && [[ "$t" != *"$ONLY"* ]] && continue
    export TMPDIR_T="$WORK/$(basename "$t" .sh)"
    mkdir -p "$TMPDIR_T"
    echo "== $t"
    timeout 600 bash "$t" >"$TMPDIR_T.tap" 2>&1
    rc=$?
    cat "$TMPDIR_T.tap"
    [ "$rc" -eq 124 ] && echo "not ok - $t timed out" >>"$TMPDIR_T.tap"
    grep -q '^ok \|^not ok ' "$TMPDIR_T.tap" || echo "not ok - $t printed no result" >>"$TMPDIR_T.tap"
    count_tap "$TMPDIR_T.tap"
  done
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "not ok - the server died during the tests" >"$WORK/server.tap"
    tail -20 "$WORK/serve.log"
    count_tap "$WORK/server.tap"
  fi
fi

if [ ${#FAILS[@]} -gt 0 ]; then
  echo
  echo "failures:"
  printf '  %s\n' "${FAILS[@]}"
fi
echo
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
