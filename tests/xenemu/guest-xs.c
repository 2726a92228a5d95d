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

static int ring_write(XenemuGuest *g, const void *data, size_t len)
{
    struct xenstore_domain_interface *xs = g->xs;
    const char *p = data;

    while (len) {
        XENSTORE_RING_IDX cons, prod;
        size_t chunk, room;

        cons = __atomic_load_n(&xs->req_cons, __ATOMIC_ACQUIRE);
        prod = xs->req_prod;
        if (prod - cons > XENSTORE_RING_SIZE) {
            return -EIO;        /* xenstored corrupted the ring */
        }
        room = XENSTORE_RING_SIZE - (prod - cons);
        if (room == 0) {
            int ret = wait_event(g, -1);

            if (ret < 0) {
                return ret;
            }
            continue;
        }
        chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod);
        chunk = chunk < room ? chunk : room;
        chunk = chunk < len ? chunk : len;
        memcpy(xs->req + MASK_XENSTORE_IDX(prod), p, chunk);
        __atomic_store_n(&xs->req_prod, prod + chunk, __ATOMIC_RELEASE);
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
        XENSTORE_RING_IDX cons, prod;
        size_t chunk;

        prod = __atomic_load_n(&xs->rsp_prod, __ATOMIC_ACQUIRE);
        cons = xs->rsp_cons;
        if (prod - cons > XENSTORE_RING_SIZE) {
            return -EIO;
        }
        if (prod == cons) {
            int ret = wait_event(g, deadline_ms);

            if (ret < 0) {
                return ret;
            }
            continue;
        }
        chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons);
        chunk = chunk < prod - cons ? chunk : prod - cons;
        chunk = chunk < len ? chunk : len;
        memcpy(p, xs->rsp + MASK_XENSTORE_IDX(cons), chunk);
        __atomic_store_n(&xs->rsp_cons, cons + chunk, __ATOMIC_RELEASE);
        p += chunk;
        len -= chunk;
        /* xenstored may be waiting for room to write the rest. */
        evc_notify(&g->xs_ev, g->xs_port);
    }
    return 0;
}

/*
 * Read one message.  A deadline only applies before its first byte: once a
 * header is in, the rest follows without delay.
 */
static int read_msg(XenemuGuest *g, XsMsg *msg, int64_t deadline_ms)
{
    struct xenstore_domain_interface *xs = g->xs;
    int ret;

    while (__atomic_load_n(&xs->rsp_prod, __ATOMIC_ACQUIRE) ==
           xs->rsp_cons) {
        ret = wait_event(g, deadline_ms);
        if (ret < 0) {
            return ret;
        }
    }
    ret = ring_read(g, &msg->hdr, sizeof(msg->hdr), -1);
    if (ret < 0) {
        return ret;
    }
    if (msg->hdr.len > XENSTORE_PAYLOAD_MAX) {
        return -EIO;
    }
    msg->body = malloc(msg->hdr.len + 1);
    if (!msg->body) {
        return -ENOMEM;
    }
    ret = ring_read(g, msg->body, msg->hdr.len, -1);
    if (ret < 0) {
        free(msg->body);
        return ret;
    }
    msg->body[msg->hdr.len] = '\0';
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
 * reply body (NUL-terminated) goes to *reply if non-NULL.
 */
static int talk(XenemuGuest *g, uint32_t type, XenemuTx tx,
                const struct iovec *iov, unsigned int niov,
                char **reply, unsigned int *reply_len)
{
    struct xsd_sockmsg hdr = {
        .type = type,
        .req_id = ++g->xs_req_id,
        .tx_id = tx,
    };
    XsMsg msg;
    int ret;

    xenemu_guest_xs_claim(g);
    for (unsigned int i = 0; i < niov; i++) {
        hdr.len += iov[i].iov_len;
    }
    if (hdr.len > XENSTORE_PAYLOAD_MAX) {
        return -E2BIG;
    }
    ret = ring_write(g, &hdr, sizeof(hdr));
    for (unsigned int i = 0; ret == 0 && i < niov; i++) {
        ret = ring_write(g, iov[i].iov_base, iov[i].iov_len);
    }
    if (ret < 0) {
        return ret;
    }

    for (;;) {
        ret = read_msg(g, &msg, -1);
        if (ret < 0) {
            return ret;
        }
        if (msg.hdr.type == XS_WATCH_EVENT) {
            queue_watch(g, &msg);
            continue;
        }
        if (msg.hdr.req_id != hdr.req_id) {
            free(msg.body);     /* stale reply of an abandoned request */
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

    xenemu_guest_xs_claim(g);
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
