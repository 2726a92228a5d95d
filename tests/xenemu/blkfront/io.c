/*
 * Request engine: rings, event channels, granted data pages, request slots,
 * completion, and synchronous transfers built on them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "blkfront-int.h"

int blkq_setup(Blkfront *bf, BlkQueue *q, unsigned int index)
{
    int ret;

    q->bf = bf;
    q->index = index;
    q->npages = 1u << bf->ring_order;
    q->ring_mem = xenemu_guest_alloc_pages(bf->g, q->npages, &q->ring_gfn);
    if (!q->ring_mem) {
        blk_log("allocating %u ring page(s): %s", q->npages, strerror(errno));
        return -ENOMEM;
    }
    blkring_init(&q->ring, q->ring_mem, bf->proto, bf->ring_order);
    for (unsigned int i = 0; i < q->npages; i++) {
        ret = xenemu_guest_grant_access(bf->g, bf->backend_id,
                                        q->ring_gfn + i, false);
        if (ret < 0) {
            blk_log("granting ring page %u: %s", i, strerror(-ret));
            return ret;
        }
        q->ring_grefs[q->nr_ring_grefs++] = ret;
    }
    ret = xenemu_guest_evtchn_alloc_unbound(bf->g, bf->backend_id);
    if (ret < 0) {
        blk_log("allocating an event channel: %s", strerror(-ret));
        return ret;
    }
    q->port = ret;

    q->slots = calloc(q->ring.nr_ents, sizeof(*q->slots));
    q->free_slots = calloc(q->ring.nr_ents, sizeof(*q->free_slots));
    if (!q->slots || !q->free_slots) {
        return -ENOMEM;
    }
    for (unsigned int i = 0; i < q->ring.nr_ents; i++) {
        q->slots[i].q = q;
        q->slots[i].index = i;
        /* Lowest index on top: small runs reuse the same pages. */
        q->free_slots[q->nfree++] = q->ring.nr_ents - 1 - i;
    }
    return 0;
}

/* Pages of segment descriptors an indirect request needs at most. */
static unsigned int indirect_pages(const Blkfront *bf)
{
    return (bf->indirect_segs + BLKABI_SEGS_PER_INDIRECT_PAGE - 1) /
           BLKABI_SEGS_PER_INDIRECT_PAGE;
}

/* End access to each of @n grants; the first failure wins. */
static int end_grants(Blkfront *bf, const uint32_t *grefs, unsigned int n,
                      const char *what)
{
    int ret = 0;

    for (unsigned int i = 0; i < n; i++) {
        int r = xenemu_guest_end_access(bf->g, grefs[i]);

        if (r < 0) {
            blk_log("revoking %s grant %u: %s", what, grefs[i], strerror(-r));
            if (ret == 0) {
                ret = r;
            }
        }
    }
    return ret;
}

int blkq_teardown(Blkfront *bf, BlkQueue *q)
{
    int ret = 0;
    int r;

    for (unsigned int i = 0; q->slots && i < q->ring.nr_ents; i++) {
        BlkSlot *s = &q->slots[i];
        int rd = end_grants(bf, s->grefs, s->ngrants, "data");
        int ri = end_grants(bf, s->ind_grefs, s->nind, "indirect");

        ret = ret ? ret : (rd ? rd : ri);
        /* A page the backend may still access must not be reused. */
        if (rd == 0 && s->data) {
            xenemu_guest_free_pages(bf->g, s->gfn, bf->max_segs);
        }
        if (ri == 0 && s->ind) {
            xenemu_guest_free_pages(bf->g, s->ind_gfn, indirect_pages(bf));
        }
        free(s->grefs);
    }
    free(q->slots);
    free(q->free_slots);
    q->slots = NULL;
    q->free_slots = NULL;

    if (q->port >= 0) {
        r = xenemu_guest_evtchn_close(bf->g, q->port);
        if (r < 0) {
            blk_log("closing event channel %d: %s", q->port, strerror(-r));
            ret = ret ? ret : r;
        }
        q->port = -1;
    }
    r = end_grants(bf, q->ring_grefs, q->nr_ring_grefs, "ring");
    ret = ret ? ret : r;
    if (r == 0 && q->ring_mem) {
        xenemu_guest_free_pages(bf->g, q->ring_gfn, q->npages);
    }
    q->nr_ring_grefs = 0;
    q->ring_mem = NULL;
    return ret;
}

