/*
 * xenbus handshake of the block frontend (io/xenbus.h, io/blkif.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blkfront-int.h"

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Strict decimal parse: the whole string, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;

    if (!*s) {
        return -EINVAL;
    }
    for (; *s; s++) {
        uint64_t d = (uint64_t)(*s - '0');

        if (*s < '0' || *s > '9' || x > (UINT64_MAX - d) / 10) {
            return -EINVAL;
        }
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* Read a decimal node; -ENOENT when absent, -EINVAL when malformed. */
static int xs_read_u64(Blkfront *bf, const char *dir, const char *key,
                       uint64_t *v)
{
    char path[320];
    char *s;
    int ret;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    s = xenemu_xs_read(bf->g, 0, path, NULL);
    if (!s) {
        return -ENOENT;
    }
    ret = parse_u64(s, v);
    if (ret < 0) {
        blk_log("%s: not a number: '%s'", path, s);
    }
    free(s);
    return ret;
}

/* Optional numeric key: absent gives @def; malformed is an error. */
static int read_opt(Blkfront *bf, const char *key, uint64_t def,
                    uint64_t max, uint64_t *v)
{
    int ret = xs_read_u64(bf, bf->be_path, key, v);

    if (ret == -ENOENT) {
        *v = def;
        return 0;
    }
    if (ret < 0) {
        return ret;
    }
    if (*v > max) {
        blk_log("%s/%s: %" PRIu64 " out of range", bf->be_path, key, *v);
        return -ERANGE;
    }
    return 0;
}

static int read_state(Blkfront *bf, const char *dir)
{
    uint64_t v;
    int ret = xs_read_u64(bf, dir, "state", &v);

    if (ret < 0) {
        return ret == -ENOENT ? XenbusStateUnknown : ret;
    }
    return v > XenbusStateReconfigured ? -EINVAL : (int)v;
}

int blkfront_backend_state(Blkfront *bf)
{
    return read_state(bf, bf->be_path);
}

static int write_fe_state(Blkfront *bf, int state)
{
    char path[128];
    int ret;

    snprintf(path, sizeof(path), "%s/state", bf->fe_path);
    ret = xenemu_xs_printf(bf->g, 0, path, "%d", state);
    if (ret < 0) {
        blk_log("writing %s: %s", path, strerror(-ret));
    }
    return ret;
}

/*
 * Wait until @path (re-read on every watch event) satisfies @ok, for at most
 * @timeout_ms.  The watch fires once when set, so a value that is already
 * right returns at once; @ok keeps what it saw in @arg.
 */
typedef bool WaitPred(Blkfront *bf, const char *path, void *arg);

static int wait_for(Blkfront *bf, const char *path, WaitPred *ok, void *arg,
                    int timeout_ms)
{
    char token[32];
    int64_t deadline = now_ms() + timeout_ms;
    int ret;

    /* The xenstore connection is the domain's and outlives this process:
     * a watch left behind by a killed run must not collide with ours. */
    snprintf(token, sizeof(token), "blkfront-%d-%u", (int)getpid(),
             ++bf->watch_seq);
    ret = xenemu_xs_watch(bf->g, path, token);
    if (ret < 0) {
        blk_log("watch %s: %s", path, strerror(-ret));
        return ret;
    }
    for (;;) {
        char *wpath = NULL, *wtoken = NULL;
        int64_t left;

        if (ok(bf, path, arg)) {
            ret = 0;
            break;
        }
        left = deadline - now_ms();
        if (left <= 0) {
            ret = -ETIMEDOUT;
            break;
        }
        /* Events of earlier watches may still be queued: any event is
         * just a reason to look again. */
        ret = xenemu_xs_read_watch(bf->g, (int)left, &wpath, &wtoken);
        free(wpath);
        free(wtoken);
        if (ret < 0 && ret != -EAGAIN) {
            blk_log("read watch: %s", strerror(-ret));
            break;
        }
    }
    xenemu_xs_unwatch(bf->g, path, token);
    return ret;
}

/* Predicate argument: a set of acceptable states, and the state seen. */
typedef struct StateWait {
    unsigned int mask;
    int seen;
} StateWait;

