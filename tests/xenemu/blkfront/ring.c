/*
 * Ring ABI encoding and the front half of the shared ring protocol.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <string.h>

#include "blkfront-int.h"

const char *blkabi_proto_name(BlkProto p)
{
    switch (p) {
    case BLK_PROTO_X86_32:
        return XEN_IO_PROTO_ABI_X86_32;
    case BLK_PROTO_X86_64:
        return XEN_IO_PROTO_ABI_X86_64;
    default:
        return XEN_IO_PROTO_ABI_NATIVE;
    }
}

int blkabi_proto_parse(const char *s, BlkProto *p)
{
    if (!strcmp(s, "native")) {
        *p = BLK_PROTO_NATIVE;
    } else if (!strcmp(s, "x86_32") || !strcmp(s, XEN_IO_PROTO_ABI_X86_32)) {
        *p = BLK_PROTO_X86_32;
    } else if (!strcmp(s, "x86_64") || !strcmp(s, XEN_IO_PROTO_ABI_X86_64)) {
        *p = BLK_PROTO_X86_64;
    } else {
        return -EINVAL;
    }
    return 0;
}

size_t blkabi_entry_size(BlkProto p)
{
    switch (p) {
    case BLK_PROTO_X86_32:
        return sizeof(struct blkabi_x86_32_request);
    case BLK_PROTO_X86_64:
        return sizeof(struct blkabi_x86_64_request);
    default:
        return sizeof(union blkif_sring_entry);
    }
}

unsigned int blkabi_ring_entries(BlkProto p, unsigned int order)
{
    size_t n = ((size_t)BLKABI_PAGE_SIZE << order) -
               sizeof(struct blkabi_sring_hdr);
    unsigned int ents = n / blkabi_entry_size(p);
    unsigned int pow2 = 1;

    while (pow2 * 2 <= ents) {
        pow2 *= 2;
    }
    return pow2;
}

/*
 * The three layouts carry the same fields at different offsets; one
 * macro body per layout family keeps the field lists in a single place.
 */
#define ENCODE_RW(T, slot, r) do {                                        \
    T q;                                                                  \
    memset(&q, 0, sizeof(q));                                             \
    q.operation = (r)->operation;                                         \
    q.nr_segments = (uint8_t)(r)->nr_segments;                            \
    q.handle = (r)->handle;                                               \
    q.id = (r)->id;                                                       \
    q.sector_number = (r)->sector_number;                                 \
    for (unsigned int i_ = 0; i_ < BLKIF_MAX_SEGMENTS_PER_REQUEST; i_++) { \
        q.seg[i_].gref = (r)->seg[i_].gref;                               \
        q.seg[i_].first_sect = (r)->seg[i_].first_sect;                   \
        q.seg[i_].last_sect = (r)->seg[i_].last_sect;                     \
    }                                                                     \
    memcpy((slot), &q, sizeof(q));                                        \
} while (0)

#define ENCODE_DISCARD(T, slot, r) do {                                   \
    T q;                                                                  \
    memset(&q, 0, sizeof(q));                                             \
    q.operation = (r)->operation;                                         \
    q.flag = (r)->discard_flag;                                           \
    q.handle = (r)->handle;                                               \
    q.id = (r)->id;                                                       \
    q.sector_number = (r)->sector_number;                                 \
    q.nr_sectors = (r)->nr_sectors;                                       \
    memcpy((slot), &q, sizeof(q));                                        \
} while (0)

#define ENCODE_INDIRECT(T, slot, r) do {                                  \
    T q;                                                                  \
    memset(&q, 0, sizeof(q));                                             \
    q.operation = (r)->operation;                                         \
    q.indirect_op = (r)->indirect_op;                                     \
    q.nr_segments = (r)->nr_segments;                                     \
    q.handle = (r)->handle;                                               \
    q.id = (r)->id;                                                       \
    q.sector_number = (r)->sector_number;                                 \
    memcpy(q.indirect_grefs, (r)->indirect_grefs,                         \
           sizeof(q.indirect_grefs));                                     \
    memcpy((slot), &q, sizeof(q));                                        \
} while (0)

/* The same fields on zeroed padding compare equal only if the padding was
 * zero on the wire too. */
#define DECODE_RSP(T, slot, r) do {                                       \
    T q, z;                                                               \
    memcpy(&q, (slot), sizeof(q));                                        \
    memset(&z, 0, sizeof(z));                                             \
    z.id = (r)->id = q.id;                                                \
    z.operation = (r)->operation = q.operation;                           \
    z.status = (r)->status = q.status;                                    \
    (r)->padding_zero = !memcmp(&z, &q, sizeof(q));                       \
} while (0)

