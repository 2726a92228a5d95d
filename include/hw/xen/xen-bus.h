/*
 * Xen bus: a QOM bus for Xen paravirtual backends
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_BUS_H
#define HW_XEN_BUS_H

#include "hw/sysbus.h"
#include "hw/xen/xen_backend_ops.h"
#include "qemu/notify.h"
#include "qemu/queue.h"
#include "qemu/thread.h"
#include "block/aio.h"
#include "qom/object.h"

#define TYPE_XEN_BRIDGE "xen-bridge"
OBJECT_DECLARE_SIMPLE_TYPE(XenBridge, XEN_BRIDGE)

/* The sysbus device the Xen bus hangs off. */
struct XenBridge {
    SysBusDevice parent_obj;
};

typedef struct XenDevice XenDevice;

#define TYPE_XEN_BUS "xen-bus"
OBJECT_DECLARE_SIMPLE_TYPE(XenBus, XEN_BUS)

struct XenBus {
    BusState parent_obj;

    domid_t backend_id;
    /*
     * Shared by every device on the bus; its watches run in the main loop.
     * Devices of QEMU's tree use it by this name.
     */
    struct qemu_xs_handle *xsh;
    /* One per registered backend type: its watch and refused areas. */
    GPtrArray *backend_types;
};

/* The realized device of backend @type named @name for @frontend_id. */
XenDevice *xen_bus_find_device(XenBus *xenbus, const char *type,
                               unsigned int frontend_id, const char *name);

#define TYPE_XEN_DEVICE "xen-device"
OBJECT_DECLARE_TYPE(XenDevice, XenDeviceClass, XEN_DEVICE)

typedef struct XenEventChannel XenEventChannel;

/*
 * A paravirtual backend device on the Xen bus.  Devices of QEMU's tree
 * (xen-console, xen-net-device) use qdev, frontend_id and name.
 */
/* Reports of the current window, and those held back. */
typedef struct XenDeviceReportLimit {
    int64_t window;
    unsigned int reported;
    unsigned int suppressed;
} XenDeviceReportLimit;

struct XenDevice {
    DeviceState qdev;

    /* Properties. */
    uint16_t frontend_id;

    char *name;
    char *backend_path;
    char *frontend_path;
    enum xenbus_state backend_state;
    enum xenbus_state frontend_state;
    /* Whether realize made the areas (else the toolstack did). */
    bool backend_created;
    bool frontend_created;
    struct qemu_xs_watch *frontend_state_watch;
    /* The toolstack unplugs by writing "online" and "state" itself. */
    bool backend_online;
    struct qemu_xs_watch *backend_online_watch;
    struct qemu_xs_watch *backend_state_watch;
    /* Set once removal is scheduled, so it happens once. */
    bool removing;
    Notifier exit_notifier;
    /* Rate limits of the device's guest error and I/O error reports. */
    QemuMutex report_lock;
    XenDeviceReportLimit guest_error_limit;
    XenDeviceReportLimit io_error_limit;

    xengnttab_handle *xgth;
    QLIST_HEAD(, XenEventChannel) event_channels;
};

typedef char *(*XenDeviceGetFrontendPath)(XenDevice *xendev, Error **errp);
typedef char *(*XenDeviceGetName)(XenDevice *xendev, Error **errp);
typedef void (*XenDeviceRealize)(XenDevice *xendev, Error **errp);
typedef void (*XenDeviceFrontendChanged)(XenDevice *xendev,
                                         enum xenbus_state frontend_state,
                                         Error **errp);
typedef void (*XenDeviceUnrealize)(XenDevice *xendev);

struct XenDeviceClass {
    DeviceClass parent_class;

    /* Backend type ("qdisk") and frontend device type ("vbd"). */
    const char *backend;
    const char *device;
    /* The frontend area when it is not device/<device>/<name> (optional) */
    XenDeviceGetFrontendPath get_frontend_path;
    /* Names both areas, e.g. the VBD number; must be unique per type. */
    XenDeviceGetName get_name;
    /* Publishes the device's features; the core then enters InitWait. */
    XenDeviceRealize realize;
    /* Called from the main loop whenever the frontend state changes. */
    XenDeviceFrontendChanged frontend_changed;
    /* Also called when realize failed part way: must cope with that. */
    XenDeviceUnrealize unrealize;
};

