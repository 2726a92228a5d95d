/*
 * hostile: send malformed input and report what the backend did.
 *
 * Every case prints facts as key=value lines and ends with
 *   survived=yes|no   the backend still serves a fresh, valid connection
 *   contract=yes|no   it answered as blkif.h and the project reference
 *                     require (one response per request, with its id and
 *                     the expected status; refused bad connections)
 * The exit status is 0 only when both hold.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/grant_table.h>

#include "cli.h"

/* A bad request waits this long for its response. */
#define HOSTILE_WAIT_MS 2000
#define MAX_CASE_REQS 4
#define NO_RESPONSE 1000         /* outside int16_t status values */
#define NEVER_GRANTED 0xfff0
#define PAGE 4096u

typedef struct CaseReq {
    const char *desc;
    BlkWireReq req;
    /* Nonzero: seg[bad_seg] gets this grant reference instead of ours. */
    uint32_t bad_gref;
    unsigned int bad_seg;
    /* seg[bad_seg] gets seg[0]'s grant reference instead (one page). */
    bool seg0_gref;
    /* Nonzero: the slot's pages hold this pattern when the request goes. */
    uint64_t fill_seed;
    uint8_t *data;               /* READ: gets the first page on completion */
    int expect;                  /* BLKIF_RSP_* the contract asks for */
    bool either_error;           /* ERROR and EOPNOTSUPP both acceptable */
    int status;                  /* NO_RESPONSE until answered */
} CaseReq;

typedef struct Case Case;
typedef struct Hostile {
    XenemuGuest *g;
    const CliOptions *o;
    const Case *c;
    unsigned int arg;            /* state-flap N, flood N */
    bool contract;
    bool unplugged;              /* the toolstack removed the device */
} Hostile;

struct Case {
    const char *name;
    const char *help;
    /* Request cases: fill up to MAX_CASE_REQS requests for this device. */
    unsigned int (*build)(Blkfront *bf, CaseReq *r);
    /* Other cases: run against the device, set h->contract. */
    int (*run)(Hostile *h);
};

static int wait_ms(const CliOptions *o)
{
    return o->cfg.timeout_ms < HOSTILE_WAIT_MS ? o->cfg.timeout_ms
                                               : HOSTILE_WAIT_MS;
}

static void rw_req(CaseReq *r, const char *desc, uint8_t op, uint64_t sector,
                   unsigned int nseg, uint8_t first, uint8_t last)
{
    memset(r, 0, sizeof(*r));
    r->desc = desc;
    r->req.operation = op;
    r->req.sector_number = sector;
    r->req.nr_segments = nseg;
    for (unsigned int i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        r->req.seg[i].first_sect = first;
        r->req.seg[i].last_sect = last;
    }
    r->expect = BLKIF_RSP_ERROR;
}

static unsigned int build_nseg0(Blkfront *bf, CaseReq *r)
{
    rw_req(&r[0], "READ nr_segments=0", BLKIF_OP_READ, 0, 0, 0, 7);
    rw_req(&r[1], "WRITE nr_segments=0", BLKIF_OP_WRITE, 0, 0, 0, 7);
    return 2;
}

static unsigned int build_nseg12(Blkfront *bf, CaseReq *r)
{
    rw_req(&r[0], "READ nr_segments=12", BLKIF_OP_READ, 0, 12, 0, 7);
    rw_req(&r[1], "WRITE nr_segments=255", BLKIF_OP_WRITE, 0, 255, 0, 7);
    return 2;
}

static unsigned int build_first_last(Blkfront *bf, CaseReq *r)
{
    rw_req(&r[0], "READ first_sect=4 last_sect=2", BLKIF_OP_READ, 0, 1, 4, 2);
    rw_req(&r[1], "READ first_sect=0 last_sect=8", BLKIF_OP_READ, 0, 1, 0, 8);
    rw_req(&r[2], "WRITE first_sect=7 last_sect=255", BLKIF_OP_WRITE, 0, 1,
           7, 255);
    return 3;
}

static unsigned int build_past_end(Blkfront *bf, CaseReq *r)
{
    uint64_t end = blkfront_features(bf)->sectors;

    rw_req(&r[0], "READ 8 sectors at sectors", BLKIF_OP_READ, end, 1, 0, 7);
    rw_req(&r[1], "READ 8 sectors at sectors-4", BLKIF_OP_READ, end - 4, 1,
           0, 7);
    rw_req(&r[2], "WRITE 8 sectors at sectors+1000", BLKIF_OP_WRITE,
           end + 1000, 1, 0, 7);
    return 3;
}

static unsigned int build_overflow(Blkfront *bf, CaseReq *r)
{
    rw_req(&r[0], "READ 8 sectors at 2^64-4", BLKIF_OP_READ, UINT64_MAX - 3,
           1, 0, 7);
    rw_req(&r[1], "WRITE 8 sectors at 2^64-4", BLKIF_OP_WRITE,
           UINT64_MAX - 3, 1, 0, 7);
    /* In bytes (sector << 9) this one wraps to a small, valid offset. */
    rw_req(&r[2], "READ at 2^55 (byte offset wraps)", BLKIF_OP_READ,
           1ull << 55, 1, 0, 7);
    return 3;
}

