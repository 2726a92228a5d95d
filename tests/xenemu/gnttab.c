/*
 * xenemu: libxengnttab over the shared grant tables (the gntdev driver plus
 * Xen's grant-table hypercalls, as seen by a dom0 process)
 *
 * Pinning follows Xen's v1 rules: the first pin checks the guest-written
 * entry (GTF_permit_access, domid, GTF_readonly for writable pins) and sets
 * GTF_reading (and GTF_writing) with a cmpxchg over flags+domid, so a guest's
 * end_access cmpxchg sees the entry busy; the last unpin clears them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xengnttab.h>

#include "state.h"

#define DOM0 0

typedef struct Mapping {
    struct Mapping *next;
    uint8_t *addr;
    uint32_t count;
    bool write;
    struct {
        uint32_t domid;
        uint32_t gen;
        uint32_t ref;
    } pins[];
} Mapping;

struct xengntdev_handle {
    pthread_mutex_t lock;
    Mapping *maps;
};

static uint32_t *entry_word(XenemuDomain *d, uint32_t ref)
{
    /* flags (low half) and domid (high half) are read and swapped together */
    return (uint32_t *)&d->grants[ref];
}

/* Returns GNTST_okay with *frame set, or a GNTST_* error. */
static int pin_locked(XenemuDomain *d, uint32_t ref, bool write,
                      uint32_t *frame)
{
    uint32_t *word;
    uint32_t old, new;

    if (ref >= XENEMU_NR_GRANTS) {
        return GNTST_bad_gntref;
    }
    if (d->pin_read[ref] + d->pin_write[ref] && (!write || d->pin_write[ref])) {
        /* Already pinned in a compatible mode: the active entry rules. */
        if (d->active_domid[ref] != DOM0) {
            return GNTST_general_error;
        }
    } else {
        word = entry_word(d, ref);
        old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        do {
            uint16_t flags = old & 0xffff;
            uint16_t domid = old >> 16;

            if ((flags & GTF_type_mask) != GTF_permit_access ||
                domid != DOM0) {
                return GNTST_general_error;
            }
            if (write && (flags & GTF_readonly)) {
                return GNTST_general_error;
            }
            new = old | GTF_reading | (write ? GTF_writing : 0);
        } while (!__atomic_compare_exchange_n(word, &old, new, false,
                                              __ATOMIC_ACQ_REL,
                                              __ATOMIC_ACQUIRE));
        if (d->pin_read[ref] + d->pin_write[ref] == 0) {
            d->active_frame[ref] = __atomic_load_n(&d->grants[ref].frame,
                                                   __ATOMIC_ACQUIRE);
            d->active_domid[ref] = new >> 16;
        }
    }
    if (d->active_frame[ref] >= d->nr_pages) {
        if (d->pin_read[ref] + d->pin_write[ref] == 0) {
            __atomic_and_fetch(&d->grants[ref].flags,
                               (uint16_t)~(GTF_reading | GTF_writing),
                               __ATOMIC_RELEASE);
        }
        return GNTST_general_error;
    }
    if (write) {
        d->pin_write[ref]++;
    } else {
        d->pin_read[ref]++;
    }
    *frame = d->active_frame[ref];
    return GNTST_okay;
}

static void unpin_locked(XenemuShared *s, uint32_t domid, uint32_t gen,
                         uint32_t ref, bool write)
{
    XenemuDomain *d = xenemu_domain(s, domid);
    uint16_t clear = 0;

    if (!d || d->gen != gen) {
        return;     /* the domain died meanwhile: nothing left to unpin */
    }
    if (write) {
        d->pin_write[ref]--;
    } else {
        d->pin_read[ref]--;
    }
    if (d->pin_write[ref] == 0) {
        clear |= GTF_writing;
    }
    if (d->pin_read[ref] + d->pin_write[ref] == 0) {
        clear |= GTF_reading;
    }
    if (clear) {
        __atomic_and_fetch(&d->grants[ref].flags, (uint16_t)~clear,
                           __ATOMIC_RELEASE);
    }
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
                                 unsigned open_flags)
{
    xengnttab_handle *xgt;

    if (!xenemu_state()) {
        return NULL;
    }
    xgt = calloc(1, sizeof(*xgt));
    if (!xgt) {
        return NULL;
    }
    pthread_mutex_init(&xgt->lock, NULL);
    return xgt;
}

