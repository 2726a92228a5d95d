#!/bin/bash
# How a qdisk created from a libxl-style backend area opens its image: on
# the host page cache with io_uring by default; with O_DIRECT and native
# AIO where the toolstack wrote direct-io-safe=1 or the image is on tmpfs
# (when the kernel takes O_DIRECT there); on the page cache where the file
# system refuses O_DIRECT (ramfs); with the thread pool where the kernel
# also refuses io_uring (kernel.io_uring_disabled, when the test may set
# it).  A block device likewise, through host_device.  Each time: the
# engine QEMU reports (trace), the image's file descriptors in /proc, the
# one block node QMP shows for a raw image and its cache mode (flushes
# still reach the image: no-flush stays off), and the data a blkfront
# writes, read back and found in the image.  An image that does not open
# is refused with the reason of the last engine tried.  Prints TAP.
#
# Usage: check-engines.sh QEMU BUILD/xenemu
set -uo pipefail

. "$(dirname "$0")/qemu-under-double.sh"
. "$xenemu/libxl-disk.sh"

BE=/local/domain/0/backend/qdisk/1
FE=/local/domain/1/device/vbd
blkfront=("$xenemu/xen-blkfront" --domid 1 --timeout 30 --vdev xvda)

# start IMAGE [DIRECT_IO_SAFE]: QEMU serves the qdisk area of IMAGE,
# tracing its engine.
start() {
    libxl_disk_add 51712 xvda "$1" w 1 "${2:-0}"
    LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 \
        -xen-attach -nodefaults -display none \
        -qmp "unix:$work/qmp.sock,server=on,wait=off" \
        -trace 'xen_qdisk_engine*' 2> "$work/qemu.log" &
    qemu_pid=$!
}

stop() {
    kill -TERM "$qemu_pid"
    wait "$qemu_pid"
    xenstore-rm "$BE/51712" 2>/dev/null
    xenstore-rm "$FE/51712" 2>/dev/null
    return 0
}

# engine IMAGE AIO DIRECT: QEMU reports opening IMAGE so.  QEMU 9.0 and
# later open with io_uring whatever the kernel allows, and fall back to the
# thread pool at the first I/O, saying so.
engine() {
    grep -qx "xen_qdisk_engine $1 aio=$2 direct=$3" "$work/qemu.log" ||
        { [ "$2" = threads ] &&
          grep -qx "xen_qdisk_engine $1 aio=io_uring direct=$3" \
              "$work/qemu.log" &&
          grep -q "falling back to thread pool" "$work/qemu.log"; } ||
        { sed 's/^/# /' "$work/qemu.log"; return 1; }
}

