/*
 * xen-blkfront: command line front end of the userspace block frontend.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
"Usage: xen-blkfront [OPTIONS] COMMAND [ARGS]\n"
"Acts as the block frontend of guest domain N inside a xenemu environment\n"
"($XENEMU_STATE, see xenemu-run).  Every command connects, works and\n"
"disconnects (Closing/Closed handshake, all grants revoked).\n"
"\n"
"Common options:\n"
"  --domid N             guest domain to act as (default 1)\n"
"  --vdev NAME           device by name: xvda, xvdb2, d0p1 ...\n"
"  --devid NUM           device by VBD number (default: first device)\n"
"  --ring-order K        ring of 2^K pages, 0..4 (default 0; capped by\n"
"                        the backend's max-ring-page-order)\n"
"  --protocol P          ring layout and `protocol` key: native | x86_32 |\n"
"                        x86_64 (default native)\n"
"  --no-protocol-key     use the layout without writing the key (blkif.h:\n"
"                        backends default to native; Linux to x86_32)\n"
"  --queues Q            request queues (default 1; capped by backend)\n"
"  --indirect SEGS       indirect requests of up to SEGS segments\n"
"  --no-indirect         direct requests only (default)\n"
"  --large-sector-size   write feature-large-sector-size=1: sectors count\n"
"                        in sector-size units (Xen 4.17; QEMU 7.2 needs it\n"
"                        for sector sizes above 512)\n"
"  --unikraft            negotiate as Unikraft's blkfront (README.md)\n"
"  --persistent          offer persistent grants (feature-persistent)\n"
"  --timeout SEC         limit of every wait on the backend (default 10)\n"
"  --quiet               no progress messages\n"
"\n"
"Commands (sizes and offsets in bytes; K, M, G suffixes allowed):\n"
"  info                  print negotiated features and geometry\n"
"  verify [OFF LEN]      write a pattern with mixed request sizes, read it\n"
"                        back and compare (default range: first 2M)\n"
"      --seed S          pattern seed (default: time based, printed)\n"
"      --image PATH      also compare the bytes of the backend's image\n"
"      --qd N            requests in flight (default 16)\n"
"  write OFF LEN --pattern S [--barrier]   write pattern S (WRITE_BARRIER)\n"
"  read OFF LEN [--pattern S]              read; check against pattern S\n"
"  flush [--barrier]     FLUSH_DISKCACHE (or an empty WRITE_BARRIER)\n"
"  discard OFF LEN       DISCARD\n"
"  reconnect N           connect N times, writing and checking data each\n"
"                        time, including the previous connection's data\n"
"  bench                 measure; prints a `BENCH key=value ...` line\n"
"      --rw MODE         read | write | randread | randwrite | mix[:PCT]\n"
"      --mix PCT         reads in percent for mix (default 50)\n"
"      --seq | --rand    access pattern (default from --rw, else seq)\n"
"      --bs SIZE         request size (default 4K)\n"
"      --qd N            queue depth (default 32)\n"
"      --time SEC | --count N   duration (default 5 s)\n"
"      [OFF LEN]         range (default: whole disk)\n"
"  hostile CASE [N]      send malformed input, report what the backend did;\n"
"                        `hostile list` names the cases\n"
"  stream OFF LEN --seed S --log FILE   write the range block by block,\n"
"                        over and over, logging each acknowledged write, until\n"
"                        the backend leaves Connected or stops answering\n"
"      --bs SIZE --qd N  block size (default 4K), in flight (default 8)\n"
"      --time SEC | --count N   stop earlier\n"
"  stream-check OFF LEN --seed S --log FILE --image PATH   every logged\n"
"                        write is in the image (or its block's next pass)\n"
"  fuzz --seed S --count N --image PATH   N random valid and malformed\n"
"                        requests in bursts, key changes, state flips and\n"
"                        ring overflows between them; every answer checked\n"
"                        against the contract and the image\n"
"      --qd N            largest burst (default 16)\n"
"\n"
"Exit status: 0 the operation did what was asked (hostile: the backend\n"
"survived and answered per contract; fuzz: no finding), 1 it did not, 2\n"
"usage error.\n";

int parse_size(const char *s, uint64_t *v)
{
    char *end;
    unsigned long long x;
    unsigned int shift = 0;

    if (!*s || *s == '-') {
        return -EINVAL;
    }
    errno = 0;
    x = strtoull(s, &end, 0);
    if (errno || end == s) {
        return -EINVAL;
    }
    switch (*end) {
    case 'k': case 'K':
        shift = 10;
        end++;
        break;
    case 'm': case 'M':
        shift = 20;
        end++;
        break;
    case 'g': case 'G':
        shift = 30;
        end++;
        break;
    }
    if (*end || (shift && x > (UINT64_MAX >> shift))) {
        return -EINVAL;
    }
    *v = x << shift;
    return 0;
}

static int parse_uint(const char *s, unsigned int max, unsigned int *v)
{
    uint64_t x;

    if (parse_size(s, &x) < 0 || x > max) {
        return -EINVAL;
    }
    *v = (unsigned int)x;
    return 0;
}

int cli_connect(XenemuGuest *g, const CliOptions *o, Blkfront **bf)
{
    int ret = blkfront_connect(g, &o->cfg, bf);

    if (ret < 0) {
        blk_log("connecting to the device failed: %s", strerror(-ret));
    }
    return ret;
}

/* Disconnect and turn the result into an exit code. */
static int finish(Blkfront *bf, int code)
{
    if (blkfront_disconnect(bf) < 0) {
        blk_log("disconnect was not clean");
        return EXIT_FAIL;
    }
    return code;
}

