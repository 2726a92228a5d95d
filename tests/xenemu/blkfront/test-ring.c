/*
 * Unit test of the ring ABI encodings and the front ring protocol, with
 * this process playing the backend on a ring in ordinary memory (no
 * hypervisor double needed), plus vdev names and the test pattern.  TAP
 * output.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkfront-int.h"

static unsigned int test_no;
static unsigned int failures;

static void ok(bool cond, const char *name)
{
    test_no++;
    printf("%sok %u - %s\n", cond ? "" : "not ", test_no, name);
    failures += !cond;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
    uint64_t v;

    memcpy(&v, p + off, sizeof(v));
    return v;
}

static uint32_t get32(const uint8_t *p, size_t off)
{
    uint32_t v;

    memcpy(&v, p + off, sizeof(v));
    return v;
}

static uint16_t get16(const uint8_t *p, size_t off)
{
    uint16_t v;

    memcpy(&v, p + off, sizeof(v));
    return v;
}

/* Field offsets per layout, from io/blkif.h under each ABI's alignment. */
typedef struct Layout {
    BlkProto proto;
    const char *name;
    size_t entry, id, sector, seg, discard_nr, ind_handle, ind_grefs;
} Layout;

static const Layout layouts[] = {
    { BLK_PROTO_X86_32, "x86_32", 108, 4, 12, 20, 20, 20, 24 },
    { BLK_PROTO_X86_64, "x86_64", 112, 8, 16, 24, 24, 24, 28 },
};

static void test_layout(const Layout *l)
{
    uint8_t slot[128];
    BlkWireReq r;
    BlkWireRsp rsp;
    char name[96];
    bool good;

    snprintf(name, sizeof(name), "%s entry size %zu", l->name, l->entry);
    ok(blkabi_entry_size(l->proto) == l->entry, name);

    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_WRITE;
    r.nr_segments = 11;
    r.handle = 0xca00;
    r.id = 0x1122334455667788ull;
    r.sector_number = 0x0102030405060708ull;
    for (unsigned int i = 0; i < 11; i++) {
        r.seg[i] = (struct blkabi_segment) { .gref = 100 + i,
                                             .first_sect = i % 8,
                                             .last_sect = 7 };
    }
    memset(slot, 0xee, sizeof(slot));
    blkabi_encode_req(l->proto, slot, &r);
    good = slot[0] == 1 && slot[1] == 11 && get16(slot, 2) == 0xca00 &&
           get64(slot, l->id) == r.id &&
           get64(slot, l->sector) == r.sector_number &&
           get32(slot, l->seg + 10 * 8) == 110 &&
           slot[l->seg + 10 * 8 + 4] == 2 && slot[l->seg + 10 * 8 + 5] == 7 &&
           slot[l->entry] == 0xee;
    snprintf(name, sizeof(name), "%s read/write request layout", l->name);
    ok(good, name);

    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_DISCARD;
    r.discard_flag = BLKIF_DISCARD_SECURE;
    r.id = 7;
    r.sector_number = 9;
    r.nr_sectors = 0xabcdef;
    blkabi_encode_req(l->proto, slot, &r);
    good = slot[0] == 5 && slot[1] == 1 && get64(slot, l->id) == 7 &&
           get64(slot, l->sector) == 9 &&
           get64(slot, l->discard_nr) == 0xabcdef;
    snprintf(name, sizeof(name), "%s discard layout", l->name);
    ok(good, name);

    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_INDIRECT;
    r.indirect_op = BLKIF_OP_READ;
    r.nr_segments = 300;
    r.handle = 51712;
    r.id = 3;
    r.sector_number = 4;
    for (unsigned int i = 0; i < 8; i++) {
        r.indirect_grefs[i] = 1000 + i;
    }
    blkabi_encode_req(l->proto, slot, &r);
    good = slot[0] == 6 && slot[1] == 0 && get16(slot, 2) == 300 &&
           get64(slot, l->id) == 3 && get64(slot, l->sector) == 4 &&
           get16(slot, l->ind_handle) == 51712 &&
           get32(slot, l->ind_grefs) == 1000 &&
           get32(slot, l->ind_grefs + 28) == 1007;
    snprintf(name, sizeof(name), "%s indirect layout", l->name);
    ok(good, name);

    /* Response: id, operation at 8, status at 10 in both layouts. */
    memset(slot, 0, sizeof(slot));
    memcpy(slot, &r.id, 8);
    slot[8] = BLKIF_OP_READ;
    slot[10] = 0xfe;
    slot[11] = 0xff;
    blkabi_decode_rsp(l->proto, slot, &rsp);
    snprintf(name, sizeof(name), "%s response layout", l->name);
    ok(rsp.id == 3 && rsp.operation == 0 && rsp.status == -2 &&
       rsp.padding_zero, name);

    /* Any padding byte that is not zero is seen: 9, and 12..15 in x86_64. */
    good = true;
    for (unsigned int at = 9; at < (l->proto == BLK_PROTO_X86_32 ? 12 : 16);
         at = at == 9 ? 12 : at + 1) {
        slot[at] = 0x80;
        blkabi_decode_rsp(l->proto, slot, &rsp);
        good &= !rsp.padding_zero && rsp.status == -2;
        slot[at] = 0;
    }
    snprintf(name, sizeof(name), "%s response padding checked", l->name);
    ok(good, name);
}

