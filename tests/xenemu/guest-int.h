/*
 * xenemu: guest library internals shared by guest.c and guest-xs.c
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XENEMU_GUEST_INT_H
#define XENEMU_GUEST_INT_H

#include "evtchn-core.h"

#include <xen/io/xs_wire.h>
#include "xenemu-guest.h"

typedef struct XsWatchEvent {
    struct XsWatchEvent *next;
    char *path;
    char *token;
} XsWatchEvent;

struct XenemuGuest {
    uint32_t domid;
    uint32_t gen;
    XenemuDomain *dom;
    uint8_t *ram;
    EvcHandle ev;               /* ports the caller allocates */

    /* xenstore connection: the ring page and its port, on their own queue */
    EvcHandle xs_ev;
    uint32_t xs_port;
    struct xenstore_domain_interface *xs;
    XsWatchEvent *watch_head;
    XsWatchEvent **watch_tail;
};

/* Pop a port of @h, waiting up to @timeout_ms (< 0: forever). */
int xenemu_evc_wait(EvcHandle *h, int timeout_ms);

/* Drop the watch events buffered for @g. */
void xenemu_guest_xs_free_watches(XenemuGuest *g);
/*
 * Become the listener of the domain's xenstore port, as the guest kernel's
 * xenbus driver is, and take a request id (if @req_id) unique across the
 * domain's processes, so that a reply a killed process left on the ring
 * never answers a later request.  A domain has one xenstore ring: the
 * process that used it last gets its events.  0 or -ESRCH.
 */
int xenemu_guest_xs_claim(XenemuGuest *g, uint32_t *req_id);
/*
 * Claim the ring for a new process: XS_RESET_WATCHES drops the watches and
 * transactions of the connection, and what was on the ring for them.
 */
int xenemu_guest_xs_reset(XenemuGuest *g);

#endif /* XENEMU_GUEST_INT_H */
