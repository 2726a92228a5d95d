/*
 * Xen block dataplane: one blkif ring served from an AioContext
 *
 * Requests are copied out of the shared ring once, validated on that copy
 * and served through bounce buffers filled and drained with grant copies.
 *
 * Operations:
 * - READ, WRITE, and INDIRECT reads and writes.
 * - FLUSH_DISKCACHE flushes.  blkif.h gives it no data, but a frontend may
 *   attach segments (Linux blkback writes them with a preflush): those are
 *   written first and then flushed, so that both the earlier writes and
 *   this one are stable when the request completes.
 * - DISCARD when offered.  With discard-secure offered, a request with
 *   BLKIF_DISCARD_SECURE overwrites the range with zeroes (forced unit
 *   access) instead of discarding it: the block layer has no secure
 *   discard, and blkif.h requires the old data to be unrecoverable.
 * - WRITE_BARRIER, with or without data: taking requests off the ring
 *   pauses until everything taken before it has completed; then a flush
 *   makes those writes stable and the data is written with forced unit
 *   access; requests after it are taken once it has completed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/log.h"
#include "qemu/memalign.h"
#include "qemu/main-loop.h"
#include "qemu/queue.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "block/aio-wait.h"
#include "block/accounting.h"
#include "system/block-backend.h"
#include "hw/qdev-core.h"
#include "hw/xen/xen-bus.h"
#include "hw/xen/xen-compat.h"
#include "hw/xen/interface/io/blkif.h"
#include "hw/block/dataplane/xen-block.h"
#include "hw/block/trace.h"

/* One segment descriptor, in requests and in indirect pages. */
typedef struct XenBlkSeg {
    uint32_t gref;
    uint8_t first_sect;
    uint8_t last_sect;
    uint16_t pad;
} XenBlkSeg;

/*
 * The request layouts of the two x86 ABIs.  x86_32 aligns 64-bit fields to
 * 4 bytes; x86_64 aligns them to 8, which puts 4 bytes of padding after the
 * first word and leaves every later field 4 bytes further.
 */
typedef struct QEMU_PACKED XenBlkRwReq32 {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    XenBlkSeg seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} XenBlkRwReq32;

typedef struct QEMU_PACKED XenBlkDiscardReq32 {
    uint8_t operation;
    uint8_t flag;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
} XenBlkDiscardReq32;

typedef struct QEMU_PACKED XenBlkIndirectReq32 {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint16_t pad;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint64_t pad2;
} XenBlkIndirectReq32;

typedef struct QEMU_PACKED XenBlkRwReq64 {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    XenBlkSeg seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} XenBlkRwReq64;

typedef struct QEMU_PACKED XenBlkDiscardReq64 {
    uint8_t operation;
    uint8_t flag;
    uint16_t handle;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
} XenBlkDiscardReq64;

typedef struct QEMU_PACKED XenBlkIndirectReq64 {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint16_t pad2;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint32_t pad3;
} XenBlkIndirectReq64;

/* Responses: the same fields at the same offsets in both ABIs. */
typedef struct QEMU_PACKED XenBlkRsp32 {
    uint64_t id;
    uint8_t operation;
    uint8_t pad;
    int16_t status;
} XenBlkRsp32;

typedef struct QEMU_PACKED XenBlkRsp64 {
    uint64_t id;
    uint8_t operation;
    uint8_t pad;
    int16_t status;
    uint32_t pad2;
} XenBlkRsp64;

QEMU_BUILD_BUG_ON(sizeof(XenBlkSeg) != 8);
QEMU_BUILD_BUG_ON(sizeof(XenBlkRwReq32) != 108);
QEMU_BUILD_BUG_ON(sizeof(XenBlkDiscardReq32) != 28);
QEMU_BUILD_BUG_ON(sizeof(XenBlkIndirectReq32) != 64);
QEMU_BUILD_BUG_ON(sizeof(XenBlkRsp32) != 12);
QEMU_BUILD_BUG_ON(sizeof(XenBlkRwReq64) != 112);
QEMU_BUILD_BUG_ON(sizeof(XenBlkDiscardReq64) != 32);
QEMU_BUILD_BUG_ON(sizeof(XenBlkIndirectReq64) != 64);
QEMU_BUILD_BUG_ON(sizeof(XenBlkRsp64) != 16);