/*
 * Grant the first @n data pages of a slot.  Granted lazily: a slot can
 * carry up to max_segs pages (256 with indirect requests), and granting
 * them all for every slot would exhaust the grant table.
 */
static int slot_grant(Blkfront *bf, BlkSlot *s, unsigned int n)
{
    for (; s->ngrants < n; s->ngrants++) {
        int ret = xenemu_guest_grant_access(bf->g, bf->backend_id,
                                            s->gfn + s->ngrants, false);

        if (ret < 0) {
            blk_log("granting a data page: %s", strerror(-ret));
            return ret;
        }
        s->grefs[s->ngrants] = ret;
    }
    return 0;
}

/* Give a slot its data (and indirect) pages on first use. */
static int slot_alloc_pages(Blkfront *bf, BlkSlot *s)
{
    unsigned int n = bf->max_segs;
    int ret;

    if (s->grefs) {
        return -ENOMEM;          /* an earlier attempt failed half way */
    }
    s->grefs = calloc(n, sizeof(*s->grefs));
    s->data = s->grefs ? xenemu_guest_alloc_pages(bf->g, n, &s->gfn) : NULL;
    if (!s->data) {
        blk_log("allocating %u data pages: %s", n, strerror(errno));
        return -ENOMEM;
    }
    if (!bf->indirect_segs) {
        s->ready = true;
        return 0;
    }
    n = indirect_pages(bf);
    s->ind = xenemu_guest_alloc_pages(bf->g, n, &s->ind_gfn);
    if (!s->ind) {
        blk_log("allocating indirect pages: %s", strerror(errno));
        return -ENOMEM;
    }
    for (; s->nind < n; s->nind++) {
        /* The backend only reads segment descriptors. */
        ret = xenemu_guest_grant_access(bf->g, bf->backend_id,
                                        s->ind_gfn + s->nind, true);
        if (ret < 0) {
            blk_log("granting an indirect page: %s", strerror(-ret));
            return ret;
        }
        s->ind_grefs[s->nind] = ret;
    }
    s->ready = true;
    return 0;
}

BlkSlot *blkfront_slot_get(Blkfront *bf, unsigned int queue)
{
    BlkQueue *q = &bf->queues[queue % bf->nr_queues];
    BlkSlot *s;

    if (!q->nfree || !blkring_free_requests(&q->ring)) {
        errno = EBUSY;
        return NULL;
    }
    s = &q->slots[q->free_slots[q->nfree - 1]];
    if (!s->ready && slot_alloc_pages(bf, s) < 0) {
        errno = ENOMEM;
        return NULL;
    }
    q->nfree--;
    return s;
}

void blkfront_slot_put(BlkSlot *s)
{
    BlkQueue *q = s->q;

    s->inflight = false;
    q->free_slots[q->nfree++] = s->index;
}

unsigned int blkfront_slot_capacity(const Blkfront *bf)
{
    return bf->max_segs * BLKABI_PAGE_SIZE;
}

void *blkfront_slot_opaque(BlkSlot *s)
{
    return s->opaque;
}

uint32_t blkfront_slot_gref(BlkSlot *s, unsigned int page)
{
    Blkfront *bf = s->q->bf;

    if (page >= bf->max_segs || slot_grant(bf, s, page + 1) < 0) {
        return 0;
    }
    return s->grefs[page];
}

uint8_t *blkfront_slot_data(BlkSlot *s)
{
    return s->data;
}

struct blkabi_segment *blkfront_slot_indirect(BlkSlot *s)
{
    return s->ind;
}

