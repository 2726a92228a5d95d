/*
 * QEMU 7.2 compat: xenstore and grant copy of QEMU 10.0's Xen backend
 * operations, over the native Xen libraries
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/queue.h"
#include "qapi/error.h"
#include "hw/xen/xen_backend_ops.h"
#include "trace.h"

/* Segments handed to the kernel per call: its array lives on the stack. */
#define GRANT_COPY_BATCH 32

/* Without kernel grant copy: map each granted page, copy, unmap. */
static int grant_copy_mapped(xengnttab_handle *xgt, bool to_domain,
                             uint32_t domid, XenGrantCopySegment *segs,
                             uint32_t nr_segs, Error **errp)
{
    int prot = to_domain ? PROT_READ | PROT_WRITE : PROT_READ;
    uint32_t i;

    for (i = 0; i < nr_segs; i++) {
        XenGrantCopySegment *seg = &segs[i];
        uint32_t ref = to_domain ? seg->dest.foreign.ref :
                                   seg->source.foreign.ref;
        uint8_t *page = xengnttab_map_domain_grant_refs(xgt, 1, domid, &ref,
                                                        prot);

        if (!page) {
            error_setg_errno(errp, errno,
                             "grant copy: segment %u: cannot map ref %u",
                             i, ref);
            return -EIO;
        }
        if (to_domain) {
            memcpy(page + seg->dest.foreign.offset, seg->source.virt,
                   seg->len);
        } else {
            memcpy(seg->dest.virt, page + seg->source.foreign.offset,
                   seg->len);
        }
        if (xengnttab_unmap(xgt, page, 1)) {
            error_setg_errno(errp, errno,
                             "grant copy: segment %u: cannot unmap ref %u",
                             i, ref);
            return -EIO;
        }
    }
    return 0;
}

int qemu_xen_gnttab_grant_copy(xengnttab_handle *xgt, bool to_domain,
                               uint32_t domid, XenGrantCopySegment *segs,
                               uint32_t nr_segs, Error **errp)
{
    static int kernel_copies = -1;
    xengnttab_grant_copy_segment_t batch[GRANT_COPY_BATCH];
    uint32_t done, n, i;

    /* A zero-segment copy fails only when the kernel cannot copy grants. */
    if (kernel_copies < 0) {
        kernel_copies = xengnttab_grant_copy(xgt, 0, NULL) == 0;
    }
    if (!kernel_copies) {
        return grant_copy_mapped(xgt, to_domain, domid, segs, nr_segs, errp);
    }

    for (done = 0; done < nr_segs; done += n) {
        n = MIN(nr_segs - done, GRANT_COPY_BATCH);

        for (i = 0; i < n; i++) {
            XenGrantCopySegment *seg = &segs[done + i];
            xengnttab_grant_copy_segment_t *op = &batch[i];

            if (to_domain) {
                op->flags = GNTCOPY_dest_gref;
                op->source.virt = seg->source.virt;
                op->dest.foreign.ref = seg->dest.foreign.ref;
                op->dest.foreign.offset = seg->dest.foreign.offset;
                op->dest.foreign.domid = domid;
            } else {
                op->flags = GNTCOPY_source_gref;
                op->source.foreign.ref = seg->source.foreign.ref;
                op->source.foreign.offset = seg->source.foreign.offset;
                op->source.foreign.domid = domid;
                op->dest.virt = seg->dest.virt;
            }
            op->len = seg->len;
            op->status = GNTST_general_error;
        }

        if (xengnttab_grant_copy(xgt, n, batch)) {
            error_setg_errno(errp, errno, "grant copy of %u segment(s) failed",
                             n);
            return -errno;
        }

        /* The call succeeds even when segments fail: check each one. */
        for (i = 0; i < n; i++) {
            if (batch[i].status != GNTST_okay) {
                error_setg(errp, "grant copy: segment %u failed: status %d",
                           done + i, batch[i].status);
                return -EIO;
            }
        }
    }
    return 0;
}

struct qemu_xs_watch {
    char *path;
    char *token;
    xs_watch_fn fn;
    void *opaque;
    QLIST_ENTRY(qemu_xs_watch) link;
};

struct qemu_xs_handle {
    struct xs_handle *xsh;
    QLIST_HEAD(, qemu_xs_watch) watches;
    unsigned int next_token;
};

