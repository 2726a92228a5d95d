/*
 * fuzz: a reproducible random mix of valid and malformed requests on one
 * device, with every answer checked against the blkif contract and the
 * disk image.
 *
 * A shadow of the disk, read from the image at the start, follows every
 * write the backend acknowledges.  Requests go in bursts that never let a
 * write overlap anything else in flight, so the outcome does not depend on
 * the order of completion.  After each burst:
 *   - every request got exactly one response, with its id, its operation
 *     and the status this file's contract() gives, and zero padding;
 *   - a read delivered the shadow's bytes, and left every byte of its
 *     pages outside its segments as it was;
 *   - no request changed its pages but a read's segments;
 *   - the image around every write-like request equals the shadow (a
 *     failed write changed nothing, a good one exactly its range);
 *   - the read-only page granted for writes is unchanged.
 * Between bursts, now and then: a frontend key is overwritten while
 * Connected (and restored), the frontend state is flipped (then close and
 * connect again), or req_prod overflows the ring (the ring must halt: then
 * close and connect again).  Every so often, and at the end, the whole
 * image is compared with the shadow.
 *
 * The request stream is a function of the seed and the negotiated features
 * only: a failure prints the command line that replays it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define PAGE 4096u
#define SECTOR 512u
#define MAX_BURST 16
/* Segments of the largest indirect request the fuzzer builds: bounds the
 * grants a burst may take. */
#define MAX_FUZZ_SEGS 128
/* Bytes either side of a write-like request compared with the image. */
#define IMAGE_MARGIN PAGE
#define FULL_CHECK_BURSTS 2048
#define NO_RESPONSE 1000
#define EXPECT_UNSUPPORTED 2000  /* ERROR or EOPNOTSUPP */
#define EXPECT_ANY 2001          /* a feature not offered: any status */
/* A domain that exists nowhere: grants to it are foreign to the backend. */
#define FOREIGN_DOMID 42

/* What a segment's grant reference points at. */
typedef enum GrefKind {
    GREF_SLOT,                   /* the slot's own page, writable */
    GREF_RO,                     /* the shared read-only page */
    GREF_FOREIGN,                /* granted to another domain */
    GREF_REVOKED,                /* allocated, entry cleared */
    GREF_OUTSIDE,                /* beyond the grant table */
} GrefKind;

typedef struct FuzzReq {
    char desc[96];
    BlkWireReq req;              /* as sent; id set by the library */
    BlkSlot *slot;
    uint16_t nseg;               /* descriptors built (direct or indirect) */
    struct blkabi_segment *segs; /* where they are */
    uint8_t kinds[MAX_FUZZ_SEGS];
    GrefKind ind_kind;           /* of indirect_grefs[0] */
    uint64_t off, len;           /* disk bytes touched; len 0: none */
    bool may_write;              /* may change [off, off + len) */
    unsigned int pages;          /* slot pages filled before it went */
    uint64_t fill;               /* seed of their contents */
    int expect;
    int status;
    uint8_t rsp_op;
    bool padding_zero;
} FuzzReq;

typedef struct Fuzz {
    XenemuGuest *g;
    const CliOptions *o;
    Blkfront *bf;
    const BlkFeatures *feat;
    uint64_t rng[4];
    int img_fd;
    uint64_t disk_bytes;
    uint8_t *shadow;
    uint8_t *known;              /* per sector: shadow holds its bytes */
    uint8_t *img_buf;
    bool read_only;
    unsigned int max_indirect;   /* 0: no indirect requests */
    /*
     * Pages granted read-only, to another domain, and granted then
     * cleared (GrefKind order from GREF_RO), which nothing may change.
     */
    uint8_t *special[3];
    uint64_t special_gfn[3];
    uint32_t special_gref[3];
    FuzzReq burst[MAX_BURST];
    unsigned int nburst;
    uint64_t requests, bursts, reconnects, overflows, flips, key_changes;
    uint64_t status_count[3];    /* OKAY, ERROR, EOPNOTSUPP */
    char failure[512];
} Fuzz;

/* xoshiro256**, seeded by splitmix64: fast and the same everywhere. */
static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(Fuzz *f)
{
    uint64_t *s = f->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, n); n > 0. */
static uint64_t below(Fuzz *f, uint64_t n)
{
    return rnd(f) % n;
}

static bool chance(Fuzz *f, unsigned int percent)
{
    return below(f, 100) < percent;
}

/* Page contents as a function of (seed, page): written, then re-checked. */
static void fill_page(uint8_t *p, uint64_t seed, unsigned int page)
{
    uint64_t x = seed ^ ((uint64_t)page << 48);

    for (unsigned int i = 0; i < PAGE; i += 8) {
        uint64_t w = splitmix(&x);

        memcpy(p + i, &w, 8);
    }
}