uint32_t blkfront_slot_indirect_gref(BlkSlot *s, unsigned int page)
{
    return page < s->nind ? s->ind_grefs[page] : 0;
}

/* Put the request on the ring under the slot's id. */
static void slot_enqueue(BlkSlot *s, BlkWireReq *r, void *opaque)
{
    BlkQueue *q = s->q;

    s->gen++;
    r->id = ((uint64_t)s->gen << BLK_ID_SLOT_BITS) | s->index;
    r->handle = (uint16_t)q->bf->devid;
    s->op = r->operation;
    s->inner_op = r->operation == BLKIF_OP_INDIRECT ? r->indirect_op
                                                    : r->operation;
    s->opaque = opaque;
    s->inflight = true;
    q->inflight++;
    blkring_put_request(&q->ring, r);
}

int blkfront_slot_queue_rw(BlkSlot *s, uint8_t op, uint64_t offset,
                           unsigned int page_off, unsigned int len,
                           void *opaque)
{
    Blkfront *bf = s->q->bf;
    unsigned int ssize = bf->feat.sector_size;
    unsigned int nseg = (page_off + len + BLKABI_PAGE_SIZE - 1) /
                        BLKABI_PAGE_SIZE;
    /* A barrier write carries its data like a write, but only directly:
     * indirect_op may only be READ or WRITE. */
    unsigned int max_segs = op == BLKIF_OP_WRITE_BARRIER ?
                            BLKIF_MAX_SEGMENTS_PER_REQUEST : bf->max_segs;
    BlkWireReq r;
    int ret;

    if (!len || offset % ssize || len % ssize || page_off % ssize ||
        page_off >= BLKABI_PAGE_SIZE || nseg > max_segs ||
        (op != BLKIF_OP_READ && op != BLKIF_OP_WRITE &&
         op != BLKIF_OP_WRITE_BARRIER)) {
        blk_log("bad request: op %u offset %" PRIu64 " len %u page_off %u",
                op, offset, len, page_off);
        return -EINVAL;
    }
    ret = slot_grant(bf, s, nseg);
    if (ret < 0) {
        return ret;
    }
    memset(&r, 0, sizeof(r));
    r.sector_number = offset / bf->unit;
    r.nr_segments = nseg;
    for (unsigned int i = 0; i < nseg; i++) {
        unsigned int start = i ? 0 : page_off;
        unsigned int end = page_off + len - i * BLKABI_PAGE_SIZE;
        struct blkabi_segment seg = {
            .gref = s->grefs[i],
            .first_sect = start / bf->unit,
            .last_sect = (end > BLKABI_PAGE_SIZE ? BLKABI_PAGE_SIZE : end) /
                         bf->unit - 1,
        };

        if (nseg <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            r.seg[i] = seg;
        } else {
            s->ind[i] = seg;
        }
    }
    if (nseg <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        r.operation = op;
    } else {
        r.operation = BLKIF_OP_INDIRECT;
        r.indirect_op = op;
        memcpy(r.indirect_grefs, s->ind_grefs, sizeof(r.indirect_grefs));
    }
    slot_enqueue(s, &r, opaque);
    return 0;
}

int blkfront_slot_queue_flush(BlkSlot *s, uint8_t op, void *opaque)
{
    BlkWireReq r;

    /* A barrier without data is a pure ordering point (zero segments). */
    if (op != BLKIF_OP_FLUSH_DISKCACHE && op != BLKIF_OP_WRITE_BARRIER) {
        return -EINVAL;
    }
    memset(&r, 0, sizeof(r));
    r.operation = op;
    slot_enqueue(s, &r, opaque);
    return 0;
}

