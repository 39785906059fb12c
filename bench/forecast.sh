#!/usr/bin/env bash
# bench/forecast.sh -- the goal forecast benchmark (`make bench BENCH=forecast`).
# Not a test. In one run, on the same generated data (N daily series of 365
# points: trend + weekly seasonality + noise, made in SQL with setseed), it
# times inside the server, best and median of RUNS runs:
#   - telos.forecast_probability(y, 30, target => ...): Holt-Winters fit,
#     30-day forecast, 80% interval and the probability of the target;
#   - the same with cumulative => true (a total target);
#   - the baseline goal tools use: a straight line fit by least squares
#     (regr_slope / regr_intercept) extrapolated 30 days, no interval.
# The issue's figure is 10,000 goals evaluated: with N = 10000 the first
# line is that time (one backend; goals are independent, so it divides by
# the number of parallel workers).
# Needs the installed extension (make install); starts a throwaway cluster
# on a free port in 57900-57949 (BENCH_PORT to choose).
#
# Usage: bench/forecast.sh [N]     Results: bench/results/forecast.json
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-${BENCH_N:-10000}}
RUNS=${BENCH_RUNS:-3}
BIN=$(/usr/lib/postgresql/15/bin/pg_config --bindir)

free_port() {
  for p in $(seq 57900 57949); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
PORT=${BENCH_PORT:-$(free_port)}
WORK=$(mktemp -d /tmp/telos-bench-forecast.XXXXXX)
chmod 755 "$WORK"
AS=()
[ "$(id -u)" -eq 0 ] && { chown postgres "$WORK"; AS=(runuser -u postgres --); }
cleanup() {
  "${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "bench: forecast, $N series x 365 daily points, horizon 30, port $PORT"
"${AS[@]}" "$BIN/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
"${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w \
  -o "-p $PORT -k $WORK -c listen_addresses='' -c max_parallel_workers_per_gather=0" start >/dev/null
sql() { "$BIN/psql" -h "$WORK" -p "$PORT" -U postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

sql <<SQL
CREATE EXTENSION telos;
SELECT 1 FROM (SELECT setseed(0.42)) s WHERE false;
-- level 50..150, slope -0.1..0.3 a day, weekly amplitude 0..20, noise sd 2..10
CREATE TABLE goals AS
SELECT g, array_agg(b + s * t + a * sin(2 * pi() * t / 7)
                    + sd * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) ORDER BY t) AS y,
       b + s * 394 AS target
  FROM (SELECT g, 50 + 100 * random() AS b, -0.1 + 0.4 * random() AS s,
               20 * random() AS a, 2 + 8 * random() AS sd
          FROM generate_series(1, $N) g) p,
       generate_series(0, 364) t
 GROUP BY g, b, s, a, sd;
SQL

# pg_temp lives per session: re-create it in each call
PRE="CREATE FUNCTION pg_temp.t(q text) RETURNS float8 LANGUAGE plpgsql AS \$f\$ DECLARE t0 timestamptz; n bigint; BEGIN t0 := clock_timestamp(); EXECUTE q INTO n; IF n <> $N THEN RAISE EXCEPTION 'got % rows', n; END IF; RETURN extract(epoch FROM clock_timestamp() - t0) * 1000; END \$f\$;"
time_q() {
  sql -c "$PRE" -c "SELECT pg_temp.t(\$q\$$1\$q\$) FROM generate_series(1, $RUNS)" | sort -g |
    awk '{a[NR]=$1} END {printf "%.1f %.1f\n", a[1], a[int((NR+1)/2)]}'
}
read -r HW_BEST HW_MED < <(time_q "SELECT count(*) FROM goals, telos.forecast_probability(y, 30, target => target) p")
read -r CU_BEST CU_MED < <(time_q "SELECT count(*) FROM goals, telos.forecast_probability(y, 30, target => 30 * target, cumulative => true) p")
read -r LN_BEST LN_MED < <(time_q "SELECT count(*) FROM (SELECT g, regr_intercept(v, t) + regr_slope(v, t) * 394 AS f FROM goals, unnest(y) WITH ORDINALITY u(v, t) GROUP BY g) s")
METHODS=$(sql -c "SELECT string_agg(method || ': ' || c, ', ') FROM (SELECT method, count(*) c FROM goals, telos.forecast_probability(y, 30, target => target) GROUP BY 1 ORDER BY 1) s")

rate() { awk -v n="$N" -v ms="$1" 'BEGIN {printf "%.0f", n / (ms / 1000)}'; }
mkdir -p bench/results
cat > bench/results/forecast.json <<JSON
{
  "benchmark": "forecast",
  "series": $N,
  "points": 365,
  "horizon": 30,
  "runs": $RUNS,
  "holt_winters_probability": {"best_ms": $HW_BEST, "median_ms": $HW_MED, "per_second": $(rate "$HW_BEST")},
  "holt_winters_cumulative": {"best_ms": $CU_BEST, "median_ms": $CU_MED, "per_second": $(rate "$CU_BEST")},
  "baseline_straight_line": {"best_ms": $LN_BEST, "median_ms": $LN_MED, "per_second": $(rate "$LN_BEST")},
  "methods": "$METHODS"
}
JSON
echo "bench: Holt-Winters + probability: $(rate "$HW_BEST") forecasts/s ($N in $HW_BEST ms, one backend)"
echo "bench: cumulative total:            $(rate "$CU_BEST") forecasts/s"
echo "bench: straight-line baseline:      $(rate "$LN_BEST") fits/s"
echo "bench: methods chosen: $METHODS"