static bool state_in(Blkfront *bf, const char *path, void *arg)
{
    StateWait *w = arg;
    char *s = xenemu_xs_read(bf->g, 0, path, NULL);
    uint64_t v;

    w->seen = XenbusStateUnknown;
    if (s && parse_u64(s, &v) == 0 && v <= XenbusStateReconfigured) {
        w->seen = (int)v;
    }
    free(s);
    return (w->mask >> w->seen) & 1;
}

static bool node_exists(Blkfront *bf, const char *path, void *arg)
{
    char *s = xenemu_xs_read(bf->g, 0, path, NULL);

    (void)arg;
    free(s);
    return s != NULL;
}

#define ST(s) (1u << (s))

static const char *state_name(int s)
{
    static const char *const names[] = {
        "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
        "Closing", "Closed", "Reconfiguring", "Reconfigured",
    };

    return s >= 0 && s <= XenbusStateReconfigured ? names[s] : "?";
}

/* Wait for the backend state to enter @mask; returns the state or -errno. */
static int wait_backend(Blkfront *bf, unsigned int mask, int timeout_ms)
{
    char path[300];
    StateWait w = { .mask = mask };
    int ret;

    snprintf(path, sizeof(path), "%s/state", bf->be_path);
    ret = wait_for(bf, path, state_in, &w, timeout_ms);
    if (ret == -ETIMEDOUT && !bf->cfg.quiet) {
        blk_log("backend %s stays %d (%s)", bf->be_path, w.seen,
                state_name(w.seen));
    }
    return ret < 0 ? ret : w.seen;
}

/* Pick the first device of the domain when none was named. */
static int find_devid(Blkfront *bf, uint32_t *devid)
{
    char **names;
    unsigned int n = 0;
    int ret = -ENOENT;

    names = xenemu_xs_directory(bf->g, 0, "device/vbd", &n);
    if (!names) {
        return -ENOENT;
    }
    for (unsigned int i = 0; i < n; i++) {
        uint64_t v;

        if (ret < 0 && parse_u64(names[i], &v) == 0 && v <= UINT32_MAX) {
            *devid = (uint32_t)v;
            ret = 0;
        }
        free(names[i]);
    }
    free(names);
    return ret;
}

static bool have_vbd(Blkfront *bf, const char *path, void *arg)
{
    return find_devid(bf, arg) == 0;
}

static int locate(Blkfront *bf)
{
    uint32_t domid = xenemu_guest_domid(bf->g);
    char path[160];
    char *be;
    uint64_t v;
    int ret;

    if (!bf->cfg.devid) {
        ret = wait_for(bf, "device/vbd", have_vbd, &bf->devid,
                       bf->cfg.timeout_ms);
        if (ret < 0) {
            blk_log("no device under /local/domain/%u/device/vbd", domid);
            return -ENODEV;
        }
    } else {
        bf->devid = bf->cfg.devid;
    }
    snprintf(bf->fe_path, sizeof(bf->fe_path),
             "/local/domain/%u/device/vbd/%u", domid, bf->devid);
    snprintf(path, sizeof(path), "%s/backend", bf->fe_path);
    ret = wait_for(bf, path, node_exists, NULL, bf->cfg.timeout_ms);
    if (ret < 0) {
        blk_log("%s does not appear", path);
        return -ENODEV;
    }
    be = xenemu_xs_read(bf->g, 0, path, NULL);
    if (!be || strlen(be) >= sizeof(bf->be_path)) {
        free(be);
        return -EINVAL;
    }
    strcpy(bf->be_path, be);
    free(be);

    /* backend-id is optional for the handshake; the path names it too. */
    if (xs_read_u64(bf, bf->fe_path, "backend-id", &v) == 0 &&
        v < 0x7ff0) {
        bf->backend_id = (uint32_t)v;
    } else if (sscanf(bf->be_path, "/local/domain/%" SCNu32 "/",
                      &bf->backend_id) != 1) {
        blk_log("cannot tell the backend domain of %s", bf->be_path);
        return -EINVAL;
    }
    return 0;
}