int xengnttab_close(xengnttab_handle *xgt)
{
    if (!xgt) {
        return 0;
    }
    /* Closing the gntdev fd tears down what the process left mapped. */
    while (xgt->maps) {
        xengnttab_unmap(xgt, xgt->maps->addr, xgt->maps->count);
    }
    pthread_mutex_destroy(&xgt->lock);
    free(xgt);
    return 0;
}

int xengnttab_fd(xengnttab_handle *xgt)
{
    errno = ENOSYS;
    return -1;
}

/* Linux's gntdev does not enforce it, and QEMU relies on that. */
int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
    return 0;
}

void *xengnttab_map_grant_refs(xengnttab_handle *xgt, uint32_t count,
                               uint32_t *domids, uint32_t *refs, int prot)
{
    XenemuShared *s = xenemu_state();
    bool write = prot & PROT_WRITE;
    Mapping *m;
    uint8_t *addr;
    uint32_t i;
    int err = 0;

    if (count == 0 || count > XENEMU_NR_GRANTS) {
        errno = EINVAL;
        return NULL;
    }
    m = calloc(1, sizeof(*m) + count * sizeof(m->pins[0]));
    if (!m) {
        return NULL;
    }
    addr = mmap(NULL, (size_t)count << XENEMU_PAGE_SHIFT, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (addr == MAP_FAILED) {
        free(m);
        return NULL;
    }

    xenemu_lock(s);
    for (i = 0; i < count; i++) {
        XenemuDomain *d = xenemu_domain(s, domids[i]);
        uint32_t frame;
        int fd;

        /* Every failure is EINVAL for the whole map, as gntdev's mmap. */
        if (!d || d->domid == DOM0 ||
            pin_locked(d, refs[i], write, &frame) != GNTST_okay) {
            err = EINVAL;
            break;
        }
        m->pins[i].domid = d->domid;
        m->pins[i].gen = d->gen;
        m->pins[i].ref = refs[i];
        fd = xenemu_ram_fd(d);
        if (fd < 0 ||
            mmap(addr + ((size_t)i << XENEMU_PAGE_SHIFT), XENEMU_PAGE, prot,
                 MAP_SHARED | MAP_FIXED, fd,
                 (off_t)frame << XENEMU_PAGE_SHIFT) == MAP_FAILED) {
            err = fd < 0 ? errno : ENOMEM;
            i++;
            break;
        }
    }
    if (err) {
        while (i--) {
            unpin_locked(s, m->pins[i].domid, m->pins[i].gen, m->pins[i].ref,
                         write);
        }
    }
    xenemu_unlock(s);

    if (err) {
        munmap(addr, (size_t)count << XENEMU_PAGE_SHIFT);
        free(m);
        errno = err;
        return NULL;
    }
    m->addr = addr;
    m->count = count;
    m->write = write;
    pthread_mutex_lock(&xgt->lock);
    m->next = xgt->maps;
    xgt->maps = m;
    pthread_mutex_unlock(&xgt->lock);
    return addr;
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count,
                                      uint32_t domid, uint32_t *refs,
                                      int prot)
{
    uint32_t *domids;
    void *ret;

    domids = malloc(count * sizeof(*domids));
    if (!domids) {
        return NULL;
    }
    for (uint32_t i = 0; i < count; i++) {
        domids[i] = domid;
    }
    ret = xengnttab_map_grant_refs(xgt, count, domids, refs, prot);
    free(domids);
    return ret;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
                              uint32_t ref, int prot)
{
    return xengnttab_map_grant_refs(xgt, 1, &domid, &ref, prot);
}

/* Unmap notifications are a feature of guest-to-guest sharing we lack. */
void *xengnttab_map_grant_ref_notify(xengnttab_handle *xgt, uint32_t domid,
                                     uint32_t ref, int prot,
                                     uint32_t notify_offset,
                                     evtchn_port_t notify_port)
{
    if (notify_offset != (uint32_t)-1 || notify_port != (uint32_t)-1) {
        errno = ENOSYS;
        return NULL;
    }
    return xengnttab_map_grant_ref(xgt, domid, ref, prot);
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
                    uint32_t count)
{
    XenemuShared *s = xenemu_state();
    Mapping **pm, *m;

    pthread_mutex_lock(&xgt->lock);
    for (pm = &xgt->maps; *pm; pm = &(*pm)->next) {
        if ((*pm)->addr == start_address && (*pm)->count == count) {
            break;
        }
    }
    m = *pm;
    if (m) {
        *pm = m->next;
    }
    pthread_mutex_unlock(&xgt->lock);
    if (!m) {
        errno = EINVAL;
        return -1;
    }

    munmap(m->addr, (size_t)count << XENEMU_PAGE_SHIFT);
    xenemu_lock(s);
    for (uint32_t i = 0; i < count; i++) {
        unpin_locked(s, m->pins[i].domid, m->pins[i].gen, m->pins[i].ref,
                     m->write);
    }
    xenemu_unlock(s);
    free(m);
    return 0;
}

typedef struct CopySide {
    bool foreign;
    uint32_t domid;
    uint32_t gen;
    uint32_t ref;
    uint8_t *ptr;
} CopySide;

/* Returns a GNTST_* code. */
static int copy_pin_locked(XenemuShared *s, const union xengnttab_copy_ptr *p,
                           bool is_gref, bool write, CopySide *side)
{
    XenemuDomain *d;
    uint32_t frame;
    uint8_t *ram;
    int rc;

    side->foreign = is_gref;
    if (!is_gref) {
        side->ptr = p->virt;
        return GNTST_okay;
    }
    d = xenemu_domain(s, p->foreign.domid);
    if (!d || d->domid == DOM0) {
        return GNTST_bad_domain;
    }
    ram = xenemu_ram(d);
    if (!ram) {
        return GNTST_general_error;
    }
    rc = pin_locked(d, p->foreign.ref, write, &frame);
    if (rc != GNTST_okay) {
        return rc;
    }
    side->domid = d->domid;
    side->gen = d->gen;
    side->ref = p->foreign.ref;
    side->ptr = ram + ((size_t)frame << XENEMU_PAGE_SHIFT) + p->foreign.offset;
    return GNTST_okay;
}

int xengnttab_grant_copy(xengnttab_handle *xgt, uint32_t count,
                         xengnttab_grant_copy_segment_t *segs)
{
    XenemuShared *s = xenemu_state();
    CopySide (*sides)[2];
    uint32_t i;

    /* gntdev rejects the whole batch when a gref side leaves its page. */
    for (i = 0; i < count; i++) {
        if (((segs[i].flags & GNTCOPY_source_gref) &&
             segs[i].source.foreign.offset + segs[i].len > XENEMU_PAGE) ||
            ((segs[i].flags & GNTCOPY_dest_gref) &&
             segs[i].dest.foreign.offset + segs[i].len > XENEMU_PAGE)) {
            errno = EINVAL;
            return -1;
        }
    }
    if (count == 0) {
        return 0;
    }
    sides = calloc(count, sizeof(*sides));
    if (!sides) {
        return -1;
    }

    /* Pin everything, copy outside the lock, unpin: two lock round trips. */
    xenemu_lock(s);
    for (i = 0; i < count; i++) {
        segs[i].status = copy_pin_locked(s, &segs[i].source,
                                         segs[i].flags & GNTCOPY_source_gref,
                                         false, &sides[i][0]);
        if (segs[i].status != GNTST_okay) {
            sides[i][0].foreign = false;
            continue;
        }
        segs[i].status = copy_pin_locked(s, &segs[i].dest,
                                         segs[i].flags & GNTCOPY_dest_gref,
                                         true, &sides[i][1]);
        if (segs[i].status != GNTST_okay) {
            sides[i][1].foreign = false;
        }
    }
    xenemu_unlock(s);

    for (i = 0; i < count; i++) {
        if (segs[i].status == GNTST_okay) {
            memcpy(sides[i][1].ptr, sides[i][0].ptr, segs[i].len);
        }
    }

    xenemu_lock(s);
    for (i = 0; i < count; i++) {
        for (int j = 0; j < 2; j++) {
            if (sides[i][j].foreign) {
                unpin_locked(s, sides[i][j].domid, sides[i][j].gen,
                             sides[i][j].ref, j == 1);
            }
        }
    }
    xenemu_unlock(s);
    free(sides);
    return 0;
}
