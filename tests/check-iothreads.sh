#!/bin/bash
# The queues of one disk served by several IOThreads (iothread-vq-mapping,
# QEMU 9.0 or later): every malformed mapping refused with its reason, each
# IOThread doing the work of the queues it was given, the data of 4 queues
# spread over 2 IOThreads in the image, a bad queue halted while the queues
# of the other IOThread serve on, reconnects, a resize and an unplug under
# load.  On QEMU 7.2, whose block layer serves a drive from one AioContext,
# the mapping is refused and 4 queues in one IOThread are checked.
# Prints TAP.
#
# Usage: check-iothreads.sh QEMU BUILD/xenemu
set -uo pipefail

. "$(dirname "$0")/qemu-under-double.sh"

be=/local/domain/0/backend/qdisk/1/51712
img=$work/disk.img
truncate -s 64M "$img"
blkfront=("$xenemu/xen-blkfront" --domid 1 --timeout 30 --vdev xvda)
seed=$$

# start DEVICE IOTHREAD...: QEMU with xvda given as the JSON DEVICE (drive
# d0: the raw image, or the options in $drive) and the named IOThreads, its
# threads named; the pid in $qemu_pid.
start() {
    local device=$1 objects=() id
    shift
    for id; do
        objects+=(-object "iothread,id=$id")
    done
    LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 \
        -xen-attach -nodefaults -display none -name debug-threads=on \
        -qmp "unix:$work/qmp.sock,server=on,wait=off" "${objects[@]}" \
        -drive "if=none,id=d0,${drive:-file=$img,format=raw}" -device "$device" \
        2> "$work/qemu.log" &
    qemu_pid=$!
}

# stop: QEMU exits on SIGTERM and its backend area goes with it.
stop() {
    local n
    kill -TERM "$qemu_pid" && wait "$qemu_pid"
    for n in $(seq 100); do
        xenstore-read "$be/state" > /dev/null 2>&1 || return 0
        sleep 0.05
    done
    return 1
}

# xvda JSON-MEMBERS: the device, with 4 queues and JSON-MEMBERS.
xvda() {
    echo '{"driver": "xen-disk", "id": "xvda", "vdev": "xvda", "drive": "d0",' \
         '"max-queues": 4'"${1:+, $1}"'}'
}

# refused MAPPING MESSAGE: QEMU does not start with MAPPING (JSON), saying
# MESSAGE.
refused() {
    start "$(xvda "\"iothread-vq-mapping\": $1")" io0 io1
    ! wait "$qemu_pid" && grep -qF "$2" "$work/qemu.log" ||
        { sed 's/^/# /' "$work/qemu.log"; return 1; }
}

# switches NAME: voluntary context switches of QEMU's thread NAME so far.
switches() {
    local t
    for t in /proc/"$qemu_pid"/task/*; do
        if [ "$(cat "$t/comm")" = "$1" ]; then
            sed -n 's/^voluntary_ctxt_switches:\s*//p' "$t/status"
            return
        fi
    done
    echo "no thread $1" >&2
    echo 0
}

# verify ARGS...: the blkfront writes and reads back a pattern, checked in
# the image too.
verify() {
    seed=$((seed + 7919))
    "${blkfront[@]}" --quiet "$@" verify --seed $seed --image "$img" |
        grep -q '^verify=ok .* image=ok$'
}

# reads_on_queues N: 20000 4K random reads spread over N queues; the
# context switches of io0 and io1 meanwhile in $io0 and $io1.
reads_on_queues() {
    local a b rc
    a=$(switches "IO io0")
    b=$(switches "IO io1")
    "${blkfront[@]}" --quiet --queues "$1" bench --rw randread --bs 4K \
        --qd 32 --count 20000 | grep -q '^BENCH .* errors=0$'
    rc=$?
    io0=$(($(switches "IO io0") - a))
    io1=$(($(switches "IO io1") - b))
    echo "# context switches during the reads: io0 $io0, io1 $io1"
    return $rc
}

if "$qemu" --version | grep -q 'version 7\.'; then
    refused '[{"iothread": "io0"}, {"iothread": "io1"}]' \
        "needs QEMU 9.0 or later"
    tap_result $? "QEMU 7.2 refuses iothread-vq-mapping, saying why"

    start "$(xvda '"iothread": "io0"')" io0
    wait_backend 51712
    tap_result $? "4 queues in one IOThread: the device is offered"
    for p in x86_32 x86_64; do
        verify --queues 4 --indirect 32 --protocol $p
        tap_result $? "4 queues in one IOThread, $p ABI: data verified"
    done
    stop
    tap_result $? "QEMU exits on SIGTERM"
    tap_done
    exit
fi

refused '[{"iothread": "io9"}]' 'IOThread "io9" does not exist'
tap_result $? "refused: an IOThread that does not exist"
refused '[{"iothread": "io0"}, {"iothread": "io0"}]' \
    'IOThread "io0" is named twice'
tap_result $? "refused: an IOThread named twice"
refused '[{"iothread": "io0", "vqs": [0, 1]}, {"iothread": "io1"}]' \
    "give vqs for every IOThread or for none"
tap_result $? "refused: vqs for some IOThreads only"
refused '[{"iothread": "io0", "vqs": [0, 4]}, {"iothread": "io1", "vqs": [1, 2, 3]}]' \
    'queue 4 of IOThread "io0" is not below max-queues 4'
tap_result $? "refused: a queue beyond max-queues"
refused '[{"iothread": "io0", "vqs": [0, 1, 2]}, {"iothread": "io1", "vqs": [2, 3]}]' \
    "queue 2 is given to two IOThreads"