static int read_features(Blkfront *bf)
{
    BlkFeatures *f = &bf->feat;
    uint64_t v = 0;
    int ret = 0;

    memset(f, 0, sizeof(*f));
    /* The first malformed key fails the connection; later ones are not
     * read. */
#define FLAG(key, field) \
    do { ret = ret ? ret : read_opt(bf, key, 0, 1, &v); f->field = v; } \
    while (0)
#define NUM(key, def, max, field) \
    do { ret = ret ? ret : read_opt(bf, key, def, max, &v); f->field = v; } \
    while (0)
    FLAG("feature-flush-cache", flush);
    FLAG("feature-barrier", barrier);
    FLAG("feature-discard", discard);
    FLAG("discard-secure", discard_secure);
    FLAG("feature-persistent", persistent);
    NUM("discard-granularity", 0, UINT32_MAX, discard_granularity);
    NUM("discard-alignment", 0, UINT32_MAX, discard_alignment);
    NUM("feature-max-indirect-segments", 0, UINT32_MAX, max_indirect_segs);
    NUM("max-ring-page-order", 0, 31, max_ring_order);
    NUM("multi-queue-max-queues", 0, UINT32_MAX, max_queues);
#undef FLAG
#undef NUM
    if (ret == 0 && !f->max_ring_order &&
        read_opt(bf, "max-ring-pages", 1, 1u << 31, &v) == 0) {
        /* Deprecated page-count form: order = log2(pages). */
        while ((2ull << f->max_ring_order) <= v) {
            f->max_ring_order++;
        }
    }
    return ret;
}

static int read_geometry(Blkfront *bf)
{
    BlkFeatures *f = &bf->feat;
    uint64_t v;
    int ret;

    ret = xs_read_u64(bf, bf->be_path, "sectors", &f->sectors);
    if (ret < 0) {
        blk_log("%s/sectors: %s", bf->be_path, strerror(-ret));
        return ret;
    }
    ret = read_opt(bf, "sector-size", 512, 1u << 20, &v);
    if (ret < 0 || v < 512 || (v & (v - 1))) {
        blk_log("%s/sector-size is not a power of two >= 512", bf->be_path);
        return -EINVAL;
    }
    f->sector_size = v;
    bf->unit = bf->cfg.large_sectors ? f->sector_size : 512;
    if (f->sectors > UINT64_MAX / bf->unit) {
        blk_log("%s/sectors: %" PRIu64 " overflows", bf->be_path,
                f->sectors);
        return -ERANGE;
    }
    ret = read_opt(bf, "physical-sector-size", f->sector_size, 1u << 20, &v);
    f->physical_sector_size = v;
    if (ret == 0) {
        ret = read_opt(bf, "info", 0, UINT32_MAX, &v);
        f->info = v;
    }
    return ret;
}

/* Keys a connection publishes, removed before and after so that a key of
 * an earlier, differently configured connection never lingers. */
static bool is_connection_key(const char *name)
{
    static const char *const keys[] = {
        "ring-page-order", "event-channel", "protocol",
        "multi-queue-num-queues", "feature-large-sector-size",
        "feature-persistent",
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!strcmp(name, keys[i])) {
            return true;
        }
    }
    return !strncmp(name, "ring-ref", 8) || !strncmp(name, "queue-", 6);
}

static int clear_connection_keys(Blkfront *bf, XenemuTx tx)
{
    char **names;
    unsigned int n = 0;
    int ret = 0;

    names = xenemu_xs_directory(bf->g, tx, bf->fe_path, &n);
    if (!names) {
        return 0;
    }
    for (unsigned int i = 0; i < n; i++) {
        if (ret >= 0 && is_connection_key(names[i])) {
            char path[160];

            snprintf(path, sizeof(path), "%s/%s", bf->fe_path, names[i]);
            ret = xenemu_xs_rm(bf->g, tx, path);
            if (ret == -ENOENT) {
                ret = 0;
            }
        }
        free(names[i]);
    }
    free(names);
    return ret;
}

static int publish_queue(Blkfront *bf, XenemuTx tx, BlkQueue *q)
{
    char dir[128];
    char path[160];
    int ret = 0;

    if (bf->nr_queues > 1) {
        snprintf(dir, sizeof(dir), "%s/queue-%u", bf->fe_path, q->index);
    } else {
        snprintf(dir, sizeof(dir), "%s", bf->fe_path);
    }
    if (bf->ring_order == 0) {
        snprintf(path, sizeof(path), "%s/ring-ref", dir);
        ret = xenemu_xs_printf(bf->g, tx, path, "%u", q->ring_grefs[0]);
    } else {
        for (unsigned int i = 0; ret >= 0 && i < q->nr_ring_grefs; i++) {
            snprintf(path, sizeof(path), "%s/ring-ref%u", dir, i);
            ret = xenemu_xs_printf(bf->g, tx, path, "%u", q->ring_grefs[i]);
        }
    }
    if (ret >= 0) {
        snprintf(path, sizeof(path), "%s/event-channel", dir);
        ret = xenemu_xs_printf(bf->g, tx, path, "%d", q->port);
    }
    return ret;
}

