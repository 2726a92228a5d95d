/*
 * Xen block dataplane: one request, from the private copy of its ring
 * entry to its status: decoded, checked against what the backend offered,
 * its data copied in or out with grant copies, and carried out on the
 * drive.
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
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/block-backend.h"
#include "hw/xen/xen-compat.h"
#include "xen-block-internal.h"
#include "hw/block/trace.h"

/*
 * Copy @segs, to the guest or from it: through the pages persistent grants
 * keep mapped where the cache has or takes them, with one grant copy for
 * the others (a grant that cannot be mapped read-write, or that a full
 * cache does not keep).  @segs is reordered.  @what prefixes the error.
 */
static bool xen_block_copy_segments(XenBlockRequest *req, bool to_domain,
                                    XenDeviceGrantCopySegment *segs,
                                    unsigned int nr_segs, const char *what)
{
    XenBlockQueue *q = req->queue;
    XenDevice *xendev = q->dataplane->xendev;
    Error *local_err = NULL;
    unsigned int i, nr_left = 0;

    for (i = 0; i < nr_segs; i++) {
        XenDeviceGrantCopySegment *c = &segs[i];
        uint8_t *page = q->grants ?
            xen_block_grant_cache_get(q->grants, to_domain ?
                                      c->dest.foreign.ref :
                                      c->source.foreign.ref) : NULL;

        if (!page) {
            segs[nr_left++] = *c;
        } else if (to_domain) {
            memcpy(page + c->dest.foreign.offset, c->source.virt, c->len);
        } else {
            memcpy(c->dest.virt, page + c->source.foreign.offset, c->len);
        }
    }
    if (!nr_left) {
        return true;
    }
    xen_device_copy_grant_refs(xendev, to_domain, segs, nr_left, &local_err);
    if (local_err) {
        xen_device_guest_error(xendev, "request %" PRIu64 ": %s%s", req->id,
                               what, error_get_pretty(local_err));
        error_free(local_err);
        return false;
    }
    return true;
}

bool xen_block_request_copy_data(XenBlockRequest *req)
{
    return xen_block_copy_segments(req, req->op == BLKIF_OP_READ, req->copy,
                                   req->nr_segs, "");
}

/*
 * Writes and flushes with data, unless mapped persistent grants serve them
 * (nothing to gain from a batch) or they are too big for one.  A barrier's
 * data comes in only after its flush.
 */
bool xen_block_request_batches_write(XenBlockRequest *req)
{
    return (req->op == BLKIF_OP_WRITE ||
            (req->op == BLKIF_OP_FLUSH_DISKCACHE && req->nr_segs)) &&
           !req->queue->grants && req->nr_segs <= XEN_BLOCK_COPY_BATCH;
}