/* What a backend decodes is what the frontend encoded, in every ABI. */
static void test_roundtrip(BlkProto proto, const char *pname)
{
    uint8_t slot[128];
    BlkWireReq in, out;
    BlkWireRsp rsp = { .id = 0xabcdef0123ull, .operation = 6,
                       .status = -1 }, back;
    char name[96];
    bool good = true;

    for (unsigned int op = 0; op <= BLKIF_OP_INDIRECT; op++) {
        memset(&in, 0, sizeof(in));
        in.operation = op;
        in.id = 0x1000 + op;
        in.sector_number = 0xfedcba98ull << op;
        if (op == BLKIF_OP_DISCARD) {
            in.discard_flag = 1;
            in.nr_sectors = 77;
        } else if (op == BLKIF_OP_INDIRECT) {
            in.indirect_op = BLKIF_OP_WRITE;
            in.nr_segments = 1000;
            for (unsigned int i = 0; i < 8; i++) {
                in.indirect_grefs[i] = 50 + i;
            }
        } else {
            in.nr_segments = 11;
            for (unsigned int i = 0; i < 11; i++) {
                in.seg[i] = (struct blkabi_segment) { 9 + i, i % 8, 7 };
            }
        }
        in.handle = 51712;
        blkabi_encode_req(proto, slot, &in);
        blkabi_decode_req(proto, slot, &out);
        good &= !memcmp(&in, &out, sizeof(in));
    }
    blkabi_encode_rsp(proto, slot, &rsp);
    blkabi_decode_rsp(proto, slot, &back);
    good &= back.id == rsp.id && back.operation == 6 && back.status == -1;
    snprintf(name, sizeof(name), "%s: requests and responses round-trip",
             pname);
    ok(good, name);
}

static void test_ring_sizes(void)
{
    static const unsigned int expect[] = { 32, 64, 128, 256, 512 };
    bool good = true;

    for (unsigned int order = 0; order <= 4; order++) {
        good &= blkabi_ring_entries(BLK_PROTO_X86_32, order) == expect[order];
        good &= blkabi_ring_entries(BLK_PROTO_X86_64, order) == expect[order];
        good &= blkabi_ring_entries(BLK_PROTO_NATIVE, order) ==
                __CONST_RING_SIZE(blkif, BLKABI_PAGE_SIZE << order);
    }
    ok(good, "ring entries for orders 0..4 (32..512, as __CONST_RING_SIZE)");
}

/* The backend side of one exchange, as ring.h's macros define it. */
static void backend_respond(BlkRing *r, uint32_t *req_cons, uint32_t *rsp_prod,
                            unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        uint8_t *e = blkring_entry(r, *rsp_prod);
        uint64_t id;

        memcpy(&id, e + (r->proto == BLK_PROTO_X86_32 ? 4 : 8), 8);
        memset(e, 0, r->entry_size);
        memcpy(e, &id, 8);
        (*req_cons)++;
        (*rsp_prod)++;
    }
    r->sring->rsp_prod = *rsp_prod;
}

