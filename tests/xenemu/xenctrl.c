/*
 * xenemu: libxenctrl, the part xenstored and a PV device model use
 *
 * xenstored needs domain existence and state (xc_domain_getinfo up to Xen
 * 4.17, xc_domain_getinfo_single from 4.18; polled on VIRQ_DOM_EXC); QEMU
 * only opens the interface for a PV machine.  The HVM and passthrough calls
 * QEMU links against fail with ENOSYS.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

#include "domain.h"
#include "state.h"

/*
 * Xen 4.18+ entry points, which bookworm's 4.17 headers lack: trixie's
 * xenstored 4.20 and QEMU 10.0 import them.
 */
int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid,
                             xc_domaininfo_t *info);
int xc_physdev_map_pirq_gsi(xc_interface *xch, uint32_t domid, int gsi,
                            int *pirq);
int xc_pcidev_get_gsi(xc_interface *xch, uint32_t sbdf);

struct xc_interface_core {
    int unused;
};

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    if (!xenemu_state()) {
        return NULL;
    }
    return calloc(1, sizeof(xc_interface));
}

int xc_interface_close(xc_interface *xch)
{
    free(xch);
    return 0;
}

static void fill_domctl_info(const XenemuDomain *d, xc_domaininfo_t *info)
{
    memset(info, 0, sizeof(*info));
    info->domain = d->domid;
    info->flags = d->dominf_flags;
    info->tot_pages = d->nr_pages;
    info->max_pages = d->nr_pages;
    info->shared_info_frame = d->shared_info_frame;
    info->nr_online_vcpus = 1;
    info->max_vcpu_id = 0;
    memcpy(info->handle, d->uuid, sizeof(info->handle));
}

/* Domains with domid >= @first, in domid order, as the getdomaininfo loop */
static int collect(uint32_t first, unsigned int max, xc_domaininfo_t *out)
{
    XenemuShared *s = xenemu_state();
    unsigned int n = 0;
    uint32_t next = first;

    if (!s) {
        return -1;
    }
    xenemu_lock(s);
    while (n < max) {
        const XenemuDomain *best = NULL;

        for (int i = 0; i < XENEMU_MAX_DOMAINS; i++) {
            const XenemuDomain *d = &s->domains[i];

            if (d->in_use && d->domid >= next &&
                (!best || d->domid < best->domid)) {
                best = d;
            }
        }
        if (!best) {
            break;
        }
        fill_domctl_info(best, &out[n++]);
        next = best->domid + 1;
    }
    xenemu_unlock(s);
    return n;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
                          unsigned int max_domains, xc_domaininfo_t *info)
{
    return collect(first_domain, max_domains, info);
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
                      unsigned int max_doms, xc_dominfo_t *info)
{
    xc_domaininfo_t *raw;
    int n;

    raw = calloc(max_doms ? max_doms : 1, sizeof(*raw));
    if (!raw) {
        return -1;
    }
    n = collect(first_domid, max_doms, raw);
    for (int i = 0; i < n; i++) {
        xc_dominfo_t *o = &info[i];
        const xc_domaininfo_t *r = &raw[i];

        memset(o, 0, sizeof(*o));
        o->domid = r->domain;
        o->dying = !!(r->flags & XEN_DOMINF_dying);
        o->shutdown = !!(r->flags & XEN_DOMINF_shutdown);
        o->running = !!(r->flags & XEN_DOMINF_running);
        o->shutdown_reason = (r->flags >> XEN_DOMINF_shutdownshift) &
                             XEN_DOMINF_shutdownmask;
        o->crashed = o->shutdown && o->shutdown_reason == SHUTDOWN_crash;
        o->nr_pages = r->tot_pages;
        o->shared_info_frame = r->shared_info_frame;
        o->max_memkb = r->max_pages << (XENEMU_PAGE_SHIFT - 10);
        o->nr_online_vcpus = r->nr_online_vcpus;
        o->max_vcpu_id = r->max_vcpu_id;
        memcpy(o->handle, r->handle, sizeof(o->handle));
    }
    free(raw);
    return n;
}

/* As XEN_DOMCTL_getdomaininfo since Xen 4.18: that domain or ESRCH. */
int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid,
                             xc_domaininfo_t *info)
{
    xc_domaininfo_t found;
    int n = collect(domid, 1, &found);

    if (n < 0) {
        return -1;
    }
    if (n == 0 || found.domain != domid) {
        errno = ESRCH;
        return -1;
    }
    if (info) {
        *info = found;
    }
    return 0;
}

int xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason)
{
    int ret = xenemu_domain_shutdown(domid, reason);

    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return 0;
}

#define UNSUPPORTED do { errno = ENOSYS; return -1; } while (0)

int xc_domain_bind_pt_pci_irq(xc_interface *xch, uint32_t domid,
                              uint8_t machine_irq, uint8_t bus,
                              uint8_t device, uint8_t intx)
{
    UNSUPPORTED;
}

int xc_domain_iomem_permission(xc_interface *xch, uint32_t domid,
                               unsigned long first_mfn,
                               unsigned long nr_mfns, uint8_t allow_access)
{
    UNSUPPORTED;
}

int xc_domain_ioport_mapping(xc_interface *xch, uint32_t domid,
                             uint32_t first_gport, uint32_t first_mport,
                             uint32_t nr_ports, uint32_t add_mapping)
{
    UNSUPPORTED;
}

int xc_domain_memory_mapping(xc_interface *xch, uint32_t domid,
                             unsigned long first_gfn,
                             unsigned long first_mfn,
                             unsigned long nr_mfns, uint32_t add_mapping)
{
    UNSUPPORTED;
}

int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid,
                                     unsigned long nr_extents,
                                     unsigned int extent_order,
                                     unsigned int mem_flags,
                                     xen_pfn_t *extent_start)
{
    UNSUPPORTED;
}

int xc_domain_unbind_msi_irq(xc_interface *xch, uint32_t domid,
                             uint32_t gvec, uint32_t pirq, uint32_t gflags)
{
    UNSUPPORTED;
}

int xc_domain_unbind_pt_irq(xc_interface *xch, uint32_t domid,
                            uint8_t machine_irq, uint8_t irq_type,
                            uint8_t bus, uint8_t device, uint8_t intx,
                            uint8_t isa_irq)
{
    UNSUPPORTED;
}

int xc_domain_update_msi_irq(xc_interface *xch, uint32_t domid,
                             uint32_t gvec, uint32_t pirq, uint32_t gflags,
                             uint64_t gtable)
{
    UNSUPPORTED;
}

int xc_get_hvm_param(xc_interface *handle, uint32_t dom, int param,
                     unsigned long *value)
{
    UNSUPPORTED;
}

int xc_set_hvm_param(xc_interface *handle, uint32_t dom, int param,
                     unsigned long value)
{
    UNSUPPORTED;
}

int xc_physdev_map_pirq(xc_interface *xch, uint32_t domid, int index,
                        int *pirq)
{
    UNSUPPORTED;
}

int xc_physdev_map_pirq_msi(xc_interface *xch, uint32_t domid, int index,
                            int *pirq, int devfn, int bus, int entry_nr,
                            uint64_t table_base)
{
    UNSUPPORTED;
}

int xc_physdev_unmap_pirq(xc_interface *xch, uint32_t domid, int pirq)
{
    UNSUPPORTED;
}

int xc_physdev_map_pirq_gsi(xc_interface *xch, uint32_t domid, int gsi,
                            int *pirq)
{
    UNSUPPORTED;
}

int xc_pcidev_get_gsi(xc_interface *xch, uint32_t sbdf)
{
    UNSUPPORTED;
}