/* First byte in [from, to) of @p that differs from fill_page(), or -1. */
static int page_changed(const uint8_t *p, uint64_t seed, unsigned int page,
                        unsigned int from, unsigned int to)
{
    uint8_t want[PAGE];

    fill_page(want, seed, page);
    for (unsigned int i = from; i < to; i++) {
        if (p[i] != want[i]) {
            return (int)i;
        }
    }
    return -1;
}

static bool fail(Fuzz *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool fail(Fuzz *f, const char *fmt, ...)
{
    va_list ap;

    if (!f->failure[0]) {
        va_start(ap, fmt);
        vsnprintf(f->failure, sizeof(f->failure), fmt, ap);
        va_end(ap);
    }
    return false;
}

static const char *const special_name[] = {
    "read-only granted", "foreign granted", "revoked",
};

static bool gref_valid_for(GrefKind k, bool to_guest)
{
    return k == GREF_SLOT || (k == GREF_RO && !to_guest);
}

static uint32_t gref_of(Fuzz *f, FuzzReq *r, GrefKind k, unsigned int page)
{
    switch (k) {
    case GREF_SLOT:
        return blkfront_slot_gref(r->slot, page);
    case GREF_OUTSIDE:
        return 0x10000000u + (uint32_t)below(f, 0xe0000000u);
    default:
        return f->special_gref[k - GREF_RO];
    }
}

/*
 * The contract: what blkif.h and the reference ask of a backend for this
 * request on this device.
 */
static int contract(Fuzz *f, const FuzzReq *r)
{
    const BlkWireReq *q = &r->req;
    uint8_t op = q->operation;
    unsigned int nseg = q->nr_segments;
    uint64_t bytes = 0, sectors = f->disk_bytes / SECTOR;

    switch (op) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP_FLUSH_DISKCACHE:
        if ((op == BLKIF_OP_WRITE_BARRIER && !f->feat->barrier) ||
            (op == BLKIF_OP_FLUSH_DISKCACHE && !f->feat->flush)) {
            return EXPECT_ANY;
        }
        if (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
            (!nseg && (op == BLKIF_OP_READ || op == BLKIF_OP_WRITE))) {
            return BLKIF_RSP_ERROR;
        }
        break;
    case BLKIF_OP_INDIRECT:
        if (!f->max_indirect) {
            return EXPECT_UNSUPPORTED;
        }
        op = q->indirect_op;
        if ((op != BLKIF_OP_READ && op != BLKIF_OP_WRITE) || !nseg ||
            nseg > f->feat->max_indirect_segs || r->ind_kind != GREF_SLOT) {
            return BLKIF_RSP_ERROR;
        }
        break;
    case BLKIF_OP_DISCARD:
        if (!f->feat->discard) {
            return EXPECT_UNSUPPORTED;
        }
        if (f->read_only || q->sector_number > sectors ||
            q->nr_sectors > sectors - q->sector_number) {
            return BLKIF_RSP_ERROR;
        }
        return BLKIF_RSP_OKAY;
    default:
        return EXPECT_UNSUPPORTED;
    }
    if (op != BLKIF_OP_READ && f->read_only) {
        return BLKIF_RSP_ERROR;
    }
    for (unsigned int i = 0; i < nseg; i++) {
        const struct blkabi_segment *s = &r->segs[i];

        if (s->first_sect > s->last_sect || s->last_sect >= PAGE / SECTOR ||
            !gref_valid_for(r->kinds[i], op == BLKIF_OP_READ)) {
            return BLKIF_RSP_ERROR;
        }
        bytes += (s->last_sect - s->first_sect + 1) * SECTOR;
    }
    if (bytes && (q->sector_number > sectors ||
                  bytes / SECTOR > sectors - q->sector_number)) {
        return BLKIF_RSP_ERROR;
    }
    return BLKIF_RSP_OKAY;
}

/* Whether [off, off + len) may be used next to what the burst holds. */
static bool range_free(Fuzz *f, uint64_t off, uint64_t len, bool writes)
{
    for (unsigned int i = 0; i < f->nburst; i++) {
        const FuzzReq *b = &f->burst[i];

        if ((writes || b->may_write) && b->len && len &&
            off < b->off + b->len && b->off < off + len) {
            return false;
        }
    }
    return true;
}

/*
 * Random segments for @nseg pages, each a valid sector range of its page;
 * returns their total bytes.
 */
static uint64_t random_segments(Fuzz *f, FuzzReq *r, unsigned int nseg)
{
    uint64_t bytes = 0;

    for (unsigned int i = 0; i < nseg; i++) {
        uint8_t a = below(f, 8), b = below(f, 8);

        /* Mostly whole pages, as real frontends send. */
        if (chance(f, 60)) {
            a = 0;
            b = 7;
        }
        r->segs[i].first_sect = a < b ? a : b;
        r->segs[i].last_sect = a < b ? b : a;
        r->segs[i].pad = 0;
        r->kinds[i] = GREF_SLOT;
        bytes += (r->segs[i].last_sect - r->segs[i].first_sect + 1) * SECTOR;
    }
    return bytes;
}

