#!/bin/bash
# Configure (once) and build our Xen-enabled QEMU on one base
# with QEMU's own meson/ninja, then expose the binaries at stable paths:
#
#   scripts/build-qemu.sh 7.2     build/qemu-7.2/qemu-system-i386, qemu-img
#   scripts/build-qemu.sh 10.0    build/qemu-10.0/qemu-system-i386, qemu-img
#   scripts/build-qemu.sh 10.0 sanitizers
#                                 the same with AddressSanitizer and
#                                 UndefinedBehaviorSanitizer, from the same
#                                 sources: build/qemu-10.0/qemu-build-san/,
#                                 build/qemu-10.0/qemu-system-i386-san
#
# The device set is Debian's qemu-system-xen one by default: QEMU's default
# i386 devices and the features of the configure-xen rule in each base's
# debian/rules (Xen PCI passthrough, USB host devices, VNC with JPEG, SPICE,
# virtfs), so that `-device help` and `-machine help` list what stock QEMU
# lists (tests/check-device-list.sh).  QEMU_DEVICES=minimal builds only the
# Xen machines and devices (configs/devices/i386-softmmu/xen-pv-block.mak),
# some 270 fewer objects (a fifth of the build), for quick work.  The
# sanitizer build is minimal unless QEMU_SAN_DEVICES=debian: its suites
# exercise the Xen devices only.  Both sets keep our block features
# (linux-aio, io_uring, the image formats libxl offers), qemu-img and
# -Werror.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: build-qemu.sh 7.2|10.0 [sanitizers]"
base=${1:?$usage}
flavour=${2:-}
dir=$top/build/qemu-$base
src=$dir/qemu-src
case $flavour in
'') suffix='' devices=${QEMU_DEVICES:-debian} ;;
sanitizers) suffix=-san devices=${QEMU_SAN_DEVICES:-minimal} ;;
*) echo "$usage" >&2; exit 2 ;;
esac
case $devices in
debian | minimal) ;;
*) echo "build-qemu: the device set is debian or minimal, not $devices" >&2
   exit 2 ;;
esac
bld=$dir/qemu-build$suffix

# QEMU must configure with the system python3.
export PATH=/usr/bin:$PATH
if [ -d /usr/lib/ccache ]; then
    export PATH=/usr/lib/ccache:$PATH
    export CCACHE_BASEDIR=$top CCACHE_NOHASHDIR=1
fi
if [ "$base" = 10.0 ]; then
    # QEMU 10.0 needs meson >= 1.5: trixie's, unpacked by fetch-qemu.sh,
    # found by configure's venv through the system site packages.
    export PYTHONPATH=$top/build/tools/meson/usr/lib/python3/dist-packages
fi

# The minimal set's options come in the order they always had, so that a
# minimal build directory configured before the debian set existed is kept.
config=(
    --target-list=i386-softmmu
    --enable-xen --disable-tcg --disable-kvm
    --without-default-features
)
if [ "$devices" = minimal ]; then
    config+=(--without-default-devices --with-devices-i386=xen-pv-block)
fi
config+=(
    --disable-docs --disable-install-blobs --audio-drv-list=
    --enable-tools --enable-werror
    --enable-qcow1 --enable-qed --enable-linux-aio --enable-linux-io-uring
)
if [ "$devices" = minimal ]; then
    # 10.0's xen-pvh-common.c has unused functions without TPM (-Werror)
    config+=(--enable-tpm)
fi
config+=(--with-pkgversion=xen-pv-block)
if [ "$base" = 10.0 ]; then
    # Built into 7.2 whatever the features; options since QEMU 9.x (vpc is
    # libxl's "vhd" format).
    config+=(--enable-vpc --enable-vhdx --enable-vmdk)
    # libxl passes "-vnc none", which 10.0 only parses when built with VNC
    # (7.2 parses it through stubs).
    config+=(--enable-pixman --enable-vnc)
fi
if [ "$devices" = debian ]; then
    # Debian's configure-xen rule: default devices (no --with-devices) and
    # these features (debian/rules of bookworm's 7.2 and trixie's 10.0; the
    # Build-Depends are in install-deps.sh).  VNC and pixman are on for
    # 10.0 already.
    config+=(
        --enable-xen-pci-passthrough --enable-libusb
        --enable-vnc-jpeg --enable-spice
        --enable-virtfs --enable-attr --enable-cap-ng
        --enable-avx2
    )
    if [ "$base" = 7.2 ]; then
        config+=(--enable-vnc --enable-avx512f)
    else
        # No TPM, as in Debian's build (its devices would be extra ones):
        # 10.0's xen-pvh-common.c then has an unused variable and two
        # unused functions, left as warnings.
        warnings="-Wno-error=unused-function -Wno-error=unused-variable"
        config+=("--extra-cflags=$warnings")
    fi
    # Debian's FIRMWAREPATH: the option ROMs and VGA BIOSes of the emulated
    # devices (qemu-system-data, seabios, ipxe-qemu), as stock finds them.
    firmware=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
    config+=(--firmwarepath=$firmware)
fi
if [ -z "$flavour" ]; then
    # Network storage that libxl's params can name: Ceph RBD and iSCSI
    # (docs/system/devices/xen-block.rst).  The sanitizer build's suites
    # use files only.
    config+=(--enable-rbd --enable-libiscsi)
else
    # Options renamed in QEMU 9.0.
    if [ "$base" = 7.2 ]; then
        config+=(--enable-sanitizers)
    else
        config+=(--enable-asan --enable-ubsan)
    fi
fi
stamp="${config[*]}"
if [ ! -f "$bld/build.ninja" ] ||
        [ "$(cat "$bld/.configure-args" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$bld"
    mkdir -p "$bld"
    (cd "$bld" && "$src/configure" "${config[@]}" > configure.log 2>&1) || {
        tail -n 30 "$bld/configure.log" >&2
        exit 1
    }
    echo "$stamp" > "$bld/.configure-args"
fi
# For tests/check-device-list.sh, which compares only a debian build.
echo "$devices" > "$bld/.device-set"

targets=(qemu-system-i386 qemu-img)
for t in $(cd "$top" && ls tests/qtest/xen-*-test.c 2>/dev/null); do
    targets+=("tests/qtest/$(basename "$t" .c)")
done
targets+=(tests/qtest/device-introspect-test)
if ! ninja -C "$bld" "${targets[@]}" > "$bld/ninja.log" 2>&1; then
    grep -E -A12 '^FAILED|error:' "$bld/ninja.log" | head -n 80 >&2
    echo "build-qemu: $base${flavour:+ $flavour} build failed (log: $bld/ninja.log)" >&2
    exit 1
fi

ln -sfn "qemu-build$suffix/qemu-system-i386" "$dir/qemu-system-i386$suffix"
ln -sfn "qemu-build$suffix/qemu-img" "$dir/qemu-img$suffix"