/* Xenstore keys of the device's backend and frontend areas. */
void xen_device_backend_printf(XenDevice *xendev, const char *key,
                               const char *fmt, ...) G_GNUC_PRINTF(3, 4);
int xen_device_backend_scanf(XenDevice *xendev, const char *key,
                             const char *fmt, ...) G_GNUC_SCANF(3, 4);
void xen_device_frontend_printf(XenDevice *xendev, const char *key,
                                const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/*
 * A frontend value as a string (g_free it), or NULL if absent.  Frontend
 * values are the guest's: parse them strictly.  The scanf is for devices
 * of QEMU's tree; ours use the string.
 */
char *xen_device_frontend_read(XenDevice *xendev, const char *key);
int xen_device_frontend_scanf(XenDevice *xendev, const char *key,
                              const char *fmt, ...) G_GNUC_SCANF(3, 4);

/*
 * Report something a guest did wrong, through LOG_GUEST_ERROR, prefixed with
 * the device's backend path.  Rate-limited per device, so a hostile guest
 * cannot flood the log (XSA-180): a burst per second, then a count of what
 * was held back.  Safe from any thread.
 */
void xen_device_guest_error(XenDevice *xendev, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/*
 * Report an I/O error of the device's backing storage (a failing disk, a
 * full filesystem) with error_report(), rate-limited per device like guest
 * errors: the guest that keeps retrying its requests does not flood the
 * log either.  Safe from any thread.
 */
void xen_device_io_error(XenDevice *xendev, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/*
 * Ask for the device to go, as a toolstack does: "online" to 0 and the
 * backend to Closing, so the frontend closes first.  The device is
 * removed once the backend reaches Closed; at once if it never connected.
 */
void xen_device_unplug(XenDevice *xendev, Error **errp);

/* States; writing the state the area already has is skipped. */
void xen_device_backend_set_state(XenDevice *xendev,
                                  enum xenbus_state state);
enum xenbus_state xen_device_backend_get_state(XenDevice *xendev);

/*
 * Grant tables.  A multi-ref map is one contiguous mapping of @nr_refs
 * pages, all or nothing; unmapping takes the same refs.
 */
void xen_device_set_max_grant_refs(XenDevice *xendev, unsigned int nr_refs,
                                   Error **errp);
void *xen_device_map_grant_refs(XenDevice *xendev, uint32_t *refs,
                                unsigned int nr_refs, int prot,
                                Error **errp);
void xen_device_unmap_grant_refs(XenDevice *xendev, void *map, uint32_t *refs,
                                 unsigned int nr_refs, Error **errp);

/*
 * One side of a copy is local memory (virt), the other a range of a page
 * the guest granted (foreign).
 */
typedef XenGrantCopySegment XenDeviceGrantCopySegment;

/*
 * Copy between local memory and granted pages; @to_domain chooses the
 * direction.  Fails (naming the first bad segment) if any segment fails.
 */
void xen_device_copy_grant_refs(XenDevice *xendev, bool to_domain,
                                XenDeviceGrantCopySegment segs[],
                                unsigned int nr_segs, Error **errp);

/*
 * Event channels.  The handler runs in the channel's AioContext (the main
 * one until set; a NULL context detaches it) and returns whether it found
 * work, for polling.
 */
typedef bool (*XenEventHandler)(void *opaque);

XenEventChannel *xen_device_bind_event_channel(XenDevice *xendev,
                                               unsigned int port,
                                               XenEventHandler handler,
                                               void *opaque, Error **errp);
void xen_device_set_event_channel_context(XenDevice *xendev,
                                          XenEventChannel *channel,
                                          AioContext *ctx, Error **errp);
void xen_device_notify_event_channel(XenDevice *xendev,
                                     XenEventChannel *channel,
                                     Error **errp);
void xen_device_unbind_event_channel(XenDevice *xendev,
                                     XenEventChannel *channel,
                                     Error **errp);
unsigned int xen_event_channel_get_local_port(XenEventChannel *channel);

/* Create the bridge and its bus; called by the Xen machines. */
void xen_bus_init(void);

#endif /* HW_XEN_BUS_H */
