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

/*
 * Segments handed to the kernel per grant-copy call: bounded so that the
 * kernel's segment array lives on the stack whatever a request holds.
 */
#define XEN_DEVICE_GRANT_COPY_BATCH 32

void xen_device_grant_open(XenDevice *xendev, Error **errp)
{
    xendev->xgth = xengnttab_open(NULL, 0);
    if (!xendev->xgth) {
        error_setg_errno(errp, errno, "failed to open grant-table handle");
        return;
    }

    /* A zero-segment copy fails only when the kernel cannot copy grants. */
    xendev->grant_copy = xengnttab_grant_copy(xendev->xgth, 0, NULL) == 0;
    trace_xen_device_grant_open(xendev->name, xendev->grant_copy);
}

void xen_device_grant_close(XenDevice *xendev)
{
    if (!xendev->xgth) {
        return;
    }
    xengnttab_close(xendev->xgth);
    xendev->xgth = NULL;
    xendev->grant_copy = false;
}

void xen_device_grant_set_max(XenDevice *xendev, unsigned int nr_refs,
                              Error **errp)
{
    if (xengnttab_set_max_grants(xendev->xgth, nr_refs)) {
        error_setg_errno(errp, errno, "xengnttab_set_max_grants(%u) failed",
                         nr_refs);
    }
}

void *xen_device_grant_map(XenDevice *xendev, const uint32_t *refs,
                           unsigned int nr_refs, int prot, Error **errp)
{
    void *map;

    /* libxengnttab does not write the refs; its prototype lacks const. */
    map = xengnttab_map_domain_grant_refs(xendev->xgth, nr_refs,
                                          xendev->frontend_id,
                                          (uint32_t *)refs, prot);
    if (!map) {
        error_setg_errno(errp, errno,
                         "failed to map %u grant ref(s) of domain %u",
                         nr_refs, xendev->frontend_id);
        return NULL;
    }
    trace_xen_device_grant_map(xendev->name, nr_refs, map);
    return map;
}

void xen_device_grant_unmap(XenDevice *xendev, void *map,
                            unsigned int nr_refs, Error **errp)
{
    trace_xen_device_grant_unmap(xendev->name, nr_refs, map);
    if (xengnttab_unmap(xendev->xgth, map, nr_refs)) {
        error_setg_errno(errp, errno, "failed to unmap %u grant ref(s)",
                         nr_refs);
    }
}

/* Without kernel grant copy: map each granted page, copy, unmap. */
static void xen_device_grant_copy_mapped(XenDevice *xendev, bool to_domain,
                                         XenDeviceGrantCopySegment segs[],
                                         unsigned int nr_segs, Error **errp)
{
    int prot = to_domain ? PROT_READ | PROT_WRITE : PROT_READ;
    unsigned int i;

    for (i = 0; i < nr_segs; i++) {
        XenDeviceGrantCopySegment *seg = &segs[i];
        XenDeviceGrantCopyPtr *foreign = to_domain ? &seg->dest : &seg->source;
        uint32_t ref = foreign->foreign.ref;
        uint8_t *page;

        page = xengnttab_map_domain_grant_refs(xendev->xgth, 1,
                                               xendev->frontend_id, &ref,
                                               prot);
        if (!page) {
            error_setg_errno(errp, errno,
                             "grant copy: segment %u: cannot map ref %u",
                             i, ref);
            return;
        }
        if (to_domain) {
            memcpy(page + seg->dest.foreign.offset, seg->source.virt,
                   seg->len);
        } else {
            memcpy(seg->dest.virt, page + seg->source.foreign.offset,
                   seg->len);
        }
        if (xengnttab_unmap(xendev->xgth, page, 1)) {
            error_setg_errno(errp, errno,
                             "grant copy: segment %u: cannot unmap ref %u",
                             i, ref);
            return;
        }
    }
}

void xen_device_grant_copy(XenDevice *xendev, bool to_domain,
                           XenDeviceGrantCopySegment segs[],
                           unsigned int nr_segs, Error **errp)
{
    xengnttab_grant_copy_segment_t batch[XEN_DEVICE_GRANT_COPY_BATCH];
    unsigned int done, n, i;

    trace_xen_device_grant_copy(xendev->name, to_domain, nr_segs);

    /*
     * The kernel rejects the whole call for a segment that leaves its page
     * and the mapping fallback would overrun the page: refuse up front.
     */
    for (i = 0; i < nr_segs; i++) {
        XenDeviceGrantCopyPtr *foreign =
            to_domain ? &segs[i].dest : &segs[i].source;

        if (foreign->foreign.offset + segs[i].len > XC_PAGE_SIZE) {
            error_setg(errp, "grant copy: segment %u crosses its page "
                       "(offset %u, length %u)", i, foreign->foreign.offset,
                       segs[i].len);
            return;
        }
    }

    if (!xendev->grant_copy) {
        xen_device_grant_copy_mapped(xendev, to_domain, segs, nr_segs, errp);
        return;
    }

    for (done = 0; done < nr_segs; done += n) {
        n = MIN(nr_segs - done, XEN_DEVICE_GRANT_COPY_BATCH);

        for (i = 0; i < n; i++) {
            XenDeviceGrantCopySegment *seg = &segs[done + i];
            xengnttab_grant_copy_segment_t *op = &batch[i];

            if (to_domain) {
                op->flags = GNTCOPY_dest_gref;
                op->source.virt = seg->source.virt;
                op->dest.foreign.ref = seg->dest.foreign.ref;
                op->dest.foreign.offset = seg->dest.foreign.offset;
                op->dest.foreign.domid = xendev->frontend_id;
            } else {
                op->flags = GNTCOPY_source_gref;
                op->source.foreign.ref = seg->source.foreign.ref;
                op->source.foreign.offset = seg->source.foreign.offset;
                op->source.foreign.domid = xendev->frontend_id;
                op->dest.virt = seg->dest.virt;
            }
            op->len = seg->len;
            op->status = GNTST_general_error;
        }

        if (xengnttab_grant_copy(xendev->xgth, n, batch)) {
            error_setg_errno(errp, errno, "grant copy of %u segment(s) failed",
                             n);
            return;
        }

        /* The call succeeds even when segments fail: check each one. */
        for (i = 0; i < n; i++) {
            if (batch[i].status != GNTST_okay) {
                XenDeviceGrantCopySegment *seg = &segs[done + i];
                XenDeviceGrantCopyPtr *foreign =
                    to_domain ? &seg->dest : &seg->source;

                error_setg(errp, "grant copy: segment %u (ref %u) failed: "
                           "status %d", done + i, foreign->foreign.ref,
                           batch[i].status);
                return;
            }
        }
    }
}