/* A disk position for @bytes: anywhere, at the very end, or past it. */
static uint64_t random_sector(Fuzz *f, uint64_t bytes, bool *outside)
{
    uint64_t sectors = f->disk_bytes / SECTOR, n = bytes / SECTOR;

    *outside = false;
    if (n > sectors) {
        *outside = true;
        return below(f, sectors);
    }
    switch (below(f, 20)) {
    case 0:
        return sectors - n;
    case 1:
        *outside = true;
        return sectors - n + 1 + below(f, 16);
    case 2:
        *outside = true;
        return UINT64_MAX - below(f, 64);
    default:
        return below(f, sectors - n + 1);
    }
}

/* One way of breaking an otherwise valid read or write. */
static void break_rw(Fuzz *f, FuzzReq *r)
{
    unsigned int i = below(f, r->nseg ? r->nseg : 1);

    switch (below(f, 8)) {
    case 0:
        if (r->nseg) {
            r->segs[i].first_sect = 1 + below(f, 7);
            r->segs[i].last_sect = below(f, r->segs[i].first_sect);
            strcat(r->desc, " first>last");
        }
        break;
    case 1:
        if (r->nseg) {
            r->segs[i].last_sect = 8 + below(f, 248);
            strcat(r->desc, " last>7");
        }
        break;
    case 2:
    case 3:
    case 4:
        if (r->nseg) {
            r->kinds[i] = GREF_RO + below(f, 4);
            strcat(r->desc, r->kinds[i] == GREF_RO ? " gref=ro" :
                            r->kinds[i] == GREF_FOREIGN ? " gref=foreign" :
                            r->kinds[i] == GREF_REVOKED ? " gref=revoked" :
                                                          " gref=outside");
        }
        break;
    case 5:
        if (r->req.operation == BLKIF_OP_INDIRECT) {
            r->ind_kind = GREF_FOREIGN + below(f, 3);
            strcat(r->desc, " indirect-page=bad");
        } else {
            r->req.operation = chance(f, 50) ? BLKIF_OP_RESERVED_1
                                             : 7 + below(f, 249);
            strcat(r->desc, " op=unknown");
        }
        break;
    case 6:
        if (r->req.operation == BLKIF_OP_INDIRECT) {
            r->req.nr_segments = chance(f, 50) ? 0 :
                                 f->feat->max_indirect_segs + 1 +
                                 below(f, 64);
        } else {
            r->req.nr_segments = chance(f, 30) ? 0 :
                                 12 + below(f, 244);
        }
        strcat(r->desc, " nseg=bad");
        break;
    default:
        if (r->req.operation == BLKIF_OP_INDIRECT) {
            r->req.indirect_op = 2 + below(f, 254);
            strcat(r->desc, " indirect-op=bad");
        } else {
            r->req.sector_number = UINT64_MAX - below(f, 64);
            strcat(r->desc, " sector~2^64");
        }
        break;
    }
}

/*
 * A read or write, direct or indirect, of random segments at a random
 * place; broken in one way when @broken.  False when its range would
 * collide with the burst's.
 */
static bool build_rw(Fuzz *f, FuzzReq *r, uint8_t op, bool indirect,
                     bool broken)
{
    unsigned int max = indirect ? f->max_indirect
                                : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    unsigned int nseg;
    uint64_t bytes;
    bool outside;

    max = max < MAX_FUZZ_SEGS ? max : MAX_FUZZ_SEGS;
    /* Small requests mostly, now and then the largest. */
    nseg = chance(f, 10) ? max : 1 + below(f, chance(f, 70) ? 4 : max);
    r->nseg = nseg;
    r->segs = indirect ? blkfront_slot_indirect(r->slot) : r->req.seg;
    bytes = random_segments(f, r, nseg);
    r->req.operation = indirect ? BLKIF_OP_INDIRECT : op;
    r->req.indirect_op = indirect ? op : 0;
    r->req.nr_segments = nseg;
    r->req.sector_number = random_sector(f, bytes, &outside);
    snprintf(r->desc, sizeof(r->desc), "%s%s nseg=%u sector=%" PRIu64
             " bytes=%" PRIu64 "%s", indirect ? "indirect " : "",
             op == BLKIF_OP_READ ? "READ" : op == BLKIF_OP_WRITE ? "WRITE" :
             op == BLKIF_OP_WRITE_BARRIER ? "BARRIER" : "FLUSH", nseg,
             r->req.sector_number, bytes, outside ? " outside" : "");
    if (broken) {
        break_rw(f, r);
    }
    /* Its pages, and the one after them when the slot has it. */
    r->pages = nseg + 1 < blkfront_max_segs(f->bf) ? nseg + 1
                                                   : blkfront_max_segs(f->bf);
    if (r->req.sector_number < f->disk_bytes / SECTOR) {
        r->off = r->req.sector_number * SECTOR;
        r->len = bytes < f->disk_bytes - r->off ? bytes
                                                 : f->disk_bytes - r->off;
    }
    r->may_write = !(r->req.operation == BLKIF_OP_READ ||
                     (r->req.operation == BLKIF_OP_INDIRECT &&
                      r->req.indirect_op == BLKIF_OP_READ));
    return range_free(f, r->off, r->len, r->may_write);
}

