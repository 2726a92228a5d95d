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

qemu=$1
xenemu=$2

if [ "${3:-}" != --inside ]; then
    exec "$xenemu/xenemu-run" --guest 1 -- "$0" "$qemu" "$xenemu" --inside
fi

. "$(dirname "$0")/tap.sh"
work=$(mktemp -d)
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
    for _ in $(seq 300); do
        [ "$(xenstore-read $be/51728/state 2>/dev/null)" = 2 ] && return 0
        sleep 0.1
    done
    return 1
}

# qmp COMMAND [EVENT]: run one QMP command; with EVENT, wait up to 20 s
# for it too.  Prints the command's return value.
qmp() {
    python3 - "$work/qmp.sock" "$1" "${2:-}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
f = s.makefile('rw')
f.readline()
def send(cmd):
    f.write(json.dumps(cmd) + '\n')
    f.flush()
send({'execute': 'qmp_capabilities'})
events = []
def reply():
    while True:
        m = json.loads(f.readline())
        if 'event' in m:
            events.append(m['event'])
        else:
            return m
reply()
send(json.loads(sys.argv[2]))
print(json.dumps(reply().get('return')))
while sys.argv[3] and sys.argv[3] not in events:
    m = json.loads(f.readline())
    if 'event' in m:
        events.append(m['event'])
PY
}

# stream_started LOG: the writer has had writes acknowledged.
stream_started() {
    for _ in $(seq 100); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# --- SIGKILL mid-stream ---------------------------------------------------
start_qemu
tap_result $? "QEMU up"
"${bf[@]}" --timeout 3 --vdev xvda stream 0 16M --seed "$seed" \
    --log "$work/kill.log" > "$work/kill.out" 2>&1 &
stream_pid=$!
stream_started "$work/kill.log"
sleep 1
kill -9 "$qemu_pid"
wait "$qemu_pid" 2>/dev/null
wait "$stream_pid"
sed 's/^/# /' "$work/kill.out"
grep -q '^stream=timeout .* acked=[1-9]' "$work/kill.out"
tap_result $? "SIGKILL: the writer had writes acknowledged, then no answer"
out=$("${bf[@]}" stream-check 0 16M --seed "$seed" --log "$work/kill.log" \
      --image "$work/a.img")
echo "# $out"
echo "$out" | grep -q 'lost=0$'
tap_result $? "SIGKILL: every acknowledged write is in the image"
# What the dead QEMU left in xenstore, as a toolstack would clean it.
xenstore-rm "$be" 2>/dev/null
xenstore-rm "$fe" 2>/dev/null

# --- device_del mid-stream ------------------------------------------------
start_qemu
tap_result $? "QEMU up again"
"${bf[@]}" --timeout 10 --vdev xvda stream 0 16M --seed "$((seed + 1))" \
    --log "$work/del.log" > "$work/del.out" 2>&1 &
stream_pid=$!
stream_started "$work/del.log"
sleep 1
qmp '{"execute": "device_del", "arguments": {"id": "disk0"}}' DEVICE_DELETED
tap_result $? "device_del: DEVICE_DELETED came"
wait "$stream_pid"
sed 's/^/# /' "$work/del.out"
grep -q '^stream=unplugged .* acked=[1-9][0-9]* failed=0 late=0$' "$work/del.out"
tap_result $? "device_del: the writer saw the disk close, no answer after Closed"
out=$("${bf[@]}" stream-check 0 16M --seed "$((seed + 1))" \
      --log "$work/del.log" --image "$work/a.img")
echo "# $out"
echo "$out" | grep -q 'lost=0$'
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
"${bf[@]}" --timeout 10 --vdev xvdc stream 0 16M --seed "$((seed + 2))" \
    --log "$work/libxl.log" > "$work/libxl.out" 2>&1 &
stream_pid=$!
stream_started "$work/libxl.log"
tap_result $? "libxl: the writer on the disk libxl made got going"
sleep 1
libxl_disk_remove 51744
tap_result $? "libxl: the backend reached Closed under the writer"
wait "$stream_pid"
sed 's/^/# /' "$work/libxl.out"
grep -q '^stream=unplugged .* acked=[1-9][0-9]* failed=0 late=0$' \
    "$work/libxl.out"
tap_result $? "libxl: the writer saw the disk close, no answer after Closed"
out=$("${bf[@]}" stream-check 0 16M --seed "$((seed + 2))" \
      --log "$work/libxl.log" --image "$work/c.img")
echo "# $out"
echo "$out" | grep -q 'lost=0$'
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