static int publish(Blkfront *bf)
{
    char path[160];
    int ret;

    for (;;) {
        XenemuTx tx;

        ret = xenemu_xs_transaction_start(bf->g, &tx);
        if (ret < 0) {
            break;
        }
        ret = clear_connection_keys(bf, tx);
        if (ret >= 0 && bf->ring_order > 0) {
            snprintf(path, sizeof(path), "%s/ring-page-order", bf->fe_path);
            ret = xenemu_xs_printf(bf->g, tx, path, "%u", bf->ring_order);
        }
        if (ret >= 0 && (bf->nr_queues > 1 || bf->cfg.unikraft)) {
            snprintf(path, sizeof(path), "%s/multi-queue-num-queues",
                     bf->fe_path);
            ret = xenemu_xs_printf(bf->g, tx, path, "%u", bf->nr_queues);
        }
        for (unsigned int i = 0; ret >= 0 && i < bf->nr_queues; i++) {
            ret = publish_queue(bf, tx, &bf->queues[i]);
        }
        if (ret >= 0 && bf->cfg.write_protocol && !bf->cfg.unikraft) {
            snprintf(path, sizeof(path), "%s/protocol", bf->fe_path);
            ret = xenemu_xs_printf(bf->g, tx, path, "%s",
                                   blkabi_proto_name(bf->proto));
        }
        if (ret >= 0 && bf->cfg.persistent) {
            snprintf(path, sizeof(path), "%s/feature-persistent",
                     bf->fe_path);
            ret = xenemu_xs_printf(bf->g, tx, path, "1");
        }
        if (ret >= 0 && bf->cfg.large_sectors) {
            snprintf(path, sizeof(path), "%s/feature-large-sector-size",
                     bf->fe_path);
            ret = xenemu_xs_printf(bf->g, tx, path, "1");
        }
        if (ret >= 0 && bf->cfg.tamper) {
            ret = bf->cfg.tamper(bf, tx, bf->cfg.tamper_opaque);
        }
        if (ret < 0) {
            xenemu_xs_transaction_end(bf->g, tx, true);
            break;
        }
        ret = xenemu_xs_transaction_end(bf->g, tx, false);
        if (ret != -EAGAIN) {
            break;
        }
    }
    if (ret < 0) {
        blk_log("publishing the rings under %s: %s", bf->fe_path,
                strerror(-ret));
    }
    return ret;
}

static void free_queues(Blkfront *bf, int *ret)
{
    for (unsigned int i = 0; bf->queues && i < bf->nr_queues; i++) {
        int r = blkq_teardown(bf, &bf->queues[i]);

        if (r < 0 && *ret >= 0) {
            *ret = r;
        }
    }
    free(bf->queues);
    bf->queues = NULL;
}

/*
 * Bring a backend left Initialised/Connected/Closing by an earlier frontend
 * (a crashed run, or a hostile test) to Closed, then back to InitWait.
 */
static int reach_initwait(Blkfront *bf)
{
    int be = read_state(bf, bf->be_path);
    int fe = read_state(bf, bf->fe_path);
    int ret;

    if (be == XenbusStateInitialised || be == XenbusStateConnected ||
        be == XenbusStateClosing) {
        if (write_fe_state(bf, XenbusStateClosing) < 0 ||
            wait_backend(bf, ST(XenbusStateClosing) | ST(XenbusStateClosed),
                         bf->cfg.timeout_ms) < 0 ||
            write_fe_state(bf, XenbusStateClosed) < 0 ||
            wait_backend(bf, ST(XenbusStateClosed), bf->cfg.timeout_ms) < 0) {
            blk_log("backend %s did not close", bf->be_path);
            return -EIO;
        }
        fe = XenbusStateClosed;
    }
    if (fe != XenbusStateInitialising) {
        ret = write_fe_state(bf, XenbusStateInitialising);
        if (ret < 0) {
            return ret;
        }
    }
    if (bf->cfg.unikraft) {
        return 0;                /* it publishes its rings at once */
    }
    ret = wait_backend(bf, ST(XenbusStateInitWait), bf->cfg.timeout_ms);
    if (ret < 0) {
        blk_log("backend %s does not reach InitWait", bf->be_path);
    }
    return ret;
}

