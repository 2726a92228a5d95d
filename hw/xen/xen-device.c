/*
 * XenDevice: the abstract backend device, its xenstore areas and states
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/xen/xen-backend.h"
#include "hw/xen/xen-bus.h"
#include "hw/xen/xen-bus-helper.h"
#include "hw/xen/xen-compat.h"
#include "hw/xen/xen-device-services.h"
#include "system/system.h"
#include "trace.h"

/* Reports: a burst per window, then only their count. */
#define XEN_DEVICE_REPORT_BURST 10
#define XEN_DEVICE_REPORT_WINDOW_MS 1000

static XenBus *xen_device_bus(XenDevice *xendev)
{
    return XEN_BUS(qdev_get_parent_bus(DEVICE(xendev)));
}

static struct qemu_xs_handle *xen_device_xsh(XenDevice *xendev)
{
    return xen_device_bus(xendev)->xsh;
}

/*
 * Whether one more report fits in @limit's window; *suppressed is the
 * count held back in the window that just ended, to be reported first.
 */
static bool xen_device_report_admit(XenDevice *xendev,
                                    XenDeviceReportLimit *limit,
                                    unsigned int *suppressed)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    bool report;

    *suppressed = 0;
    qemu_mutex_lock(&xendev->report_lock);
    if (now - limit->window >= XEN_DEVICE_REPORT_WINDOW_MS) {
        *suppressed = limit->suppressed;
        limit->window = now;
        limit->reported = 0;
        limit->suppressed = 0;
    }
    report = limit->reported < XEN_DEVICE_REPORT_BURST;
    if (report) {
        limit->reported++;
    } else {
        limit->suppressed++;
    }
    qemu_mutex_unlock(&xendev->report_lock);
    return report;
}

void xen_device_guest_error(XenDevice *xendev, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    unsigned int suppressed;
    bool report;
    va_list ap;

    if (!qemu_loglevel_mask(LOG_GUEST_ERROR)) {
        return;
    }
    report = xen_device_report_admit(xendev, &xendev->guest_error_limit,
                                     &suppressed);
    if (suppressed) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %u messages suppressed\n",
                      xendev->backend_path, suppressed);
    }
    if (report) {
        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %s\n", xendev->backend_path, msg);
    }
}

void xen_device_io_error(XenDevice *xendev, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    unsigned int suppressed;
    bool report;
    va_list ap;

    report = xen_device_report_admit(xendev, &xendev->io_error_limit,
                                     &suppressed);
    if (suppressed) {
        error_report("%s: %u I/O error messages suppressed",
                     xendev->backend_path, suppressed);
    }
    if (report) {
        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        error_report("%s: %s", xendev->backend_path, msg);
    }
}

static void G_GNUC_PRINTF(4, 0)
xen_device_vprintf(XenDevice *xendev, const char *node, const char *key,
                   const char *fmt, va_list ap)
{
    Error *local_err = NULL;

    xs_node_vprintf(xen_device_xsh(xendev), XBT_NULL, node, key, &local_err,
                    fmt, ap);
    if (local_err) {
        error_report_err(local_err);
    }
}

void xen_device_backend_printf(XenDevice *xendev, const char *key,
                               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    xen_device_vprintf(xendev, xendev->backend_path, key, fmt, ap);
    va_end(ap);
}

static int G_GNUC_SCANF(4, 0)
xen_device_vscanf(XenDevice *xendev, const char *node, const char *key,
                  const char *fmt, va_list ap)
{
    return xs_node_vscanf(xen_device_xsh(xendev), XBT_NULL, node, key, NULL,
                          fmt, ap);
}

int xen_device_backend_scanf(XenDevice *xendev, const char *key,
                             const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = xen_device_vscanf(xendev, xendev->backend_path, key, fmt, ap);
    va_end(ap);
    return rc;
}

