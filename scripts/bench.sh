#!/bin/bash
# Benchmark our QEMU against Debian's stock QEMU on each base, in the same
# run and under the same Xen test double.  The userspace blkfront (guest
# domain 1) drives the disk of each configuration in turn with the same
# blkfront options (a Linux-like frontend: 16-page ring, indirect requests
# of 32 segments and persistent grants when offered, as many queues as
# offered up to 4).  Prints, per case, the median IOPS over the rounds and
# the ratios, then the QEMU CPU time per I/O (user + system, all threads,
# from /proc/PID/stat) and its ratios; then a BENCHCASE line per case with
# each configuration's median, min and max.  Speed is reported, never
# judged.
#
# Modes (one at a time):
#   (default)   stock 7.2, ours on 7.2, stock 10.0 (Debian 13's, unpacked
#               by fetch-stock-qemu.sh) and ours on 10.0, each disk created
#               from a libxl-style backend area (libxl's default qdisk:
#               params=aio:IMAGE, no direct-io-safe), so each QEMU picks its
#               own drive options and IOThread
#   --queues    QEMU 10.0, stock (one ring, thread pool) against ours with
#               1, 2 and 4 queues in one IOThread, 2 and 4 queues over 2
#               IOThreads, 1 and 4 queues with persistent grants (ours
#               with O_DIRECT and native AIO, as its qdisk path opens an
#               image on tmpfs)
#   --engines   ours on 10.0 with each I/O engine and cache mode a raw
#               drive can take, the last without the raw format node, and
#               the qdisk path, against aio=threads on the host page cache
#   --polling   ours on 10.0 with its IOThread polling adaptively up to 32
#               us (QEMU's default), not polling, and up to 256 us, at
#               queue depths 1 and 32
#   --ceiling   the rig's limit: blkfront-test-backend --null (the same
#               grant copies and event channels, no disk) against ours on
#               each base with a null-co drive
#   --depths PNG  4K random reads at queue depths 1 to 128, default mode's
#               four QEMUs; plots IOPS by depth into PNG (gnuplot)
#
# Options:
#   --ext4      the image on an ext4 file system on a loop device instead
#               of /dev/shm (needs root)
#   --callgrind also instructions per I/O: each configuration again under
#               valgrind's callgrind with two I/O counts, the difference
#               divided by the difference of the counts (slow)
#   --only REGEX  only the cases whose name matches (grep -E)
#   --time SEC, --rounds N: per run and per case (defaults 3 and 2)
#   --tap       also print TAP: one test per case, passing when every
#               configuration completed it without I/O errors (make check)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
xenemu=$top/build/xenemu
stock72=/usr/libexec/xen-qemu-system-i386
stock100=$top/build/stock-10.0/qemu-system-i386
ours72=$top/build/qemu-7.2/qemu-system-i386
ours100=$top/build/qemu-10.0/qemu-system-i386

usage() {
    sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0" >&2
    exit 2
}

seconds=3
rounds=2
tap=0
ext4=0
callgrind=0
only=
mode=bases
plot=
args=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
    --queues) mode=queues; shift ;;
    --engines) mode=engines; shift ;;
    --ceiling) mode=ceiling; shift ;;
    --polling) mode=polling; shift ;;
    --depths) [ $# -ge 2 ] || usage; mode=depths; plot=$(realpath -m "$2")
              shift 2 ;;
    --ext4) ext4=1; shift ;;
    --callgrind) callgrind=1; shift ;;
    --only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
    --time) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --rounds) [ $# -ge 2 ] || usage; rounds=$2; shift 2 ;;
    --tap) tap=1; shift ;;
    --inside) break ;;
    *) usage ;;
    esac
done