/* Grant references outside what we granted. */
static unsigned int build_bad_gref(Blkfront *bf, CaseReq *r)
{
    rw_req(&r[0], "READ gref=never granted", BLKIF_OP_READ, 0, 1, 0, 7);
    r[0].bad_gref = NEVER_GRANTED;
    rw_req(&r[1], "WRITE gref=never granted", BLKIF_OP_WRITE, 0, 1, 0, 7);
    r[1].bad_gref = NEVER_GRANTED + 1;
    rw_req(&r[2], "READ gref=0xffffffff", BLKIF_OP_READ, 0, 1, 0, 7);
    r[2].bad_gref = 0xffffffff;
    return 3;
}

static unsigned int build_unknown_op(Blkfront *bf, CaseReq *r)
{
    rw_req(&r[0], "operation 4 (RESERVED_1)", BLKIF_OP_RESERVED_1, 0, 1, 0,
           7);
    rw_req(&r[1], "operation 200", 200, 0, 1, 0, 7);
    rw_req(&r[2], "INDIRECT not offered", BLKIF_OP_INDIRECT, 0, 1, 0, 7);
    r[2].req.indirect_op = BLKIF_OP_READ;
    for (unsigned int i = 0; i < 3; i++) {
        r[i].expect = BLKIF_RSP_EOPNOTSUPP;
        r[i].either_error = true;
    }
    if (blkfront_features(bf)->max_indirect_segs) {
        return 2;                /* INDIRECT is a known op there */
    }
    return 3;
}

static unsigned int build_write_ro(Blkfront *bf, CaseReq *r)
{
    unsigned int n = 0;

    rw_req(&r[n++], "WRITE on read-only", BLKIF_OP_WRITE, 0, 1, 0, 7);
    rw_req(&r[n++], "WRITE_BARRIER on read-only", BLKIF_OP_WRITE_BARRIER, 0,
           1, 0, 7);
    r[n - 1].either_error = true;
    if (blkfront_features(bf)->discard) {
        rw_req(&r[n], "DISCARD on read-only", BLKIF_OP_DISCARD, 0, 0, 0, 0);
        r[n].req.nr_sectors = 8;
        r[n++].either_error = true;
    }
    return n;
}

/* Write then read back one page at offset 0: the backend still works. */
static bool serves(Blkfront *bf, uint64_t seed)
{
    uint8_t buf[4096];
    BlkXfer x = { .op = BLKIF_OP_READ, .len = sizeof(buf), .buf = buf };
    bool ro = blkfront_features(bf)->info & VDISK_READONLY;

    if (!ro) {
        BlkXfer w = x;

        w.op = BLKIF_OP_WRITE;
        blk_pattern_fill(buf, 0, sizeof(buf), seed);
        if (blkfront_transfer(bf, &w, 1, 1) < 0) {
            return false;
        }
        memset(buf, 0, sizeof(buf));
    }
    if (blkfront_transfer(bf, &x, 1, 1) < 0) {
        return false;
    }
    return ro || blk_pattern_check(buf, 0, sizeof(buf), seed) < 0;
}

/* A fresh connection that reads and writes correctly. */
static bool fresh_connection_serves(Hostile *h)
{
    BlkfrontConfig cfg = h->o->cfg;
    Blkfront *bf;
    bool ok;

    cfg.quiet = true;
    cfg.tamper = NULL;
    if (blkfront_connect(h->g, &cfg, &bf) < 0) {
        printf("fresh-connect=failed\n");
        return false;
    }
    ok = serves(bf, h->o->seed ^ 0x5a5a);
    printf("fresh-connect=ok fresh-io=%s\n", ok ? "ok" : "failed");
    if (blkfront_disconnect(bf) < 0) {
        printf("fresh-disconnect=unclean\n");
        ok = false;
    }
    return ok;
}

static void request_done(Blkfront *bf, BlkSlot *s, const BlkWireRsp *rsp,
                         void *opaque)
{
    CaseReq *r = blkfront_slot_opaque(s);

    (void)bf;
    (void)opaque;
    r->status = rsp->status;
    if (r->data) {
        memcpy(r->data, blkfront_slot_data(s), PAGE);
    }
}

/*
 * Hostile input goes to the last queue: with several, the others must not
 * notice.
 */
static unsigned int bad_queue(const Blkfront *bf)
{
    return blkfront_nr_queues(bf) - 1;
}

/*
 * Queue @n requests, a slot each, kick once and wait for their answers.
 * Returns how many were answered, or -ENOMEM without a slot for each.
 */