static int cmd_info(XenemuGuest *g, const CliOptions *o)
{
    const BlkFeatures *f;
    Blkfront *bf;

    if (cli_connect(g, o, &bf) < 0) {
        return EXIT_FAIL;
    }
    f = blkfront_features(bf);
    printf("domid=%u\n", o->domid);
    printf("devid=%u\n", blkfront_devid(bf));
    printf("frontend=%s\n", blkfront_frontend_path(bf));
    printf("backend=%s\n", blkfront_backend_path(bf));
    printf("backend-id=%u\n", blkfront_backend_id(bf));
    printf("protocol=%s\n", blkabi_proto_name(blkfront_proto(bf)));
    printf("protocol-key=%s\n",
           o->cfg.write_protocol && !o->cfg.unikraft ? "written" : "omitted");
    printf("ring-order=%u\n", blkfront_ring_order(bf));
    printf("ring-entries=%u\n", blkfront_ring_entries(bf));
    printf("queues=%u\n", blkfront_nr_queues(bf));
    printf("max-segments=%u\n", blkfront_max_segs(bf));
    printf("sectors=%" PRIu64 "\n", f->sectors);
    printf("sector-size=%u\n", f->sector_size);
    printf("sector-unit=%u\n", blkfront_sector_unit(bf));
    printf("physical-sector-size=%u\n", f->physical_sector_size);
    printf("size=%" PRIu64 "\n", blkfront_size(bf));
    printf("info=%u\n", f->info);
    printf("readonly=%d\n", !!(f->info & VDISK_READONLY));
    printf("cdrom=%d\n", !!(f->info & VDISK_CDROM));
    printf("removable=%d\n", !!(f->info & VDISK_REMOVABLE));
    printf("feature-flush-cache=%d\n", f->flush);
    printf("feature-barrier=%d\n", f->barrier);
    printf("feature-discard=%d\n", f->discard);
    printf("discard-granularity=%u\n", f->discard_granularity);
    printf("discard-alignment=%u\n", f->discard_alignment);
    printf("discard-secure=%d\n", f->discard_secure);
    printf("feature-persistent=%d\n", f->persistent);
    printf("persistent=%d\n", o->cfg.persistent && f->persistent);
    printf("feature-max-indirect-segments=%u\n", f->max_indirect_segs);
    printf("max-ring-page-order=%u\n", f->max_ring_order);
    printf("multi-queue-max-queues=%u\n", f->max_queues);
    return finish(bf, EXIT_OK);
}

/* Parse "OFF LEN" positional arguments, checked against the disk. */
int cli_range(Blkfront *bf, int argc, char **argv, uint64_t *off,
              uint64_t *len)
{
    uint64_t ss = blkfront_features(bf)->sector_size;

    if (argc != 2 || parse_size(argv[0], off) < 0 ||
        parse_size(argv[1], len) < 0) {
        blk_log("expected OFFSET LENGTH");
        return -EINVAL;
    }
    if (*off % ss || *len % ss || !*len) {
        blk_log("offset and length must be multiples of %" PRIu64, ss);
        return -EINVAL;
    }
    if (*off > blkfront_size(bf) || *len > blkfront_size(bf) - *off) {
        blk_log("range beyond the disk (%" PRIu64 " bytes)",
                blkfront_size(bf));
        return -EINVAL;
    }
    return 0;
}

