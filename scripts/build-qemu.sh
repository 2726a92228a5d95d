#!/bin/bash
# Configure (once, minimally) and build our Xen-enabled QEMU on one base
# with QEMU's own meson/ninja, then expose the binaries at stable paths:
#
#   scripts/build-qemu.sh 7.2     build/qemu-7.2/qemu-system-i386, qemu-img
#   scripts/build-qemu.sh 10.0    build/qemu-10.0/qemu-system-i386, qemu-img
#   scripts/build-qemu.sh 10.0 sanitizers
#                                 the same with AddressSanitizer and
#                                 UndefinedBehaviorSanitizer, from the same
#                                 sources: build/qemu-10.0/qemu-build-san/,
#                                 build/qemu-10.0/qemu-system-i386-san
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: build-qemu.sh 7.2|10.0 [sanitizers]"
base=${1:?$usage}
flavour=${2:-}
dir=$top/build/qemu-$base
src=$dir/qemu-src
case $flavour in
'') suffix='' ;;
sanitizers) suffix=-san ;;
*) echo "$usage" >&2; exit 2 ;;
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

config=(
    --target-list=i386-softmmu
    --enable-xen --disable-tcg --disable-kvm
    --without-default-features --without-default-devices
    --with-devices-i386=xen-pv-block
    --disable-docs --disable-install-blobs --audio-drv-list=
    --enable-tools --enable-werror
    --enable-qcow1 --enable-qed --enable-linux-aio --enable-linux-io-uring
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
if [ -n "$flavour" ]; then
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