/* Keys Unikraft's blkfront reads with xs_scanf: each one must exist. */
static int unikraft_require(Blkfront *bf, const char *const keys[],
                            unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        char path[160];
        char *s;

        snprintf(path, sizeof(path), "%s/%s", bf->be_path, keys[i]);
        s = xenemu_xs_read(bf->g, 0, path, NULL);
        if (!s) {
            blk_log("Failed to read %s", keys[i]);
            return -ENOENT;
        }
        free(s);
    }
    return 0;
}

static unsigned int min_u(unsigned int a, unsigned int b)
{
    return a < b ? a : b;
}

static void negotiate(Blkfront *bf)
{
    const BlkfrontConfig *c = &bf->cfg;
    const BlkFeatures *f = &bf->feat;

    bf->proto = c->proto;
    bf->ring_order = min_u(min_u(c->unikraft ? 0 : c->ring_order,
                                 f->max_ring_order),
                           BLKFRONT_MAX_RING_ORDER);
    bf->nr_queues = min_u(min_u(c->queues ? c->queues : 1,
                                f->max_queues ? f->max_queues : 1),
                          BLKFRONT_MAX_QUEUES);
    bf->indirect_segs = 0;
    if (!c->unikraft &&
        c->indirect_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST &&
        f->max_indirect_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        bf->indirect_segs = min_u(min_u(c->indirect_segs,
                                        f->max_indirect_segs),
                                  BLKFRONT_MAX_INDIRECT_SEGS);
    }
    bf->max_segs = bf->indirect_segs ? bf->indirect_segs
                                     : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    if (!c->quiet && (bf->ring_order != c->ring_order ||
                      bf->nr_queues != (c->queues ? c->queues : 1))) {
        blk_log("backend offers ring order <= %u, %u queue(s): using "
                "order %u, %u queue(s)", f->max_ring_order,
                f->max_queues ? f->max_queues : 1, bf->ring_order,
                bf->nr_queues);
    }
}

/*
 * Failed connect: tell the backend we are gone and revoke what we granted;
 * -EBUSY when the backend still maps some of it.
 */
static int abort_connect(Blkfront *bf)
{
    int ret = 0;

    if (write_fe_state(bf, XenbusStateClosed) >= 0) {
        wait_backend(bf, ST(XenbusStateClosed), bf->cfg.timeout_ms);
    }
    free_queues(bf, &ret);
    clear_connection_keys(bf, 0);
    return ret == -EBUSY ? ret : 0;
}

void blkfront_config_init(BlkfrontConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->proto = BLK_PROTO_NATIVE;
    cfg->write_protocol = true;
    cfg->queues = 1;
    cfg->timeout_ms = 10000;
}