void xen_device_frontend_printf(XenDevice *xendev, const char *key,
                                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    xen_device_vprintf(xendev, xendev->frontend_path, key, fmt, ap);
    va_end(ap);
}

char *xen_device_frontend_read(XenDevice *xendev, const char *key)
{
    return xs_node_read(xen_device_xsh(xendev), XBT_NULL, NULL, NULL,
                        "%s/%s", xendev->frontend_path, key);
}

int xen_device_frontend_scanf(XenDevice *xendev, const char *key,
                              const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = xen_device_vscanf(xendev, xendev->frontend_path, key, fmt, ap);
    va_end(ap);
    return rc;
}

enum xenbus_state xen_device_backend_get_state(XenDevice *xendev)
{
    return xendev->backend_state;
}

/*
 * The frontend's state key is the guest's to write: anything that is not a
 * known state, or a missing key (the area was removed), reads as Unknown.
 */
static enum xenbus_state xen_device_read_frontend_state(XenDevice *xendev)
{
    g_autofree char *value = xen_device_frontend_read(xendev, "state");
    unsigned int state;

    if (!value || qemu_strtoui(value, NULL, 10, &state) < 0 ||
        state > XenbusStateReconfigured) {
        if (value) {
            xen_device_guest_error(xendev, "invalid frontend state '%.16s'",
                                   value);
        }
        return XenbusStateUnknown;
    }
    return state;
}

static void xen_device_frontend_state_changed(void *opaque, const char *path)
{
    XenDevice *xendev = opaque;
    XenDeviceClass *xendev_class = XEN_DEVICE_GET_CLASS(xendev);
    enum xenbus_state state = xen_device_read_frontend_state(xendev);
    Error *local_err = NULL;

    if (state == xendev->frontend_state) {
        return;
    }
    trace_xen_device_frontend_state(xendev->frontend_path,
                                    xs_strstate(state));
    xendev->frontend_state = state;

    if (xendev_class->frontend_changed) {
        xendev_class->frontend_changed(xendev, state, &local_err);
        if (local_err) {
            xen_device_guest_error(xendev, "%s",
                                   error_get_pretty(local_err));
            error_free(local_err);
        }
    }
}

/*
 * Remove the areas: on exit all of them, on unrealize those we made (a
 * toolstack removes its own once it has seen the backend Closed).
 */
static void xen_device_destroy_areas(XenDevice *xendev, bool all)
{
    struct qemu_xs_handle *xsh = xen_device_xsh(xendev);
    Error *local_err = NULL;

    if (xendev->backend_path && (all || xendev->backend_created)) {
        xs_node_destroy(xsh, XBT_NULL, xendev->backend_path, &local_err);
        if (local_err) {
            error_report_err(local_err);
            local_err = NULL;
        }
    }
    if (xendev->frontend_path && (all || xendev->frontend_created)) {
        xs_node_destroy(xsh, XBT_NULL, xendev->frontend_path, &local_err);
        if (local_err) {
            error_report_err(local_err);
        }
    }
}

static void xen_device_exit(Notifier *notifier, void *data)
{
    XenDevice *xendev = container_of(notifier, XenDevice, exit_notifier);

    xen_device_destroy_areas(xendev, true);
}

static bool xen_device_create_backend(struct qemu_xs_handle *xsh,
                                      xs_transaction_t tid, void *opaque,
                                      Error **errp)
{
    ERRP_GUARD();
    XenDevice *xendev = opaque;
    XenBus *xenbus = xen_device_bus(xendev);
    const char *path = xendev->backend_path;

    xendev->backend_created = !xs_node_exists(xsh, tid, path);
    xs_node_create(xsh, tid, path, xenbus->backend_id, xendev->frontend_id,
                   XS_PERM_READ, errp);
    if (*errp) {
        return false;
    }
    xs_node_printf(xsh, tid, path, "frontend", errp, "%s",
                  xendev->frontend_path);
    xs_node_printf(xsh, tid, path, "frontend-id", errp, "%u",
                  xendev->frontend_id);
    xs_node_printf(xsh, tid, path, "online", errp, "%u", 1);
    xs_node_printf(xsh, tid, path, "hotplug-status", errp, "connected");
    xs_node_printf(xsh, tid, path, "state", errp, "%u",
                  XenbusStateInitialising);
    return !*errp;
}

