# TAP output for the project's shell tests.  Source it, report each test
# with `tap_result STATUS NAME` (STATUS 0 passes) and end with `tap_done`,
# which prints the plan and returns non-zero if any test failed.

tap_count=0
tap_failed=0

tap_result() {
    tap_count=$((tap_count + 1))
    if [ "$1" = 0 ]; then
        echo "ok $tap_count - $2"
    else
        echo "not ok $tap_count - $2"
        tap_failed=1
    fi
}

tap_done() {
    echo "1..$tap_count"
    return "$tap_failed"
}
