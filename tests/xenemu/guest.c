/*
 * xenemu: the guest side of the double (memory, grant table, event channels)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest-int.h"

/* Lock held and the domain still the one we opened, or NULL unlocked. */
static XenemuShared *lock_domain(XenemuGuest *g)
{
    XenemuShared *s = xenemu_state();

    xenemu_lock(s);
    if (!g->dom->in_use || g->dom->gen != g->gen) {
        xenemu_unlock(s);
        return NULL;
    }
    return s;
}

/* The kernel's gnttab_end_foreign_access_ref_v1: revoke unless in use. */
static bool end_foreign_access(grant_entry_v1_t *e)
{
    uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

    do {
        if (flags & (GTF_reading | GTF_writing)) {
            return false;
        }
    } while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, false,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    return true;
}

/* The last pid looked up: a scan meets the same owner many times in a row */
typedef struct PidCache {
    int32_t pid;
    bool alive;
} PidCache;

/* Whether what @owner holds is to be reclaimed. */
static bool owner_gone(int32_t owner, PidCache *cache)
{
    if (owner == XENEMU_OWNER_ORPHAN) {
        return true;
    }
    if (owner == XENEMU_OWNER_FREE || owner == XENEMU_OWNER_DOMAIN) {
        return false;
    }
    if (owner != cache->pid) {
        cache->pid = owner;
        cache->alive = xenemu_pid_alive(owner);
    }
    return !cache->alive;
}

/*
 * What a guest kernel does when a process dies: take back its grants and
 * pages.  A grant a backend still has mapped, or is copying through, cannot
 * be revoked, and its page must not be handed out again under the
 * backend's feet: both become orphans, retried at every open.
 */
static void reclaim_locked(XenemuDomain *d)
{
    uint8_t busy[XENEMU_MAX_PAGES / 8] = { 0 };
    PidCache cache = { .pid = XENEMU_OWNER_FREE };

    for (uint32_t ref = XENEMU_GNTTAB_NR_RESERVED; ref < XENEMU_NR_GRANTS;
         ref++) {
        if (owner_gone(d->gref_owner[ref], &cache)) {
            d->gref_owner[ref] = end_foreign_access(&d->grants[ref]) ?
                                 XENEMU_OWNER_FREE : XENEMU_OWNER_ORPHAN;
        }
    }
    for (uint32_t ref = 0; ref < XENEMU_NR_GRANTS; ref++) {
        uint32_t frame = d->active_frame[ref];

        if (d->pin_read[ref] + d->pin_write[ref] && frame < d->nr_pages) {
            busy[frame / 8] |= 1u << (frame % 8);
        }
    }
    for (uint64_t pfn = 0; pfn < d->nr_pages; pfn++) {
        if (owner_gone(d->page_owner[pfn], &cache)) {
            d->page_owner[pfn] = busy[pfn / 8] & (1u << (pfn % 8)) ?
                                 XENEMU_OWNER_ORPHAN : XENEMU_OWNER_FREE;
        }
    }
}

XenemuGuest *xenemu_guest_open(uint32_t domid)
{
    XenemuShared *s = xenemu_state();
    XenemuGuest *g;
    XenemuDomain *d;
    bool xs_reset = false;
    int ret;

    if (!s) {
        return NULL;
    }
    g = calloc(1, sizeof(*g));
    if (!g) {
        return NULL;
    }
    g->domid = domid;
    g->watch_tail = &g->watch_head;

    xenemu_lock(s);
    d = domid ? xenemu_domain(s, domid) : NULL;
    if (d) {
        g->dom = d;
        g->gen = d->gen;
        g->xs_port = d->store_port;
        g->ram = xenemu_ram(d);
        reclaim_locked(d);
        /*
         * Watches, transactions and replies left on the xenstore
         * connection by a process that died are nobody's: start clean.
         */
        xs_reset = d->xs_pid != getpid() &&
                   (d->xs_pid == 0 || !xenemu_pid_alive(d->xs_pid));
    }
    xenemu_unlock(s);
    if (!d || !g->ram) {
        int err = d ? errno : ESRCH;

        free(g);
        errno = err;
        return NULL;
    }
    g->xs = (void *)(g->ram + (d->store_gfn << XENEMU_PAGE_SHIFT));

    ret = evc_handle_open(&g->ev, domid);
    if (ret == 0) {
        ret = evc_handle_open(&g->xs_ev, domid);
        if (ret < 0) {
            evc_handle_close(&g->ev);
        }
    }
    if (ret < 0) {
        free(g);
        errno = -ret;
        return NULL;
    }
    ret = xs_reset ? xenemu_guest_xs_reset(g) : xenemu_guest_xs_claim(g, NULL);
    if (ret < 0) {
        xenemu_guest_close(g);
        errno = -ret;
        return NULL;
    }
    return g;
}

