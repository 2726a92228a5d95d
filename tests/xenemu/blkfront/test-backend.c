/*
 * blkfront-test-backend: a small block backend for testing xen-blkfront's
 * indirect descriptors and multi-queue rings, which stock QEMU 7.2 does not
 * offer, and for measuring what the double itself allows.  A dom0 process
 * under the double (LD_PRELOAD=$XENEMU_PRELOAD): libxenstore, libxengnttab
 * and libxenevtchn, one thread.
 *
 *   blkfront-test-backend --domid N --devid D
 *       (--image PATH | --null [--size BYTES])
 *       [--max-queues Q] [--max-indirect SEGS] [--max-ring-order K]
 *       [--poll-us US]
 *
 * Creates the backend area backend/vbd/N/D (type vbd, so it never meets
 * QEMU's qdisk watch) and the frontend area, then serves READ, WRITE,
 * INDIRECT and FLUSH_DISKCACHE until SIGTERM, when it removes both areas.
 * Defaults: 4 queues, 256 indirect segments, ring order 4.  --poll-us
 * keeps looking at the rings for US microseconds after each batch of
 * work before sleeping (default 0), as QEMU's IOThreads poll.
 *
 * --image: the disk is the file PATH.  Deliberately simple: it maps each
 * data page on its own and preads or pwrites it.
 *
 * --null: no disk data, the ceiling for benchmarks of the rig.  Each
 * request gets exactly the work a good backend must do with the double:
 * one grant copy for the data (plus one for the descriptor pages of an
 * indirect request), between the guest's pages and a scratch buffer of
 * its queue; reads return whatever that buffer holds.  FLUSH_DISKCACHE
 * is answered at once.  --size gives the disk size (K, M, G suffixes;
 * default 256M).
 *
 * Both modes check every request (segment counts, sectors within a page
 * and the disk) and answer BLKIF_RSP_ERROR to a bad one before moving any
 * data; the hostile cases test real backends further.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "blkif-abi.h"

#define MAX_QUEUES 16
#define MAX_RING_ORDER 4
#define MAX_INDIRECT \
    (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKABI_SEGS_PER_INDIRECT_PAGE)

typedef struct Queue {
    void *ring;
    struct blkabi_sring_hdr *sring;
    unsigned int nr_ents;
    uint32_t req_cons;
    uint32_t rsp_prod_pvt;
    int port;                    /* local port, -1 when unbound */
    uint8_t *scratch;            /* --null: the data; kept across connections */
} Queue;

typedef struct Backend Backend;

/* Moves the data of @n checked segments starting at @sector. */
typedef int MoveFn(Backend *b, Queue *q, bool write, uint64_t sector,
                   const struct blkabi_segment *segs, unsigned int n);

