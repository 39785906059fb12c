#!/usr/bin/env bash
# tests/regress.sh -- run the pg_regress suites and the isolation specs of
# the telos extension in throwaway PostgreSQL instances and print one TAP
# line per suite / spec:
#   ok - regress NAME    |  not ok - regress NAME      (test/sql/NAME.sql)
#   ok - isolation NAME  |  not ok - isolation NAME    (test/specs/NAME.spec)
# which tests/run.sh counts. Everything else it prints is a "# " comment.
# Specs run with pg_isolation_regress (isolationtester: several sessions,
# steps interleaved as the spec's permutations say); their expected output
# is test/expected/NAME.out too, so a spec and a suite cannot share a name.
#
# Usage: tests/regress.sh [-p PORT | --port PORT | PORT] [TEST...]
#   PORT  port of the temp instance; else $REGRESS_PORT; else 56000 + $$ % 1000
#         (pg_regress moves to the next port when it is taken)
#   TEST  suites or specs to run (names in extension/telos/test/sql or
#         test/specs); default: the REGRESS list of extension/telos/Makefile,
#         in its order, then every spec in test/specs
# Environment: PG_CONFIG (default /usr/lib/postgresql/15/bin/pg_config),
#   REGRESS_KEEP=1 keeps the work directory for inspection.
#
# The temp instance runs the installed server, so it loads the *installed*
# extension: run `make -C extension/telos install` first (make check does).
#
# pg_regress --temp-instance runs initdb, which refuses to run as root. As
# root, the suites are copied to a temp directory owned by postgres (the
# repository may sit where postgres cannot read, e.g. under /root) and
# pg_regress runs as postgres via runuser. Exits non-zero when a suite fails.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXT=$ROOT/extension/telos
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

say() { sed 's/^/# /'; }
die() { echo "# regress: $*"; exit 2; }

