#!/bin/bash
# Benchmark our QEMU against Debian's stock QEMU on each base, in the same
# run and under the same Xen test double.  The userspace blkfront (guest
# domain 1) drives a xen-disk of each configuration in turn with the same
# blkfront options (a Linux-like frontend: 16-page ring, indirect requests
# of 32 segments and persistent grants when offered, as many queues as
# offered up to 4).  Prints a table of median IOPS and ratios, then a
# BENCHCASE line per case with each backend's median, min and max IOPS
# over the rounds; speed is reported, never judged.
#
# By default: stock 7.2, ours on 7.2, stock 10.0 (Debian 13's, unpacked by
# fetch-stock-qemu.sh) and ours on 10.0, each disk in an IOThread, with the
# ratios ours/stock per base.  With --queues: QEMU 10.0, stock (one ring)
# against ours with 1, 2 and 4 queues in one IOThread, 2 and 4 queues over
# 2 IOThreads, and 1 and 4 queues with persistent grants, each ratio
# against ours with 1 queue.
#
# Usage: bench.sh [--queues] [--time SEC] [--rounds N] [--tap]
#   --tap  also print TAP: one test per case, passing when every backend
#          completed it without I/O errors (for make check)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
xenemu=$top/build/xenemu
stock72=/usr/libexec/xen-qemu-system-i386
stock100=$top/build/stock-10.0/qemu-system-i386
ours72=$top/build/qemu-7.2/qemu-system-i386
ours100=$top/build/qemu-10.0/qemu-system-i386

seconds=3
rounds=2
tap=0
mode=bases
while [ $# -gt 0 ]; do
    case "$1" in
    --queues) mode=queues; shift ;;
    --time) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --tap) tap=1; shift ;;
    --inside) break ;;
    *) echo "usage: $0 [--queues] [--time SEC] [--rounds N] [--tap]" >&2
       exit 2 ;;
    esac
done

# The disk of each configuration, as a -device argument (drive d0; the
# IOThreads io0 and io1 exist).
iothread='xen-disk,vdev=xvda,drive=d0,iothread=io0'
spread() {
    echo '{"driver": "xen-disk", "vdev": "xvda", "drive": "d0",' \
         "\"max-queues\": $1, \"iothread-vq-mapping\":" \
         '[{"iothread": "io0"}, {"iothread": "io1"}]}'
}
# name|binary|device, in the order they take turns within a round; ratios
# are "column/column|label" (columns from 0).
if [ $mode = bases ]; then
    backends=(
        "stock 7.2|$stock72|$iothread"
        "ours 7.2|$ours72|$iothread"
        "stock 10.0|$stock100|$iothread"
        "ours 10.0|$ours100|$iothread"
    )
    ratios=("1/0|ours/stock 7.2" "3/2|ours/stock 10.0")
else
    backends=(
        "stock|$stock100|$iothread"
        "1q|$ours100|$iothread,max-queues=1"
        "2q|$ours100|$iothread,max-queues=2"
        "4q|$ours100|$iothread,max-queues=4"
        "2q 2io|$ours100|$(spread 2)"
        "4q 2io|$ours100|$(spread 4)"
        "1q pers|$ours100|$iothread,max-queues=1,persistent-grants=on"
        "4q pers|$ours100|$iothread,max-queues=4,persistent-grants=on"
    )
    ratios=("1/0|1q/stock" "3/1|4q/1q" "5/1|4q 2io/1q" "6/1|1q pers/1q"
            "7/3|4q pers/4q")
fi

# name|blkfront bench options
cases=(
    "4K random read QD1|--rw randread --bs 4K --qd 1"
    "4K random read QD32|--rw randread --bs 4K --qd 32"
    "4K random read QD128|--rw randread --bs 4K --qd 128"
    "4K random write QD32|--rw randwrite --bs 4K --qd 32"
    "4K 70/30 mix QD32|--rw mix:70 --rand --bs 4K --qd 32"
    "64K sequential read|--rw read --bs 64K --qd 16"
    "64K sequential write|--rw write --bs 64K --qd 16"
    "1M sequential read|--rw read --bs 1M --qd 8"
    "1M sequential write|--rw write --bs 1M --qd 8"
)