#define DECODE_RW(T, slot, r) do {                                        \
    T q;                                                                  \
    memcpy(&q, (slot), sizeof(q));                                        \
    (r)->nr_segments = q.nr_segments;                                     \
    (r)->handle = q.handle;                                               \
    (r)->id = q.id;                                                       \
    (r)->sector_number = q.sector_number;                                 \
    for (unsigned int i_ = 0; i_ < BLKIF_MAX_SEGMENTS_PER_REQUEST; i_++) { \
        (r)->seg[i_].gref = q.seg[i_].gref;                               \
        (r)->seg[i_].first_sect = q.seg[i_].first_sect;                   \
        (r)->seg[i_].last_sect = q.seg[i_].last_sect;                     \
    }                                                                     \
} while (0)

#define DECODE_DISCARD(T, slot, r) do {                                   \
    T q;                                                                  \
    memcpy(&q, (slot), sizeof(q));                                        \
    (r)->discard_flag = q.flag;                                           \
    (r)->handle = q.handle;                                               \
    (r)->id = q.id;                                                       \
    (r)->sector_number = q.sector_number;                                 \
    (r)->nr_sectors = q.nr_sectors;                                       \
} while (0)

#define DECODE_INDIRECT(T, slot, r) do {                                  \
    T q;                                                                  \
    memcpy(&q, (slot), sizeof(q));                                        \
    (r)->indirect_op = q.indirect_op;                                     \
    (r)->nr_segments = q.nr_segments;                                     \
    (r)->handle = q.handle;                                               \
    (r)->id = q.id;                                                       \
    (r)->sector_number = q.sector_number;                                 \
    memcpy((r)->indirect_grefs, q.indirect_grefs,                         \
           sizeof((r)->indirect_grefs));                                  \
} while (0)

#define ENCODE_RSP(T, slot, r) do {                                       \
    T q;                                                                  \
    memset(&q, 0, sizeof(q));                                             \
    q.id = (r)->id;                                                       \
    q.operation = (r)->operation;                                         \
    q.status = (r)->status;                                               \
    memcpy((slot), &q, sizeof(q));                                        \
} while (0)

void blkabi_encode_req(BlkProto p, void *slot, const BlkWireReq *r)
{
    /* Zero the whole slot first: a shorter layout must not leave stale
     * bytes of an earlier request behind. */
    memset(slot, 0, blkabi_entry_size(p));

    switch (p) {
    case BLK_PROTO_X86_32:
        if (r->operation == BLKIF_OP_DISCARD) {
            ENCODE_DISCARD(struct blkabi_x86_32_discard, slot, r);
        } else if (r->operation == BLKIF_OP_INDIRECT) {
            ENCODE_INDIRECT(struct blkabi_x86_32_indirect, slot, r);
        } else {
            ENCODE_RW(struct blkabi_x86_32_request, slot, r);
        }
        break;
    case BLK_PROTO_X86_64:
        if (r->operation == BLKIF_OP_DISCARD) {
            ENCODE_DISCARD(struct blkabi_x86_64_discard, slot, r);
        } else if (r->operation == BLKIF_OP_INDIRECT) {
            ENCODE_INDIRECT(struct blkabi_x86_64_indirect, slot, r);
        } else {
            ENCODE_RW(struct blkabi_x86_64_request, slot, r);
        }
        break;
    default:
        if (r->operation == BLKIF_OP_DISCARD) {
            ENCODE_DISCARD(struct blkif_request_discard, slot, r);
        } else if (r->operation == BLKIF_OP_INDIRECT) {
            ENCODE_INDIRECT(struct blkif_request_indirect, slot, r);
        } else {
            ENCODE_RW(struct blkif_request, slot, r);
        }
        break;
    }
}

void blkabi_decode_rsp(BlkProto p, const void *slot, BlkWireRsp *r)
{
    switch (p) {
    case BLK_PROTO_X86_32:
        DECODE_RSP(struct blkabi_x86_32_response, slot, r);
        break;
    case BLK_PROTO_X86_64:
        DECODE_RSP(struct blkabi_x86_64_response, slot, r);
        break;
    default:
        DECODE_RSP(struct blkif_response, slot, r);
        break;
    }
}

/*
 * Front ring.  The backend is another process sharing these pages, so the
 * ring.h barriers become C11 fences and the shared indexes are accessed
 * atomically (the compiler must neither cache nor tear them).
 */

void blkring_init(BlkRing *r, void *pages, BlkProto p, unsigned int order)
{
    r->sring = pages;
    r->entries = (uint8_t *)pages + sizeof(struct blkabi_sring_hdr);
    r->entry_size = blkabi_entry_size(p);
    r->nr_ents = blkabi_ring_entries(p, order);
    r->proto = p;
    r->req_prod_pvt = 0;
    r->rsp_cons = 0;
    /* SHARED_RING_INIT: ask for an event on the first request/response. */
    memset(pages, 0, sizeof(struct blkabi_sring_hdr));
    __atomic_store_n(&r->sring->req_event, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&r->sring->rsp_event, 1, __ATOMIC_RELAXED);
}

