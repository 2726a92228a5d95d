#!/bin/bash
# What our QEMU binary says about the Xen device types and machines.
# Usage: check-device-types.sh QEMU.  Prints TAP.
set -uo pipefail

qemu=$1
. "$(dirname "$0")/tap.sh"

qmp() {
    { echo '{"execute": "qmp_capabilities"}'; echo "$1";
      echo '{"execute": "quit"}'; } |
        timeout 20 "$qemu" -machine none -accel qtest -nodefaults -display none \
            -qmp stdio 2>&1
}

types=$(qmp '{"execute": "qom-list-types", "arguments": {"abstract": true}}')
for t in xen-bridge xen-bus xen-device; do
    echo "$types" | grep -q "\"name\": \"$t\""
    tap_result $? "type $t is registered"
done

# Every concrete xen-device type must be creatable with -device.
concrete=$(qmp '{"execute": "qom-list-types",
                 "arguments": {"implements": "xen-device"}}' |
           grep -o '"name": "[^"]*"' | cut -d'"' -f4)
devhelp=$("$qemu" -machine none -accel qtest -device help 2>&1)
missing=""
for t in $concrete; do
    echo "$devhelp" | grep -q "^name \"$t\"" || missing="$missing $t"
done
[ -z "$missing" ]
tap_result $? "-device help lists every concrete xen-device type ($(echo $concrete))"

for t in xen-disk xen-cdrom; do
    echo "$devhelp" | grep -q "^name \"$t\", bus xen-bus"
    tap_result $? "-device help lists $t on xen-bus"
done

props=$("$qemu" -machine none -accel qtest -device xen-disk,help 2>&1)
missing=""
for p in vdev drive frontend-id iothread max-ring-page-order \
         logical_block_size; do
    echo "$props" | grep -q "^  $p=" || missing="$missing $p"
done
[ -z "$missing" ]
tap_result $? "-device xen-disk,help lists its properties${missing:+ (missing$missing)}"

# "  name=<type>  - description (default: ...)": none without a description
bare=$(echo "$props" | grep '^  ' | grep -v ' - [^ (]' | sed 's/=.*//')
[ -z "$bare" ]
tap_result $? "every xen-disk property has a description${bare:+ (not:$(echo $bare))}"

cdrom=$("$qemu" -machine none -accel qtest -device xen-cdrom,help 2>&1)
echo "$cdrom" | grep -q "^  vdev=" && echo "$cdrom" | grep -q "^  drive="
tap_result $? "-device xen-cdrom,help lists vdev and drive"

out=$("$qemu" -machine none -accel qtest -nodefaults -display none \
      -device xen-bridge 2>&1)
[ $? != 0 ] && echo "$out" | grep -q "expects a pluggable device type"
tap_result $? "xen-bridge is not user-creatable"

# Without a hypervisor both Xen machines must get as far as Xen's own
# initialisation and fail there, cleanly.
for m in xenpv xenfv; do
    out=$(timeout 20 "$qemu" -machine $m -nodefaults -display none 2>&1)
    st=$?
    [ $st = 1 ] && echo "$out" | grep -q "failed to initialize xen"
    tap_result $? "-machine $m reaches Xen initialisation (exit $st)"
done
tap_done
