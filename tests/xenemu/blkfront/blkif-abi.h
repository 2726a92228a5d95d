/*
 * Wire layouts of the Xen PV block ring (io/blkif.h, io/ring.h).
 *
 * A backend serves frontends of any guest ABI, so a frontend that wants to
 * exercise all of them must be able to produce each layout regardless of the
 * host it runs on.  "native" is whatever the system's io/blkif.h describes
 * for this compiler; x86_32 and x86_64 are spelled out here with explicit
 * padding, and their sizes and offsets are pinned by static assertions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef BLKIF_ABI_H
#define BLKIF_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

/* Segment descriptor: identical in every ABI (also used in indirect pages). */
struct blkabi_segment {
    uint32_t gref;
    uint8_t first_sect;
    uint8_t last_sect;
    uint16_t pad;
};
_Static_assert(sizeof(struct blkabi_segment) == 8, "segment size");
_Static_assert(sizeof(struct blkabi_segment) ==
               sizeof(struct blkif_request_segment), "segment vs blkif.h");

/* Segment descriptors per indirect page. */
#define BLKABI_PAGE_SIZE 4096
#define BLKABI_SEGS_PER_INDIRECT_PAGE \
    (BLKABI_PAGE_SIZE / sizeof(struct blkabi_segment))

/*
 * x86_32: 64-bit members are only 4-byte aligned on i386, so `id` follows
 * `handle` without padding.
 */
struct blkabi_x86_32_request {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    struct blkabi_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((packed, aligned(4)));

struct blkabi_x86_32_discard {
    uint8_t operation;
    uint8_t flag;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
} __attribute__((packed, aligned(4)));

struct blkabi_x86_32_indirect {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint16_t pad1;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint64_t pad2;               /* blkif.h pads i386 to 64 bytes */
} __attribute__((packed, aligned(4)));

struct blkabi_x86_32_response {
    uint64_t id;
    uint8_t operation;
    uint8_t pad;
    int16_t status;
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct blkabi_x86_32_request) == 108, "x86_32 req");
_Static_assert(offsetof(struct blkabi_x86_32_request, id) == 4, "x86_32 id");
_Static_assert(offsetof(struct blkabi_x86_32_request, seg) == 20, "x86_32 seg");
_Static_assert(sizeof(struct blkabi_x86_32_discard) == 28, "x86_32 discard");
_Static_assert(sizeof(struct blkabi_x86_32_indirect) == 64, "x86_32 indirect");
_Static_assert(offsetof(struct blkabi_x86_32_indirect, indirect_grefs) == 24,
               "x86_32 indirect grefs");
_Static_assert(sizeof(struct blkabi_x86_32_response) == 12, "x86_32 rsp");

/* x86_64: natural alignment, padding written out. */
struct blkabi_x86_64_request {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    struct blkabi_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((aligned(8)));

struct blkabi_x86_64_discard {
    uint8_t operation;
    uint8_t flag;
    uint16_t handle;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
} __attribute__((aligned(8)));

struct blkabi_x86_64_indirect {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    uint32_t pad1;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint16_t pad2;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint32_t pad3;
} __attribute__((aligned(8)));

struct blkabi_x86_64_response {
    uint64_t id;
    uint8_t operation;
    uint8_t pad1;
    int16_t status;
    uint32_t pad2;
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct blkabi_x86_64_request) == 112, "x86_64 req");
_Static_assert(offsetof(struct blkabi_x86_64_request, id) == 8, "x86_64 id");
_Static_assert(offsetof(struct blkabi_x86_64_request, seg) == 24, "x86_64 seg");
_Static_assert(sizeof(struct blkabi_x86_64_discard) == 32, "x86_64 discard");
_Static_assert(sizeof(struct blkabi_x86_64_indirect) == 64, "x86_64 indirect");
_Static_assert(offsetof(struct blkabi_x86_64_indirect, indirect_grefs) == 28,
               "x86_64 indirect grefs");
_Static_assert(sizeof(struct blkabi_x86_64_response) == 16, "x86_64 rsp");

/* Native: the system header's own structs. */
_Static_assert(sizeof(struct blkif_request_discard) <=
               sizeof(struct blkif_request), "native discard fits");
_Static_assert(sizeof(struct blkif_request_indirect) <=
               sizeof(struct blkif_request), "native indirect fits");

/* Shared ring page header (the fixed part of DEFINE_RING_TYPES' sring). */
struct blkabi_sring_hdr {
    uint32_t req_prod;
    uint32_t req_event;
    uint32_t rsp_prod;
    uint32_t rsp_event;
    uint8_t pvt[4];
    uint8_t pad[44];
};
_Static_assert(sizeof(struct blkabi_sring_hdr) == 64, "sring header");
_Static_assert(offsetof(blkif_sring_t, ring) == 64, "native sring header");

typedef enum BlkProto {
    BLK_PROTO_NATIVE,
    BLK_PROTO_X86_32,
    BLK_PROTO_X86_64,
} BlkProto;

/*
 * A request in host form.  Encoding writes every field the layout has (the
 * rest of the slot is zeroed), so hostile tests can put any value on the
 * wire: nr_segments is taken as is, only the first
 * BLKIF_MAX_SEGMENTS_PER_REQUEST entries of seg[] exist in the slot.
 */
typedef struct BlkWireReq {
    uint8_t operation;
    uint8_t indirect_op;         /* BLKIF_OP_INDIRECT */
    uint8_t discard_flag;        /* BLKIF_OP_DISCARD */
    uint16_t nr_segments;        /* u8 on the wire except for INDIRECT */
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;         /* BLKIF_OP_DISCARD */
    struct blkabi_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
} BlkWireReq;

typedef struct BlkWireRsp {
    uint64_t id;
    uint8_t operation;
    int16_t status;
    bool padding_zero;           /* decoded: every padding byte was 0 */
} BlkWireRsp;

const char *blkabi_proto_name(BlkProto p);      /* xenstore `protocol` value */
int blkabi_proto_parse(const char *s, BlkProto *p);
/* Size of one ring slot (union of request and response) in this ABI. */
size_t blkabi_entry_size(BlkProto p);
/* Entries of a 2^order page ring: power of two, as __CONST_RING_SIZE. */
unsigned int blkabi_ring_entries(BlkProto p, unsigned int order);
void blkabi_encode_req(BlkProto p, void *slot, const BlkWireReq *r);
void blkabi_decode_rsp(BlkProto p, const void *slot, BlkWireRsp *r);
/* The other direction, for a backend. */
void blkabi_decode_req(BlkProto p, const void *slot, BlkWireReq *r);
void blkabi_encode_rsp(BlkProto p, void *slot, const BlkWireRsp *r);

#endif /* BLKIF_ABI_H */
