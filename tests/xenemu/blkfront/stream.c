/*
 * stream: a writer that records every write the backend acknowledged, for
 * tests that kill or unplug the backend under it; stream-check: whether
 * the image holds every one of them.
 *
 * The range is written block by block, over and over: pass P writes
 * pattern pass_seed(S, P), so a block written again differs.  Each
 * acknowledged write is one "OFFSET PASS" line in the log, flushed at
 * once.  Ends "unplugged" once the backend left Connected and what was in
 * flight is answered, "timeout" when the backend stops answering.  A block whose write was in flight when the backend went may hold
 * the next pass's data instead; anything else is a lost write.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define STREAM_LOOK_NS 100000000ull    /* backend state read every 100 ms */
#define STREAM_LATE_MS 500             /* listen after Closed for answers */

typedef struct Stream {
    FILE *log;
    uint64_t off, bs, blocks;
    uint64_t seed;
    uint64_t acked, failed, late;
    bool closed;                 /* the backend was seen Closed */
} Stream;

static uint64_t pass_seed(uint64_t seed, uint64_t pass)
{
    return seed + pass * 0x9e3779b97f4a7c15ull;
}

static void stream_done(Blkfront *bf, BlkSlot *s, const BlkWireRsp *rsp,
                        void *opaque)
{
    Stream *st = opaque;
    uint64_t n = (uintptr_t)blkfront_slot_opaque(s) - 1;

    (void)bf;
    if (st->closed) {
        st->late++;
    }
    if (rsp->status != BLKIF_RSP_OKAY) {
        st->failed++;
        return;
    }
    st->acked++;
    fprintf(st->log, "%" PRIu64 " %" PRIu64 "\n",
            st->off + n % st->blocks * st->bs, n / st->blocks);
    fflush(st->log);
}

int cmd_stream(XenemuGuest *g, const CliOptions *o, int argc, char **argv)
{
    Stream st = { .seed = o->seed, .bs = o->bs };
    uint64_t len, n = 0, end = 0, look = 0;
    const char *reason = NULL;
    unsigned int qd = o->qd;
    bool stopping = false, left = false;
    Blkfront *bf;
    int ret;

    if (!o->log || !o->have_seed) {
        blk_log("stream needs --log FILE and --seed S");
        return EXIT_USAGE;
    }
    st.log = fopen(o->log, "w");
    if (!st.log) {
        blk_log("%s: %s", o->log, strerror(errno));
        return EXIT_FAIL;
    }
    if (cli_connect(g, o, &bf) < 0) {
        return EXIT_FAIL;
    }
    if (cli_range(bf, argc, argv, &st.off, &len) < 0 ||
        st.bs > blkfront_slot_capacity(bf) || len % st.bs) {
        blk_log("stream: --bs must divide LEN and fit one request");
        blkfront_disconnect(bf);
        return EXIT_USAGE;
    }
    st.blocks = len / st.bs;
    if (o->time_s > 0) {
        end = blk_now_ns() + (uint64_t)(o->time_s * 1e9);
    }
    for (;;) {
        uint64_t now = blk_now_ns();

        if (now >= look) {
            int be = blkfront_backend_state(bf);

            /* Leaving Connected: finish what is in flight, then close. */
            left |= be != XenbusStateConnected;
            st.closed |= be == XenbusStateClosed || be < 0;
            look = now + STREAM_LOOK_NS;
        }
        stopping |= left || (end && now >= end) ||
                    (o->count && n >= o->count);
        while (!stopping && blkfront_inflight(bf) < qd) {
            uint64_t block = n % st.blocks, pass = n / st.blocks;
            uint64_t at = st.off + block * st.bs;
            BlkSlot *s = blkfront_slot_get(bf, 0);

            if (!s) {
                break;
            }
            blk_pattern_fill(blkfront_slot_data(s), at, st.bs,
                             pass_seed(st.seed, pass));
            if (blkfront_slot_queue_rw(s, BLKIF_OP_WRITE, at, 0, st.bs,
                                       (void *)(uintptr_t)(n + 1)) < 0) {
                blkfront_slot_put(s);
                reason = "queue";
                break;
            }
            n++;
        }
        if (reason) {
            break;
        }
        blkfront_kick(bf, 0);
        if (stopping && !blkfront_inflight(bf)) {
            reason = left ? "unplugged" : "stopped";
            break;
        }
        ret = blkfront_poll(bf, o->cfg.timeout_ms, stream_done, &st);
        if (ret < 0) {
            /* A backend killed under us answers nothing more. */
            reason = ret == -ETIMEDOUT ? "timeout" : "error";
            break;
        }
    }
    if (st.closed) {
        /* Whatever still comes is an answer after Closed. */
        blkfront_poll(bf, STREAM_LATE_MS, stream_done, &st);
    }
    printf("stream=%s written=%" PRIu64 " acked=%" PRIu64 " failed=%" PRIu64
           " late=%" PRIu64 "\n", reason, n, st.acked, st.failed, st.late);
    fclose(st.log);
    /* Against a dead backend a close handshake only waits: leave. */
    if (strcmp(reason, "timeout") && blkfront_disconnect(bf) < 0) {
        blk_log("disconnect was not clean");
    }
    return st.late ? EXIT_FAIL : EXIT_OK;
}

