#!/bin/bash
# Our QEMU lists the machines and the devices that stock QEMU of the same
# base lists, no fewer and no more: `-machine help` and `-device help` of
# both, compared as sets of lines (QEMU sorts them; the order is not ours).
# Usage: check-device-list.sh OURS STOCK.  Prints TAP.
#
# What is not compared, and why:
# - the device types of this project, xen-disk and xen-cdrom
#   (hw/block/xen-block.c): their category and description are ours
#   ("Storage devices", "Xen disk device"; stock QEMU lists them
#   uncategorised as "Xen Disk Device"), so only their name and bus are;
#   tests/check-device-types.sh checks the rest of what they show;
# - `-version`: the package version and the --with-pkgversion text differ by
#   design, and a point release of a base adds no machine or device, so only
#   the release (major.minor) must agree.
# Neither list has anything else that differs by design: machine types are
# named after the release, the same in both, and no path or build date is
# printed.
#
# A build with the minimal device set (QEMU_DEVICES=minimal; build-qemu.sh
# records the set in the build directory's .device-set) lists a fraction
# of stock's devices on purpose: the comparisons are then skipped.
set -uo pipefail

ours=$1
stock=$2
. "$(dirname "$0")/tap.sh"
owned_devices="xen-disk xen-cdrom"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

set_of_ours=$(cat "$(dirname "$(readlink -f "$ours")")/.device-set" \
              2>/dev/null || echo unknown)
skip=
[ "$set_of_ours" = minimal ] &&
    skip=" # SKIP ours is built with the minimal device set"

# run NAME QEMU ARGS...: stdout to $log/NAME, stderr to $log/NAME.err
run() {
    local name=$1
    shift
    timeout 30 "$@" > "$log/$name" 2> "$log/$name.err"
}

# The release of a QEMU binary, major.minor, from its -version.
release() {
    "$1" -version 2>/dev/null |
        sed -n 's/^QEMU emulator version \([0-9]*\.[0-9]*\).*/\1/p'
}

# -machine help as one machine a line, sorted.
machines() {
    tail -n +2 "$1" | sed '/^$/d' | LC_ALL=C sort
}

# -device help as "CATEGORY: line", one device a line, sorted; the devices
# of this project as "(ours): name ..., bus ..." without their description.
devices() {
    awk -v owned=" $owned_devices " '
        /^$/ { next }
        /:$/ { category = $0; next }
        /^name "/ {
            n = $0
            sub(/^name "/, "", n)
            sub(/".*/, "", n)
            if (index(owned, " " n " ")) {
                line = $0
                sub(/, desc ".*/, "", line)
                print "(ours): " line
            } else {
                print category " " $0
            }
            next
        }
        { print "(unparsed) " $0 }' "$1" | LC_ALL=C sort
}

# compare WHAT OURS-SET STOCK-SET: two results, stock's lines in ours and
# ours in stock's, each listing what is missing (40 lines at most).
compare() {
    local what=$1 a=$2 b=$3 missing extra
    missing=$(LC_ALL=C comm -13 "$a" "$b")
    extra=$(LC_ALL=C comm -23 "$a" "$b")
    if [ -n "$skip" ]; then
        tap_result 0 "ours lists every $what stock lists$skip"
        tap_result 0 "ours lists no $what stock does not$skip"
        return
    fi
    [ -n "$missing" ] && echo "$missing" | head -n 40 |
        sed 's/^/# stock only: /'
    [ -z "$missing" ]
    tap_result $? "ours lists every $what stock lists ($(wc -l < "$b"))"
    [ -n "$extra" ] && echo "$extra" | head -n 40 | sed 's/^/# ours only: /'
    [ -z "$extra" ]
    tap_result $? "ours lists no $what stock does not ($(wc -l < "$a"))"
}

echo "# ours:  $("$ours" -version 2>&1 | head -n 1) (device set: $set_of_ours)"
echo "# stock: $("$stock" -version 2>&1 | head -n 1)"
r_ours=$(release "$ours")
r_stock=$(release "$stock")
[ -n "$r_ours" ] && [ "$r_ours" = "$r_stock" ]
tap_result $? "ours and stock are one release (${r_ours:-?}, ${r_stock:-?})"

for who in ours stock; do
    qemu=${!who}
    run $who-machines "$qemu" -machine help &&
        [ "$(head -n 1 "$log/$who-machines")" = "Supported machines are:" ]
    st=$?
    [ $st = 0 ] || sed 's/^/# /' "$log/$who-machines.err" | head -n 10
    tap_result $st "$who answers -machine help"
done
machines "$log/ours-machines" > "$log/ours-machines.set"
machines "$log/stock-machines" > "$log/stock-machines.set"
compare machine "$log/ours-machines.set" "$log/stock-machines.set"

# -device help needs no machine of Xen's: -machine none.
for who in ours stock; do
    qemu=${!who}
    run $who-devices "$qemu" -machine none -device help &&
        grep -q '^name "' "$log/$who-devices"
    st=$?
    [ $st = 0 ] || sed 's/^/# /' "$log/$who-devices.err" | head -n 10
    tap_result $st "$who answers -device help"
done
devices "$log/ours-devices" > "$log/ours-devices.set"
devices "$log/stock-devices" > "$log/stock-devices.set"
compare device "$log/ours-devices.set" "$log/stock-devices.set"

# The exception above must not hide the devices themselves.
for t in $owned_devices; do
    grep -q "^(ours): name \"$t\", bus xen-bus$" "$log/ours-devices.set" &&
        grep -q "^(ours): name \"$t\", bus xen-bus$" "$log/stock-devices.set"
    tap_result $? "both list $t on xen-bus"
done
tap_done
