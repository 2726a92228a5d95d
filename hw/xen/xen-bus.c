/*
 * Xen bus: the bridge, the bus and the watches of its backend types
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/hotplug.h"
#include "hw/qdev-core.h"
#include "hw/xen/xen-backend.h"
#include "hw/xen/xen-bus.h"
#include "hw/xen/xen-bus-helper.h"
#include "hw/xen/xen-compat.h"
#include "trace.h"

XenDevice *xen_bus_find_device(XenBus *xenbus, const char *type,
                               unsigned int frontend_id, const char *name)
{
    BusChild *kid;

    QTAILQ_FOREACH(kid, &BUS(xenbus)->children, sibling) {
        XenDevice *xendev = XEN_DEVICE(kid->child);

        if (xendev->name && xendev->frontend_id == frontend_id &&
            !strcmp(XEN_DEVICE_GET_CLASS(xendev)->backend, type) &&
            !strcmp(xendev->name, name)) {
            return xendev;
        }
    }
    return NULL;
}

/* The areas of one backend type for the guest we serve. */
typedef struct XenBusBackendType {
    XenBus *xenbus;
    char *type;
    char *path;
    struct qemu_xs_watch *watch;
    /* Areas we could not create a device for: not retried in a loop. */
    GHashTable *refused;
} XenBusBackendType;

/* Every key of a toolstack's backend area, as strings. */
static QDict *xen_bus_read_area(XenBus *xenbus, const char *area)
{
    QDict *opts = qdict_new();
    unsigned int i, n = 0;
    char **keys = qemu_xen_xs_directory(xenbus->xsh, XBT_NULL, area, &n);

    for (i = 0; keys && i < n; i++) {
        char *value = xs_node_read(xenbus->xsh, XBT_NULL, NULL, NULL,
                                   "%s/%s", area, keys[i]);

        if (value) {
            qdict_put_str(opts, keys[i], value);
            g_free(value);
        }
    }
    free(keys);
    return opts;
}

/* An area is ready for a device once the toolstack finished writing it. */
static bool xen_bus_area_ready(XenBus *xenbus, const char *area)
{
    unsigned int online, state;

    return xs_node_scanf(xenbus->xsh, XBT_NULL, area, "online", NULL, "%u",
                         &online) == 1 && online == 1 &&
        xs_node_scanf(xenbus->xsh, XBT_NULL, area, "state", NULL, "%u",
                      &state) == 1 && state == XenbusStateInitialising;
}

static void xen_bus_backend_changed(void *opaque, const char *path)
{
    XenBusBackendType *bt = opaque;
    XenBus *xenbus = bt->xenbus;
    unsigned int i, n = 0;
    char **names = qemu_xen_xs_directory(xenbus->xsh, XBT_NULL, bt->path, &n);
    GHashTableIter iter;
    gpointer refused;

    /* An area that went away may come back as a new one: try that. */
    g_hash_table_iter_init(&iter, bt->refused);
    while (g_hash_table_iter_next(&iter, &refused, NULL)) {
        for (i = 0; names && i < n; i++) {
            if (!strcmp(names[i], refused)) {
                break;
            }
        }
        if (!names || i == n) {
            g_hash_table_iter_remove(&iter);
        }
    }

    for (i = 0; names && i < n; i++) {
        g_autofree char *area = g_strdup_printf("%s/%s", bt->path, names[i]);
        Error *local_err = NULL;
        QDict *opts;

        if (xen_bus_find_device(xenbus, bt->type, xen_domid, names[i]) ||
            g_hash_table_contains(bt->refused, names[i]) ||
            !xen_bus_area_ready(xenbus, area)) {
            continue;
        }
        opts = xen_bus_read_area(xenbus, area);
        xen_backend_device_create(xenbus, bt->type, names[i], xen_domid,
                                  opts, &local_err);
        qobject_unref(opts);
        if (local_err) {
            error_prepend(&local_err, "cannot create a device for %s: ",
                          area);
            error_report_err(local_err);
            g_hash_table_add(bt->refused, g_strdup(names[i]));
        }
    }
    free(names);
}

static void xen_bus_backend_type_free(gpointer data)
{
    XenBusBackendType *bt = data;

    if (bt->watch) {
        xs_node_unwatch(bt->xenbus->xsh, bt->watch);
    }
    g_hash_table_destroy(bt->refused);
    g_free(bt->type);
    g_free(bt->path);
    g_free(bt);
}