# Each configuration is "name|kind|binary|drive options|-device|io0
# options", and they take turns within a round (IMAGE in the drive options
# names the image).  Kinds: qdisk (a
# libxl-style backend area; QEMU makes drive and device), device (-drive
# and -device; IOThreads io0, with the options given, and io1 exist), null
# (blkfront-test-backend --null).  Ratios are
# "column/column|label" (columns from 0).
disk='xen-disk,vdev=xvda,drive=d0,iothread=io0'
raw='file=IMAGE,format=raw,cache=writeback,aio=threads'
# What the qdisk path opens an image on tmpfs with.
memimg='file=IMAGE,driver=file,cache=none,aio=native'
spread() {
    echo '{"driver": "xen-disk", "vdev": "xvda", "drive": "d0",' \
         "\"max-queues\": $1, \"iothread-vq-mapping\":" \
         '[{"iothread": "io0"}, {"iothread": "io1"}]}'
}
case $mode in
bases|depths)
    configs=(
        "stock 7.2|qdisk|$stock72"
        "ours 7.2|qdisk|$ours72"
        "stock 10.0|qdisk|$stock100"
        "ours 10.0|qdisk|$ours100"
    )
    ratios=("1/0|o7.2/s7.2" "1/2|o7.2/s10.0" "3/0|o10.0/s7.2"
            "3/2|o10.0/s10.0")
    ;;
queues)
    configs=(
        "stock|device|$stock100|$raw|$disk"
        "1q|device|$ours100|$memimg|$disk,max-queues=1"
        "2q|device|$ours100|$memimg|$disk,max-queues=2"
        "4q|device|$ours100|$memimg|$disk,max-queues=4"
        "2q 2io|device|$ours100|$memimg|$(spread 2)"
        "4q 2io|device|$ours100|$memimg|$(spread 4)"
        "1q pers|device|$ours100|$memimg|$disk,max-queues=1,persistent-grants=on"
        "4q pers|device|$ours100|$memimg|$disk,max-queues=4,persistent-grants=on"
    )
    ratios=("1/0|1q/stock" "3/1|4q/1q" "5/1|4q 2io/1q" "6/1|1q pers/1q"
            "7/3|4q pers/4q")
    ;;
engines)
    configs=(
        "threads|device|$ours100|$raw|$disk"
        "io_uring|device|$ours100|file=IMAGE,format=raw,cache=writeback,aio=io_uring|$disk"
        "native dio|device|$ours100|file=IMAGE,format=raw,cache=none,aio=native|$disk"
        "io_uring dio|device|$ours100|file=IMAGE,format=raw,cache=none,aio=io_uring|$disk"
        "file native dio|device|$ours100|$memimg|$disk"
        "qdisk|qdisk|$ours100"
    )
    ratios=("1/0|io_uring" "2/0|native dio" "3/0|io_uring dio"
            "4/0|file native dio" "5/0|qdisk")
    ;;
polling)
    configs=(
        "poll 32us|device|$ours100|$memimg|$disk"
        "no polling|device|$ours100|$memimg|$disk|,poll-max-ns=0"
        "poll 256us|device|$ours100|$memimg|$disk|,poll-max-ns=262144"
    )
    ratios=("1/0|none/32us" "2/0|256us/32us")
    ;;
ceiling)
    nullco='driver=null-co,size=256M'
    configs=(
        "ceiling|null"
        "ours 7.2|device|$ours72|$nullco|$disk"
        "ours 10.0|device|$ours100|$nullco|$disk"
    )
    ratios=("1/0|o7.2/ceiling" "2/0|o10.0/ceiling")
    ;;
esac

# name|blkfront bench options
if [ $mode = polling ]; then
    cases=(
        "4K random read QD1|--rw randread --bs 4K --qd 1"
        "4K random write QD1|--rw randwrite --bs 4K --qd 1"
        "4K random read QD32|--rw randread --bs 4K --qd 32"
    )
elif [ $mode = depths ]; then
    cases=()
    for qd in 1 2 4 8 16 32 64 128; do
        cases+=("4K random read QD$qd|--rw randread --bs 4K --qd $qd")
    done
else
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
fi

if [ -n "$only" ]; then
    for i in "${!cases[@]}"; do
        grep -qE "$only" <<< "${cases[i]%%|*}" || unset 'cases[i]'
    done
fi

be_dir=/local/domain/0/backend
fe_dir=/local/domain/1/device/vbd
devid=51712

# The state of the backend serving the guest's disk, once it has one.
backend_state() {
    local be
    be=$(xenstore-read "$fe_dir/$devid/backend" 2>/dev/null) &&
        xenstore-read "$be/state" 2>/dev/null
}