/* Watch events, dispatched by token from the main loop. */
static void xs_watch_event(void *opaque)
{
    struct qemu_xs_handle *h = opaque;
    char **event;

    while ((event = xs_check_watch(h->xsh))) {
        const char *path = event[XS_WATCH_PATH];
        const char *token = event[XS_WATCH_TOKEN];
        struct qemu_xs_watch *w;

        trace_xen_xs_watch_event(path, token);
        QLIST_FOREACH(w, &h->watches, link) {
            if (!strcmp(w->token, token)) {
                /* The callback may remove the watch: stop looking. */
                w->fn(w->opaque, path);
                break;
            }
        }
        free(event);
    }
}

struct qemu_xs_handle *qemu_xen_xs_open(void)
{
    struct xs_handle *xsh = xs_open(0);
    struct qemu_xs_handle *h;

    if (!xsh) {
        return NULL;
    }
    h = g_new0(struct qemu_xs_handle, 1);
    h->xsh = xsh;
    QLIST_INIT(&h->watches);
    qemu_set_fd_handler(xs_fileno(xsh), xs_watch_event, NULL, h);
    return h;
}

void qemu_xen_xs_close(struct qemu_xs_handle *h)
{
    g_assert(QLIST_EMPTY(&h->watches));
    qemu_set_fd_handler(xs_fileno(h->xsh), NULL, NULL, NULL);
    xs_close(h->xsh);
    g_free(h);
}

char *qemu_xen_xs_get_domain_path(struct qemu_xs_handle *h,
                                  unsigned int domid)
{
    return xs_get_domain_path(h->xsh, domid);
}

char **qemu_xen_xs_directory(struct qemu_xs_handle *h, xs_transaction_t t,
                             const char *path, unsigned int *num)
{
    return xs_directory(h->xsh, t, path, num);
}

void *qemu_xen_xs_read(struct qemu_xs_handle *h, xs_transaction_t t,
                       const char *path, unsigned int *len)
{
    unsigned int value_len;
    char *value = xs_read(h->xsh, t, path, &value_len);
    char *copy;

    if (!value) {
        return NULL;
    }
    /* libxenstore allocates with malloc; callers free with g_free. */
    copy = g_malloc(value_len + 1);
    memcpy(copy, value, value_len);
    copy[value_len] = '\0';
    free(value);
    if (len) {
        *len = value_len;
    }
    return copy;
}

bool qemu_xen_xs_write(struct qemu_xs_handle *h, xs_transaction_t t,
                       const char *path, const void *data, unsigned int len)
{
    return xs_write(h->xsh, t, path, data, len);
}

bool qemu_xen_xs_create(struct qemu_xs_handle *h, xs_transaction_t t,
                        unsigned int owner, unsigned int domid,
                        unsigned int perms, const char *path)
{
    struct xs_permissions perms_list[] = {
        { .id = owner, .perms = XS_PERM_NONE },
        { .id = domid, .perms = perms },
    };

    return xs_mkdir(h->xsh, t, path) &&
        xs_set_permissions(h->xsh, t, path, perms_list,
                           ARRAY_SIZE(perms_list));
}

bool qemu_xen_xs_destroy(struct qemu_xs_handle *h, xs_transaction_t t,
                         const char *path)
{
    return xs_rm(h->xsh, t, path);
}

/* Keeps errno. */
static void watch_free(struct qemu_xs_watch *w)
{
    int saved_errno = errno;

    QLIST_REMOVE(w, link);
    g_free(w->path);
    g_free(w->token);
    g_free(w);
    errno = saved_errno;
}

struct qemu_xs_watch *qemu_xen_xs_watch(struct qemu_xs_handle *h,
                                        const char *path, xs_watch_fn fn,
                                        void *opaque)
{
    struct qemu_xs_watch *w = g_new0(struct qemu_xs_watch, 1);

    w->path = g_strdup(path);
    /* Never reused: events still queued for a removed watch find none. */
    w->token = g_strdup_printf("qemu-%u", h->next_token++);
    w->fn = fn;
    w->opaque = opaque;

    /* Listed first: xenstore fires the new watch once straight away. */
    QLIST_INSERT_HEAD(&h->watches, w, link);
    if (!xs_watch(h->xsh, path, w->token)) {
        watch_free(w);
        return NULL;
    }
    return w;
}

void qemu_xen_xs_unwatch(struct qemu_xs_handle *h, struct qemu_xs_watch *w)
{
    xs_unwatch(h->xsh, w->path, w->token);
    watch_free(w);
}

xs_transaction_t qemu_xen_xs_transaction_start(struct qemu_xs_handle *h)
{
    return xs_transaction_start(h->xsh);
}

bool qemu_xen_xs_transaction_end(struct qemu_xs_handle *h, xs_transaction_t t,
                                 bool abort)
{
    return xs_transaction_end(h->xsh, t, abort);
}
