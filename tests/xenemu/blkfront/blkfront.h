/*
 * Userspace Xen PV block frontend (blkfront) on the xenemu guest API.
 *
 * One Blkfront is one connection of guest domain N to one virtual block
 * device: blkfront_connect() runs the xenbus handshake and leaves the
 * device Connected, blkfront_disconnect() runs the Closing/Closed handshake
 * and revokes every grant.  I/O goes through request slots: a slot owns a
 * request id and granted data pages; queue a request in it, kick the
 * queue, then poll for completions.  blkfront_transfer() does all that for
 * data in the caller's buffers, copying it through the slots' pages.
 *
 * Functions returning int return >= 0 on success and -errno on failure,
 * after printing the reason on stderr.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef BLKFRONT_H
#define BLKFRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "blkif-abi.h"
#include "xenemu-guest.h"

#define BLKFRONT_MAX_RING_ORDER 4      /* 16 pages: what we can grant */
#define BLKFRONT_MAX_QUEUES 16
#define BLKFRONT_MAX_INDIRECT_SEGS \
    (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKABI_SEGS_PER_INDIRECT_PAGE)

typedef struct Blkfront Blkfront;
typedef struct BlkSlot BlkSlot;

typedef struct BlkfrontConfig {
    uint32_t devid;              /* VBD number; 0: the first device found */
    unsigned int ring_order;     /* capped by the backend's offer */
    BlkProto proto;
    bool write_protocol;         /* false: omit `protocol`, keep the layout */
    unsigned int queues;         /* capped by multi-queue-max-queues */
    unsigned int indirect_segs;  /* 0: no indirect; capped by the backend */
    int timeout_ms;              /* every wait on the backend */
    /*
     * Write feature-large-sector-size=1: the Xen 4.17 convention where
     * `sectors` and request sector fields count in sector-size units, which
     * QEMU 7.2 demands for sector sizes above 512.  Off: the reconciled
     * blkif.h, everything in 512-byte units.
     */
    bool large_sectors;
    /*
     * Negotiate as Unikraft's blkfront does: multi-queue-max-queues is
     * required before the handshake, multi-queue-num-queues is always
     * written, no protocol key, one-page rings, no indirect requests, no
     * Initialised state and no wait for InitWait; mode, sectors,
     * sector-size, feature-flush-cache and feature-barrier are required
     * once Connected; closing ends back in InitWait.
     */
    bool unikraft;
    /*
     * Offer persistent grants (feature-persistent=1).  Every slot keeps
     * the pages it granted at setup, so a backend that maps them once can
     * keep them until the close.
     */
    bool persistent;
    bool quiet;                  /* no progress messages */
    /*
     * Hostile tests: called inside the transaction that publishes the
     * rings, after our keys are written, to overwrite any of them.
     */
    int (*tamper)(Blkfront *bf, XenemuTx tx, void *opaque);
    void *tamper_opaque;
} BlkfrontConfig;

/* What the backend offers, as read from its xenstore area. */
typedef struct BlkFeatures {
    bool flush;
    bool barrier;
    bool discard;
    bool discard_secure;
    uint32_t discard_granularity;
    uint32_t discard_alignment;
    bool persistent;
    uint32_t max_indirect_segs;
    uint32_t max_ring_order;
    uint32_t max_queues;
    uint64_t sectors;            /* as published: see large_sectors */
    uint32_t sector_size;
    uint32_t physical_sector_size;
    uint32_t info;               /* VDISK_* */
} BlkFeatures;

/* Called for each completed request; the slot is released afterwards. */
typedef void BlkDoneFn(Blkfront *bf, BlkSlot *slot, const BlkWireRsp *rsp,
                       void *opaque);

void blkfront_config_init(BlkfrontConfig *cfg);

/*
 * Bring the device to Connected.  Leaves the guest handle to the caller.
 * A refused connection is -ECONNREFUSED (backend went Closing/Closed) or
 * -ETIMEDOUT; either way it is closed again and its grants revoked, and
 * -EBUSY reports a backend that kept some of them mapped.
 */
int blkfront_connect(XenemuGuest *g, const BlkfrontConfig *cfg,
                     Blkfront **out);
/* Close handshake, then revoke and free everything; frees @bf. */
int blkfront_disconnect(Blkfront *bf);

const BlkFeatures *blkfront_features(const Blkfront *bf);
uint32_t blkfront_devid(const Blkfront *bf);
uint32_t blkfront_backend_id(const Blkfront *bf);
const char *blkfront_backend_path(const Blkfront *bf);
const char *blkfront_frontend_path(const Blkfront *bf);
BlkProto blkfront_proto(const Blkfront *bf);
unsigned int blkfront_ring_order(const Blkfront *bf);
unsigned int blkfront_ring_entries(const Blkfront *bf);
unsigned int blkfront_nr_queues(const Blkfront *bf);
/* Segments per request: 11, or the negotiated indirect segment count. */
unsigned int blkfront_max_segs(const Blkfront *bf);
/* Disk size in bytes. */
uint64_t blkfront_size(const Blkfront *bf);
/* Bytes per sector in request fields (512 unless large_sectors). */
unsigned int blkfront_sector_unit(const Blkfront *bf);
XenemuGuest *blkfront_guest(const Blkfront *bf);
/* Backend state as read now (-errno when unreadable). */
int blkfront_backend_state(Blkfront *bf);

