/*
 * xenemu: libxenforeignmemory (privcmd's mmapbatch over guest RAM)
 *
 * dom0 may map any frame of any guest.  Frames outside the guest's RAM get
 * a per-page error and stay inaccessible, as with privcmd.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xenforeignmemory.h>

#include "state.h"

struct xenforeignmemory_handle {
    int unused;
};

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *lg,
                                               unsigned open_flags)
{
    if (!xenemu_state()) {
        return NULL;
    }
    return calloc(1, sizeof(xenforeignmemory_handle));
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
    free(fmem);
    return 0;
}

void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom,
                            void *addr, int prot, int flags, size_t pages,
                            const xen_pfn_t arr[], int err[])
{
    XenemuShared *s = xenemu_state();
    size_t len = pages << XENEMU_PAGE_SHIFT;
    int *errs = err;
    XenemuDomain *d;
    uint8_t *base;
    int fd;

    if (pages == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (!errs) {
        errs = calloc(pages, sizeof(*errs));
        if (!errs) {
            return NULL;
        }
    }
    base = mmap(addr, len, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | (flags & MAP_FIXED), -1, 0);
    if (base == MAP_FAILED) {
        base = NULL;
        goto out;
    }

    xenemu_lock(s);
    d = xenemu_domain(s, dom);
    fd = d && d->domid != 0 ? xenemu_ram_fd(d) : -1;
    for (size_t i = 0; i < pages; i++) {
        if (fd < 0) {
            errs[i] = -ESRCH;
        } else if (arr[i] >= d->nr_pages) {
            errs[i] = -EINVAL;
        } else if (mmap(base + (i << XENEMU_PAGE_SHIFT), XENEMU_PAGE, prot,
                        MAP_SHARED | MAP_FIXED, fd,
                        (off_t)arr[i] << XENEMU_PAGE_SHIFT) == MAP_FAILED) {
            errs[i] = -errno;
        } else {
            errs[i] = 0;
        }
    }
    xenemu_unlock(s);

    /* Without an error array, any failed page fails the call (as libxen). */
    if (!err) {
        for (size_t i = 0; i < pages; i++) {
            if (errs[i]) {
                munmap(base, len);
                errno = -errs[i];
                base = NULL;
                break;
            }
        }
    }
out:
    if (!err) {
        free(errs);
    }
    return base;
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom,
                           int prot, size_t pages, const xen_pfn_t arr[],
                           int err[])
{
    return xenforeignmemory_map2(fmem, dom, NULL, prot, 0, pages, arr, err);
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr,
                           size_t pages)
{
    return munmap(addr, pages << XENEMU_PAGE_SHIFT);
}

int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
    errno = ENOSYS;
    return -1;
}

/* Resources (ioreq pages, grant table frames) exist for HVM models only. */
xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
    xenforeignmemory_handle *fmem, domid_t domid, unsigned int type,
    unsigned int id, unsigned long frame, unsigned long nr_frames,
    void **paddr, int prot, int flags)
{
    errno = EOPNOTSUPP;
    return NULL;
}

int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
                                    xenforeignmemory_resource_handle *fres)
{
    return 0;
}

int xenforeignmemory_resource_size(xenforeignmemory_handle *fmem,
                                   domid_t domid, unsigned int type,
                                   unsigned int id, size_t *size)
{
    errno = EOPNOTSUPP;
    return -1;
}
