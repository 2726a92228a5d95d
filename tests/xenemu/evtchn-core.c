/*
 * xenemu: event channel engine (port states, delivery, wake-ups)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "evtchn-core.h"

/*
 * This process's sockets connected to each handle's socket, so that a wake
 * is one send() with no path lookup.  Used under the state lock only.
 */
static struct {
    bool connected;
    uint32_t gen;
    int fd;
} peer[XENEMU_MAX_HANDLES];

static void handle_addr(struct sockaddr_un *sa, int slot, uint32_t gen)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/ev/%d.%u",
             xenemu_state_dir(), slot, gen);
}

static void wake_locked(XenemuShared *s, int slot)
{
    uint32_t gen = s->handles[slot].gen;
    struct sockaddr_un sa;
    char byte = 0;

    if (peer[slot].connected && peer[slot].gen != gen) {
        close(peer[slot].fd);
        peer[slot].connected = false;
    }
    if (!peer[slot].connected) {
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        handle_addr(&sa, slot, gen);
        if (fd < 0) {
            return;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            /* The owner died; its handle is reaped on next open. */
            close(fd);
            return;
        }
        peer[slot].connected = true;
        peer[slot].fd = fd;
        peer[slot].gen = gen;
    }
    if (send(peer[slot].fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
        errno == ECONNREFUSED) {
        close(peer[slot].fd);
        peer[slot].connected = false;
    }
}

static void enqueue_locked(XenemuShared *s, XenemuDomain *d, uint32_t port)
{
    XenemuPort *p = &d->ports[port];
    XenemuHandle *h = &s->handles[p->owner];

    p->pending = 0;
    p->masked = 1;
    p->queued = 1;
    h->queue[(h->qhead + h->qlen) % XENEMU_NR_PORTS] = port;
    if (h->qlen++ == 0) {
        wake_locked(s, p->owner);
    }
}

void evc_set_pending_locked(XenemuShared *s, XenemuDomain *d, uint32_t port)
{
    XenemuPort *p = &d->ports[port];

    p->pending = 1;
    if (!p->masked && !p->queued && p->owner >= 0) {
        enqueue_locked(s, d, port);
    }
}

void evc_set_owner_locked(XenemuShared *s, XenemuDomain *d, uint32_t port,
                          int owner)
{
    XenemuPort *p = &d->ports[port];

    /*
     * An event queued to the old listener but never read is still owed;
     * the new listener starts unmasked, as a Linux evtchn bind does.  The
     * old listener still reads the stale queue entry (evc_pop).
     */
    if (p->queued) {
        p->pending = 1;
    }
    p->queued = 0;
    p->masked = 0;
    p->owner = owner;
    if (p->pending) {
        evc_set_pending_locked(s, d, port);
    }
}

/*
 * Called under the lock when the queue empties.  Wakes are sent only on the
 * queue's empty->non-empty transition, under the same lock, so exactly one
 * datagram is waiting: one recv() makes the fd unreadable again.
 */
static void drain(EvcHandle *h)
{
    char byte;

    recv(h->fd, &byte, 1, MSG_DONTWAIT);
}

static int alloc_port_locked(XenemuDomain *d, int owner)
{
    for (uint32_t port = 1; port < XENEMU_NR_PORTS; port++) {
        XenemuPort *p = &d->ports[port];

        if (p->state == PORT_FREE) {
            memset(p, 0, sizeof(*p));
            p->owner = owner;
            return port;
        }
    }
    return -ENOSPC;
}

int evc_close_locked(XenemuShared *s, XenemuDomain *d, uint32_t port)
{
    XenemuPort *p = xenemu_port(d, port);

    if (!p || p->state == PORT_FREE) {
        return -EINVAL;
    }
    if (p->state == PORT_INTERDOMAIN) {
        /* As Xen: the peer's end falls back to unbound, bindable by us. */
        XenemuDomain *rd = xenemu_domain(s, p->remote_domid);
        XenemuPort *rp = rd ? xenemu_port(rd, p->remote_port) : NULL;

        if (rp && rp->state == PORT_INTERDOMAIN &&
            rp->remote_domid == d->domid && rp->remote_port == port) {
            rp->state = PORT_UNBOUND;
            rp->remote_port = 0;
        }
    }
    memset(p, 0, sizeof(*p));
    p->owner = -1;
    return 0;
}

/*
 * What closing an evtchn fd does to the ports it bound.  A guest's xenstore
 * port is the exception: the guest kernel's xenbus driver owns it, not a
 * process, so it only loses its listener and stays connected to xenstored.
 */
static void release_ports_locked(XenemuShared *s, int slot)
{
    XenemuDomain *d = xenemu_domain(s, s->handles[slot].domid);

    for (uint32_t port = 1; d && port < XENEMU_NR_PORTS; port++) {
        if (d->ports[port].state == PORT_FREE ||
            d->ports[port].owner != slot) {
            continue;
        }
        if (d->domid != 0 && port == d->store_port) {
            evc_set_owner_locked(s, d, port, -1);
        } else {
            evc_close_locked(s, d, port);
        }
    }
}

static void reap_dead_handles_locked(XenemuShared *s)
{
    for (int slot = 0; slot < XENEMU_MAX_HANDLES; slot++) {
        XenemuHandle *h = &s->handles[slot];
        struct sockaddr_un sa;

        if (!h->in_use || xenemu_pid_alive(h->pid)) {
            continue;
        }
        /* What the kernel does when the evtchn fd of a dead process closes */
        release_ports_locked(s, slot);
        handle_addr(&sa, slot, h->gen);
        unlink(sa.sun_path);
        h->in_use = 0;
    }
}

int evc_handle_open(EvcHandle *out, uint32_t domid)
{
    XenemuShared *s = xenemu_state();
    struct sockaddr_un sa;
    int slot, fd, ret;

    if (!s) {
        return -errno;
    }
    /* Blocking, like /dev/xen/evtchn: users may set O_NONBLOCK themselves. */
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    xenemu_lock(s);
    reap_dead_handles_locked(s);
    for (slot = 0; slot < XENEMU_MAX_HANDLES; slot++) {
        if (!s->handles[slot].in_use) {
            break;
        }
    }
    if (slot == XENEMU_MAX_HANDLES) {
        ret = -EMFILE;
        goto fail;
    }
    XenemuHandle *h = &s->handles[slot];
    memset(h, 0, offsetof(XenemuHandle, queue));
    h->gen = ++s->handle_gen;
    h->pid = getpid();
    h->domid = domid;
    handle_addr(&sa, slot, h->gen);
    unlink(sa.sun_path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        ret = -errno;
        goto fail;
    }
    h->in_use = 1;
    xenemu_unlock(s);
    out->slot = slot;
    out->gen = h->gen;
    out->domid = domid;
    out->fd = fd;
    return 0;

fail:
    xenemu_unlock(s);
    close(fd);
    return ret;
}

void evc_handle_close(EvcHandle *eh)
{
    XenemuShared *s = xenemu_state();
    XenemuHandle *h = &s->handles[eh->slot];
    struct sockaddr_un sa;

    xenemu_lock(s);
    if (h->in_use && h->gen == eh->gen) {
        release_ports_locked(s, eh->slot);
        h->in_use = 0;
    }
    handle_addr(&sa, eh->slot, eh->gen);
    unlink(sa.sun_path);
    xenemu_unlock(s);
    close(eh->fd);
}

/* Lock held on success; on failure returns NULL with the lock released. */
static XenemuDomain *lock_own_domain(XenemuShared *s, EvcHandle *h)
{
    XenemuDomain *d;

    xenemu_lock(s);
    d = xenemu_domain(s, h->domid);
    if (!d || !s->handles[h->slot].in_use ||
        s->handles[h->slot].gen != h->gen) {
        xenemu_unlock(s);
        return NULL;
    }
    return d;
}

static XenemuPort *owned_port(XenemuDomain *d, EvcHandle *h, uint32_t port)
{
    XenemuPort *p = xenemu_port(d, port);

    if (!p || p->state == PORT_FREE || p->owner != h->slot) {
        return NULL;
    }
    return p;
}

int evc_alloc_unbound_locked(XenemuShared *s, XenemuDomain *d,
                             uint32_t remote_domid, int owner)
{
    int port;

    if (!xenemu_domain(s, remote_domid)) {
        return -ESRCH;
    }
    port = alloc_port_locked(d, owner);
    if (port > 0) {
        d->ports[port].state = PORT_UNBOUND;
        d->ports[port].remote_domid = remote_domid;
    }
    return port;
}

int evc_alloc_unbound(EvcHandle *h, uint32_t remote_domid)
{
    XenemuShared *s = xenemu_state();
    XenemuDomain *d = lock_own_domain(s, h);
    int ret;

    if (!d) {
        return -ESRCH;
    }
    ret = evc_alloc_unbound_locked(s, d, remote_domid, h->slot);
    xenemu_unlock(s);
    return ret;
}

int evc_bind_interdomain(EvcHandle *h, uint32_t remote_domid,
                         uint32_t remote_port)
{
    XenemuShared *s = xenemu_state();
    XenemuDomain *d = lock_own_domain(s, h);
    XenemuDomain *rd;
    XenemuPort *rp;
    int port;

    if (!d) {
        return -ESRCH;
    }
    rd = xenemu_domain(s, remote_domid);
    if (!rd) {
        port = -ESRCH;
        goto out;
    }
    rp = xenemu_port(rd, remote_port);
    if (!rp || rp->state != PORT_UNBOUND || rp->remote_domid != d->domid) {
        port = -EINVAL;
        goto out;
    }
    port = alloc_port_locked(d, h->slot);
    if (port < 0) {
        goto out;
    }
    d->ports[port].state = PORT_INTERDOMAIN;
    d->ports[port].remote_domid = remote_domid;
    d->ports[port].remote_port = remote_port;
    rp->state = PORT_INTERDOMAIN;
    rp->remote_domid = d->domid;
    rp->remote_port = port;
    /*
     * Xen 4.17 marks the new local end pending: notifications sent to the
     * unbound remote end before the bind would otherwise be lost.
     */
    evc_set_pending_locked(s, d, port);
out:
    xenemu_unlock(s);
    return port;
}

int evc_bind_virq(EvcHandle *h, unsigned int virq)
{
    XenemuShared *s = xenemu_state();
    XenemuDomain *d = lock_own_domain(s, h);
    int port;

    if (!d) {
        return -ESRCH;
    }
    port = -EINVAL;
    if (virq < NR_VIRQS) {
        port = alloc_port_locked(d, h->slot);
    }
    if (port > 0) {
        d->ports[port].state = PORT_VIRQ;
        d->ports[port].virq = virq;
    }
    xenemu_unlock(s);
    return port;
}

/* Take @port out of @eh's delivery queue; the fd goes quiet if it empties */
static void purge_locked(XenemuShared *s, EvcHandle *eh, uint32_t port)
{
    XenemuHandle *h = &s->handles[eh->slot];
    uint32_t kept = 0;

    for (uint32_t i = 0; i < h->qlen; i++) {
        uint32_t queued = h->queue[(h->qhead + i) % XENEMU_NR_PORTS];

        if (queued != port) {
            h->queue[(h->qhead + kept++) % XENEMU_NR_PORTS] = queued;
        }
    }
    if (h->qlen && !kept) {
        drain(eh);
    }
    h->qlen = kept;
}

int evc_unbind(EvcHandle *h, uint32_t port, bool purge)
{
    XenemuShared *s = xenemu_state();
    XenemuDomain *d = lock_own_domain(s, h);
    int ret;

    if (!d) {
        return -ESRCH;
    }
    ret = owned_port(d, h, port) ? evc_close_locked(s, d, port) : -ENOTCONN;
    if (ret == 0 && purge) {
        purge_locked(s, h, port);
    }
    xenemu_unlock(s);
    return ret;
}

int evc_notify(EvcHandle *h, uint32_t port)
{
    XenemuShared *s = xenemu_state();
    XenemuDomain *d = lock_own_domain(s, h);
    XenemuPort *p;
    int ret = 0;

    if (!d) {
        return -ESRCH;
    }
    p = owned_port(d, h, port);
    if (!p) {
        ret = -ENOTCONN;
    } else if (p->state == PORT_INTERDOMAIN) {
        XenemuDomain *rd = xenemu_domain(s, p->remote_domid);

        if (rd) {
            evc_set_pending_locked(s, rd, p->remote_port);
        }
    }
    /* Unbound (peer closed) or virq: dropped silently, as Xen does. */
    xenemu_unlock(s);
    return ret;
}

int evc_unmask(EvcHandle *h, uint32_t port)
{
    XenemuShared *s = xenemu_state();
    XenemuDomain *d = lock_own_domain(s, h);
    XenemuPort *p;

    if (!d) {
        return -ESRCH;
    }
    /* Linux's evtchn write() ignores ports the handle does not own. */
    p = owned_port(d, h, port);
    if (p) {
        p->masked = 0;
        if (p->pending) {
            evc_set_pending_locked(s, d, port);
        }
    }
    xenemu_unlock(s);
    return 0;
}

int evc_pop(EvcHandle *eh, bool *stale)
{
    XenemuShared *s = xenemu_state();
    XenemuHandle *h = &s->handles[eh->slot];
    XenemuDomain *d = lock_own_domain(s, eh);
    XenemuPort *p;
    int port;

    if (!d) {
        return -ESRCH;
    }
    if (h->qlen == 0) {
        xenemu_unlock(s);
        return -EAGAIN;
    }
    port = h->queue[h->qhead];
    h->qhead = (h->qhead + 1) % XENEMU_NR_PORTS;
    h->qlen--;
    p = &d->ports[port];
    *stale = p->state == PORT_FREE || p->owner != eh->slot || !p->queued;
    if (!*stale) {
        p->queued = 0;
    }
    if (h->qlen == 0) {
        drain(eh);
    }
    xenemu_unlock(s);
    return port;
}

void evc_raise_virq_locked(XenemuShared *s, unsigned int virq)
{
    XenemuDomain *d0 = xenemu_domain(s, 0);

    for (uint32_t port = 1; d0 && port < XENEMU_NR_PORTS; port++) {
        if (d0->ports[port].state == PORT_VIRQ &&
            d0->ports[port].virq == virq) {
            evc_set_pending_locked(s, d0, port);
        }
    }
}
