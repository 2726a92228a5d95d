/*
 * blkfront internals shared by ring.c, xenbus.c and io.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef BLKFRONT_INT_H
#define BLKFRONT_INT_H

#include "blkfront.h"

/* Front half of one shared ring. */
typedef struct BlkRing {
    struct blkabi_sring_hdr *sring;
    uint8_t *entries;
    size_t entry_size;
    unsigned int nr_ents;
    BlkProto proto;
    uint32_t req_prod_pvt;
    uint32_t rsp_cons;
} BlkRing;

void blkring_init(BlkRing *r, void *pages, BlkProto p, unsigned int order);
unsigned int blkring_free_requests(const BlkRing *r);
void *blkring_entry(BlkRing *r, uint32_t idx);
void blkring_put_request(BlkRing *r, const BlkWireReq *req);
/* true: the backend asked to be notified. */
bool blkring_push_requests(BlkRing *r);
/* 1: responses between rsp_cons and *prod; 0: none; -EPROTO: bogus index. */
int blkring_peek_responses(BlkRing *r, uint32_t *prod);
void blkring_get_response(BlkRing *r, BlkWireRsp *rsp);
/* true: more responses arrived while re-arming rsp_event. */
bool blkring_final_check(BlkRing *r);

/*
 * Request ids carry the slot index in the low 16 bits and a generation
 * above, so a duplicated or stale response is recognised rather than
 * completing whatever request reuses the slot.
 */
#define BLK_ID_SLOT_BITS 16

struct BlkSlot {
    struct BlkQueue *q;
    unsigned int index;
    uint32_t gen;
    bool inflight;               /* on the ring */
    uint8_t op;                  /* operation on the wire */
    uint8_t inner_op;            /* READ/WRITE inside INDIRECT */
    void *opaque;
    /* Data pages: allocated on first use, granted as far as used; kept
     * until close. */
    bool ready;
    unsigned int ngrants;
    uint64_t gfn;
    uint8_t *data;
    uint32_t *grefs;
    /* Indirect segment pages, granted read-only. */
    unsigned int nind;
    uint64_t ind_gfn;
    struct blkabi_segment *ind;
    uint32_t ind_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

typedef struct BlkQueue {
    Blkfront *bf;
    unsigned int index;
    BlkRing ring;
    unsigned int npages;
    uint64_t ring_gfn;
    void *ring_mem;
    uint32_t ring_grefs[1u << BLKFRONT_MAX_RING_ORDER];
    unsigned int nr_ring_grefs;
    int port;                    /* -1: none */
    BlkSlot *slots;              /* nr_ents of them */
    unsigned int *free_slots;    /* stack of free slot indexes */
    unsigned int nfree;
    unsigned int inflight;
} BlkQueue;

struct Blkfront {
    XenemuGuest *g;
    BlkfrontConfig cfg;
    uint32_t devid;
    uint32_t backend_id;
    char fe_path[96];
    char be_path[256];
    BlkFeatures feat;
    BlkProto proto;
    unsigned int ring_order;
    unsigned int nr_queues;
    unsigned int indirect_segs; /* 0: direct requests only */
    /* Bytes per sector in `sectors` and every request field: 512, or
     * sector-size under feature-large-sector-size. */
    unsigned int unit;
    unsigned int max_segs;
    BlkQueue *queues;
    unsigned int watch_seq;
};

/* io.c: queue resources. */
int blkq_setup(Blkfront *bf, BlkQueue *q, unsigned int index);
/* Revoke grants and free pages; -EBUSY if the backend still maps any. */
int blkq_teardown(Blkfront *bf, BlkQueue *q);

#endif /* BLKFRONT_INT_H */