tap_result $? "refused: a queue given to two IOThreads"
refused '[{"iothread": "io0", "vqs": [0, 1]}, {"iothread": "io1", "vqs": [3]}]' \
    "queue 2 has no IOThread"
tap_result $? "refused: a queue left without an IOThread"
start "$(xvda '"iothread": "io0", "iothread-vq-mapping": [{"iothread": "io1"}]')" \
    io0 io1
! wait "$qemu_pid" &&
    grep -qF "iothread and iothread-vq-mapping are mutually exclusive" \
        "$work/qemu.log"
tap_result $? "refused: iothread and iothread-vq-mapping together"

# Queues dealt out in turn: 0 and 2 to io0, 1 and 3 to io1.
start "$(xvda '"iothread-vq-mapping": [{"iothread": "io0"}, {"iothread": "io1"}]')" \
    io0 io1
wait_backend 51712
tap_result $? "4 queues over 2 IOThreads: the device is offered"
reads_on_queues 4
tap_result $? "4 queues over 2 IOThreads: 20000 reads without error"
[ $io0 -ge 200 ] && [ $io1 -ge 200 ]
tap_result $? "4 queues over 2 IOThreads: both IOThreads serve"
for p in x86_32 x86_64; do
    verify --queues 4 --indirect 32 --protocol $p
    tap_result $? "4 queues over 2 IOThreads, $p ABI: data verified"
done
verify --queues 4 --indirect 64 --persistent --ring-order 2
tap_result $? "4 queues over 2 IOThreads, persistent grants: data verified"
"${blkfront[@]}" --quiet --queues 4 reconnect 3 | grep -qx 'reconnect=ok count=3'
tap_result $? "4 queues over 2 IOThreads: 3 reconnects keep the data"

# A bad queue (the last, io1's) is halted; io0's queues serve on.
for c in prod-overflow bad-gref; do
    out=$("${blkfront[@]}" --queues 4 hostile $c 2>&1)
    echo "$out" | sed 's/^/# /'
    echo "$out" | grep -qx survived=yes && echo "$out" | grep -qx contract=yes
    tap_result $? "hostile $c on io1's last queue: answered per contract"
done

# A resize drains every queue of both IOThreads under load.
"${blkfront[@]}" --quiet --queues 4 bench --rw randwrite --bs 4K --qd 32 \
    --time 3 0 32M > "$work/bench.out" 2>&1 &
bench=$!
sleep 1
qmp '{"execute": "block_resize", "arguments": {"device": "d0", "size": 134217728}}' \
    > /dev/null
wait "$bench"
grep -q '^BENCH .* errors=0$' "$work/bench.out" &&
    [ "$(xenstore-read "$be/sectors")" = 262144 ]
tap_result $? "resize under load on 4 queues: no error, sectors 262144"
verify --queues 4 --indirect 32
tap_result $? "after the resize: data verified on 4 queues"
stop
tap_result $? "QEMU exits on SIGTERM"

# Queue 0 alone to io0, the others to io1: one queue's work stays in io0.
start "$(xvda '"iothread-vq-mapping": [{"iothread": "io0", "vqs": [0]}, {"iothread": "io1", "vqs": [1, 2, 3]}]')" \
    io0 io1
wait_backend 51712
tap_result $? "queues by vqs: the device is offered"
reads_on_queues 1
tap_result $? "queues by vqs: 20000 reads on queue 0 without error"
[ $io0 -ge 200 ] && [ $io1 -lt 50 ]
tap_result $? "queues by vqs: only io0 serves queue 0"

# Unplug while both IOThreads serve: the device goes, QEMU stays.
"${blkfront[@]}" --quiet --queues 4 bench --rw randwrite --bs 4K --qd 32 \
    --time 5 > /dev/null 2>&1 &
bench=$!
sleep 1
qmp '{"execute": "device_del", "arguments": {"id": "xvda"}}' DEVICE_DELETED \
    > "$work/del.out"
rc=$?
wait "$bench"
[ $rc = 0 ] && [ "$(qmp '{"execute": "query-status"}')" != null ] &&
    kill -0 "$qemu_pid"
tap_result $? "device_del under load on 2 IOThreads: deleted, QEMU runs on"
stop
tap_result $? "QEMU exits on SIGTERM"

# Native AIO reaps what has completed as it submits, so the last requests
# in flight may complete inside the ring handler.  With more requests on
# the ring than slots the handler then has to go on by itself: the
# frontend sends no event for requests it has queued already (a stall
# once seen at queue depth 128 on 2 queues over 2 IOThreads).
shm_img=$(mktemp /dev/shm/check-iothreads.XXXXXX)
truncate -s 64M "$shm_img"
drive="file=$shm_img,driver=file,cache=none,aio=native" \
    start "$(xvda '"iothread-vq-mapping": [{"iothread": "io0"}, {"iothread": "io1"}]')" \
    io0 io1
wait_backend 51712
rc=0
for run in 1 2 3; do
    "${blkfront[@]}" --quiet --queues 2 --ring-order 4 \
        --indirect 32 bench --rw randread --bs 4K --qd 128 --time 2 |
        grep -q '^BENCH .* errors=0$' || { rc=1; break; }
done
tap_result $rc "native AIO, queue depth 128 on 2 queues over 2 IOThreads: 3 x 2 s of reads"
stop
tap_result $? "QEMU exits on SIGTERM"
rm -f "$shm_img"
tap_done