static bool build_discard(Fuzz *f, FuzzReq *r)
{
    uint64_t sectors = f->disk_bytes / SECTOR;
    uint64_t n = 1 + below(f, chance(f, 80) ? 64 : 4096);
    bool outside;

    r->req.operation = BLKIF_OP_DISCARD;
    r->req.discard_flag = chance(f, 20) ? BLKIF_DISCARD_SECURE : 0;
    r->req.sector_number = random_sector(f, n * SECTOR, &outside);
    r->req.nr_sectors = chance(f, 5) ? UINT64_MAX - below(f, 8) : n;
    snprintf(r->desc, sizeof(r->desc), "DISCARD%s sector=%" PRIu64
             " nr_sectors=%" PRIu64, r->req.discard_flag ? " secure" : "",
             r->req.sector_number, r->req.nr_sectors);
    if (r->req.sector_number < sectors) {
        r->off = r->req.sector_number * SECTOR;
        r->len = r->req.nr_sectors < sectors - r->req.sector_number ?
                 r->req.nr_sectors * SECTOR : f->disk_bytes - r->off;
    }
    r->may_write = true;
    return range_free(f, r->off, r->len, true);
}

/* Random bytes of an undefined operation. */
static void build_garbage(Fuzz *f, FuzzReq *r)
{
    uint8_t *p = (uint8_t *)&r->req;

    for (size_t i = 0; i < sizeof(r->req); i++) {
        p[i] = rnd(f);
    }
    do {
        r->req.operation = rnd(f);
    } while (r->req.operation <= BLKIF_OP_INDIRECT &&
             r->req.operation != BLKIF_OP_RESERVED_1);
    snprintf(r->desc, sizeof(r->desc), "garbage op=%u", r->req.operation);
}

/* A barrier or flush without data, @percent times in a hundred. */
static void maybe_empty(Fuzz *f, FuzzReq *r, unsigned int percent)
{
    if (chance(f, percent)) {
        r->req.nr_segments = r->nseg = 0;
        r->len = 0;
        strcat(r->desc, " empty");
    }
}

/*
 * Any of several queues; with one, no draw, so that a seed of a
 * single-queue run replays as before.
 */
static unsigned int pick_queue(Fuzz *f)
{
    unsigned int nq = blkfront_nr_queues(f->bf);

    return nq > 1 ? below(f, nq) : 0;
}

/* Choose, build and queue the next request of the burst. */
static bool next_request(Fuzz *f)
{
    FuzzReq *r = &f->burst[f->nburst];
    BlkSlot *s = blkfront_slot_get(f->bf, pick_queue(f));
    unsigned int pick = below(f, 100);
    bool indirect = f->max_indirect && chance(f, 25);
    bool broken = chance(f, 20);
    bool fits = true;

    if (!s) {
        return fail(f, "no free request slot: %s", strerror(errno));
    }
    memset(r, 0, sizeof(*r));
    r->slot = s;
    r->fill = f->o->seed ^ (f->requests * 0x9e3779b97f4a7c15ull);
    if (pick < 35) {
        fits = build_rw(f, r, BLKIF_OP_READ, indirect, broken);
    } else if (pick < 70) {
        fits = build_rw(f, r, BLKIF_OP_WRITE, indirect, broken);
    } else if (pick < 76) {
        fits = build_rw(f, r, BLKIF_OP_WRITE_BARRIER, false, broken);
        maybe_empty(f, r, 50);
    } else if (pick < 82) {
        fits = build_rw(f, r, BLKIF_OP_FLUSH_DISKCACHE, false, broken);
        maybe_empty(f, r, 80);
    } else if (pick < 90) {
        fits = build_discard(f, r);
    } else {
        build_garbage(f, r);
    }
    if (!fits) {
        blkfront_slot_put(s);
        return true;             /* the burst ends here */
    }
    /* Pages: data for writes, canaries for reads, in either case to be
     * found as they were unless a read's segments changed them. */
    for (unsigned int i = 0; i < r->pages; i++) {
        fill_page(blkfront_slot_data(s) + i * PAGE, r->fill, i);
    }
    for (unsigned int i = 0; i < r->nseg; i++) {
        r->segs[i].gref = gref_of(f, r, r->kinds[i], i);
        if (!r->segs[i].gref) {
            return fail(f, "granting page %u: the grant table is full", i);
        }
    }
    if (r->req.operation == BLKIF_OP_INDIRECT) {
        for (unsigned int i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST;
             i++) {
            r->req.indirect_grefs[i] = blkfront_slot_indirect_gref(s, i);
        }
        if (r->ind_kind != GREF_SLOT) {
            r->req.indirect_grefs[0] = gref_of(f, r, r->ind_kind, 0);
        }
    }
    r->expect = contract(f, r);
    r->status = NO_RESPONSE;
    blkfront_slot_queue_raw(s, &r->req, r);
    f->nburst++;
    f->requests++;
    return true;
}