# fds_direct IMAGE yes|no: every descriptor QEMU has on IMAGE has O_DIRECT
# (yes) or none has (no).
fds_direct() {
    local fd flags n=0 want=$2
    for fd in /proc/"$qemu_pid"/fd/*; do
        [ "$(readlink "$fd")" = "$1" ] || continue
        flags=$(sed -n 's/^flags:\s*//p' \
                "/proc/$qemu_pid/fdinfo/${fd##*/}")
        n=$((n + 1))
        if (( (8#$flags & 8#40000) != 0 )); then
            [ "$want" = yes ] || { echo "# fd ${fd##*/}: O_DIRECT"; return 1; }
        else
            [ "$want" = no ] || { echo "# fd ${fd##*/}: no O_DIRECT"; return 1; }
        fi
    done
    [ $n -gt 0 ] || { echo "# no descriptor on $1"; return 1; }
}

# node IMAGE DRIVER DIRECT: QMP shows one block node on IMAGE, of DRIVER
# (a raw image is served by its protocol node alone), with cache
# writeback, direct as given and no-flush off.
node() {
    qmp '{"execute": "query-named-block-nodes"}' | python3 -c '
import json, sys
want = {"writeback": True, "direct": sys.argv[3] == "1", "no-flush": False}
nodes = [n for n in json.load(sys.stdin) if n["file"] == sys.argv[1]]
ok = (len(nodes) == 1 and nodes[0]["drv"] == sys.argv[2] and
      nodes[0]["cache"] == want)
if not ok:
    print("# nodes:", [(n["drv"], n["cache"]) for n in nodes])
sys.exit(0 if ok else 1)' "$1" "$2" "$3"
}

# verify IMAGE: a pattern written, read back, and found in IMAGE.
verify() {
    "${blkfront[@]}" --quiet verify 0 4M --image "$1" |
        grep -q '^verify=ok .* image=ok$'
}

# served IMAGE AIO DIRECT WHAT [DRIVER [DIRECT_IO_SAFE]]: the whole check
# for one image (a file unless DRIVER says otherwise).
served() {
    local image=$1 aio=$2 direct=$3 what=$4 driver=${5:-file} fds=no
    [ "$direct" = 1 ] && fds=yes
    start "$image" "${6:-0}"
    wait_backend 51712
    tap_result $? "$what: the disk is offered"
    verify "$image"
    tap_result $? "$what: data verified in the image"
    engine "$image" "$aio" "$direct"
    tap_result $? "$what: aio=$aio, direct=$direct"
    fds_direct "$image" $fds
    tap_result $? "$what: O_DIRECT on the image's descriptors: $fds"
    node "$image" "$driver" "$direct"
    tap_result $? "$what: one $driver node, cache writeback, direct=$direct, flushes kept"
    stop
}

# A file system on a block device (here /var/tmp's), and a block device
# (a loop device over that image).
disk=$(mktemp /var/tmp/xen-engines.XXXXXX)
truncate -s 64M "$disk"
served "$disk" io_uring 0 "image on a disk"
served "$disk" native 1 "image on a disk, direct-io-safe" file 1
if loop=$(losetup --find --show "$disk" 2>/dev/null); then
    served "$loop" io_uring 0 "block device" host_device
    served "$loop" native 1 "block device, direct-io-safe" host_device 1
    losetup -d "$loop"
else
    for _ in 1 2; do
        echo "ok $((tap_count + 1)) # skip no loop device here"
        tap_count=$((tap_count + 1))
    done
fi
rm -f "$disk"

# tmpfs, where the kernel takes O_DIRECT (Linux 6.6 and later).
shm=$(mktemp /dev/shm/xen-engines.XXXXXX)
truncate -s 64M "$shm"
if dd if=/dev/zero of="$shm" bs=4k count=1 oflag=direct conv=notrunc \
        status=none 2>/dev/null; then
    served "$shm" native 1 "image on tmpfs"
else
    served "$shm" io_uring 0 "image on tmpfs (no O_DIRECT here)"
fi
rm -f "$shm"

# ramfs refuses O_DIRECT.
mkdir "$work/ramfs"
if mount -t ramfs ramfs "$work/ramfs" 2>/dev/null; then
    ram=$work/ramfs/disk.img
    truncate -s 64M "$ram"
    served "$ram" io_uring 0 "image on ramfs, direct-io-safe" file 1
    grep -q "^xen_qdisk_engine_refused $ram aio=native direct=1: .*O_DIRECT" \
        "$work/qemu.log"
    tap_result $? "image on ramfs, direct-io-safe: O_DIRECT refused first, saying why"

    knob=/proc/sys/kernel/io_uring_disabled
    if old=$(cat $knob 2>/dev/null) && echo 2 2>/dev/null > $knob; then
        served "$ram" threads 0 "io_uring disabled, image on ramfs"
        echo "$old" > $knob
    else
        echo "ok $((tap_count + 1)) # skip $knob cannot be set here"
        tap_count=$((tap_count + 1))
    fi
    umount "$work/ramfs"
else
    echo "ok $((tap_count + 1)) # skip ramfs cannot be mounted here"
    tap_count=$((tap_count + 1))
fi

# An image that does not open: refused with the last engine's reason.
start "$work/missing.img"
n=100
until grep -q "missing.img" "$work/qemu.log" || [ $n = 0 ]; do
    sleep 0.1
    n=$((n - 1))
done
grep -q "No such file or directory" "$work/qemu.log" &&
    ! xenstore-read "$BE/51712/state" 2>/dev/null | grep -qx 2
tap_result $? "a missing image: refused, saying why"
stop

tap_done