int blkfront_slot_queue_discard(BlkSlot *s, uint64_t offset, uint64_t len,
                                bool secure, void *opaque)
{
    Blkfront *bf = s->q->bf;
    BlkWireReq r;

    if (!len || offset % bf->feat.sector_size || len % bf->feat.sector_size) {
        return -EINVAL;
    }
    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_DISCARD;
    r.discard_flag = secure ? BLKIF_DISCARD_SECURE : 0;
    r.sector_number = offset / bf->unit;
    r.nr_sectors = len / bf->unit;
    slot_enqueue(s, &r, opaque);
    return 0;
}

int blkfront_slot_queue_raw(BlkSlot *s, BlkWireReq *r, void *opaque)
{
    slot_enqueue(s, r, opaque);
    return 0;
}

int blkfront_kick(Blkfront *bf, unsigned int queue)
{
    BlkQueue *q = &bf->queues[queue % bf->nr_queues];

    if (blkring_push_requests(&q->ring)) {
        int ret = xenemu_guest_evtchn_notify(bf->g, q->port);

        if (ret < 0) {
            blk_log("notify port %d: %s", q->port, strerror(-ret));
            return ret;
        }
    }
    return 0;
}

void blkfront_ring_write_entry(Blkfront *bf, unsigned int queue,
                               uint32_t idx, const BlkWireReq *r)
{
    BlkQueue *q = &bf->queues[queue % bf->nr_queues];

    blkabi_encode_req(q->ring.proto, blkring_entry(&q->ring, idx), r);
}

void blkfront_ring_force_prod(Blkfront *bf, unsigned int queue,
                              uint32_t req_prod)
{
    BlkQueue *q = &bf->queues[queue % bf->nr_queues];

    uint32_t old = __atomic_load_n(&q->ring.sring->req_prod, __ATOMIC_RELAXED);

    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&q->ring.sring->req_prod, req_prod, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* As RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: a backend still taking
     * requests is not notified, so a flood costs us no system call. */
    if ((uint32_t)(req_prod -
                   __atomic_load_n(&q->ring.sring->req_event, __ATOMIC_RELAXED))
        < (uint32_t)(req_prod - old)) {
        xenemu_guest_evtchn_notify(bf->g, q->port);
    }
}

uint32_t blkfront_ring_rsp_prod(Blkfront *bf, unsigned int queue)
{
    BlkQueue *q = &bf->queues[queue % bf->nr_queues];

    return __atomic_load_n(&q->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);
}

void blkfront_ring_read_response(Blkfront *bf, unsigned int queue,
                                 uint32_t idx, BlkWireRsp *rsp)
{
    BlkQueue *q = &bf->queues[queue % bf->nr_queues];

    blkabi_decode_rsp(q->ring.proto, blkring_entry(&q->ring, idx), rsp);
}

unsigned int blkfront_inflight(const Blkfront *bf)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < bf->nr_queues; i++) {
        n += bf->queues[i].inflight;
    }
    return n;
}

/* Match a response to its request; false when it matches none. */
static bool complete(BlkQueue *q, const BlkWireRsp *rsp, BlkDoneFn *done,
                     void *opaque)
{
    uint64_t idx = rsp->id & ((1u << BLK_ID_SLOT_BITS) - 1);
    uint64_t gen = rsp->id >> BLK_ID_SLOT_BITS;
    BlkSlot *s;

    if (idx >= q->ring.nr_ents || !q->slots[idx].inflight ||
        q->slots[idx].gen != gen) {
        blk_log("queue %u: response with unknown id %#" PRIx64, q->index,
                rsp->id);
        return false;
    }
    s = &q->slots[idx];
    if (rsp->operation != s->op && rsp->operation != s->inner_op) {
        blk_log("queue %u: response op %u for request op %u", q->index,
                rsp->operation, s->op);
    }
    if (rsp->status != BLKIF_RSP_OKAY && rsp->status != BLKIF_RSP_ERROR &&
        rsp->status != BLKIF_RSP_EOPNOTSUPP) {
        blk_log("queue %u: undefined response status %d", q->index,
                rsp->status);
    }
    s->inflight = false;
    q->inflight--;
    if (done) {
        done(q->bf, s, rsp, opaque);
    }
    blkfront_slot_put(s);
    return true;
}