static void response(Blkfront *bf, BlkSlot *s, const BlkWireRsp *rsp,
                     void *opaque)
{
    Fuzz *f = opaque;
    FuzzReq *r = blkfront_slot_opaque(s);

    (void)bf;
    if (r->status != NO_RESPONSE) {
        fail(f, "a second response for \"%s\"", r->desc);
        return;
    }
    r->status = rsp->status;
    r->rsp_op = rsp->operation;
    r->padding_zero = rsp->padding_zero;
    if (rsp->status >= BLKIF_RSP_EOPNOTSUPP && rsp->status <= 0) {
        f->status_count[-rsp->status]++;
    }
}

/* Whether [off, off + len) of the disk is in the shadow; learns what it
 * did not know from @data (a discarded range reads as anything, once). */
static bool shadow_match(Fuzz *f, uint64_t off, const uint8_t *data,
                         uint64_t len, uint64_t *bad)
{
    for (uint64_t s = 0; s < len; s += SECTOR) {
        uint64_t sector = (off + s) / SECTOR;

        if (!f->known[sector]) {
            memcpy(f->shadow + off + s, data + s, SECTOR);
            f->known[sector] = 1;
        } else if (memcmp(f->shadow + off + s, data + s, SECTOR)) {
            for (uint64_t i = s; ; i++) {
                if (f->shadow[off + i] != data[i]) {
                    *bad = off + i;
                    return false;
                }
            }
        }
    }
    return true;
}

/* What a finished request left in its pages and taught the shadow. */
static bool check_request(Fuzz *f, FuzzReq *r)
{
    uint8_t *data = blkfront_slot_data(r->slot);
    uint8_t op = r->req.operation == BLKIF_OP_INDIRECT ? r->req.indirect_op
                                                       : r->req.operation;
    bool ok = r->status == BLKIF_RSP_OKAY;
    uint64_t at = r->off, bad;

    if (r->status == NO_RESPONSE) {
        return fail(f, "no response to \"%s\"", r->desc);
    }
    if (r->expect == EXPECT_UNSUPPORTED ?
        (r->status != BLKIF_RSP_ERROR && r->status != BLKIF_RSP_EOPNOTSUPP) :
        r->expect != EXPECT_ANY && r->status != r->expect) {
        return fail(f, "\"%s\" answered %d, the contract says %d", r->desc,
                    r->status, r->expect);
    }
    if (r->rsp_op != r->req.operation && r->rsp_op != op) {
        return fail(f, "\"%s\" answered with operation %u", r->desc,
                    r->rsp_op);
    }
    if (!r->padding_zero) {
        return fail(f, "\"%s\": response padding not zero", r->desc);
    }
    for (unsigned int i = 0; i < r->pages; i++) {
        unsigned int from = PAGE, to = PAGE;
        int b;

        /* A read's own segments are the only bytes it may change. */
        if (op == BLKIF_OP_READ && i < r->req.nr_segments &&
            i < r->nseg && r->kinds[i] == GREF_SLOT &&
            r->segs[i].first_sect <= r->segs[i].last_sect &&
            r->segs[i].last_sect < PAGE / SECTOR) {
            from = r->segs[i].first_sect * SECTOR;
            to = (r->segs[i].last_sect + 1) * SECTOR;
        }
        b = page_changed(data + i * PAGE, r->fill, i, 0, from);
        if (b < 0) {
            b = page_changed(data + i * PAGE, r->fill, i, to, PAGE);
        }
        if (b >= 0) {
            return fail(f, "\"%s\" (status %d) changed byte %u of page %u "
                        "outside its segments", r->desc, r->status, b, i);
        }
    }
    if (!ok || !r->len) {
        return true;
    }
    if (r->req.operation == BLKIF_OP_DISCARD) {
        bool zeroes = r->req.discard_flag && f->feat->discard_secure;

        if (zeroes) {
            memset(f->shadow + r->off, 0, r->len);
        }
        memset(f->known + r->off / SECTOR, zeroes, r->len / SECTOR);
        return true;
    }
    /* Answered OKAY: the wire's count is one of those built. */
    for (unsigned int i = 0; i < r->req.nr_segments; i++) {
        const struct blkabi_segment *s = &r->segs[i];
        unsigned int from = s->first_sect * SECTOR;
        unsigned int n = (s->last_sect - s->first_sect + 1) * SECTOR;
        const uint8_t *src = r->kinds[i] == GREF_RO ? f->special[0]
                                                     : data + i * PAGE;

        if (op == BLKIF_OP_READ) {
            if (!shadow_match(f, at, src + from, n, &bad)) {
                return fail(f, "\"%s\" read wrong data at disk byte %" PRIu64,
                            r->desc, bad);
            }
        } else {
            memcpy(f->shadow + at, src + from, n);
            memset(f->known + at / SECTOR, 1, n / SECTOR);
        }
        at += n;
    }
    return true;
}

