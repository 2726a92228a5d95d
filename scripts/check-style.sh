#!/bin/bash
# QEMU's checkpatch.pl over every C file and header this project owns in
# QEMU's tree (the test double under tests/xenemu/ is not QEMU code).
# Prints TAP: one test per file, passing only with 0 errors and 0 warnings.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
checkpatch=$top/build/qemu-7.2/qemu-src/scripts/checkpatch.pl
cd "$top"
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
    'hw/*.[ch]' 'include/*.h' 'tests/qtest/*.[ch]' 'compat/*.[ch]')

echo "1..${#files[@]}"
n=0
rc=0
for f in "${files[@]}"; do
    n=$((n + 1))
    out=$(perl "$checkpatch" --no-tree -f "$f" 2>&1)
    if echo "$out" | grep -q '^total: 0 errors, 0 warnings'; then
        echo "ok $n - checkpatch $f"
    else
        echo "$out" | grep -E "^(ERROR|WARNING|#|total)" | sed "s/^/# /"
        echo "not ok $n - checkpatch $f"
        rc=1
    fi
done
exit $rc