int xenemu_guest_xs_claim(XenemuGuest *g, uint32_t *req_id)
{
    XenemuShared *s = lock_domain(g);
    XenemuPort *p;

    if (!s) {
        return -ESRCH;
    }
    p = &g->dom->ports[g->xs_port];
    if (p->owner != g->xs_ev.slot) {
        evc_set_owner_locked(s, g->dom, g->xs_port, g->xs_ev.slot);
    }
    g->dom->xs_pid = getpid();
    if (req_id) {
        *req_id = ++g->dom->xs_req_id;
    }
    xenemu_unlock(s);
    return 0;
}

void xenemu_guest_close(XenemuGuest *g)
{
    if (!g) {
        return;
    }
    xenemu_guest_xs_free_watches(g);
    evc_handle_close(&g->ev);
    evc_handle_close(&g->xs_ev);
    free(g);
}

uint32_t xenemu_guest_domid(XenemuGuest *g)
{
    return g->domid;
}

void *xenemu_guest_alloc_pages(XenemuGuest *g, unsigned int count,
                               uint64_t *gfn)
{
    XenemuShared *s = lock_domain(g);
    uint64_t start = 0, run = 0;
    XenemuDomain *d = g->dom;

    if (!s) {
        errno = ESRCH;
        return NULL;
    }
    for (uint64_t pfn = 0; count && pfn < d->nr_pages && run < count; pfn++) {
        if (d->page_owner[pfn] != XENEMU_OWNER_FREE) {
            run = 0;
        } else if (run++ == 0) {
            start = pfn;
        }
    }
    if (!count || run < count) {
        xenemu_unlock(s);
        errno = count ? ENOMEM : EINVAL;
        return NULL;
    }
    for (uint64_t pfn = start; pfn < start + count; pfn++) {
        d->page_owner[pfn] = getpid();
    }
    xenemu_unlock(s);

    memset(g->ram + (start << XENEMU_PAGE_SHIFT), 0,
           (size_t)count << XENEMU_PAGE_SHIFT);
    *gfn = start;
    return g->ram + (start << XENEMU_PAGE_SHIFT);
}

void xenemu_guest_free_pages(XenemuGuest *g, uint64_t gfn, unsigned int count)
{
    XenemuShared *s = lock_domain(g);

    if (!s) {
        return;
    }
    for (uint64_t pfn = gfn; pfn < gfn + count && pfn < g->dom->nr_pages;
         pfn++) {
        if (g->dom->page_owner[pfn] != XENEMU_OWNER_DOMAIN) {
            g->dom->page_owner[pfn] = XENEMU_OWNER_FREE;
        }
    }
    xenemu_unlock(s);
}

void *xenemu_guest_gfn_to_ptr(XenemuGuest *g, uint64_t gfn)
{
    if (gfn >= g->dom->nr_pages) {
        errno = EINVAL;
        return NULL;
    }
    return g->ram + (gfn << XENEMU_PAGE_SHIFT);
}

