/*
 * xenemu: the guest's xenstore client over its ring (io/xs_wire.h)
 *
 * One request at a time, as Linux's xenbus does per transaction: write the
 * message into the req ring, notify, then read messages from the rsp ring
 * until the reply arrives; watch events read meanwhile are queued for
 * xenemu_xs_read_watch.  The xenstore port sits on its own delivery queue,
 * so xenemu_guest_evtchn_wait never sees it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "guest-int.h"

/*
 * xenstored answers in milliseconds; a hang would be a dead or stuck
 * xenstored, which a test should report rather than wait for forever.
 */
#define XS_TIMEOUT_MS 30000

typedef struct XsMsg {
    struct xsd_sockmsg hdr;
    char *body;                 /* hdr.len bytes plus a NUL */
} XsMsg;

static int remaining_ms(int64_t deadline_ms)
{
    struct timespec ts;
    int64_t now;

    if (deadline_ms < 0) {
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
    return now >= deadline_ms ? 0 : deadline_ms - now;
}

static int64_t deadline_after(int timeout_ms)
{
    struct timespec ts;

    if (timeout_ms < 0) {
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + timeout_ms;
}

/* Sleep until xenstored signals the port: 0, or -EAGAIN at the deadline. */
static int wait_event(XenemuGuest *g, int64_t deadline_ms)
{
    int port = xenemu_evc_wait(&g->xs_ev, remaining_ms(deadline_ms));

    if (port < 0) {
        return port;
    }
    evc_unmask(&g->xs_ev, port);
    return 0;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void copy_to_ring(char *ring, XENSTORE_RING_IDX idx, const char *src,
                         size_t len)
{
    size_t first = min_size(len, XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(idx));

    memcpy(ring + MASK_XENSTORE_IDX(idx), src, first);
    memcpy(ring, src + first, len - first);
}

static void copy_from_ring(char *dst, const char *ring, XENSTORE_RING_IDX idx,
                           size_t len)
{
    size_t first = min_size(len, XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(idx));

    memcpy(dst, ring + MASK_XENSTORE_IDX(idx), first);
    memcpy(dst + first, ring, len - first);
}

/*
 * Wait until the request ring has room for @want bytes (at least one):
 * returns the room, or -errno (-EIO when xenstored corrupted the indexes).
 */
static int req_wait(XenemuGuest *g, size_t want, int64_t deadline_ms)
{
    struct xenstore_domain_interface *xs = g->xs;

    for (;;) {
        XENSTORE_RING_IDX used = xs->req_prod -
            __atomic_load_n(&xs->req_cons, __ATOMIC_ACQUIRE);
        int ret;

        if (used > XENSTORE_RING_SIZE) {
            return -EIO;
        }
        if (used < XENSTORE_RING_SIZE && XENSTORE_RING_SIZE - used >= want) {
            return XENSTORE_RING_SIZE - used;
        }
        ret = wait_event(g, deadline_ms);
        if (ret < 0) {
            return ret;
        }
    }
}

/* The same for unread bytes of the response ring. */
static int rsp_wait(XenemuGuest *g, size_t want, int64_t deadline_ms)
{
    struct xenstore_domain_interface *xs = g->xs;

    for (;;) {
        XENSTORE_RING_IDX avail =
            __atomic_load_n(&xs->rsp_prod, __ATOMIC_ACQUIRE) - xs->rsp_cons;
        int ret;

        if (avail > XENSTORE_RING_SIZE) {
            return -EIO;
        }
        if (avail && avail >= want) {
            return avail;
        }
        ret = wait_event(g, deadline_ms);
        if (ret < 0) {
            return ret;
        }
    }
}

/*
 * Both directions move a whole message with one index update whenever it
 * fits in the ring, waiting for room (or data) for all of it: a process
 * killed halfway through then leaves the ring at a message boundary, where
 * the domain's next process can pick it up.  Only messages longer than the
 * ring (payloads up to XENSTORE_PAYLOAD_MAX) go in pieces.
 */
static int ring_write(XenemuGuest *g, const void *data, size_t len,
                      int64_t deadline_ms)
{
    struct xenstore_domain_interface *xs = g->xs;
    const char *p = data;

    while (len) {
        int room = req_wait(g, min_size(len, XENSTORE_RING_SIZE), deadline_ms);
        size_t chunk;

        if (room < 0) {
            return room;
        }
        chunk = min_size(len, room);
        copy_to_ring(xs->req, xs->req_prod, p, chunk);
        __atomic_store_n(&xs->req_prod, xs->req_prod + chunk,
                         __ATOMIC_RELEASE);
        p += chunk;
        len -= chunk;
        evc_notify(&g->xs_ev, g->xs_port);
    }
    return 0;
}

static int ring_read(XenemuGuest *g, void *data, size_t len,
                     int64_t deadline_ms)
{
    struct xenstore_domain_interface *xs = g->xs;
    char *p = data;

    while (len) {
        int avail = rsp_wait(g, min_size(len, XENSTORE_RING_SIZE),
                             deadline_ms);
        size_t chunk;

        if (avail < 0) {
            return avail;
        }
        chunk = min_size(len, avail);
        copy_from_ring(p, xs->rsp, xs->rsp_cons, chunk);
        __atomic_store_n(&xs->rsp_cons, xs->rsp_cons + chunk,
                         __ATOMIC_RELEASE);
        p += chunk;
        len -= chunk;
        /* xenstored may be waiting for room to write the rest. */
        evc_notify(&g->xs_ev, g->xs_port);
    }
    return 0;
}

/*
 * Read one message, header and body in one go (see ring_write).
 * @deadline_ms only applies to its header: the rest follows at once unless
 * xenstored is stuck, which is reported as -ETIMEDOUT.
 */
static int read_msg(XenemuGuest *g, XsMsg *msg, int64_t deadline_ms)
{
    int ret = rsp_wait(g, sizeof(msg->hdr), deadline_ms);
    char *buf;

    if (ret < 0) {
        return ret;
    }
    copy_from_ring((char *)&msg->hdr, g->xs->rsp, g->xs->rsp_cons,
                   sizeof(msg->hdr));
    if (msg->hdr.len > XENSTORE_PAYLOAD_MAX) {
        return -EIO;
    }
    buf = malloc(sizeof(msg->hdr) + msg->hdr.len + 1);
    if (!buf) {
        return -ENOMEM;
    }
    ret = ring_read(g, buf, sizeof(msg->hdr) + msg->hdr.len,
                    deadline_after(XS_TIMEOUT_MS));
    if (ret < 0) {
        free(buf);
        return ret == -EAGAIN ? -ETIMEDOUT : ret;
    }
    memmove(buf, buf + sizeof(msg->hdr), msg->hdr.len);
    buf[msg->hdr.len] = '\0';
    msg->body = buf;
    return 0;
}

/* Queue a watch event; takes ownership of msg->body. */
static void queue_watch(XenemuGuest *g, XsMsg *msg)
{
    XsWatchEvent *ev = calloc(1, sizeof(*ev));
    size_t path_len = strnlen(msg->body, msg->hdr.len);

    if (!ev || path_len + 1 >= msg->hdr.len + 1) {
        free(ev);
        free(msg->body);
        return;
    }
    ev->path = strdup(msg->body);
    ev->token = strdup(msg->body + path_len + 1);
    free(msg->body);
    if (!ev->path || !ev->token) {
        free(ev->path);
        free(ev->token);
        free(ev);
        return;
    }
    *g->watch_tail = ev;
    g->watch_tail = &ev->next;
}

static int xs_errno(const char *name)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
        if (!strcmp(xsd_errors[i].errstring, name)) {
            return xsd_errors[i].errnum;
        }
    }
    return EIO;
}

/*
 * One request/reply exchange.  @iov holds the payload parts; on success the
 * reply body (NUL-terminated) goes to *reply if non-NULL.  -ETIMEDOUT when
 * xenstored does not answer within XS_TIMEOUT_MS.
 */
static int talk(XenemuGuest *g, uint32_t type, XenemuTx tx,
                const struct iovec *iov, unsigned int niov,
                char **reply, unsigned int *reply_len)
{
    struct xsd_sockmsg hdr = {
        .type = type,
        .tx_id = tx,
    };
    int64_t deadline = deadline_after(XS_TIMEOUT_MS);
    char buf[sizeof(hdr) + XENSTORE_PAYLOAD_MAX];
    XsMsg msg;
    int ret;

    for (unsigned int i = 0; i < niov; i++) {
        if (iov[i].iov_len > XENSTORE_PAYLOAD_MAX - hdr.len) {
            return -E2BIG;
        }
        memcpy(buf + sizeof(hdr) + hdr.len, iov[i].iov_base, iov[i].iov_len);
        hdr.len += iov[i].iov_len;
    }
    ret = xenemu_guest_xs_claim(g, &hdr.req_id);
    if (ret < 0) {
        return ret;
    }
    memcpy(buf, &hdr, sizeof(hdr));
    ret = ring_write(g, buf, sizeof(hdr) + hdr.len, deadline);
    if (ret < 0) {
        return ret == -EAGAIN ? -ETIMEDOUT : ret;
    }

    for (;;) {
        ret = read_msg(g, &msg, deadline);
        if (ret < 0) {
            return ret == -EAGAIN ? -ETIMEDOUT : ret;
        }
        if (msg.hdr.type == XS_WATCH_EVENT) {
            queue_watch(g, &msg);
            continue;
        }
        if (msg.hdr.req_id != hdr.req_id) {
            /* of a request abandoned (timed out, or its process killed) */
            free(msg.body);
            continue;
        }
        break;
    }
    if (msg.hdr.type == XS_ERROR) {
        ret = -xs_errno(msg.body);
        free(msg.body);
        return ret;
    }
    if (msg.hdr.type != type) {
        free(msg.body);
        return -EIO;
    }
    if (reply_len) {
        *reply_len = msg.hdr.len;
    }
    if (reply) {
        *reply = msg.body;
    } else {
        free(msg.body);
    }
    return 0;
}

#define IOV_STR(s) { .iov_base = (void *)(s), .iov_len = strlen(s) + 1 }

static int talk_path(XenemuGuest *g, uint32_t type, XenemuTx tx,
                     const char *path, char **reply, unsigned int *len)
{
    struct iovec iov[] = { IOV_STR(path) };

    return talk(g, type, tx, iov, 1, reply, len);
}

char *xenemu_xs_read(XenemuGuest *g, XenemuTx tx, const char *path,
                     unsigned int *len)
{
    char *val;
    int ret = talk_path(g, XS_READ, tx, path, &val, len);

    if (ret < 0) {
        errno = -ret;
        return NULL;
    }
    return val;
}

int xenemu_xs_write(XenemuGuest *g, XenemuTx tx, const char *path,
                    const void *data, unsigned int len)
{
    struct iovec iov[] = {
        IOV_STR(path),
        { .iov_base = (void *)data, .iov_len = len },
    };

    return talk(g, XS_WRITE, tx, iov, 2, NULL, NULL);
}

int xenemu_xs_printf(XenemuGuest *g, XenemuTx tx, const char *path,
                     const char *fmt, ...)
{
    va_list ap;
    char *val;
    int len, ret;

    va_start(ap, fmt);
    len = vasprintf(&val, fmt, ap);
    va_end(ap);
    if (len < 0) {
        return -ENOMEM;
    }
    ret = xenemu_xs_write(g, tx, path, val, len);
    free(val);
    return ret;
}

int xenemu_xs_mkdir(XenemuGuest *g, XenemuTx tx, const char *path)
{
    return talk_path(g, XS_MKDIR, tx, path, NULL, NULL);
}

int xenemu_xs_rm(XenemuGuest *g, XenemuTx tx, const char *path)
{
    return talk_path(g, XS_RM, tx, path, NULL, NULL);
}

char **xenemu_xs_directory(XenemuGuest *g, XenemuTx tx, const char *path,
                           unsigned int *num)
{
    unsigned int len, n = 0;
    char *body, **vec;
    int ret;

    ret = talk_path(g, XS_DIRECTORY, tx, path, &body, &len);
    if (ret < 0) {
        errno = -ret;
        return NULL;
    }
    for (unsigned int i = 0; i < len; i++) {
        n += body[i] == '\0';
    }
    vec = calloc(n + 1, sizeof(*vec));
    if (!vec) {
        free(body);
        return NULL;
    }
    n = 0;
    for (char *p = body; p < body + len; p += strlen(p) + 1) {
        vec[n] = strdup(p);
        if (!vec[n]) {
            while (n--) {
                free(vec[n]);
            }
            free(vec);
            free(body);
            errno = ENOMEM;
            return NULL;
        }
        n++;
    }
    free(body);
    if (num) {
        *num = n;
    }
    return vec;
}

int xenemu_xs_set_perms(XenemuGuest *g, XenemuTx tx, const char *path,
                        const char *const *perms, unsigned int nperms)
{
    struct iovec iov[1 + nperms];

    iov[0] = (struct iovec)IOV_STR(path);
    for (unsigned int i = 0; i < nperms; i++) {
        iov[1 + i] = (struct iovec)IOV_STR(perms[i]);
    }
    return talk(g, XS_SET_PERMS, tx, iov, 1 + nperms, NULL, NULL);
}

int xenemu_xs_transaction_start(XenemuGuest *g, XenemuTx *tx)
{
    char *body, *end;
    unsigned long id;
    int ret;

    ret = talk_path(g, XS_TRANSACTION_START, 0, "", &body, NULL);
    if (ret < 0) {
        return ret;
    }
    errno = 0;
    id = strtoul(body, &end, 10);
    ret = (errno || end == body || id == 0 || id > UINT32_MAX) ? -EIO : 0;
    free(body);
    if (ret == 0) {
        *tx = id;
    }
    return ret;
}

int xenemu_xs_transaction_end(XenemuGuest *g, XenemuTx tx, bool abort)
{
    return talk_path(g, XS_TRANSACTION_END, tx, abort ? "F" : "T", NULL,
                     NULL);
}

int xenemu_xs_watch(XenemuGuest *g, const char *path, const char *token)
{
    struct iovec iov[] = { IOV_STR(path), IOV_STR(token) };

    return talk(g, XS_WATCH, 0, iov, 2, NULL, NULL);
}

int xenemu_xs_unwatch(XenemuGuest *g, const char *path, const char *token)
{
    struct iovec iov[] = { IOV_STR(path), IOV_STR(token) };

    return talk(g, XS_UNWATCH, 0, iov, 2, NULL, NULL);
}

int xenemu_xs_read_watch(XenemuGuest *g, int timeout_ms, char **path,
                         char **token)
{
    int64_t deadline = deadline_after(timeout_ms);
    XsWatchEvent *ev;
    XsMsg msg;
    int ret;

    ret = xenemu_guest_xs_claim(g, NULL);
    if (ret < 0) {
        return ret;
    }
    while (!g->watch_head) {
        ret = read_msg(g, &msg, deadline);
        if (ret < 0) {
            return ret;
        }
        if (msg.hdr.type == XS_WATCH_EVENT) {
            queue_watch(g, &msg);
        } else {
            free(msg.body);     /* no request is outstanding */
        }
    }
    ev = g->watch_head;
    g->watch_head = ev->next;
    if (!g->watch_head) {
        g->watch_tail = &g->watch_head;
    }
    *path = ev->path;
    *token = ev->token;
    free(ev);
    return 0;
}

int xenemu_xs_fd(XenemuGuest *g)
{
    return g->xs_ev.fd;
}

int xenemu_guest_xs_reset(XenemuGuest *g)
{
    int ret = talk_path(g, XS_RESET_WATCHES, 0, "", NULL, NULL);

    /* Events read before the reply were for the watches just dropped. */
    xenemu_guest_xs_free_watches(g);
    return ret;
}

void xenemu_guest_xs_free_watches(XenemuGuest *g)
{
    while (g->watch_head) {
        XsWatchEvent *ev = g->watch_head;

        g->watch_head = ev->next;
        free(ev->path);
        free(ev->token);
        free(ev);
    }
    g->watch_tail = &g->watch_head;
}
