/*
 * Xen block dataplane: the blkif rings of one device, each served from an
 * AioContext
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_DATAPLANE_XEN_BLOCK_H
#define HW_BLOCK_DATAPLANE_XEN_BLOCK_H

#include "hw/xen/xen-bus.h"
#include "system/iothread.h"
#include "hw/xen/interface/io/blkif.h"

typedef struct XenBlockDataPlane XenBlockDataPlane;

/* A ring of up to 2^4 pages holds 512 requests. */
#define XEN_BLOCK_MAX_RING_PAGE_ORDER 4
#define XEN_BLOCK_MAX_RING_PAGES (1u << XEN_BLOCK_MAX_RING_PAGE_ORDER)
/* Queues (rings) of one device, and how many it offers by default. */
#define XEN_BLOCK_MAX_QUEUES 16
#define XEN_BLOCK_AUTO_QUEUES 4
/* Grants a queue keeps mapped with persistent grants, as Linux blkback. */
#define XEN_BLOCK_PERSISTENT_GRANTS 1056
/* Segments of an indirect request: what its indirect pages can hold. */
#define XEN_BLOCK_MAX_INDIRECT_SEGMENTS \
    (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * \
     (XEN_PAGE_SIZE / sizeof(struct blkif_request_segment)))

/*
 * The ring ABI the frontend wrote in its "protocol" key; on an x86 host
 * the native ABI is one of these.
 */
typedef enum XenBlockProtocol {
    XEN_BLOCK_PROTOCOL_X86_32,
    XEN_BLOCK_PROTOCOL_X86_64,
} XenBlockProtocol;

/* What the backend offered the frontend; requests are checked against it. */
typedef struct XenBlockDataPlaneConf {
    /* Logical block size in bytes: a power of two, at least 512. */
    unsigned int sector_size;
    /* Size of the disk in 512-byte sectors. */
    uint64_t nr_sectors;
    bool read_only;
    bool discard;
    bool discard_secure;
    /* 0 when BLKIF_OP_INDIRECT is not offered. */
    unsigned int max_indirect_segments;
    /* Both sides offered feature-persistent. */
    bool persistent_grants;
} XenBlockDataPlaneConf;

/* One ring the frontend granted, with its event channel. */
typedef struct XenBlockRingConf {
    uint32_t ring_ref[XEN_BLOCK_MAX_RING_PAGES];
    /* A power of two, at most XEN_BLOCK_MAX_RING_PAGES. */
    unsigned int nr_ring_ref;
    unsigned int event_channel;
} XenBlockRingConf;

/*
 * Queue i of the @max_queues the device offers is served by @iothreads[i],
 * or by the main loop where that is NULL.
 */
XenBlockDataPlane *xen_block_dataplane_create(XenDevice *xendev,
                                              BlockBackend *blk,
                                              IOThread *const iothreads[],
                                              unsigned int max_queues);
void xen_block_dataplane_destroy(XenBlockDataPlane *dataplane);

/*
 * Map the @nr_rings rings of @rings (one per queue), bind their event
 * channels and start serving each queue's requests in its AioContext.
 */
void xen_block_dataplane_start(XenBlockDataPlane *dataplane,
                               const XenBlockDataPlaneConf *conf,
                               const XenBlockRingConf rings[],
                               unsigned int nr_rings,
                               XenBlockProtocol protocol, Error **errp);
/* Drain in-flight requests, unbind and unmap; safe when not started. */
void xen_block_dataplane_stop(XenBlockDataPlane *dataplane);
/*
 * While the drive is drained, from the main loop: no request is taken off
 * the ring between detach and attach.
 */
void xen_block_dataplane_detach(XenBlockDataPlane *dataplane);
void xen_block_dataplane_attach(XenBlockDataPlane *dataplane);
/* The disk was resized: requests are now checked against @nr_sectors. */
void xen_block_dataplane_resize(XenBlockDataPlane *dataplane,
                                uint64_t nr_sectors);

#endif /* HW_BLOCK_DATAPLANE_XEN_BLOCK_H */