/* stream-check OFF LEN --log FILE --image PATH --seed S [--bs N] */
int cmd_stream_check(const CliOptions *o, int argc, char **argv)
{
    uint64_t off, len, blocks, intact = 0, lost = 0, have = 0;
    uint64_t at, pass;
    int64_t *last;
    uint8_t *buf;
    FILE *log;
    int fd;

    if (argc != 2 || parse_size(argv[0], &off) < 0 ||
        parse_size(argv[1], &len) < 0 || !o->log || !o->image ||
        !o->have_seed || !len || len % o->bs) {
        blk_log("stream-check OFF LEN --log FILE --image PATH --seed S");
        return EXIT_USAGE;
    }
    blocks = len / o->bs;
    last = malloc(blocks * sizeof(*last));
    buf = malloc(o->bs);
    log = fopen(o->log, "r");
    fd = open(o->image, O_RDONLY);
    if (!last || !buf || !log || fd < 0) {
        blk_log("stream-check: %s", strerror(errno));
        return EXIT_FAIL;
    }
    memset(last, 0xff, blocks * sizeof(*last));
    while (fscanf(log, "%" SCNu64 " %" SCNu64, &at, &pass) == 2) {
        uint64_t b = (at - off) / o->bs;

        if (at < off || b >= blocks) {
            blk_log("stream-check: offset %" PRIu64 " outside the range", at);
            return EXIT_FAIL;
        }
        if ((int64_t)pass > last[b]) {
            last[b] = (int64_t)pass;
        }
    }
    for (uint64_t b = 0; b < blocks; b++) {
        uint64_t p;

        if (last[b] < 0) {
            continue;
        }
        have++;
        p = (uint64_t)last[b];
        at = off + b * o->bs;
        if (pread(fd, buf, o->bs, (off_t)at) != (ssize_t)o->bs) {
            blk_log("stream-check: reading the image: %s", strerror(errno));
            return EXIT_FAIL;
        }
        /* The acknowledged pass, or the next one if it was in flight. */
        if (blk_pattern_check(buf, at, o->bs, pass_seed(o->seed, p)) < 0 ||
            blk_pattern_check(buf, at, o->bs, pass_seed(o->seed, p + 1)) < 0) {
            intact++;
        } else if (lost++ < 5) {
            printf("lost offset=%" PRIu64 " pass=%" PRIu64 "\n", at, p);
        }
    }
    printf("stream-check acked-blocks=%" PRIu64 " intact=%" PRIu64
           " lost=%" PRIu64 "\n", have, intact, lost);
    close(fd);
    fclose(log);
    free(buf);
    free(last);
    return have && !lost ? EXIT_OK : EXIT_FAIL;
}