/* Every x86_64 field after the first word sits 4 bytes after x86_32's. */
#define XEN_BLK_SHIFTED(type, field) \
    QEMU_BUILD_BUG_ON(offsetof(type##64, field) != \
                      offsetof(type##32, field) + 4)
XEN_BLK_SHIFTED(XenBlkRwReq, id);
XEN_BLK_SHIFTED(XenBlkRwReq, sector_number);
XEN_BLK_SHIFTED(XenBlkRwReq, seg);
XEN_BLK_SHIFTED(XenBlkDiscardReq, id);
XEN_BLK_SHIFTED(XenBlkDiscardReq, sector_number);
XEN_BLK_SHIFTED(XenBlkDiscardReq, nr_sectors);
XEN_BLK_SHIFTED(XenBlkIndirectReq, id);
XEN_BLK_SHIFTED(XenBlkIndirectReq, sector_number);
XEN_BLK_SHIFTED(XenBlkIndirectReq, handle);
XEN_BLK_SHIFTED(XenBlkIndirectReq, indirect_grefs);
QEMU_BUILD_BUG_ON(offsetof(XenBlkRsp64, status) !=
                  offsetof(XenBlkRsp32, status));

/* A request in the x86_32 layout: the private copy of a ring entry. */
typedef union XenBlkReqCopy {
    XenBlkRwReq32 rw;
    XenBlkDiscardReq32 discard;
    XenBlkIndirectReq32 indirect;
} XenBlkReqCopy;

QEMU_BUILD_BUG_ON(offsetof(XenBlkRwReq32, id) !=
                  offsetof(XenBlkDiscardReq32, id));
QEMU_BUILD_BUG_ON(offsetof(XenBlkRwReq32, id) !=
                  offsetof(XenBlkIndirectReq32, id));

/* The native ABI is the host's: x86_32's on i386, x86_64's elsewhere. */
#define XEN_BLK_NATIVE_IS_64 \
    (sizeof(struct blkif_request) == sizeof(XenBlkRwReq64))
#define XEN_BLK_NATIVE_OFFSET(type, field) \
    (XEN_BLK_NATIVE_IS_64 ? offsetof(type##64, field) : \
                            offsetof(type##32, field))
QEMU_BUILD_BUG_ON(sizeof(struct blkif_request) != sizeof(XenBlkRwReq64) &&
                  sizeof(struct blkif_request) != sizeof(XenBlkRwReq32));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_request, id) !=
                  XEN_BLK_NATIVE_OFFSET(XenBlkRwReq, id));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_request, seg) !=
                  XEN_BLK_NATIVE_OFFSET(XenBlkRwReq, seg));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_request_discard, nr_sectors) !=
                  XEN_BLK_NATIVE_OFFSET(XenBlkDiscardReq, nr_sectors));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_request_indirect, indirect_grefs) !=
                  XEN_BLK_NATIVE_OFFSET(XenBlkIndirectReq, indirect_grefs));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_response, status) !=
                  offsetof(XenBlkRsp32, status));

#define XEN_BLOCK_MAX_RING_PAGES 16
#define XEN_BLOCK_SEGS_PER_INDIRECT_PAGE (XEN_PAGE_SIZE / sizeof(XenBlkSeg))
#define XEN_BLOCK_MAX_INDIRECT_SEGMENTS \
    (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * XEN_BLOCK_SEGS_PER_INDIRECT_PAGE)
/*
 * Bounce memory of one ring.  Every request slot can hold the largest
 * request, so a large indirect maximum means fewer requests in flight; the
 * memory is only touched as far as requests actually reach.
 */
#define XEN_BLOCK_BOUNCE_BUDGET (64 * MiB)
/* Segments of completed reads copied to the guest in one grant copy. */
#define XEN_BLOCK_READ_BATCH 128

typedef struct XenBlockRequest {
    XenBlockDataPlane *dataplane;
    QSLIST_ENTRY(XenBlockRequest) free_link;
    QSIMPLEQ_ENTRY(XenBlockRequest) read_link;

    uint64_t id;
    /* The operation echoed in the response. */
    uint8_t rsp_operation;
    /* What to do: READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE, DISCARD. */
    uint8_t op;
    bool secure;
    uint64_t sector;
    uint64_t nr_sectors;
    unsigned int nr_segs;
    size_t size;

    /* The slot's preallocated arrays and bounce buffer. */
    XenBlkSeg *segs;
    XenDeviceGrantCopySegment *copy;
    uint8_t *buf;

    QEMUIOVector qiov;
    BlockAcctCookie acct;
} XenBlockRequest;

