/*
 * Xenstore primitives for the Xen bus and its devices
 *
 * Every function takes the xenstore handle and a transaction (XBT_NULL for
 * none).  A node's key is the path "node/key"; an empty key names the node
 * itself.  The names and signatures are those QEMU's other Xen code calls.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_BUS_HELPER_H
#define HW_XEN_BUS_HELPER_H

#include "hw/xen/xen_backend_ops.h"

const char *xs_strstate(enum xenbus_state state);

/*
 * Create @node (and missing parents) owned by @owner, with @perms
 * (XS_PERM_*) for @domid and none for anyone else.
 */
void xs_node_create(struct qemu_xs_handle *h, xs_transaction_t tid,
                    const char *node, unsigned int owner, unsigned int domid,
                    unsigned int perms, Error **errp);
/* Remove @node and everything below it; a missing node is not an error. */
void xs_node_destroy(struct qemu_xs_handle *h, xs_transaction_t tid,
                     const char *node, Error **errp);
bool xs_node_exists(struct qemu_xs_handle *h, xs_transaction_t tid,
                    const char *node);

/*
 * Errors come before the format in the printf and scanf families, as the
 * variable arguments must come last.
 */
void xs_node_vprintf(struct qemu_xs_handle *h, xs_transaction_t tid,
                     const char *node, const char *key, Error **errp,
                     const char *fmt, va_list ap) G_GNUC_PRINTF(6, 0);
void xs_node_printf(struct qemu_xs_handle *h, xs_transaction_t tid,
                    const char *node, const char *key, Error **errp,
                    const char *fmt, ...) G_GNUC_PRINTF(6, 7);
/* Number of conversions done; -1 with @errp set if the key is unreadable */
int xs_node_vscanf(struct qemu_xs_handle *h, xs_transaction_t tid,
                   const char *node, const char *key, Error **errp,
                   const char *fmt, va_list ap) G_GNUC_SCANF(6, 0);
int xs_node_scanf(struct qemu_xs_handle *h, xs_transaction_t tid,
                  const char *node, const char *key, Error **errp,
                  const char *fmt, ...) G_GNUC_SCANF(6, 7);
/*
 * The value at the path @path_fmt formats, NUL-terminated, to g_free (its
 * length in *@len if @len is not NULL); NULL with @errp set and errno
 * kept (ENOENT: no such key) if it cannot be read.
 */
char *xs_node_read(struct qemu_xs_handle *h, xs_transaction_t tid,
                   unsigned int *len, Error **errp,
                   const char *path_fmt, ...) G_GNUC_PRINTF(5, 6);

/*
 * Run @fn in a transaction, starting again while xenstore reports a
 * conflict (EAGAIN).  @fn returns false with @errp set to abort.
 */
typedef bool (*XsTransactionFn)(struct qemu_xs_handle *h, xs_transaction_t tid,
                                void *opaque, Error **errp);
bool xs_transaction_run(struct qemu_xs_handle *h, XsTransactionFn fn,
                        void *opaque, Error **errp);

/*
 * Watch @node/@key and everything below it: @fn runs in the main loop with
 * the path that changed, once soon after the watch is set and then on
 * every change.
 */
struct qemu_xs_watch *xs_node_watch(struct qemu_xs_handle *h, const char *node,
                                    const char *key, xs_watch_fn fn,
                                    void *opaque, Error **errp);
void xs_node_unwatch(struct qemu_xs_handle *h, struct qemu_xs_watch *w);

#endif /* HW_XEN_BUS_HELPER_H */
