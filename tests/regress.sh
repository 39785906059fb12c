#!/usr/bin/env bash
# tests/regress.sh -- run the pg_regress suites and the isolation specs of
# the extensions (extension/telos, extension/telos_vector, ...) in
# throwaway PostgreSQL instances and print one TAP line per suite / spec:
#   ok - regress NAME    |  not ok - regress NAME      (test/sql/NAME.sql)
#   ok - isolation NAME  |  not ok - isolation NAME    (test/specs/NAME.spec)
# which tests/run.sh counts. Everything else it prints is a "# " comment.
# NAME is the bare name for extension/telos and EXT/NAME for the others
# (e.g. "ok - regress telos_vector/vector_input").
# Specs run with pg_isolation_regress (isolationtester: several sessions,
# steps interleaved as the spec's permutations say); their expected output
# is test/expected/NAME.out too, so a spec and a suite cannot share a name.
# An extension may also have test/scripts/*.sh: each is run with bash (see
# "Scripts" below) and its own "ok - ..." / "not ok - ..." lines are passed
# through.
#
# Usage: tests/regress.sh [-p PORT | --port PORT | PORT] [-e EXT]... [TEST...]
#   PORT  port of the temp instances; else $REGRESS_PORT; else 56000 + $$ % 1000
#         (pg_regress moves to the next port when it is taken)
#   EXT   run only this extension (a directory name under extension/);
#         repeatable; default: every extension/*/ with a Makefile, in name order
#   TEST  suites, specs or scripts to run: NAME (looked up in the extensions'
#         test/sql, test/specs and test/scripts; a name found nowhere counts
#         as a suite of the first extension) or EXT/NAME; default: for each
#         extension the REGRESS list of its Makefile, in its order, then every
#         spec in test/specs, then every script in test/scripts
# Environment: PG_CONFIG (default /usr/lib/postgresql/15/bin/pg_config),
#   REGRESS_KEEP=1 keeps the work directory for inspection.
#
# Each extension's suites run in one temp instance of their own (its
# test/regress.conf, if any, is added to postgresql.conf), its specs in
# another. The instances run the installed server, so they load the
# *installed* extensions: run `make -C extension/EXT install` first (make
# check does).
#
# Scripts: test/scripts/NAME.sh runs with bash, in the extension's copied
# test directory, with PG_CONFIG, PG_BINDIR, EXT_DIR (the source directory),
# WORK_DIR (an empty directory of its own, owned by postgres when running as
# root), REGRESS_PORT (a port to start from for instances it starts), and
# RUN_AS (empty, or "runuser -u postgres --" when running as root: prefix it
# to initdb/pg_ctl/postgres). It prints TAP lines and exits 0 when all
# passed; a script that prints no TAP line, or fails without a "not ok"
# line, gets "not ok - script EXT/NAME". Each has 900 s.
#
# pg_regress --temp-instance runs initdb, which refuses to run as root. As
# root, the suites are copied to a temp directory owned by postgres (the
# repository may sit where postgres cannot read, e.g. under /root) and
# pg_regress runs as postgres via runuser. Exits non-zero when a suite fails.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

say() { sed 's/^/# /'; }
die() { echo "# regress: $*"; exit 2; }

