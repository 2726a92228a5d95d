#!/bin/bash
# The Debian package of one base (scripts/make-deb.sh) on a fresh Debian 12:
# a minimal root (debootstrap minbase, the machine's own Debian mirror)
# first gets Debian's qemu-system-xen, as a Xen host has it; apt then
# installs our package in its place, with the dependencies from the mirror.
# Checks that /usr/libexec/xen-qemu-system-i386 is ours (dpkg, --version,
# xen-disk properties only ours has), that its libraries and firmware are
# all there, that apt keeps it for xen-utils-4.17 and upgrades, and that the
# installed file, run in the root with the root's libraries, serves a disk
# to the userspace blkfront under the test double (bytes verified).  Then
# Debian's package replaces it again, and removing ours leaves nothing.
# Prints TAP; needs root (debootstrap, chroot, mounts).
#
# Usage: check-deb.sh 7.2|10.0 [BUILD/xenemu]
#
# build/deb/bookworm-minbase.tar caches the minimal root (the first run
# makes it, about a minute) and build/deb/apt-archives the packages it
# downloads, so that later runs take seconds.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
pkg=qemu-system-xen-pvblock
dm=/usr/libexec/xen-qemu-system-i386
. "$top/tests/tap.sh"

# In the root: a clean environment, no prompt.
in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"
}

# t NAME CMD...: passes when CMD exits 0; its output is shown otherwise.
t() {
    local name=$1 rc
    shift
    "$@" > "$run/out" 2>&1
    rc=$?
    tap_result $rc "$name"
    [ $rc = 0 ] || sed 's/^/# /' "$run/out" | tail -n 30
    return $rc
}

# ---------------------------------------------------------------------------
# Under the test double (run by xenemu-run, guest domain 1): the installed
# binary, chrooted, serves a disk to the blkfront on the host.

if [ "${1:-}" = --inside ]; then
    root=$2 run=$3 xenemu=$4
    read -r tap_count tap_failed < "$run/tap.state"
    be=/local/domain/0/backend/qdisk/1/51712
    bf=(timeout -k 5 60 "$xenemu/xen-blkfront" --domid 1 --vdev xvda)
    truncate -s 32M "$root/tmp/disk.img"
    # The chroot keeps the double's environment (XENEMU_STATE, the
    # xenstored socket under /dev/shm, bind-mounted in the root).
    chroot "$root" env LD_PRELOAD=/xenemu/libxenemu.so "$dm" \
        -machine xenpv -xen-domid 1 -xen-attach -nodefaults -display none \
        -drive if=none,id=d0,file=/tmp/disk.img,format=raw \
        -device xen-disk,vdev=xvda,drive=d0,max-queues=2 \
        > "$run/qemu.log" 2>&1 < /dev/null &
    qemu_pid=$!
    published() {
        for _ in $(seq 300); do
            [ "$(xenstore-read "$be/state" 2> /dev/null)" = 2 ] && return 0
            kill -0 $qemu_pid 2> /dev/null || break
            sleep 0.1
        done
        cat "$run/qemu.log"
        return 1
    }
    t "installed binary publishes xvda under the double (InitWait)" published
    # The process is the root's file, every library from the root.
    from_root() {
        local exe libs
        exe=$(readlink "/proc/$qemu_pid/exe")
        echo "exe: $exe"
        [ "$exe" = "$root$dm" ] || return 1
        libs=$(grep -oE ' /[^ ]*\.so[.0-9]*$' "/proc/$qemu_pid/maps" |
            sort -u)
        echo "$libs"
        echo "$libs" | grep -q libxengnttab &&
            ! echo "$libs" | grep -qv "^ $root/"
    }
    t "the process runs $dm and only libraries of the root" from_root
    t "blkfront negotiates 2 queues (ours offers multi-queue)" \
        eval '"${bf[@]}" --queues 2 info | tee /dev/stderr | grep -qx queues=2'
    t "blkfront writes 16 MiB on 2 queues, reads back, bytes in the image" \
        eval '"${bf[@]}" --quiet --queues 2 verify 0 16M --seed $$ \
            --image "$root/tmp/disk.img" | tee /dev/stderr |
            grep -qE "^verify=ok .* image=ok$"'
    stopped() {
        kill -TERM $qemu_pid || return 1
        for _ in $(seq 100); do
            kill -0 $qemu_pid 2> /dev/null || { wait $qemu_pid; return; }
            sleep 0.05
        done
        kill -KILL $qemu_pid
        return 1
    }
    t "QEMU exits 0 on SIGTERM" stopped
    echo "$tap_count $tap_failed" > "$run/tap.state"
    exit 0
