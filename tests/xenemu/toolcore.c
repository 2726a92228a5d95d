/*
 * xenemu: libxentoolcore
 *
 * Restricting handles to one domain (QEMU's -xen-domid-restrict) relies on
 * kernel support the double does not model; fail rather than pretend.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>

#include <xentoolcore.h>

int xentoolcore_restrict_all(domid_t domid)
{
    errno = ENOSYS;
    return -1;
}
