/*
 * Xen block dataplane: state shared by its parts
 *
 * xen-block.c starts and stops the dataplane and its queues,
 * xen-block-ring.c serves one queue's ring and xen-block-request.c carries
 * out one request.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_DATAPLANE_XEN_BLOCK_INTERNAL_H
#define HW_BLOCK_DATAPLANE_XEN_BLOCK_INTERNAL_H

#include "qemu/queue.h"
#include "qemu/units.h"
#include "qemu/iov.h"
#include "block/accounting.h"
#include "hw/xen/xen-bus.h"
#include "hw/block/dataplane/xen-block.h"
#include "xen-block-wire.h"

#define XEN_BLOCK_SEGS_PER_INDIRECT_PAGE (XEN_PAGE_SIZE / sizeof(XenBlkSeg))
QEMU_BUILD_BUG_ON(XEN_BLOCK_MAX_INDIRECT_SEGMENTS !=
                  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST *
                  XEN_BLOCK_SEGS_PER_INDIRECT_PAGE);
/*
 * Bounce memory of one ring.  Every request slot can hold the largest
 * request, so a large indirect maximum means fewer requests in flight; the
 * memory is only touched as far as requests actually reach.
 */
#define XEN_BLOCK_BOUNCE_BUDGET (64 * MiB)
/*
 * Segments copied in one grant copy: of the writes taken in one pass over
 * the ring, or of the reads completed around the same time.
 */
#define XEN_BLOCK_COPY_BATCH 128

typedef struct XenBlockQueue XenBlockQueue;
typedef struct XenBlockGrantCache XenBlockGrantCache;

typedef struct XenBlockRequest {
    XenBlockQueue *queue;
    QSLIST_ENTRY(XenBlockRequest) free_link;
    /* On the queue's taken list, then on its reads list. */
    QSIMPLEQ_ENTRY(XenBlockRequest) link;

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
    /* The data to write is in the bounce buffer already. */
    bool copied;

    /* The slot's preallocated arrays and bounce buffer. */
    XenBlkSeg *segs;
    XenDeviceGrantCopySegment *copy;
    uint8_t *buf;

    QEMUIOVector qiov;
    BlockAcctCookie acct;
} XenBlockRequest;

/*
 * One ring with its event channel and request slots, served in one
 * AioContext; only that context touches it while the dataplane runs.
 */
struct XenBlockQueue {
    XenBlockDataPlane *dataplane;
    unsigned int index;
    AioContext *ctx;
    QEMUBH *bh;

    XenEventChannel *event_channel;
    blkif_sring_t *sring;
    uint32_t ring_ref[XEN_BLOCK_MAX_RING_PAGES];
    unsigned int nr_ring_ref;
    /* Indexes; entries are dp->entry_size apart whatever the ABI. */
    blkif_back_ring_t ring;
    /* Persistent grants negotiated: the pages mapped so far. */
    XenBlockGrantCache *grants;
    /* The frontend overran the ring: it is no longer read. */
    bool halted;
    /* Set by the stop path in ctx: no request slot is in use. */
    bool idle;
    /* A barrier taken off the ring: nothing more is taken until it ends. */
    XenBlockRequest *barrier;
    bool barrier_submitted;
    /* Request slots off the free list. */
    unsigned int nr_busy;
    /* In xen_block_handle_requests(), which pushes responses at its end. */
    bool in_handler;
    /*
     * Requests taken off the ring in this pass, in ring order, submitted
     * together once the data of their writes is in (taken_segs segments
     * of it, copied with one grant copy).
     */
    QSIMPLEQ_HEAD(, XenBlockRequest) taken;
    unsigned int taken_segs;
    /* Completed reads whose data the bottom half copies to the guest. */
    QSIMPLEQ_HEAD(, XenBlockRequest) reads;
    XenDeviceGrantCopySegment copy_batch[XEN_BLOCK_COPY_BATCH];

    unsigned int nr_requests;
    XenBlockRequest *requests;
    XenBlkSeg *segs;
    XenDeviceGrantCopySegment *copy;
    uint8_t *bounce;
    QSLIST_HEAD(, XenBlockRequest) free_requests;
};

struct XenBlockDataPlane {
    XenDevice *xendev;
    BlockBackend *blk;
    /* What serves each queue the device offers; queue 0's holds the drive. */
    unsigned int max_queues;
    IOThread *iothreads[XEN_BLOCK_MAX_QUEUES];
    AioContext *queue_ctx[XEN_BLOCK_MAX_QUEUES];

    bool started;
    XenBlockDataPlaneConf conf;
    size_t entry_size;
    bool abi64;
    /* Segments a request slot holds. */
    unsigned int max_segs;
    /* Stopping (set from the main loop): finish what is in flight. */
    bool stopping;
    /* The drive is drained (set from the main loop): take nothing new. */
    bool drained;
    unsigned int nr_queues;
    XenBlockQueue *queues;
};

/* xen-block-ring.c */
/* Answer @req with @status; its slot is free again. */
void xen_block_request_complete(XenBlockRequest *req, int16_t status);
/* Answer a read whose data is in its bounce buffer, once it is copied. */
void xen_block_request_complete_read(XenBlockRequest *req);
/* One pass over the ring; returns whether any request was taken. */
bool xen_block_handle_requests(XenBlockQueue *q);
/*
 * Map @rc's ring, pick up at the frontend's indexes, allocate the request
 * slots and the bottom half.  @q's dataplane, index and ctx are set.
 */
bool xen_block_queue_init(XenBlockQueue *q, const XenBlockRingConf *rc,
                          Error **errp);
/* Bind @port for @q, detached: no context handles it yet. */
bool xen_block_queue_bind(XenBlockQueue *q, unsigned int port, Error **errp);
/* Undo what init and bind did; nothing of @q may be in flight. */
void xen_block_queue_cleanup(XenBlockQueue *q);

/* xen-block-grants.c */
XenBlockGrantCache *xen_block_grant_cache_new(XenDevice *xendev,
                                              unsigned int max);
/*
 * The page granted as @ref, mapped read-write (on first use); NULL when it
 * cannot be mapped so, or the cache is full of grants in use.
 */
uint8_t *xen_block_grant_cache_get(XenBlockGrantCache *cache, uint32_t ref);
/* Unmaps every page. */
void xen_block_grant_cache_free(XenBlockGrantCache *cache);

/* xen-block-request.c */
/* Decode and check the private copy; OKAY means "submit it". */
int16_t xen_block_parse(XenBlockRequest *req, const XenBlkReqCopy *copy);
void xen_block_submit(XenBlockRequest *req);
/* Grant copy of the data: to the guest for reads, from it otherwise. */
bool xen_block_request_copy_data(XenBlockRequest *req);
/* Whether @req writes data that a batch of the taken requests copies in. */
bool xen_block_request_batches_write(XenBlockRequest *req);

#endif /* HW_BLOCK_DATAPLANE_XEN_BLOCK_INTERNAL_H */