static int issue(Hostile *h, Blkfront *bf, CaseReq *reqs, unsigned int n)
{
    unsigned int answered = 0;

    for (unsigned int i = 0; i < n; i++) {
        CaseReq *r = &reqs[i];
        BlkSlot *s = blkfront_slot_get(bf, bad_queue(bf));

        if (!s) {
            return -ENOMEM;
        }
        for (unsigned int k = 0; k < BLKIF_MAX_SEGMENTS_PER_REQUEST; k++) {
            r->req.seg[k].gref = blkfront_slot_gref(s, k);
        }
        if (r->bad_gref) {
            r->req.seg[r->bad_seg].gref = r->bad_gref;
        }
        if (r->seg0_gref) {
            r->req.seg[r->bad_seg].gref = r->req.seg[0].gref;
        }
        if (r->fill_seed) {
            blk_pattern_fill(blkfront_slot_data(s), 0,
                             BLKIF_MAX_SEGMENTS_PER_REQUEST * PAGE,
                             r->fill_seed);
        }
        r->status = NO_RESPONSE;
        blkfront_slot_queue_raw(s, &r->req, r);
    }
    blkfront_kick(bf, bad_queue(bf));
    while (answered < n) {
        int ret = blkfront_poll(bf, wait_ms(h->o), request_done, NULL);

        if (ret < 0) {
            break;
        }
        answered += ret;
    }
    return answered;
}

/* Print request @i's outcome; the contract holds if it was as expected. */
static void report(Hostile *h, unsigned int i, const CaseReq *r)
{
    bool ok = r->status == r->expect ||
              (r->either_error && (r->status == BLKIF_RSP_ERROR ||
                                    r->status == BLKIF_RSP_EOPNOTSUPP));

    if (r->status == NO_RESPONSE) {
        printf("request=%u desc=\"%s\" status=none expected=%d\n", i + 1,
               r->desc, r->expect);
    } else {
        printf("request=%u desc=\"%s\" status=%d expected=%d\n", i + 1,
               r->desc, r->status, r->expect);
    }
    h->contract &= ok;
}

/*
 * The close handshake, then every grant revoked: fails if the backend
 * still maps one.
 */
static void close_connection(Hostile *h, Blkfront *bf)
{
    bool clean = blkfront_disconnect(bf) >= 0;

    printf("disconnect=%s\n", clean ? "clean" : "unclean");
    h->contract &= clean;
}

/*
 * The end of every request case: the backend stays Connected and still
 * serves this connection, which then closes cleanly.
 */
static int finish(Hostile *h, Blkfront *bf, bool all_answered)
{
    int be = blkfront_backend_state(bf);
    bool served;

    printf("backend-state=%d\n", be);
    h->contract &= be == XenbusStateConnected;
    /* Unanswered requests would hold the disconnect for the full timeout,
     * and their pages stay granted: that is reported, not hidden. */
    served = all_answered && serves(bf, h->o->seed);
    printf("served-after=%s\n", served ? "yes" : "no");
    if (!all_answered) {
        printf("unanswered=yes\n");
    }
    close_connection(h, bf);
    return 0;
}

static int run_requests(Hostile *h)
{
    CaseReq reqs[MAX_CASE_REQS];
    unsigned int n;
    Blkfront *bf;
    int answered;

    if (cli_connect(h->g, h->o, &bf) < 0) {
        return -EIO;
    }
    if (h->c->build == build_write_ro &&
        !(blkfront_features(bf)->info & VDISK_READONLY)) {
        printf("note=device is writable (info=%u): attach it read-only\n",
               blkfront_features(bf)->info);
        blkfront_disconnect(bf);
        return -EINVAL;
    }
    n = h->c->build(bf, reqs);
    answered = issue(h, bf, reqs, n);
    if (answered < 0) {
        blkfront_disconnect(bf);
        return answered;
    }
    for (unsigned int i = 0; i < n; i++) {
        report(h, i, &reqs[i]);
    }
    return finish(h, bf, answered == (int)n);
}

/* Write (or read back) @len bytes of @seed's pattern at byte 0. */
static bool pattern_io(Blkfront *bf, uint8_t op, uint8_t *buf, uint64_t len,
                       uint64_t seed)
{
    BlkXfer x = { .op = op, .len = len, .buf = buf };

    if (op == BLKIF_OP_WRITE) {
        blk_pattern_fill(buf, 0, len, seed);
    }
    return blkfront_transfer(bf, &x, 1, 1) >= 0 && x.status == BLKIF_RSP_OKAY;
}

/*
 * Connect, and write the case's pattern over the first @len bytes of the
 * disk (@buf holds it then).  On failure nothing stays connected.
 */
static int connect_patterned(Hostile *h, uint8_t *buf, uint64_t len,
                             Blkfront **bf)
{
    if (cli_connect(h->g, h->o, bf) < 0) {
        return -EIO;
    }
    if (!pattern_io(*bf, BLKIF_OP_WRITE, buf, len, h->o->seed)) {
        blkfront_disconnect(*bf);
        return -EIO;
    }
    return 0;
}

/*
 * barrier-then-read: on one connection an empty WRITE_BARRIER, and once
 * it is answered a READ.  The READ must be answered too: a backend that
 * took the barrier last and forgot to re-arm req_event is never told of it.
 */
