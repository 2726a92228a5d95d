/*
 * xenemu: domain lifecycle in the shared state (what a toolstack asks Xen
 * for when it builds or destroys a domain)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XENEMU_DOMAIN_H
#define XENEMU_DOMAIN_H

#include "state.h"

typedef struct XenemuDomainInfo {
    uint64_t store_gfn;
    uint32_t store_port;
    uint8_t uuid[16];
} XenemuDomainInfo;

/*
 * dom0's side of the xenstore connection, as the dom0 kernel provides it:
 * an unbound port for xenstored to bind, and the ring page behind
 * /proc/xen/xsd_kva.  Returns the port or -errno.
 */
int xenemu_dom0_xenstore_init(void);

/* Returns 0 or -errno. */
int xenemu_domain_create(uint32_t domid, unsigned int mem_mib,
                         XenemuDomainInfo *info);
int xenemu_domain_destroy(uint32_t domid);
int xenemu_domain_shutdown(uint32_t domid, unsigned int reason);

#endif /* XENEMU_DOMAIN_H */
