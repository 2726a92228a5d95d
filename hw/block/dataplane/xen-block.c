/*
 * Xen block dataplane: start, stop, drain and resize
 *
 * The dataplane serves the device's blkif rings, one per queue, each from
 * an AioContext: an IOThread, or the main loop.  With several IOThreads
 * the drive stays in queue 0's and the others submit to it too (QEMU's
 * multiqueue block layer).  Starting maps the rings and moves the drive
 * and the event channels to their contexts; stopping finishes what is in
 * flight and takes them back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "block/aio-wait.h"
#include "system/block-backend.h"
#include "hw/xen/xen-compat.h"
#include "xen-block-internal.h"
#include "hw/block/trace.h"

XenBlockDataPlane *xen_block_dataplane_create(XenDevice *xendev,
                                              BlockBackend *blk,
                                              IOThread *const iothreads[],
                                              unsigned int max_queues)
{
    XenBlockDataPlane *dp = g_new0(XenBlockDataPlane, 1);
    unsigned int i;

    assert(max_queues >= 1 && max_queues <= XEN_BLOCK_MAX_QUEUES);
    dp->xendev = xendev;
    dp->blk = blk;
    dp->max_queues = max_queues;
    for (i = 0; i < max_queues; i++) {
        dp->iothreads[i] = iothreads[i];
        if (iothreads[i]) {
            object_ref(OBJECT(iothreads[i]));
            dp->queue_ctx[i] = iothread_get_aio_context(iothreads[i]);
        } else {
            dp->queue_ctx[i] = qemu_get_aio_context();
        }
    }
    return dp;
}

void xen_block_dataplane_destroy(XenBlockDataPlane *dp)
{
    unsigned int i;

    if (!dp) {
        return;
    }
    xen_block_dataplane_stop(dp);
    for (i = 0; i < dp->max_queues; i++) {
        if (dp->iothreads[i]) {
            object_unref(OBJECT(dp->iothreads[i]));
        }
    }
    g_free(dp);
}

static bool xen_block_check_conf(XenBlockDataPlane *dp,
                                 const XenBlockDataPlaneConf *conf,
                                 unsigned int nr_rings, Error **errp)
{
    if (nr_rings == 0 || nr_rings > dp->max_queues) {
        error_setg(errp, "unsupported number of rings: %u", nr_rings);
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

/*
 * Each queue's event channel handled in its context, and a first pass:
 * requests may have come while no event was handled.
 */
static void xen_block_serve_queues(XenBlockDataPlane *dp)
{
    unsigned int i;

    for (i = 0; i < dp->nr_queues; i++) {
        XenBlockQueue *q = &dp->queues[i];

        xen_device_set_event_channel_context(dp->xendev, q->event_channel,
                                             q->ctx, &error_abort);
        qemu_bh_schedule(q->bh);
    }
}

static void xen_block_free_queues(XenBlockDataPlane *dp)
{
    unsigned int i;

    for (i = 0; i < dp->nr_queues; i++) {
        xen_block_queue_cleanup(&dp->queues[i]);
    }
    g_free(dp->queues);
    dp->queues = NULL;
    dp->nr_queues = 0;
}