static int run_barrier_then_read(Hostile *h)
{
    CaseReq r[2];
    Blkfront *bf;
    int answered = 0;

    if (cli_connect(h->g, h->o, &bf) < 0) {
        return -EIO;
    }
    if (!blkfront_features(bf)->barrier) {
        printf("note=the backend offers no feature-barrier\n");
        blkfront_disconnect(bf);
        return -EINVAL;
    }
    rw_req(&r[0], "empty WRITE_BARRIER", BLKIF_OP_WRITE_BARRIER, 0, 0, 0, 0);
    rw_req(&r[1], "READ after the barrier's answer", BLKIF_OP_READ, 0, 1, 0,
           7);
    for (unsigned int i = 0; i < 2; i++) {
        int ret;

        r[i].expect = BLKIF_RSP_OKAY;
        ret = issue(h, bf, &r[i], 1);
        if (ret < 0) {
            blkfront_disconnect(bf);
            return ret;
        }
        answered += ret;
        report(h, i, &r[i]);
    }
    return finish(h, bf, answered == 2);
}

/*
 * bad-last-grant: a 4-segment WRITE whose last grant reference is bad is
 * refused, and none of its four pages of the disk changes.
 */
static int run_bad_last_grant(Hostile *h)
{
    uint8_t buf[4 * PAGE];
    Blkfront *bf;
    CaseReq r;
    bool kept;
    int answered;

    if (connect_patterned(h, buf, sizeof(buf), &bf) < 0) {
        return -EIO;
    }
    rw_req(&r, "WRITE 4 segments, the last never granted", BLKIF_OP_WRITE, 0,
           4, 0, 7);
    r.bad_seg = 3;
    r.bad_gref = NEVER_GRANTED;
    r.fill_seed = h->o->seed ^ 0xbad;
    answered = issue(h, bf, &r, 1);
    if (answered < 0) {
        blkfront_disconnect(bf);
        return answered;
    }
    report(h, 0, &r);
    memset(buf, 0, sizeof(buf));
    kept = pattern_io(bf, BLKIF_OP_READ, buf, sizeof(buf), h->o->seed) &&
           blk_pattern_check(buf, 0, sizeof(buf), h->o->seed) < 0;
    printf("disk-unchanged=%s\n", kept ? "yes" : "no");
    h->contract &= kept;
    return finish(h, bf, answered == 1);
}

/*
 * Connect with the case's pattern over the first three pages (@buf holds
 * it), then three one-page requests of @op over them, kicked together, the
 * middle one naming a bad grant reference: it must fail, the other two
 * succeed.  The slots' pages hold the pattern of @fill when they go; @got
 * gets a READ's data.  Returns what issue() returns; connected (*@bf) only
 * if that is not negative.
 */
static int issue_middle_bad(Hostile *h, Blkfront **bf, uint8_t *buf,
                            CaseReq r[3], uint8_t op, uint64_t fill,
                            uint8_t got[2][PAGE])
{
    static const char *const desc[2][3] = {
        { "READ page 0", "READ page 1, never granted", "READ page 2" },
        { "WRITE page 0", "WRITE page 1, never granted", "WRITE page 2" },
    };
    int answered;

    if (connect_patterned(h, buf, 3 * PAGE, bf) < 0) {
        return -EIO;
    }
    for (unsigned int i = 0; i < 3; i++) {
        rw_req(&r[i], desc[op == BLKIF_OP_WRITE][i], op, i * PAGE / 512, 1,
               0, 7);
        r[i].expect = i == 1 ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY;
        r[i].fill_seed = fill;
    }
    r[1].bad_gref = NEVER_GRANTED;
    if (op == BLKIF_OP_READ) {
        r[0].data = got[0];
        r[2].data = got[1];
    }
    answered = issue(h, *bf, r, 3);
    if (answered < 0) {
        blkfront_disconnect(*bf);
        return answered;
    }
    for (unsigned int i = 0; i < 3; i++) {
        report(h, i, &r[i]);
    }
    return answered;
}

/*
 * read-bad-grant: three one-page READs kicked together, the middle one to
 * a bad grant reference.  It fails; the other two deliver the disk's data
 * (a backend that copies completed reads in one batch must not fail them,
 * nor leave them with stale data, when the batch fails).
 */
static int run_read_bad_grant(Hostile *h)
{
    uint8_t buf[3 * PAGE], got[2][PAGE];
    Blkfront *bf;
    CaseReq r[3];
    bool data_ok;
    int answered;

    /* Stale data in the slot's page must not pass for the disk's. */
    answered = issue_middle_bad(h, &bf, buf, r, BLKIF_OP_READ,
                                h->o->seed ^ 0xdead, got);
    if (answered < 0) {
        return answered;
    }
    data_ok = r[0].status == BLKIF_RSP_OKAY &&
              r[2].status == BLKIF_RSP_OKAY &&
              blk_pattern_check(got[0], 0, PAGE, h->o->seed) < 0 &&
              blk_pattern_check(got[1], 2 * PAGE, PAGE, h->o->seed) < 0;
    printf("read-data=%s\n", data_ok ? "ok" : "wrong");
    h->contract &= data_ok;
    return finish(h, bf, answered == 3);
}

/*
 * write-bad-grant: three one-page WRITEs of a new pattern kicked together,
 * the middle one from a bad grant reference.  It fails and leaves its page
 * of the disk as it was; the other two write theirs (a backend that copies
 * the data of the writes it takes in one batch must not fail them, nor
 * write stale data, when the batch fails).
 */