port=${REGRESS_PORT:-}
tests=()
while [ $# -gt 0 ]; do
  case $1 in
    -p|--port) [ $# -ge 2 ] || die "$1 needs a value"; port=$2; shift 2 ;;
    --port=*)  port=${1#--port=}; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    -*)        die "unknown option $1" ;;
    *)         if [[ $1 =~ ^[0-9]+$ ]] && [ ${#tests[@]} -eq 0 ] && [ -z "${port_from_arg:-}" ]; then
                 port=$1; port_from_arg=1
               else
                 tests+=("$1")
               fi
               shift ;;
  esac
done
port=${port:-$((56000 + $$ % 1000))}
[[ $port =~ ^[0-9]+$ ]] || die "bad port '$port'"

[ -x "$PG_CONFIG" ] || die "pg_config not found at $PG_CONFIG (set PG_CONFIG)"
BINDIR=$("$PG_CONFIG" --bindir)
# pg_regress ships with PGXS: lib/pgxs/src/makefiles/pgxs.mk -> lib/pgxs/src/test/regress/
PG_REGRESS=$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")/test/regress/pg_regress
[ -x "$PG_REGRESS" ] || die "pg_regress not found at $PG_REGRESS (postgresql-server-dev-15)"

# pg_isolation_regress and its isolationtester ship with PGXS too.
PG_ISOLATION_REGRESS=$(dirname "$(dirname "$PG_REGRESS")")/isolation/pg_isolation_regress

specs=()
if [ ${#tests[@]} -eq 0 ]; then
  read -r -a tests <<< "$(make -s --no-print-directory -C "$EXT" PG_CONFIG="$PG_CONFIG" print-regress 2>/dev/null)"
  if [ ${#tests[@]} -eq 0 ]; then   # no make or no list: every suite there is
    for f in "$EXT"/test/sql/*.sql; do [ -e "$f" ] && tests+=("$(basename "$f" .sql)"); done
  fi
  for f in "$EXT"/test/specs/*.spec; do [ -e "$f" ] && specs+=("$(basename "$f" .spec)"); done
else
  # Named on the command line: a spec when test/specs has it, else a suite.
  named=("${tests[@]}")
  tests=()
  for t in "${named[@]}"; do
    if [ -e "$EXT/test/specs/$t.spec" ]; then specs+=("$t"); else tests+=("$t"); fi
  done
fi
[ $((${#tests[@]} + ${#specs[@]})) -gt 0 ] || die "no pg_regress suites or isolation specs found in $EXT/test"
if [ ${#specs[@]} -gt 0 ] && [ ! -x "$PG_ISOLATION_REGRESS" ]; then
  die "pg_isolation_regress not found at $PG_ISOLATION_REGRESS (postgresql-server-dev-15)"
fi

# Fail every suite, with a reason, when they cannot run at all: run.sh counts
# only TAP lines, so a silent exit would look like zero failures.
fail_all() {
  echo "# regress: $*"
  for t in "${tests[@]}"; do echo "not ok - regress $t"; done
  for t in "${specs[@]}"; do echo "not ok - isolation $t"; done
  exit 1
}

# The suites test what is installed; a stale install tests old code.
SHAREDIR=$("$PG_CONFIG" --sharedir)/extension
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
if [ ! -f "$SHAREDIR/telos.control" ] || [ ! -f "$PKGLIBDIR/telos.so" ]; then
  fail_all "the telos extension is not installed; run: make -C extension/telos install"
fi
for f in "$EXT/telos.so:$PKGLIBDIR/telos.so" "$EXT/telos.control:$SHAREDIR/telos.control" \
         $(for s in "$EXT"/sql/*.sql; do echo "$s:$SHAREDIR/$(basename "$s")"; done); do
  built=${f%%:*} installed=${f#*:}
  if [ -f "$built" ] && ! cmp -s "$built" "$installed"; then
    echo "# regress: warning: $installed differs from ${built#"$ROOT"/}; run: make -C extension/telos install"
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/telos-regress.XXXXXX") || die "mktemp failed"
RUN=()
# shellcheck disable=SC2317  # called through the trap
cleanup() {
  # pg_regress stops its instance; this is for when it was interrupted.
  local d
  for d in "$WORK/tmp_check" "$WORK/isolation/tmp_check"; do
    if [ -f "$d/data/postmaster.pid" ]; then
      "${RUN[@]}" "$BINDIR/pg_ctl" stop -D "$d/data" -m immediate >/dev/null 2>&1
    fi
  done
  if [ "${REGRESS_KEEP:-0}" = 1 ]; then echo "# regress: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp -R "$EXT/test/." "$WORK/" || fail_all "cannot copy $EXT/test to $WORK"
rm -rf "$WORK/results" "$WORK/regression.diffs" "$WORK/regression.out"
# The isolation run writes its results and diffs apart from pg_regress's.
mkdir -p "$WORK/isolation" || fail_all "cannot create $WORK/isolation"
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres:postgres "$WORK" || fail_all "cannot chown $WORK to postgres"
  RUN=(runuser -u postgres --)
fi

# run_suites LOG OUTDIR PROGRAM NAME... -- one pg_regress-style run in its own
# temp instance under OUTDIR; its output goes to LOG (and, as comments, to
# stdout). Returns the program's exit status.
run_suites() {
  local log=$1 outdir=$2 prog=$3
  shift 3
  (cd "$WORK" && "${RUN[@]}" "$prog" \
      --temp-instance="$outdir/tmp_check" \
      --temp-config="$WORK/regress.conf" \
      --bindir="$BINDIR" \
      --inputdir="$WORK" --outputdir="$outdir" \
      --port="$port" \
      --no-locale --encoding=UTF8 \
      "$@") > "$log" 2>&1
  local rc=$?
  say < "$log"
  return $rc
}

# --no-locale + UTF8: C collation, so that sort orders in the expected output
# do not depend on the machine's locale.
rc=0
if [ ${#tests[@]} -gt 0 ]; then
  echo "# regress: pg_regress ${tests[*]} (port $port, work dir $WORK)"
  run_suites "$WORK/pg_regress.log" "$WORK" "$PG_REGRESS" "${tests[@]}" || rc=$?
else
  : > "$WORK/pg_regress.log"
fi
iso_rc=0
if [ ${#specs[@]} -gt 0 ]; then
  echo "# regress: pg_isolation_regress ${specs[*]} (port $port, work dir $WORK/isolation)"
  run_suites "$WORK/isolation/pg_regress.log" "$WORK/isolation" "$PG_ISOLATION_REGRESS" "${specs[@]}" || iso_rc=$?
else
  : > "$WORK/isolation/pg_regress.log"
fi

# One verdict per suite from pg_regress's per-test lines. PostgreSQL 15:
#   "test version                       ... ok           12 ms"
#   "     version                       ... FAILED       12 ms" (in a group)
# PostgreSQL 16+ prints TAP itself: "ok 1         - version   12 ms".
verdict() {
  awk -v t="$1" '
    ($1 == "test" && $2 == t && $3 == "...") { print $4; exit }
    ($1 == t && $2 == "...")                 { print $3; exit }
    ($1 == "ok" && $3 ~ /^[-+]$/ && $4 == t) { print "ok"; exit }
    ($1 == "not" && $2 == "ok" && $4 ~ /^[-+]$/ && $5 == t) { print "FAILED"; exit }
  ' "$2"
}
failed=0
for t in "${tests[@]}"; do
  case $(verdict "$t" "$WORK/pg_regress.log") in
    ok) echo "ok - regress $t" ;;
    *)  echo "not ok - regress $t"; failed=$((failed + 1)) ;;
  esac
done
iso_failed=0
for t in "${specs[@]}"; do
  case $(verdict "$t" "$WORK/isolation/pg_regress.log") in
    ok) echo "ok - isolation $t" ;;
    *)  echo "not ok - isolation $t"; iso_failed=$((iso_failed + 1)) ;;
  esac
done

# explain DIR -- why the run in DIR failed: its diffs, else the instance's logs
# (no diffs: the instance did not come up, or psql could not connect).
explain() {
  if [ -s "$1/regression.diffs" ]; then
    echo "# regress: $1/regression.diffs:"
    say < "$1/regression.diffs"
  else
    for log in "$1/tmp_check/log/initdb.log" "$1/tmp_check/log/postmaster.log"; do
      [ -s "$log" ] && { echo "# regress: tail of $log:"; tail -n 30 "$log" | say; }
    done
  fi
}
status=0
if [ $failed -gt 0 ] || [ $rc -ne 0 ]; then explain "$WORK"; status=1; fi
if [ $iso_failed -gt 0 ] || [ $iso_rc -ne 0 ]; then explain "$WORK/isolation"; status=1; fi
exit $status