/*
 * Cut [off, off+len) into transfers of varied sizes (sub-page, one page,
 * the 11-segment limit of 44 KiB and beyond it) placed at varied offsets
 * inside their first page, so segment boundaries land everywhere.
 */
static unsigned int mixed_xfers(Blkfront *bf, uint8_t op, uint8_t *buf,
                                uint64_t off, uint64_t len, unsigned int rot,
                                BlkXfer **out)
{
    static const unsigned int sizes[] = {
        512, 4096, 1024, 45056, 8192, 1536, 45568, 65536, 3584, 131072,
        2048, 49152, 7680, 12288,
    };
    static const unsigned int page_offs[] = { 0, 512, 3584, 1024, 2048 };
    unsigned int ss = blkfront_features(bf)->sector_size;
    unsigned int n = 0, cap = 64;
    BlkXfer *x = malloc(cap * sizeof(*x));

    for (uint64_t pos = 0; x && pos < len; n++) {
        unsigned int k = n + rot;
        uint64_t sz = sizes[k % (sizeof(sizes) / sizeof(sizes[0]))];
        unsigned int po = page_offs[k % (sizeof(page_offs) /
                                         sizeof(page_offs[0]))];

        sz = (sz + ss - 1) / ss * ss;
        if (po % ss) {
            po = 0;
        }
        if (sz > len - pos) {
            sz = len - pos;
        }
        if (n == cap) {
            BlkXfer *nx = realloc(x, 2 * cap * sizeof(*x));

            if (!nx) {
                free(x);
                return 0;
            }
            x = nx;
            cap *= 2;
        }
        x[n] = (BlkXfer) {
            .op = op, .offset = off + pos, .len = sz, .buf = buf + pos,
            .page_off = po,
        };
        pos += sz;
    }
    *out = x;
    return x ? n : 0;
}

static int run_mixed(Blkfront *bf, uint8_t op, uint8_t *buf, uint64_t off,
                     uint64_t len, unsigned int rot, unsigned int qd,
                     unsigned int *nxfers)
{
    BlkXfer *x = NULL;
    unsigned int n = mixed_xfers(bf, op, buf, off, len, rot, &x);
    int ret;

    if (!n) {
        return -ENOMEM;
    }
    ret = blkfront_transfer(bf, x, n, qd);
    for (unsigned int i = 0; ret == -EIO && i < n; i++) {
        if (x[i].status) {
            blk_log("%s at %" PRIu64 " (+%" PRIu64 "): status %d",
                    op == BLKIF_OP_READ ? "read" : "write", x[i].offset,
                    x[i].len, x[i].status);
        }
    }
    free(x);
    *nxfers = n;
    return ret;
}

static int one_op(Blkfront *bf, uint8_t op, uint64_t off, uint64_t len,
                  uint8_t *buf)
{
    BlkXfer x = { .op = op, .offset = off, .len = len, .buf = buf };
    int ret = blkfront_transfer(bf, &x, 1, 0);

    if (ret == -EIO) {
        printf("status=%d\n", x.status);
    }
    return ret;
}

static int check_image(const char *path, uint64_t off, uint64_t len,
                       uint64_t seed)
{
    uint8_t *buf = malloc(len);
    int fd = open(path, O_RDONLY);
    uint64_t got = 0;
    int64_t bad;

    if (!buf || fd < 0) {
        blk_log("%s: %s", path, strerror(errno));
        free(buf);
        if (fd >= 0) {
            close(fd);
        }
        return -EIO;
    }
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, off + got);

        if (r <= 0) {
            break;
        }
        got += r;
    }
    close(fd);
    if (got != len) {
        blk_log("image %s ends before byte %" PRIu64, path, off + len);
        free(buf);
        return -EIO;
    }
    bad = blk_pattern_check(buf, off, len, seed);
    free(buf);
    if (bad >= 0) {
        blk_log("image %s differs at byte %" PRIu64, path,
                off + (uint64_t)bad);
        return -EIO;
    }
    return 0;
}