/* Fetch the segment descriptors of an indirect request into req->segs. */
static bool xen_block_fetch_indirect(XenBlockRequest *req,
                                     const XenBlkIndirectReq32 *ind)
{
    unsigned int nr_pages = DIV_ROUND_UP(req->nr_segs,
                                         XEN_BLOCK_SEGS_PER_INDIRECT_PAGE);
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
    return xen_block_copy_segments(req, false, req->copy, nr_pages,
                                   "indirect descriptors: ");
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

int16_t xen_block_parse(XenBlockRequest *req, const XenBlkReqCopy *copy)
{
    XenBlockDataPlane *dp = req->queue->dataplane;
    uint8_t op = copy->rw.operation;

    req->id = copy->rw.id;
    req->rsp_operation = op;
    req->secure = false;
    req->nr_segs = 0;
    req->size = 0;
    req->copied = false;

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

/* Account one step of @req, which returned @ret, and report a failure. */
static int xen_block_io_done(XenBlockRequest *req, int ret)
{
    XenBlockDataPlane *dp = req->queue->dataplane;
    BlockAcctStats *stats = blk_get_stats(dp->blk);

    if (ret < 0) {
        block_acct_failed(stats, &req->acct);
        xen_device_io_error(dp->xendev, "%s at sector %" PRIu64 " failed: %s",
                            xen_block_op_name(req->op), req->sector,
                            strerror(-ret));
    } else {
        block_acct_done(stats, &req->acct);
    }
    return ret;
}

static int coroutine_fn xen_block_co_write(XenBlockRequest *req,
                                           BdrvRequestFlags flags)
{
    BlockBackend *blk = req->queue->dataplane->blk;

    if (!req->copied && !xen_block_request_copy_data(req)) {
        return -EFAULT;
    }
    qemu_iovec_init_buf(&req->qiov, req->buf, req->size);
    block_acct_start(blk_get_stats(blk), &req->acct, req->size,
                     BLOCK_ACCT_WRITE);
    return xen_block_io_done(req, blk_co_pwritev(blk,
                                                 req->sector *
                                                 BDRV_SECTOR_SIZE,
                                                 req->size, &req->qiov,
                                                 flags));
}

static int coroutine_fn xen_block_co_flush(XenBlockRequest *req)
{
    BlockBackend *blk = req->queue->dataplane->blk;

    block_acct_start(blk_get_stats(blk), &req->acct, 0, BLOCK_ACCT_FLUSH);
    return xen_block_io_done(req, blk_co_flush(blk));
}

static int coroutine_fn xen_block_co_discard(XenBlockRequest *req)
{
    BlockBackend *blk = req->queue->dataplane->blk;
    int64_t offset = req->sector * BDRV_SECTOR_SIZE;
    int64_t bytes = req->nr_sectors * BDRV_SECTOR_SIZE;

    block_acct_start(blk_get_stats(blk), &req->acct, bytes, BLOCK_ACCT_UNMAP);
    return xen_block_io_done(req, req->secure ?
                             blk_co_pwrite_zeroes(blk, offset, bytes,
                                                  BDRV_REQ_FUA) :
                             blk_co_pdiscard(blk, offset, bytes, 0));
}

/*
 * One request from start to answer, in a coroutine of its own: the block
 * layer runs each request in a coroutine anyway, and one per request is
 * what lets requests be in flight together.  A read's data is copied to
 * the guest once it is in, maybe together with other reads.
 */
static void coroutine_fn xen_block_co_request(void *opaque)
{
    XenBlockRequest *req = opaque;
    BlockBackend *blk = req->queue->dataplane->blk;
    int ret = 0;

    switch (req->op) {
    case BLKIF_OP_READ:
        qemu_iovec_init_buf(&req->qiov, req->buf, req->size);
        block_acct_start(blk_get_stats(blk), &req->acct, req->size,
                         BLOCK_ACCT_READ);
        ret = xen_block_io_done(req, blk_co_preadv(blk, req->sector *
                                                   BDRV_SECTOR_SIZE,
                                                   req->size, &req->qiov,
                                                   0));
        if (ret >= 0) {
            xen_block_request_complete_read(req);
            return;
        }
        break;
    case BLKIF_OP_WRITE:
        ret = xen_block_co_write(req, 0);
        break;
    case BLKIF_OP_FLUSH_DISKCACHE:
        /* Its data first, so that the flush makes that stable too. */
        if (req->size) {
            ret = xen_block_co_write(req, 0);
        }
        if (ret >= 0) {
            ret = xen_block_co_flush(req);
        }
        break;
    case BLKIF_OP_WRITE_BARRIER:
        /* What completed before it is stable before its data is written. */
        ret = xen_block_co_flush(req);
        if (ret >= 0 && req->size) {
            ret = xen_block_co_write(req, BDRV_REQ_FUA);
        }
        break;
    case BLKIF_OP_DISCARD:
        ret = xen_block_co_discard(req);
        break;
    default:
        g_assert_not_reached();
    }
    xen_block_request_complete(req, ret < 0 ? BLKIF_RSP_ERROR :
                                              BLKIF_RSP_OKAY);
}

void xen_block_submit(XenBlockRequest *req)
{
    trace_xen_block_dataplane_request(req->queue, req->id, req->op,
                                      req->nr_segs, req->sector);
    qemu_coroutine_enter(qemu_coroutine_create(xen_block_co_request, req));
}
