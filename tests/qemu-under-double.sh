# Sourced first by the shell tests of our QEMU under the test double
# (check-hostile.sh, check-faults.sh, check-loss.sh), which are called as
# SCRIPT QEMU BUILD/xenemu.  Runs the script again inside xenemu-run with
# guest domain 1, then sets $qemu, $xenemu and $work (a folder removed at
# exit), sources tap.sh and provides:
#
#   wait_backend DEVID [SECONDS]   guest 1's qdisk DEVID reaches InitWait
#                                  (2) within SECONDS (default 60)
#   qmp COMMAND [EVENT]            one QMP command on $work/qmp.sock; with
#                                  EVENT, also waits up to 20 s for it.
#                                  Prints the command's return value.

qemu=$1
xenemu=$2

if [ "${3:-}" != --inside ]; then
    exec "$xenemu/xenemu-run" --guest 1 -- "$0" "$qemu" "$xenemu" --inside
fi

. "$(dirname "$0")/tap.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

wait_backend() {
    local n=$((${2:-60} * 10))
    while [ "$n" -gt 0 ]; do
        [ "$(xenstore-read "/local/domain/0/backend/qdisk/1/$1/state" \
             2>/dev/null)" = 2 ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

qmp() {
    python3 - "$work/qmp.sock" "$1" "${2:-}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
f = s.makefile('rw')
f.readline()
def send(cmd):
    f.write(json.dumps(cmd) + '\n')
    f.flush()
send({'execute': 'qmp_capabilities'})
events = []
def reply():
    while True:
        m = json.loads(f.readline())
        if 'event' in m:
            events.append(m['event'])
        else:
            return m
reply()
send(json.loads(sys.argv[2]))
print(json.dumps(reply().get('return')))
while sys.argv[3] and sys.argv[3] not in events:
    m = json.loads(f.readline())
    if 'event' in m:
        events.append(m['event'])
PY
}
