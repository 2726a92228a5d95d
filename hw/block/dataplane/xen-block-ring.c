/*
 * Xen block dataplane: the ring
 *
 * Requests are copied out of the shared ring once, validated on that copy
 * and served through bounce buffers, filled and drained with grant copies
 * (or through persistent grants, xen-block-grants.c).
 * Each request takes one of the ring's preallocated slots; one pass of the
 * handler takes at most a ring's worth of requests, and responses are
 * pushed in batches with one notification.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
#include "qemu/memalign.h"
#include "qapi/error.h"
#include "system/block-backend.h"
#include "hw/qdev-core.h"
#include "hw/xen/xen-compat.h"
#include "xen-block-internal.h"
#include "hw/block/trace.h"

static void *xen_block_ring_entry(XenBlockQueue *q, RING_IDX idx)
{
    return (uint8_t *)q->sring->ring +
           (idx & (RING_SIZE(&q->ring) - 1)) * q->dataplane->entry_size;
}

/*
 * The only read of a request's memory in the ring.  The x86_64 padding
 * word is dropped on the way, so that the copy has the x86_32 layout.
 */
static void xen_block_copy_request(XenBlockQueue *q, RING_IDX idx,
                                   XenBlkReqCopy *copy)
{
    const uint8_t *entry = xen_block_ring_entry(q, idx);
    size_t head = offsetof(XenBlkRwReq32, id);

    memcpy(copy, entry, head);
    memcpy((uint8_t *)copy + head,
           entry + head + (q->dataplane->abi64 ? 4 : 0),
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
    XenBlockQueue *q = req->queue;
    void *entry = xen_block_ring_entry(q, q->ring.rsp_prod_pvt);
    XenBlkRsp32 *rsp = entry;

    rsp->id = req->id;
    rsp->operation = req->rsp_operation;
    rsp->pad = 0;
    rsp->status = status;
    if (q->dataplane->abi64) {
        ((XenBlkRsp64 *)entry)->pad2 = 0;
    }
    q->ring.rsp_prod_pvt++;

    trace_xen_block_dataplane_complete(q, req->id, req->rsp_operation,
                                       status);
    if (req == q->barrier) {
        q->barrier = NULL;
    }
    q->nr_busy--;
    QSLIST_INSERT_HEAD(&q->free_requests, req, free_link);
}

static void xen_block_push_responses(XenBlockQueue *q)
{
    Error *local_err = NULL;
    bool notify;

    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify) {
        xen_device_notify_event_channel(q->dataplane->xendev,
                                        q->event_channel,
                                        &local_err);
        if (local_err) {
            error_report_err(local_err);
        }
    }
}

/* Re-arm req_event; returns whether requests are waiting meanwhile. */
static bool xen_block_final_check(XenBlockQueue *q)
{
    int more;

    RING_FINAL_CHECK_FOR_REQUESTS(&q->ring, more);
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
    XenBlockQueue *q = req->queue;

    xen_block_request_finish(req, status);
    if (q->in_handler) {
        return;
    }
    if (q->nr_busy) {
        qemu_bh_schedule(q->bh);
        return;
    }
    xen_block_push_responses(q);
    /*
     * Requests left on the ring while every slot was in use, or behind a
     * barrier.  The final check also re-arms req_event, which the handler
     * left stale when it stopped at a barrier: without that the frontend
     * would not notify us of its next request.
     */
    if (xen_block_final_check(q)) {
        qemu_bh_schedule(q->bh);
    }
}

/*
 * Copy the data of the queued reads to the guest and finish them, with one
 * grant copy for as many as fit in a batch.  A failed batch is copied again
 * request by request to find the reads that fail: copying to the guest
 * twice is harmless.
 */