static int cmd_verify(XenemuGuest *g, const CliOptions *o, int argc,
                      char **argv)
{
    Blkfront *bf;
    uint64_t off = 0, len;
    uint8_t *wbuf = NULL, *rbuf = NULL;
    unsigned int nw = 0, nr = 0;
    int64_t bad;
    int ret;

    if (cli_connect(g, o, &bf) < 0) {
        return EXIT_FAIL;
    }
    len = blkfront_size(bf) < (2u << 20) ? blkfront_size(bf) : (2u << 20);
    if (argc && cli_range(bf, argc, argv, &off, &len) < 0) {
        return finish(bf, EXIT_USAGE);
    }
    printf("seed=%" PRIu64 "\n", o->seed);
    wbuf = malloc(len);
    rbuf = calloc(1, len);
    if (!wbuf || !rbuf) {
        ret = -ENOMEM;
        goto out;
    }
    blk_pattern_fill(wbuf, off, len, o->seed);
    ret = run_mixed(bf, BLKIF_OP_WRITE, wbuf, off, len, 0, o->qd, &nw);
    if (ret == 0 && blkfront_features(bf)->flush) {
        ret = one_op(bf, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, NULL);
    }
    /* Read back cut differently, so no read matches a write exactly. */
    if (ret == 0) {
        ret = run_mixed(bf, BLKIF_OP_READ, rbuf, off, len, 5, o->qd, &nr);
    }
    if (ret < 0) {
        goto out;
    }
    bad = blk_pattern_check(rbuf, off, len, o->seed);
    if (bad >= 0) {
        blk_log("read back differs at byte %" PRIu64, off + (uint64_t)bad);
        ret = -EIO;
        goto out;
    }
    if (o->image) {
        ret = check_image(o->image, off, len, o->seed);
        if (ret < 0) {
            goto out;
        }
    }
    printf("verify=ok offset=%" PRIu64 " length=%" PRIu64 " writes=%u "
           "reads=%u image=%s\n", off, len, nw, nr,
           o->image ? "ok" : "unchecked");
out:
    free(wbuf);
    free(rbuf);
    if (ret < 0 && ret != -EIO) {
        blk_log("verify: %s", strerror(-ret));
    }
    return finish(bf, ret < 0 ? EXIT_FAIL : EXIT_OK);
}

static int cmd_rw(XenemuGuest *g, const CliOptions *o, bool write, int argc,
                  char **argv)
{
    Blkfront *bf;
    uint64_t off, len;
    uint8_t *buf;
    int ret;

    if (write && !o->have_seed) {
        blk_log("write needs --pattern SEED");
        return EXIT_USAGE;
    }
    if (cli_connect(g, o, &bf) < 0) {
        return EXIT_FAIL;
    }
    if (cli_range(bf, argc, argv, &off, &len) < 0) {
        return finish(bf, EXIT_USAGE);
    }
    buf = malloc(len);
    if (!buf) {
        return finish(bf, EXIT_FAIL);
    }
    if (write) {
        uint8_t op = o->barrier ? BLKIF_OP_WRITE_BARRIER : BLKIF_OP_WRITE;

        blk_pattern_fill(buf, off, len, o->seed);
        ret = one_op(bf, op, off, len, buf);
        if (ret == 0) {
            printf("write=ok offset=%" PRIu64 " length=%" PRIu64 "\n",
                   off, len);
        }
    } else {
        int64_t bad = -1;
        uint64_t h = 0xcbf29ce484222325ull;

        ret = one_op(bf, BLKIF_OP_READ, off, len, buf);
        if (ret == 0 && o->have_seed) {
            bad = blk_pattern_check(buf, off, len, o->seed);
        }
        /* FNV-1a: lets a test compare reads without a pattern. */
        for (uint64_t i = 0; i < len; i++) {
            h = (h ^ buf[i]) * 0x100000001b3ull;
        }
        if (ret == 0 && bad >= 0) {
            printf("read=mismatch at=%" PRIu64 "\n", off + (uint64_t)bad);
            ret = -EIO;
        } else if (ret == 0) {
            printf("read=ok offset=%" PRIu64 " length=%" PRIu64
                   " fnv64=%016" PRIx64 " pattern=%s\n", off, len, h,
                   o->have_seed ? "ok" : "unchecked");
        }
    }
    free(buf);
    return finish(bf, ret < 0 ? EXIT_FAIL : EXIT_OK);
}