struct XenBlockDataPlane {
    XenDevice *xendev;
    BlockBackend *blk;
    IOThread *iothread;
    AioContext *ctx;
    QEMUBH *bh;

    bool started;
    XenBlockDataPlaneConf conf;
    XenEventChannel *event_channel;
    blkif_sring_t *sring;
    uint32_t ring_ref[XEN_BLOCK_MAX_RING_PAGES];
    unsigned int nr_ring_ref;
    /* Indexes; entries are dp->entry_size apart whatever the ABI. */
    blkif_back_ring_t ring;
    size_t entry_size;
    bool abi64;
    /* The frontend overran the ring: it is no longer read. */
    bool halted;
    /* Stopping: finish what is in flight, take nothing new. */
    bool stopping;
    /* The drive is drained (set from the main loop): take nothing new. */
    bool drained;
    /* Set by the stop path in dp->ctx: no request slot is in use. */
    bool idle;
    /* A barrier taken off the ring: nothing more is taken until it ends. */
    XenBlockRequest *barrier;
    bool barrier_submitted;
    /* Request slots off the free list. */
    unsigned int nr_busy;
    /* In xen_block_handle_requests(), which pushes responses at its end. */
    bool in_handler;
    /* Completed reads whose data the bottom half copies to the guest. */
    QSIMPLEQ_HEAD(, XenBlockRequest) reads;
    XenDeviceGrantCopySegment read_batch[XEN_BLOCK_READ_BATCH];

    unsigned int max_segs;
    unsigned int nr_requests;
    XenBlockRequest *requests;
    XenBlkSeg *segs;
    XenDeviceGrantCopySegment *copy;
    uint8_t *bounce;
    QSLIST_HEAD(, XenBlockRequest) free_requests;
};

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
static void xen_block_request_complete(XenBlockRequest *req, int16_t status)
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

static bool xen_block_request_copy_data(XenBlockRequest *req)
{
    XenBlockDataPlane *dp = req->dataplane;
    Error *local_err = NULL;

    xen_device_copy_grant_refs(dp->xendev, req->op == BLKIF_OP_READ,
                               req->copy, req->nr_segs, &local_err);
    if (local_err) {
        xen_device_guest_error(dp->xendev,
                               "request %" PRIu64 ": %s", req->id,
                               error_get_pretty(local_err));
        error_free(local_err);
        return false;
    }
    return true;
}

/* Fetch the segment descriptors of an indirect request into req->segs. */
static bool xen_block_fetch_indirect(XenBlockRequest *req,
                                     const XenBlkIndirectReq32 *ind)
{
    XenBlockDataPlane *dp = req->dataplane;
    unsigned int nr_pages = DIV_ROUND_UP(req->nr_segs,
                                         XEN_BLOCK_SEGS_PER_INDIRECT_PAGE);
    Error *local_err = NULL;
    unsigned int i;

    for (i = 0; i < nr_pages; i++) {
        XenDeviceGrantCopySegment *c = &req->copy[i];
        unsigned int segs = MIN(req->nr_segs -
                                i * XEN_BLOCK_SEGS_PER_INDIRECT_PAGE,
                                XEN_BLOCK_SEGS_PER_INDIRECT_PAGE);

        c->source.foreign.ref = ind->indirect_grefs[i];
        c->source.foreign.offset = 0;
        c->dest.virt = req->segs + i * XEN_BLOCK_SEGS_PER_INDIRECT_PAGE;
        c->len = segs * sizeof(XenBlkSeg);
    }

    xen_device_copy_grant_refs(dp->xendev, false, req->copy, nr_pages,
                               &local_err);
    if (local_err) {
        xen_device_guest_error(dp->xendev,
                               "request %" PRIu64
                               ": indirect descriptors: %s", req->id,
                               error_get_pretty(local_err));
        error_free(local_err);
        return false;
    }
    return true;
}

