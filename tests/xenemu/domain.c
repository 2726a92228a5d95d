/*
 * xenemu: domain lifecycle
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* For XEN_DOMINF_*: the domctl ABI is only visible to "tools". */
#include <xenctrl.h>

#include "domain.h"
#include "evtchn-core.h"

int xenemu_dom0_xenstore_init(void)
{
    XenemuShared *s = xenemu_state();
    char path[PATH_MAX], buf[16];
    XenemuDomain *d0;
    int fd, port, len;

    if (!s) {
        return -errno;
    }
    snprintf(path, sizeof(path), "%s/xsd_kva", xenemu_state_dir());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, XENEMU_PAGE) < 0) {
        return -errno;
    }
    close(fd);

    xenemu_lock(s);
    d0 = xenemu_domain(s, 0);
    port = evc_alloc_unbound_locked(s, d0, 0, -1);
    if (port > 0) {
        d0->store_port = port;
    }
    xenemu_unlock(s);
    if (port < 0) {
        return port;
    }

    snprintf(path, sizeof(path), "%s/xsd_port", xenemu_state_dir());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -errno;
    }
    len = snprintf(buf, sizeof(buf), "%d", port);
    if (write(fd, buf, len) != len) {
        close(fd);
        return -EIO;
    }
    close(fd);
    return port;
}

int xenemu_domain_create(uint32_t domid, unsigned int mem_mib,
                         XenemuDomainInfo *info)
{
    XenemuShared *s = xenemu_state();
    uint64_t nr_pages = (uint64_t)mem_mib << (20 - XENEMU_PAGE_SHIFT);
    char path[PATH_MAX];
    XenemuDomain *d = NULL;
    grant_entry_v1_t *store;
    int fd, port, ret;

    if (!s) {
        return -errno;
    }
    if (domid == 0 || domid >= DOMID_FIRST_RESERVED || nr_pages < 4 ||
        nr_pages > XENEMU_MAX_PAGES) {
        return -EINVAL;
    }

    xenemu_lock(s);
    if (xenemu_domain(s, domid)) {
        ret = -EEXIST;
        goto out;
    }
    for (int i = 0; i < XENEMU_MAX_DOMAINS; i++) {
        if (!s->domains[i].in_use) {
            d = &s->domains[i];
            break;
        }
    }
    if (!d) {
        ret = -ENOSPC;
        goto out;
    }
    memset(d, 0, sizeof(*d));
    d->domid = domid;
    d->gen = ++s->dom_gen;
    d->nr_pages = nr_pages;

    xenemu_ram_path(path, sizeof(path), domid, d->gen);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, nr_pages << XENEMU_PAGE_SHIFT) < 0) {
        ret = -errno;
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        goto out;
    }
    close(fd);

    /* Special pages at the top of RAM, where libxl's PV builder puts them */
    d->store_gfn = nr_pages - 1;
    d->shared_info_frame = nr_pages - 2;
    d->page_owner[d->store_gfn] = XENEMU_OWNER_DOMAIN;
    d->page_owner[d->shared_info_frame] = XENEMU_OWNER_DOMAIN;
    for (uint32_t ref = 0; ref < XENEMU_GNTTAB_NR_RESERVED; ref++) {
        d->gref_owner[ref] = XENEMU_OWNER_DOMAIN;
    }
    for (uint32_t p = 0; p < XENEMU_NR_PORTS; p++) {
        d->ports[p].owner = -1;
    }
    if (getrandom(d->uuid, sizeof(d->uuid), 0) != sizeof(d->uuid)) {
        memset(d->uuid, domid, sizeof(d->uuid));
    }
    d->uuid[6] = (d->uuid[6] & 0x0f) | 0x40;
    d->uuid[8] = (d->uuid[8] & 0x3f) | 0x80;

    /* xc_dom_gnttab_init: the reserved xenstore grant, to xenstored's dom */
    store = &d->grants[GNTTAB_RESERVED_XENSTORE];
    store->frame = d->store_gfn;
    store->domid = 0;
    __atomic_store_n(&store->flags, GTF_permit_access, __ATOMIC_RELEASE);

    d->in_use = 1;
    port = evc_alloc_unbound_locked(s, d, 0, -1);
    if (port < 0) {
        d->in_use = 0;
        unlink(path);
        ret = port;
        goto out;
    }
    d->store_port = port;
    d->dominf_flags = XEN_DOMINF_running;
    if (info) {
        info->store_gfn = d->store_gfn;
        info->store_port = d->store_port;
        memcpy(info->uuid, d->uuid, sizeof(info->uuid));
    }
    ret = 0;
out:
    xenemu_unlock(s);
    return ret;
}

int xenemu_domain_destroy(uint32_t domid)
{
    XenemuShared *s = xenemu_state();
    char path[PATH_MAX];
    XenemuDomain *d;

    if (!s) {
        return -errno;
    }
    if (domid == 0) {
        return -EPERM;
    }
    xenemu_lock(s);
    d = xenemu_domain(s, domid);
    if (!d) {
        xenemu_unlock(s);
        return -ESRCH;
    }
    for (uint32_t port = 1; port < XENEMU_NR_PORTS; port++) {
        if (d->ports[port].state != PORT_FREE) {
            evc_close_locked(s, d, port);
        }
    }
    d->in_use = 0;
    /* Mappings made earlier keep the RAM alive; the name goes now. */
    xenemu_ram_path(path, sizeof(path), domid, d->gen);
    unlink(path);
    evc_raise_virq_locked(s, VIRQ_DOM_EXC);
    xenemu_unlock(s);
    return 0;
}

int xenemu_domain_shutdown(uint32_t domid, unsigned int reason)
{
    XenemuShared *s = xenemu_state();
    XenemuDomain *d;

    if (!s) {
        return -errno;
    }
    xenemu_lock(s);
    d = xenemu_domain(s, domid);
    if (!d || domid == 0) {
        xenemu_unlock(s);
        return -ESRCH;
    }
    d->dominf_flags = (d->dominf_flags & ~(XEN_DOMINF_running |
                                           (XEN_DOMINF_shutdownmask <<
                                            XEN_DOMINF_shutdownshift))) |
                      XEN_DOMINF_shutdown |
                      ((reason & XEN_DOMINF_shutdownmask) <<
                       XEN_DOMINF_shutdownshift);
    evc_raise_virq_locked(s, VIRQ_DOM_EXC);
    xenemu_unlock(s);
    return 0;
}