port=${REGRESS_PORT:-}
named=()
exts=()
while [ $# -gt 0 ]; do
  case $1 in
    -p|--port) [ $# -ge 2 ] || die "$1 needs a value"; port=$2; shift 2 ;;
    --port=*)  port=${1#--port=}; shift ;;
    -e|--extension) [ $# -ge 2 ] || die "$1 needs a value"; exts+=("$2"); shift 2 ;;
    --extension=*)  exts+=("${1#--extension=}"); shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    -*)        die "unknown option $1" ;;
    *)         if [[ $1 =~ ^[0-9]+$ ]] && [ ${#named[@]} -eq 0 ] && [ -z "${port_from_arg:-}" ]; then
                 port=$1; port_from_arg=1
               else
                 named+=("$1")
               fi
               shift ;;
  esac
done
port=${port:-$((56000 + $$ % 1000))}
[[ $port =~ ^[0-9]+$ ]] || die "bad port '$port'"

if [ ${#exts[@]} -eq 0 ]; then
  for d in "$ROOT"/extension/*/; do
    [ -f "$d/Makefile" ] && exts+=("$(basename "$d")")
  done
fi
for e in "${exts[@]}"; do
  [ -d "$ROOT/extension/$e/test" ] || die "no extension/$e/test"
done
[ ${#exts[@]} -gt 0 ] || die "no extensions found under $ROOT/extension"

[ -x "$PG_CONFIG" ] || die "pg_config not found at $PG_CONFIG (set PG_CONFIG)"
BINDIR=$("$PG_CONFIG" --bindir)
# pg_regress ships with PGXS: lib/pgxs/src/makefiles/pgxs.mk -> lib/pgxs/src/test/regress/
PG_REGRESS=$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")/test/regress/pg_regress
[ -x "$PG_REGRESS" ] || die "pg_regress not found at $PG_REGRESS (postgresql-server-dev-15)"

# pg_isolation_regress and its isolationtester ship with PGXS too.
PG_ISOLATION_REGRESS=$(dirname "$(dirname "$PG_REGRESS")")/isolation/pg_isolation_regress

SHAREDIR=$("$PG_CONFIG" --sharedir)/extension
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)

# Named tests, sorted out per extension: "EXT/NAME", or NAME where some
# selected extension has it, or else (as before extensions were plural) a
# suite of the first one, which will fail and say so.
declare -A named_for=()
if [ ${#named[@]} -gt 0 ]; then
  for t in "${named[@]}"; do
    if [[ $t == */* ]]; then
      e=${t%%/*}; n=${t#*/}
      [ -d "$ROOT/extension/$e/test" ] || die "no extension/$e/test (from $t)"
      named_for[$e]+=" $n"
      continue
    fi
    found=0
    for e in "${exts[@]}"; do
      d=$ROOT/extension/$e/test
      if [ -e "$d/sql/$t.sql" ] || [ -e "$d/specs/$t.spec" ] || [ -e "$d/scripts/$t.sh" ]; then
        named_for[$e]+=" $t"; found=1
      fi
    done
    [ $found -eq 1 ] || named_for[${exts[0]}]+=" $t"
  done
  # Only the extensions something was named in (in their order).
  sel=()
  for e in "${exts[@]}"; do [ -n "${named_for[$e]:-}" ] && sel+=("$e"); done
  for e in "${!named_for[@]}"; do
    [[ " ${sel[*]} " == *" $e "* ]] || sel+=("$e")
  done
  exts=("${sel[@]}")
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/telos-regress.XXXXXX") || die "mktemp failed"
RUN=()
if [ "$(id -u)" -eq 0 ]; then RUN=(runuser -u postgres --); fi
# shellcheck disable=SC2317  # called through the trap
cleanup() {
  # pg_regress stops its instance; this is for when it was interrupted.
  local d
  for d in "$WORK"/*/tmp_check "$WORK"/*/isolation/tmp_check; do
    if [ -f "$d/data/postmaster.pid" ]; then
      "${RUN[@]}" "$BINDIR/pg_ctl" stop -D "$d/data" -m immediate >/dev/null 2>&1
    fi
  done
  if [ "${REGRESS_KEEP:-0}" = 1 ]; then echo "# regress: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# run_extension EXT -- every suite, spec and script of extension/EXT (or
# those named for it); TAP lines on stdout; sets status=1 on a failure.
run_extension() {
  local ext=$1
  local EXT=$ROOT/extension/$ext
  local W=$WORK/$ext
  local label=""
  [ "$ext" = telos ] || label="$ext/"
  local tests=() specs=() scripts=() t f

  if [ -z "${named_for[$ext]:-}" ]; then
    read -r -a tests <<< "$(make -s --no-print-directory -C "$EXT" PG_CONFIG="$PG_CONFIG" print-regress 2>/dev/null)"
    if [ ${#tests[@]} -eq 0 ]; then   # no make or no list: every suite there is
      for f in "$EXT"/test/sql/*.sql; do [ -e "$f" ] && tests+=("$(basename "$f" .sql)"); done
    fi
    for f in "$EXT"/test/specs/*.spec; do [ -e "$f" ] && specs+=("$(basename "$f" .spec)"); done
    for f in "$EXT"/test/scripts/*.sh; do [ -e "$f" ] && scripts+=("$(basename "$f" .sh)"); done
  else
    # Named on the command line: a spec when test/specs has it, a script when
    # test/scripts has it, else a suite.
    for t in ${named_for[$ext]}; do
      if [ -e "$EXT/test/specs/$t.spec" ]; then specs+=("$t")
      elif [ -e "$EXT/test/scripts/$t.sh" ]; then scripts+=("$t")
      else tests+=("$t"); fi
    done
  fi
  if [ $((${#tests[@]} + ${#specs[@]} + ${#scripts[@]})) -eq 0 ]; then
    echo "# regress: no pg_regress suites, isolation specs or scripts found in $EXT/test"
    return
  fi

  # Fail every suite, with a reason, when they cannot run at all: run.sh
  # counts only TAP lines, so a silent return would look like zero failures.
  fail_ext() {
    echo "# regress: $*"
    for t in "${tests[@]}"; do echo "not ok - regress $label$t"; done
    for t in "${specs[@]}"; do echo "not ok - isolation $label$t"; done
    for t in "${scripts[@]}"; do echo "not ok - script $ext/$t"; done
    status=1
  }
  if [ ${#specs[@]} -gt 0 ] && [ ! -x "$PG_ISOLATION_REGRESS" ]; then
    fail_ext "pg_isolation_regress not found at $PG_ISOLATION_REGRESS (postgresql-server-dev-15)"
    return
  fi

  # The suites test what is installed; a stale install tests old code.
  if [ ! -f "$SHAREDIR/$ext.control" ] || [ ! -f "$PKGLIBDIR/$ext.so" ]; then
    fail_ext "the $ext extension is not installed; run: make -C extension/$ext install"
    return
  fi
  for f in "$EXT/$ext.so:$PKGLIBDIR/$ext.so" "$EXT/$ext.control:$SHAREDIR/$ext.control" \
           $(for s in "$EXT"/sql/*.sql; do echo "$s:$SHAREDIR/$(basename "$s")"; done); do
    local built=${f%%:*} installed=${f#*:}
    if [ -f "$built" ] && ! cmp -s "$built" "$installed"; then
      echo "# regress: warning: $installed differs from ${built#"$ROOT"/}; run: make -C extension/$ext install"
    fi
  done

  if ! { mkdir -p "$W" && cp -R "$EXT/test/." "$W/"; }; then
    fail_ext "cannot copy $EXT/test to $W"; return
  fi
  rm -rf "$W/results" "$W/regression.diffs" "$W/regression.out"
  # The isolation run writes its results and diffs apart from pg_regress's.
  mkdir -p "$W/isolation" || { fail_ext "cannot create $W/isolation"; return; }
  [ -f "$W/regress.conf" ] || : > "$W/regress.conf"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$WORK" || { fail_ext "cannot chown $WORK to postgres"; return; }
  fi

  # run_suites LOG OUTDIR PROGRAM NAME... -- one pg_regress-style run in its own
  # temp instance under OUTDIR; its output goes to LOG (and, as comments, to
  # stdout). Returns the program's exit status.
  run_suites() {
    local log=$1 outdir=$2 prog=$3
    shift 3
    (cd "$W" && "${RUN[@]}" "$prog" \
        --temp-instance="$outdir/tmp_check" \
        --temp-config="$W/regress.conf" \
        --bindir="$BINDIR" \
        --inputdir="$W" --outputdir="$outdir" \
        --port="$port" \
        --no-locale --encoding=UTF8 \
        "$@") > "$log" 2>&1
    local rc=$?
    say < "$log"
    return $rc
  }

  # --no-locale + UTF8: C collation, so that sort orders in the expected output
  # do not depend on the machine's locale.
  local rc=0 iso_rc=0 failed=0 iso_failed=0
  if [ ${#tests[@]} -gt 0 ]; then
    echo "# regress: pg_regress ${tests[*]} (port $port, work dir $W)"
    run_suites "$W/pg_regress.log" "$W" "$PG_REGRESS" "${tests[@]}" || rc=$?
  else
    : > "$W/pg_regress.log"
  fi
  if [ ${#specs[@]} -gt 0 ]; then
    echo "# regress: pg_isolation_regress ${specs[*]} (port $port, work dir $W/isolation)"
    run_suites "$W/isolation/pg_regress.log" "$W/isolation" "$PG_ISOLATION_REGRESS" "${specs[@]}" || iso_rc=$?
  else
    : > "$W/isolation/pg_regress.log"
  fi

  for t in "${tests[@]}"; do
    case $(verdict "$t" "$W/pg_regress.log") in
      ok) echo "ok - regress $label$t" ;;
      *)  echo "not ok - regress $label$t"; failed=$((failed + 1)) ;;
    esac
  done
  for t in "${specs[@]}"; do
    case $(verdict "$t" "$W/isolation/pg_regress.log") in
      ok) echo "ok - isolation $label$t" ;;
      *)  echo "not ok - isolation $label$t"; iso_failed=$((iso_failed + 1)) ;;
    esac
  done
  if [ $failed -gt 0 ] || [ $rc -ne 0 ]; then explain "$W"; status=1; fi
  if [ $iso_failed -gt 0 ] || [ $iso_rc -ne 0 ]; then explain "$W/isolation"; status=1; fi

  local k=0 out src_rc
  for t in "${scripts[@]}"; do
    k=$((k + 1))
    mkdir -p "$W/scripts.work/$t"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$W/scripts.work"
    out=$W/scripts.work/$t.out
    echo "# regress: script $ext/$t"
    (cd "$W" && PG_CONFIG="$PG_CONFIG" PG_BINDIR="$BINDIR" EXT_DIR="$EXT" \
       WORK_DIR="$W/scripts.work/$t" REGRESS_PORT=$((port + 10 * k)) RUN_AS="${RUN[*]}" \
       timeout 900 bash "$W/scripts/$t.sh") > "$out" 2>&1
    src_rc=$?
    grep -E '^(ok|not ok)( |$)' "$out"
    grep -vE '^(ok|not ok)( |$)' "$out" | say
    if grep -qE '^not ok( |$)' "$out"; then
      status=1
    elif [ $src_rc -ne 0 ] || ! grep -qE '^ok( |$)' "$out"; then
      echo "not ok - script $ext/$t (exit $src_rc$([ $src_rc -eq 124 ] && echo ', timed out'))"
      status=1
    fi
  done
}

for e in "${exts[@]}"; do
  run_extension "$e"
done
exit $status
