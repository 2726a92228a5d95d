#!/bin/bash
# Loss-free under load: a writer streams verified writes, each write QEMU
# acknowledged recorded (xen-blkfront stream), while QEMU is killed with
# SIGKILL, while the disk is removed with QMP device_del, and while libxl
# removes a disk it made through xenstore.  Every acknowledged write must
# be in the image; after an unplug no answer may come after Closed, both
# xenstore areas and the drive must be gone, and xvdb must keep serving.
# Prints TAP.
#
# Usage: check-loss.sh QEMU BUILD/xenemu
set -uo pipefail

. "$(dirname "$0")/qemu-under-double.sh"
trap 'kill -9 "${qemu_pid:-}" 2>/dev/null; rm -rf "$work"' EXIT

be=/local/domain/0/backend/qdisk/1
fe=/local/domain/1/device/vbd
BE=$be FE=$fe
. "$xenemu/libxl-disk.sh"
seed=$((RANDOM * 32768 + RANDOM))
echo "# stream seed $seed"
bf=("$xenemu/xen-blkfront" --domid 1)

start_qemu() {
    truncate -s 32M "$work/a.img" "$work/b.img"
    LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 \
        -xen-attach -nodefaults -display none \
        -qmp "unix:$work/qmp.sock,server=on,wait=off" \
        -drive "if=none,id=d0,file=$work/a.img,format=raw" \
        -device xen-disk,id=disk0,vdev=xvda,drive=d0 \
        -drive "if=none,id=d1,file=$work/b.img,format=raw" \
        -device xen-disk,id=disk1,vdev=xvdb,drive=d1 \
        2>> "$work/qemu.log" &
    qemu_pid=$!
    wait_backend 51728 30
}

# start_stream NAME VDEV SEED TIMEOUT: a writer on VDEV in the background
# ($stream_pid), logging to $work/NAME.log; returns once it has had writes
# acknowledged, or fails after 10 s without.
start_stream() {
    "${bf[@]}" --timeout "$4" --vdev "$2" stream 0 16M --seed "$3" \
        --log "$work/$1.log" > "$work/$1.out" 2>&1 &
    stream_pid=$!
    for _ in $(seq 100); do
        [ -s "$work/$1.log" ] && return 0
        sleep 0.1
    done
    return 1
}

# end_stream NAME PATTERN: waits for the writer, shows what it said, and
# checks its summary line against PATTERN.
end_stream() {
    wait "$stream_pid"
    sed 's/^/# /' "$work/$1.out"
    grep -q "$2" "$work/$1.out"
}

# no_loss NAME SEED IMAGE: every write logged in NAME.log is in IMAGE.
no_loss() {
    local out
    out=$("${bf[@]}" stream-check 0 16M --seed "$2" --log "$work/$1.log" \
          --image "$3")
    echo "# $out"
    echo "$out" | grep -q 'lost=0$'
}

# --- SIGKILL mid-stream ---------------------------------------------------
start_qemu
tap_result $? "QEMU up"
start_stream kill xvda "$seed" 3
sleep 1
kill -9 "$qemu_pid"
wait "$qemu_pid" 2>/dev/null
end_stream kill '^stream=timeout .* acked=[1-9]'
tap_result $? "SIGKILL: the writer had writes acknowledged, then no answer"
no_loss kill "$seed" "$work/a.img"
tap_result $? "SIGKILL: every acknowledged write is in the image"
# What the dead QEMU left in xenstore, as a toolstack would clean it.
xenstore-rm "$be" 2>/dev/null
xenstore-rm "$fe" 2>/dev/null

# --- device_del mid-stream ------------------------------------------------
start_qemu
tap_result $? "QEMU up again"
start_stream del xvda "$((seed + 1))" 10
sleep 1
qmp '{"execute": "device_del", "arguments": {"id": "disk0"}}' DEVICE_DELETED
tap_result $? "device_del: DEVICE_DELETED came"
end_stream del '^stream=unplugged .* acked=[1-9][0-9]* failed=0 late=0$'
tap_result $? "device_del: the writer saw the disk close, no answer after Closed"
no_loss del "$((seed + 1))" "$work/a.img"
tap_result $? "device_del: every acknowledged write is in the image"
! xenstore-read "$be/51712/state" 2>/dev/null &&
    ! xenstore-read "$fe/51712/state" 2>/dev/null
tap_result $? "device_del: both xenstore areas are gone"
blocks=$(qmp '{"execute": "query-block"}')
! echo "$blocks" | grep -q '"device": "d0"' && echo "$blocks" | grep -q '"d1"'
tap_result $? "device_del: the drive went with the device"
"${bf[@]}" --timeout 10 --vdev xvdb verify 0 1M --image "$work/b.img" |
    grep -q '^verify=ok .* image=ok$'
tap_result $? "xvdb still moves data correctly"

# --- libxl's removal mid-stream -------------------------------------------
truncate -s 32M "$work/c.img"
libxl_disk_add 51744 xvdc "$work/c.img" w 0
start_stream libxl xvdc "$((seed + 2))" 10
tap_result $? "libxl: the writer on the disk libxl made got going"
sleep 1
libxl_disk_remove 51744
tap_result $? "libxl: the backend reached Closed under the writer"
end_stream libxl '^stream=unplugged .* acked=[1-9][0-9]* failed=0 late=0$'
tap_result $? "libxl: the writer saw the disk close, no answer after Closed"
no_loss libxl "$((seed + 2))" "$work/c.img"
tap_result $? "libxl: every acknowledged write is in the image"
for _ in $(seq 50); do
    qmp '{"execute": "query-block"}' | grep -q 'c\.img' || break
    sleep 0.1
done
! qmp '{"execute": "query-block"}' | grep -q 'c\.img'
tap_result $? "libxl: QEMU let go of the disk's image"

kill "$qemu_pid"
wait "$qemu_pid"
tap_result $? "QEMU exits cleanly"
sed 's/^/# /' "$work/qemu.log"
tap_done
