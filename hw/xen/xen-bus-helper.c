/*
 * Xenstore primitives for the Xen bus and its devices
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/xen/xen-bus-helper.h"
#include "trace.h"

static const char *const state_names[] = {
    [XenbusStateUnknown] = "Unknown",
    [XenbusStateInitialising] = "Initialising",
    [XenbusStateInitWait] = "InitWait",
    [XenbusStateInitialised] = "Initialised",
    [XenbusStateConnected] = "Connected",
    [XenbusStateClosing] = "Closing",
    [XenbusStateClosed] = "Closed",
    [XenbusStateReconfiguring] = "Reconfiguring",
    [XenbusStateReconfigured] = "Reconfigured",
};

const char *xs_strstate(enum xenbus_state state)
{
    if ((unsigned int)state < ARRAY_SIZE(state_names)) {
        return state_names[state];
    }
    return "INVALID";
}

static char *node_key(const char *node, const char *key)
{
    return *key ? g_strdup_printf("%s/%s", node, key) : g_strdup(node);
}

void xs_node_create(struct qemu_xs_handle *h, xs_transaction_t tid,
                    const char *node, unsigned int owner, unsigned int domid,
                    unsigned int perms, Error **errp)
{
    trace_xs_node_create(node);

    if (!qemu_xen_xs_create(h, tid, owner, domid, perms, node)) {
        error_setg_errno(errp, errno, "failed to create xenstore node %s",
                         node);
    }
}

void xs_node_destroy(struct qemu_xs_handle *h, xs_transaction_t tid,
                     const char *node, Error **errp)
{
    trace_xs_node_destroy(node);

    if (!qemu_xen_xs_destroy(h, tid, node) && errno != ENOENT) {
        error_setg_errno(errp, errno, "failed to remove xenstore node %s",
                         node);
    }
}

bool xs_node_exists(struct qemu_xs_handle *h, xs_transaction_t tid,
                    const char *node)
{
    unsigned int len;
    g_autofree char *value = qemu_xen_xs_read(h, tid, node, &len);

    return value != NULL;
}

void xs_node_vprintf(struct qemu_xs_handle *h, xs_transaction_t tid,
                     const char *node, const char *key, Error **errp,
                     const char *fmt, va_list ap)
{
    g_autofree char *path = node_key(node, key);
    g_autofree char *value = g_strdup_vprintf(fmt, ap);

    trace_xs_node_write(path, value);

    if (!qemu_xen_xs_write(h, tid, path, value, strlen(value))) {
        error_setg_errno(errp, errno, "failed to write %s to xenstore key %s",
                         value, path);
    }
}

void xs_node_printf(struct qemu_xs_handle *h, xs_transaction_t tid,
                    const char *node, const char *key, Error **errp,
                    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    xs_node_vprintf(h, tid, node, key, errp, fmt, ap);
    va_end(ap);
}

char *xs_node_read(struct qemu_xs_handle *h, xs_transaction_t tid,
                   unsigned int *len, Error **errp, const char *path_fmt, ...)
{
    g_autofree char *path = NULL;
    unsigned int value_len;
    char *value;
    va_list ap;

    va_start(ap, path_fmt);
    path = g_strdup_vprintf(path_fmt, ap);
    va_end(ap);

    /* Values are byte strings: the backend ops NUL-terminate them. */
    value = qemu_xen_xs_read(h, tid, path, &value_len);
    if (!value) {
        int saved_errno = errno;

        /* Callers tell a missing key from a failure by errno. */
        error_setg_errno(errp, saved_errno, "failed to read xenstore key %s",
                         path);
        errno = saved_errno;
        return NULL;
    }
    trace_xs_node_read(path, value);
    if (len) {
        *len = value_len;
    }
    return value;
}

int xs_node_vscanf(struct qemu_xs_handle *h, xs_transaction_t tid,
                   const char *node, const char *key, Error **errp,
                   const char *fmt, va_list ap)
{
    g_autofree char *path = node_key(node, key);
    g_autofree char *value = xs_node_read(h, tid, NULL, errp, "%s", path);

    return value ? vsscanf(value, fmt, ap) : -1;
}

int xs_node_scanf(struct qemu_xs_handle *h, xs_transaction_t tid,
                  const char *node, const char *key, Error **errp,
                  const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = xs_node_vscanf(h, tid, node, key, errp, fmt, ap);
    va_end(ap);
    return rc;
}

bool xs_transaction_run(struct qemu_xs_handle *h, XsTransactionFn fn,
                        void *opaque, Error **errp)
{
    ERRP_GUARD();

    for (;;) {
        xs_transaction_t tid = qemu_xen_xs_transaction_start(h);
        bool ok;

        if (tid == XBT_NULL) {
            error_setg_errno(errp, errno,
                             "failed to start a xenstore transaction");
            return false;
        }
        ok = fn(h, tid, opaque, errp);
        if (qemu_xen_xs_transaction_end(h, tid, !ok)) {
            return ok;
        }
        if (!ok) {
            /* Aborting cannot conflict; keep the caller's error. */
            return false;
        }
        if (errno != EAGAIN) {
            error_setg_errno(errp, errno,
                             "failed to commit a xenstore transaction");
            return false;
        }
        trace_xs_transaction_retry();
    }
}

struct qemu_xs_watch *xs_node_watch(struct qemu_xs_handle *h, const char *node,
                                    const char *key, xs_watch_fn fn,
                                    void *opaque, Error **errp)
{
    g_autofree char *path = node_key(node, key);
    struct qemu_xs_watch *w;

    trace_xs_node_watch(path);

    w = qemu_xen_xs_watch(h, path, fn, opaque);
    if (!w) {
        error_setg_errno(errp, errno, "failed to watch xenstore path %s",
                         path);
    }
    return w;
}

void xs_node_unwatch(struct qemu_xs_handle *h, struct qemu_xs_watch *w)
{
    trace_xs_node_unwatch(w);
    qemu_xen_xs_unwatch(h, w);
}
