/*
 * bench: keep a fixed number of requests in flight and measure.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * One benchmark I/O of --bs bytes: several requests when --bs is above
 * what one request carries (44 KiB without indirect descriptors), as a
 * guest kernel splits a bio.  Latency runs until its last response.
 */
typedef struct Inflight {
    uint64_t t_submit;
    unsigned int pieces_left;
    bool failed;
    unsigned int next_free;
} Inflight;

#define BENCH_MAX_PIECES 64

typedef struct Bench {
    const CliOptions *o;
    Blkfront *bf;
    uint64_t off;
    uint64_t nblocks;            /* bs-sized blocks in the range */
    uint64_t next_block;         /* sequential cursor */
    uint64_t rng;
    Inflight *inflight;
    unsigned int free_head;
    unsigned int piece_len;      /* bytes per request */
    unsigned int pieces;         /* requests per I/O */
    unsigned int ios_inflight;
    uint64_t *lat_ns;            /* one per completed I/O */
    uint64_t nlat, cap;
    uint64_t reads, writes, errors;
} Bench;

/* xorshift64*: cheap, and reproducible for a given seed. */
static uint64_t next_rand(Bench *b)
{
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return b->rng * 0x2545f4914f6cdd1dull;
}

static void bench_done(Blkfront *bf, BlkSlot *s, const BlkWireRsp *rsp,
                       void *opaque)
{
    Bench *b = opaque;
    Inflight *in = blkfront_slot_opaque(s);

    (void)bf;
    in->failed |= rsp->status != BLKIF_RSP_OKAY;
    if (--in->pieces_left) {
        return;
    }
    b->ios_inflight--;
    if (in->failed) {
        b->errors++;
    }
    if (b->nlat == b->cap) {
        uint64_t ncap = b->cap ? b->cap * 2 : 65536;
        uint64_t *n = realloc(b->lat_ns, ncap * sizeof(*n));

        if (!n) {
            b->errors++;
            goto release;
        }
        b->lat_ns = n;
        b->cap = ncap;
    }
    b->lat_ns[b->nlat++] = blk_now_ns() - in->t_submit;
release:
    in->next_free = b->free_head;
    b->free_head = (unsigned int)(in - b->inflight);
}

