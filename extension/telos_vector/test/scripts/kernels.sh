#!/usr/bin/env bash
# kernels.sh -- the distance kernels alone, without a server: builds
# test/kernels/kernel_check from src/distance.c with the flags of the
# extension's build and runs it (TAP), then once more built with
# AddressSanitizer and UndefinedBehaviorSanitizer (an out-of-bounds read in a
# kernel's tail would show there). It checks every kernel build this CPU
# runs (plain, AVX2, AVX-512) against a double-precision reference and the
# dispatched builds against the plain one. Run by tests/regress.sh (see its
# "Scripts"); by hand: make -C extension/telos_vector kernel-check.
set -uo pipefail
: "${EXT_DIR:?}" "${WORK_DIR:?}"
bin=$WORK_DIR/kernel_check
if ! make -s --no-print-directory -C "$EXT_DIR" KERNEL_CHECK_BIN="$bin" "$bin" >"$WORK_DIR/build.log" 2>&1; then
  sed 's/^/# /' "$WORK_DIR/build.log"
  echo "not ok - kernels build"
  exit 1
fi
"$bin"
rc=$?

san=$WORK_DIR/kernel_check_san
if ${CC:-cc} -std=c11 -O1 -g -fwrapv -ffp-contract=fast -fsanitize=address,undefined \
     -fno-sanitize-recover=all -I"$EXT_DIR/src" -o "$san" \
     "$EXT_DIR/test/kernels/kernel_check.c" "$EXT_DIR/src/distance.c" -lm >"$WORK_DIR/san.log" 2>&1; then
  "$san" 2>&1 | sed 's/^ok - kernels /ok - kernels (asan, ubsan) /; s/^not ok - kernels /not ok - kernels (asan, ubsan) /'
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
else
  # No sanitizer runtime on this machine: say so, do not fail.
  echo "# kernels: no ASan/UBSan build ($(head -1 "$WORK_DIR/san.log"))"
fi
exit $rc
