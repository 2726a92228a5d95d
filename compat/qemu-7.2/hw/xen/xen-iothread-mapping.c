/*
 * QEMU 7.2 compat: the iothread-vq-mapping property, which 7.2 cannot
 * honour (see xen-compat.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/xen/xen-compat.h"

static void set_iothread_vq_mapping_list(Object *obj, Visitor *v,
                                         const char *name, void *opaque,
                                         Error **errp)
{
    error_setg(errp, "%s needs QEMU 9.0 or later: QEMU 7.2 serves a drive "
               "from one IOThread (use iothread)", name);
}

const PropertyInfo xen_compat_prop_iothread_vq_mapping_list = {
    XEN_PROPERTY_INFO_TYPE("IOThreadVirtQueueMappingList"),
    .description = "IOThreads of the queues (QEMU 9.0 or later)",
    .set = set_iothread_vq_mapping_list,
};