/* The guest kernel's order: frame and domid, write barrier, then flags. */
static void write_entry(grant_entry_v1_t *e, uint16_t flags, uint16_t domid,
                        uint32_t frame)
{
    e->frame = frame;
    e->domid = domid;
    __atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

int xenemu_guest_grant_access(XenemuGuest *g, uint32_t peer_domid,
                              uint64_t gfn, bool readonly)
{
    XenemuShared *s;
    int gref = -ENOSPC;

    if (gfn >= g->dom->nr_pages || peer_domid >= DOMID_FIRST_RESERVED) {
        return -EINVAL;
    }
    s = lock_domain(g);
    if (!s) {
        return -ESRCH;
    }
    for (uint32_t ref = XENEMU_GNTTAB_NR_RESERVED; ref < XENEMU_NR_GRANTS;
         ref++) {
        if (g->dom->gref_owner[ref] == XENEMU_OWNER_FREE) {
            g->dom->gref_owner[ref] = getpid();
            gref = ref;
            break;
        }
    }
    xenemu_unlock(s);
    if (gref > 0) {
        write_entry(&g->dom->grants[gref],
                    GTF_permit_access | (readonly ? GTF_readonly : 0),
                    peer_domid, gfn);
    }
    return gref;
}

int xenemu_guest_end_access(XenemuGuest *g, uint32_t gref)
{
    XenemuShared *s;

    if (gref >= XENEMU_NR_GRANTS) {
        return -EINVAL;
    }
    if (!end_foreign_access(&g->dom->grants[gref])) {
        return -EBUSY;
    }
    if (gref >= XENEMU_GNTTAB_NR_RESERVED) {
        s = lock_domain(g);
        if (s) {
            g->dom->gref_owner[gref] = XENEMU_OWNER_FREE;
            xenemu_unlock(s);
        }
    }
    return 0;
}

int xenemu_guest_grant_raw(XenemuGuest *g, uint32_t gref, uint16_t flags,
                           uint16_t domid, uint32_t frame)
{
    XenemuShared *s;

    if (gref >= XENEMU_NR_GRANTS) {
        return -EINVAL;
    }
    s = lock_domain(g);
    if (!s) {
        return -ESRCH;
    }
    /* Keep the allocator away from a forged entry until end_access. */
    if (gref >= XENEMU_GNTTAB_NR_RESERVED) {
        g->dom->gref_owner[gref] = getpid();
    }
    xenemu_unlock(s);
    write_entry(&g->dom->grants[gref], flags, domid, frame);
    return 0;
}

int xenemu_guest_grant_flags(XenemuGuest *g, uint32_t gref)
{
    if (gref >= XENEMU_NR_GRANTS) {
        return -EINVAL;
    }
    return __atomic_load_n(&g->dom->grants[gref].flags, __ATOMIC_ACQUIRE);
}

int xenemu_guest_evtchn_alloc_unbound(XenemuGuest *g, uint32_t remote_domid)
{
    return evc_alloc_unbound(&g->ev, remote_domid);
}

int xenemu_guest_evtchn_notify(XenemuGuest *g, uint32_t port)
{
    return evc_notify(&g->ev, port);
}

int xenemu_guest_evtchn_close(XenemuGuest *g, uint32_t port)
{
    return evc_unbind(&g->ev, port, true);
}

int xenemu_guest_evtchn_fd(XenemuGuest *g)
{
    return g->ev.fd;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Pop a port from @h, waiting up to @timeout_ms for one to arrive.  Unlike
 * Linux's evtchn device, a guest kernel never reports a port it closed:
 * stale entries are skipped.
 */
int xenemu_evc_wait(EvcHandle *h, int timeout_ms)
{
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
    bool stale;
    int port, left;

    for (;;) {
        port = evc_pop(h, &stale);
        if (port >= 0 && stale) {
            continue;
        }
        if (port != -EAGAIN || timeout_ms == 0) {
            return port;
        }
        left = -1;
        if (timeout_ms > 0) {
            left = deadline - now_ms();
            if (left <= 0) {
                return -EAGAIN;
            }
        }
        if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
            return -errno;
        }
    }
}

int xenemu_guest_evtchn_wait(XenemuGuest *g, int timeout_ms)
{
    return xenemu_evc_wait(&g->ev, timeout_ms);
}

int xenemu_guest_evtchn_unmask(XenemuGuest *g, uint32_t port)
{
    return evc_unmask(&g->ev, port);
}