static int run_write_bad_grant(Hostile *h)
{
    uint64_t fill = h->o->seed ^ 0xbeef;
    uint8_t buf[3 * PAGE], want[PAGE];
    Blkfront *bf;
    CaseReq r[3];
    bool data_ok;
    int answered;

    answered = issue_middle_bad(h, &bf, buf, r, BLKIF_OP_WRITE, fill, NULL);
    if (answered < 0) {
        return answered;
    }
    /* Pages 0 and 2 hold what their slot held; page 1 the old pattern. */
    blk_pattern_fill(want, 0, PAGE, fill);
    data_ok = pattern_io(bf, BLKIF_OP_READ, buf, sizeof(buf), 0) &&
              !memcmp(buf, want, PAGE) && !memcmp(buf + 2 * PAGE, want, PAGE) &&
              blk_pattern_check(buf + PAGE, PAGE, PAGE, h->o->seed) < 0;
    printf("write-data=%s\n", data_ok ? "ok" : "wrong");
    h->contract &= data_ok;
    return finish(h, bf, answered == 3);
}

/*
 * gref-twice: requests whose two segments name the same grant, each half
 * of its page.  The WRITE takes the disk's first 4 KiB from the page as
 * it is; the READ puts the disk's two halves the other way round in the
 * page.  Both are served, with persistent grants (--persistent) as with
 * grant copy: one gref for two pages is no reason to refuse.
 */
static int run_gref_twice(Hostile *h)
{
    uint64_t fill = h->o->seed ^ 0x7a1ce;
    uint8_t buf[PAGE], got[PAGE];
    Blkfront *bf;
    CaseReq r[2];
    bool data_ok;
    int answered;

    if (connect_patterned(h, buf, sizeof(buf), &bf) < 0) {
        return -EIO;
    }
    rw_req(&r[0], "WRITE sectors 0-7 from both halves of one grant",
           BLKIF_OP_WRITE, 0, 2, 0, 3);
    r[0].req.seg[1].first_sect = 4;
    r[0].req.seg[1].last_sect = 7;
    rw_req(&r[1], "READ sectors 0-7 into one grant, halves swapped",
           BLKIF_OP_READ, 0, 2, 4, 7);
    r[1].req.seg[1].first_sect = 0;
    r[1].req.seg[1].last_sect = 3;
    for (unsigned int i = 0; i < 2; i++) {
        r[i].expect = BLKIF_RSP_OKAY;
        r[i].fill_seed = fill;
        r[i].seg0_gref = true;
        r[i].bad_seg = 1;
    }
    r[1].fill_seed = h->o->seed ^ 0xdead;
    r[1].data = got;
    answered = 0;
    for (unsigned int i = 0; i < 2; i++) {
        int ret = issue(h, bf, &r[i], 1);

        if (ret < 0) {
            blkfront_disconnect(bf);
            return ret;
        }
        answered += ret;
        report(h, i, &r[i]);
    }
    data_ok = r[1].status == BLKIF_RSP_OKAY &&
              blk_pattern_check(got, PAGE / 2, PAGE / 2, fill) < 0 &&
              blk_pattern_check(got + PAGE / 2, 0, PAGE / 2, fill) < 0 &&
              pattern_io(bf, BLKIF_OP_READ, buf, sizeof(buf), 0) &&
              blk_pattern_check(buf, 0, sizeof(buf), fill) < 0;
    printf("data=%s\n", data_ok ? "ok" : "wrong");
    h->contract &= data_ok;
    return finish(h, bf, answered == 2);
}

/* Ids the flood puts in requests; no request's first 8 bytes look alike. */
#define FLOOD_ID(i) (0xf100d00000000000ull | (uint32_t)(i))

/*
 * flood N: keep every ring entry full of requests of an unknown operation
 * for N seconds, whatever the backend's state: a hostile guest does not
 * stop when the toolstack unplugs its disk.  Ends early once nothing has
 * been answered for 2 s (the backend let go of the ring).  Answers are
 * taken from the ring before the backend pushes them, so the ring never
 * overflows and the backend never finds it empty.  An entry is reused only
 * once the next answer's id shows: the id is the first field the backend
 * writes, and the rest of an answer still being written would corrupt the
 * request put in its place.
 */
static int run_flood(Hostile *h)
{
    uint64_t now = blk_now_ns(), end = now + h->arg * 1000000000ull;
    uint64_t answered_at = now;
    uint32_t prod, seen, first;
    unsigned int ents;
    BlkWireReq req;
    Blkfront *bf;
    int be;

    if (cli_connect(h->g, h->o, &bf) < 0) {
        return -EIO;
    }
    ents = blkfront_ring_entries(bf);
    memset(&req, 0, sizeof(req));
    req.operation = 200;
    req.handle = (uint16_t)blkfront_devid(bf);
    prod = seen = first = blkfront_ring_rsp_prod(bf, 0);
    while (now < end && now - answered_at < 2000000000ull) {
        for (BlkWireRsp rsp; seen != prod; seen++) {
            blkfront_ring_read_response(bf, 0, seen, &rsp);
            if (rsp.id != FLOOD_ID(seen)) {
                break;
            }
            answered_at = now;
        }
        if (prod - seen < ents - 1) {
            while (prod - seen < ents - 1) {
                req.id = FLOOD_ID(prod);
                blkfront_ring_write_entry(bf, 0, prod++, &req);
            }
            blkfront_ring_force_prod(bf, 0, prod);
        }
        now = blk_now_ns();
    }
    be = blkfront_backend_state(bf);
    h->unplugged = be != XenbusStateConnected;
    printf("flooded=%u answered=%u backend-state=%d ended=%s\n",
           prod - first, seen - first, be, now < end ? "idle" : "time");
    /* The backend kept up, and stopped only if it let go of the device. */
    h->contract &= seen - first >= ents - 1 && (now >= end || h->unplugged);
    /* Our ring indexes mean nothing now: close, as prod-overflow does. */
    if (blkfront_disconnect(bf) < 0 && !h->unplugged) {
        printf("disconnect=unclean\n");
        h->contract = false;
    }
    return 0;
}