static void test_protocol(BlkProto proto, const char *pname)
{
    void *page = aligned_alloc(4096, 4096);
    uint32_t req_cons = 0, rsp_prod = 0;
    BlkWireReq req = { .operation = BLKIF_OP_READ, .nr_segments = 1 };
    BlkWireRsp rsp;
    BlkRing r;
    uint32_t prod;
    char name[96];
    bool good;

    blkring_init(&r, page, proto, 0);
    snprintf(name, sizeof(name), "%s: init asks for both events", pname);
    ok(r.sring->req_event == 1 && r.sring->rsp_event == 1 && r.nr_ents == 32,
       name);

    req.id = 41;
    blkring_put_request(&r, &req);
    snprintf(name, sizeof(name), "%s: first push notifies", pname);
    ok(blkring_push_requests(&r) && r.sring->req_prod == 1, name);

    /* Backend took the request but has not re-armed req_event (it is busy):
     * pushing more must not notify. */
    req_cons = 1;
    r.sring->req_event = 1;
    blkring_put_request(&r, &req);
    blkring_put_request(&r, &req);
    snprintf(name, sizeof(name), "%s: no notify while backend busy", pname);
    ok(!blkring_push_requests(&r), name);

    /* Backend re-armed for the next request: notify. */
    r.sring->req_event = 4;
    blkring_put_request(&r, &req);
    snprintf(name, sizeof(name), "%s: notify once req_event re-armed", pname);
    ok(blkring_push_requests(&r), name);

    snprintf(name, sizeof(name), "%s: free requests count", pname);
    ok(blkring_free_requests(&r) == 28, name);

    good = blkring_peek_responses(&r, &prod) == 0 && !blkring_final_check(&r)
           && r.sring->rsp_event == 1;
    snprintf(name, sizeof(name), "%s: final check re-arms rsp_event", pname);
    ok(good, name);

    req_cons = 0;
    backend_respond(&r, &req_cons, &rsp_prod, 3);
    good = blkring_peek_responses(&r, &prod) == 1 && prod == 3;
    blkring_get_response(&r, &rsp);
    good &= rsp.id == 41;
    blkring_get_response(&r, &rsp);
    blkring_get_response(&r, &rsp);
    /* One response is still unconsumed by the ring: the final check sees
     * it after re-arming and asks the caller to loop. */
    backend_respond(&r, &req_cons, &rsp_prod, 1);
    good &= blkring_final_check(&r);
    snprintf(name, sizeof(name), "%s: responses consumed in order", pname);
    ok(good, name);
    blkring_get_response(&r, &rsp);
    good = !blkring_final_check(&r) && r.sring->rsp_event == 5;
    snprintf(name, sizeof(name), "%s: rsp_event = rsp_cons + 1", pname);
    ok(good, name);

    r.sring->rsp_prod = 6;
    snprintf(name, sizeof(name), "%s: rsp_prod beyond requests rejected",
             pname);
    ok(blkring_peek_responses(&r, &prod) == -EPROTO, name);

    /* Index wrap at 2^32. */
    blkring_init(&r, page, proto, 0);
    r.req_prod_pvt = r.rsp_cons = 0xfffffffeu;
    r.sring->req_prod = r.sring->rsp_prod = 0xfffffffeu;
    for (unsigned int i = 0; i < 32; i++) {
        blkring_put_request(&r, &req);
    }
    good = blkring_free_requests(&r) == 0 && r.req_prod_pvt == 30 &&
           blkring_entry(&r, 0xffffffffu) == blkring_entry(&r, 31);
    snprintf(name, sizeof(name), "%s: indexes wrap at 2^32", pname);
    ok(good, name);
    free(page);
}

static void test_vdev(void)
{
    static const struct {
        const char *name;
        int64_t devid;           /* -1: must be rejected */
    } cases[] = {
        { "xvda", 51712 }, { "xvdb2", 202 << 8 | 1 << 4 | 2 },
        { "xvdp15", 202 << 8 | 15 << 4 | 15 },
        { "xvdq", 1 << 28 | 16 << 8 }, { "xvdaa", 1 << 28 | 26 << 8 },
        { "d536p37", 1 << 28 | 536 << 8 | 37 },
        { "xvdtq37", 1 << 28 | 536 << 8 | 37 }, { "d1p2", 51730 },
        { "d0", 51712 }, { "xvd", -1 }, { "xvda0x", -1 }, { "xvdA", -1 },
        { "d01", -1 }, { "d1p", -1 }, { "xvda256", -1 }, { "", -1 },
        { "d1048576", -1 },
    };
    bool good = true;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t devid = 0;
        int ret = blk_vdev_to_devid(cases[i].name, &devid);

        if (cases[i].devid < 0 ? ret == 0 : ret < 0 || devid != cases[i].devid) {
            printf("# vdev %s: ret %d devid %u\n", cases[i].name, ret, devid);
            good = false;
        }
    }
    ok(good, "vdev names to VBD numbers (xen-vbd-interface.7)");
}

static void test_pattern(void)
{
    uint8_t a[8192], b[4096];

    blk_pattern_fill(a, 0, sizeof(a), 42);
    blk_pattern_fill(b, 1536, sizeof(b), 42);
    ok(!memcmp(a + 1536, b, sizeof(b)) &&
       blk_pattern_check(a, 0, sizeof(a), 42) < 0 &&
       blk_pattern_check(a, 0, sizeof(a), 43) == 0,
       "pattern depends on the absolute offset and the seed only");
    a[5000] ^= 1;
    ok(blk_pattern_check(a, 0, sizeof(a), 42) == 5000,
       "pattern check finds the first differing byte");
}

int main(void)
{
    printf("1..%u\n", 2 * 5 + 1 + 3 * 11 + 3);
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        test_layout(&layouts[i]);
    }
    test_ring_sizes();
    test_protocol(BLK_PROTO_NATIVE, "native");
    test_protocol(BLK_PROTO_X86_32, "x86_32");
    test_protocol(BLK_PROTO_X86_64, "x86_64");
    test_roundtrip(BLK_PROTO_NATIVE, "native");
    test_roundtrip(BLK_PROTO_X86_32, "x86_32");
    test_roundtrip(BLK_PROTO_X86_64, "x86_64");
    test_vdev();
    test_pattern();
    return failures ? 1 : 0;
}
