/*
 * Xen block dataplane: the ring
 *
 * Requests are copied out of the shared ring once, validated on that copy
 * and served through bounce buffers filled and drained with grant copies.
 * Each request takes one of the ring's preallocated slots; one pass of the
 * handler takes at most a ring's worth of requests, and responses are
 * pushed in batches with one notification.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/memalign.h"
#include "qapi/error.h"
#include "system/block-backend.h"
#include "hw/xen/xen-compat.h"
#include "xen-block-internal.h"
#include "hw/block/trace.h"

static void *xen_block_ring_entry(XenBlockDataPlane *dp, RING_IDX idx)
{
    return (uint8_t *)dp->sring->ring +
           (idx & (RING_SIZE(&dp->ring) - 1)) * dp->entry_size;
}

/*
 * The only read of a request's memory in the ring.  The x86_64 padding
 * word is dropped on the way, so that the copy has the x86_32 layout.
 */
static void xen_block_copy_request(XenBlockDataPlane *dp, RING_IDX idx,
                                   XenBlkReqCopy *copy)
{
    const uint8_t *entry = xen_block_ring_entry(dp, idx);
    size_t head = offsetof(XenBlkRwReq32, id);

    memcpy(copy, entry, head);
    memcpy((uint8_t *)copy + head, entry + head + (dp->abi64 ? 4 : 0),
           sizeof(*copy) - head);
    /* Keep the compiler from reading the ring again instead of the copy. */
    barrier();
}

/*
 * Every byte of the response is written field by field, padding included:
 * nothing but these values reaches the guest (XSA-216).
 */
static void xen_block_request_finish(XenBlockRequest *req, int16_t status)
{
    XenBlockDataPlane *dp = req->dataplane;
    void *entry = xen_block_ring_entry(dp, dp->ring.rsp_prod_pvt);
    XenBlkRsp32 *rsp = entry;

    rsp->id = req->id;
    rsp->operation = req->rsp_operation;
    rsp->pad = 0;
    rsp->status = status;
    if (dp->abi64) {
        ((XenBlkRsp64 *)entry)->pad2 = 0;
    }
    dp->ring.rsp_prod_pvt++;

    trace_xen_block_dataplane_complete(dp, req->id, req->rsp_operation,
                                       status);
    if (req == dp->barrier) {
        dp->barrier = NULL;
    }
    dp->nr_busy--;
    QSLIST_INSERT_HEAD(&dp->free_requests, req, free_link);
}

static void xen_block_push_responses(XenBlockDataPlane *dp)
{
    Error *local_err = NULL;
    bool notify;

    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&dp->ring, notify);
    if (notify) {
        xen_device_notify_event_channel(dp->xendev, dp->event_channel,
                                        &local_err);
        if (local_err) {
            error_report_err(local_err);
        }
    }
}

/* Re-arm req_event; returns whether requests are waiting meanwhile. */
static bool xen_block_final_check(XenBlockDataPlane *dp)
{
    int more;

    RING_FINAL_CHECK_FOR_REQUESTS(&dp->ring, more);
    return more;
}

/*
 * From a completion.  While other requests are in flight the bottom half
 * pushes the responses of the completions around this one together, with
 * one notification.  The last one is answered at once: nothing would batch
 * with it, and a bottom half would cost it a trip round the event loop (a
 * polling context even leaves poll mode to run one).  The ring handler
 * pushes the responses written while it runs itself.
 */
void xen_block_request_complete(XenBlockRequest *req, int16_t status)
{
    XenBlockDataPlane *dp = req->dataplane;

    xen_block_request_finish(req, status);
    if (dp->in_handler) {
        return;
    }
    if (dp->nr_busy) {
        qemu_bh_schedule(dp->bh);
        return;
    }
    xen_block_push_responses(dp);
    /*
     * Requests left on the ring while every slot was in use, or behind a
     * barrier.  The final check also re-arms req_event, which the handler
     * left stale when it stopped at a barrier: without that the frontend
     * would not notify us of its next request.
     */
    if (xen_block_final_check(dp)) {
        qemu_bh_schedule(dp->bh);
    }
}

/*
 * Copy the data of the queued reads to the guest and finish them, with one
 * grant copy for as many as fit in a batch.  A failed batch is copied again
 * request by request to find the reads that fail: copying to the guest
 * twice is harmless.
 */
