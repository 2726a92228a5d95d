#!/bin/bash
# A failing disk under our QEMU: QEMU's blkdebug driver injects EIO and
# ENOSPC into reads, writes and flushes, at chosen sectors and at one drawn
# from a seed (FAULT_SEED, printed).  The failing request must be answered
# BLKIF_RSP_ERROR, a flush that failed never OKAY, a write answered OKAY must
# be in the image; QEMU and its other disks keep serving, and the failures
# are logged, rate-limited.  Prints TAP.
#
# Usage: check-faults.sh QEMU BUILD/xenemu
set -uo pipefail

. "$(dirname "$0")/qemu-under-double.sh"

seed=${FAULT_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
# A sector of its own for the seeded fault: 8 MiB to 16 MiB, 4 KiB aligned.
rand_sector=$((16384 + (RANDOM % 2048) * 8))
echo "# FAULT_SEED=$seed: EIO on writes at sector $rand_sector"

truncate -s 64M "$work/a.img" "$work/b.img" "$work/c.img"
# xvda: EIO on writes at 1 MiB and at the seeded sector, ENOSPC on writes
# at 2 MiB, EIO on reads at 3 MiB.  xvdb: every flush fails.
rule() {
    printf '[inject-error]\nevent = "%s"\nerrno = "%s"\n' "$1" "$2"
    [ -n "${3:-}" ] && printf 'sector = "%s"\n' "$3"
    echo
}
{
    rule write_aio 5 2048
    rule write_aio 5 "$rand_sector"
    rule write_aio 28 4096
    rule read_aio 5 6144
} > "$work/a.cfg"
rule flush_to_disk 5 > "$work/b.cfg"

LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 -xen-attach \
    -nodefaults -display none \
    -drive "if=none,id=d0,format=raw,file=blkdebug:$work/a.cfg:$work/a.img" \
    -device xen-disk,vdev=xvda,drive=d0 \
    -drive "if=none,id=d1,format=raw,file=blkdebug:$work/b.cfg:$work/b.img" \
    -device xen-disk,vdev=xvdb,drive=d1 \
    -drive "if=none,id=d2,format=raw,file=$work/c.img" \
    -device xen-disk,vdev=xvdc,drive=d2 2> "$work/qemu.log" &
qemu_pid=$!

wait_backend 51744

bf() {
    "$xenemu/xen-blkfront" --domid 1 --timeout 10 --vdev "$@" 2>&1
}

# refused WHAT COMMAND...: the blkfront command fails with status ERROR
# (-1), QEMU's answer to a failed request.
refused() {
    local what=$1 out
    shift
    out=$(bf "$@")
    echo "$out" | sed 's/^/# /'
    echo "$out" | grep -q '^status=-1$'
    tap_result $? "$what: answered ERROR"
}

# xvdb has nothing to flush until written to (QEMU then skips the flush).
bf xvdb write 0 4K --pattern 7 > /dev/null
tap_result $? "xvdb: a write before its flushes fail"

refused "EIO on a write at sector 2048" xvda write 1M 4K --pattern 8
refused "ENOSPC on a write at sector 4096" xvda write 2M 4K --pattern 8
refused "EIO on a read at sector 6144" xvda read 3M 4K
refused "EIO on a write at seeded sector $rand_sector" \
    xvda write $((rand_sector * 512)) 4K --pattern 8
refused "EIO on a flush" xvdb flush
refused "EIO on an empty barrier's flush" xvdb flush --barrier
refused "EIO on the flush of a barrier with data" \
    xvdb write 1M 4K --pattern 9 --barrier

# Nothing that was refused reached the images, which were all zeroes there.
zero_page() {
    cmp -s <(head -c 4096 /dev/zero) \
           <(dd if="$1" bs=4096 skip=$(($2 / 4096)) count=1 2>/dev/null)
}
zero_page "$work/a.img" 1048576 && zero_page "$work/a.img" 2097152 &&
    zero_page "$work/a.img" $((rand_sector * 512))
tap_result $? "xvda: the refused writes changed no byte of the image"
zero_page "$work/b.img" 1048576
tap_result $? "xvdb: the barrier whose flush failed wrote nothing"

# A write answered OKAY is in the image, around the faulty sectors too.
out=$(bf xvda verify 32M 4M --image "$work/a.img")
echo "$out" | grep -q '^verify=ok .* image=ok$'
tap_result $? "xvda: writes answered OKAY are in the image"
for off in $((1048576 - 4096)) $((1048576 + 4096)); do
    bf xvda verify "$off" 4K --image "$work/a.img" |
        grep -q '^verify=ok .* image=ok$'
    tap_result $? "xvda: the page at byte $off, next to a faulty sector, is written and in the image"
done

out=$(bf xvdc verify 0 2M --image "$work/c.img")
echo "$out" | grep -q '^verify=ok .* image=ok$'
tap_result $? "xvdc, a healthy disk beside them, moves data correctly"

# A guest that keeps retrying: a second of failing writes, 8 in flight, is
# logged in bursts of at most ten a second, then counted.
start=$SECONDS
out=$(bf xvda bench 1M 4K --rw write --bs 4K --qd 8 --time 1)
echo "$out" | grep '^BENCH' | sed 's/^/# /'
sleep 1
bf xvda write 1M 4K --pattern 8 > /dev/null
elapsed=$((SECONDS - start + 1))
logged=$(grep -c 'failed: ' "$work/qemu.log")
echo "# $logged I/O error lines in ${elapsed}s"
echo "$out" | grep -q '^BENCH.* errors=[1-9][0-9][0-9]' &&
    [ "$logged" -le $((10 * (elapsed + 1) + 10)) ] &&
    grep -q 'write at sector 2048 failed: Input/output error' "$work/qemu.log" &&
    grep -q 'I/O error messages suppressed' "$work/qemu.log"
tap_result $? "the failures are logged, rate-limited ($logged lines)"

kill -0 "$qemu_pid" && bf xvda read 32M 4K > /dev/null
tap_result $? "QEMU still runs and serves xvda"
kill "$qemu_pid"
wait "$qemu_pid"
grep -v 'failed: \|suppressed' "$work/qemu.log" | sed 's/^/# /'
tap_done