static int cmd_flush(XenemuGuest *g, const CliOptions *o)
{
    uint8_t op = o->barrier ? BLKIF_OP_WRITE_BARRIER
                            : BLKIF_OP_FLUSH_DISKCACHE;
    Blkfront *bf;
    int ret;

    if (cli_connect(g, o, &bf) < 0) {
        return EXIT_FAIL;
    }
    if (!o->barrier && !blkfront_features(bf)->flush) {
        blk_log("backend does not offer feature-flush-cache");
        return finish(bf, EXIT_FAIL);
    }
    ret = one_op(bf, op, 0, 0, NULL);
    if (ret == 0) {
        printf("%s=ok\n", o->barrier ? "barrier" : "flush");
    }
    return finish(bf, ret < 0 ? EXIT_FAIL : EXIT_OK);
}

static int cmd_discard(XenemuGuest *g, const CliOptions *o, int argc,
                       char **argv)
{
    Blkfront *bf;
    uint64_t off, len;
    int ret;

    if (cli_connect(g, o, &bf) < 0) {
        return EXIT_FAIL;
    }
    if (cli_range(bf, argc, argv, &off, &len) < 0) {
        return finish(bf, EXIT_USAGE);
    }
    if (!blkfront_features(bf)->discard) {
        blk_log("backend does not offer feature-discard");
        return finish(bf, EXIT_FAIL);
    }
    ret = one_op(bf, BLKIF_OP_DISCARD, off, len, NULL);
    if (ret == 0) {
        printf("discard=ok offset=%" PRIu64 " length=%" PRIu64 "\n",
               off, len);
    }
    return finish(bf, ret < 0 ? EXIT_FAIL : EXIT_OK);
}

static int cmd_reconnect(XenemuGuest *g, const CliOptions *o, int argc,
                         char **argv)
{
    const uint64_t len = 256 << 10;
    unsigned int n, nx;
    uint8_t *buf = malloc(len);
    int ret = 0;

    if (argc != 1 || parse_uint(argv[0], 100000, &n) < 0 || !buf) {
        blk_log("expected: reconnect N");
        free(buf);
        return EXIT_USAGE;
    }
    for (unsigned int i = 0; ret == 0 && i < n; i++) {
        Blkfront *bf;

        ret = cli_connect(g, o, &bf);
        if (ret < 0) {
            blk_log("connection %u failed", i + 1);
            break;
        }
        /* What the previous connection wrote must have survived. */
        if (i > 0) {
            ret = run_mixed(bf, BLKIF_OP_READ, buf, 0, len, i, o->qd, &nx);
            if (ret == 0 &&
                blk_pattern_check(buf, 0, len, o->seed + i - 1) >= 0) {
                blk_log("connection %u: data of connection %u lost", i + 1,
                        i);
                ret = -EIO;
            }
        }
        if (ret == 0) {
            blk_pattern_fill(buf, 0, len, o->seed + i);
            ret = run_mixed(bf, BLKIF_OP_WRITE, buf, 0, len, i, o->qd, &nx);
        }
        if (ret == 0) {
            memset(buf, 0, len);
            ret = run_mixed(bf, BLKIF_OP_READ, buf, 0, len, i + 3, o->qd,
                            &nx);
            if (ret == 0 && blk_pattern_check(buf, 0, len, o->seed + i) >= 0) {
                blk_log("connection %u: read back differs", i + 1);
                ret = -EIO;
            }
        }
        if (blkfront_disconnect(bf) < 0) {
            blk_log("connection %u: disconnect was not clean", i + 1);
            ret = -EIO;
        }
    }
    free(buf);
    if (ret == 0) {
        printf("reconnect=ok count=%u\n", n);
    }
    return ret < 0 ? EXIT_FAIL : EXIT_OK;
}

enum {
    OPT_DOMID = 256, OPT_VDEV, OPT_DEVID, OPT_RING_ORDER, OPT_PROTOCOL,
    OPT_NO_PROTOCOL_KEY, OPT_LARGE_SECTORS, OPT_QUEUES, OPT_INDIRECT,
    OPT_NO_INDIRECT, OPT_UNIKRAFT, OPT_PERSISTENT, OPT_TIMEOUT, OPT_QUIET,
    OPT_IMAGE, OPT_SEED, OPT_BARRIER, OPT_QD, OPT_BS, OPT_RW, OPT_MIX,
    OPT_SEQ, OPT_RAND, OPT_TIME, OPT_COUNT, OPT_LOG, OPT_HELP,
};