/*
 * With several queues: while the last one is halted, queue 0 still answers
 * @req (a valid read), written straight into its ring.
 */
static bool other_queue_serves(Hostile *h, Blkfront *bf,
                               const BlkWireReq *req)
{
    uint32_t prod = blkfront_ring_rsp_prod(bf, 0);
    BlkWireReq r = *req;
    BlkWireRsp rsp;
    int waited;

    r.id = 0x600d;
    blkfront_ring_write_entry(bf, 0, prod, &r);
    blkfront_ring_force_prod(bf, 0, prod + 1);
    for (waited = 0; blkfront_ring_rsp_prod(bf, 0) == prod; waited += 10) {
        if (waited >= wait_ms(h->o)) {
            return false;
        }
        usleep(10 * 1000);
    }
    blkfront_ring_read_response(bf, 0, prod, &rsp);
    return rsp.id == r.id && rsp.status == BLKIF_RSP_OKAY;
}

/* prod-overflow: publish more requests than the ring holds. */
static int run_prod_overflow(Hostile *h)
{
    unsigned int ents, responses, q;
    uint32_t before, after, prev;
    Blkfront *bf;
    BlkSlot *s;
    BlkWireReq req;
    int be;

    if (cli_connect(h->g, h->o, &bf) < 0) {
        return -EIO;
    }
    ents = blkfront_ring_entries(bf);
    q = bad_queue(bf);
    s = blkfront_slot_get(bf, q);
    if (!s) {
        blkfront_disconnect(bf);
        return -ENOMEM;
    }
    /*
     * Every ring entry holds a valid one-page read, so only the producer
     * index is wrong: ring size + 8 requests claimed to be outstanding.
     */
    memset(&req, 0, sizeof(req));
    req.operation = BLKIF_OP_READ;
    req.nr_segments = 1;
    req.seg[0].gref = blkfront_slot_gref(s, 0);
    req.seg[0].last_sect = 7;
    for (unsigned int i = 0; i < ents; i++) {
        BlkWireReq r = req;

        r.id = 0xbad00000u + i;
        blkfront_ring_write_entry(bf, q, i, &r);
    }
    blkfront_slot_put(s);
    before = blkfront_ring_rsp_prod(bf, q);
    blkfront_ring_force_prod(bf, q, before + ents + 8);
    /* Let the backend do whatever it does until rsp_prod settles. */
    after = before;
    do {
        prev = after;
        usleep(200 * 1000);
        after = blkfront_ring_rsp_prod(bf, q);
    } while (after != prev);
    responses = after - before;
    printf("queue=%u ring-entries=%u claimed=%u responses=%u\n", q, ents,
           ents + 8, responses);
    h->contract &= responses <= ents;
    if (q > 0) {
        bool served = other_queue_serves(h, bf, &req);

        printf("queue-0-served=%s\n", served ? "yes" : "no");
        h->contract &= served;
    }
    be = blkfront_backend_state(bf);
    printf("backend-state=%d\n", be);
    /* Our ring indexes no longer mean anything: close (nothing of ours is
     * in flight), and let a new connection tell whether the backend still
     * works. */
    close_connection(h, bf);
    return 0;
}

/* What a backend may keep mapped per queue, as Linux blkback. */
#define PERSISTENT_GRANTS_PER_QUEUE 1056

/*
 * persistent-flood: with persistent grants (--persistent, best with
 * --indirect 256), read through every page of every slot, far more grants
 * than a queue keeps mapped.  The backend must keep at most 1056 mapped per
 * queue (it must map some, or the feature is not in use), must not let a
 * mapped grant be revoked meanwhile, and must map none after the close,
 * which revokes them all (XSA-371).
 */
