#!/usr/bin/env bash
# One version number (CHANGELOG.md's version scheme): meson.build's project
# version is what `eddy version` prints, what the plugin kit's pkg-config
# file says, and the newest entry of CHANGELOG.md. The Debian package takes
# it from meson (scripts/package.sh, checked by tests/deploy/test_package.sh).
set -u
EDDY=${EDDY:?path to eddy}
SRC=${EDDY_SRC:?source root}
BUILD=${EDDY_BUILD:?build root}
fail=0
meson_v=$(sed -n "s/^ *version : '\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
eddy_v=$("$EDDY" version | sed -n 's/^eddy //p' | head -1)
log_v=$(sed -n 's/^## \[\([^]]*\)\].*/\1/p' "$SRC/CHANGELOG.md" | head -1)
pc=$(find "$BUILD" -name 'eddy-operator.pc' -path '*meson-private*' 2>/dev/null | head -1)
[ -n "$pc" ] || pc=$(find "$BUILD" -name '*.pc' -path '*meson-private*' 2>/dev/null | head -1)
pc_v=$([ -n "$pc" ] && sed -n 's/^Version: *//p' "$pc")
echo "meson.build $meson_v, eddy version $eddy_v, CHANGELOG.md $log_v, pkg-config ${pc_v:-?} ($pc)"
[[ $meson_v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "FAIL: meson.build version '$meson_v' is not MAJOR.MINOR.PATCH"; fail=1; }
[ "$eddy_v" = "$meson_v" ] || { echo "FAIL: eddy version says '$eddy_v', meson.build '$meson_v'"; fail=1; }
[ "$log_v" = "$meson_v" ] || { echo "FAIL: CHANGELOG.md's newest entry is '$log_v', meson.build says '$meson_v': add its entry"; fail=1; }
[ -z "$pc" ] || [ "$pc_v" = "$meson_v" ] || { echo "FAIL: $pc says Version: '$pc_v', meson.build '$meson_v'"; fail=1; }
grep -q '^                                 Apache License' "$SRC/LICENSE" && grep -q "license : 'Apache-2.0'" "$SRC/meson.build" \
    || { echo "FAIL: LICENSE is not the Apache-2.0 text that meson.build declares"; fail=1; }
if [ "$fail" = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit "$fail"