/* Whether [sector, sector + nr_sectors) is whole logical blocks on disk. */
static bool xen_block_check_range(XenBlockDataPlane *dp, XenBlockRequest *req,
                                  uint64_t nr_sectors)
{
    uint64_t block = dp->conf.sector_size / BDRV_SECTOR_SIZE;
    /* Changed by a resize in the main loop. */
    uint64_t disk_sectors = qatomic_read(&dp->conf.nr_sectors);

    if (req->sector % block || nr_sectors % block) {
        xen_device_guest_error(dp->xendev,
                               "request %" PRIu64 ": sectors %" PRIu64
                               "+%" PRIu64 " not aligned to %u bytes",
                               req->id, req->sector, nr_sectors,
                               dp->conf.sector_size);
        return false;
    }
    if (req->sector > disk_sectors ||
        nr_sectors > disk_sectors - req->sector) {
        xen_device_guest_error(dp->xendev,
                               "request %" PRIu64 ": sectors %" PRIu64
                               "+%" PRIu64 " beyond the disk (%" PRIu64 ")",
                               req->id, req->sector, nr_sectors,
                               disk_sectors);
        return false;
    }
    return true;
}

/*
 * Check the segments in req->segs and lay them out in the bounce buffer,
 * one after the other as the disk range they cover.
 */
static bool xen_block_check_segments(XenBlockDataPlane *dp,
                                     XenBlockRequest *req)
{
    bool to_domain = req->op == BLKIF_OP_READ;
    unsigned int i;

    req->size = 0;
    for (i = 0; i < req->nr_segs; i++) {
        const XenBlkSeg *seg = &req->segs[i];
        XenDeviceGrantCopySegment *c = &req->copy[i];
        unsigned int offset = seg->first_sect * BDRV_SECTOR_SIZE;
        unsigned int len;

        if (seg->first_sect > seg->last_sect ||
            seg->last_sect >= XEN_PAGE_SIZE / BDRV_SECTOR_SIZE) {
            xen_device_guest_error(dp->xendev,
                                   "request %" PRIu64 ": segment %u: "
                                   "bad sectors %u..%u", req->id, i,
                                   seg->first_sect, seg->last_sect);
            return false;
        }
        len = (seg->last_sect - seg->first_sect + 1) * BDRV_SECTOR_SIZE;
        if (offset % dp->conf.sector_size || len % dp->conf.sector_size) {
            xen_device_guest_error(dp->xendev,
                                   "request %" PRIu64 ": segment %u: "
                                   "not aligned to %u bytes", req->id, i,
                                   dp->conf.sector_size);
            return false;
        }

        if (to_domain) {
            c->dest.foreign.ref = seg->gref;
            c->dest.foreign.offset = offset;
            c->source.virt = req->buf + req->size;
        } else {
            c->source.foreign.ref = seg->gref;
            c->source.foreign.offset = offset;
            c->dest.virt = req->buf + req->size;
        }
        c->len = len;
        req->size += len;
    }
    return true;
}

static int16_t xen_block_parse_discard(XenBlockDataPlane *dp,
                                       XenBlockRequest *req,
                                       const XenBlkDiscardReq32 *discard)
{
    if (!dp->conf.discard) {
        return BLKIF_RSP_EOPNOTSUPP;
    }
    if (dp->conf.read_only) {
        xen_device_guest_error(dp->xendev,
                               "request %" PRIu64 ": discard on a "
                               "read-only disk", req->id);
        return BLKIF_RSP_ERROR;
    }
    req->op = BLKIF_OP_DISCARD;
    req->sector = discard->sector_number;
    req->nr_sectors = discard->nr_sectors;
    /* blkif.h: the flag is ignored unless discard-secure is offered. */
    req->secure = dp->conf.discard_secure &&
                  (discard->flag & BLKIF_DISCARD_SECURE);
    if (!xen_block_check_range(dp, req, req->nr_sectors)) {
        return BLKIF_RSP_ERROR;
    }
    return BLKIF_RSP_OKAY;
}

