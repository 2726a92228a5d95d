#!/bin/bash
# Benchmark our QEMU against Debian's stock QEMU on each base, in the same
# run and under the same Xen test double: stock 7.2, ours on 7.2, stock 10.0
# (Debian 13's, unpacked by fetch-stock-qemu.sh) and ours on 10.0.  The
# userspace blkfront (guest domain 1) drives a xen-disk of each in turn,
# served from an IOThread, with the same blkfront options (a Linux-like
# frontend: 16-page ring, indirect requests of 32 segments when offered).
# Prints a table of median IOPS and the ratios ours/stock per base; speed is
# reported, never judged.
#
# Usage: bench.sh [--time SEC] [--rounds N] [--tap]
#   --tap  also print TAP: one test per case, passing when every backend
#          completed it without I/O errors (for make check)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# name|binary, in the order they take turns within a round
backends=(
    "stock 7.2|/usr/libexec/xen-qemu-system-i386"
    "ours 7.2|$top/build/qemu-7.2/qemu-system-i386"
    "stock 10.0|$top/build/stock-10.0/qemu-system-i386"
    "ours 10.0|$top/build/qemu-10.0/qemu-system-i386"
)
xenemu=$top/build/xenemu

seconds=3
rounds=2
tap=0
while [ $# -gt 0 ]; do
    case "$1" in
    --time) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --tap) tap=1; shift ;;
    --inside) break ;;
    *) echo "usage: $0 [--time SEC] [--rounds N] [--tap]" >&2; exit 2 ;;
    esac
done

# name|blkfront bench options
cases=(
    "4K random read QD1|--rw randread --bs 4K --qd 1"
    "4K random read QD32|--rw randread --bs 4K --qd 32"
    "4K random read QD128|--rw randread --bs 4K --qd 128"
    "64K sequential read|--rw read --bs 64K --qd 16"
    "64K sequential write|--rw write --bs 64K --qd 16"
    "1M sequential read|--rw read --bs 1M --qd 8"
    "1M sequential write|--rw write --bs 1M --qd 8"
)

# One BENCH line for @1 (QEMU binary) running case options @2...
bench_one() {
    local qemu=$1 be=/local/domain/0/backend/qdisk/1/51712 qemu_pid out
    shift
    LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 \
        -xen-attach -nodefaults -display none -object iothread,id=io0 \
        -drive "if=none,id=d0,file=$image,format=raw" \
        -device xen-disk,vdev=xvda,drive=d0,iothread=io0 2>/dev/null &
    qemu_pid=$!
    for _ in $(seq 100); do
        [ "$(xenstore-read "$be/state" 2>/dev/null)" = 2 ] && break
        sleep 0.1
    done
    out=$("$xenemu/xen-blkfront" --quiet --domid 1 --vdev xvda \
          --ring-order 4 --indirect 32 bench "$@" --time "$seconds" \
          0 256M 2>&1 | grep '^BENCH' || true)
    kill "$qemu_pid"
    wait "$qemu_pid" 2>/dev/null || true
    for _ in $(seq 100); do
        xenstore-read "$be/state" >/dev/null 2>&1 || break
        sleep 0.05
    done
    echo "$out"
}

field() {
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# The median by IOPS of the complete, error-free BENCH lines on stdin.
median() {
    local lines=() line
    while IFS= read -r line; do
        if [ -n "$(field "$line" iops)" ] &&
           [ "$(field "$line" errors)" = 0 ]; then
            lines+=("$line")
        fi
    done
    [ ${#lines[@]} = 0 ] && return
    printf '%s\n' "${lines[@]}" |
        awk '{ for (i = 1; i <= NF; i++)
                   if ($i ~ /^iops=/) print substr($i, 6) "\t" $0 }' |
        sort -n | cut -f2- | sed -n "$(( (${#lines[@]} + 1) / 2 ))p"
}

ratio() {
    awk -v o="$1" -v s="$2" 'BEGIN { printf "%.2fx", o / s }'
}

# Median of @rounds for each backend, taking turns so that all see the same
# load.
run() {
    local n=0 failed=0 c name opts r b i runs best iops complete
    image=$(mktemp /dev/shm/xen-bench.XXXXXX)
    truncate -s 256M "$image"
    # Reads of a sparse file measure nothing: give it data first.
    dd if=/dev/urandom of="$image" bs=1M count=256 conv=notrunc \
        status=none

    printf '%-22s' case
    for b in "${backends[@]}"; do
        printf ' %11s' "${b%%|*}"
    done
    printf ' %9s %9s\n' "ours/stock" "ours/stock"
    printf '%-22s %47s %9s %9s\n' "" "(IOPS)" 7.2 10.0
    for c in "${cases[@]}"; do
        name=${c%%|*}
        opts=${c#*|}
        runs=()
        for r in $(seq "$rounds"); do
            for i in "${!backends[@]}"; do
                # shellcheck disable=SC2086
                runs[i]+="$(bench_one "${backends[i]#*|}" $opts)"$'\n'
            done
        done
        iops=()
        complete=1
        for i in "${!backends[@]}"; do
            best=$(printf '%s' "${runs[i]}" | median)
            iops[i]=$(field "$best" iops)
            [ -n "${iops[i]}" ] || complete=0
        done
        n=$((n + 1))
        if [ $complete = 0 ]; then
            printf '%-22s %s\n' "$name" "did not complete on every backend"
            [ $tap = 1 ] && echo "not ok $n - $name on every backend"
            failed=1
            continue
        fi
        printf '%-22s %11s %11s %11s %11s %9s %9s\n' "$name" "${iops[@]}" \
            "$(ratio "${iops[1]}" "${iops[0]}")" \
            "$(ratio "${iops[3]}" "${iops[2]}")"
        [ $tap = 1 ] && echo "ok $n - $name on every backend"
    done
    [ $tap = 1 ] && echo "1..$n"
    rm -f "$image"
    return $failed
}

if [ "${1:-}" = --inside ]; then
    run
    exit
fi
exec "$xenemu/xenemu-run" --guest 1 -- env seconds="$seconds" \
    "$0" --time "$seconds" --rounds "$rounds" $([ $tap = 1 ] && echo --tap) \
    --inside
