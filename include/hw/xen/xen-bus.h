/*
 * Xen bus: a QOM bus for Xen paravirtual backends
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_BUS_H
#define HW_XEN_BUS_H

#include "hw/xen/xen_common.h"
#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_XEN_BRIDGE "xen-bridge"
OBJECT_DECLARE_SIMPLE_TYPE(XenBridge, XEN_BRIDGE)

/* The sysbus device the Xen bus hangs off. */
struct XenBridge {
    SysBusDevice parent_obj;
};

#define TYPE_XEN_BUS "xen-bus"
OBJECT_DECLARE_SIMPLE_TYPE(XenBus, XEN_BUS)

struct XenBus {
    BusState parent_obj;
};

#define TYPE_XEN_DEVICE "xen-device"
OBJECT_DECLARE_TYPE(XenDevice, XenDeviceClass, XEN_DEVICE)

/* A paravirtual backend device on the Xen bus. */
struct XenDevice {
    DeviceState parent_obj;
};

typedef void (*XenDeviceRealize)(XenDevice *xendev, Error **errp);
typedef void (*XenDeviceUnrealize)(XenDevice *xendev);

struct XenDeviceClass {
    DeviceClass parent_class;

    /* Hooks of the concrete device type, called by the XenDevice core. */
    XenDeviceRealize realize;
    XenDeviceUnrealize unrealize;
};

/* Create the bridge and its bus; called by the Xen machines. */
void xen_bus_init(void);

#endif /* HW_XEN_BUS_H */
