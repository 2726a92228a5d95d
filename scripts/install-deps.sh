#!/bin/bash
# Install the Debian packages the build, the demo and the tests need.
# Skips what is present; refreshes the package lists only when needed.
set -euo pipefail

packages=(
    # QEMU's build (reference notes §10, §11), through ccache; 10.0's
    # configure makes a python venv (ensurepip is in python3-venv)
    build-essential pkg-config python3 python3-venv ninja-build meson
    libglib2.0-dev libpixman-1-dev libfdt-dev libxen-dev dpkg-dev xz-utils
    libaio-dev liburing-dev ccache
    # the features of Debian's qemu-system-xen (build-qemu.sh, the debian
    # device set): USB host devices, VNC's JPEG, SPICE, virtfs (libcap-ng;
    # its xattr calls are glibc's)
    libusb-1.0-0-dev libjpeg-dev libspice-server-dev libspice-protocol-dev
    libcap-ng-dev
    # network storage: Ceph RBD and iSCSI
    librbd-dev libiscsi-dev
    # a throwaway Ceph cluster for the RBD test (tests/ceph-cluster.sh)
    ceph-mon ceph-mgr ceph-osd ceph-common
    # fetching the source package and checking style
    ca-certificates git perl
    # the hypervisor test double and the reference backend
    qemu-system-xen xen-utils-4.17 xenstore-utils
    # tests (qemu-nbd serves a disk over NBD; valgrind checks QEMU under a
    # hostile guest and counts instructions for the benchmark, which plots
    # with gnuplot)
    procps psmisc qemu-utils valgrind gnuplot-nox
    # the package test's fresh Debian 12 root (tests/check-deb.sh)
    debootstrap
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages, run as root: ${missing[*]}" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
