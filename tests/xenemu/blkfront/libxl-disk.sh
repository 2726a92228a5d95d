# A disk as libxl makes and removes it, through xenstore alone (sourced by
# check-blkfront and tests/check-loss.sh; installed next to xen-blkfront).
# The backend areas are under $BE (/local/domain/0/backend/qdisk/1), the
# frontend areas under $FE (/local/domain/1/device/vbd).

# libxl_disk_add DEVID VDEV IMAGE MODE DISCARD [DIRECT_IO_SAFE]: the
# backend and frontend areas as libxl writes them (direct-io-safe 0 unless
# given); online and state last, since QEMU acts on state=1 at once.
libxl_disk_add() {
    local be=$BE/$1 fe=$FE/$1
    xenstore-write $be/frontend $fe $be/frontend-id 1 $be/removable 0 \
        $be/bootable 1 $be/dev $2 $be/type qdisk $be/mode $4 \
        $be/device-type disk $be/params aio:$3 $be/discard-enable $5 \
        $be/direct-io-safe ${6:-0} &&
    xenstore-write $fe/backend $be $fe/backend-id 0 $fe/state 1 \
        $fe/virtual-device $1 $fe/device-type disk &&
    xenstore-chmod -r $fe n1 r0 &&
    xenstore-write $be/online 1 $be/state 1 &&
    xenstore-chmod -r $be n0 r1
}

# libxl_disk_remove DEVID [SECONDS]: libxl's removal: online=0 with the
# backend Closing, wait (10 s by default) for Closed or the area gone,
# then remove both areas.  Fails if the backend never got to Closed.
libxl_disk_remove() {
    local be=$BE/$1 fe=$FE/$1 n=$((${2:-10} * 10)) st closed=1
    xenstore-write $be/online 0 $be/state 5 || return 1
    while [ "$n" -gt 0 ]; do
        st=$(xenstore-read $be/state 2>/dev/null) || { closed=0; break; }
        [ "$st" = 6 ] && { closed=0; break; }
        sleep 0.1
        n=$((n - 1))
    done
    xenstore-rm $be 2>/dev/null
    xenstore-rm $fe 2>/dev/null
    return $closed
}
