#!/bin/bash
# The main job: show what our QEMU provides.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
qemu=$top/build/qemu-system-i386

echo "QEMU: $("$qemu" --version | head -n 1)"
echo "Xen device types of this series:"
{
    echo '{"execute": "qmp_capabilities"}'
    echo '{"execute": "qom-list-types",
           "arguments": {"implements": "xen-device", "abstract": true}}'
    echo '{"execute": "qom-list-types",
           "arguments": {"implements": "xen-bus", "abstract": true}}'
    echo '{"execute": "qom-list-types",
           "arguments": {"implements": "xen-bridge", "abstract": true}}'
    echo '{"execute": "quit"}'
} | "$qemu" -machine none -accel qtest -nodefaults -display none -qmp stdio |
    grep -o '"name": "[^"]*", "parent": "[^"]*"' |
    sed 's/"name": "\([^"]*\)", "parent": "\([^"]*\)"/  \1 (parent \2)/'