/* The toolstack may have made the frontend area: then it is left alone. */
static bool xen_device_create_frontend(struct qemu_xs_handle *xsh,
                                       xs_transaction_t tid, void *opaque,
                                       Error **errp)
{
    ERRP_GUARD();
    XenDevice *xendev = opaque;
    XenBus *xenbus = xen_device_bus(xendev);
    const char *path = xendev->frontend_path;

    xendev->frontend_created = !xs_node_exists(xsh, tid, path);
    if (!xendev->frontend_created) {
        return true;
    }
    xs_node_create(xsh, tid, path, xendev->frontend_id, xenbus->backend_id,
                   XS_PERM_READ | XS_PERM_WRITE, errp);
    if (*errp) {
        return false;
    }
    xs_node_printf(xsh, tid, path, "backend", errp, "%s",
                  xendev->backend_path);
    xs_node_printf(xsh, tid, path, "backend-id", errp, "%u",
                  xenbus->backend_id);
    xs_node_printf(xsh, tid, path, "state", errp, "%u",
                  XenbusStateInitialising);
    return !*errp;
}

static void xen_device_remove_bh(void *opaque)
{
    XenDevice *xendev = opaque;
    Error *local_err = NULL;

    /* What a backend type made, it unmakes; the rest is a device_del. */
    if (!xen_backend_try_device_destroy(xendev, &local_err)) {
        object_unparent(OBJECT(xendev));
    }
    if (local_err) {
        error_report_err(local_err);
    }
    object_unref(OBJECT(xendev));
}

/* Gone offline and Closed: remove the device, outside any watch callback */
static void xen_device_check_removal(XenDevice *xendev)
{
    if (xendev->backend_online ||
        xendev->backend_state != XenbusStateClosed || xendev->removing) {
        return;
    }
    trace_xen_device_remove(xendev->backend_path);
    xendev->removing = true;
    object_ref(OBJECT(xendev));
    aio_bh_schedule_oneshot(qemu_get_aio_context(), xen_device_remove_bh,
                            xendev);
}

void xen_device_backend_set_state(XenDevice *xendev,
                                  enum xenbus_state state)
{
    if (xendev->backend_state == state) {
        return;
    }
    trace_xen_device_backend_state(xendev->backend_path,
                                   xs_strstate(state));
    xendev->backend_state = state;
    xen_device_backend_printf(xendev, "state", "%u", state);
    xen_device_check_removal(xendev);
}

/* The toolstack writes "online" and the backend "state" to unplug us. */
static void xen_device_backend_changed(void *opaque, const char *path)
{
    XenDevice *xendev = opaque;
    unsigned int online, state;

    if (xen_device_backend_scanf(xendev, "state", "%u", &state) == 1 &&
        state != xendev->backend_state && state <= XenbusStateReconfigured) {
        trace_xen_device_backend_state(xendev->backend_path,
                                       xs_strstate(state));
        xendev->backend_state = state;
    }
    xendev->backend_online =
        xen_device_backend_scanf(xendev, "online", "%u", &online) == 1 &&
        online;

    /* Closing with no frontend to close: nothing to wait for. */
    if (!xendev->backend_online &&
        xendev->backend_state == XenbusStateClosing &&
        xendev->frontend_state != XenbusStateConnected &&
        xendev->frontend_state != XenbusStateClosing) {
        xen_device_backend_set_state(xendev, XenbusStateClosed);
    }
    xen_device_check_removal(xendev);
}

typedef struct XenDeviceUnplug {
    XenDevice *xendev;
    enum xenbus_state state;
} XenDeviceUnplug;

