/*
 * blkfront-test-backend: a small block backend for testing xen-blkfront's
 * indirect descriptors and multi-queue rings, which stock QEMU 7.2 does not
 * offer.  A dom0 process under the double (LD_PRELOAD=$XENEMU_PRELOAD):
 * libxenstore, libxengnttab and libxenevtchn, one image file, one thread.
 *
 *   blkfront-test-backend --domid N --devid D --image PATH
 *       [--max-queues Q] [--max-indirect SEGS] [--max-ring-order K]
 *
 * Creates the backend area backend/vbd/N/D (type vbd, so it never meets
 * QEMU's qdisk watch) and the frontend area, then serves READ, WRITE,
 * INDIRECT and FLUSH_DISKCACHE until SIGTERM, when it removes both areas.
 * Deliberately simple: it trusts the frontend under test (validation is
 * the real backend's business, and hostile cases test that), and maps
 * each data page on its own.
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
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "blkif-abi.h"

#define MAX_QUEUES 16
#define MAX_RING_ORDER 4

typedef struct Queue {
    void *ring;
    struct blkabi_sring_hdr *sring;
    unsigned int nr_ents;
    uint32_t req_cons;
    uint32_t rsp_prod_pvt;
    int port;                    /* local port, -1 when unbound */
} Queue;

typedef struct Backend {
    uint32_t domid, devid;
    unsigned int max_queues, max_indirect, max_order;
    int fd;
    uint64_t sectors;
    char be[128], fe[128];
    struct xs_handle *xs;
    xengnttab_handle *xgt;
    xenevtchn_handle *xce;
    int state;
    BlkProto proto;
    unsigned int order, nr_queues;
    Queue q[MAX_QUEUES];
} Backend;

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
        memset(q, 0, sizeof(*q));
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

/* Copy between the image and one granted page. */
static int do_segment(Backend *b, bool write, uint32_t gref, uint8_t first,
                      uint8_t last, uint64_t *sector)
{
    size_t len = (size_t)(last - first + 1) * 512;
    uint8_t *page;
    ssize_t n;

    if (first > last || last > 7 || *sector + len / 512 > b->sectors) {
        return -1;
    }
    page = xengnttab_map_grant_ref(b->xgt, b->domid, gref,
                                   write ? PROT_READ : PROT_READ | PROT_WRITE);
    if (!page) {
        return -1;
    }
    if (write) {
        n = pwrite(b->fd, page + first * 512, len, (off_t)(*sector * 512));
    } else {
        n = pread(b->fd, page + first * 512, len, (off_t)(*sector * 512));
    }
    xengnttab_unmap(b->xgt, page, 1);
    *sector += len / 512;
    return n == (ssize_t)len ? 0 : -1;
}

static int16_t handle(Backend *b, const BlkWireReq *r, uint8_t *rsp_op)
{
    uint64_t sector = r->sector_number;
    uint8_t op = r->operation;

    *rsp_op = op;
    switch (op) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
        if (!r->nr_segments ||
            r->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            return BLKIF_RSP_ERROR;
        }
        for (unsigned int i = 0; i < r->nr_segments; i++) {
            if (do_segment(b, op == BLKIF_OP_WRITE, r->seg[i].gref,
                           r->seg[i].first_sect, r->seg[i].last_sect,
                           &sector) < 0) {
                return BLKIF_RSP_ERROR;
            }
        }
        return BLKIF_RSP_OKAY;
    case BLKIF_OP_INDIRECT: {
        unsigned int npages = (r->nr_segments + BLKABI_SEGS_PER_INDIRECT_PAGE
                               - 1) / BLKABI_SEGS_PER_INDIRECT_PAGE;
        struct blkabi_segment *segs;
        int16_t status = BLKIF_RSP_OKAY;

        if (!b->max_indirect || !r->nr_segments ||
            r->nr_segments > b->max_indirect ||
            (r->indirect_op != BLKIF_OP_READ &&
             r->indirect_op != BLKIF_OP_WRITE)) {
            return BLKIF_RSP_ERROR;
        }
        segs = xengnttab_map_domain_grant_refs(b->xgt, npages, b->domid,
                                               (uint32_t *)r->indirect_grefs,
                                               PROT_READ);
        if (!segs) {
            return BLKIF_RSP_ERROR;
        }
        for (unsigned int i = 0; status == 0 && i < r->nr_segments; i++) {
            struct blkabi_segment s = segs[i];

            if (do_segment(b, r->indirect_op == BLKIF_OP_WRITE, s.gref,
                           s.first_sect, s.last_sect, &sector) < 0) {
                status = BLKIF_RSP_ERROR;
            }
        }
        xengnttab_unmap(b->xgt, segs, npages);
        return status;
    }
    case BLKIF_OP_FLUSH_DISKCACHE:
        return fdatasync(b->fd) == 0 ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR;
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
            rsp.status = handle(b, &r, &rsp.operation);
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

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "domid", required_argument, NULL, 'd' },
        { "devid", required_argument, NULL, 'v' },
        { "image", required_argument, NULL, 'i' },
        { "max-queues", required_argument, NULL, 'q' },
        { "max-indirect", required_argument, NULL, 'n' },
        { "max-ring-order", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    Backend b = { .domid = 1, .devid = 51712, .max_queues = 4,
                  .max_indirect = 256, .max_order = MAX_RING_ORDER,
                  .fd = -1 };
    struct sigaction sa = { .sa_handler = on_term };
    const char *image = NULL;
    struct stat st;
    char fe_state[160];
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': b.domid = strtoul(optarg, NULL, 0); break;
        case 'v': b.devid = strtoul(optarg, NULL, 0); break;
        case 'i': image = optarg; break;
        case 'q': b.max_queues = strtoul(optarg, NULL, 0); break;
        case 'n': b.max_indirect = strtoul(optarg, NULL, 0); break;
        case 'o': b.max_order = strtoul(optarg, NULL, 0); break;
        default: return 2;
        }
    }
    if (!image || !b.max_queues || b.max_queues > MAX_QUEUES ||
        b.max_order > MAX_RING_ORDER) {
        fprintf(stderr, "usage: see the comment of test-backend.c\n");
        return 2;
    }
    b.fd = open(image, O_RDWR);
    if (b.fd < 0 || fstat(b.fd, &st) < 0) {
        die(image);
    }
    b.sectors = (uint64_t)st.st_size / 512;
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
    }
    disconnect(&b);
    xs_rm(b.xs, XBT_NULL, b.be);
    xs_rm(b.xs, XBT_NULL, b.fe);
    return 0;
}