/*
 * Advertise the backend types and watch their areas for the guest we serve;
 * the first watch event finds the areas written before we started.
 */
static void xen_bus_watch_backend_types(XenBus *xenbus)
{
    unsigned int i, nr;
    g_autofree const char **types = xen_backend_get_types(&nr);

    xenbus->backend_types = g_ptr_array_new_with_free_func(
        xen_bus_backend_type_free);
    for (i = 0; i < nr; i++) {
        XenBusBackendType *bt = g_new0(XenBusBackendType, 1);
        g_autofree char *advert = g_strdup_printf("device-model/%u/backends",
                                                  xen_domid);
        Error *local_err = NULL;

        bt->xenbus = xenbus;
        bt->type = g_strdup(types[i]);
        bt->path = g_strdup_printf("/local/domain/%u/backend/%s/%u",
                                   xenbus->backend_id, types[i], xen_domid);
        bt->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            NULL);
        g_ptr_array_add(xenbus->backend_types, bt);

        xs_node_printf(xenbus->xsh, XBT_NULL, advert, types[i], &local_err,
                       "%s", "");
        if (!local_err) {
            bt->watch = xs_node_watch(xenbus->xsh, bt->path, "",
                                      xen_bus_backend_changed, bt,
                                      &local_err);
        }
        if (local_err) {
            error_prepend(&local_err, "backend type %s: ", types[i]);
            warn_report_err(local_err);
        }
    }
}

static void xen_bus_realize(BusState *bus, Error **errp)
{
    ERRP_GUARD();
    XenBus *xenbus = XEN_BUS(bus);
    unsigned int domid;

    trace_xen_bus_realize();

    xenbus->xsh = qemu_xen_xs_open();
    if (!xenbus->xsh) {
        error_setg_errno(errp, errno, "failed to connect to xenstore");
        return;
    }

    /* Our own domain's "domid" key; only dom0 may lack it. */
    if (xs_node_scanf(xenbus->xsh, XBT_NULL, "", "domid", NULL, "%u",
                      &domid) == 1 && domid < DOMID_FIRST_RESERVED) {
        xenbus->backend_id = domid;
    } else {
        xenbus->backend_id = 0;
    }

    xen_bus_start_legacy_backends();
    /* Backend types register themselves from here. */
    module_call_init(MODULE_INIT_XEN_BACKEND);
    xen_bus_watch_backend_types(xenbus);
}

static void xen_bus_unrealize(BusState *bus)
{
    XenBus *xenbus = XEN_BUS(bus);

    trace_xen_bus_unrealize();

    if (xenbus->backend_types) {
        g_ptr_array_free(xenbus->backend_types, true);
        xenbus->backend_types = NULL;
    }
    if (xenbus->xsh) {
        qemu_xen_xs_close(xenbus->xsh);
        xenbus->xsh = NULL;
    }
}

/* device_del: the device goes once the frontend has closed. */
static void xen_bus_unplug_request(HotplugHandler *hotplug_dev,
                                   DeviceState *dev, Error **errp)
{
    xen_device_unplug(XEN_DEVICE(dev), errp);
}

static void xen_bus_class_init(ObjectClass *class, void *data)
{
    BusClass *bus_class = BUS_CLASS(class);
    HotplugHandlerClass *hotplug_class = HOTPLUG_HANDLER_CLASS(class);

    bus_class->realize = xen_bus_realize;
    bus_class->unrealize = xen_bus_unrealize;
    hotplug_class->unplug_request = xen_bus_unplug_request;
}

static const TypeInfo xen_bus_type_info = {
    .name = TYPE_XEN_BUS,
    .parent = TYPE_BUS,
    .instance_size = sizeof(XenBus),
    .class_init = xen_bus_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_HOTPLUG_HANDLER },
        { }
    },
};

static const TypeInfo xen_bridge_type_info = {
    .name = TYPE_XEN_BRIDGE,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(XenBridge),
};

static void xen_bus_register_types(void)
{
    type_register_static(&xen_bridge_type_info);
    type_register_static(&xen_bus_type_info);
}

type_init(xen_bus_register_types)

void xen_bus_init(void)
{
    DeviceState *dev = qdev_new(TYPE_XEN_BRIDGE);
    BusState *bus = qbus_new(TYPE_XEN_BUS, dev, NULL);

    sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
    qbus_set_bus_hotplug_handler(bus);
    xen_bus_create_nic_devices(bus);
}
