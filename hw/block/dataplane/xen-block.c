/*
 * Xen block dataplane: start, stop, drain and resize
 *
 * The dataplane serves one blkif ring from an AioContext: the device's
 * IOThread, or the main loop.  Starting maps the ring and moves the drive
 * and the event channel to that context; stopping finishes what is in
 * flight and takes them back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "block/aio-wait.h"
#include "system/block-backend.h"
#include "hw/qdev-core.h"
#include "hw/xen/xen-compat.h"
#include "xen-block-internal.h"
#include "hw/block/trace.h"

XenBlockDataPlane *xen_block_dataplane_create(XenDevice *xendev,
                                              BlockBackend *blk,
                                              IOThread *iothread)
{
    XenBlockDataPlane *dp = g_new0(XenBlockDataPlane, 1);

    dp->xendev = xendev;
    dp->blk = blk;
    if (iothread) {
        dp->iothread = iothread;
        object_ref(OBJECT(iothread));
        dp->ctx = iothread_get_aio_context(iothread);
    } else {
        dp->ctx = qemu_get_aio_context();
    }
    /* The guard stops device MMIO from re-entering the bottom half. */
    dp->bh = aio_bh_new_guarded(dp->ctx, xen_block_bh, dp,
                                &DEVICE(xendev)->mem_reentrancy_guard);
    QSLIST_INIT(&dp->free_requests);
    QSIMPLEQ_INIT(&dp->reads);
    return dp;
}

void xen_block_dataplane_destroy(XenBlockDataPlane *dp)
{
    if (!dp) {
        return;
    }
    xen_block_dataplane_stop(dp);
    qemu_bh_delete(dp->bh);
    if (dp->iothread) {
        object_unref(OBJECT(dp->iothread));
    }
    g_free(dp);
}

static bool xen_block_check_conf(const XenBlockDataPlaneConf *conf,
                                 unsigned int nr_ring_ref, Error **errp)
{
    if (nr_ring_ref == 0 || nr_ring_ref > XEN_BLOCK_MAX_RING_PAGES ||
        !is_power_of_2(nr_ring_ref)) {
        error_setg(errp, "unsupported ring of %u pages", nr_ring_ref);
        return false;
    }
    /* A segment is at most a page and must be whole logical blocks. */
    if (conf->sector_size < BDRV_SECTOR_SIZE ||
        conf->sector_size > XEN_PAGE_SIZE ||
        !is_power_of_2(conf->sector_size)) {
        error_setg(errp, "unsupported sector size %u", conf->sector_size);
        return false;
    }
    if (conf->max_indirect_segments > XEN_BLOCK_MAX_INDIRECT_SEGMENTS) {
        error_setg(errp, "at most %zu indirect segments are supported",
                   XEN_BLOCK_MAX_INDIRECT_SEGMENTS);
        return false;
    }
    return true;
}

void xen_block_dataplane_start(XenBlockDataPlane *dp,
                               const XenBlockDataPlaneConf *conf,
                               const uint32_t ring_ref[],
                               unsigned int nr_ring_ref,
                               unsigned int event_channel,
                               XenBlockProtocol protocol, Error **errp)
{
    ERRP_GUARD();
    XenDevice *xendev = dp->xendev;
    AioContext *old_ctx;
    RING_IDX req_prod, rsp_prod;
    size_t ring_bytes;

    if (dp->started) {
        error_setg(errp, "dataplane already started");
        return;
    }
    if (!xen_block_check_conf(conf, nr_ring_ref, errp)) {
        return;
    }
    switch (protocol) {
    case XEN_BLOCK_PROTOCOL_X86_32:
        dp->abi64 = false;
        break;
    case XEN_BLOCK_PROTOCOL_X86_64:
        dp->abi64 = true;
        break;
    default:
        error_setg(errp, "unknown ring protocol %d", protocol);
        return;
    }
    dp->conf = *conf;
    dp->entry_size = dp->abi64 ? sizeof(XenBlkRwReq64) :
                                 sizeof(XenBlkRwReq32);

    memcpy(dp->ring_ref, ring_ref, nr_ring_ref * sizeof(ring_ref[0]));
    dp->sring = xen_device_map_grant_refs(xendev, dp->ring_ref, nr_ring_ref,
                                          PROT_READ | PROT_WRITE, errp);
    if (!dp->sring) {
        return;
    }
    dp->nr_ring_ref = nr_ring_ref;

    /*
     * Pick up at the frontend's indexes rather than at 0: it may reconnect
     * with requests still on the ring.  They are read once, here.
     */
    ring_bytes = (size_t)nr_ring_ref * XEN_PAGE_SIZE;
    req_prod = qatomic_read(&dp->sring->req_prod);
    rsp_prod = qatomic_read(&dp->sring->rsp_prod);
    dp->ring.sring = dp->sring;
    dp->ring.nr_ents = pow2floor((ring_bytes -
                                  offsetof(blkif_sring_t, ring)) /
                                 dp->entry_size);
    dp->ring.req_cons = rsp_prod;
    dp->ring.rsp_prod_pvt = rsp_prod;
    if (RING_REQUEST_PROD_OVERFLOW(&dp->ring, req_prod)) {
        error_setg(errp, "inconsistent ring indexes (req_prod %u, "
                   "rsp_prod %u)", req_prod, rsp_prod);
        goto fail_unmap;
    }

    if (!xen_block_alloc_requests(dp, errp)) {
        goto fail_unmap;
    }

    old_ctx = blk_get_aio_context(dp->blk);
    xen_aio_context_acquire(old_ctx);
    blk_set_aio_context(dp->blk, dp->ctx, errp);
    xen_aio_context_release(old_ctx);
    if (*errp) {
        goto fail_free;
    }

    dp->halted = false;
    dp->stopping = false;
    dp->drained = false;
    dp->barrier = NULL;
    dp->nr_busy = 0;
    /*
     * The channel starts in the main context: move it before anything can
     * poll that context, so its handler only ever runs in dp->ctx.
     */
    dp->event_channel = xen_device_bind_event_channel(xendev, event_channel,
                                                      xen_block_event, dp,
                                                      errp);
    if (!dp->event_channel) {
        goto fail_ctx;
    }
    xen_device_set_event_channel_context(xendev, dp->event_channel, dp->ctx,
                                         &error_abort);
    dp->started = true;
    trace_xen_block_dataplane_start(dp, nr_ring_ref, RING_SIZE(&dp->ring),
                                    dp->nr_requests, dp->abi64);

    /* Requests queued before the channel was bound sent no event to us. */
    qemu_bh_schedule(dp->bh);
    return;

fail_ctx:
    xen_aio_context_acquire(dp->ctx);
    blk_set_aio_context(dp->blk, qemu_get_aio_context(), NULL);
    xen_aio_context_release(dp->ctx);
fail_free:
    xen_block_free_requests(dp);
fail_unmap:
    xen_device_unmap_grant_refs(xendev, dp->sring, dp->ring_ref, nr_ring_ref,
                                NULL);
    dp->sring = NULL;
}

