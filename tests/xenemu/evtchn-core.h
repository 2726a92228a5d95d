/*
 * xenemu: event channel engine shared by the dom0 library and the guest
 * library.  Functions marked _locked expect the state lock held; the others
 * take it.
 *
 * Delivery model (Linux's evtchn driver over Xen): a port that becomes
 * pending while unmasked and owned by a handle is delivered: its pending bit
 * is consumed, it is masked and queued to the owner, whose fd turns
 * readable.  Notifications arriving while masked only set pending (they
 * coalesce); unmask re-delivers a pending port.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XENEMU_EVTCHN_CORE_H
#define XENEMU_EVTCHN_CORE_H

#include "state.h"

typedef struct EvcHandle {
    int slot;
    uint32_t gen;
    uint32_t domid;
    int fd;                     /* bound datagram socket, pollable */
} EvcHandle;

/* Returns 0 or -errno. */
int evc_handle_open(EvcHandle *h, uint32_t domid);
void evc_handle_close(EvcHandle *h);

/* Mark port @port of @d pending and deliver it if possible. */
void evc_set_pending_locked(XenemuShared *s, XenemuDomain *d, uint32_t port);

/* Give (owner >= 0) or take away (-1) a port's listener; delivers if due. */
void evc_set_owner_locked(XenemuShared *s, XenemuDomain *d, uint32_t port,
                          int owner);

/* All return a port or 0 on success, -errno on failure. */
int evc_alloc_unbound_locked(XenemuShared *s, XenemuDomain *d,
                             uint32_t remote_domid, int owner);
int evc_bind_interdomain(EvcHandle *h, uint32_t remote_domid,
                         uint32_t remote_port);
int evc_alloc_unbound(EvcHandle *h, uint32_t remote_domid);
int evc_bind_virq(EvcHandle *h, unsigned int virq);
int evc_close_locked(XenemuShared *s, XenemuDomain *d, uint32_t port);
/*
 * Linux's evtchn device keeps a port in the queue after its unbind (see
 * evc_pop); @purge drops it instead, as a guest kernel never reports a port
 * it closed.
 */
int evc_unbind(EvcHandle *h, uint32_t port, bool purge);
int evc_notify(EvcHandle *h, uint32_t port);
int evc_unmask(EvcHandle *h, uint32_t port);
/*
 * Next delivered port, or -EAGAIN when the queue is empty.  As in Linux's
 * evtchn ring, a port stays queued when it is unbound (or handed to
 * another handle) after its delivery: it is still returned, with *stale
 * set, so that a readable fd always yields a port.
 */
int evc_pop(EvcHandle *h, bool *stale);

/* VIRQ_DOM_EXC to dom0's listeners, as Xen does on domain death. */
void evc_raise_virq_locked(XenemuShared *s, unsigned int virq);

#endif /* XENEMU_EVTCHN_CORE_H */