/* The image's bytes in [off, off + len) against the shadow's. */
static bool check_image(Fuzz *f, uint64_t off, uint64_t len, const char *what)
{
    ssize_t got = pread(f->img_fd, f->img_buf, len, (off_t)off);
    uint64_t bad;

    if (got != (ssize_t)len) {
        return fail(f, "reading the image: %s",
                    got < 0 ? strerror(errno) : "short read");
    }
    if (!shadow_match(f, off, f->img_buf, len, &bad)) {
        return fail(f, "image byte %" PRIu64 " is not what %s left", bad,
                    what);
    }
    return true;
}

/* The image's bytes in [from, to), a megabyte (img_buf) at a time. */
static bool check_image_range(Fuzz *f, uint64_t from, uint64_t to,
                              const char *what)
{
    for (uint64_t at = from; at < to; at += 1u << 20) {
        uint64_t n = to - at < (1u << 20) ? to - at : 1u << 20;

        if (!check_image(f, at, n, what)) {
            return false;
        }
    }
    return true;
}

/* Check the range of a write-like request, and what lies around it. */
static bool check_image_around(Fuzz *f, const FuzzReq *r)
{
    uint64_t from = r->off > IMAGE_MARGIN ? r->off - IMAGE_MARGIN : 0;
    uint64_t to = r->off + r->len + IMAGE_MARGIN;
    char what[128];

    snprintf(what, sizeof(what), "\"%s\" (status %d)", r->desc, r->status);
    return check_image_range(f, from, to < f->disk_bytes ? to : f->disk_bytes,
                             what);
}

static bool check_whole_image(Fuzz *f)
{
    return check_image_range(f, 0, f->disk_bytes, "the requests so far");
}

static bool run_burst(Fuzz *f, unsigned int size)
{
    unsigned int answered = 0;
    int b;

    f->nburst = 0;
    while (f->nburst < size && f->requests < f->o->count) {
        unsigned int before = f->nburst;

        if (!next_request(f)) {
            return false;
        }
        if (f->nburst == before) {
            break;               /* a collision ended the burst */
        }
    }
    for (unsigned int q = 0; q < blkfront_nr_queues(f->bf); q++) {
        if (blkfront_kick(f->bf, q) < 0) {
            return fail(f, "notifying the backend failed");
        }
    }
    while (answered < f->nburst) {
        int ret = blkfront_poll(f->bf, f->o->cfg.timeout_ms, response, f);

        if (ret == -ETIMEDOUT) {
            return fail(f, "%u of %u requests unanswered after %d ms",
                        f->nburst - answered, f->nburst,
                        f->o->cfg.timeout_ms);
        } else if (ret < 0) {
            return fail(f, "a response that answers no outstanding request "
                        "(%s)", strerror(-ret));
        }
        answered += ret;
    }
    if (f->failure[0]) {
        return false;
    }
    for (unsigned int i = 0; i < f->nburst; i++) {
        if (!check_request(f, &f->burst[i])) {
            return false;
        }
    }
    for (unsigned int i = 0; i < f->nburst; i++) {
        if (f->burst[i].may_write && f->burst[i].len &&
            !check_image_around(f, &f->burst[i])) {
            return false;
        }
    }
    for (unsigned int i = 0; i < 3; i++) {
        b = page_changed(f->special[i], f->o->seed, i, 0, PAGE);
        if (b >= 0) {
            return fail(f, "byte %d of the %s page changed", b,
                        special_name[i]);
        }
    }
    f->bursts++;
    return true;
}