static void xen_block_copy_reads(XenBlockDataPlane *dp)
{
    XenBlockRequest *req, *next;

    while ((req = QSIMPLEQ_FIRST(&dp->reads))) {
        unsigned int nr_segs = 0;
        Error *local_err = NULL;

        if (req->nr_segs > XEN_BLOCK_READ_BATCH) {
            QSIMPLEQ_REMOVE_HEAD(&dp->reads, read_link);
            xen_block_request_finish(req, xen_block_request_copy_data(req) ?
                                          BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
            continue;
        }
        for (next = req;
             next && nr_segs + next->nr_segs <= XEN_BLOCK_READ_BATCH;
             next = QSIMPLEQ_NEXT(next, read_link)) {
            memcpy(&dp->read_batch[nr_segs], next->copy,
                   next->nr_segs * sizeof(dp->read_batch[0]));
            nr_segs += next->nr_segs;
        }
        xen_device_copy_grant_refs(dp->xendev, true, dp->read_batch,
                                   nr_segs, &local_err);
        while (req != next) {
            int16_t status = BLKIF_RSP_OKAY;

            QSIMPLEQ_REMOVE_HEAD(&dp->reads, read_link);
            if (local_err && !xen_block_request_copy_data(req)) {
                status = BLKIF_RSP_ERROR;
            }
            xen_block_request_finish(req, status);
            req = QSIMPLEQ_FIRST(&dp->reads);
        }
        error_free(local_err);
    }
}

/*
 * The read's data is in its bounce buffer.  While other requests are in
 * flight the data is copied by the bottom half, together with that of the
 * reads completing around this one.
 */
void xen_block_request_complete_read(XenBlockRequest *req)
{
    XenBlockDataPlane *dp = req->dataplane;

    if (dp->nr_busy > 1 && !dp->in_handler) {
        QSIMPLEQ_INSERT_TAIL(&dp->reads, req, read_link);
        qemu_bh_schedule(dp->bh);
        return;
    }
    xen_block_request_complete(req, xen_block_request_copy_data(req) ?
                                    BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
}

/* A barrier starts once it is the only request in flight. */
static void xen_block_start_barrier(XenBlockDataPlane *dp)
{
    if (dp->barrier && !dp->barrier_submitted && dp->nr_busy == 1) {
        dp->barrier_submitted = true;
        xen_block_submit(dp->barrier);
    }
}

/*
 * Take requests off the ring while request slots last, then push the
 * responses written meanwhile.  Bounded by the ring size, however fast the
 * frontend produces: requests refused at once give their slot straight
 * back, so the slots alone bound nothing.  Returns whether any request was
 * taken.
 */
bool xen_block_handle_requests(void *opaque)
{
    XenBlockDataPlane *dp = opaque;
    blkif_back_ring_t *ring = &dp->ring;
    unsigned int budget = RING_SIZE(ring);
    bool progress = false;

    xen_aio_context_acquire(dp->ctx);
    dp->in_handler = true;
    progress = !QSIMPLEQ_EMPTY(&dp->reads);
    xen_block_copy_reads(dp);
    xen_block_start_barrier(dp);
    if (dp->halted || dp->stopping || qatomic_read(&dp->drained)) {
        goto out;
    }

    xen_blk_io_plug(dp->blk);
    for (;;) {
        RING_IDX rp = qatomic_read(&dp->sring->req_prod);

        /* Read requests only after the index that publishes them. */
        smp_rmb();
        if (RING_REQUEST_PROD_OVERFLOW(ring, rp)) {
            xen_device_guest_error(dp->xendev,
                                   "ring overflow (req_prod %u, "
                                   "rsp_prod %u, size %u): ring halted", rp,
                                   ring->rsp_prod_pvt, RING_SIZE(ring));
            trace_xen_block_dataplane_ring_overflow(dp, rp,
                                                    ring->rsp_prod_pvt);
            dp->halted = true;
            break;
        }

        while (budget && !dp->barrier && ring->req_cons != rp &&
               !QSLIST_EMPTY(&dp->free_requests)) {
            XenBlockRequest *req = QSLIST_FIRST(&dp->free_requests);
            XenBlkReqCopy copy;
            int16_t status;

            budget--;
            QSLIST_REMOVE_HEAD(&dp->free_requests, free_link);
            dp->nr_busy++;
            xen_block_copy_request(dp, ring->req_cons, &copy);
            ring->req_cons++;
            progress = true;

            status = xen_block_parse(dp, req, &copy);
            if (status != BLKIF_RSP_OKAY) {
                xen_block_request_finish(req, status);
                continue;
            }
            if (req->op == BLKIF_OP_WRITE_BARRIER) {
                dp->barrier = req;
                dp->barrier_submitted = false;
                xen_block_start_barrier(dp);
                break;
            }
            xen_block_submit(req);
        }

        /* Let the context serve other events, then go on. */
        if (!budget) {
            trace_xen_block_dataplane_budget_spent(dp, ring->req_cons);
            qemu_bh_schedule(dp->bh);
            break;
        }
        /* Behind a barrier or out of slots: a completion reschedules us. */
        if (dp->barrier || ring->req_cons != rp) {
            break;
        }
        if (!xen_block_final_check(dp)) {
            break;
        }
    }
    xen_blk_io_unplug(dp->blk);

out:
    if (budget < RING_SIZE(ring)) {
        trace_xen_block_dataplane_handled(dp, RING_SIZE(ring) - budget,
                                          ring->req_cons);
    }
    dp->in_handler = false;
    xen_block_push_responses(dp);
    xen_aio_context_release(dp->ctx);
    return progress;
}

/*
 * The event channel handler, also run over and over while the context
 * polls.  What polling mostly finds is no request, no barrier to start, no
 * read to copy, and req_event already asking for a notification after
 * req_cons (set before a full barrier by an earlier final check): nothing
 * to do then, not even taking the lock or writing to the shared page.
 * Responses written meanwhile are the bottom half's to push.
 */
bool xen_block_event(void *opaque)
{
    XenBlockDataPlane *dp = opaque;
    RING_IDX cons = dp->ring.req_cons;

    if (!dp->barrier && QSIMPLEQ_EMPTY(&dp->reads) &&
        qatomic_read(&dp->sring->req_prod) == cons &&
        qatomic_read(&dp->sring->req_event) == cons + 1) {
        return false;
    }
    return xen_block_handle_requests(dp);
}

void xen_block_bh(void *opaque)
{
    xen_block_handle_requests(opaque);
}

void xen_block_free_requests(XenBlockDataPlane *dp)
{
    QSLIST_INIT(&dp->free_requests);
    g_free(dp->requests);
    g_free(dp->segs);
    g_free(dp->copy);
    qemu_vfree(dp->bounce);
    dp->requests = NULL;
    dp->segs = NULL;
    dp->copy = NULL;
    dp->bounce = NULL;
    dp->nr_requests = 0;
}

bool xen_block_alloc_requests(XenBlockDataPlane *dp, Error **errp)
{
    size_t slot_bytes;
    unsigned int i;

    dp->max_segs = MAX(BLKIF_MAX_SEGMENTS_PER_REQUEST,
                       dp->conf.max_indirect_segments);
    slot_bytes = (size_t)dp->max_segs * XEN_PAGE_SIZE;
    dp->nr_requests = MIN(RING_SIZE(&dp->ring),
                          MAX(1, XEN_BLOCK_BOUNCE_BUDGET / slot_bytes));

    dp->bounce = blk_try_blockalign(dp->blk, dp->nr_requests * slot_bytes);
    if (!dp->bounce) {
        error_setg(errp, "cannot allocate %zu bytes of bounce buffers",
                   dp->nr_requests * slot_bytes);
        dp->nr_requests = 0;
        return false;
    }
    dp->requests = g_new0(XenBlockRequest, dp->nr_requests);
    dp->segs = g_new(XenBlkSeg, dp->nr_requests * dp->max_segs);
    dp->copy = g_new(XenDeviceGrantCopySegment,
                     dp->nr_requests * dp->max_segs);

    for (i = 0; i < dp->nr_requests; i++) {
        XenBlockRequest *req = &dp->requests[i];

        req->dataplane = dp;
        req->segs = dp->segs + i * dp->max_segs;
        req->copy = dp->copy + i * dp->max_segs;
        req->buf = dp->bounce + i * slot_bytes;
        QSLIST_INSERT_HEAD(&dp->free_requests, req, free_link);
    }
    return true;
}