static int reap(BlkQueue *q, BlkDoneFn *done, void *opaque)
{
    int n = 0;
    int ret = 0;

    do {
        uint32_t prod;
        int r = blkring_peek_responses(&q->ring, &prod);

        if (r < 0) {
            blk_log("queue %u: backend rsp_prod beyond our requests",
                    q->index);
            return r;
        }
        while (q->ring.rsp_cons != prod) {
            BlkWireRsp rsp;

            blkring_get_response(&q->ring, &rsp);
            if (complete(q, &rsp, done, opaque)) {
                n++;
            } else {
                ret = -EPROTO;
            }
        }
    } while (blkring_final_check(&q->ring));
    return ret < 0 ? ret : n;
}

/* What a hang looks like from our side, for whoever debugs it. */
static void log_stuck_queues(Blkfront *bf)
{
    for (unsigned int i = 0; i < bf->nr_queues; i++) {
        BlkQueue *q = &bf->queues[i];
        struct blkabi_sring_hdr *sr = q->ring.sring;

        if (!q->inflight) {
            continue;
        }
        blk_log("queue %u stuck: %u in flight, req_prod %u req_event %u "
                "rsp_prod %u rsp_event %u rsp_cons %u port %d", i,
                q->inflight, __atomic_load_n(&sr->req_prod, __ATOMIC_RELAXED),
                __atomic_load_n(&sr->req_event, __ATOMIC_RELAXED),
                __atomic_load_n(&sr->rsp_prod, __ATOMIC_RELAXED),
                __atomic_load_n(&sr->rsp_event, __ATOMIC_RELAXED),
                q->ring.rsp_cons, q->port);
    }
}

int blkfront_poll(Blkfront *bf, int timeout_ms, BlkDoneFn *done,
                  void *opaque)
{
    int64_t deadline = (int64_t)(blk_now_ns() / 1000000) + timeout_ms;

    for (;;) {
        int n = 0;
        int64_t left;
        int port;

        for (unsigned int i = 0; i < bf->nr_queues; i++) {
            int r = reap(&bf->queues[i], done, opaque);

            if (r < 0) {
                return r;
            }
            n += r;
        }
        if (n) {
            return n;
        }
        left = timeout_ms < 0 ? -1
                              : deadline - (int64_t)(blk_now_ns() / 1000000);
        if (timeout_ms >= 0 && left <= 0) {
            log_stuck_queues(bf);
            return -ETIMEDOUT;
        }
        port = xenemu_guest_evtchn_wait(bf->g, (int)left);
        if (port == -EAGAIN) {
            continue;
        }
        if (port < 0) {
            blk_log("waiting for events: %s", strerror(-port));
            return port;
        }
        /* Unmask before reaping: a response after the reap re-raises it. */
        xenemu_guest_evtchn_unmask(bf->g, port);
    }
}

/* Synchronous transfers. */

typedef struct Piece {
    BlkXfer *x;
    uint64_t pos;                /* bytes into the transfer */
    unsigned int len;
    bool used;
} Piece;

typedef struct XferRun {
    Piece *pieces;
    unsigned int npieces;
    unsigned int outstanding;
} XferRun;

static void xfer_done(Blkfront *bf, BlkSlot *s, const BlkWireRsp *rsp,
                      void *opaque)
{
    XferRun *run = opaque;
    Piece *p = blkfront_slot_opaque(s);

    (void)bf;
    if (rsp->status != BLKIF_RSP_OKAY) {
        if (p->x->status == BLKIF_RSP_OKAY) {
            p->x->status = rsp->status;
        }
    } else if (p->x->op == BLKIF_OP_READ) {
        memcpy(p->x->buf + p->pos, s->data + p->x->page_off, p->len);
    }
    p->used = false;
    run->outstanding--;
}

