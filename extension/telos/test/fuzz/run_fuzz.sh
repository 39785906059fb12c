#!/usr/bin/env bash
# test/fuzz/run_fuzz.sh DIR SECONDS TARGET... -- run the codec libFuzzer
# targets DIR/codec_TARGET_fuzz for SECONDS each, one after the other (the
# machine's cores are shared), and print a TAP line per target:
#   ok - fuzz TARGET (N runs in S s)  |  not ok - fuzz TARGET ...
# Seeds are regenerated into DIR/seeds by DIR/codec_seeds; what a target
# finds accumulates in DIR/corpus/TARGET, crashes in DIR/crash-TARGET-*.
set -uo pipefail
dir=$1
secs=$2
shift 2
rm -rf "$dir/seeds"
mkdir -p "$dir/seeds"
if ! "$dir/codec_seeds" "$dir/seeds"; then
  echo "not ok - fuzz seeds (codec_seeds failed)"
  exit 0
fi
for t in "$@"; do
  bin="$dir/codec_${t}_fuzz"
  log="$dir/$t.log"
  mkdir -p "$dir/corpus/$t"
  timeout $((secs + 120)) "$bin" -max_total_time="$secs" -max_len=16384 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/crash-$t-" \
    "$dir/corpus/$t" "$dir/seeds/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -1)
  if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
    echo "ok - fuzz $t ($runs)"
  else
    echo "not ok - fuzz $t (exit status $rc; log $log)"
    grep -E 'ERROR|SUMMARY|fuzz check failed|Test unit written|#0 |#1 |#2 |#3 ' "$log" | head -30 | sed 's/^/# /'
  fi
done
exit 0