/* Request slots. */
/* NULL with errno EBUSY when the queue is full, ENOMEM when out of pages. */
BlkSlot *blkfront_slot_get(Blkfront *bf, unsigned int queue);
unsigned int blkfront_slot_capacity(const Blkfront *bf);   /* bytes */
void *blkfront_slot_opaque(BlkSlot *s);
/*
 * Queue a READ/WRITE (direct, or INDIRECT when it needs more than 11
 * segments) or a WRITE_BARRIER (direct only) of @len bytes at byte @offset
 * of the disk, carried from page offset @page_off of the slot's pages.
 */
int blkfront_slot_queue_rw(BlkSlot *s, uint8_t op, uint64_t offset,
                           unsigned int page_off, unsigned int len,
                           void *opaque);
/* Queue FLUSH_DISKCACHE or WRITE_BARRIER (barrier with no data). */
int blkfront_slot_queue_flush(BlkSlot *s, uint8_t op, void *opaque);
int blkfront_slot_queue_discard(BlkSlot *s, uint64_t offset, uint64_t len,
                                bool secure, void *opaque);
/*
 * Queue an arbitrary request (hostile tests).  The id is the slot's;
 * @r->seg[].gref may use blkfront_slot_gref() for real data pages.
 */
int blkfront_slot_queue_raw(BlkSlot *s, BlkWireReq *r, void *opaque);
uint32_t blkfront_slot_gref(BlkSlot *s, unsigned int page);
/* The slot's data pages, blkfront_slot_capacity() bytes. */
uint8_t *blkfront_slot_data(BlkSlot *s);
/*
 * The slot's indirect pages (NULL without indirect requests), where
 * blkfront_slot_queue_raw() takes an INDIRECT request's segment
 * descriptors from, and their grant references (0 past the last).
 */
struct blkabi_segment *blkfront_slot_indirect(BlkSlot *s);
uint32_t blkfront_slot_indirect_gref(BlkSlot *s, unsigned int page);
/* Drop a slot that was got but not queued. */
void blkfront_slot_put(BlkSlot *s);

/* Publish queued requests; notifies the backend only when it asks to. */
int blkfront_kick(Blkfront *bf, unsigned int queue);
/*
 * Reap responses of every queue; waits up to @timeout_ms for the first one
 * when none is ready.  Returns the number reaped, -ETIMEDOUT, or -EPROTO
 * when the backend returned a response that matches no request.
 */
int blkfront_poll(Blkfront *bf, int timeout_ms, BlkDoneFn *done,
                  void *opaque);
unsigned int blkfront_inflight(const Blkfront *bf);

/*
 * Raw ring access for hostile tests: write entry @idx (modulo the ring
 * size) behind the request engine's back, set the shared req_prod and
 * notify.
 */
void blkfront_ring_write_entry(Blkfront *bf, unsigned int queue,
                               uint32_t idx, const BlkWireReq *r);
void blkfront_ring_force_prod(Blkfront *bf, unsigned int queue,
                              uint32_t req_prod);
uint32_t blkfront_ring_rsp_prod(Blkfront *bf, unsigned int queue);
/* Entry @idx read as a response, whether or not it was pushed. */
void blkfront_ring_read_response(Blkfront *bf, unsigned int queue,
                                 uint32_t idx, BlkWireRsp *rsp);

/* Synchronous transfers split into requests, up to @qd in flight. */
typedef struct BlkXfer {
    uint8_t op;                  /* READ, WRITE, FLUSH_DISKCACHE, ... */
    uint64_t offset;             /* bytes */
    uint64_t len;                /* bytes */
    uint8_t *buf;                /* READ/WRITE data */
    unsigned int page_off;       /* data placement in the first page */
    int status;                  /* first non-OKAY response status */
} BlkXfer;
int blkfront_transfer(Blkfront *bf, BlkXfer *x, unsigned int n,
                      unsigned int qd);

/* Deterministic test data: a function of (seed, absolute byte offset). */
void blk_pattern_fill(uint8_t *buf, uint64_t offset, uint64_t len,
                      uint64_t seed);
/* Offset of the first mismatch, or -1. */
int64_t blk_pattern_check(const uint8_t *buf, uint64_t offset, uint64_t len,
                          uint64_t seed);

/* vdev name (xvda, xvdb3, d1p2) to VBD number; -EINVAL when malformed. */
int blk_vdev_to_devid(const char *vdev, uint32_t *devid);

void blk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t blk_now_ns(void);

#endif /* BLKFRONT_H */
