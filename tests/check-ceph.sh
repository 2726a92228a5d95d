#!/bin/bash
# Disks on Ceph RBD, as libxl asks for them: a real single-node cluster
# (tests/ceph-cluster.sh: monitor, manager, one memstore OSD, 127.0.0.1,
# cephx) is started for the run, a pool and two images are made, and QEMU
# creates qdisks from libxl-style backend areas whose params name them:
#
#   aio:rbd:POOL/IMAGE:conf=CONF:id=xen          (libxl's target string)
#   aio:json:{"driver":"rbd","pool":...,"user":"xen",...}
#
# with client.xen's key only (it may use that pool and nothing else).  The
# userspace blkfront connects, writes a pattern and reads it back; `rbd
# export` then shows the pattern in the image, so the bytes reached the
# OSD (the verify flushes: librbd's cache must give them up).  A short
# benchmark prints its figures as comments.  Both disks are then unplugged
# as libxl does: the areas go, QEMU drops the block nodes and closes the
# images (no RBD watcher left).  An image that does not exist is refused,
# saying why.  Finally the cluster is stopped: no daemon of it is left.
# Prints TAP; the cluster's start time and the figures as comments.
#
# Usage: check-ceph.sh QEMU BUILD/xenemu
#
# The cluster lives in build/ceph/run-PID/ and is removed at exit, on
# failure too; one a killed run left is reaped by the next.  It needs
# Debian 12's ceph-mon, ceph-mgr, ceph-osd and ceph-common (install-deps:
# 89 packages, 54 MB, about 40 s).  On two cores the cluster starts in
# about 6 s and the whole run takes about 30 s, 12 of them benchmarks.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/qemu-under-double.sh
. "$top/tests/qemu-under-double.sh"
# shellcheck source=tests/xenemu/blkfront/libxl-disk.sh
. "$xenemu/libxl-disk.sh"
# shellcheck source=tests/ceph-cluster.sh
. "$top/tests/ceph-cluster.sh"

BE=/local/domain/0/backend/qdisk/1
FE=/local/domain/1/device/vbd
pool=$CEPH_POOL
bf=(timeout -k 5 90 "$xenemu/xen-blkfront" --domid 1 --timeout 30)
cluster=$top/build/ceph/run-$$
qemu_pid=