static bool fuzz_connect(Fuzz *f)
{
    BlkfrontConfig cfg = f->o->cfg;

    cfg.quiet = true;
    if (blkfront_connect(f->g, &cfg, &f->bf) < 0) {
        return fail(f, "connecting failed");
    }
    f->feat = blkfront_features(f->bf);
    f->read_only = f->feat->info & VDISK_READONLY;
    f->max_indirect = blkfront_max_segs(f->bf);
    if (f->max_indirect <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        f->max_indirect = 0;
    }
    if (blkfront_sector_unit(f->bf) != SECTOR ||
        f->feat->sector_size != SECTOR) {
        blkfront_disconnect(f->bf);
        f->bf = NULL;
        return fail(f, "the fuzzer handles 512-byte sectors only");
    }
    return true;
}

static bool fuzz_reconnect(Fuzz *f)
{
    int ret = blkfront_disconnect(f->bf);

    f->bf = NULL;
    if (ret < 0) {
        return fail(f, "the close handshake failed (%s)", strerror(-ret));
    }
    f->reconnects++;
    return fuzz_connect(f);
}

/*
 * Overwrite a key the backend reads only while connecting, go on with a
 * burst, then put it back before anything reconnects.
 */
static bool change_key(Fuzz *f)
{
    static const char *const keys[] = {
        "ring-ref", "ring-ref0", "event-channel", "protocol",
        "ring-page-order", "num-ring-pages", "feature-persistent",
        "multi-queue-num-queues", "feature-large-sector-size",
    };
    static const char *const values[] = {
        "0", "4294967295", "-1", "65500", "x86_32-abi", "bogus", "",
        "18446744073709551616", "9",
    };
    const char *key = keys[below(f, sizeof(keys) / sizeof(keys[0]))];
    const char *value = values[below(f, sizeof(values) / sizeof(values[0]))];
    char path[256];
    char *old;
    bool ok;

    snprintf(path, sizeof(path), "%s/%s", blkfront_frontend_path(f->bf), key);
    old = xenemu_xs_read(f->g, 0, path, NULL);
    if (xenemu_xs_write(f->g, 0, path, value, strlen(value)) < 0) {
        free(old);
        return fail(f, "writing %s failed", path);
    }
    f->key_changes++;
    ok = run_burst(f, 1 + below(f, MAX_BURST));
    if (old) {
        xenemu_xs_write(f->g, 0, path, old, strlen(old));
    } else {
        xenemu_xs_rm(f->g, 0, path);
    }
    free(old);
    if (ok && blkfront_backend_state(f->bf) != XenbusStateConnected) {
        return fail(f, "the backend left Connected when %s became \"%s\"",
                    key, value);
    }
    return ok;
}

/* A frontend state other than Connected, then a fresh connection. */
static bool flip_state(Fuzz *f)
{
    static const int states[] = {
        XenbusStateUnknown, XenbusStateInitialising, XenbusStateInitWait,
        XenbusStateInitialised, XenbusStateClosing, XenbusStateClosed,
        XenbusStateReconfiguring, 9,
    };
    char path[256];

    snprintf(path, sizeof(path), "%s/state", blkfront_frontend_path(f->bf));
    xenemu_xs_printf(f->g, 0, path, "%d",
                     states[below(f, sizeof(states) / sizeof(states[0]))]);
    f->flips++;
    usleep(10 * 1000);
    return fuzz_reconnect(f);
}

/* req_prod a whole ring ahead of what was answered: the ring must halt. */
static bool overflow(Fuzz *f)
{
    unsigned int ents = blkfront_ring_entries(f->bf);
    unsigned int q = pick_queue(f);
    uint32_t before = blkfront_ring_rsp_prod(f->bf, q), after, prev;
    BlkWireReq req;

    memset(&req, 0, sizeof(req));
    req.operation = 200;
    for (unsigned int i = 0; i < ents; i++) {
        req.id = 0x0f0f0000u + i;
        blkfront_ring_write_entry(f->bf, q, before + i, &req);
    }
    blkfront_ring_force_prod(f->bf, q, before + ents + 1 + below(f, 1000));
    after = before;
    do {
        prev = after;
        usleep(20 * 1000);
        after = blkfront_ring_rsp_prod(f->bf, q);
    } while (after != prev);
    if (after != before) {
        return fail(f, "%u responses to an overflowing ring", after - before);
    }
    f->overflows++;
    return fuzz_reconnect(f);
}

static bool setup_pages(Fuzz *f)
{
    uint32_t be = blkfront_backend_id(f->bf);
    uint32_t peer[3] = { be, FOREIGN_DOMID, be };

    for (unsigned int i = 0; i < 3; i++) {
        int ret;

        f->special[i] = xenemu_guest_alloc_pages(f->g, 1, &f->special_gfn[i]);
        if (!f->special[i]) {
            return fail(f, "allocating pages: %s", strerror(errno));
        }
        fill_page(f->special[i], f->o->seed, i);
        ret = xenemu_guest_grant_access(f->g, peer[i], f->special_gfn[i],
                                        i == 0);
        if (ret < 0) {
            return fail(f, "granting pages failed");
        }
        f->special_gref[i] = ret;
    }
    /* Cleared, but kept from the allocator: never valid again. */
    xenemu_guest_grant_raw(f->g, f->special_gref[2], 0, be,
                           f->special_gfn[2]);
    return true;
}