/* In dp->ctx: from now on nothing new is taken from the ring. */
static void xen_block_stop_bh(void *opaque)
{
    XenBlockDataPlane *dp = opaque;

    xen_aio_context_acquire(dp->ctx);
    dp->stopping = true;
    xen_device_set_event_channel_context(dp->xendev, dp->event_channel, NULL,
                                         &error_abort);
    xen_aio_context_release(dp->ctx);
}

/*
 * In dp->ctx after a drain: start a barrier that was waiting for the
 * drained requests, publish the responses, and once no slot is in use
 * make sure nothing runs in dp->ctx for the dataplane any more.
 */
static void xen_block_quiesce_bh(void *opaque)
{
    XenBlockDataPlane *dp = opaque;

    xen_block_handle_requests(dp);
    xen_aio_context_acquire(dp->ctx);
    dp->idle = dp->nr_busy == 0;
    if (dp->idle) {
        qemu_bh_cancel(dp->bh);
    }
    xen_aio_context_release(dp->ctx);
}

void xen_block_dataplane_stop(XenBlockDataPlane *dp)
{
    Error *local_err = NULL;

    if (!dp || !dp->started) {
        return;
    }
    trace_xen_block_dataplane_stop(dp);

    xen_aio_context_acquire(dp->ctx);
    aio_wait_bh_oneshot(dp->ctx, xen_block_stop_bh, dp);
    /*
     * A completion may issue more I/O (the flush after a write, a barrier
     * waiting for the drained requests) that the drain only queued: drain
     * until no request slot is in use.
     */
    do {
        blk_drain(dp->blk);
        aio_wait_bh_oneshot(dp->ctx, xen_block_quiesce_bh, dp);
    } while (!dp->idle);
    /* Other users may keep the BlockBackend in the IOThread: that is fine */
    blk_set_aio_context(dp->blk, qemu_get_aio_context(), NULL);
    xen_aio_context_release(dp->ctx);

    xen_device_unbind_event_channel(dp->xendev, dp->event_channel,
                                    &local_err);
    if (local_err) {
        warn_report_err(local_err);
        local_err = NULL;
    }
    dp->event_channel = NULL;
    xen_device_unmap_grant_refs(dp->xendev, dp->sring, dp->ring_ref,
                                dp->nr_ring_ref, &local_err);
    if (local_err) {
        warn_report_err(local_err);
    }
    dp->sring = NULL;
    xen_block_free_requests(dp);
    dp->started = false;
}

void xen_block_dataplane_resize(XenBlockDataPlane *dp, uint64_t nr_sectors)
{
    trace_xen_block_dataplane_resize(dp, nr_sectors);
    qatomic_set(&dp->conf.nr_sectors, nr_sectors);
}

void xen_block_dataplane_detach(XenBlockDataPlane *dp)
{
    if (!dp || !dp->started) {
        return;
    }
    trace_xen_block_dataplane_detach(dp);
    qatomic_set(&dp->drained, true);
    xen_device_set_event_channel_context(dp->xendev, dp->event_channel, NULL,
                                         &error_abort);
}

void xen_block_dataplane_attach(XenBlockDataPlane *dp)
{
    /* A stopping dataplane detached itself for good. */
    if (!dp || !dp->started || dp->stopping) {
        return;
    }
    trace_xen_block_dataplane_attach(dp);
    qatomic_set(&dp->drained, false);
    xen_device_set_event_channel_context(dp->xendev, dp->event_channel,
                                         dp->ctx, &error_abort);
    /* Requests may have come while no event was handled. */
    qemu_bh_schedule(dp->bh);
}