cleanup() {
    trap '' INT TERM
    [ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2> /dev/null
    ceph_cluster_stop "$cluster"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bail() {
    tap_result 1 "$1"
    [ -f "${2:-}" ] && tail -n 30 "$2" | sed 's/^/# /'
    echo "Bail out! $1"
    tap_done
    exit 1
}

# t NAME CMD...: passes when CMD exits 0; its output is shown otherwise.
t() {
    local name=$1 rc
    shift
    "$@" > "$work/out" 2>&1
    rc=$?
    tap_result $rc "$name"
    [ $rc = 0 ] || sed 's/^/# /' "$work/out" | tail -n 30
    return $rc
}

# image_has IMAGE OFF LEN SEED: `rbd export` of IMAGE holds the blkfront's
# pattern SEED at OFF..OFF+LEN (tests/xenemu/blkfront/util.c: splitmix64
# of seed and 8-byte word index, little-endian) and zeros elsewhere.
image_has() {
    rm -f "$work/export.img"
    rbd export --no-progress "$pool/$1" "$work/export.img" || return 1
    python3 - "$work/export.img" "$2" "$3" "$4" <<'PY'
import sys
path, off, length, seed = sys.argv[1], *map(int, sys.argv[2:])
M = (1 << 64) - 1
def word(i):
    z = (seed * 0x9e3779b97f4a7c15 + i + 1) & M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)
data = open(path, 'rb').read()
want = b''.join(word(i).to_bytes(8, 'little')
                for i in range(off // 8, (off + length) // 8))
got = data[off:off + length]
if got != want:
    bad = next(i for i in range(len(want)) if got[i:i + 1] != want[i:i + 1])
    sys.exit(f'the export differs from the pattern at byte {off + bad}')
rest = data[:off] + data[off + length:]
if rest.count(0) != len(rest):
    sys.exit('the export has data outside the pattern')
print(f'export: {len(data)} bytes, pattern at {off}+{length}')
PY
}

# watchers IMAGE: how many clients have IMAGE open (rbd status).
watchers() {
    rbd status --format json "$pool/$1" |
        python3 -c 'import json, sys; print(len(json.load(sys.stdin)["watchers"]))'
}

# rbd_nodes [IMAGE...]: how many block nodes QEMU has on RBD; with
# IMAGEs, fails unless there is one node on each, all of user xen.
rbd_nodes() {
    qmp '{"execute": "query-named-block-nodes"}' | python3 -c '
import json, re, sys
nodes = [n["file"] for n in json.load(sys.stdin) if n["drv"] == "rbd"]
print(len(nodes), *nodes)
def image(f):
    m = re.search(r"\"image\": \"([^\"]*)\"|^rbd:[^/:]*/([^:@]*)", f)
    return m and (m.group(1) or m.group(2))
want = [w for w in sys.argv[1:] if w]
if want and (sorted(map(image, nodes)) != sorted(want) or
             not all(re.search(r"\"user\": \"xen\"|:id=xen", f) for f in nodes)):
    sys.exit(1)' "$@"
}
no_rbd_node() {
    rbd_nodes "" | grep -qx 0
}

# made DEVID: QEMU made qdisk DEVID (InitWait) within 60 s; fails at
# once when QEMU says it cannot, printing why.
made() {
    local n=600
    while [ $n -gt 0 ]; do
        [ "$(xenstore-read "$BE/$1/state" 2> /dev/null)" = 2 ] && return 0
        grep -q "cannot create a device for $BE/$1:" "$work/qemu.log" &&
            break
        kill -0 "$qemu_pid" 2> /dev/null || break
        sleep 0.1
        n=$((n - 1))
    done
    grep -F "$BE/$1" "$work/qemu.log" | sed 's/^/# /'
    return 1
}

# qdisk DEVID VDEV PARAMS: libxl's areas for a disk whose params (after
# libxl's "aio:") are PARAMS.
qdisk() {
    libxl_disk_add "$1" "$2" "$3" w 0
}

# ---------------------------------------------------------------------------

for p in ceph-mon ceph-mgr ceph-osd ceph rbd; do
    command -v $p > /dev/null ||
        bail "$p is installed (scripts/install-deps.sh)"
done
mkdir -p "$top/build/ceph"
ceph_cluster_reap "$top/build/ceph"

t0=$(date +%s%N)
ceph_cluster_start "$cluster" 2> "$work/cluster.log" ||
    bail "a single-node Ceph cluster starts" "$work/cluster.log"
secs=$((($(date +%s%N) - t0) / 100000000))
tap_result 0 "a single-node Ceph cluster starts (mon, mgr, memstore OSD on $ceph_mon_addr)"
echo "# cluster start: $((secs / 10)).$((secs % 10)) s"
conf=$CEPH_CONF

t "pool $pool and images disk, disk2 (64 MiB) are made; client.xen sees them" \
    eval 'ceph osd pool create "$pool" 8 8 && rbd pool init "$pool" &&
        rbd create "$pool/disk" --size 64M &&
        rbd create "$pool/disk2" --size 64M &&
        [ "$(rbd --id xen ls "$pool" | sort | tr "\n" " ")" = "disk disk2 " ]' ||
    bail "the cluster takes a pool and images"
t "client.xen's key is refused outside pool $pool (cephx enforced)" \
    eval '! timeout 60 ceph --id xen osd pool create other 8 8 &&
        ! ceph osd pool ls | grep -qx other'

# --- rbd:POOL/IMAGE:conf=...:id=xen, libxl's form --------------------------
qdisk 51712 xvda "rbd:$pool/disk:conf=$conf:id=xen"
LD_PRELOAD=$XENEMU_PRELOAD "$qemu" -machine xenpv -xen-domid 1 \
    -xen-attach -nodefaults -display none \
    -qmp "unix:$work/qmp.sock,server=on,wait=off" 2> "$work/qemu.log" &
qemu_pid=$!
made 51712 ||
    bail "params aio:rbd:$pool/disk:conf=...:id=xen: QEMU makes the qdisk" \
        "$work/qemu.log"
tap_result 0 "params aio:rbd:$pool/disk:conf=...:id=xen: QEMU makes the qdisk (InitWait)"
t "QEMU's block node is RBD image disk, user xen" rbd_nodes disk
t "blkfront connects (backend Connected): 64 MiB disk, writable" \
    eval '"${bf[@]}" --vdev xvda info | tee /dev/stderr |
        grep -qx size=67108864 &&
        "${bf[@]}" --vdev xvda info | grep -qx readonly=0'
seed=$$
t "blkfront verify 0..8M (mixed sizes, QD 16): read back equals written" \
    eval '"${bf[@]}" --quiet --vdev xvda verify 0 8M --seed $seed |
        tee /dev/stderr | grep -q "^verify=ok "'
t "rbd export of $pool/disk: the pattern the blkfront wrote, at 0..8M" \
    image_has disk 0 8388608 "$seed"

# A few seconds of each, figures only, negotiating as Linux does (16-page
# ring, indirect requests where offered): sequential 1M writes first, so
# that the random reads find written objects (RBD answers holes itself).
bench_ok=0
while read -r rw bs qd; do
    line=$("${bf[@]}" --quiet --vdev xvda --ring-order 4 --indirect 32 \
        bench --rw "$rw" --bs "$bs" --qd "$qd" --time 3 | grep '^BENCH ')
    echo "# $line"
    echo "$line" | grep -qE ' ios=[1-9][0-9]* .* errors=0( |$)' ||
        bench_ok=1
    printf '# rbd %-9s bs=%-2s qd=%-2s %8s IOPS %8s MB/s\n' "$rw" "$bs" "$qd" \
        "$(echo "$line" | sed -n 's/.* iops=\([^ ]*\).*/\1/p')" \
        "$(echo "$line" | sed -n 's/.* mbps=\([^ ]*\).*/\1/p')"
done <<'EOF'
write 1M 8
randwrite 4K 32
randread 4K 32
read 1M 8
EOF
tap_result $bench_ok "blkfront bench on RBD (3 s each): I/O done, no error"

# --- json:{"driver":"rbd",...}, hot-plugged --------------------------------
# libxl writes a raw disk's target after "aio:", whatever the target: a
# json: one arrives as aio:json:{...}.
json='json:{"driver":"rbd","pool":"'$pool'","image":"disk2","conf":"'$conf'","user":"xen"}'
qdisk 51728 xvdb "$json"
xvdb=0
made 51728 || xvdb=1
tap_result $xvdb "params aio:json:{\"driver\":\"rbd\",...}: QEMU makes a second qdisk (InitWait)"
# on_xvdb NAME CMD...: t NAME CMD, or a failure at once without xvdb.
on_xvdb() {
    if [ $xvdb = 0 ]; then
        t "$@"
    else
        tap_result 1 "$1 (no xvdb)"
    fi
}
seed2=$((seed + 1))
on_xvdb "xvdb: blkfront verify 1M..5M passes" \
    eval '"${bf[@]}" --quiet --vdev xvdb verify 1M 4M --seed $seed2 |
        tee /dev/stderr | grep -q "^verify=ok "'
on_xvdb "rbd export of $pool/disk2: the pattern at 1M..5M, zeros elsewhere" \
    image_has disk2 1048576 4194304 "$seed2"
on_xvdb "QEMU has both images open (one watcher each)" \
    eval '[ "$(watchers disk)" = 1 ] && [ "$(watchers disk2)" = 1 ] &&
        rbd_nodes disk disk2'

# --- unplug, as libxl does --------------------------------------------------
on_xvdb "libxl unplug of xvdb: the backend reaches Closed" \
    libxl_disk_remove 51728
xenstore-rm "$BE/51728" 2> /dev/null
xenstore-rm "$FE/51728" 2> /dev/null
t "libxl unplug of xvda: the backend reaches Closed" libxl_disk_remove 51712
gone() {
    local n=100
    while [ $n -gt 0 ]; do
        no_rbd_node && [ "$(watchers disk)" = 0 ] &&
            [ "$(watchers disk2)" = 0 ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    echo "rbd nodes: $(rbd_nodes ""); watchers: $(watchers disk) $(watchers disk2)"
    return 1
}
t "both devices gone: no area, no rbd node, the images closed (no watcher)" \
    eval '! xenstore-read $BE/51712/state && ! xenstore-read $BE/51728/state &&
        ! xenstore-read $FE/51712/state && ! xenstore-read $FE/51728/state &&
        gone'

# --- an image that does not exist ------------------------------------------
qdisk 51744 xvdc "rbd:$pool/nosuch:conf=$conf:id=xen"
refused() {
    ! made 51744 > "$work/refused" &&
        cat "$work/refused" &&
        grep -qi "nosuch.*no such file" "$work/refused" &&
        kill -0 "$qemu_pid"
}
t "a missing RBD image is refused, saying why; QEMU lives on" refused
sed 's/^# /# refused: /' "$work/refused"
xenstore-rm "$BE/51744" 2> /dev/null
xenstore-rm "$FE/51744" 2> /dev/null

kill -TERM "$qemu_pid"
wait "$qemu_pid"
tap_result $? "QEMU exits cleanly"
qemu_pid=

# --- teardown ----------------------------------------------------------------
# The daemons: those it started, and any ceph daemon with its config.
cp "$cluster/pids" "$work/pids"
ceph_cluster_stop "$cluster"
stopped() {
    local name pid
    [ ! -e "$cluster" ] || { echo "$cluster is left"; return 1; }
    while read -r name pid; do
        [ -e "/proc/$pid" ] && { echo "$name ($pid) is left"; return 1; }
    done < "$work/pids"
    for pid in $(pgrep -x 'ceph-(mon|mgr|osd)'); do
        tr '\0' '\n' 2> /dev/null < "/proc/$pid/environ" |
            grep -qxF "CEPH_CONF=$cluster/ceph.conf" &&
            { echo "ceph daemon $pid is left"; return 1; }
    done
    # Nothing listens on the monitor's port any more.
    python3 -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit("the monitor port still answers")' "${ceph_mon_addr#*:}"
}
t "the cluster is stopped: no daemon of it left, its folder removed" stopped

tap_done
