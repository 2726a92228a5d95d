#!/bin/bash
# A throwaway single-node Ceph cluster for tests/check-ceph.sh, from
# Debian 12's packages (ceph-mon, ceph-mgr, ceph-osd, ceph-common): one
# monitor, one manager and one OSD keeping its objects in memory
# (memstore), on 127.0.0.1 only, with cephx and a client.xen key that may
# use the RBD pool $CEPH_POOL (xen) and nothing else.  Everything lives in
# DIR (config, keyrings, logs, the monitor's store); no file elsewhere.
#
# Sourced:  ceph_cluster_start DIR    start, wait for the OSD (up and in)
#           ceph_cluster_stop DIR     kill the daemons, remove DIR
#           ceph_cluster_reap PARENT  stop the clusters under PARENT whose
#                                     owner ($DIR/owner) is gone
# As a command: tests/ceph-cluster.sh start|stop DIR
#
# After start: DIR/ceph.conf (CEPH_CONF is exported, so ceph and rbd act
# as client.admin), DIR/client.xen.keyring, and $ceph_mon_addr.  The
# daemons' ports: the monitor on a free port (not 3300/6789, to clash with
# no other cluster), the manager and OSD in CEPH_PORTS (the first free of
# 46800-46899 by default; Ceph's own default is 6800-7300).  A start that
# fails prints the daemons' log tails on stderr and stops what it started.

CEPH_POOL=${CEPH_POOL:-xen}
CEPH_PORTS=${CEPH_PORTS:-46800-46899}
CEPH_START_TIMEOUT=${CEPH_START_TIMEOUT:-90}

# A free TCP port on 127.0.0.1 (the kernel's pick, outside Ceph's ranges).
ceph_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# _ceph_spawn DIR NAME CMD...: a daemon in the foreground (-f), in the
# background of this shell, its pid in DIR/pids.
_ceph_spawn() {
    local dir=$1 name=$2
    shift 2
    "$@" -f < /dev/null > "$dir/$name.out" 2>&1 &
    echo "$name $!" >> "$dir/pids"
}

# _ceph_fail DIR WHAT: say what failed, with each daemon's log tail.
# The daemons are stopped first: nothing is left if printing fails.
_ceph_fail() {
    local dir=$1 f tails=
    for f in "$dir"/*.log "$dir"/*.out; do
        [ -s "$f" ] || continue
        tails+="--- ${f##*/} (last 20 lines)"$'\n'$(tail -n 20 "$f")$'\n'
    done
    ceph_cluster_stop "$dir"
    echo "ceph-cluster: $2" >&2
    printf '%s' "$tails" >&2
    return 1
}

# _ceph_alive DIR: every daemon started so far still runs.
_ceph_alive() {
    local name pid
    while read -r name pid; do
        kill -0 "$pid" 2> /dev/null ||
            { echo "ceph-cluster: $name exited" >&2; return 1; }
    done < "$1/pids"
}