void xen_block_dataplane_start(XenBlockDataPlane *dp,
                               const XenBlockDataPlaneConf *conf,
                               const XenBlockRingConf rings[],
                               unsigned int nr_rings,
                               XenBlockProtocol protocol, Error **errp)
{
    ERRP_GUARD();
    AioContext *old_ctx;
    unsigned int i;

    if (dp->started) {
        error_setg(errp, "dataplane already started");
        return;
    }
    if (!xen_block_check_conf(dp, conf, nr_rings, errp)) {
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
    dp->max_segs = MAX(BLKIF_MAX_SEGMENTS_PER_REQUEST,
                       dp->conf.max_indirect_segments);
    dp->stopping = false;
    dp->drained = false;

    dp->queues = g_new0(XenBlockQueue, nr_rings);
    for (i = 0; i < nr_rings; i++) {
        XenBlockQueue *q = &dp->queues[i];

        q->dataplane = dp;
        q->index = i;
        q->ctx = dp->queue_ctx[i];
        if (!xen_block_queue_init(q, &rings[i], errp)) {
            /* Only the queues before this one hold anything. */
            dp->nr_queues = i;
            goto fail_free;
        }
    }
    dp->nr_queues = nr_rings;

    old_ctx = blk_get_aio_context(dp->blk);
    xen_aio_context_acquire(old_ctx);
    blk_set_aio_context(dp->blk, dp->queue_ctx[0], errp);
    xen_aio_context_release(old_ctx);
    if (*errp) {
        goto fail_free;
    }

    /* Nothing is served before every channel is bound. */
    for (i = 0; i < dp->nr_queues; i++) {
        if (!xen_block_queue_bind(&dp->queues[i], rings[i].event_channel,
                                  errp)) {
            goto fail_ctx;
        }
    }
    dp->started = true;
    trace_xen_block_dataplane_start(dp, dp->nr_queues, rings[0].nr_ring_ref,
                                    RING_SIZE(&dp->queues[0].ring),
                                    dp->queues[0].nr_requests, dp->abi64);
    xen_block_serve_queues(dp);
    return;

fail_ctx:
    xen_aio_context_acquire(dp->queue_ctx[0]);
    blk_set_aio_context(dp->blk, qemu_get_aio_context(), NULL);
    xen_aio_context_release(dp->queue_ctx[0]);
fail_free:
    xen_block_free_queues(dp);
}

/* In q->ctx: the queue's handler runs no more. */
static void xen_block_stop_bh(void *opaque)
{
    XenBlockQueue *q = opaque;

    xen_aio_context_acquire(q->ctx);
    xen_device_set_event_channel_context(q->dataplane->xendev,
                                         q->event_channel, NULL,
                                         &error_abort);
    xen_aio_context_release(q->ctx);
}

/*
 * In q->ctx after a drain: start a barrier that was waiting for the
 * drained requests, publish the responses, and once no slot is in use
 * make sure nothing runs in q->ctx for the queue any more.
 */
static void xen_block_quiesce_bh(void *opaque)
{
    XenBlockQueue *q = opaque;

    xen_block_handle_requests(q);
    xen_aio_context_acquire(q->ctx);
    q->idle = q->nr_busy == 0;
    if (q->idle) {
        qemu_bh_cancel(q->bh);
    }
    xen_aio_context_release(q->ctx);
}

void xen_block_dataplane_stop(XenBlockDataPlane *dp)
{
    bool idle;
    unsigned int i;

    if (!dp || !dp->started) {
        return;
    }
    trace_xen_block_dataplane_stop(dp);

    /* From now on nothing new is taken from the rings. */
    qatomic_set(&dp->stopping, true);
    xen_aio_context_acquire(dp->queue_ctx[0]);
    for (i = 0; i < dp->nr_queues; i++) {
        aio_wait_bh_oneshot(dp->queues[i].ctx, xen_block_stop_bh,
                            &dp->queues[i]);
    }
    /*
     * A completion may issue more I/O (the flush after a write, a barrier
     * waiting for the drained requests) that the drain only queued: drain
     * until no request slot is in use.
     */
    do {
        blk_drain(dp->blk);
        idle = true;
        for (i = 0; i < dp->nr_queues; i++) {
            aio_wait_bh_oneshot(dp->queues[i].ctx, xen_block_quiesce_bh,
                                &dp->queues[i]);
            idle &= dp->queues[i].idle;
        }
    } while (!idle);
    /* Other users may keep the BlockBackend in the IOThread: that is fine */
    blk_set_aio_context(dp->blk, qemu_get_aio_context(), NULL);
    xen_aio_context_release(dp->queue_ctx[0]);

    xen_block_free_queues(dp);
    dp->started = false;
}

void xen_block_dataplane_resize(XenBlockDataPlane *dp, uint64_t nr_sectors)
{
    trace_xen_block_dataplane_resize(dp, nr_sectors);
    qatomic_set(&dp->conf.nr_sectors, nr_sectors);
}

void xen_block_dataplane_detach(XenBlockDataPlane *dp)
{
    unsigned int i;

    if (!dp || !dp->started) {
        return;
    }
    trace_xen_block_dataplane_detach(dp);
    qatomic_set(&dp->drained, true);
    for (i = 0; i < dp->nr_queues; i++) {
        xen_device_set_event_channel_context(dp->xendev,
                                             dp->queues[i].event_channel,
                                             NULL, &error_abort);
    }
}

void xen_block_dataplane_attach(XenBlockDataPlane *dp)
{
    /* A stopping dataplane detached itself for good. */
    if (!dp || !dp->started || qatomic_read(&dp->stopping)) {
        return;
    }
    trace_xen_block_dataplane_attach(dp);
    qatomic_set(&dp->drained, false);
    xen_block_serve_queues(dp);
}