struct Backend {
    uint32_t domid, devid;
    unsigned int max_queues, max_indirect, max_order;
    int fd;                      /* the image; -1 with --null */
    uint64_t sectors;
    MoveFn *move;
    /* One request at a time: its indirect descriptors and grant copies. */
    struct blkabi_segment *segs;
    xengnttab_grant_copy_segment_t *copy;
    char be[128], fe[128];
    struct xs_handle *xs;
    xengnttab_handle *xgt;
    xenevtchn_handle *xce;
    int state;
    BlkProto proto;
    unsigned int order, nr_queues;
    Queue q[MAX_QUEUES];
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void die(const char *what)
{
    fprintf(stderr, "blkfront-test-backend: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void xs_printf(Backend *b, const char *dir, const char *key,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void xs_printf(Backend *b, const char *dir, const char *key,
                      const char *fmt, ...)
{
    char path[256], val[64];
    va_list ap;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (!xs_write(b->xs, XBT_NULL, path, val, strlen(val))) {
        die(path);
    }
}

/* A frontend key as a number; -1 when absent or not a number. */
static long long fe_num(Backend *b, const char *key)
{
    char path[256];
    unsigned int len;
    char *v, *end;
    long long n;

    snprintf(path, sizeof(path), "%s/%s", b->fe, key);
    v = xs_read(b->xs, XBT_NULL, path, &len);
    if (!v) {
        return -1;
    }
    n = strtoll(v, &end, 10);
    if (*end || end == v) {
        n = -1;
    }
    free(v);
    return n;
}

static void set_state(Backend *b, int state)
{
    b->state = state;
    xs_printf(b, b->be, "state", "%d", state);
}

static void create_areas(Backend *b)
{
    struct xs_permissions be_perms[2] = {
        { .id = 0, .perms = XS_PERM_NONE },
        { .id = b->domid, .perms = XS_PERM_READ },
    };
    struct xs_permissions fe_perms[2] = {
        { .id = b->domid, .perms = XS_PERM_NONE },
        { .id = 0, .perms = XS_PERM_READ },
    };

    if (!xs_mkdir(b->xs, XBT_NULL, b->be) ||
        !xs_set_permissions(b->xs, XBT_NULL, b->be, be_perms, 2) ||
        !xs_mkdir(b->xs, XBT_NULL, b->fe) ||
        !xs_set_permissions(b->xs, XBT_NULL, b->fe, fe_perms, 2)) {
        die("creating the xenstore areas");
    }
    xs_printf(b, b->fe, "backend", "%s", b->be);
    xs_printf(b, b->fe, "backend-id", "0");
    xs_printf(b, b->fe, "virtual-device", "%u", b->devid);
    xs_printf(b, b->fe, "device-type", "disk");
    xs_printf(b, b->fe, "state", "1");
    xs_printf(b, b->be, "frontend", "%s", b->fe);
    xs_printf(b, b->be, "frontend-id", "%u", b->domid);
    xs_printf(b, b->be, "online", "1");
    xs_printf(b, b->be, "feature-flush-cache", "1");
    xs_printf(b, b->be, "max-ring-page-order", "%u", b->max_order);
    if (b->max_queues > 1) {
        xs_printf(b, b->be, "multi-queue-max-queues", "%u", b->max_queues);
    }
    if (b->max_indirect) {
        xs_printf(b, b->be, "feature-max-indirect-segments", "%u",
                  b->max_indirect);
    }
    xs_printf(b, b->be, "sectors", "%" PRIu64, b->sectors);
    xs_printf(b, b->be, "sector-size", "512");
    xs_printf(b, b->be, "info", "0");
    set_state(b, XenbusStateInitWait);
}

static void disconnect(Backend *b)
{
    for (unsigned int i = 0; i < b->nr_queues; i++) {
        Queue *q = &b->q[i];

        if (q->port >= 0) {
            xenevtchn_unbind(b->xce, q->port);
        }
        if (q->ring) {
            xengnttab_unmap(b->xgt, q->ring, 1u << b->order);
        }
        q->ring = NULL;
        q->sring = NULL;
        q->req_cons = q->rsp_prod_pvt = 0;
        q->port = -1;
    }
    b->nr_queues = 0;
}

static int connect_queue(Backend *b, Queue *q, const char *dir)
{
    uint32_t refs[1u << MAX_RING_ORDER];
    char key[64];
    long long v;

    for (unsigned int i = 0; i < (1u << b->order); i++) {
        if (b->order) {
            snprintf(key, sizeof(key), "%sring-ref%u", dir, i);
        } else {
            snprintf(key, sizeof(key), "%sring-ref", dir);
        }
        v = fe_num(b, key);
        if (v < 0) {
            return -1;
        }
        refs[i] = (uint32_t)v;
    }
    snprintf(key, sizeof(key), "%sevent-channel", dir);
    v = fe_num(b, key);
    if (v < 0) {
        return -1;
    }
    q->ring = xengnttab_map_domain_grant_refs(b->xgt, 1u << b->order,
                                              b->domid, refs,
                                              PROT_READ | PROT_WRITE);
    if (!q->ring) {
        return -1;
    }
    q->sring = q->ring;
    q->nr_ents = blkabi_ring_entries(b->proto, b->order);
    q->port = xenevtchn_bind_interdomain(b->xce, b->domid, (uint32_t)v);
    return q->port < 0 ? -1 : 0;
}

static int do_connect(Backend *b)
{
    char path[256];
    char *proto;
    long long order = fe_num(b, "ring-page-order");
    long long nq = fe_num(b, "multi-queue-num-queues");

    b->order = order < 0 ? 0 : (unsigned int)order;
    b->nr_queues = nq < 0 ? 1 : (unsigned int)nq;
    if (b->order > b->max_order || !b->nr_queues ||
        b->nr_queues > b->max_queues) {
        b->nr_queues = 0;
        return -1;
    }
    snprintf(path, sizeof(path), "%s/protocol", b->fe);
    proto = xs_read(b->xs, XBT_NULL, path, NULL);
    b->proto = BLK_PROTO_NATIVE;
    if (proto && blkabi_proto_parse(proto, &b->proto) < 0) {
        free(proto);
        b->nr_queues = 0;
        return -1;
    }
    free(proto);
    for (unsigned int i = 0; i < b->nr_queues; i++) {
        char dir[32] = "";

        b->q[i].port = -1;
        if (b->nr_queues > 1) {
            snprintf(dir, sizeof(dir), "queue-%u/", i);
        }
        if (connect_queue(b, &b->q[i], dir) < 0) {
            disconnect(b);
            return -1;
        }
    }
    return 0;
}

static unsigned int seg_bytes(const struct blkabi_segment *s)
{
    return (s->last_sect - s->first_sect + 1) * 512;
}

/* Segments within their page and, all together, within the disk. */
static int check_segments(const Backend *b, uint64_t sector,
                          const struct blkabi_segment *segs, unsigned int n)
{
    uint64_t total = 0;

    for (unsigned int i = 0; i < n; i++) {
        if (segs[i].first_sect > segs[i].last_sect || segs[i].last_sect > 7) {
            return -1;
        }
        total += seg_bytes(&segs[i]) / 512;
    }
    /* Written so that no sector number near 2^64 can wrap. */
    return sector <= b->sectors && total <= b->sectors - sector ? 0 : -1;
}

/* Run the @n grant copies in b->copy: 0 when every one of them worked. */
static int grant_copy(Backend *b, unsigned int n)
{
    if (xengnttab_grant_copy(b->xgt, n, b->copy) < 0) {
        return -1;
    }
    for (unsigned int i = 0; i < n; i++) {
        if (b->copy[i].status != GNTST_okay) {
            return -1;
        }
    }
    return 0;
}

/* --image: map each page on its own and pread or pwrite it. */
static int move_image(Backend *b, Queue *q, bool write, uint64_t sector,
                      const struct blkabi_segment *segs, unsigned int n)
{
    (void)q;
    for (unsigned int i = 0; i < n; i++) {
        size_t off = (size_t)segs[i].first_sect * 512;
        size_t len = seg_bytes(&segs[i]);
        uint8_t *page;
        ssize_t done;

        page = xengnttab_map_grant_ref(b->xgt, b->domid, segs[i].gref,
                                       write ? PROT_READ
                                             : PROT_READ | PROT_WRITE);
        if (!page) {
            return -1;
        }
        if (write) {
            done = pwrite(b->fd, page + off, len, (off_t)(sector * 512));
        } else {
            done = pread(b->fd, page + off, len, (off_t)(sector * 512));
        }
        xengnttab_unmap(b->xgt, page, 1);
        if (done != (ssize_t)len) {
            return -1;
        }
        sector += len / 512;
    }
    return 0;
}

/*
 * --null: one grant copy for the whole request, its segments laid end to
 * end in the queue's scratch buffer as a bounce buffer for the disk would
 * hold them.  The sector only mattered to the checks.
 */
static int move_null(Backend *b, Queue *q, bool write, uint64_t sector,
                     const struct blkabi_segment *segs, unsigned int n)
{
    size_t at = 0;

    (void)sector;
    for (unsigned int i = 0; i < n; i++) {
        xengnttab_grant_copy_segment_t *c = &b->copy[i];
        union xengnttab_copy_ptr guest = { .foreign = {
            .ref = segs[i].gref,
            .offset = segs[i].first_sect * 512,
            .domid = b->domid,
        } };
        union xengnttab_copy_ptr local = { .virt = q->scratch + at };

        c->len = seg_bytes(&segs[i]);
        c->source = write ? guest : local;
        c->dest = write ? local : guest;
        c->flags = write ? GNTCOPY_source_gref : GNTCOPY_dest_gref;
        at += c->len;
    }
    return grant_copy(b, n);
}

/* The descriptor pages of an indirect request into b->segs, one copy. */
static int fetch_indirect(Backend *b, const BlkWireReq *r)
{
    size_t left = r->nr_segments * sizeof(struct blkabi_segment);
    unsigned int npages = 0;

    for (; left; npages++) {
        size_t len = left < BLKABI_PAGE_SIZE ? left : BLKABI_PAGE_SIZE;

        b->copy[npages] = (xengnttab_grant_copy_segment_t){
            .source.foreign = { .ref = r->indirect_grefs[npages],
                                .domid = b->domid },
            .dest.virt = b->segs + npages * BLKABI_SEGS_PER_INDIRECT_PAGE,
            .len = len,
            .flags = GNTCOPY_source_gref,
        };
        left -= len;
    }
    return grant_copy(b, npages);
}

/* Check a READ or WRITE's segments, then move its data. */
static int16_t do_rw(Backend *b, Queue *q, bool write, uint64_t sector,
                     const struct blkabi_segment *segs, unsigned int n)
{
    if (check_segments(b, sector, segs, n) < 0 ||
        b->move(b, q, write, sector, segs, n) < 0) {
        return BLKIF_RSP_ERROR;
    }
    return BLKIF_RSP_OKAY;
}

static int16_t handle(Backend *b, Queue *q, const BlkWireReq *r,
                      uint8_t *rsp_op)
{
    uint8_t op = r->operation;

    *rsp_op = op;
    switch (op) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
        if (!r->nr_segments ||
            r->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            return BLKIF_RSP_ERROR;
        }
        return do_rw(b, q, op == BLKIF_OP_WRITE, r->sector_number, r->seg,
                     r->nr_segments);
    case BLKIF_OP_INDIRECT:
        if (!b->max_indirect || !r->nr_segments ||
            r->nr_segments > b->max_indirect ||
            (r->indirect_op != BLKIF_OP_READ &&
             r->indirect_op != BLKIF_OP_WRITE) ||
            fetch_indirect(b, r) < 0) {
            return BLKIF_RSP_ERROR;
        }
        return do_rw(b, q, r->indirect_op == BLKIF_OP_WRITE,
                     r->sector_number, b->segs, r->nr_segments);
    case BLKIF_OP_FLUSH_DISKCACHE:
        /* --null has nothing to make durable. */
        if (b->fd >= 0 && fdatasync(b->fd) < 0) {
            return BLKIF_RSP_ERROR;
        }
        return BLKIF_RSP_OKAY;
    default:
        return BLKIF_RSP_EOPNOTSUPP;
    }
}

static void serve(Backend *b, Queue *q)
{
    bool notify = false;

    for (;;) {
        uint32_t prod = __atomic_load_n(&q->sring->req_prod, __ATOMIC_ACQUIRE);
        uint32_t old, new;

        while (q->req_cons != prod) {
            uint8_t *e = (uint8_t *)q->ring + sizeof(struct blkabi_sring_hdr);
            size_t sz = blkabi_entry_size(b->proto);
            BlkWireReq r;
            BlkWireRsp rsp;

            blkabi_decode_req(b->proto,
                              e + (q->req_cons & (q->nr_ents - 1)) * sz, &r);
            q->req_cons++;
            rsp.id = r.id;
            rsp.status = handle(b, q, &r, &rsp.operation);
            blkabi_encode_rsp(b->proto,
                              e + (q->rsp_prod_pvt & (q->nr_ents - 1)) * sz,
                              &rsp);
            q->rsp_prod_pvt++;
        }
        /* RING_PUSH_RESPONSES_AND_CHECK_NOTIFY */
        old = __atomic_load_n(&q->sring->rsp_prod, __ATOMIC_RELAXED);
        new = q->rsp_prod_pvt;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&q->sring->rsp_prod, new, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        notify |= (uint32_t)(new - __atomic_load_n(&q->sring->rsp_event,
                                                   __ATOMIC_RELAXED)) <
                  (uint32_t)(new - old);
        /* RING_FINAL_CHECK_FOR_REQUESTS */
        __atomic_store_n(&q->sring->req_event, q->req_cons + 1,
                         __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&q->sring->req_prod, __ATOMIC_ACQUIRE) ==
            q->req_cons) {
            break;
        }
    }
    if (notify) {
        xenevtchn_notify(b->xce, q->port);
    }
}

