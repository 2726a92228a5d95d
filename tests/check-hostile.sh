#!/bin/bash
# A hostile guest against our QEMU, under valgrind unless it is a sanitizer
# build: every malformed-input case of the userspace blkfront's hostile
# mode, 1000 frontend state flaps, a burst of bad requests, and floods of
# refused requests while the toolstack unplugs; QEMU must answer each per
# the blkif contract, keep serving the other disks, log guest errors
# without flooding, and end with no memory error and no leak.  xvda and
# xvdc run in the main loop, xvdd in an IOThread.  Prints TAP.
#
# Usage: check-hostile.sh QEMU BUILD/xenemu
set -uo pipefail

. "$(dirname "$0")/qemu-under-double.sh"

truncate -s 64M "$work/rw.img" "$work/ro.img" "$work/flood.img" \
    "$work/io.img"
blkfront=("$xenemu/xen-blkfront" --domid 1 --timeout 30)

# A sanitizer build cannot run under valgrind: its sanitizers watch memory
# instead (tests/check-sanitized.sh).
if ldd "$qemu" | grep -q libasan; then
    valgrind=()
else
    valgrind=(valgrind --leak-check=full --show-leak-kinds=definite
              --errors-for-leak-kinds=definite --log-file="$work/valgrind.log")
fi
LD_PRELOAD=$XENEMU_PRELOAD "${valgrind[@]}" \
    "$qemu" -machine xenpv -xen-domid 1 -xen-attach -nodefaults \
    -display none -d guest_errors,trace:xen_block_dataplane_handled \
    -D "$work/guest-errors.log" \
    -qmp "unix:$work/qmp.sock,server=on,wait=off" \
    -drive "if=none,id=d0,file=$work/rw.img,format=raw,discard=unmap" \
    -device xen-disk,vdev=xvda,drive=d0 \
    -drive "if=none,id=d1,file=$work/ro.img,format=raw,readonly=on" \
    -device xen-disk,vdev=xvdb,drive=d1 \
    -drive "if=none,id=d2,file=$work/flood.img,format=raw" \
    -device xen-disk,vdev=xvdc,drive=d2 \
    -object iothread,id=io0 \
    -drive "if=none,id=d3,file=$work/io.img,format=raw" \
    -device xen-disk,vdev=xvdd,drive=d3,iothread=io0 2>"$work/qemu.log" &
qemu_pid=$!

wait_backend 51760

hostile() {
    local vdev=$1 out
    shift
    out=$("${blkfront[@]}" --vdev "$vdev" hostile "$@" 2>&1)
    echo "$out" | sed 's/^/# /'
    echo "$out" | grep -qx 'survived=yes' && echo "$out" | grep -qx 'contract=yes'
}

for c in prod-overflow nseg-0 nseg-12 bad-first-last sector-past-end \
         sector-overflow bad-gref unknown-op bad-ring-ref bad-evtchn \
         bad-ring-order bad-protocol; do
    hostile xvda "$c"
    tap_result $? "hostile $c: answered per contract, QEMU serves on"
done
hostile xvdb write-readonly
tap_result $? "hostile write-readonly: refused, QEMU serves on"
hostile xvda state-flap 1000
tap_result $? "hostile state-flap 1000: QEMU serves on"
for vdev in xvda xvdd; do
    for c in barrier-then-read bad-last-grant read-bad-grant write-bad-grant \
             gref-twice; do
        hostile "$vdev" "$c"
        tap_result $? "hostile $c on $vdev: answered per contract"
    done
done

# A guest floods the ring with refused requests and goes on when the
# toolstack unplugs the disk: libxl asks (online=0, Closing), and once the
# frontend does not close, removes both areas itself.  QEMU must let go of
# the device while the flood goes on and keep serving xvda meanwhile.
flood_unplug() {
    local vdev=$1 devid=$2 be=/local/domain/0/backend/qdisk/1/$2 pid out
    "${blkfront[@]}" --vdev "$vdev" hostile flood 30 > "$work/flood.out" 2>&1 &
    pid=$!
    sleep 2
    xenstore-write "$be/online" 0 "$be/state" 5
    sleep 1
    xenstore-rm "$be"
    xenstore-rm "/local/domain/1/device/vbd/$devid"
    "${blkfront[@]}" --timeout 10 --vdev xvda read 0 4K >/dev/null 2>&1
    tap_result $? "flood on $vdev: xvda serves while the toolstack unplugs $vdev"
    wait "$pid"
    out=$(cat "$work/flood.out")
    echo "$out" | sed 's/^/# /'
    echo "$out" | grep -q 'ended=idle' &&
        echo "$out" | grep -qx 'survived=unplugged' &&
        echo "$out" | grep -qx 'contract=yes'
    tap_result $? "flood on $vdev: QEMU let go of the unplugged device mid-flood"
}
flood_unplug xvdc 51744
flood_unplug xvdd 51760

# However fast the flood refills the ring, one pass of the ring handler
# takes at most a ring's worth of requests (32 on a one-page native ring)
# and then lets the context serve others.  Unbounded, passes took up to
# 19685 requests here (140 over 32 in the two floods).
taken=$(grep -o 'took [0-9]*' "$work/guest-errors.log" | cut -d' ' -f2 | sort -n | tail -n 1)
[ "${taken:-0}" = 32 ]
tap_result $? "flood: no ring pass took more than the ring's 32 requests (largest ${taken:-none})"

# Thirty connections' worth of bad requests in a burst: at most a burst of
# ten reports a second, plus one line a second counting the rest.
guest_errors() {
    grep -vc xen_block_dataplane_handled "$work/guest-errors.log"
}
lines_before=$(guest_errors)
start=$SECONDS
for _ in $(seq 30); do
    "${blkfront[@]}" --vdev xvda hostile bad-first-last >/dev/null 2>&1
done
elapsed=$((SECONDS - start + 1))
logged=$(( $(guest_errors) - lines_before ))
[ "$logged" -gt 0 ] && [ "$logged" -le $((11 * (elapsed + 1))) ] &&
    grep -q 'messages suppressed' "$work/guest-errors.log"
tap_result $? "bad requests in a burst: $logged guest error lines in ${elapsed}s, the rest counted"

"${blkfront[@]}" --vdev xvda verify 0 4M --image "$work/rw.img" \
    2>&1 | grep -q '^verify=ok .* image=ok$'
tap_result $? "xvda still moves data correctly"
"${blkfront[@]}" --vdev xvdb read 0 64K >/dev/null 2>&1
tap_result $? "xvdb still serves reads"

qmp '{"execute": "quit"}' > /dev/null
wait "$qemu_pid"
rc=$?
tap_result $rc "QEMU quits cleanly (exit $rc)"
sed 's/^/# /' "$work/qemu.log"

if [ ${#valgrind[@]} = 0 ]; then
    tap_result 0 "valgrind # SKIP sanitizer build"
else
    grep -q 'ERROR SUMMARY: 0 errors' "$work/valgrind.log"
    tap_result $? "valgrind: no memory error, no definite leak"
    grep -A 40 -E 'Invalid|uninitialised|definitely lost in' "$work/valgrind.log" |
        head -n 80 | sed 's/^/# /'
fi

tap_done