static bool xen_device_write_unplug(struct qemu_xs_handle *xsh,
                                    xs_transaction_t tid, void *opaque,
                                    Error **errp)
{
    ERRP_GUARD();
    XenDeviceUnplug *unplug = opaque;
    const char *path = unplug->xendev->backend_path;

    xs_node_printf(xsh, tid, path, "online", errp, "%u", 0);
    xs_node_printf(xsh, tid, path, "state", errp, "%u", unplug->state);
    return !*errp;
}

void xen_device_unplug(XenDevice *xendev, Error **errp)
{
    XenBus *xenbus = xen_device_bus(xendev);
    XenDeviceUnplug unplug = {
        .xendev = xendev,
        /* Only a connected frontend has anything to close. */
        .state = xendev->backend_state == XenbusStateConnected ?
            XenbusStateClosing : XenbusStateClosed,
    };

    trace_xen_device_unplug(xendev->backend_path);
    if (!xs_transaction_run(xenbus->xsh, xen_device_write_unplug, &unplug,
                            errp)) {
        return;
    }
    xendev->backend_online = false;
    xendev->backend_state = unplug.state;
    xen_device_check_removal(xendev);
}

static void xen_device_unrealize(DeviceState *dev)
{
    XenDevice *xendev = XEN_DEVICE(dev);
    XenDeviceClass *xendev_class = XEN_DEVICE_GET_CLASS(xendev);

    if (!xendev->name) {
        return;
    }
    trace_xen_device_unrealize(object_get_typename(OBJECT(dev)),
                               xendev->name);

    if (xendev->exit_notifier.notify) {
        qemu_remove_exit_notifier(&xendev->exit_notifier);
        xendev->exit_notifier.notify = NULL;
    }
    if (xendev->frontend_state_watch) {
        xs_node_unwatch(xen_device_xsh(xendev), xendev->frontend_state_watch);
        xendev->frontend_state_watch = NULL;
    }
    if (xendev->backend_online_watch) {
        xs_node_unwatch(xen_device_xsh(xendev), xendev->backend_online_watch);
        xendev->backend_online_watch = NULL;
    }
    if (xendev->backend_state_watch) {
        xs_node_unwatch(xen_device_xsh(xendev), xendev->backend_state_watch);
        xendev->backend_state_watch = NULL;
    }
    if (xendev_class->unrealize) {
        xendev_class->unrealize(xendev);
    }
    xen_device_evtchn_close_all(xendev);
    xen_device_grant_close(xendev);
    xen_device_destroy_areas(xendev, false);

    g_free(xendev->backend_path);
    xendev->backend_path = NULL;
    g_free(xendev->frontend_path);
    xendev->frontend_path = NULL;
    g_free(xendev->name);
    xendev->name = NULL;
}

