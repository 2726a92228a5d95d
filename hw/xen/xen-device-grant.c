/*
 * Grant-table services of a XenDevice: map granted pages of the frontend
 * domain and copy data between them and local memory
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/xen/xen-bus.h"
#include "hw/xen/xen-device-services.h"
#include "trace.h"

void xen_device_grant_open(XenDevice *xendev, Error **errp)
{
    xendev->xgth = qemu_xen_gnttab_open();
    if (!xendev->xgth) {
        error_setg_errno(errp, errno, "failed to open grant-table handle");
    }
}

void xen_device_grant_close(XenDevice *xendev)
{
    if (!xendev->xgth) {
        return;
    }
    qemu_xen_gnttab_close(xendev->xgth);
    xendev->xgth = NULL;
}

void xen_device_set_max_grant_refs(XenDevice *xendev, unsigned int nr_refs,
                                   Error **errp)
{
    if (qemu_xen_gnttab_set_max_grants(xendev->xgth, nr_refs)) {
        error_setg_errno(errp, errno, "xengnttab_set_max_grants(%u) failed",
                         nr_refs);
    }
}

void *xen_device_map_grant_refs(XenDevice *xendev, uint32_t *refs,
                                unsigned int nr_refs, int prot,
                                Error **errp)
{
    void *map = qemu_xen_gnttab_map_refs(xendev->xgth, nr_refs,
                                         xendev->frontend_id, refs, prot);

    if (!map) {
        error_setg_errno(errp, errno,
                         "failed to map %u grant ref(s) of domain %u",
                         nr_refs, xendev->frontend_id);
        return NULL;
    }
    trace_xen_device_grant_map(xendev->name, nr_refs, map);
    return map;
}

void xen_device_unmap_grant_refs(XenDevice *xendev, void *map, uint32_t *refs,
                                 unsigned int nr_refs, Error **errp)
{
    trace_xen_device_grant_unmap(xendev->name, nr_refs, map);
    if (qemu_xen_gnttab_unmap(xendev->xgth, map, refs, nr_refs)) {
        error_setg_errno(errp, errno, "failed to unmap %u grant ref(s)",
                         nr_refs);
    }
}

void xen_device_copy_grant_refs(XenDevice *xendev, bool to_domain,
                                XenDeviceGrantCopySegment segs[],
                                unsigned int nr_segs, Error **errp)
{
    unsigned int i;

    trace_xen_device_grant_copy(xendev->name, to_domain, nr_segs);

    /*
     * The kernel rejects the whole call for a segment that leaves its page
     * and a mapping fallback would overrun the page: refuse up front.
     */
    for (i = 0; i < nr_segs; i++) {
        XenDeviceGrantCopySegment *seg = &segs[i];
        off_t offset = to_domain ? seg->dest.foreign.offset :
                                   seg->source.foreign.offset;

        if (offset < 0 || offset + seg->len > XEN_PAGE_SIZE) {
            error_setg(errp, "grant copy: segment %u crosses its page "
                       "(offset %lld, length %zu)", i, (long long)offset,
                       seg->len);
            return;
        }
    }

    qemu_xen_gnttab_grant_copy(xendev->xgth, to_domain, xendev->frontend_id,
                               segs, nr_segs, errp);
}