# One BENCH line for @1 (QEMU binary) with the disk @2 (-device) running
# case options @3...
bench_one() {
    local qemu=$1 device=$2 be=/local/domain/0/backend/qdisk/1/51712
    local qemu_pid out
    shift 2
    LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 \
        -xen-attach -nodefaults -display none -object iothread,id=io0 \
        -object iothread,id=io1 \
        -drive "if=none,id=d0,file=$image,format=raw" \
        -device "$device" 2>/dev/null &
    qemu_pid=$!
    for _ in $(seq 100); do
        [ "$(xenstore-read "$be/state" 2>/dev/null)" = 2 ] && break
        sleep 0.1
    done
    out=$("$xenemu/xen-blkfront" --quiet --domid 1 --vdev xvda \
          --ring-order 4 --indirect 32 --queues 4 --persistent \
          bench "$@" --time "$seconds" 0 256M 2>&1 | grep '^BENCH' || true)
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

# "MIN,MAX" IOPS of the complete, error-free BENCH lines on stdin.
iops_range() {
    awk '{ iops = ""; errors = ""
           for (i = 1; i <= NF; i++) {
               if ($i ~ /^iops=/) iops = substr($i, 6)
               if ($i ~ /^errors=/) errors = substr($i, 8)
           }
           if (iops == "" || errors != "0") next
           if (n++ == 0 || iops + 0 < min) min = iops
           if (n == 1 || iops + 0 > max) max = iops }
         END { if (n) print min "," max }'
}

# A name as one word: "4K random read QD1" is 4k-random-read-qd1.
slug() {
    echo "$1" | tr 'A-Z /' 'a-z--'
}

ratio() {
    awk -v o="$1" -v s="$2" 'BEGIN { printf "%.2fx", o / s }'
}

# Median of @rounds for each backend, taking turns so that all see the same
# load.
run() {
    local n=0 failed=0 c name opts r b i runs best iops complete q w line
    local cases_out=()
    image=$(mktemp /dev/shm/xen-bench.XXXXXX)
    truncate -s 256M "$image"
    # Reads of a sparse file measure nothing: give it data first.
    dd if=/dev/urandom of="$image" bs=1M count=256 conv=notrunc \
        status=none

    printf '%-22s' "case (IOPS)"
    for b in "${backends[@]}"; do
        b=${b%%|*}
        printf " %$(( ${#b} > 8 ? ${#b} : 8 ))s" "$b"
    done
    for q in "${ratios[@]}"; do
        q=${q#*|}
        printf " %$(( ${#q} > 8 ? ${#q} : 8 ))s" "$q"
    done
    echo
    for c in "${cases[@]}"; do
        name=${c%%|*}
        opts=${c#*|}
        runs=()
        for r in $(seq "$rounds"); do
            for i in "${!backends[@]}"; do
                b=${backends[i]#*|}
                # shellcheck disable=SC2086
                runs[i]+="$(bench_one "${b%%|*}" "${b#*|}" $opts)"$'\n'
            done
        done
        iops=()
        complete=1
        line="BENCHCASE case=$(slug "$name") rounds=$rounds"
        for i in "${!backends[@]}"; do
            best=$(printf '%s' "${runs[i]}" | median)
            iops[i]=$(field "$best" iops)
            [ -n "${iops[i]}" ] || complete=0
            line="$line $(slug "${backends[i]%%|*}")=${iops[i]:-none},$(
                printf '%s' "${runs[i]}" | iops_range)"
        done
        cases_out+=("$line")
        n=$((n + 1))
        if [ $complete = 0 ]; then
            printf '%-22s %s\n' "$name" "did not complete on every backend"
            [ $tap = 1 ] && echo "not ok $n - $name on every backend"
            failed=1
            continue
        fi
        printf '%-22s' "$name"
        for i in "${!backends[@]}"; do
            b=${backends[i]%%|*}
            printf " %$(( ${#b} > 8 ? ${#b} : 8 ))s" "${iops[i]}"
        done
        for q in "${ratios[@]}"; do
            w=${q#*|}
            w=$(( ${#w} > 8 ? ${#w} : 8 ))
            q=${q%%|*}
            printf " %${w}s" "$(ratio "${iops[${q%/*}]}" "${iops[${q#*/}]}")"
        done
        echo
        [ $tap = 1 ] && echo "ok $n - $name on every backend"
    done
    # Machine-readable: median,min,max IOPS of each backend.
    printf '%s\n' "${cases_out[@]}"
    [ $tap = 1 ] && echo "1..$n"
    rm -f "$image"
    return $failed
}

if [ "${1:-}" = --inside ]; then
    run
    exit
fi
exec "$xenemu/xenemu-run" --guest 1 -- \
    "$0" $([ $mode = queues ] && echo --queues) --time "$seconds" \
    --rounds "$rounds" $([ $tap = 1 ] && echo --tap) --inside
