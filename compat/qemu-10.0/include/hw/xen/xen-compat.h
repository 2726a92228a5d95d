/*
 * QEMU 10.0 compat: the few things the series does that QEMU 7.2 spells
 * differently (see compat/qemu-7.2/include/hw/xen/xen-compat.h), here in
 * 10.0's terms.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XEN_COMPAT_H
#define HW_XEN_XEN_COMPAT_H

#include "block/aio.h"
#include "hw/qdev-core.h"
#include "hw/xen/xen-legacy-backend.h"
#include "net/net.h"
#include "qapi/qapi-types-virtio.h"
#include "qemu/defer-call.h"
#include "system/block-backend.h"

#define XEN_PROPERTY_INFO_TYPE(type_name) .type = (type_name)

/*
 * No AioContext lock: what the dataplane shares is only touched from its
 * own context, or from the main loop while that context runs none of it.
 */
static inline void xen_aio_context_acquire(AioContext *ctx)
{
}

static inline void xen_aio_context_release(AioContext *ctx)
{
}

/* Batch the submissions in between. */
static inline void xen_blk_io_plug(BlockBackend *blk)
{
    defer_call_begin();
}

static inline void xen_blk_io_unplug(BlockBackend *blk)
{
    defer_call_end();
}

/*
 * The machines leave the legacy backends to the bus; they open the
 * xenstore handle through which QEMU records device-model state=running.
 */
static inline void xen_bus_start_legacy_backends(void)
{
    xen_be_init();
}

/* -nic xen creates xen-net-device on the bus. */
static inline void xen_bus_create_nic_devices(BusState *bus)
{
    qemu_create_nic_bus_devices(bus, "xen-device", "xen-net-device", "xen",
                                "xen-net-device");
}

#endif /* HW_XEN_XEN_COMPAT_H */