static void xen_block_copy_reads(XenBlockQueue *q)
{
    XenBlockRequest *req, *next;

    while ((req = QSIMPLEQ_FIRST(&q->reads))) {
        unsigned int nr_segs = 0;
        Error *local_err = NULL;

        /* Mapped persistent grants gain nothing from a batch. */
        if (q->grants || req->nr_segs > XEN_BLOCK_COPY_BATCH) {
            QSIMPLEQ_REMOVE_HEAD(&q->reads, link);
            xen_block_request_finish(req, xen_block_request_copy_data(req) ?
                                          BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
            continue;
        }
        for (next = req;
             next && nr_segs + next->nr_segs <= XEN_BLOCK_COPY_BATCH;
             next = QSIMPLEQ_NEXT(next, link)) {
            memcpy(&q->copy_batch[nr_segs], next->copy,
                   next->nr_segs * sizeof(q->copy_batch[0]));
            nr_segs += next->nr_segs;
        }
        xen_device_copy_grant_refs(q->dataplane->xendev, true, q->copy_batch,
                                   nr_segs, &local_err);
        while (req != next) {
            int16_t status = BLKIF_RSP_OKAY;

            QSIMPLEQ_REMOVE_HEAD(&q->reads, link);
            if (local_err && !xen_block_request_copy_data(req)) {
                status = BLKIF_RSP_ERROR;
            }
            xen_block_request_finish(req, status);
            req = QSIMPLEQ_FIRST(&q->reads);
        }
        error_free(local_err);
    }
}

/*
 * The read's data is in its bounce buffer.  Reads that complete while the
 * ring handler runs (the engine may complete them as they are submitted)
 * are copied at its end, all together; while other requests are in flight
 * the bottom half copies the data, together with that of the reads
 * completing around this one.
 */
void xen_block_request_complete_read(XenBlockRequest *req)
{
    XenBlockQueue *q = req->queue;

    if (q->in_handler || q->nr_busy > 1) {
        QSIMPLEQ_INSERT_TAIL(&q->reads, req, link);
        if (!q->in_handler) {
            qemu_bh_schedule(q->bh);
        }
        return;
    }
    xen_block_request_complete(req, xen_block_request_copy_data(req) ?
                                    BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
}

/*
 * Submit the requests taken in this pass, in ring order, after copying in
 * the data of their writes with one grant copy.  A failed copy is done
 * again request by request to find the writes that fail: copying from the
 * guest twice is harmless.
 */
static void xen_block_submit_taken(XenBlockQueue *q)
{
    XenBlockRequest *req;
    Error *local_err = NULL;
    unsigned int nr_segs = 0;

    QSIMPLEQ_FOREACH(req, &q->taken, link) {
        if (xen_block_request_batches_write(req)) {
            memcpy(&q->copy_batch[nr_segs], req->copy,
                   req->nr_segs * sizeof(q->copy_batch[0]));
            nr_segs += req->nr_segs;
        }
    }
    assert(nr_segs == q->taken_segs);
    if (nr_segs) {
        xen_device_copy_grant_refs(q->dataplane->xendev, false,
                                   q->copy_batch, nr_segs, &local_err);
    }
    while ((req = QSIMPLEQ_FIRST(&q->taken))) {
        QSIMPLEQ_REMOVE_HEAD(&q->taken, link);
        if (xen_block_request_batches_write(req)) {
            if (local_err && !xen_block_request_copy_data(req)) {
                xen_block_request_finish(req, BLKIF_RSP_ERROR);
                continue;
            }
            req->copied = true;
        }
        xen_block_submit(req);
    }
    q->taken_segs = 0;
    error_free(local_err);
}

/* Take @req for submission at the end of the pass, or sooner. */
static void xen_block_take(XenBlockQueue *q, XenBlockRequest *req)
{
    if (xen_block_request_batches_write(req)) {
        if (q->taken_segs + req->nr_segs > XEN_BLOCK_COPY_BATCH) {
            xen_block_submit_taken(q);
        }
        q->taken_segs += req->nr_segs;
    }
    QSIMPLEQ_INSERT_TAIL(&q->taken, req, link);
}

/* A barrier starts once it is the only request in flight. */
static bool xen_block_barrier_can_start(XenBlockQueue *q)
{
    return q->barrier && !q->barrier_submitted && q->nr_busy == 1;
}

static void xen_block_start_barrier(XenBlockQueue *q)
{
    if (xen_block_barrier_can_start(q)) {
        q->barrier_submitted = true;
        xen_block_submit(q->barrier);
    }
}

/* Not halted, stopping or drained: requests are taken off the ring. */
static bool xen_block_takes_requests(XenBlockQueue *q)
{
    XenBlockDataPlane *dp = q->dataplane;

    return !q->halted && !qatomic_read(&dp->stopping) &&
           !qatomic_read(&dp->drained);
}

/*
 * The handler stopped for want of a slot or behind a barrier, and what it
 * waited for has happened while it ran: the engine reaps what completed as
 * it submits, so the last completions may have come inside the handler,
 * and none is left to reschedule it.
 */
static bool xen_block_can_go_on(XenBlockQueue *q)
{
    if (!xen_block_takes_requests(q)) {
        return false;
    }
    if (q->barrier) {
        return xen_block_barrier_can_start(q);
    }
    return !QSLIST_EMPTY(&q->free_requests) &&
           q->ring.req_cons != qatomic_read(&q->sring->req_prod);
}

/*
 * Take requests off the ring while request slots last, then push the
 * responses written meanwhile.  Bounded by the ring size, however fast the
 * frontend produces: requests refused at once give their slot straight
 * back, so the slots alone bound nothing.  Returns whether any request was
 * taken.
 */
bool xen_block_handle_requests(XenBlockQueue *q)
{
    XenBlockDataPlane *dp = q->dataplane;
    blkif_back_ring_t *ring = &q->ring;
    unsigned int budget = RING_SIZE(ring);
    bool progress = false;

    xen_aio_context_acquire(q->ctx);
    q->in_handler = true;
    progress = !QSIMPLEQ_EMPTY(&q->reads);
    xen_block_copy_reads(q);
    xen_block_start_barrier(q);
    if (!xen_block_takes_requests(q)) {
        goto out;
    }

    xen_blk_io_plug(dp->blk);
    for (;;) {
        RING_IDX rp = qatomic_read(&q->sring->req_prod);

        /* Read requests only after the index that publishes them. */
        smp_rmb();
        if (RING_REQUEST_PROD_OVERFLOW(ring, rp)) {
            xen_device_guest_error(dp->xendev,
                                   "ring overflow (req_prod %u, "
                                   "rsp_prod %u, size %u): ring halted", rp,
                                   ring->rsp_prod_pvt, RING_SIZE(ring));
            trace_xen_block_dataplane_ring_overflow(q, rp,
                                                    ring->rsp_prod_pvt);
            q->halted = true;
            break;
        }

        while (budget && !q->barrier && ring->req_cons != rp &&
               !QSLIST_EMPTY(&q->free_requests)) {
            XenBlockRequest *req = QSLIST_FIRST(&q->free_requests);
            XenBlkReqCopy copy;
            int16_t status;

            budget--;
            QSLIST_REMOVE_HEAD(&q->free_requests, free_link);
            q->nr_busy++;
            xen_block_copy_request(q, ring->req_cons, &copy);
            ring->req_cons++;
            progress = true;

            status = xen_block_parse(req, &copy);
            if (status != BLKIF_RSP_OKAY) {
                xen_block_request_finish(req, status);
                continue;
            }
            if (req->op == BLKIF_OP_WRITE_BARRIER) {
                /* It waits for the requests taken before it. */
                xen_block_submit_taken(q);
                q->barrier = req;
                q->barrier_submitted = false;
                xen_block_start_barrier(q);
                break;
            }
            xen_block_take(q, req);
        }

        /* Let the context serve other events, then go on. */
        if (!budget) {
            trace_xen_block_dataplane_budget_spent(q, ring->req_cons);
            qemu_bh_schedule(q->bh);
            break;
        }
        /*
         * Behind a barrier or out of slots: a completion reschedules us,
         * unless it came already (a request may complete as it starts).
         */
        if (q->barrier || ring->req_cons != rp) {
            if (!q->barrier && !QSLIST_EMPTY(&q->free_requests)) {
                continue;
            }
            break;
        }
        if (!xen_block_final_check(q)) {
            break;
        }
    }
    xen_block_submit_taken(q);
    xen_blk_io_unplug(dp->blk);

out:
    if (budget < RING_SIZE(ring)) {
        trace_xen_block_dataplane_handled(q, RING_SIZE(ring) - budget,
                                          ring->req_cons);
    }
    xen_block_copy_reads(q);
    q->in_handler = false;
    xen_block_push_responses(q);
    if (xen_block_can_go_on(q)) {
        qemu_bh_schedule(q->bh);
    }
    xen_aio_context_release(q->ctx);
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
static bool xen_block_event(void *opaque)
{
    XenBlockQueue *q = opaque;
    RING_IDX cons = q->ring.req_cons;

    if (!q->barrier && QSIMPLEQ_EMPTY(&q->reads) &&
        qatomic_read(&q->sring->req_prod) == cons &&
        qatomic_read(&q->sring->req_event) == cons + 1) {
        return false;
    }
    return xen_block_handle_requests(q);
}

static void xen_block_bh(void *opaque)
{
    xen_block_handle_requests(opaque);
}

static void xen_block_free_requests(XenBlockQueue *q)
{
    QSLIST_INIT(&q->free_requests);
    g_free(q->requests);
    g_free(q->segs);
    g_free(q->copy);
    qemu_vfree(q->bounce);
    q->requests = NULL;
    q->segs = NULL;
    q->copy = NULL;
    q->bounce = NULL;
    q->nr_requests = 0;
}

static bool xen_block_alloc_requests(XenBlockQueue *q, Error **errp)
{
    XenBlockDataPlane *dp = q->dataplane;
    size_t slot_bytes;
    unsigned int i;

    slot_bytes = (size_t)dp->max_segs * XEN_PAGE_SIZE;
    q->nr_requests = MIN(RING_SIZE(&q->ring),
                         MAX(1, XEN_BLOCK_BOUNCE_BUDGET / slot_bytes));

    q->bounce = blk_try_blockalign(dp->blk, q->nr_requests * slot_bytes);
    if (!q->bounce) {
        error_setg(errp, "cannot allocate %zu bytes of bounce buffers",
                   q->nr_requests * slot_bytes);
        q->nr_requests = 0;
        return false;
    }
    q->requests = g_new0(XenBlockRequest, q->nr_requests);
    q->segs = g_new(XenBlkSeg, q->nr_requests * dp->max_segs);
    q->copy = g_new(XenDeviceGrantCopySegment,
                    q->nr_requests * dp->max_segs);

    for (i = 0; i < q->nr_requests; i++) {
        XenBlockRequest *req = &q->requests[i];

        req->queue = q;
        req->segs = q->segs + i * dp->max_segs;
        req->copy = q->copy + i * dp->max_segs;
        req->buf = q->bounce + i * slot_bytes;
        QSLIST_INSERT_HEAD(&q->free_requests, req, free_link);
    }
    return true;
}

bool xen_block_queue_init(XenBlockQueue *q, const XenBlockRingConf *rc,
                          Error **errp)
{
    XenBlockDataPlane *dp = q->dataplane;
    RING_IDX req_prod, rsp_prod;
    size_t ring_bytes;

    if (rc->nr_ring_ref == 0 || rc->nr_ring_ref > XEN_BLOCK_MAX_RING_PAGES ||
        !is_power_of_2(rc->nr_ring_ref)) {
        error_setg(errp, "queue %u: unsupported ring of %u pages", q->index,
                   rc->nr_ring_ref);
        return false;
    }
    memcpy(q->ring_ref, rc->ring_ref,
           rc->nr_ring_ref * sizeof(rc->ring_ref[0]));
    q->sring = xen_device_map_grant_refs(dp->xendev, q->ring_ref,
                                         rc->nr_ring_ref,
                                         PROT_READ | PROT_WRITE, errp);
    if (!q->sring) {
        return false;
    }
    q->nr_ring_ref = rc->nr_ring_ref;

    /*
     * Pick up at the frontend's indexes rather than at 0: it may reconnect
     * with requests still on the ring.  They are read once, here.
     */
    ring_bytes = (size_t)q->nr_ring_ref * XEN_PAGE_SIZE;
    req_prod = qatomic_read(&q->sring->req_prod);
    rsp_prod = qatomic_read(&q->sring->rsp_prod);
    q->ring.sring = q->sring;
    q->ring.nr_ents = pow2floor((ring_bytes - offsetof(blkif_sring_t, ring)) /
                                dp->entry_size);
    q->ring.req_cons = rsp_prod;
    q->ring.rsp_prod_pvt = rsp_prod;
    if (RING_REQUEST_PROD_OVERFLOW(&q->ring, req_prod)) {
        error_setg(errp, "queue %u: inconsistent ring indexes (req_prod %u, "
                   "rsp_prod %u)", q->index, req_prod, rsp_prod);
        xen_block_queue_cleanup(q);
        return false;
    }
    QSLIST_INIT(&q->free_requests);
    QSIMPLEQ_INIT(&q->taken);
    QSIMPLEQ_INIT(&q->reads);
    if (dp->conf.persistent_grants) {
        q->grants = xen_block_grant_cache_new(dp->xendev,
                                              XEN_BLOCK_PERSISTENT_GRANTS);
    }
    if (!xen_block_alloc_requests(q, errp)) {
        xen_block_queue_cleanup(q);
        return false;
    }
    /* The guard stops device MMIO from re-entering the bottom half. */
    q->bh = aio_bh_new_guarded(q->ctx, xen_block_bh, q,
                               &DEVICE(dp->xendev)->mem_reentrancy_guard);
    return true;
}

bool xen_block_queue_bind(XenBlockQueue *q, unsigned int port, Error **errp)
{
    XenDevice *xendev = q->dataplane->xendev;

    /*
     * The channel starts in the main context: detach it before anything
     * can poll that context, so its handler only ever runs in q->ctx.
     */
    q->event_channel = xen_device_bind_event_channel(xendev, port,
                                                     xen_block_event, q,
                                                     errp);
    if (!q->event_channel) {
        return false;
    }
    xen_device_set_event_channel_context(xendev, q->event_channel, NULL,
                                         &error_abort);
    return true;
}

void xen_block_queue_cleanup(XenBlockQueue *q)
{
    XenDevice *xendev = q->dataplane->xendev;
    Error *local_err = NULL;

    if (q->event_channel) {
        xen_device_unbind_event_channel(xendev, q->event_channel,
                                        &local_err);
        if (local_err) {
            warn_report_err(local_err);
            local_err = NULL;
        }
        q->event_channel = NULL;
    }
    if (q->bh) {
        qemu_bh_delete(q->bh);
        q->bh = NULL;
    }
    xen_block_free_requests(q);
    xen_block_grant_cache_free(q->grants);
    q->grants = NULL;
    if (q->sring) {
        xen_device_unmap_grant_refs(xendev, q->sring, q->ring_ref,
                                    q->nr_ring_ref, &local_err);
        if (local_err) {
            warn_report_err(local_err);
        }
        q->sring = NULL;
    }
}