# Start configuration @1 (kind|binary|drive|device|io0) under the command
# prefix in $wrap (valgrind, or nothing); sets $backend_pid once the
# backend waits for the frontend (InitWait).
start_backend() {
    local kind binary drive device io0
    IFS='|' read -r kind binary drive device io0 <<< "$1"
    case $kind in
    qdisk)
        BE=$be_dir/qdisk/1 FE=$fe_dir libxl_disk_add "$devid" xvda "$image" \
            w 1
        LD_PRELOAD=$XENEMU_PRELOAD ${wrap[@]+"${wrap[@]}"} "$binary" \
            -machine xenpv -xen-domid 1 -xen-attach -nodefaults \
            -display none 2>/dev/null &
        ;;
    device)
        LD_PRELOAD=$XENEMU_PRELOAD ${wrap[@]+"${wrap[@]}"} "$binary" \
            -machine xenpv -xen-domid 1 -xen-attach -nodefaults \
            -display none -object "iothread,id=io0$io0" \
            -object iothread,id=io1 \
            -drive "if=none,id=d0,${drive//IMAGE/$image}" \
            -device "$device" 2>/dev/null &
        ;;
    null)
        LD_PRELOAD=$XENEMU_PRELOAD ${wrap[@]+"${wrap[@]}"} \
            "$xenemu/blkfront-test-backend" --null --size 256M --poll-us 32 \
            --domid 1 --devid "$devid" 2>/dev/null &
        ;;
    esac
    backend_pid=$!
    for _ in $(seq $((callgrind_now ? 1200 : 100))); do
        [ "$(backend_state)" = 2 ] && return
        sleep 0.1
    done
}

# Stop the backend and take away what is left of the disk's areas.
stop_backend() {
    kill "$backend_pid" 2>/dev/null || true
    wait "$backend_pid" 2>/dev/null || true
    xenstore-rm "$be_dir/qdisk/1/$devid" 2>/dev/null || true
    xenstore-rm "$be_dir/vbd/1/$devid" 2>/dev/null || true
    xenstore-rm "$fe_dir/$devid" 2>/dev/null || true
}

# utime + stime of process @1 (all its threads, live and gone), in ticks.
cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# One run of configuration @1 with blkfront bench options @2...: its BENCH
# line with cpu_us_per_io= (backend CPU time per I/O) added.
bench_one() {
    local config=$1 out t0 t1 ios
    shift
    start_backend "$config"
    t0=$(cpu_ticks "$backend_pid" 2>/dev/null || echo 0)
    out=$("$xenemu/xen-blkfront" --quiet --domid 1 --vdev xvda \
          --ring-order 4 --indirect 32 --queues 4 --persistent \
          bench "$@" 0 256M 2>&1 | grep '^BENCH' || true)
    t1=$(cpu_ticks "$backend_pid" 2>/dev/null || echo 0)
    stop_backend
    ios=$(field "$out" ios)
    if [ -n "$out" ] && [ "${ios:-0}" -gt 0 ]; then
        out="$out cpu_us_per_io=$(awk -v t=$((t1 - t0)) -v n="$ios" \
            -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
    fi
    echo "$out"
}

