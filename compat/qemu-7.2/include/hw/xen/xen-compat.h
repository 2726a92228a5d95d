/*
 * QEMU 7.2 compat: what the series writes in QEMU 10.0's terms, spelled
 * the way QEMU 7.2 has it.  Its twin for 10.0 is compat/qemu-10.0/.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XEN_COMPAT_H
#define HW_XEN_XEN_COMPAT_H

#include "block/aio.h"
#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include "sysemu/block-backend.h"
#include "qapi/qapi-builtin-types.h"

/*
 * 10.0 dropped is_external: a device detaches its handlers itself while
 * its BlockBackend is drained (BlockDevOps.drained_begin/end).
 */
#define aio_set_fd_handler(ctx, fd, io_read, io_write, io_poll, \
                           io_poll_ready, opaque) \
    aio_set_fd_handler(ctx, fd, false, io_read, io_write, io_poll, \
                       io_poll_ready, opaque)

/* 10.0's discard takes request flags; 7.2's has none. */
#define blk_co_pdiscard(blk, offset, bytes, flags) \
    blk_co_pdiscard(blk, offset, bytes)

/* 10.0 takes property arrays without a terminator, sized by ARRAY_SIZE. */
static inline void xen_compat_device_class_set_props(DeviceClass *dc,
                                                     const Property *props,
                                                     size_t nr_props)
{
    /* Referenced by the class for as long as QEMU runs. */
    Property *terminated = g_new0(Property, nr_props + 1);

    memcpy(terminated, props, nr_props * sizeof(*props));
    device_class_set_props(dc, terminated);
}

#define device_class_set_props(dc, props) \
    xen_compat_device_class_set_props(dc, props, ARRAY_SIZE(props))

/* PropertyInfo's type name: .name in 7.2, .type in 10.0. */
#define XEN_PROPERTY_INFO_TYPE(type_name) .name = (type_name)

/*
 * 7.2 serialises a context's users with its lock, which handlers that
 * the context runs must take; 10.0 has no such lock.
 */
static inline void xen_aio_context_acquire(AioContext *ctx)
{
    aio_context_acquire(ctx);
}

static inline void xen_aio_context_release(AioContext *ctx)
{
    aio_context_release(ctx);
}

/* Batch the submissions in between (10.0: defer_call_begin/end). */
static inline void xen_blk_io_plug(BlockBackend *blk)
{
    blk_io_plug(blk);
}

static inline void xen_blk_io_unplug(BlockBackend *blk)
{
    blk_io_unplug(blk);
}

/*
 * 10.0's multiqueue block layer lets several IOThreads submit to one
 * drive; 7.2's serves a drive from one AioContext.  The mapping type is
 * spelled as 10.0's QAPI has it and the property refuses every value, so
 * the list stays empty.
 */
typedef struct IOThreadVirtQueueMapping {
    char *iothread;
    uint16List *vqs;
} IOThreadVirtQueueMapping;

typedef struct IOThreadVirtQueueMappingList {
    struct IOThreadVirtQueueMappingList *next;
    IOThreadVirtQueueMapping *value;
} IOThreadVirtQueueMappingList;

extern const PropertyInfo xen_compat_prop_iothread_vq_mapping_list;

#define DEFINE_PROP_IOTHREAD_VQ_MAPPING_LIST(_name, _state, _field) \
    DEFINE_PROP(_name, _state, _field, \
                xen_compat_prop_iothread_vq_mapping_list, \
                IOThreadVirtQueueMappingList *)

/* The 7.2 machines start the legacy backends themselves. */
static inline void xen_bus_start_legacy_backends(void)
{
}

/* 7.2 serves -nic xen with a legacy backend. */
static inline void xen_bus_create_nic_devices(BusState *bus)
{
}

#endif /* HW_XEN_XEN_COMPAT_H */
