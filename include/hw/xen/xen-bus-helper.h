/*
 * Xenstore primitives for the Xen bus and its devices
 *
 * Every function takes the xenstore handle and a transaction (XBT_NULL for
 * none).  A node's key is the path "node/key"; an empty key names the node
 * itself.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_BUS_HELPER_H
#define HW_XEN_BUS_HELPER_H

#include "hw/xen/xen_common.h"

const char *xen_xs_state_name(enum xenbus_state state);

/* Create @node (and missing parents) with exactly @perms. */
void xen_xs_node_create(struct xs_handle *xsh, xs_transaction_t tid,
                        const char *node, const struct xs_permissions *perms,
                        unsigned int nr_perms, Error **errp);
/* Remove @node and everything below it; a missing node is not an error. */
void xen_xs_node_destroy(struct xs_handle *xsh, xs_transaction_t tid,
                         const char *node, Error **errp);
bool xen_xs_node_exists(struct xs_handle *xsh, xs_transaction_t tid,
                        const char *node);

/*
 * Errors come before the format in the printf and scanf families, as the
 * variable arguments must come last.
 */
void xen_xs_vprintf(struct xs_handle *xsh, xs_transaction_t tid,
                    const char *node, const char *key, Error **errp,
                    const char *fmt, va_list ap) G_GNUC_PRINTF(6, 0);
void xen_xs_printf(struct xs_handle *xsh, xs_transaction_t tid,
                   const char *node, const char *key, Error **errp,
                   const char *fmt, ...) G_GNUC_PRINTF(6, 7);
/* Number of conversions done; -1 with @errp set if the key is unreadable */
int xen_xs_vscanf(struct xs_handle *xsh, xs_transaction_t tid,
                  const char *node, const char *key, Error **errp,
                  const char *fmt, va_list ap) G_GNUC_SCANF(6, 0);
int xen_xs_scanf(struct xs_handle *xsh, xs_transaction_t tid,
                 const char *node, const char *key, Error **errp,
                 const char *fmt, ...) G_GNUC_SCANF(6, 7);
/* The value as a NUL-terminated string to g_free, or NULL with @errp set */
char *xen_xs_read(struct xs_handle *xsh, xs_transaction_t tid,
                  const char *node, const char *key, Error **errp);

/*
 * Run @fn in a transaction, starting again while xenstore reports a
 * conflict (EAGAIN).  @fn returns false with @errp set to abort.
 */
typedef bool (*XenXsTransactionFn)(struct xs_handle *xsh,
                                   xs_transaction_t tid, void *opaque,
                                   Error **errp);
bool xen_xs_transaction(struct xs_handle *xsh, XenXsTransactionFn fn,
                        void *opaque, Error **errp);

void xen_xs_watch(struct xs_handle *xsh, const char *node, const char *key,
                  const char *token, Error **errp);
void xen_xs_unwatch(struct xs_handle *xsh, const char *node,
                    const char *key, const char *token, Error **errp);

#endif /* HW_XEN_BUS_HELPER_H */
