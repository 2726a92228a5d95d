/*
 * Grant-table and event-channel services of a XenDevice: the parts the
 * XenDevice core sets up and tears down (internal to hw/xen)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_DEVICE_SERVICES_H
#define HW_XEN_DEVICE_SERVICES_H

#include "hw/xen/xen-bus.h"

/* Open the device's grant-table handle (xendev->xgth). */
void xen_device_grant_open(XenDevice *xendev, Error **errp);
/* Close the handle; safe when it was never opened. */
void xen_device_grant_close(XenDevice *xendev);

/* Unbind every event channel the device still has. */
void xen_device_evtchn_close_all(XenDevice *xendev);

#endif /* HW_XEN_DEVICE_SERVICES_H */