static const struct option long_opts[] = {
    { "domid", required_argument, NULL, OPT_DOMID },
    { "vdev", required_argument, NULL, OPT_VDEV },
    { "devid", required_argument, NULL, OPT_DEVID },
    { "ring-order", required_argument, NULL, OPT_RING_ORDER },
    { "protocol", required_argument, NULL, OPT_PROTOCOL },
    { "no-protocol-key", no_argument, NULL, OPT_NO_PROTOCOL_KEY },
    { "large-sector-size", no_argument, NULL, OPT_LARGE_SECTORS },
    { "queues", required_argument, NULL, OPT_QUEUES },
    { "indirect", required_argument, NULL, OPT_INDIRECT },
    { "no-indirect", no_argument, NULL, OPT_NO_INDIRECT },
    { "unikraft", no_argument, NULL, OPT_UNIKRAFT },
    { "persistent", no_argument, NULL, OPT_PERSISTENT },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "image", required_argument, NULL, OPT_IMAGE },
    { "seed", required_argument, NULL, OPT_SEED },
    { "pattern", required_argument, NULL, OPT_SEED },
    { "barrier", no_argument, NULL, OPT_BARRIER },
    { "qd", required_argument, NULL, OPT_QD },
    { "bs", required_argument, NULL, OPT_BS },
    { "rw", required_argument, NULL, OPT_RW },
    { "mix", required_argument, NULL, OPT_MIX },
    { "seq", no_argument, NULL, OPT_SEQ },
    { "rand", no_argument, NULL, OPT_RAND },
    { "time", required_argument, NULL, OPT_TIME },
    { "count", required_argument, NULL, OPT_COUNT },
    { "log", required_argument, NULL, OPT_LOG },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
};

static const char *opt_name(int val)
{
    for (const struct option *o = long_opts; o->name; o++) {
        if (o->val == val) {
            return o->name;
        }
    }
    return "?";
}

static int parse_rw(const char *s, CliOptions *o)
{
    if (!strcmp(s, "read") || !strcmp(s, "randread")) {
        o->rw = BENCH_READ;
    } else if (!strcmp(s, "write") || !strcmp(s, "randwrite")) {
        o->rw = BENCH_WRITE;
    } else if (!strncmp(s, "mix", 3)) {
        o->rw = BENCH_MIX;
        if (s[3] == ':' && parse_uint(s + 4, 100, &o->mix_read_pct) < 0) {
            return -EINVAL;
        } else if (s[3] && s[3] != ':') {
            return -EINVAL;
        }
    } else {
        return -EINVAL;
    }
    o->random = !strncmp(s, "rand", 4);
    return 0;
}

static int parse_options(int argc, char **argv, CliOptions *o)
{
    bool seq = false, rand = false;
    unsigned int u;
    uint64_t v;
    int c;

    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        const char *a = optarg;
        int bad = 0;

        switch (c) {
        case OPT_DOMID:
            bad = parse_uint(a, 0x7fef, &o->domid);
            break;
        case OPT_VDEV:
            bad = blk_vdev_to_devid(a, &o->cfg.devid);
            break;
        case OPT_DEVID:
            bad = parse_size(a, &v) < 0 || !v || v > UINT32_MAX;
            o->cfg.devid = (uint32_t)v;
            break;
        case OPT_RING_ORDER:
            bad = parse_uint(a, BLKFRONT_MAX_RING_ORDER, &o->cfg.ring_order);
            break;
        case OPT_PROTOCOL:
            bad = blkabi_proto_parse(a, &o->cfg.proto) < 0;
            break;
        case OPT_NO_PROTOCOL_KEY:
            o->cfg.write_protocol = false;
            break;
        case OPT_LARGE_SECTORS:
            o->cfg.large_sectors = true;
            break;
        case OPT_QUEUES:
            bad = parse_uint(a, BLKFRONT_MAX_QUEUES, &o->cfg.queues) < 0 ||
                  !o->cfg.queues;
            break;
        case OPT_INDIRECT:
            bad = parse_uint(a, BLKFRONT_MAX_INDIRECT_SEGS,
                             &o->cfg.indirect_segs);
            break;
        case OPT_NO_INDIRECT:
            o->cfg.indirect_segs = 0;
            break;
        case OPT_UNIKRAFT:
            o->cfg.unikraft = true;
            break;
        case OPT_PERSISTENT:
            o->cfg.persistent = true;
            break;
        case OPT_TIMEOUT:
            bad = parse_uint(a, 3600, &u) || !u;
            o->cfg.timeout_ms = (int)u * 1000;
            break;
        case OPT_QUIET:
            o->cfg.quiet = true;
            break;
        case OPT_IMAGE:
            o->image = a;
            break;
        case OPT_SEED:
            bad = parse_size(a, &o->seed);
            o->have_seed = true;
            break;
        case OPT_BARRIER:
            o->barrier = true;
            break;
        case OPT_QD:
            bad = parse_uint(a, 1u << 16, &o->qd) || !o->qd;
            break;
        case OPT_BS:
            bad = parse_uint(a, 1u << 30, &o->bs) || !o->bs;
            break;
        case OPT_RW:
            bad = parse_rw(a, o);
            break;
        case OPT_MIX:
            bad = parse_uint(a, 100, &o->mix_read_pct);
            break;
        case OPT_SEQ:
            seq = true;
            break;
        case OPT_RAND:
            rand = true;
            break;
        case OPT_TIME:
            o->time_s = strtod(a, NULL);
            bad = !(o->time_s > 0);
            break;
        case OPT_COUNT:
            bad = parse_size(a, &o->count) || !o->count;
            break;
        case OPT_LOG:
            o->log = a;
            break;
        case 'h':
        case OPT_HELP:
            fputs(usage_text, stdout);
            exit(EXIT_OK);
        default:
            return -EINVAL;
        }
        if (bad) {
            blk_log("bad value '%s' for --%s", a, opt_name(c));
            return -EINVAL;
        }
    }
    if (seq && rand) {
        blk_log("--seq and --rand exclude each other");
        return -EINVAL;
    }
    if (seq || rand) {
        o->random = rand;
    }
    return 0;
}