static int submit_one(Bench *b, unsigned int queue)
{
    const CliOptions *o = b->o;
    BlkSlot *slots[BENCH_MAX_PIECES];
    uint64_t block, off;
    uint8_t op;
    Inflight *in;

    /* All requests of the I/O or none: a half-queued I/O would wait for
     * slots only its own completion frees. */
    for (unsigned int i = 0; i < b->pieces; i++) {
        slots[i] = blkfront_slot_get(b->bf, queue);
        if (!slots[i]) {
            while (i--) {
                blkfront_slot_put(slots[i]);
            }
            return -EBUSY;
        }
    }
    if (o->random) {
        block = next_rand(b) % b->nblocks;
    } else {
        block = b->next_block++ % b->nblocks;
    }
    if (o->rw == BENCH_READ) {
        op = BLKIF_OP_READ;
    } else if (o->rw == BENCH_WRITE) {
        op = BLKIF_OP_WRITE;
    } else {
        op = next_rand(b) % 100 < o->mix_read_pct ? BLKIF_OP_READ
                                                  : BLKIF_OP_WRITE;
    }
    in = &b->inflight[b->free_head];
    b->free_head = in->next_free;
    in->pieces_left = b->pieces;
    in->failed = false;
    in->t_submit = blk_now_ns();
    off = b->off + block * o->bs;
    b->ios_inflight++;
    for (unsigned int i = 0; i < b->pieces; i++) {
        unsigned int done = i * b->piece_len;
        unsigned int len = o->bs - done < b->piece_len ? o->bs - done
                                                       : b->piece_len;
        int ret = blkfront_slot_queue_rw(slots[i], op, off + done, 0, len,
                                         in);

        if (ret < 0) {
            /* Out of grants, typically: the pieces queued complete as a
             * failed I/O, the rest never go out. */
            blk_log("bench: queueing failed (%s): lower --qd or --bs",
                    strerror(-ret));
            for (unsigned int k = i; k < b->pieces; k++) {
                blkfront_slot_put(slots[k]);
            }
            in->failed = true;
            in->pieces_left = i;
            if (!i) {
                b->ios_inflight--;
                in->next_free = b->free_head;
                b->free_head = (unsigned int)(in - b->inflight);
            }
            return ret;
        }
    }
    if (op == BLKIF_OP_READ) {
        b->reads++;
    } else {
        b->writes++;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static double percentile_us(const uint64_t *sorted, uint64_t n, double p)
{
    uint64_t i = (uint64_t)(p / 100.0 * (double)(n - 1) + 0.5);

    return n ? (double)sorted[i] / 1000.0 : 0.0;
}

static const char *rw_name(const CliOptions *o)
{
    static char mix[32];

    switch (o->rw) {
    case BENCH_READ:
        return o->random ? "randread" : "read";
    case BENCH_WRITE:
        return o->random ? "randwrite" : "write";
    default:
        snprintf(mix, sizeof(mix), "%smix:%u", o->random ? "rand" : "",
                 o->mix_read_pct);
        return mix;
    }
}

static int run(Bench *b, unsigned int qd, double *secs)
{
    const CliOptions *o = b->o;
    uint64_t t0 = blk_now_ns();
    uint64_t limit_ns = (uint64_t)(o->time_s * 1e9);
    uint64_t submitted = 0;
    unsigned int nq = blkfront_nr_queues(b->bf);
    unsigned int q = 0;
    bool stop = false;
    int err = 0;

    for (;;) {
        int ret;

        if (!stop) {
            stop = o->count ? submitted >= o->count
                            : blk_now_ns() - t0 >= limit_ns;
        }
        while (!stop && b->ios_inflight < qd) {
            ret = submit_one(b, q);
            if (ret == -EBUSY) {
                break;
            }
            if (ret < 0) {
                /* Drain what is out, then fail. */
                err = ret;
                stop = true;
                break;
            }
            submitted++;
            q = (q + 1) % nq;
            if (o->count && submitted >= o->count) {
                stop = true;
            }
        }
        for (unsigned int i = 0; i < nq; i++) {
            ret = blkfront_kick(b->bf, i);
            if (ret < 0) {
                return ret;
            }
        }
        if (!b->ios_inflight) {
            break;
        }
        ret = blkfront_poll(b->bf, b->o->cfg.timeout_ms, bench_done, b);
        if (ret < 0) {
            blk_log("bench: %s", strerror(-ret));
            return ret;
        }
    }
    *secs = (double)(blk_now_ns() - t0) / 1e9;
    return err;
}

int cmd_bench(XenemuGuest *g, const CliOptions *o, int argc, char **argv)
{
    Bench b = { .o = o, .rng = o->seed | 1 };
    CliOptions local = *o;
    unsigned int qd;
    uint64_t len;
    double secs = 0;
    int ret;

    if (!local.count && !(local.time_s > 0)) {
        local.time_s = 5;
    }
    b.o = &local;
    if (o->bs % 512 || argc == 1 || argc > 2) {
        blk_log("bench: --bs must be a multiple of 512; range is OFF LEN");
        return EXIT_USAGE;
    }
    if (cli_connect(g, o, &b.bf) < 0) {
        return EXIT_FAIL;
    }
    len = blkfront_size(b.bf);
    if (argc == 2 && (parse_size(argv[0], &b.off) < 0 ||
                      parse_size(argv[1], &len) < 0 ||
                      b.off > blkfront_size(b.bf) ||
                      len > blkfront_size(b.bf) - b.off)) {
        blk_log("bench: bad range");
        ret = -EINVAL;
        goto out;
    }
    b.nblocks = len / o->bs;
    b.piece_len = blkfront_slot_capacity(b.bf);
    b.pieces = (o->bs + b.piece_len - 1) / b.piece_len;
    if (!b.nblocks || b.pieces > BENCH_MAX_PIECES ||
        o->bs % blkfront_features(b.bf)->sector_size) {
        blk_log("bench: --bs %u does not fit the range or the requests",
                o->bs);
        ret = -EINVAL;
        goto out;
    }
    /* Each queue must hold whole I/Os. */
    qd = blkfront_nr_queues(b.bf) *
         (blkfront_ring_entries(b.bf) / b.pieces);
    if (o->qd > qd) {
        blk_log("bench: queue depth capped at %u (%u request(s) per I/O, "
                "%u ring entries x %u queue(s))", qd, b.pieces,
                blkfront_ring_entries(b.bf), blkfront_nr_queues(b.bf));
    } else {
        qd = o->qd;
    }
    b.inflight = calloc(qd, sizeof(*b.inflight));
    if (!b.inflight) {
        ret = -ENOMEM;
        goto out;
    }
    for (unsigned int i = 0; i < qd; i++) {
        b.inflight[i].next_free = i + 1;
    }
    ret = run(&b, qd, &secs);
    if (ret == 0 && b.nlat) {
        double iops = (double)b.nlat / secs;
        double mbps = iops * o->bs / 1e6;
        double p50, p99, max;

        qsort(b.lat_ns, b.nlat, sizeof(*b.lat_ns), cmp_u64);
        p50 = percentile_us(b.lat_ns, b.nlat, 50);
        p99 = percentile_us(b.lat_ns, b.nlat, 99);
        max = (double)b.lat_ns[b.nlat - 1] / 1000.0;
        printf("%s bs=%u qd=%u: %" PRIu64 " I/Os in %.2f s\n",
               rw_name(&local), o->bs, qd, b.nlat, secs);
        printf("  IOPS %.0f, %.1f MB/s, latency p50 %.0f us, p99 %.0f us, "
               "max %.0f us, errors %" PRIu64 "\n", iops, mbps, p50, p99,
               max, b.errors);
        printf("BENCH rw=%s bs=%u qd=%u ring_order=%u queues=%u "
               "protocol=%s requests_per_io=%u ios=%" PRIu64
               " reads=%" PRIu64
               " writes=%" PRIu64 " seconds=%.3f iops=%.0f mbps=%.2f "
               "lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f "
               "errors=%" PRIu64 "\n", rw_name(&local), o->bs, qd,
               blkfront_ring_order(b.bf), blkfront_nr_queues(b.bf),
               blkabi_proto_name(blkfront_proto(b.bf)), b.pieces, b.nlat,
               b.reads,
               b.writes, secs, iops, mbps, p50, p99, max, b.errors);
        if (b.errors) {
            ret = -EIO;
        }
    }
out:
    free(b.inflight);
    free(b.lat_ns);
    return blkfront_disconnect(b.bf) < 0 || ret < 0 ? EXIT_FAIL : EXIT_OK;
}