static void xen_device_realize(DeviceState *dev, Error **errp)
{
    ERRP_GUARD();
    XenDevice *xendev = XEN_DEVICE(dev);
    XenDeviceClass *xendev_class = XEN_DEVICE_GET_CLASS(xendev);
    XenBus *xenbus = xen_device_bus(xendev);
    const char *type = object_get_typename(OBJECT(dev));
    g_autofree char *name = NULL;

    if (!xenbus->xsh) {
        error_setg(errp, "the Xen bus has no xenstore connection");
        return;
    }
    if (xendev->frontend_id == DOMID_INVALID) {
        xendev->frontend_id = xen_domid;
    }
    if (xendev->frontend_id >= DOMID_FIRST_RESERVED) {
        error_setg(errp, "frontend-id %u is a reserved domain id",
                   xendev->frontend_id);
        return;
    }

    name = xendev_class->get_name(xendev, errp);
    if (!name) {
        return;
    }
    if (xen_bus_find_device(xenbus, xendev_class->backend,
                            xendev->frontend_id, name)) {
        error_setg(errp, "a %s device named %s for domain %u already exists",
                   xendev_class->backend, name, xendev->frontend_id);
        return;
    }
    xendev->name = g_steal_pointer(&name);
    trace_xen_device_realize(type, xendev->name);

    xendev->backend_path = g_strdup_printf("/local/domain/%u/backend/%s/%u/%s",
                                           xenbus->backend_id,
                                           xendev_class->backend,
                                           xendev->frontend_id, xendev->name);
    if (xendev_class->get_frontend_path) {
        xendev->frontend_path = xendev_class->get_frontend_path(xendev, errp);
        if (!xendev->frontend_path) {
            goto fail;
        }
    } else {
        xendev->frontend_path =
            g_strdup_printf("/local/domain/%u/device/%s/%s",
                            xendev->frontend_id, xendev_class->device,
                            xendev->name);
    }
    xendev->backend_state = XenbusStateInitialising;
    xendev->backend_online = true;
    xendev->frontend_state = XenbusStateUnknown;

    if (!xs_transaction_run(xenbus->xsh, xen_device_create_backend, xendev,
                            errp) ||
        !xs_transaction_run(xenbus->xsh, xen_device_create_frontend, xendev,
                            errp)) {
        goto fail;
    }
    xendev->exit_notifier.notify = xen_device_exit;
    qemu_add_exit_notifier(&xendev->exit_notifier);

    xen_device_grant_open(xendev, errp);
    if (*errp) {
        goto fail;
    }
    if (xendev_class->realize) {
        xendev_class->realize(xendev, errp);
        if (*errp) {
            goto fail;
        }
    }

    xen_device_backend_set_state(xendev, XenbusStateInitWait);

    /* Fires once at once, picking up the frontend's current state. */
    xendev->frontend_state_watch =
        xs_node_watch(xenbus->xsh, xendev->frontend_path, "state",
                      xen_device_frontend_state_changed, xendev, errp);
    if (*errp) {
        goto fail;
    }
    xendev->backend_online_watch =
        xs_node_watch(xenbus->xsh, xendev->backend_path, "online",
                      xen_device_backend_changed, xendev, errp);
    if (*errp) {
        goto fail;
    }
    xendev->backend_state_watch =
        xs_node_watch(xenbus->xsh, xendev->backend_path, "state",
                      xen_device_backend_changed, xendev, errp);
    if (*errp) {
        goto fail;
    }
    return;

fail:
    xen_device_unrealize(dev);
}

static void xen_device_instance_init(Object *obj)
{
    XenDevice *xendev = XEN_DEVICE(obj);

    qemu_mutex_init(&xendev->report_lock);
}

static void xen_device_instance_finalize(Object *obj)
{
    XenDevice *xendev = XEN_DEVICE(obj);

    qemu_mutex_destroy(&xendev->report_lock);
}

static const Property xen_device_properties[] = {
    DEFINE_PROP_UINT16("frontend-id", XenDevice, frontend_id, DOMID_INVALID),
};

static void xen_device_class_init(ObjectClass *class, void *data)
{
    DeviceClass *dev_class = DEVICE_CLASS(class);

    dev_class->realize = xen_device_realize;
    dev_class->unrealize = xen_device_unrealize;
    dev_class->bus_type = TYPE_XEN_BUS;
    device_class_set_props(dev_class, xen_device_properties);
    object_class_property_set_description(class, "frontend-id",
        "Guest domain of the frontend (32756: the -xen-domid guest)");
}

static const TypeInfo xen_device_type_info = {
    .name = TYPE_XEN_DEVICE,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(XenDevice),
    .instance_init = xen_device_instance_init,
    .instance_finalize = xen_device_instance_finalize,
    .abstract = true,
    .class_size = sizeof(XenDeviceClass),
    .class_init = xen_device_class_init,
};

static void xen_device_register_types(void)
{
    type_register_static(&xen_device_type_info);
}

type_init(xen_device_register_types)
