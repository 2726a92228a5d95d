#!/bin/bash
# Configure (once, minimally) and build our Xen-enabled QEMU on one base
# with QEMU's own meson/ninja, then expose the binaries at stable paths:
#
#   scripts/build-qemu.sh 7.2     build/qemu-7.2/qemu-system-i386, qemu-img
#   scripts/build-qemu.sh 10.0    build/qemu-10.0/qemu-system-i386, qemu-img
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: build-qemu.sh 7.2|10.0}
dir=$top/build/qemu-$base
src=$dir/qemu-src
bld=$dir/qemu-build

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

config=(
    --target-list=i386-softmmu
    --enable-xen --disable-tcg --disable-kvm
    --without-default-features --without-default-devices
    --with-devices-i386=xen-pv-block
    --disable-docs --disable-install-blobs --audio-drv-list=
    --enable-tools --enable-werror
    --enable-qcow1 --enable-qed --enable-linux-aio
    # 10.0's xen-pvh-common.c has unused functions without TPM (-Werror)
    --enable-tpm
    --with-pkgversion=xen-pv-block
)
if [ "$base" = 10.0 ]; then
    # Built into 7.2 whatever the features; options since QEMU 9.x (vpc is
    # libxl's "vhd" format).
    config+=(--enable-vpc --enable-vhdx --enable-vmdk)
    # libxl passes "-vnc none", which 10.0 only parses when built with VNC
    # (7.2 parses it through stubs).
    config+=(--enable-pixman --enable-vnc)
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

targets=(qemu-system-i386 qemu-img)
for t in $(cd "$top" && ls tests/qtest/xen-*-test.c 2>/dev/null); do
    targets+=("tests/qtest/$(basename "$t" .c)")
done
targets+=(tests/qtest/device-introspect-test)
if ! ninja -C "$bld" "${targets[@]}" > "$bld/ninja.log" 2>&1; then
    grep -E -A12 '^FAILED|error:' "$bld/ninja.log" | head -n 80 >&2
    echo "build-qemu: $base build failed (log: $bld/ninja.log)" >&2
    exit 1
fi

ln -sfn qemu-build/qemu-system-i386 "$dir/qemu-system-i386"
ln -sfn qemu-build/qemu-img "$dir/qemu-img"
