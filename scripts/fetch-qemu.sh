#!/bin/bash
# Fetch the Debian QEMU source package of one base and unpack it with
# Debian's patch series into build/qemu-<base>/qemu-src:
#
#   scripts/fetch-qemu.sh 7.2     Debian 12 (bookworm), QEMU 7.2.x
#   scripts/fetch-qemu.sh 10.0    Debian 13 (trixie), QEMU 10.0.x, and
#                                 trixie's meson (10.0 needs >= 1.5),
#                                 unpacked under build/tools/
#
# A private apt configuration under build/apt carries deb-src (and, for
# meson, deb) entries derived from the machine's own apt sources, so the
# system's apt setup is left untouched and no mirror host is named here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: fetch-qemu.sh 7.2|10.0}
case "$base" in
    7.2) suite=bookworm ;;
    10.0) suite=trixie ;;
    *) echo "fetch-qemu: unknown QEMU base $base" >&2; exit 2 ;;
esac
dest=$top/build/qemu-$base/qemu-src
meson_root=$top/build/tools/meson

need_meson=false
[ "$base" = 10.0 ] && [ ! -x "$meson_root/usr/bin/meson" ] && need_meson=true
if [ -f "$dest/VERSION" ] && ! $need_meson; then
    exit 0
fi

aptdir=$top/build/apt/$suite
mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/src"

. "$top/scripts/debian-sources.sh"
debian_sources "$suite" deb-src deb | sort -u > "$aptdir/sources.list"
if [ ! -s "$aptdir/sources.list" ]; then
    echo "fetch-qemu: no Debian archive entry found in the apt sources" >&2
    exit 1
fi

apt_opts=(
    -o "Dir::Etc::SourceList=$aptdir/sources.list"
    -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::Lists=$aptdir/lists"
    -o "Dir::Cache::Archives=$aptdir/archives"
    -o "Dir::State::status=/dev/null"
    -o "APT::Sandbox::User=root"
)
apt-get -qq "${apt_opts[@]}" update

if $need_meson; then
    (cd "$aptdir/archives" && apt-get -qq "${apt_opts[@]}" download meson)
    deb=$(ls "$aptdir"/archives/meson_*.deb | sort -V | tail -n 1)
    rm -rf "$meson_root.tmp"
    mkdir -p "$meson_root.tmp"
    dpkg-deb -x "$deb" "$meson_root.tmp"
    rm -rf "$meson_root"
    mv "$meson_root.tmp" "$meson_root"
    echo "fetch-qemu: $(basename "$deb") unpacked under build/tools/meson"
fi

if [ -f "$dest/VERSION" ]; then
    exit 0
fi
(cd "$aptdir/src" && apt-get -qq "${apt_opts[@]}" source --download-only qemu)

dsc=$(ls "$aptdir"/src/qemu_*.dsc | sort -V | tail -n 1)
case "$(basename "$dsc")" in
    qemu_"$base"[.+]* | qemu_1:"$base"[.+]*) ;;
    *) echo "fetch-qemu: $dsc is not QEMU $base.x" >&2; exit 1 ;;
esac

rm -rf "$dest.tmp"
mkdir -p "$(dirname "$dest")"
dpkg-source --no-check -x "$dsc" "$dest.tmp" >/dev/null
# Debian's pre-patch copies would be a second set of owned files.
rm -rf "$dest.tmp/.pc"
version=$(cat "$dest.tmp/VERSION")
case "$version" in
    "$base".*) ;;
    *) echo "fetch-qemu: unpacked QEMU $version, want $base.x" >&2
       exit 1 ;;
esac
mv "$dest.tmp" "$dest"
echo "fetch-qemu: QEMU $version from $(basename "$dsc")"
