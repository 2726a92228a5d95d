#!/bin/bash
# Package our built QEMU as a Debian package that installs in place of
# Debian 12's qemu-system-xen:
#
#   scripts/make-deb.sh [7.2|10.0]...   (default: both bases)
#
# Writes build/deb/qemu-system-xen-pvblock_<version>_<arch>.deb per base
# (DEB_OUT names another folder) and prints each path on stdout.
#
# The package ships what Debian's does, at the same path, so that libxl
# starts it as its qemu-xen device model with no device_model_override:
#   /usr/libexec/xen-qemu-system-i386   build/qemu-<base>/qemu-system-i386,
#                                       stripped
#   /usr/share/doc/qemu-system-xen-pvblock/{copyright,changelog.Debian.gz}
# One package name for both bases (they are one file, so they exclude each
# other); the version names the base and marks the package as ours:
#   <the base's Debian source version>+pvblock<commits>.g<hash>[.dirty]
# e.g. 1:7.2+dfsg-7+deb12u18+pvblock108.gd5145f0, growing with every commit
# so that a newer build upgrades an older one.  It
#   Provides qemu-system-xen (= its own version): satisfies xen-utils-4.17's
#     Recommends (>> 1:7.0+dfsg-6~) and anything asking for the device model;
#   Conflicts/Replaces qemu-system-xen: installing it removes Debian's (and
#     installing Debian's removes it), with no file clash on the way.
# Depends: the shared libraries from dpkg-shlibdeps, and the data and
# firmware Debian 12's qemu-system-xen depends on (keymaps, option ROMs,
# VGA BIOSes); the 10.0 base runs on Debian 12 too, so it takes the same.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${DEB_OUT:-$top/build/deb}
pkg=qemu-system-xen-pvblock
dest_bin=usr/libexec/xen-qemu-system-i386
# As Debian 12's qemu-system-xen (debian/control of its qemu 7.2 source).
data_deps='qemu-system-data (>> 1:7.2+dfsg~), seabios, ipxe-qemu'
recommends='qemu-utils, ovmf'

die() {
    echo "make-deb: $*" >&2
    exit 1
}

[ $# -gt 0 ] || set -- 7.2 10.0
for base in "$@"; do
    case $base in
    7.2 | 10.0) ;;
    *) die "unknown QEMU base '$base' (7.2 or 10.0)" ;;
    esac
done
for tool in dpkg-deb dpkg-shlibdeps dpkg-parsechangelog strip; do
    command -v $tool > /dev/null ||
        die "$tool is missing: run scripts/install-deps.sh (as root)"
done
arch=$(dpkg --print-architecture)

# <commits>.g<hash>[.dirty] of the tree the binaries were built from; the
# changelog's date and the files' times are the commit's.
if commits=$(git -C "$top" rev-list --count HEAD 2> /dev/null); then
    rev=$commits.g$(git -C "$top" rev-parse --short=7 HEAD)
    [ -z "$(git -C "$top" status --porcelain --untracked-files=no)" ] ||
        rev=$rev.dirty
    date=$(git -C "$top" log -1 --format=%aD)
    epoch=$(git -C "$top" log -1 --format=%at)
    maint=$(git -C "$top" log -1 --format='%an <%ae>')
else
    rev=0
    date=$(date -R)
    epoch=$(date +%s)
    maint="xen-pv-block <root@localhost>"
fi
[ -z "${DEBEMAIL:-}" ] || maint="${DEBFULLNAME:-xen-pv-block} <$DEBEMAIL>"
# Reproducible: the same commit gives the same package.
export SOURCE_DATE_EPOCH=$epoch

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

for base in "$@"; do
    bin=$top/build/qemu-$base/qemu-system-i386
    changelog=$top/build/qemu-$base/qemu-src/debian/changelog
    [ -x "$bin" ] && [ -f "$changelog" ] ||
        die "no QEMU $base build ($bin): run 'make qemu' (or 'make qemu-$base') first"
    qemu_version=$("$bin" --version |
        sed -n '1s/^QEMU emulator version \([^ ]*\).*/\1/p')
    [ -n "$qemu_version" ] || die "$bin --version does not run"
    srcver=$(dpkg-parsechangelog -l "$changelog" -S Version)
    version=$srcver+pvblock$rev
    echo "make-deb: $pkg $version (QEMU $qemu_version)" >&2

    stage=$work/$base
    doc=$stage/usr/share/doc/$pkg
    mkdir -p "$stage/DEBIAN" "$stage/$(dirname $dest_bin)" "$doc"
    # As dh_strip does for executables.
    strip --remove-section=.comment --remove-section=.note \
        -o "$stage/$dest_bin" "$bin"
    chmod 0755 "$stage/$dest_bin"

    {
        cat <<EOF
$pkg: QEMU $qemu_version built from Debian's qemu $srcver source package,
with the Xen bus and PV block backend (xen-bus, xen-block, its dataplane)
of the xen-pv-block project in place of QEMU's own, at commit
$(git -C "$top" rev-parse HEAD 2> /dev/null || echo unknown).

The xen-pv-block files are licensed GPL-2.0-or-later (their SPDX headers).
QEMU as a whole is GPL-2.0; Debian's copyright file of the qemu source
package follows.

EOF
        cat "$top/build/qemu-$base/qemu-src/debian/copyright"
    } > "$doc/copyright"
    cat <<EOF | gzip -9n > "$doc/changelog.Debian.gz"
$pkg ($version) bookworm; urgency=medium

  * QEMU $qemu_version from Debian's qemu $srcver, with the Xen PV block
    backend of xen-pv-block $rev.

 -- $maint  $date
EOF

    # dpkg-shlibdeps reads the package list from debian/control.
    mkdir -p "$work/shlibs-$base/debian"
    printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" \
        > "$work/shlibs-$base/debian/control"
    shlibs=$(cd "$work/shlibs-$base" &&
        dpkg-shlibdeps -O -e"$stage/$dest_bin" 2> "$work/shlibdeps.log") ||
        { cat "$work/shlibdeps.log" >&2; die "dpkg-shlibdeps failed"; }
    shlibs=${shlibs#shlibs:Depends=}
    [ -n "$shlibs" ] || die "dpkg-shlibdeps found no library of $bin"

    size=$(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)
    cat > "$stage/DEBIAN/control" <<EOF
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: $maint
Installed-Size: $size
Depends: $shlibs, $data_deps
Recommends: $recommends
Provides: qemu-system-xen (= $version)
Conflicts: qemu-system-xen
Replaces: qemu-system-xen
Section: otherosfs
Priority: optional
Homepage: https://www.qemu.org/
Description: QEMU Xen device model with the xen-pv-block PV disk backend
 QEMU $qemu_version built from Debian's qemu $srcver source package, with an
 independent implementation of the Xen bus and of the xen-disk (qdisk)
 backend: multi-queue, indirect descriptors, persistent grants, IOThreads.
 .
 It installs /usr/libexec/xen-qemu-system-i386 in place of Debian's
 qemu-system-xen, so that libxl uses it as the qemu-xen device model
 without device_model_override.  Installing qemu-system-xen brings
 Debian's back.
EOF
    find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

    # Older packages of this base go: one package per base in $out.
    rm -f "$out/${pkg}_$base"[.+]*"_$arch.deb"
    dpkg-deb --root-owner-group --build "$stage" "$out" > "$work/deb.log" ||
        { cat "$work/deb.log" >&2; die "dpkg-deb failed"; }
    deb=$out/${pkg}_${version#*:}_$arch.deb
    [ -f "$deb" ] || die "dpkg-deb did not write $deb"
    echo "$deb"
done