/* Decode and check the private copy; OKAY means "submit it". */
static int16_t xen_block_parse(XenBlockDataPlane *dp, XenBlockRequest *req,
                               const XenBlkReqCopy *copy)
{
    uint8_t op = copy->rw.operation;

    req->id = copy->rw.id;
    req->rsp_operation = op;
    req->secure = false;
    req->nr_segs = 0;
    req->size = 0;

    switch (op) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP_FLUSH_DISKCACHE:
        req->nr_segs = copy->rw.nr_segments;
        /* Only flushes and barriers may come without data. */
        if (req->nr_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
            (req->nr_segs == 0 && (op == BLKIF_OP_READ ||
                                   op == BLKIF_OP_WRITE))) {
            xen_device_guest_error(dp->xendev,
                                   "request %" PRIu64 ": %u segments",
                                   req->id, req->nr_segs);
            return BLKIF_RSP_ERROR;
        }
        memcpy(req->segs, (const uint8_t *)copy + offsetof(XenBlkRwReq32, seg),
               req->nr_segs * sizeof(XenBlkSeg));
        req->sector = copy->rw.sector_number;
        break;
    case BLKIF_OP_INDIRECT:
        if (!dp->conf.max_indirect_segments) {
            return BLKIF_RSP_EOPNOTSUPP;
        }
        op = copy->indirect.indirect_op;
        if (op != BLKIF_OP_READ && op != BLKIF_OP_WRITE) {
            xen_device_guest_error(dp->xendev,
                                   "request %" PRIu64 ": indirect "
                                   "operation %u", req->id, op);
            return BLKIF_RSP_ERROR;
        }
        /* Like Linux blkback: answer with the operation carried out. */
        req->rsp_operation = op;
        req->nr_segs = copy->indirect.nr_segments;
        if (req->nr_segs == 0 ||
            req->nr_segs > dp->conf.max_indirect_segments) {
            xen_device_guest_error(dp->xendev,
                                   "request %" PRIu64 ": %u indirect "
                                   "segments", req->id, req->nr_segs);
            return BLKIF_RSP_ERROR;
        }
        req->sector = copy->indirect.sector_number;
        if (!xen_block_fetch_indirect(req, &copy->indirect)) {
            return BLKIF_RSP_ERROR;
        }
        break;
    case BLKIF_OP_DISCARD:
        return xen_block_parse_discard(dp, req, &copy->discard);
    default:
        xen_device_guest_error(dp->xendev,
                               "request %" PRIu64 ": unknown operation %u",
                               req->id, op);
        return BLKIF_RSP_EOPNOTSUPP;
    }

    req->op = op;
    if (op != BLKIF_OP_READ && dp->conf.read_only) {
        xen_device_guest_error(dp->xendev,
                               "request %" PRIu64 ": operation %u on a "
                               "read-only disk", req->id, op);
        return BLKIF_RSP_ERROR;
    }
    if (!xen_block_check_segments(dp, req)) {
        return BLKIF_RSP_ERROR;
    }
    /* A flush or barrier without data has no sector range. */
    if (req->size &&
        !xen_block_check_range(dp, req, req->size / BDRV_SECTOR_SIZE)) {
        return BLKIF_RSP_ERROR;
    }
    return BLKIF_RSP_OKAY;
}

static const char *xen_block_op_name(uint8_t op)
{
    switch (op) {
    case BLKIF_OP_READ:
        return "read";
    case BLKIF_OP_WRITE:
        return "write";
    case BLKIF_OP_WRITE_BARRIER:
        return "barrier";
    case BLKIF_OP_FLUSH_DISKCACHE:
        return "flush";
    case BLKIF_OP_DISCARD:
        return "discard";
    default:
        return "request";
    }
}

static void xen_block_io_done(XenBlockRequest *req, int ret)
{
    XenBlockDataPlane *dp = req->dataplane;
    BlockAcctStats *stats = blk_get_stats(dp->blk);

    if (ret < 0) {
        block_acct_failed(stats, &req->acct);
        xen_device_io_error(dp->xendev, "%s at sector %" PRIu64 " failed: %s",
                            xen_block_op_name(req->op), req->sector,
                            strerror(-ret));
    } else {
        block_acct_done(stats, &req->acct);
    }
}

static void xen_block_done(void *opaque, int ret)
{
    XenBlockRequest *req = opaque;

    xen_block_io_done(req, ret);
    xen_block_request_complete(req, ret < 0 ? BLKIF_RSP_ERROR :
                                              BLKIF_RSP_OKAY);
}

static void xen_block_write_done(void *opaque, int ret);

static void xen_block_write(XenBlockRequest *req, BdrvRequestFlags flags)
{
    BlockBackend *blk = req->dataplane->blk;

    if (!xen_block_request_copy_data(req)) {
        xen_block_request_complete(req, BLKIF_RSP_ERROR);
        return;
    }
    qemu_iovec_init_buf(&req->qiov, req->buf, req->size);
    block_acct_start(blk_get_stats(blk), &req->acct, req->size,
                     BLOCK_ACCT_WRITE);
    blk_aio_pwritev(blk, req->sector * BDRV_SECTOR_SIZE, &req->qiov, flags,
                    xen_block_write_done, req);
}

