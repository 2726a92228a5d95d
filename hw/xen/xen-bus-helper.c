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

const char *xen_xs_state_name(enum xenbus_state state)
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

void xen_xs_node_create(struct xs_handle *xsh, xs_transaction_t tid,
                        const char *node, const struct xs_permissions *perms,
                        unsigned int nr_perms, Error **errp)
{
    trace_xen_xs_node_create(node);

    if (!xs_mkdir(xsh, tid, node)) {
        error_setg_errno(errp, errno, "failed to create xenstore node %s",
                         node);
        return;
    }
    /* libxenstore takes the permissions as non-const but only reads them */
    if (!xs_set_permissions(xsh, tid, node,
                            (struct xs_permissions *)perms, nr_perms)) {
        error_setg_errno(errp, errno,
                         "failed to set permissions of xenstore node %s",
                         node);
    }
}

void xen_xs_node_destroy(struct xs_handle *xsh, xs_transaction_t tid,
                         const char *node, Error **errp)
{
    trace_xen_xs_node_destroy(node);

    if (!xs_rm(xsh, tid, node) && errno != ENOENT) {
        error_setg_errno(errp, errno, "failed to remove xenstore node %s",
                         node);
    }
}

bool xen_xs_node_exists(struct xs_handle *xsh, xs_transaction_t tid,
                        const char *node)
{
    unsigned int len;
    char *value = xs_read(xsh, tid, node, &len);

    free(value);
    return value != NULL;
}

void xen_xs_vprintf(struct xs_handle *xsh, xs_transaction_t tid,
                    const char *node, const char *key, Error **errp,
                    const char *fmt, va_list ap)
{
    g_autofree char *path = node_key(node, key);
    g_autofree char *value = g_strdup_vprintf(fmt, ap);

    trace_xen_xs_write(path, value);

    if (!xs_write(xsh, tid, path, value, strlen(value))) {
        error_setg_errno(errp, errno, "failed to write %s to xenstore key %s",
                         value, path);
    }
}

void xen_xs_printf(struct xs_handle *xsh, xs_transaction_t tid,
                   const char *node, const char *key, Error **errp,
                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    xen_xs_vprintf(xsh, tid, node, key, errp, fmt, ap);
    va_end(ap);
}

char *xen_xs_read(struct xs_handle *xsh, xs_transaction_t tid,
                  const char *node, const char *key, Error **errp)
{
    g_autofree char *path = node_key(node, key);
    unsigned int len;
    char *value = xs_read(xsh, tid, path, &len);
    char *copy;

    if (!value) {
        error_setg_errno(errp, errno, "failed to read xenstore key %s", path);
        return NULL;
    }
    /*
     * Values are byte strings that may embed a NUL: the copy stops at the
     * first one.  libxenstore allocates with malloc, callers get GLib's.
     */
    copy = g_strndup(value, len);
    free(value);
    trace_xen_xs_read(path, copy);
    return copy;
}

int xen_xs_vscanf(struct xs_handle *xsh, xs_transaction_t tid,
                  const char *node, const char *key, Error **errp,
                  const char *fmt, va_list ap)
{
    g_autofree char *value = xen_xs_read(xsh, tid, node, key, errp);

    return value ? vsscanf(value, fmt, ap) : -1;
}

int xen_xs_scanf(struct xs_handle *xsh, xs_transaction_t tid,
                 const char *node, const char *key, Error **errp,
                 const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = xen_xs_vscanf(xsh, tid, node, key, errp, fmt, ap);
    va_end(ap);
    return rc;
}

bool xen_xs_transaction(struct xs_handle *xsh, XenXsTransactionFn fn,
                        void *opaque, Error **errp)
{
    ERRP_GUARD();

    for (;;) {
        xs_transaction_t tid = xs_transaction_start(xsh);
        bool ok;

        if (tid == XBT_NULL) {
            error_setg_errno(errp, errno,
                             "failed to start a xenstore transaction");
            return false;
        }
        ok = fn(xsh, tid, opaque, errp);
        if (xs_transaction_end(xsh, tid, !ok)) {
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
        trace_xen_xs_transaction_retry();
    }
}

void xen_xs_watch(struct xs_handle *xsh, const char *node, const char *key,
                  const char *token, Error **errp)
{
    g_autofree char *path = node_key(node, key);

    trace_xen_xs_watch(path, token);

    if (!xs_watch(xsh, path, token)) {
        error_setg_errno(errp, errno, "failed to watch xenstore path %s",
                         path);
    }
}

void xen_xs_unwatch(struct xs_handle *xsh, const char *node,
                    const char *key, const char *token, Error **errp)
{
    g_autofree char *path = node_key(node, key);

    trace_xen_xs_unwatch(path, token);

    if (!xs_unwatch(xsh, path, token)) {
        error_setg_errno(errp, errno, "failed to unwatch xenstore path %s",
                         path);
    }
}