unsigned int blkring_free_requests(const BlkRing *r)
{
    return r->nr_ents - (r->req_prod_pvt - r->rsp_cons);
}

void *blkring_entry(BlkRing *r, uint32_t idx)
{
    return r->entries + (size_t)(idx & (r->nr_ents - 1)) * r->entry_size;
}

void blkring_put_request(BlkRing *r, const BlkWireReq *req)
{
    blkabi_encode_req(r->proto, blkring_entry(r, r->req_prod_pvt), req);
    r->req_prod_pvt++;
}

bool blkring_push_requests(BlkRing *r)
{
    uint32_t old = __atomic_load_n(&r->sring->req_prod, __ATOMIC_RELAXED);
    uint32_t new = r->req_prod_pvt;

    /* RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: requests before the index, the
     * index before reading req_event. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&r->sring->req_prod, new, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return (uint32_t)(new -
                      __atomic_load_n(&r->sring->req_event, __ATOMIC_RELAXED))
           < (uint32_t)(new - old);
}

int blkring_peek_responses(BlkRing *r, uint32_t *prod)
{
    uint32_t p = __atomic_load_n(&r->sring->rsp_prod, __ATOMIC_RELAXED);

    /* Responses are read only after the index that covers them. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    /* A backend may only answer requests we published. */
    if ((uint32_t)(p - r->rsp_cons) > (uint32_t)(r->req_prod_pvt - r->rsp_cons)) {
        return -EPROTO;
    }
    *prod = p;
    return p != r->rsp_cons;
}

void blkring_get_response(BlkRing *r, BlkWireRsp *rsp)
{
    blkabi_decode_rsp(r->proto, blkring_entry(r, r->rsp_cons), rsp);
    r->rsp_cons++;
}

bool blkring_final_check(BlkRing *r)
{
    uint32_t prod;

    /* RING_FINAL_CHECK_FOR_RESPONSES: re-arm rsp_event, then look again so
     * a response published in between is not missed. */
    if (__atomic_load_n(&r->sring->rsp_prod, __ATOMIC_ACQUIRE) != r->rsp_cons) {
        return true;
    }
    __atomic_store_n(&r->sring->rsp_event, r->rsp_cons + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    prod = __atomic_load_n(&r->sring->rsp_prod, __ATOMIC_ACQUIRE);
    return prod != r->rsp_cons;
}

/* The backend's side, for the test backend. */
void blkabi_decode_req(BlkProto p, const void *slot, BlkWireReq *r)
{
    memset(r, 0, sizeof(*r));
    r->operation = *(const uint8_t *)slot;
    switch (p) {
    case BLK_PROTO_X86_32:
        if (r->operation == BLKIF_OP_DISCARD) {
            DECODE_DISCARD(struct blkabi_x86_32_discard, slot, r);
        } else if (r->operation == BLKIF_OP_INDIRECT) {
            DECODE_INDIRECT(struct blkabi_x86_32_indirect, slot, r);
        } else {
            DECODE_RW(struct blkabi_x86_32_request, slot, r);
        }
        break;
    case BLK_PROTO_X86_64:
        if (r->operation == BLKIF_OP_DISCARD) {
            DECODE_DISCARD(struct blkabi_x86_64_discard, slot, r);
        } else if (r->operation == BLKIF_OP_INDIRECT) {
            DECODE_INDIRECT(struct blkabi_x86_64_indirect, slot, r);
        } else {
            DECODE_RW(struct blkabi_x86_64_request, slot, r);
        }
        break;
    default:
        if (r->operation == BLKIF_OP_DISCARD) {
            DECODE_DISCARD(struct blkif_request_discard, slot, r);
        } else if (r->operation == BLKIF_OP_INDIRECT) {
            DECODE_INDIRECT(struct blkif_request_indirect, slot, r);
        } else {
            DECODE_RW(struct blkif_request, slot, r);
        }
        break;
    }
}

void blkabi_encode_rsp(BlkProto p, void *slot, const BlkWireRsp *r)
{
    switch (p) {
    case BLK_PROTO_X86_32:
        ENCODE_RSP(struct blkabi_x86_32_response, slot, r);
        break;
    case BLK_PROTO_X86_64:
        ENCODE_RSP(struct blkabi_x86_64_response, slot, r);
        break;
    default:
        ENCODE_RSP(struct blkif_response, slot, r);
        break;
    }
}
