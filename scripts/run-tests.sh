#!/bin/bash
# Run every test suite, each a command printing TAP, and end with one line
# 'N passed, N failed' (', N skipped' when some were).  A suite that exits
# non-zero without reporting a failure counts as one failed test.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
logdir=$top/build/test-logs
mkdir -p "$logdir"
passed=0
failed=0
skipped=0

run_suite() {
    local name=$1
    shift
    local log=$logdir/$name.log
    local start=$SECONDS
    "$@" > "$log" 2>&1
    local rc=$?
    local p f s
    p=$(grep -cE '^ok [0-9]+' "$log" | head -1)
    s=$(grep -cE '^ok [0-9]+.*# *(SKIP|skip)' "$log" | head -1)
    # "not ok ... # TODO" is a known failure reported for information.
    f=$(grep -E '^not ok [0-9]+' "$log" | grep -cvE '# *TODO')
    p=$((p - s))
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
        echo "# $name exited $rc without reporting a failure" >> "$log"
    fi
    if [ $((p + f + s)) = 0 ]; then
        f=1
        echo "# $name ran no test" >> "$log"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    printf '%-28s %4d passed %4d failed %4d skipped %4ds\n' \
        "$name" "$p" "$f" "$s" $((SECONDS - start))
    if [ "$f" != 0 ]; then
        grep -E '^not ok|ERROR|WARNING|FILE:|Bail out|^# .*(exited|ran no test)' "$log" |
            head -n 40 | sed 's/^/    /'
        echo "    (log: $log)"
    fi
}

qemu=$top/build/qemu-system-i386
stock_qemu=/usr/libexec/xen-qemu-system-i386
qtest=$top/build/qemu-build/tests/qtest
xenemu=$top/build/xenemu

# A qtest of the Xen devices, under the test double with guest domain 1.
xen_qtest() {
    local binary=$1
    shift
    "$xenemu/xenemu-run" --guest 1 -- env XEN_TEST_QEMU="$binary" \
        QTEST_QEMU_BINARY="$top/scripts/xenemu-qemu-system-i386" \
        XEN_BLKFRONT="$xenemu/xen-blkfront" \
        XEN_QEMU_IMG="$top/build/qemu-img" XEN_QEMU_NBD=/usr/bin/qemu-nbd \
        "$@" --tap -k
}

run_suite owned-set python3 "$top/scripts/check-owned.py"
run_suite checkpatch "$top/scripts/check-style.sh"
run_suite device-types "$top/tests/check-device-types.sh" "$qemu"
run_suite device-introspect env QTEST_QEMU_BINARY="$qemu" \
    "$qtest/device-introspect-test" --tap -k
# The Xen test double, then the userspace blkfront against stock QEMU.
run_suite xenemu-double "$xenemu/check-double"
run_suite xenemu-blkfront-stock env BUILD="$xenemu" QEMU="$stock_qemu" \
    "$top/tests/xenemu/blkfront/check-blkfront"
run_suite xen-block-qtest xen_qtest "$qemu" "$qtest/xen-block-test"
run_suite xen-qdisk-qtest xen_qtest "$qemu" "$qtest/xen-qdisk-test"
# The same blkfront suite on ours, strictly: every hostile case must be
# answered per the blkif contract, not merely survived.
run_suite xenemu-blkfront-ours env BUILD="$xenemu" QEMU="$qemu" \
    CHECK_BLKFRONT_STRICT=1 "$top/tests/xenemu/blkfront/check-blkfront"
run_suite hostile-guest "$top/tests/check-hostile.sh" "$qemu" "$xenemu"
# The behaviour we share with stock QEMU 7.2, checked on stock QEMU.
run_suite xen-block-qtest-stock xen_qtest "$stock_qemu" \
    env XEN_BLOCK_TEST_REFERENCE=1 "$qtest/xen-block-test"
# Real Xen 4.17 under TCG: Linux guests started by xl use our qdisk disks
# (and stock QEMU's, for comparison; its failures are marked TODO).
run_suite xen-e2e "$top/tests/xen-e2e/run" "$qemu"
# Figures only: each case passes when both QEMUs completed it.
run_suite bench-vs-stock "$top/scripts/bench.sh" --time 1 --rounds 3 --tap
grep -vE '^(ok|not ok|1\.\.)' "$logdir/bench-vs-stock.log" | sed 's/^/    /'

if [ "$skipped" != 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
