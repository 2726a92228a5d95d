#!/bin/bash
# The main job: our QEMU serves a disk image to a guest under the Xen test
# double; the userspace blkfront (playing guest domain 1) connects, writes,
# reads back and verifies data, then measures, and we print a short report.
#
# Usage: demo.sh [7.2|10.0]   (the QEMU base of our build; default 10.0)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-10.0}
qemu=$top/build/qemu-$base/qemu-system-i386
xenemu=$top/build/xenemu
image=${DEMO_IMAGE:-$top/build/demo/disk.img}

if [ ! -e "$image" ]; then
    mkdir -p "$(dirname "$image")"
    "$top/build/qemu-$base/qemu-img" create -q -f raw "$image" 256M
fi

qemu_pid=

# Runs inside the test double's environment.
run() {
    local fe=/local/domain/1/device/vbd/51712
    local be=/local/domain/0/backend/qdisk/1/51712
    local blkfront=("$xenemu/xen-blkfront" --domid 1 --vdev xvda
                    --ring-order 4 --indirect 256)
    local info

    LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 \
        -xen-attach -nodefaults -display none -name demo \
        -object iothread,id=io0 \
        -drive "if=none,id=d0,file=$image,format=raw,discard=unmap" \
        -device xen-disk,vdev=xvda,drive=d0,iothread=io0 &
    qemu_pid=$!
    trap 'kill $qemu_pid 2>/dev/null; wait $qemu_pid 2>/dev/null' EXIT

    for _ in $(seq 100); do
        [ "$(xenstore-read "$be/state" 2>/dev/null)" = 2 ] && break
        sleep 0.1
    done

    echo "== Our QEMU serves $image as xvda of guest domain 1"
    echo "   backend area:  $be"
    echo "   frontend area: $fe"
    info=$("${blkfront[@]}" --quiet info)
    echo "== Negotiated with the guest's blkfront"
    echo "$info" | grep -E '^(protocol|ring-order|ring-entries|queues|max-segments|sectors|sector-size|feature-[a-z-]+|max-ring-page-order)=' |
        sed 's/^/   /'

    echo "== Write a pattern, read it back, compare with the image file"
    "${blkfront[@]}" --quiet verify 0 64M --qd 32 --image "$image" |
        sed 's/^/   /'

    echo "== Flush and discard"
    "${blkfront[@]}" --quiet flush | sed 's/^/   /'
    "${blkfront[@]}" --quiet discard 64M 16M | sed 's/^/   /'

    echo "== 4 KiB random reads at queue depth 32 for 3 s"
    "${blkfront[@]}" --quiet bench --rw randread --bs 4K --qd 32 --time 3 |
        grep -v '^BENCH' | sed 's/^/   /'
    echo "== 1 MiB sequential writes at queue depth 8 for 3 s"
    "${blkfront[@]}" --quiet bench --rw write --bs 1M --qd 8 --time 3 \
        0 128M | grep -v '^BENCH' | sed 's/^/   /'
}

if [ "${2:-}" = --inside ]; then
    run
    exit
fi
echo "QEMU: $("$qemu" --version | head -n 1)"
exec "$xenemu/xenemu-run" --guest 1 -- "$0" "$base" --inside
