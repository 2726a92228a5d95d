#!/bin/bash
# Fetch Debian 13 (trixie)'s stock QEMU 10.0 Xen device model and C
# xenstored 4.20, with every shared library they load, into $1 (default
# build/stock-10.0), for runs under the test double on Debian 12.
#
# Nothing is installed: a private apt configuration under $1/apt carries a
# `deb ... trixie main` entry derived from the machine's own apt sources (no
# mirror host is named here) and an empty dpkg status, so that neither the
# system's apt setup nor its installed packages take part.  The packages
# (`qemu-system-xen`, `qemu-system-data`, `xen-utils-4.20` and the closure
# of their library dependencies) are unpacked with `dpkg-deb -x` into
# $1/root, and two wrappers start the binaries through trixie's own dynamic
# loader with the root's library folders:
#
#   $1/qemu-system-i386   <root>/usr/libexec/xen-qemu-system-i386
#   $1/xenstored          <root>/usr/lib/xen-4.20/bin/xenstored
#
# A caller's LD_PRELOAD (the double's libxenemu.so) is handed to that loader
# as --preload and removed from the environment, so that it reaches the
# binary without forcing bookworm libraries into programs the binary starts.
# Done once: a second run exits at once.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/build/stock-10.0}
case "$dest" in /*) ;; *) dest=$PWD/$dest ;; esac
aptdir=$dest/apt
root=$dest/root
suite=trixie
roots=(qemu-system-xen qemu-system-data xen-utils-4.20)
want_qemu=10.0
qemu_bin=usr/libexec/xen-qemu-system-i386
xenstored_bin=usr/lib/xen-4.20/bin/xenstored

if [ -f "$dest/VERSIONS" ] && [ -x "$dest/qemu-system-i386" ] &&
   [ -x "$dest/xenstored" ]; then
    exit 0
fi

log() {
    echo "fetch-stock-qemu: $*" >&2
}

mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" \
    "$aptdir/cache" "$aptdir/parts.d"
: > "$aptdir/status"

. "$top/scripts/debian-sources.sh"
debian_sources "$suite" deb | sort -u > "$aptdir/sources.list"
if [ ! -s "$aptdir/sources.list" ]; then
    log "no Debian bookworm entry found in the apt sources"
    exit 1
fi

apt_opts=(
    -o "Dir::Etc::SourceList=$aptdir/sources.list"
    -o "Dir::Etc::SourceParts=$aptdir/parts.d"
    -o "Dir::Etc::Preferences=$aptdir/preferences"
    -o "Dir::Etc::PreferencesParts=$aptdir/parts.d"
    -o "Dir::State::Lists=$aptdir/lists"
    -o "Dir::State::status=$aptdir/status"
    -o "Dir::Cache=$aptdir/cache"
    -o "Dir::Cache::Archives=$aptdir/archives"
    -o "APT::Architectures=$(dpkg --print-architecture)"
    -o "APT::Sandbox::User=root"
)
apt-get -qq "${apt_opts[@]}" update

# The closure of Depends and Pre-Depends, followed through library packages
# (Section libs) only: a library's tools, data and scripting dependencies
# are not needed to load it.  The ld.so check below is the judge.
closure() {
    local seen=" " todo=("$@") names p
    for p in "$@"; do
        seen="$seen$p "
    done
    while [ ${#todo[@]} -gt 0 ]; do
        # First alternative of each dependency; virtual packages skipped.
        names=$(apt-cache "${apt_opts[@]}" depends --important "${todo[@]}" |
            awk '/^ [ |](Pre)?Depends: / {
                     if (!alt && $2 !~ /^</) print $2
                     alt = ($1 ~ /^\|/); next }
                 { alt = 0 }' | sort -u)
        todo=()
        for p in $names; do
            case "$seen" in *" $p "*) continue ;; esac
            seen="$seen$p "
            todo+=("$p")
        done
        [ ${#todo[@]} -gt 0 ] || break
        # Keep only the libraries among the new ones.
        mapfile -t todo < <(apt-cache "${apt_opts[@]}" show --no-all-versions \
            "${todo[@]}" | awk '/^Package:/ { p = $2 }
                /^Section:/ && ($2 == "libs" || $2 == "oldlibs") { print p }')
        printf '%s\n' "${todo[@]}"
    done
}

mapfile -t pkgs < <({ printf '%s\n' "${roots[@]}"; closure "${roots[@]}"; } |
                     sort -u)
log "downloading ${#pkgs[@]} trixie packages"
(cd "$aptdir/archives" &&
 apt-get -qq "${apt_opts[@]}" download "${pkgs[@]}" >/dev/null)

rm -rf "$root.tmp"
mkdir -p "$root.tmp"
versions=()
for p in "${pkgs[@]}"; do
    deb=$(ls "$aptdir/archives/${p}_"*.deb | sort -V | tail -n 1)
    dpkg-deb -x "$deb" "$root.tmp"
    versions+=("$(dpkg-deb --show --showformat='${Package} ${Version}' "$deb")")
done

qver=$(dpkg-deb -f "$(ls "$aptdir"/archives/qemu-system-xen_*.deb |
                      sort -V | tail -n 1)" Version)
case "$qver" in
    *:"$want_qemu".*) ;;
    *) log "trixie's qemu-system-xen is $qver, want $want_qemu.x"; exit 1 ;;
esac

# Trixie's loader, a file under the root (its lib64 entry is a link).
ldso=
for c in usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
         lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
         usr/lib64/ld-linux-x86-64.so.2 lib64/ld-linux-x86-64.so.2; do
    if [ -f "$root.tmp/$c" ] && [ ! -L "$root.tmp/$c" ]; then
        ldso=$c
        break
    fi
done
[ -n "$ldso" ] || { log "no ld-linux-x86-64.so.2 in the packages"; exit 1; }

# Every folder of the root that holds a shared library by its soname
# (not plugin folders: those libraries find their plugins themselves).
mapfile -t libdirs < <(cd "$root.tmp" &&
    find . -name 'lib*.so.[0-9]*' ! -name '*.py' \( -type f -o -type l \) \
        -printf '%h\n' | sed 's|^\./||' | sort -u)

rm -rf "$root"
mv "$root.tmp" "$root"

libpath=
for d in "${libdirs[@]}"; do
    libpath=${libpath:+$libpath:}$root/$d
done

# Every library the two binaries load must come from the root.
for bin in "$qemu_bin" "$xenstored_bin"; do
    if ! out=$("$root/$ldso" --library-path "$libpath" --list "$root/$bin"); then
        log "$bin does not load"
        exit 1
    fi
    bad=$(echo "$out" | awk -v r="$root/" '
        /=>/ { if ($3 == "not" || index($3, r) != 1) print }
        !/=>/ && $1 ~ /^\// && index($1, r) != 1 { print }')
    if [ -n "$bad" ]; then
        log "$bin loads libraries from outside $root:"
        echo "$bad" >&2
        exit 1
    fi
done

# write_wrapper NAME BINARY [ARGS...]: $dest/NAME runs BINARY ARGS "$@",
# with the variables of $extra_env and, if set, $wrapper_tail in place of
# the final `exec "${cmd[@]}"`.
write_wrapper() {
    local name=$1 bin=$2 a
    shift 2
    {
        echo '#!/bin/bash'
        echo "# Trixie's /$bin, run by trixie's loader on its own"
        echo "# libraries (written by scripts/fetch-stock-qemu.sh)."
        echo 'preload=${LD_PRELOAD:-}'
        echo 'unset LD_PRELOAD'
        for a in "${extra_env[@]}"; do
            printf 'export %q\n' "$a"
        done
        printf 'cmd=(%q --library-path %q\n' "$root/$ldso" "$libpath"
        printf '     ${preload:+--preload "$preload"} --argv0 "$0" %q' \
            "$root/$bin"
        for a in "$@"; do
            printf ' %q' "$a"
        done
        printf ' "$@")\n'
        if [ -n "$wrapper_tail" ]; then
            printf '%s\n' "$wrapper_tail"
        else
            echo 'exec "${cmd[@]}"'
        fi
    } > "$dest/$name.tmp"
    chmod 755 "$dest/$name.tmp"
    mv "$dest/$name.tmp" "$dest/$name"
}

# QEMU looks for its data (keymaps, option ROMs) next to /proc/self/exe,
# which is the loader here, then in the system's /usr/share/qemu (bookworm's
# QEMU 7.2): name trixie's first.  (A -machine xenpv start with -nodefaults
# reads none; qemu-system-xen has no loadable modules.)
extra_env=()
wrapper_tail=
write_wrapper qemu-system-i386 "$qemu_bin" -L "$root/usr/share/qemu"

# xenstored 4.20 creates /var/lib/xen/xenstore at start (no option or
# variable moves it): where the system has /var/lib/xen, give it an empty
# private one in a mount namespace of its own, so that a run leaves the
# system as it was.  Same pid: unshare and sh exec.
extra_env=()
wrapper_tail=$(cat <<'EOT'
if [ -d /var/lib/xen ] && unshare -m true 2>/dev/null; then
    exec unshare -m --propagation private -- sh -c \
        'mount -t tmpfs -o size=1m,mode=755 xenemu /var/lib/xen; exec "$@"' \
        xenstored "${cmd[@]}"
fi
exec "${cmd[@]}"
EOT
)
write_wrapper xenstored "$xenstored_bin"

printf '%s\n' "${versions[@]}" > "$dest/VERSIONS"
log "QEMU $qver and xenstored $(sed -n 's/^xen-utils-4.20 //p' \
    "$dest/VERSIONS") in $root"
