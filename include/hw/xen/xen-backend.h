/*
 * Xen backend types: devices a toolstack creates through xenstore
 *
 * A toolstack such as libxl never passes -device for a PV disk: it writes a
 * backend area /local/domain/<be>/backend/<type>/<fe>/<name> and expects the
 * device model to create the device, and later to destroy it after it set
 * "online" to 0 and the backend reached Closed.  Backend types register
 * here; the Xen bus watches their areas.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_BACKEND_H
#define HW_XEN_BACKEND_H

#include "hw/xen/xen-bus.h"
#include "qobject/qdict.h"

typedef struct XenBackendInstance XenBackendInstance;

/*
 * Create the device for @backend from @opts, the keys of its area (all
 * strings, toolstack-written), and give it to xen_backend_set_device().
 */
typedef void (*XenBackendDeviceCreate)(XenBackendInstance *backend,
                                       QDict *opts, Error **errp);
/* Undo create: the device and everything create made for it. */
typedef void (*XenBackendDeviceDestroy)(XenBackendInstance *backend,
                                        Error **errp);

typedef struct XenBackendInfo {
    const char *type;
    XenBackendDeviceCreate create;
    XenBackendDeviceDestroy destroy;
} XenBackendInfo;

/* Called from xen_backend_init() functions. */
void xen_backend_register(const XenBackendInfo *info);
/* The registered types, NULL-terminated, to g_free (not the strings). */
const char **xen_backend_get_types(unsigned int *nr);

XenBus *xen_backend_get_bus(XenBackendInstance *backend);
const char *xen_backend_get_name(XenBackendInstance *backend);
unsigned int xen_backend_get_frontend_id(XenBackendInstance *backend);
void xen_backend_set_device(XenBackendInstance *backend, XenDevice *xendev);
XenDevice *xen_backend_get_device(XenBackendInstance *backend);
void xen_backend_set_opaque(XenBackendInstance *backend, void *opaque);
void *xen_backend_get_opaque(XenBackendInstance *backend);

/* For the bus: create the device of one area. */
void xen_backend_device_create(XenBus *xenbus, const char *type,
                               const char *name, unsigned int frontend_id,
                               QDict *opts, Error **errp);
/* Destroy @xendev if a backend type created it; false if none did. */
bool xen_backend_try_device_destroy(XenDevice *xendev, Error **errp);

#endif /* HW_XEN_BACKEND_H */