static Piece *piece_get(XferRun *run)
{
    for (unsigned int i = 0; i < run->npieces; i++) {
        if (!run->pieces[i].used) {
            run->pieces[i].used = true;
            return &run->pieces[i];
        }
    }
    return NULL;
}

/* Queue the piece of @x that starts at @pos; *covered gets its bytes. */
static int queue_piece(Blkfront *bf, BlkSlot *s, Piece *p, BlkXfer *x,
                       uint64_t pos, uint64_t *covered)
{
    unsigned int cap = blkfront_slot_capacity(bf) - x->page_off;
    uint64_t left = x->len - pos;

    p->x = x;
    p->pos = pos;
    p->len = 0;
    *covered = x->len;
    switch (x->op) {
    case BLKIF_OP_WRITE_BARRIER:
        if (!x->len) {
            return blkfront_slot_queue_flush(s, x->op, p);
        }
        cap = BLKIF_MAX_SEGMENTS_PER_REQUEST * BLKABI_PAGE_SIZE - x->page_off;
        /* fall through */
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
        cap -= cap % bf->feat.sector_size;
        p->len = left < cap ? (unsigned int)left : cap;
        *covered = p->len;
        if (x->op != BLKIF_OP_READ) {
            memcpy(s->data + x->page_off, x->buf + pos, p->len);
        }
        return blkfront_slot_queue_rw(s, x->op, x->offset + pos, x->page_off,
                                      p->len, p);
    case BLKIF_OP_DISCARD:
        return blkfront_slot_queue_discard(s, x->offset, x->len, false, p);
    default:
        return blkfront_slot_queue_flush(s, x->op, p);
    }
}

int blkfront_transfer(Blkfront *bf, BlkXfer *x, unsigned int n,
                      unsigned int qd)
{
    unsigned int total = bf->nr_queues * blkfront_ring_entries(bf);
    XferRun run = { 0 };
    unsigned int i = 0, q = 0;
    uint64_t pos = 0;
    bool failed = false;
    int err = 0;

    run.npieces = qd && qd < total ? qd : total;
    run.pieces = calloc(run.npieces, sizeof(*run.pieces));
    if (!run.pieces) {
        return -ENOMEM;
    }
    for (unsigned int k = 0; k < n; k++) {
        x[k].status = BLKIF_RSP_OKAY;
    }
    /* After an error nothing new is queued, but what is queued is still
     * published and waited for: the slots must come back. */
    while (i < n || run.outstanding) {
        int ret;

        while (!err && i < n && run.outstanding < run.npieces) {
            BlkSlot *s = blkfront_slot_get(bf, q);
            uint64_t covered;
            Piece *p;

            if (!s) {
                if (errno != EBUSY) {
                    err = -ENOMEM;
                }
                break;
            }
            p = piece_get(&run);
            ret = queue_piece(bf, s, p, &x[i], pos, &covered);
            if (ret < 0) {
                p->used = false;
                blkfront_slot_put(s);
                err = ret;
                break;
            }
            run.outstanding++;
            pos += covered;
            if (pos >= x[i].len) {
                i++;
                pos = 0;
            }
            /* Spread requests over the queues as a multi-queue guest
             * spreads them over CPUs. */
            q = (q + 1) % bf->nr_queues;
        }
        for (unsigned int k = 0; k < bf->nr_queues; k++) {
            ret = blkfront_kick(bf, k);
            err = err ? err : ret;
        }
        if (!run.outstanding) {
            break;
        }
        ret = blkfront_poll(bf, bf->cfg.timeout_ms, xfer_done, &run);
        if (ret < 0) {
            if (ret == -ETIMEDOUT) {
                blk_log("%u request(s) unanswered after %d ms",
                        run.outstanding, bf->cfg.timeout_ms);
            }
            err = err ? err : ret;
            break;
        }
    }
    free(run.pieces);
    for (unsigned int k = 0; k < n; k++) {
        failed |= x[k].status != BLKIF_RSP_OKAY;
    }
    if (err < 0) {
        return err;
    }
    return failed ? -EIO : 0;
}
