#!/bin/bash
# Configure (once, minimally) and build our Xen-enabled QEMU with QEMU's own
# meson/ninja, then expose the binaries at stable paths under build/.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/qemu-src
bld=$top/build/qemu-build

# QEMU must configure with the system python3 and meson.
export PATH=/usr/bin:$PATH
if [ -d /usr/lib/ccache ]; then
    export PATH=/usr/lib/ccache:$PATH
    export CCACHE_BASEDIR=$top CCACHE_NOHASHDIR=1
fi

config=(
    --target-list=i386-softmmu
    --enable-xen --disable-tcg --disable-kvm
    --without-default-features --without-default-devices
    --with-devices-i386=xen-pv-block
    --disable-docs --audio-drv-list=
    --enable-tools --enable-werror
    --enable-qcow1 --enable-qed --enable-linux-aio
    --with-pkgversion=xen-pv-block
)
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
    echo "build-qemu: build failed (log: $bld/ninja.log)" >&2
    exit 1
fi

ln -sfn qemu-build/qemu-system-i386 "$top/build/qemu-system-i386"
ln -sfn qemu-build/qemu-img "$top/build/qemu-img"