ceph_cluster_start() {
    local dir=$1 fsid osd_uuid port n key ceph=(timeout 30 ceph)
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd)
    : > "$dir/pids"
    echo "${CEPH_OWNER:-$$}" > "$dir/owner"
    fsid=$(cat /proc/sys/kernel/random/uuid)
    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    port=$(ceph_free_port) || return 1
    ceph_mon_addr=127.0.0.1:$port

    # Size-one pools are refused unless allowed; the short client
    # timeouts make a dead cluster fail a command instead of hanging it.
    cat > "$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:$ceph_mon_addr
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
ms bind port min = ${CEPH_PORTS%-*}
ms bind port max = ${CEPH_PORTS#*-}
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $dir/keyring
run dir = $dir
admin socket = $dir/\$name.asok
log file = $dir/\$name.log
pid file =
log to stderr = false
err to stderr = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mgr initial modules = iostat
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
client mount timeout = 20
rados mon op timeout = 20
rados osd op timeout = 30

[mon.a]
mon data = $dir/mon

[mgr]
mgr data = $dir/mgr
mgr module path = $dir/mgr-modules

[osd.0]
osd data = $dir/osd
osd objectstore = memstore
memstore device bytes = 1073741824
osd memory target = 536870912

[client.xen]
keyring = $dir/client.xen.keyring
EOF
    export CEPH_CONF=$dir/ceph.conf

    # Every key, the monitor's first: it imports them all at mkfs.
    { ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. \
        --cap mon 'allow *' &&
    ceph-authtool "$dir/keyring" --gen-key -n client.admin \
        --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' &&
    ceph-authtool "$dir/keyring" --gen-key -n mgr.x \
        --cap mon 'allow profile mgr' --cap osd 'allow *' &&
    ceph-authtool "$dir/keyring" --gen-key -n osd.0 \
        --cap mon 'allow profile osd' --cap mgr 'allow profile osd' \
        --cap osd 'allow *' &&
    ceph-authtool "$dir/keyring" --gen-key -n client.xen \
        --cap mon 'profile rbd' --cap mgr "profile rbd pool=$CEPH_POOL" \
        --cap osd "profile rbd pool=$CEPH_POOL" &&
    key=$(ceph-authtool "$dir/keyring" -n client.xen --print-key) &&
    ceph-authtool --create-keyring "$dir/client.xen.keyring" \
        -n client.xen --add-key "$key"; } > "$dir/keyring.log" 2>&1 ||
        { _ceph_fail "$dir" "keyrings"; return 1; }

    monmaptool --create --fsid "$fsid" --addv a "[v2:$ceph_mon_addr]" \
        "$dir/monmap" > "$dir/monmaptool.log" 2>&1 &&
    ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" \
        > "$dir/mkfs-mon.log" 2>&1 ||
        { _ceph_fail "$dir" "the monitor's store (ceph-mon --mkfs)"; return 1; }
    _ceph_spawn "$dir" mon ceph-mon -i a

    # The manager loads every module on its path, a quarter of a second
    # each: only those it must run (its always-on set) are offered.
    mkdir -p "$dir/mgr" "$dir/osd" "$dir/mgr-modules"
    for m in mgr_module.py mgr_util.py balancer crash devicehealth \
            orchestrator pg_autoscaler progress rbd_support status telemetry \
            volumes iostat; do
        ln -s "/usr/share/ceph/mgr/$m" "$dir/mgr-modules/$m"
    done
    # The OSD's id from the monitor, then its store.
    if ! n=$("${ceph[@]}" osd create "$osd_uuid" 2> "$dir/osd-create.log") ||
            [ "$n" != 0 ]; then
        _ceph_fail "$dir" "the monitor answers on $ceph_mon_addr (ceph osd create: '$n')"
        return 1
    fi
    ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" > "$dir/mkfs-osd.log" 2>&1 ||
        { _ceph_fail "$dir" "the OSD's store (ceph-osd --mkfs)"; return 1; }
    _ceph_spawn "$dir" mgr ceph-mgr -i x
    _ceph_spawn "$dir" osd ceph-osd -i 0

    # Up and in, the manager active too, within the timeout.
    n=$((CEPH_START_TIMEOUT * 2))
    until [ "$("${ceph[@]}" osd dump -f json 2> /dev/null |
                python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(o["up"] and o["in"] for o in d["osds"]))' 2> /dev/null)" = 1 ] &&
          "${ceph[@]}" mgr dump -f json 2> /dev/null | grep -q '"available": *true'; do
        _ceph_alive "$dir" || { _ceph_fail "$dir" "a daemon died"; return 1; }
        n=$((n - 1))
        [ $n -gt 0 ] || {
            _ceph_fail "$dir" "OSD or manager not up within ${CEPH_START_TIMEOUT}s"
            return 1
        }
        sleep 0.5
    done
}

# ceph_cluster_stop DIR: TERM, then KILL after 10 s, each daemon started in
# DIR (by its pid, checked against its command line: a pid may be reused),
# then remove DIR.
ceph_cluster_stop() {
    local dir=$1 name pid n live
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd)
    _ceph_ours() {
        tr '\0' '\n' 2> /dev/null < "/proc/$1/environ" |
            grep -qxF "CEPH_CONF=$dir/ceph.conf"
    }
    live=()
    if [ -f "$dir/pids" ]; then
        while read -r name pid; do
            _ceph_ours "$pid" && kill -TERM "$pid" 2> /dev/null &&
                live+=("$pid")
        done < "$dir/pids"
    fi
    for pid in "${live[@]}"; do
        n=100
        while _ceph_ours "$pid" && [ $n -gt 0 ]; do
            sleep 0.1
            n=$((n - 1))
        done
        _ceph_ours "$pid" && kill -KILL "$pid" 2> /dev/null
        # Reap it when it is our child; else it is gone or init's.
        wait "$pid" 2> /dev/null
    done
    rm -rf --one-file-system "$dir"
}

# ceph_cluster_reap PARENT: clusters left by runs killed outright.
ceph_cluster_reap() {
    local d owner
    for d in "$1"/run-*; do
        [ -d "$d" ] || continue
        owner=$(cat "$d/owner" 2> /dev/null)
        [ -n "$owner" ] && kill -0 "$owner" 2> /dev/null && continue
        ceph_cluster_stop "$d"
    done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    case ${1:-} in
    start)
        [ -n "${2:-}" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
        # Owned by the caller: a later reap leaves it alone while it lives.
        CEPH_OWNER=$PPID ceph_cluster_start "$2" || exit 1
        echo "CEPH_CONF=$CEPH_CONF"
        ;;
    stop)
        [ -n "${2:-}" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
        ceph_cluster_stop "$2"
        ;;
    *)
        echo "usage: $0 start|stop DIR" >&2
        exit 2
        ;;
    esac
fi