static int run_persistent_flood(Hostile *h)
{
    BlkSlot *slots[BLKFRONT_MAX_QUEUES * 512];
    unsigned int nslots = 0, mapped = 0, limit;
    XenemuGuest *g;
    Blkfront *bf;
    uint32_t busy_ref = 0;
    uint8_t *buf;
    BlkXfer x;
    int ret;

    if (cli_connect(h->g, h->o, &bf) < 0) {
        return -EIO;
    }
    if (!h->o->cfg.persistent || !blkfront_features(bf)->persistent) {
        printf("note=persistent grants not negotiated: connect with "
               "--persistent to a backend that offers them\n");
        blkfront_disconnect(bf);
        return -EINVAL;
    }
    g = blkfront_guest(bf);
    limit = PERSISTENT_GRANTS_PER_QUEUE * blkfront_nr_queues(bf);
    /* Every slot, a full slot's worth each, all at once. */
    for (unsigned int q = 0; q < blkfront_nr_queues(bf); q++) {
        BlkSlot *s;

        while (nslots < sizeof(slots) / sizeof(slots[0]) &&
               (s = blkfront_slot_get(bf, q))) {
            slots[nslots++] = s;
        }
    }
    for (unsigned int i = 0; i < nslots; i++) {
        blkfront_slot_put(slots[i]);
    }
    x = (BlkXfer) {
        .op = BLKIF_OP_READ,
        .len = (uint64_t)nslots * blkfront_slot_capacity(bf),
    };
    if (x.len > blkfront_size(bf)) {
        x.len = blkfront_size(bf);
    }
    buf = malloc(x.len);
    x.buf = buf;
    ret = buf ? blkfront_transfer(bf, &x, 1, nslots) : -ENOMEM;
    free(buf);
    printf("slots=%u bytes-read=%" PRIu64 " read=%s\n", nslots, x.len,
           ret < 0 || x.status ? "failed" : "ok");
    h->contract &= ret >= 0 && x.status == BLKIF_RSP_OKAY;
    for (unsigned int i = 0; i < nslots; i++) {
        for (unsigned int p = 0; p < blkfront_max_segs(bf); p++) {
            uint32_t ref = blkfront_slot_gref(slots[i], p);
            int flags = xenemu_guest_grant_flags(g, ref);

            if (flags > 0 && (flags & (GTF_reading | GTF_writing))) {
                mapped++;
                busy_ref = ref;
            }
        }
    }
    printf("grants-mapped=%u limit=%u\n", mapped, limit);
    h->contract &= mapped > 0 && mapped <= limit;
    if (busy_ref) {
        /* Xen refuses to end access to a grant its peer maps. */
        ret = xenemu_guest_end_access(g, busy_ref);
        printf("end-access-while-mapped=%s\n",
               ret == -EBUSY ? "refused" : "allowed");
        h->contract &= ret == -EBUSY;
    }
    close_connection(h, bf);
    return 0;
}

/* Handshake cases: overwrite one published key, expect a refusal. */
typedef struct Tamper {
    const char *key;
    const char *value;
} Tamper;

static int tamper_key(Blkfront *bf, XenemuTx tx, void *opaque)
{
    const Tamper *t = opaque;
    char path[200];
    const char *key = t->key;

    /* Order 0 publishes ring-ref, higher orders ring-ref0... */
    if (!strcmp(key, "ring-ref") && blkfront_ring_order(bf) > 0) {
        key = "ring-ref0";
    }
    snprintf(path, sizeof(path), "%s/%s", blkfront_frontend_path(bf), key);
    return xenemu_xs_printf(blkfront_guest(bf), tx, path, "%s", t->value);
}

static int run_tamper(Hostile *h, const Tamper *t)
{
    BlkfrontConfig cfg = h->o->cfg;
    Blkfront *bf;
    int ret;

    cfg.tamper = tamper_key;
    cfg.tamper_opaque = (void *)t;
    cfg.timeout_ms = wait_ms(h->o);
    cfg.quiet = true;
    printf("tamper=%s=%s\n", t->key, t->value);
    ret = blkfront_connect(h->g, &cfg, &bf);
    if (ret == 0) {
        printf("connect=accepted\n");
        printf("served-bad-connection=%s\n",
               serves(bf, h->o->seed) ? "yes" : "no");
        h->contract = false;
        blkfront_disconnect(bf);
    } else {
        /* The reference wants a refusal (backend to Closing/Closed), not a
         * backend that silently stays in InitWait. */
        printf("connect=%s\n", ret == -ECONNREFUSED ? "refused" :
               ret == -ETIMEDOUT ? "unanswered" : "failed");
        printf("grants-revoked=%s\n", ret == -EBUSY ? "no" : "yes");
        h->contract &= ret == -ECONNREFUSED;
    }
    return 0;
}

static int run_bad_ring_ref(Hostile *h)
{
    static const Tamper t = { "ring-ref", "65500" };

    return run_tamper(h, &t);
}

static int run_bad_evtchn(Hostile *h)
{
    static const Tamper t = { "event-channel", "4000" };

    return run_tamper(h, &t);
}

static int run_bad_ring_order(Hostile *h)
{
    static const Tamper t = { "ring-page-order", "9" };

    return run_tamper(h, &t);
}

static int run_bad_protocol(Hostile *h)
{
    static const Tamper t = { "protocol", "bogus-abi" };

    return run_tamper(h, &t);
}

/* Against a backend that offers persistent grants: 0 or 1 only. */
static int run_bad_persistent(Hostile *h)
{
    static const Tamper t = { "feature-persistent", "2" };

    return run_tamper(h, &t);
}