int blkfront_connect(XenemuGuest *g, const BlkfrontConfig *cfg,
                     Blkfront **out)
{
    Blkfront *bf = calloc(1, sizeof(*bf));
    int ret;

    if (!bf) {
        return -ENOMEM;
    }
    bf->g = g;
    bf->cfg = *cfg;
    ret = locate(bf);
    if (ret >= 0 && cfg->unikraft) {
        static const char *const probe[] = { "multi-queue-max-queues" };

        ret = unikraft_require(bf, probe, 1);
    }
    if (ret >= 0) {
        ret = reach_initwait(bf);
    }
    if (ret >= 0) {
        ret = read_features(bf);
    }
    if (ret < 0) {
        free(bf);
        return ret;
    }
    negotiate(bf);

    bf->queues = calloc(bf->nr_queues, sizeof(*bf->queues));
    ret = bf->queues ? 0 : -ENOMEM;
    for (unsigned int i = 0; ret >= 0 && i < bf->nr_queues; i++) {
        bf->queues[i].port = -1;
        ret = blkq_setup(bf, &bf->queues[i], i);
    }
    if (ret >= 0) {
        ret = publish(bf);
    }
    if (ret >= 0) {
        ret = write_fe_state(bf, cfg->unikraft ? XenbusStateConnected
                                               : XenbusStateInitialised);
    }
    if (ret >= 0) {
        ret = wait_backend(bf, ST(XenbusStateConnected) |
                           ST(XenbusStateClosing) | ST(XenbusStateClosed),
                           bf->cfg.timeout_ms);
        if (ret >= 0 && ret != XenbusStateConnected) {
            blk_log("backend %s refused the connection (state %d)",
                    bf->be_path, ret);
            ret = -ECONNREFUSED;
        }
    }
    if (ret >= 0 && cfg->unikraft) {
        static const char *const connected[] = {
            "sectors", "sector-size", "feature-flush-cache",
            "feature-barrier", "mode",
        };

        ret = unikraft_require(bf, connected, 5);
    }
    if (ret >= 0) {
        ret = read_geometry(bf);
    }
    if (ret >= 0 && !cfg->unikraft) {
        ret = write_fe_state(bf, XenbusStateConnected);
    }
    if (ret < 0) {
        if (abort_connect(bf) < 0) {
            ret = -EBUSY;
        }
        free(bf);
        return ret;
    }
    *out = bf;
    return 0;
}

int blkfront_disconnect(Blkfront *bf)
{
    int ret = 0;
    int be;

    /* Requests still on the ring complete before we close. */
    while (blkfront_inflight(bf) && ret >= 0) {
        ret = blkfront_poll(bf, bf->cfg.timeout_ms, NULL, NULL);
    }
    if (ret < 0) {
        blk_log("%u request(s) never completed", blkfront_inflight(bf));
    }
    be = write_fe_state(bf, XenbusStateClosing);
    if (be >= 0) {
        be = wait_backend(bf, ST(XenbusStateClosing) | ST(XenbusStateClosed),
                          bf->cfg.timeout_ms);
    }
    if (be >= 0) {
        be = write_fe_state(bf, XenbusStateClosed);
    }
    if (be >= 0) {
        /*
         * A backend being unplugged removes its area once Closed: the
         * state then reads Unknown, which is as good as Closed.
         */
        be = wait_backend(bf, ST(XenbusStateClosed) | ST(XenbusStateUnknown),
                          bf->cfg.timeout_ms);
    }
    /* Unikraft then offers the device again and waits for InitWait. */
    if (be == XenbusStateClosed && bf->cfg.unikraft) {
        be = write_fe_state(bf, XenbusStateInitialising);
        if (be >= 0) {
            be = wait_backend(bf, ST(XenbusStateInitWait),
                              bf->cfg.timeout_ms);
        }
    }
    if (be < 0) {
        blk_log("close handshake with %s failed", bf->be_path);
        ret = be;
    }
    /* Only now has the backend let go of the ring and data pages. */
    free_queues(bf, &ret);
    clear_connection_keys(bf, 0);
    free(bf);
    return ret;
}

const BlkFeatures *blkfront_features(const Blkfront *bf)
{
    return &bf->feat;
}

uint32_t blkfront_devid(const Blkfront *bf)
{
    return bf->devid;
}

uint32_t blkfront_backend_id(const Blkfront *bf)
{
    return bf->backend_id;
}

const char *blkfront_backend_path(const Blkfront *bf)
{
    return bf->be_path;
}

const char *blkfront_frontend_path(const Blkfront *bf)
{
    return bf->fe_path;
}

BlkProto blkfront_proto(const Blkfront *bf)
{
    return bf->proto;
}

unsigned int blkfront_ring_order(const Blkfront *bf)
{
    return bf->ring_order;
}

unsigned int blkfront_ring_entries(const Blkfront *bf)
{
    return bf->queues[0].ring.nr_ents;
}

unsigned int blkfront_nr_queues(const Blkfront *bf)
{
    return bf->nr_queues;
}

unsigned int blkfront_max_segs(const Blkfront *bf)
{
    return bf->max_segs;
}

uint64_t blkfront_size(const Blkfront *bf)
{
    return bf->feat.sectors * bf->unit;
}

unsigned int blkfront_sector_unit(const Blkfront *bf)
{
    return bf->unit;
}

XenemuGuest *blkfront_guest(const Blkfront *bf)
{
    return bf->g;
}