static void frontend_changed(Backend *b)
{
    long long fe = fe_num(b, "state");

    switch (fe) {
    case XenbusStateInitialised:
    case XenbusStateConnected:
        if (b->state == XenbusStateInitWait) {
            if (do_connect(b) < 0) {
                fprintf(stderr, "blkfront-test-backend: bad connection\n");
                set_state(b, XenbusStateClosing);
            } else {
                set_state(b, XenbusStateConnected);
            }
        }
        break;
    case XenbusStateClosing:
        if (b->state != XenbusStateClosed) {
            set_state(b, XenbusStateClosing);
        }
        break;
    case XenbusStateInitialising:
        if (b->state != XenbusStateClosed) {
            break;
        }
        set_state(b, XenbusStateInitWait);
        break;
    default:                     /* Closed, Unknown, gone */
        disconnect(b);
        if (b->state != XenbusStateClosed) {
            set_state(b, XenbusStateClosed);
        }
        break;
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/*
 * --poll-us: after the events, look at the rings for new requests until
 * @us pass without any, as QEMU's IOThreads do (up to 32 us by default)
 * before they sleep in poll().
 */
static void poll_rings(Backend *b, unsigned long us)
{
    uint64_t deadline = now_ns() + us * 1000;

    while (us && !stop && now_ns() < deadline) {
        for (unsigned int i = 0; i < b->nr_queues; i++) {
            Queue *q = &b->q[i];

            if (__atomic_load_n(&q->sring->req_prod, __ATOMIC_ACQUIRE) !=
                q->req_cons) {
                serve(b, q);
                deadline = now_ns() + us * 1000;
            }
        }
    }
}

/* BYTES with an optional K, M or G suffix; 0 when malformed. */
static uint64_t parse_bytes(const char *s)
{
    static const char units[] = "KMG";
    const char *unit;
    char *end;
    uint64_t v = strtoull(s, &end, 0);

    unit = *end ? strchr(units, *end) : NULL;
    if (unit) {
        v <<= 10 * (unit - units + 1);
        end++;
    }
    return end == s || *end ? 0 : v;
}

/* The disk: the image file, or with --null none, @size bytes of it. */
static int open_disk(Backend *b, const char *image, uint64_t size)
{
    struct stat st;

    if (!image) {
        b->sectors = size / 512;
        b->move = move_null;
        return 0;
    }
    b->fd = open(image, O_RDWR);
    if (b->fd < 0 || fstat(b->fd, &st) < 0) {
        return -1;
    }
    b->sectors = (uint64_t)st.st_size / 512;
    b->move = move_image;
    return 0;
}

/* What one request at a time needs, and with --null a scratch per queue. */
static void alloc_buffers(Backend *b)
{
    size_t segs = b->max_indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST ?
                  b->max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;

    b->segs = calloc(segs, sizeof(*b->segs));
    b->copy = calloc(segs, sizeof(*b->copy));
    if (!b->segs || !b->copy) {
        die("allocating buffers");
    }
    for (unsigned int i = 0; b->fd < 0 && i < b->max_queues; i++) {
        b->q[i].scratch = calloc(segs, BLKABI_PAGE_SIZE);
        if (!b->q[i].scratch) {
            die("allocating scratch buffers");
        }
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "domid", required_argument, NULL, 'd' },
        { "devid", required_argument, NULL, 'v' },
        { "image", required_argument, NULL, 'i' },
        { "null", no_argument, NULL, 'z' },
        { "size", required_argument, NULL, 's' },
        { "max-queues", required_argument, NULL, 'q' },
        { "max-indirect", required_argument, NULL, 'n' },
        { "max-ring-order", required_argument, NULL, 'o' },
        { "poll-us", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    Backend b = { .domid = 1, .devid = 51712, .max_queues = 4,
                  .max_indirect = 256, .max_order = MAX_RING_ORDER,
                  .fd = -1 };
    struct sigaction sa = { .sa_handler = on_term };
    const char *image = NULL;
    bool null = false;
    unsigned long poll_us = 0;
    uint64_t size = 256ull << 20;
    const char *size_arg = NULL;
    char fe_state[160];
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': b.domid = strtoul(optarg, NULL, 0); break;
        case 'v': b.devid = strtoul(optarg, NULL, 0); break;
        case 'i': image = optarg; break;
        case 'z': null = true; break;
        case 's': size_arg = optarg; size = parse_bytes(optarg); break;
        case 'q': b.max_queues = strtoul(optarg, NULL, 0); break;
        case 'n': b.max_indirect = strtoul(optarg, NULL, 0); break;
        case 'o': b.max_order = strtoul(optarg, NULL, 0); break;
        case 'p': poll_us = strtoul(optarg, NULL, 0); break;
        default: return 2;
        }
    }
    if (!image == !null || (size_arg && !null) || !size || size % 512 ||
        !b.max_queues || b.max_queues > MAX_QUEUES ||
        b.max_indirect > MAX_INDIRECT || b.max_order > MAX_RING_ORDER) {
        fprintf(stderr, "usage: see the comment of test-backend.c\n");
        return 2;
    }
    if (open_disk(&b, image, size) < 0) {
        die(image);
    }
    alloc_buffers(&b);
    snprintf(b.be, sizeof(b.be), "/local/domain/0/backend/vbd/%u/%u",
             b.domid, b.devid);
    snprintf(b.fe, sizeof(b.fe), "/local/domain/%u/device/vbd/%u", b.domid,
             b.devid);
    b.xs = xs_open(0);
    b.xgt = xengnttab_open(NULL, 0);
    b.xce = xenevtchn_open(NULL, 0);
    if (!b.xs || !b.xgt || !b.xce) {
        die("opening xenstore, gnttab or evtchn");
    }
    if (fcntl(xenevtchn_fd(b.xce), F_SETFL,
              fcntl(xenevtchn_fd(b.xce), F_GETFL) | O_NONBLOCK) < 0) {
        die("evtchn fd");
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    create_areas(&b);
    snprintf(fe_state, sizeof(fe_state), "%s/state", b.fe);
    if (!xs_watch(b.xs, fe_state, "fe")) {
        die("watch");
    }

    while (!stop) {
        struct pollfd p[2] = {
            { .fd = xs_fileno(b.xs), .events = POLLIN },
            { .fd = xenevtchn_fd(b.xce), .events = POLLIN },
        };
        char **ev;
        int port;

        if (poll(p, 2, -1) < 0) {
            continue;            /* EINTR: stop is checked */
        }
        while ((ev = xs_check_watch(b.xs))) {
            free(ev);
            frontend_changed(&b);
        }
        /* Non-blocking: a readable fd need not mean a pending port (an
         * unbound port's event may be left behind). */
        while ((port = xenevtchn_pending(b.xce)) >= 0) {
            xenevtchn_unmask(b.xce, port);
            for (unsigned int i = 0; i < b.nr_queues; i++) {
                if (b.q[i].port == port) {
                    serve(&b, &b.q[i]);
                }
            }
        }
        poll_rings(&b, poll_us);
    }
    disconnect(&b);
    xs_rm(b.xs, XBT_NULL, b.be);
    xs_rm(b.xs, XBT_NULL, b.fe);
    return 0;
}
