/*
 * QEMU 7.2 compat: the Xen backend operations of QEMU 10.0
 *
 * QEMU 10.0 reaches Xen through ops tables (xen_backend_ops.h) that its
 * machines install with setup_xen_backend_ops(); QEMU 7.2 calls the Xen
 * libraries directly.  This header gives the 7.2 build the subset of the
 * 10.0 interface that the series uses, with the same names and meanings,
 * over the native libraries: event channels and grant tables inline,
 * xenstore and grant copy in xen-backend-ops.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_XEN_BACKEND_OPS_H
#define QEMU_XEN_BACKEND_OPS_H

#include "hw/xen/xen_common.h"
/* XenGrantCopySegment: 7.2 has it with its legacy backends. */
#include "hw/xen/xen-legacy-backend.h"

#define XEN_PAGE_SIZE XC_PAGE_SIZE

/* Event channels */

static inline xenevtchn_handle *qemu_xen_evtchn_open(void)
{
    return xenevtchn_open(NULL, 0);
}

static inline int qemu_xen_evtchn_bind_interdomain(xenevtchn_handle *xc,
                                                   uint32_t domid,
                                                   evtchn_port_t guest_port)
{
    return xenevtchn_bind_interdomain(xc, domid, guest_port);
}

static inline int qemu_xen_evtchn_unbind(xenevtchn_handle *xc,
                                         evtchn_port_t port)
{
    return xenevtchn_unbind(xc, port);
}

static inline int qemu_xen_evtchn_close(xenevtchn_handle *xc)
{
    return xenevtchn_close(xc);
}

static inline int qemu_xen_evtchn_fd(xenevtchn_handle *xc)
{
    return xenevtchn_fd(xc);
}

static inline int qemu_xen_evtchn_notify(xenevtchn_handle *xc,
                                         evtchn_port_t port)
{
    return xenevtchn_notify(xc, port);
}

static inline int qemu_xen_evtchn_unmask(xenevtchn_handle *xc,
                                         evtchn_port_t port)
{
    return xenevtchn_unmask(xc, port);
}

static inline int qemu_xen_evtchn_pending(xenevtchn_handle *xc)
{
    return xenevtchn_pending(xc);
}

/* Grant tables */


/* Linux's gntdev maps any number of refs as one mapping. */
static inline bool qemu_xen_gnttab_can_map_multi(void)
{
    return true;
}

static inline xengnttab_handle *qemu_xen_gnttab_open(void)
{
    return xengnttab_open(NULL, 0);
}

static inline int qemu_xen_gnttab_close(xengnttab_handle *xgt)
{
    return xengnttab_close(xgt);
}

static inline int qemu_xen_gnttab_set_max_grants(xengnttab_handle *xgt,
                                                 uint32_t nr_grants)
{
    return xengnttab_set_max_grants(xgt, nr_grants);
}

static inline void *qemu_xen_gnttab_map_refs(xengnttab_handle *xgt,
                                             uint32_t count, uint32_t domid,
                                             uint32_t *refs, int prot)
{
    return xengnttab_map_domain_grant_refs(xgt, count, domid, refs, prot);
}

static inline int qemu_xen_gnttab_unmap(xengnttab_handle *xgt,
                                        void *start_address, uint32_t *refs,
                                        uint32_t count)
{
    return xengnttab_unmap(xgt, start_address, count);
}

/*
 * 0, or a negative errno with @errp set if the call or any segment failed.
 * Without kernel grant copy, each page is mapped and copied instead.
 */
int qemu_xen_gnttab_grant_copy(xengnttab_handle *xgt, bool to_domain,
                               uint32_t domid, XenGrantCopySegment *segs,
                               uint32_t nr_segs, Error **errp);

/*
 * Xenstore.  One handle per qemu_xen_xs_open(); its watches are dispatched
 * from the main loop.  Values read are NUL-terminated, to g_free.
 */

typedef void (*xs_watch_fn)(void *opaque, const char *path);

struct qemu_xs_handle;
struct qemu_xs_watch;

struct qemu_xs_handle *qemu_xen_xs_open(void);
void qemu_xen_xs_close(struct qemu_xs_handle *h);
char *qemu_xen_xs_get_domain_path(struct qemu_xs_handle *h,
                                  unsigned int domid);
char **qemu_xen_xs_directory(struct qemu_xs_handle *h, xs_transaction_t t,
                             const char *path, unsigned int *num);
void *qemu_xen_xs_read(struct qemu_xs_handle *h, xs_transaction_t t,
                       const char *path, unsigned int *len);
bool qemu_xen_xs_write(struct qemu_xs_handle *h, xs_transaction_t t,
                       const char *path, const void *data, unsigned int len);
/* @path owned by @owner, with @perms for @domid and none for others. */
bool qemu_xen_xs_create(struct qemu_xs_handle *h, xs_transaction_t t,
                        unsigned int owner, unsigned int domid,
                        unsigned int perms, const char *path);
bool qemu_xen_xs_destroy(struct qemu_xs_handle *h, xs_transaction_t t,
                         const char *path);
struct qemu_xs_watch *qemu_xen_xs_watch(struct qemu_xs_handle *h,
                                        const char *path, xs_watch_fn fn,
                                        void *opaque);
void qemu_xen_xs_unwatch(struct qemu_xs_handle *h, struct qemu_xs_watch *w);
xs_transaction_t qemu_xen_xs_transaction_start(struct qemu_xs_handle *h);
bool qemu_xen_xs_transaction_end(struct qemu_xs_handle *h, xs_transaction_t t,
                                 bool abort);

#endif /* QEMU_XEN_BACKEND_OPS_H */
