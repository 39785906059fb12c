#!/usr/bin/env bash
# bench/stats.sh -- the statistics benchmark (`make bench BENCH=stats`). Not a
# test: in one run, on the same generated data (bench/stats.py: 50 daily
# series x 730 points, planted drivers), it times
#   - telos.granger_pairs(series, 50, 7): all 2,450 ordered pairs, lag chosen
#     by BIC among 1..7, F test at that lag (best and median of RUNS runs,
#     measured inside the server, the array already in a table);
#   - telos.granger(x, y, 7) called for each of the 2,450 pairs (all lags,
#     the QR path), once;
#   - statsmodels' grangercausalitytests(maxlag=7) on each pair (Debian's
#     /usr/bin/python3 with python3-statsmodels), once;
# and checks that the p-values agree (telos' chosen lag vs statsmodels' test
# at that lag). Needs the installed extension (make install) and
# python3-statsmodels; starts a throwaway cluster on a free port in
# 57700-57799 (BENCH_PORT to choose).
#
# Without python3-statsmodels only telos is timed (statsmodels: null).
#
# Usage: bench/stats.sh      Results: bench/results/stats-granger.json
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${BENCH_RUNS:-5}
PY=/usr/bin/python3
BIN=$(/usr/lib/postgresql/15/bin/pg_config --bindir)
[ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null || { echo "bench: stats skipped: it needs /usr/bin/python3 with numpy to generate its data (apt-get install python3-statsmodels)"; exit 0; }
HAVE_SM=1
"$PY" -c 'import statsmodels' 2>/dev/null || { HAVE_SM=0; echo "bench: python3-statsmodels is not installed: telos only, no baseline (apt-get install python3-statsmodels)"; }

free_port() {
  for p in $(seq 57700 57799); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
PORT=${BENCH_PORT:-$(free_port)}
WORK=$(mktemp -d /tmp/telos-bench-stats.XXXXXX)
chmod 755 "$WORK"
AS=()
[ "$(id -u)" -eq 0 ] && { chown postgres "$WORK"; AS=(runuser -u postgres --); }
cleanup() {
  "${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "bench: statistics, 50 series x 730 points, lags 1..7, port $PORT"
"${AS[@]}" "$BIN/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
"${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w \
  -o "-p $PORT -k $WORK -c listen_addresses=''" start >/dev/null
sql() { "$BIN/psql" -h "$WORK" -p "$PORT" -U postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

"${AS[@]}" "$PY" bench/stats.py gen "$WORK"
sql -c "CREATE EXTENSION telos" -c "CREATE TABLE s (series float8[])"
sql -c "\\copy s FROM '$WORK/series.txt'"

# telos.granger_pairs, RUNS times, timed in the server.
TIMES=$(sql <<SQL
CREATE FUNCTION pg_temp.t() RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; n bigint;
BEGIN
  t0 := clock_timestamp();
  SELECT count(*) INTO n FROM s, LATERAL telos.granger_pairs(s.series, 50, 7) r;
  IF n <> 2450 THEN RAISE EXCEPTION 'granger_pairs returned % rows', n; END IF;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SELECT pg_temp.t() FROM generate_series(1, $RUNS);
SQL
)
BEST=$(echo "$TIMES" | sort -g | head -1)
MEDIAN=$(echo "$TIMES" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

# telos.granger per pair (QR, all 7 lags), once.
LOOP=$(sql <<'SQL'
CREATE FUNCTION pg_temp.t() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; n bigint;
BEGIN
  CREATE TEMP TABLE rows AS
    SELECT i, s.series[(i - 1) * 730 + 1 : i * 730] AS v FROM s, generate_series(1, 50) i;
  t0 := clock_timestamp();
  SELECT count(*) INTO n FROM rows a, rows b, LATERAL telos.granger(a.v, b.v, 7) g WHERE a.i <> b.i;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
SELECT pg_temp.t();
SQL
)

sql -c "\\copy (SELECT r.x_idx, r.y_idx, r.lag, r.f_stat, r.p_value FROM s, LATERAL telos.granger_pairs(s.series, 50, 7) r) TO '$WORK/telos_pairs.csv' WITH (FORMAT csv)"
SIG=$(sql -c "SELECT count(*) FROM s, LATERAL telos.granger_pairs(s.series, 50, 7) r WHERE r.p_value < 0.05 / 2450")

if [ "$HAVE_SM" = 1 ]; then
  echo "bench: statsmodels on the same 2,450 pairs (takes ~15-30 s)"
  "${AS[@]}" "$PY" bench/stats.py baseline "$WORK"
  SM=$(cat "$WORK/statsmodels.json")
else
  SM=null
fi

mkdir -p bench/results
OUT=bench/results/stats-granger.json
jq -n --argjson best "$BEST" --argjson median "$MEDIAN" --argjson loop "$LOOP" \
  --argjson sm "$SM" --argjson runs "$RUNS" --argjson sig "$SIG" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo none)" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" --argjson cores "$(nproc)" \
  '{benchmark: "stats-granger", date: $date, commit: $commit,
    machine: {cpu: $cpu, cores: $cores},
    data: {series: 50, points: 730, maxlag: 7, pairs: 2450,
           bonferroni_significant_pairs: $sig},
    telos_granger_pairs: {runs: $runs, best_ms: $best, median_ms: $median,
                          us_per_pair: ($best * 1000 / 2450)},
    telos_granger_loop: {ms: $loop, ms_per_pair: ($loop / 2450)},
    statsmodels: (if $sm then {version: $sm.version, seconds: $sm.seconds, ms_per_pair: $sm.ms_per_pair} else null end),
    speedup_granger_pairs_vs_statsmodels: (if $sm then $sm.seconds * 1000 / $best else null end),
    speedup_granger_loop_vs_statsmodels: (if $sm then $sm.seconds * 1000 / $loop else null end),
    agreement: (if $sm then {pairs_compared: $sm.pairs_compared, max_rel_diff_f: $sm.max_rel_diff_f,
                max_rel_diff_p: $sm.max_rel_diff_p,
                note: "the largest F differences are at F near 0, where statsmodels subtracts two nearly equal SSRs; telos forms ssr_r - ssr_u as a sum of squares (exact rational arithmetic agrees with telos)"} else null end)}' > "$OUT"
if [ "$HAVE_SM" = 1 ]; then jq -r '"telos.granger_pairs: \(.telos_granger_pairs.best_ms | . * 10 | round / 10) ms for 2,450 pairs (median \(.telos_granger_pairs.median_ms | round) ms); telos.granger loop: \(.telos_granger_loop.ms | round) ms; statsmodels: \(.statsmodels.seconds * 100 | round / 100) s (\(.statsmodels.ms_per_pair * 100 | round / 100) ms/pair); speedup \(.speedup_granger_pairs_vs_statsmodels | round)x; max rel. diff of p \(.agreement.max_rel_diff_p)"' "$OUT"
else jq -r '"telos.granger_pairs: \(.telos_granger_pairs.best_ms) ms for 2,450 pairs; telos.granger loop: \(.telos_granger_loop.ms) ms (no statsmodels baseline)"' "$OUT"
fi
echo "bench: wrote $OUT"