/* state-flap N: rewrite the frontend state N times without waiting. */
static int run_state_flap(Hostile *h)
{
    static const int seq[] = {
        XenbusStateClosing, XenbusStateConnected, XenbusStateClosed,
        XenbusStateInitialising, XenbusStateInitialised, XenbusStateConnected,
        XenbusStateUnknown, XenbusStateReconfiguring, XenbusStateClosed,
        XenbusStateInitialised, XenbusStateReconfigured, XenbusStateClosing,
    };
    char path[200];
    Blkfront *bf;
    int be;

    if (cli_connect(h->g, h->o, &bf) < 0) {
        return -EIO;
    }
    snprintf(path, sizeof(path), "%s/state", blkfront_frontend_path(bf));
    for (unsigned int i = 0; i < h->arg; i++) {
        int st = seq[i % (sizeof(seq) / sizeof(seq[0]))];

        xenemu_xs_printf(h->g, 0, path, "%d", st);
    }
    printf("flaps=%u\n", h->arg);
    usleep(300 * 1000);
    be = blkfront_backend_state(bf);
    printf("backend-state=%d\n", be);
    /* Whatever the backend made of it, the close handshake must bring it
     * to Closed with every grant released. */
    close_connection(h, bf);
    return 0;
}

static const Case cases[] = {
    { "prod-overflow", "req_prod beyond the ring size", NULL,
      run_prod_overflow },
    { "nseg-0", "READ/WRITE with no segment", build_nseg0, NULL },
    { "nseg-12", "more than 11 segments", build_nseg12, NULL },
    { "bad-first-last", "first_sect > last_sect, last_sect > 7",
      build_first_last, NULL },
    { "sector-past-end", "sectors at and across the end of the disk",
      build_past_end, NULL },
    { "sector-overflow", "sector_number near 2^64", build_overflow, NULL },
    { "bad-gref", "grant references never granted", build_bad_gref, NULL },
    { "unknown-op", "undefined operation codes", build_unknown_op, NULL },
    { "write-readonly", "writes to a read-only device", build_write_ro,
      NULL },
    { "bad-ring-ref", "ring-ref naming no grant", NULL, run_bad_ring_ref },
    { "bad-evtchn", "event-channel naming no port", NULL, run_bad_evtchn },
    { "bad-ring-order", "ring-page-order above the maximum", NULL,
      run_bad_ring_order },
    { "bad-protocol", "unknown protocol string", NULL, run_bad_protocol },
    { "bad-persistent", "feature-persistent=2 (to a backend offering it)",
      NULL, run_bad_persistent },
    { "state-flap", "N frontend state changes without waiting (N)", NULL,
      run_state_flap },
    { "barrier-then-read", "an empty barrier, then a READ", NULL,
      run_barrier_then_read },
    { "bad-last-grant", "4-segment WRITE, the last grant bad", NULL,
      run_bad_last_grant },
    { "read-bad-grant", "3 READs at once, one with a bad grant", NULL,
      run_read_bad_grant },
    { "write-bad-grant", "3 WRITEs at once, one with a bad grant", NULL,
      run_write_bad_grant },
    { "gref-twice", "2 segments of one request in one grant, each half",
      NULL, run_gref_twice },
    { "flood", "refused requests for N s, whatever the state (N)", NULL,
      run_flood },
    { "persistent-flood", "more persistent grants than a queue keeps",
      NULL, run_persistent_flood },
};

int cmd_hostile(XenemuGuest *g, const CliOptions *o, int argc, char **argv)
{
    Hostile h = { .g = g, .o = o, .contract = true };
    bool survived;
    int ret;

    if (argc >= 1 && !strcmp(argv[0], "list")) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            printf("%-16s %s\n", cases[i].name, cases[i].help);
        }
        return EXIT_OK;
    }
    for (size_t i = 0; argc >= 1 && i < sizeof(cases) / sizeof(cases[0]);
         i++) {
        if (!strcmp(argv[0], cases[i].name)) {
            h.c = &cases[i];
        }
    }
    if (!h.c || argc > 2 || (argc == 2 && h.c->run != run_state_flap &&
                             h.c->run != run_flood)) {
        blk_log("hostile: expected a CASE (hostile list)");
        return EXIT_USAGE;
    }
    h.arg = h.c->run == run_flood ? 5 : 20;
    if (argc == 2) {
        uint64_t v;

        if (parse_size(argv[1], &v) < 0 || !v || v > 100000) {
            blk_log("hostile %s: N in 1..100000", h.c->name);
            return EXIT_USAGE;
        }
        h.arg = (unsigned int)v;
    }
    printf("case=%s\n", h.c->name);
    ret = h.c->build ? run_requests(&h) : h.c->run(&h);
    if (ret < 0) {
        printf("setup=failed\n");
        return EXIT_FAIL;
    }
    /* A device the toolstack removed serves nobody: whoever removed it
     * checks what is left. */
    if (h.unplugged) {
        printf("survived=unplugged\n");
        printf("contract=%s\n", h.contract ? "yes" : "no");
        return h.contract ? EXIT_OK : EXIT_FAIL;
    }
    survived = fresh_connection_serves(&h);
    printf("survived=%s\n", survived ? "yes" : "no");
    printf("contract=%s\n", h.contract ? "yes" : "no");
    return survived && h.contract ? EXIT_OK : EXIT_FAIL;
}