static void xen_block_flush_done(void *opaque, int ret)
{
    XenBlockRequest *req = opaque;

    xen_block_io_done(req, ret);
    if (ret >= 0 && req->op == BLKIF_OP_WRITE_BARRIER && req->size) {
        xen_block_write(req, BDRV_REQ_FUA);
        return;
    }
    xen_block_request_complete(req, ret < 0 ? BLKIF_RSP_ERROR :
                                              BLKIF_RSP_OKAY);
}

static void xen_block_flush(XenBlockRequest *req)
{
    BlockBackend *blk = req->dataplane->blk;

    block_acct_start(blk_get_stats(blk), &req->acct, 0, BLOCK_ACCT_FLUSH);
    blk_aio_flush(blk, xen_block_flush_done, req);
}

static void xen_block_write_done(void *opaque, int ret)
{
    XenBlockRequest *req = opaque;

    xen_block_io_done(req, ret);
    if (ret >= 0 && req->op == BLKIF_OP_FLUSH_DISKCACHE) {
        xen_block_flush(req);
        return;
    }
    xen_block_request_complete(req, ret < 0 ? BLKIF_RSP_ERROR :
                                              BLKIF_RSP_OKAY);
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
 * While other requests are in flight the data is copied by the bottom
 * half, together with that of the reads completing around this one.
 */
static void xen_block_read_done(void *opaque, int ret)
{
    XenBlockRequest *req = opaque;
    XenBlockDataPlane *dp = req->dataplane;

    xen_block_io_done(req, ret);
    if (ret < 0) {
        xen_block_request_complete(req, BLKIF_RSP_ERROR);
        return;
    }
    if (dp->nr_busy > 1 && !dp->in_handler) {
        QSIMPLEQ_INSERT_TAIL(&dp->reads, req, read_link);
        qemu_bh_schedule(dp->bh);
        return;
    }
    xen_block_request_complete(req, xen_block_request_copy_data(req) ?
                                    BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
}

static void xen_block_submit(XenBlockRequest *req)
{
    XenBlockDataPlane *dp = req->dataplane;
    BlockAcctStats *stats = blk_get_stats(dp->blk);
    int64_t offset = req->sector * BDRV_SECTOR_SIZE;
    int64_t bytes;

    trace_xen_block_dataplane_request(dp, req->id, req->op, req->nr_segs,
                                      req->sector);

    switch (req->op) {
    case BLKIF_OP_READ:
        qemu_iovec_init_buf(&req->qiov, req->buf, req->size);
        block_acct_start(stats, &req->acct, req->size, BLOCK_ACCT_READ);
        blk_aio_preadv(dp->blk, offset, &req->qiov, 0, xen_block_read_done,
                       req);
        break;
    case BLKIF_OP_WRITE:
        xen_block_write(req, 0);
        break;
    case BLKIF_OP_FLUSH_DISKCACHE:
        if (req->size) {
            xen_block_write(req, 0);
        } else {
            xen_block_flush(req);
        }
        break;
    case BLKIF_OP_WRITE_BARRIER:
        xen_block_flush(req);
        break;
    case BLKIF_OP_DISCARD:
        bytes = req->nr_sectors * BDRV_SECTOR_SIZE;
        block_acct_start(stats, &req->acct, bytes, BLOCK_ACCT_UNMAP);
        if (req->secure) {
            blk_aio_pwrite_zeroes(dp->blk, offset, bytes, BDRV_REQ_FUA,
                                  xen_block_done, req);
        } else {
            blk_aio_pdiscard(dp->blk, offset, bytes, xen_block_done, req);
        }
        break;
    default:
        g_assert_not_reached();
    }
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
static bool xen_block_handle_requests(void *opaque)
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
static bool xen_block_event(void *opaque)
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

static void xen_block_bh(void *opaque)
{
    xen_block_handle_requests(opaque);
}

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

static void xen_block_free_requests(XenBlockDataPlane *dp)
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

static bool xen_block_alloc_requests(XenBlockDataPlane *dp, Error **errp)
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
