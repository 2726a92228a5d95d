#!/bin/bash
# Run a TAP test suite against the sanitizer build of our QEMU, then add one
# test of its own: no AddressSanitizer or UndefinedBehaviorSanitizer report
# from any QEMU the suite started.  Reports go to files (log_path), so that
# a report from a QEMU whose death the suite would not notice still fails.
#
# Usage: check-sanitized.sh REPORT-DIR COMMAND...
set -uo pipefail

dir=$1
shift
rm -rf "$dir"
mkdir -p "$dir"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# verify_asan_link_order=0: the test double is LD_PRELOADed ahead of the
# ASan runtime.  Leaks are valgrind's business in the hostile suite.
export ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0:halt_on_error=1:log_path=$dir/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$dir/ubsan"

"$@" | tee "$out"
rc=${PIPESTATUS[0]}

n=$(($(grep -cE '^(not )?ok [0-9]+' "$out") + 1))
# Files that only hold ASan's warning about QEMU's coroutines switching
# stacks (makecontext/swapcontext) report nothing.
reports=$(grep -lE 'ERROR: [A-Za-z]+Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' \
          -r "$dir" | sort)
if [ -z "$reports" ]; then
    echo "ok $n - no sanitizer report"
else
    echo "not ok $n - sanitizer reports: $(echo $reports)"
    for r in $reports; do
        grep -v makecontext "$r" | head -n 30 | sed 's/^/# /'
    done
fi
echo "1..$n"
exit "$rc"