int main(int argc, char **argv)
{
    CliOptions o = {
        .domid = 1, .qd = 0, .bs = 4096, .rw = BENCH_READ,
        .mix_read_pct = 50,
    };
    const char *cmd;
    XenemuGuest *g;
    int code;

    blkfront_config_init(&o.cfg);
    if (parse_options(argc, argv, &o) < 0) {
        fputs("Try xen-blkfront --help\n", stderr);
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    cmd = argv[optind];
    argc -= optind + 1;
    argv += optind + 1;
    if (!o.have_seed) {
        o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    }

    if (!strcmp(cmd, "hostile") && argc == 1 && !strcmp(argv[0], "list")) {
        return cmd_hostile(NULL, &o, argc, argv);
    }
    g = xenemu_guest_open(o.domid);
    if (!g) {
        blk_log("attaching to domain %u: %s (is XENEMU_STATE set?)", o.domid,
                strerror(errno));
        return EXIT_FAIL;
    }
    if (!strcmp(cmd, "info") && !argc) {
        code = cmd_info(g, &o);
    } else if (!strcmp(cmd, "verify")) {
        o.qd = o.qd ? o.qd : 16;
        code = cmd_verify(g, &o, argc, argv);
    } else if (!strcmp(cmd, "write") || !strcmp(cmd, "read")) {
        code = cmd_rw(g, &o, cmd[0] == 'w', argc, argv);
    } else if (!strcmp(cmd, "flush") && !argc) {
        code = cmd_flush(g, &o);
    } else if (!strcmp(cmd, "discard")) {
        code = cmd_discard(g, &o, argc, argv);
    } else if (!strcmp(cmd, "reconnect")) {
        o.qd = o.qd ? o.qd : 16;
        code = cmd_reconnect(g, &o, argc, argv);
    } else if (!strcmp(cmd, "bench")) {
        o.qd = o.qd ? o.qd : 32;
        code = cmd_bench(g, &o, argc, argv);
    } else if (!strcmp(cmd, "hostile")) {
        code = cmd_hostile(g, &o, argc, argv);
    } else if (!strcmp(cmd, "stream")) {
        o.qd = o.qd ? o.qd : 8;
        code = cmd_stream(g, &o, argc, argv);
    } else if (!strcmp(cmd, "stream-check")) {
        code = cmd_stream_check(&o, argc, argv);
    } else if (!strcmp(cmd, "fuzz")) {
        o.qd = o.qd ? o.qd : 16;
        code = cmd_fuzz(g, &o, argc, argv);
    } else {
        blk_log("unknown command or arguments: %s", cmd);
        code = EXIT_USAGE;
    }
    xenemu_guest_close(g);
    return code;
}
