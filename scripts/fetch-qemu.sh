#!/bin/bash
# Fetch Debian bookworm's QEMU 7.2 source package and unpack it with Debian's
# patch series into $1 (default build/qemu-src).  A private apt configuration
# under the build folder carries a deb-src entry derived from the machine's own
# apt sources, so the system's apt setup is left untouched and no mirror host
# is named here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/build/qemu-src}
aptdir=$top/build/apt
want_upstream=7.2

if [ -f "$dest/VERSION" ]; then
    exit 0
fi

mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/src"

# One deb-src line per Debian suite the machine is configured for.
derive_sources() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '
            function flush() {
                if (uris != "" && suites ~ /bookworm/ && types ~ /deb/) {
                    n = split(uris, u, " "); m = split(suites, s, " ")
                    for (i = 1; i <= n; i++)
                        for (j = 1; j <= m; j++)
                            printf "deb-src %s%s %s %s\n", opt, u[i], s[j], comps
                }
                types = uris = suites = comps = opt = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^#/ { next }
            /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
            /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); opt = "[signed-by=" $0 "] " }
            END { flush() }
        ' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[ \t]*deb\([ \t].*bookworm.*\)$/deb-src\1/p' "$f"
    done
}

derive_sources | sort -u > "$aptdir/sources.list"
if [ ! -s "$aptdir/sources.list" ]; then
    echo "fetch-qemu: no Debian bookworm entry found in the apt sources" >&2
    exit 1
fi

apt_opts=(
    -o "Dir::Etc::SourceList=$aptdir/sources.list"
    -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::Lists=$aptdir/lists"
    -o "Dir::Cache::Archives=$aptdir/archives"
    -o "APT::Sandbox::User=root"
)
apt-get -qq "${apt_opts[@]}" update
(cd "$aptdir/src" && apt-get -qq "${apt_opts[@]}" source --download-only qemu)

dsc=$(ls "$aptdir"/src/qemu_*.dsc | sort -V | tail -n 1)
case "$(basename "$dsc")" in
    qemu_"$want_upstream"[.+]*) ;;
    *) echo "fetch-qemu: $dsc is not QEMU $want_upstream.x" >&2; exit 1 ;;
esac

rm -rf "$dest.tmp"
dpkg-source --no-check -x "$dsc" "$dest.tmp" >/dev/null
rm -rf "$dest.tmp/.pc"
version=$(cat "$dest.tmp/VERSION")
case "$version" in
    "$want_upstream".*) ;;
    *) echo "fetch-qemu: unpacked QEMU $version, want $want_upstream.x" >&2
       exit 1 ;;
esac
mv "$dest.tmp" "$dest"
echo "fetch-qemu: QEMU $version from $(basename "$dsc")"
