#!/bin/bash
# The structured fuzzer (xen-blkfront fuzz) against our QEMU: each ring
# layout and size, with and without indirect requests, four queues, on a
# disk in the main loop, one in an IOThread and a read-only one.  Every run must end with no
# finding, QEMU must keep serving and quit cleanly.  Prints TAP.
#
# Usage: check-fuzz.sh QEMU BUILD/xenemu
# FUZZ_COUNT (default 20000) is the number of requests of each run and
# FUZZ_SEED (default: time based, printed) the first run's seed; `make
# fuzz` runs it long.
set -uo pipefail

. "$(dirname "$0")/qemu-under-double.sh"

count=${FUZZ_COUNT:-20000}
seed=${FUZZ_SEED:-$(( $(date +%s) % 1000000 ))}
echo "# seed $seed, $count requests a run"

for img in main io ro; do
    # Not sparse and not zero: every byte is known to be the image's own.
    head -c 8M /dev/urandom > "$work/$img.img"
done
blkfront=("$xenemu/xen-blkfront" --domid 1 --timeout 20)

LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 -xen-attach \
    -nodefaults -display none -d guest_errors -D "$work/guest-errors.log" \
    -qmp "unix:$work/qmp.sock,server=on,wait=off" \
    -drive "if=none,id=d0,file=$work/main.img,format=raw,discard=unmap" \
    -device xen-disk,vdev=xvda,drive=d0,max-queues=4,persistent-grants=on \
    -object iothread,id=io0 \
    -drive "if=none,id=d1,file=$work/io.img,format=raw,discard=unmap" \
    -device xen-disk,vdev=xvdb,drive=d1,iothread=io0 \
    -drive "if=none,id=d2,file=$work/ro.img,format=raw,readonly=on" \
    -device xen-disk,vdev=xvdc,drive=d2 2>"$work/qemu.log" &
qemu_pid=$!

wait_backend 51744

# fuzz VDEV IMAGE OPTIONS...: one run; its summary or finding as comments,
# and in $out.
fuzz() {
    local vdev=$1 img=$2 rc
    shift 2
    seed=$((seed + 1))
    out=$("${blkfront[@]}" --vdev "$vdev" "$@" fuzz --seed "$seed" \
          --count "$count" --image "$work/$img.img" 2>&1)
    rc=$?
    echo "$out" | sed 's/^/# /'
    [ "$rc" = 0 ] && echo "$out" | grep -q "^fuzz=ok .*requests=$count "
}

for proto in native x86_32 x86_64; do
    for order in 0 4; do
        fuzz xvda main --protocol "$proto" --ring-order "$order" --indirect 256
        tap_result $? "fuzz $proto ring-order $order indirect, main loop: no finding"
    done
done
fuzz xvda main --no-indirect
tap_result $? "fuzz native direct only, main loop: no finding"
# The guest's grant table holds 4 queues x 32 slots x 32 pages, not 128.
fuzz xvda main --queues 4 --ring-order 1 --indirect 32 &&
    echo "$out" | grep -q ' queues=4$'
tap_result $? "fuzz native 4 queues, ring-order 1 indirect, main loop: no finding"
fuzz xvda main --persistent --queues 2 --indirect 64
tap_result $? "fuzz native persistent grants, 2 queues, indirect, main loop: no finding"
fuzz xvdb io --ring-order 2 --indirect 64
tap_result $? "fuzz native ring-order 2 indirect, IOThread: no finding"
fuzz xvdb io --protocol x86_32 --no-indirect
tap_result $? "fuzz x86_32 direct only, IOThread: no finding"
fuzz xvdc ro --indirect 256
tap_result $? "fuzz read-only disk: no finding"

"${blkfront[@]}" --vdev xvda verify 0 4M --image "$work/main.img" \
    2>&1 | grep -q '^verify=ok .* image=ok$'
tap_result $? "xvda still moves data correctly"
kill -0 "$qemu_pid" 2> /dev/null &&
    qmp '{"execute": "quit"}' > /dev/null
wait "$qemu_pid"
rc=$?
tap_result $rc "QEMU quits cleanly (exit $rc)"
sed 's/^/# /' "$work/qemu.log"
tap_done