static void release_pages(Fuzz *f)
{
    for (unsigned int i = 0; i < 3; i++) {
        if (f->special_gref[i] &&
            xenemu_guest_end_access(f->g, f->special_gref[i]) < 0) {
            fail(f, "the backend still holds grant %u", f->special_gref[i]);
        }
    }
}

static bool load_image(Fuzz *f)
{
    uint64_t size = blkfront_size(f->bf);

    f->img_fd = open(f->o->image, O_RDONLY);
    if (f->img_fd < 0) {
        return fail(f, "%s: %s", f->o->image, strerror(errno));
    }
    f->disk_bytes = size - size % SECTOR;
    f->shadow = malloc(f->disk_bytes);
    f->known = calloc(f->disk_bytes / SECTOR, 1);
    f->img_buf = malloc(1u << 20);
    if (!f->shadow || !f->known || !f->img_buf) {
        return fail(f, "out of memory for a %" PRIu64 "-byte shadow",
                    f->disk_bytes);
    }
    /* Every sector unknown: the first full check learns them all. */
    return check_whole_image(f);
}

static void report_failure(Fuzz *f)
{
    const BlkfrontConfig *c = &f->o->cfg;

    printf("fuzz=failed seed=%" PRIu64 " request=%" PRIu64 " burst=%" PRIu64
           "\nfinding=%s\n", f->o->seed, f->requests, f->bursts, f->failure);
    for (unsigned int i = 0; i < f->nburst; i++) {
        printf("burst-request=%u desc=\"%s\" expect=%d status=%d\n", i,
               f->burst[i].desc, f->burst[i].expect, f->burst[i].status);
    }
    printf("reproduce=xen-blkfront --domid %u --devid %u --protocol %s "
           "--ring-order %u --indirect %u --queues %u%s --qd %u fuzz --seed %"
           PRIu64 " --count %" PRIu64 " --image %s\n", f->o->domid,
           f->bf ? blkfront_devid(f->bf) : c->devid,
           blkabi_proto_name(c->proto), c->ring_order, c->indirect_segs,
           c->queues, c->persistent ? " --persistent" : "", f->o->qd,
           f->o->seed, f->requests, f->o->image);
}

int cmd_fuzz(XenemuGuest *g, const CliOptions *o, int argc, char **argv)
{
    Fuzz f = { .g = g, .o = o, .img_fd = -1 };
    uint64_t x = o->seed;
    unsigned int queues = 0;
    bool ok;

    if (argc || !o->image || !o->have_seed) {
        blk_log("fuzz --seed S --count N --image PATH");
        return EXIT_USAGE;
    }
    for (unsigned int i = 0; i < 4; i++) {
        f.rng[i] = splitmix(&x);
    }
    ok = fuzz_connect(&f) && load_image(&f) && setup_pages(&f);
    while (ok && f.requests < o->count) {
        unsigned int event = below(&f, 1000);

        if (event < 4) {
            ok = change_key(&f);
        } else if (event < 6) {
            ok = flip_state(&f);
        } else if (event < 8) {
            ok = overflow(&f);
        } else {
            ok = run_burst(&f, 1 + below(&f, o->qd < MAX_BURST ? o->qd
                                                               : MAX_BURST));
        }
        if (ok && f.bursts % FULL_CHECK_BURSTS == 0) {
            ok = check_whole_image(&f);
        }
    }
    ok = ok && check_whole_image(&f);
    if (f.bf) {
        queues = blkfront_nr_queues(f.bf);
        ok &= blkfront_disconnect(f.bf) >= 0 ||
              fail(&f, "the close handshake failed");
    }
    release_pages(&f);
    ok &= !f.failure[0];
    if (!ok) {
        report_failure(&f);
        return EXIT_FAIL;
    }
    printf("fuzz=ok seed=%" PRIu64 " requests=%" PRIu64 " bursts=%" PRIu64
           " okay=%" PRIu64 " error=%" PRIu64 " eopnotsupp=%" PRIu64
           " reconnects=%" PRIu64 " overflows=%" PRIu64 " state-flips=%"
           PRIu64 " key-changes=%" PRIu64 " queues=%u\n", o->seed,
           f.requests, f.bursts, f.status_count[0], f.status_count[1],
           f.status_count[2], f.reconnects, f.overflows, f.flips,
           f.key_changes, queues);
    return EXIT_OK;
}
