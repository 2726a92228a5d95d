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
    # CHECK_ONLY (a regular expression) picks suites by name, while working.
    [[ $name =~ ${CHECK_ONLY:-.} ]] || return 0
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

stock_qemu=/usr/libexec/xen-qemu-system-i386
xenemu=$top/build/xenemu

# Stock QEMU of a base: Debian 12's installed 7.2, Debian 13's unpacked 10.0.
stock_of() {
    if [ "$1" = 7.2 ]; then
        echo "$stock_qemu"
    else
        echo "$top/build/stock-10.0/qemu-system-i386"
    fi
}

# A qtest of the Xen devices, under the test double with guest domain 1.
xen_qtest() {
    local binary=$1 qemu_img=$2
    shift 2
    "$xenemu/xenemu-run" --guest 1 -- env XEN_TEST_QEMU="$binary" \
        QTEST_QEMU_BINARY="$top/scripts/xenemu-qemu-system-i386" \
        XEN_BLKFRONT="$xenemu/xen-blkfront" \
        XEN_QEMU_IMG="$qemu_img" XEN_QEMU_NBD=/usr/bin/qemu-nbd \
        "$@" --tap -k
}
# For tests/check-sanitized.sh, which runs it in a shell of its own.
export -f xen_qtest
export top xenemu

run_suite checkpatch "$top/scripts/check-style.sh"
run_suite xenemu-double "$xenemu/check-double"
# The userspace blkfront against stock QEMU 7.2; the double's tests and
# the blkfront against Debian 13's stock QEMU 10.0 and xenstored 4.20.
run_suite xenemu-blkfront-stock-7.2 env BUILD="$xenemu" QEMU="$stock_qemu" \
    "$top/tests/xenemu/blkfront/check-blkfront"
run_suite xenemu-stock-10.0 "$xenemu/check-stock-10.0"

# Every suite of our QEMU, on each base.
for base in 7.2 10.0; do
    qemu=$top/build/qemu-$base/qemu-system-i386
    qemu_img=$top/build/qemu-$base/qemu-img
    qtest=$top/build/qemu-$base/qemu-build/tests/qtest

    run_suite owned-set-$base python3 "$top/scripts/check-owned.py" $base
    run_suite device-types-$base "$top/tests/check-device-types.sh" "$qemu"
    # -machine help and -device help list what stock's do (a debian build).
    run_suite device-list-$base "$top/tests/check-device-list.sh" "$qemu" \
        "$(stock_of $base)"
    run_suite device-introspect-$base env QTEST_QEMU_BINARY="$qemu" \
        "$qtest/device-introspect-test" --tap -k
    run_suite xen-block-qtest-$base xen_qtest "$qemu" "$qemu_img" \
        "$qtest/xen-block-test"
    run_suite xen-qdisk-qtest-$base xen_qtest "$qemu" "$qemu_img" \
        "$qtest/xen-qdisk-test"
    run_suite xen-bus-qtest-$base xen_qtest "$qemu" "$qemu_img" \
        "$qtest/xen-bus-test"
    # The blkfront suite on ours, strictly: every hostile case must be
    # answered per the blkif contract, not merely survived.
    run_suite xenemu-blkfront-ours-$base env BUILD="$xenemu" QEMU="$qemu" \
        CHECK_BLKFRONT_STRICT=1 "$top/tests/xenemu/blkfront/check-blkfront"
    run_suite hostile-guest-$base "$top/tests/check-hostile.sh" "$qemu" \
        "$xenemu"
    run_suite failing-disk-$base "$top/tests/check-faults.sh" "$qemu" \
        "$xenemu"
    run_suite loss-free-$base "$top/tests/check-loss.sh" "$qemu" "$xenemu"
    run_suite fuzz-$base "$top/tests/check-fuzz.sh" "$qemu" "$xenemu"
    run_suite iothreads-$base "$top/tests/check-iothreads.sh" "$qemu" \
        "$xenemu"
    run_suite engines-$base "$top/tests/check-engines.sh" "$qemu" "$xenemu"
    # Disks on Ceph RBD (libxl's rbd: and json: params) on a real
    # single-node cluster the suite starts and removes.
    run_suite ceph-$base "$top/tests/check-ceph.sh" "$qemu" "$xenemu"
    # `make deb`'s package installed on a fresh Debian 12 root in place of
    # qemu-system-xen, and run there under the double.
    run_suite deb-$base "$top/tests/check-deb.sh" $base "$xenemu"
done

# The sanitizer build (10.0 with ASan and UBSan): the qtests, the strict
# blkfront suite, the hostile, failing-disk, loss-free, fuzz, IOThread and
# engine suites again, each failing on any report.
san=$top/build/qemu-10.0
san_qemu=$san/qemu-system-i386-san
san_qtest=$san/qemu-build-san/tests/qtest
for t in xen-block xen-qdisk xen-bus; do
    run_suite $t-qtest-san "$top/tests/check-sanitized.sh" "$logdir/san-$t" \
        xen_qtest "$san_qemu" "$san/qemu-img-san" "$san_qtest/$t-test"
done
run_suite xenemu-blkfront-san "$top/tests/check-sanitized.sh" \
    "$logdir/san-blkfront" env BUILD="$xenemu" QEMU="$san_qemu" \
    CHECK_BLKFRONT_STRICT=1 "$top/tests/xenemu/blkfront/check-blkfront"
run_suite hostile-guest-san "$top/tests/check-sanitized.sh" \
    "$logdir/san-hostile" "$top/tests/check-hostile.sh" "$san_qemu" "$xenemu"
run_suite failing-disk-san "$top/tests/check-sanitized.sh" \
    "$logdir/san-faults" "$top/tests/check-faults.sh" "$san_qemu" "$xenemu"
run_suite loss-free-san "$top/tests/check-sanitized.sh" \
    "$logdir/san-loss" "$top/tests/check-loss.sh" "$san_qemu" "$xenemu"
run_suite fuzz-san "$top/tests/check-sanitized.sh" \
    "$logdir/san-fuzz" "$top/tests/check-fuzz.sh" "$san_qemu" "$xenemu"
run_suite iothreads-san "$top/tests/check-sanitized.sh" \
    "$logdir/san-iothreads" "$top/tests/check-iothreads.sh" "$san_qemu" \
    "$xenemu"
run_suite engines-san "$top/tests/check-sanitized.sh" \
    "$logdir/san-engines" "$top/tests/check-engines.sh" "$san_qemu" "$xenemu"

# The behaviour we share with stock QEMU, checked on stock QEMU of each base.
for base in 7.2 10.0; do
    run_suite xen-block-qtest-stock-$base xen_qtest "$(stock_of $base)" \
        "$top/build/qemu-$base/qemu-img" env XEN_TEST_REFERENCE=1 \
        "$top/build/qemu-$base/qemu-build/tests/qtest/xen-block-test"
done
# Real Xen 4.17 under TCG: Linux guests started by xl use the qdisk disks of
# both our builds, in one boot (and stock QEMU's, for comparison; its
# failures are marked TODO).
run_suite xen-e2e "$top/tests/xen-e2e/run" \
    "$top/build/qemu-7.2/qemu-system-i386" \
    "$top/build/qemu-10.0/qemu-system-i386"
# Figures only: each case passes when both QEMUs completed it.
run_suite bench-vs-stock "$top/scripts/bench.sh" --time 1 --rounds 3 --tap
[[ bench-vs-stock =~ ${CHECK_ONLY:-.} ]] &&
    grep -vE '^(ok|not ok|1\.\.)' "$logdir/bench-vs-stock.log" | sed 's/^/    /'

if [ "$skipped" != 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