# Instructions per I/O of configuration @1 with options @2...: under
# callgrind, counters zeroed at InitWait and dumped after a fixed count of
# I/Os, for two counts; the difference of the totals divided by that of
# the counts leaves out start, connection and close.
instr_one() {
    local config=$1 n1 n2 n i1= i2= bs out total
    shift
    # The I/O size in KiB; 8 MiB of I/O in the first run, 100 I/Os at least.
    bs=$(echo "$*" | sed -n 's/.*--bs \([0-9]*\)K.*/\1/p;
                            s/.*--bs \([0-9]*\)M.*/\1 * 1024/p')
    bs=$((bs))
    n1=$(( 8192 / bs > 100 ? 8192 / bs : 100 ))
    n2=$((n1 * 5))
    callgrind_now=1
    for n in "$n1" "$n2"; do
        rm -f "$cgdir"/cg.*
        wrap=(valgrind --tool=callgrind --trace-children=yes -q
              --callgrind-out-file="$cgdir/cg.%p")
        start_backend "$config"
        wrap=()
        callgrind_control -z "$backend_pid" >/dev/null 2>&1 || true
        out=$("$xenemu/xen-blkfront" --quiet --domid 1 --vdev xvda \
              --ring-order 4 --indirect 32 --queues 4 --persistent \
              --timeout 120 bench "$@" --count "$n" 0 256M 2>&1 |
              grep '^BENCH' || true)
        callgrind_control -d "$backend_pid" >/dev/null 2>&1 || true
        stop_backend
        # The dump is the file with a part number: cg.PID.1.
        total=$(cat "$cgdir"/cg.*.[0-9]* 2>/dev/null |
                awk '/^totals:/ { print $2; exit }')
        [ -n "$out" ] && [ "$(field "$out" errors)" = 0 ] || total=
        if [ "$n" = "$n1" ]; then i1=$total; else i2=$total; fi
    done
    callgrind_now=0
    [ -n "$i1" ] && [ -n "$i2" ] || return 0
    awk -v a="$i1" -v b="$i2" -v n="$((n2 - n1))" \
        'BEGIN { printf "%.0f\n", (b - a) / n }'
}

field() {
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# "MEDIAN MIN MAX" of key @1 over the error-free BENCH lines on stdin
# (the median of an even count is the lower middle).
stats() {
    awk -v key="$1" '
        { v = ""; errors = ""
          for (i = 1; i <= NF; i++) {
              if (index($i, key "=") == 1) v = substr($i, length(key) + 2)
              if ($i ~ /^errors=/) errors = substr($i, 8)
          }
          if (v != "" && errors == "0") print v }' | sort -g |
        awk '{ v[NR] = $1 }
             END { if (NR) print v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# A name as one word: "4K random read QD1" is 4k-random-read-qd1.
slug() {
    echo "$1" | tr 'A-Z /' 'a-z--'
}

ratio() {
    awk -v o="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.2fx", o / s
                                     else printf "-" }'
}

width() {
    echo $(( ${#1} > 8 ? ${#1} : 8 ))
}

header() {
    local c q
    printf '%-22s' "$1"
    for c in "${configs[@]}"; do
        c=${c%%|*}
        printf " %$(width "$c")s" "$c"
    done
    for q in "${ratios[@]}"; do
        q=${q#*|}
        printf " %$(width "$q")s" "$q"
    done
    echo
}

# One table row: case name @1, then a value per configuration; ratios
# follow (@2 "inverse" for costs, so that above 1 always means ours is
# better).
row() {
    local name=$1 inverse=$2 i q w a b
    shift 2
    local vals=("$@")
    printf '%-22s' "$name"
    for i in "${!configs[@]}"; do
        printf " %$(width "${configs[i]%%|*}")s" "${vals[i]:--}"
    done
    for q in "${ratios[@]}"; do
        w=$(width "${q#*|}")
        q=${q%%|*}
        a=${vals[${q%/*}]:-0}
        b=${vals[${q#*/}]:-0}
        if [ "$inverse" = inverse ]; then
            printf " %${w}s" "$(ratio "$b" "$a")"
        else
            printf " %${w}s" "$(ratio "$a" "$b")"
        fi
    done
    echo
}

# The image: on /dev/shm, or with --ext4 on an ext4 file system on a loop
# device (closer to a host's disk: a block device under a file system).
make_image() {
    if [ $ext4 = 1 ]; then
        fsdir=$(mktemp -d /var/tmp/xen-bench-fs.XXXXXX)
        truncate -s 1G "$fsdir/fs.img"
        mkfs.ext4 -q -F "$fsdir/fs.img"
        mkdir "$fsdir/mnt"
        mount -o loop "$fsdir/fs.img" "$fsdir/mnt"
        image=$fsdir/mnt/disk.img
    else
        image=$(mktemp /dev/shm/xen-bench.XXXXXX)
    fi
    # Reads of a sparse file measure nothing: give it data first.
    dd if=/dev/urandom of="$image" bs=1M count=256 status=none
    sync
}

remove_image() {
    if [ $ext4 = 1 ]; then
        umount "$fsdir/mnt"
        rm -rf "$fsdir"
    else
        rm -f "$image"
    fi
}

# The --depths plot: IOPS by queue depth, one line per QEMU.
plot_depths() {
    local data=$1 png=$2 i cmd=
    for i in "${!configs[@]}"; do
        cmd+="${cmd:+, }'$data' using 1:$((i + 2)) with linespoints"
        cmd+=" title '${configs[i]%%|*}'"
    done
    gnuplot <<GNUPLOT
set terminal pngcairo size 900,560
set output '$png'
set title '4K random reads under the Xen test double (median IOPS)'
set xlabel 'queue depth'
set ylabel 'IOPS'
set logscale x 2
set key left top
set grid
plot $cmd
GNUPLOT
}

# Median of @rounds for each configuration, taking turns so that all see
# the same load.
run() {
    local n=0 failed=0 c name opts r i runs complete line st
    local -a iops cpu instr cases_out=() iops_rows=() cpu_rows=()
    local -a instr_rows=() depth_rows=()
    make_image
    cgdir=$(mktemp -d)
    wrap=()
    callgrind_now=0
    # shellcheck source=/dev/null
    . "$xenemu/libxl-disk.sh"

    for c in "${cases[@]}"; do
        name=${c%%|*}
        opts=${c#*|}
        runs=()
        for r in $(seq "$rounds"); do
            for i in "${!configs[@]}"; do
                # shellcheck disable=SC2086
                runs[i]+="$(bench_one "${configs[i]#*|}" $opts \
                            --time "$seconds")"$'\n'
            done
        done
        iops=()
        cpu=()
        instr=()
        complete=1
        line="BENCHCASE case=$(slug "$name") rounds=$rounds"
        for i in "${!configs[@]}"; do
            st=$(printf '%s' "${runs[i]}" | stats iops)
            iops[i]=${st%% *}
            [ -n "${iops[i]}" ] || { complete=0; st=none; }
            line+=" $(slug "${configs[i]%%|*}")=${st// /,}"
            st=$(printf '%s' "${runs[i]}" | stats cpu_us_per_io)
            cpu[i]=${st%% *}
            line+=" cpu_us.$(slug "${configs[i]%%|*}")=${cpu[i]:-none}"
            if [ $callgrind = 1 ]; then
                # shellcheck disable=SC2086
                instr[i]=$(instr_one "${configs[i]#*|}" $opts)
                line+=" instr.$(slug "${configs[i]%%|*}")=${instr[i]:-none}"
            fi
        done
        cases_out+=("$line")
        n=$((n + 1))
        if [ $complete = 0 ]; then
            iops_rows+=("$(printf '%-22s %s' "$name" \
                          "did not complete on every configuration")")
            [ $tap = 1 ] && echo "not ok $n - $name on every configuration"
            failed=1
            continue
        fi
        iops_rows+=("$(row "$name" plain "${iops[@]}")")
        cpu_rows+=("$(row "$name" inverse "${cpu[@]}")")
        [ $callgrind = 1 ] && instr_rows+=("$(row "$name" inverse "${instr[@]}")")
        [ $mode = depths ] && depth_rows+=("${opts##* } ${iops[*]}")
        [ $tap = 1 ] && echo "ok $n - $name on every configuration"
    done

    header "case (IOPS)"
    printf '%s\n' "${iops_rows[@]}"
    echo
    header "CPU us per I/O"
    printf '%s\n' "${cpu_rows[@]}"
    if [ $callgrind = 1 ]; then
        echo
        header "instructions per I/O"
        printf '%s\n' "${instr_rows[@]}"
    fi
    # Machine-readable: median,min,max IOPS, median CPU (and instructions).
    printf '%s\n' "${cases_out[@]}"
    if [ $mode = depths ] && [ ${#depth_rows[@]} -gt 0 ]; then
        printf '%s\n' "${depth_rows[@]}" > "$cgdir/depths.dat"
        plot_depths "$cgdir/depths.dat" "$plot"
        echo "plot: $plot"
    fi
    [ $tap = 1 ] && echo "1..$n"
    rm -rf "$cgdir"
    remove_image
    return $failed
}

if [ "${1:-}" = --inside ]; then
    run
    exit
fi
exec "$xenemu/xenemu-run" --guest 1 -- "$0" "${args[@]}" --inside
