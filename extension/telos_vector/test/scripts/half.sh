#!/usr/bin/env bash
# half.sh -- the half precision conversions and kernels of src/half.c alone,
# without a server (TAP): built with the extension's flags, then with
# AddressSanitizer and UndefinedBehaviorSanitizer. Exhaustive over the
# halves, every rounding boundary of float -> half, the kernels against
# double, for the portable and F16C builds. Run by tests/regress.sh.
set -uo pipefail
: "${EXT_DIR:?}" "${WORK_DIR:?}"
rc=0
bin=$WORK_DIR/half_check
if ! ${CC:-cc} -std=c11 -O2 -fwrapv -Wall -Wextra -Werror -ffp-contract=fast -I"$EXT_DIR/src" \
     -o "$bin" "$EXT_DIR/test/kernels/half_check.c" "$EXT_DIR/src/half.c" -lm >"$WORK_DIR/build.log" 2>&1; then
  sed 's/^/# /' "$WORK_DIR/build.log"
  echo "not ok - half build"
  exit 1
fi
"$bin" || rc=1
san=$WORK_DIR/half_check_san
if ${CC:-cc} -std=c11 -O1 -g -fwrapv -ffp-contract=fast -fsanitize=address,undefined \
     -fno-sanitize-recover=all -I"$EXT_DIR/src" -o "$san" \
     "$EXT_DIR/test/kernels/half_check.c" "$EXT_DIR/src/half.c" -lm >"$WORK_DIR/san.log" 2>&1; then
  "$san" 2>&1 | sed 's/^ok - /ok - (asan, ubsan) /; s/^not ok - /not ok - (asan, ubsan) /'
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
else
  echo "# half: no ASan/UBSan build ($(head -1 "$WORK_DIR/san.log"))"
fi
exit $rc