fi

# ---------------------------------------------------------------------------

base=${1:?usage: check-deb.sh 7.2|10.0 [BUILD/xenemu]}
xenemu=${2:-$top/build/xenemu}
debdir=$top/build/deb
tarball=$debdir/bookworm-minbase.tar
archives=$debdir/apt-archives

if [ "$(id -u)" != 0 ]; then
    echo "ok 1 # SKIP needs root (debootstrap, chroot, mounts)"
    echo "1..1"
    exit 0
fi

# Unmount what a run mounted in its root and remove the run's folder.
drop_run() {
    local dir=$1 m
    for m in dev proc; do
        mountpoint -q "$dir/root/$m" &&
            { umount -R "$dir/root/$m" || umount -l "$dir/root/$m"; }
    done
    if grep -q " $dir/" /proc/mounts; then
        echo "# left $dir: still mounted" >&2
    else
        rm -rf --one-file-system "$dir"
    fi
}

# A run killed with SIGKILL leaves its folder (and mounts): clear them.
mkdir -p "$debdir" "$archives"
for dir in "$debdir"/run.*; do
    [ -d "$dir" ] || continue
    pid=$(cat "$dir/pid" 2> /dev/null)
    [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null && continue
    drop_run "$dir"
done

# The physical path: /proc shows the chrooted process's files by it.
run=$(realpath "$(mktemp -d "$debdir/run.XXXXXX")")
echo $$ > "$run/pid"
root=$run/root
cleanup() {
    trap '' INT TERM
    # The packages it downloaded, for the next run (hard links).
    if ls "$root"/var/cache/apt/archives/*.deb > /dev/null 2>&1; then
        find "$archives" -name '*.deb' -delete
        find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' \
            -exec ln -f {} "$archives/" \;
    fi
    drop_run "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bail() {
    tap_result 1 "$1"
    [ -f "${2:-}" ] && tail -n 30 "$2" | sed 's/^/# /'
    tap_done
    exit 1
}

# libxl starts this path when no device_model_override is given.
libxl=$(ldconfig -p | sed -n 's/.*libxenlight\.so\.[0-9.]* .* => //p' |
    head -n 1)
t "libxl's qemu-xen device model is $dm" grep -qaF "$dm" "$libxl"

# The package, as `make deb` makes it.
DEB_OUT=$run "$top/scripts/make-deb.sh" "$base" > "$run/make-deb.out" \
    2> "$run/make-deb.log" || bail "make-deb.sh builds the package" \
    "$run/make-deb.log"
deb=$(cat "$run/make-deb.out")
tap_result 0 "make-deb.sh builds $(basename "$deb")"
srcver=$(dpkg-parsechangelog -S Version \
    -l "$top/build/qemu-$base/qemu-src/debian/changelog")
hash=$(git -C "$top" rev-parse --short=7 HEAD)
version=$(dpkg-deb -f "$deb" Version)
re="$(sed 's/[.+]/\\&/g' <<< "$srcver")\+pvblock[0-9]+\.g$hash(\.dirty)?"
t "its version names the base ($srcver) and commit $hash" \
    eval 'echo "$version" | grep -xE "$re"'

# The fresh root: made once with debootstrap from the machine's own mirror.
. "$top/scripts/debian-sources.sh"
eval "$(apt-config shell proxy Acquire::http::Proxy)"
mirror=$(debian_sources bookworm deb | head -n 1 |
    sed -E 's/^deb (\[[^]]*\] )?([^ ]+) .*/\2/')
[ -n "$mirror" ] || bail "a Debian bookworm mirror in the machine's apt sources"
exec 9> "$debdir/.root.lock"
flock 9
if [ ! -s "$tarball" ]; then
    echo "# making the minimal Debian 12 root (cached in $tarball)"
    command -v debootstrap > /dev/null ||
        bail "debootstrap is installed (scripts/install-deps.sh)"
    new=$run/new-root
    if ! http_proxy=${http_proxy:-${proxy:-}} debootstrap --variant=minbase \
            --include=ca-certificates bookworm "$new" "$mirror" \
            > "$run/debootstrap.log" 2>&1; then
        bail "debootstrap makes a minimal Debian 12 root" "$run/debootstrap.log"
    fi
    rm -f "$new"/var/cache/apt/archives/*.deb
    tar -C "$new" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball" &&
        rm -rf --one-file-system "$new" ||
        bail "the minimal root is saved"
fi
flock -u 9
mkdir "$root" && tar -C "$root" -xf "$tarball" ||
    bail "the minimal root unpacks"

# Its apt sources: the machine's Debian 12 entries, updates and security
# included (our package's libraries come from them, as the build's did).
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
         /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case $f in
    *.sources)
        awk 'function flush() {
                 if (types ~ /(^| )deb( |$)/ && enabled !~ /^[Nn]o/ &&
                     uris != "") {
                     n = split(suites, s, " ")
                     m = split(uris, u, " ")
                     for (i = 1; i <= n; i++)
                         if (s[i] ~ /^bookworm(-updates|-security)?$/)
                             for (j = 1; j <= m; j++)
                                 print "deb " opt u[j] " " s[i] " " comps
                 }
                 types = uris = suites = comps = opt = enabled = ""
             }
             /^[ \t]*$/ { flush(); next }
             /^#/ { next }
             /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
             /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
             /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
             /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
             /^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = $0 }
             /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, "")
                             opt = "[signed-by=" $0 "] " }
             END { flush() }' "$f" ;;
    *)
        grep -E '^[ \t]*deb[ \t]+(\[[^]]*\][ \t]+)?[^ \t]+[ \t]+bookworm(-updates|-security)?[ \t]' "$f" ;;
    esac
done | sort -u > "$root/etc/apt/sources.list.d/debian.list"
[ -z "${proxy:-}" ] ||
    echo "Acquire::http::Proxy \"$proxy\";" > "$root/etc/apt/apt.conf.d/01proxy"
cp /etc/resolv.conf "$root/etc/"
find "$archives" -name '*.deb' -exec ln -f {} "$root/var/cache/apt/archives/" \;
mount -t proc proc "$root/proc" &&
    mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" ||
    bail "/proc and /dev are mounted in the root"
t "a fresh Debian 12 root updates its package lists" \
    in_root apt-get -q update || bail "the root's apt works"

apt_install() {
    in_root apt-get install -y -q --no-install-recommends "$@"
}
status() {
    in_root dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2> /dev/null
}

# As on a Xen host: Debian's device model installed.
t "Debian's qemu-system-xen installs from the mirror" \
    apt_install qemu-system-xen
t "Debian's is at $dm before ours" \
    eval 'in_root dpkg -S $dm | grep -qx "qemu-system-xen: $dm" &&
        in_root $dm --version | tee /dev/stderr | grep -q "(Debian "'

# Ours in its place.
cp "$deb" "$root/tmp/"
t "apt-get install ./$(basename "$deb") (dependencies from the mirror)" \
    apt_install "/tmp/$(basename "$deb")"
t "Debian's qemu-system-xen is gone" \
    eval '[ "$(status qemu-system-xen)" != "ii " ]'
t "dpkg -S $dm names $pkg" \
    eval 'in_root dpkg -S $dm | grep -qx "$pkg: $dm"'
t "the installed files are the package's (dpkg --verify)" \
    eval '[ -z "$(in_root dpkg --verify $pkg)" ]'
t "$dm --version is ours (xen-pv-block)" \
    eval 'in_root $dm --version | tee /dev/stderr |
        grep -qE "^QEMU emulator version [0-9.]+ \(xen-pv-block\)$"'
# Neither Debian 12's nor Debian 13's xen-disk has these.
t "its xen-disk has ours' max-queues and persistent-grants" \
    eval 'in_root $dm -machine none -accel qtest -device xen-disk,help |
        grep -q "^  max-queues=" &&
        in_root $dm -machine none -accel qtest -device xen-disk,help |
        grep -q "^  persistent-grants="'
t "every library it needs is installed (ldd)" \
    eval 'in_root ldd $dm | tee /dev/stderr | grep -q libxenstore &&
        ! in_root ldd $dm | grep -q "not found"'
t "it carries no debug information" \
    eval '! readelf -S "$root$dm" | grep -q "\.debug_"'

# The firmware of a libxl HVM guest's default devices (Cirrus or standard
# VGA, RTL8139 or e1000 NIC) and the PC BIOS, from the packages Debian's
# depends on: QEMU refuses to start when one is missing.
roms=()
for d in cirrus-vga VGA rtl8139 e1000; do
    in_root $dm -machine none -accel qtest -device help 2> /dev/null |
        grep -q "^name \"$d\"" && roms+=(-device "$d")
done
if in_root $dm -machine help | grep -q '^pc ' && [ ${#roms[@]} -gt 0 ]; then
    t "it finds the BIOS and option ROMs of pc with ${roms[*]}" \
        eval 'printf "%s\n" "{\"execute\": \"qmp_capabilities\"}" \
                "{\"execute\": \"quit\"}" |
            in_root timeout 60 $dm -machine pc -accel qtest -nodefaults \
                -display none "${roms[@]}" -qmp stdio'
else
    tap_result 0 "it finds its firmware # SKIP no pc machine or ROM device (minimal device set)"
fi

# apt keeps it: as the device model xen-utils-4.17 recommends, and in a
# full upgrade.
t "apt-get install xen-utils-4.17 would keep ours (its Recommends met)" \
    eval 'in_root apt-get -s install xen-utils-4.17 > "$run/sim" &&
        grep -q "^Inst xen-utils-4.17 " "$run/sim" &&
        ! grep -qE "^(Inst qemu-system-xen |Remv $pkg )" "$run/sim"'
t "apt-get dist-upgrade would keep ours" \
    eval 'in_root apt-get -s dist-upgrade > "$run/sim" &&
        ! grep -qE "^(Inst qemu-system-xen |Remv $pkg )" "$run/sim"'

# The installed file works: under the test double, chrooted.
mkdir -p "$root/xenemu" && cp "$xenemu/libxenemu.so" "$root/xenemu/"
echo "$tap_count $tap_failed" > "$run/tap.state"
"$xenemu/xenemu-run" --guest 1 -- "$0" --inside "$root" "$run" "$xenemu"
rc=$?
read -r count failed < "$run/tap.state"
if [ "$count" = "$tap_count" ]; then
    tap_result 1 "the double ran the checks of the installed binary (exit $rc)"
else
    tap_count=$count tap_failed=$failed
fi

# Debian's takes its place back, and ours goes cleanly.
t "apt-get install qemu-system-xen removes ours, Debian's is back" \
    eval 'apt_install qemu-system-xen &&
        [ "$(status $pkg)" != "ii " ] &&
        in_root dpkg -S $dm | grep -qx "qemu-system-xen: $dm" &&
        in_root $dm --version | grep -q "(Debian "'
t "ours installs over it again" \
    eval 'apt_install "/tmp/$(basename "$deb")" &&
        in_root dpkg -S $dm | grep -qx "$pkg: $dm"'
t "apt-get remove $pkg leaves no file of it" \
    eval 'in_root apt-get remove -y -q $pkg &&
        [ "$(status $pkg)" != "ii " ] &&
        [ ! -e "$root$dm" ] && [ ! -e "$root/usr/share/doc/$pkg" ] &&
        ! in_root dpkg -S $dm'

tap_done
