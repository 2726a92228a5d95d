/*
 * Xen backend types: devices a toolstack creates through xenstore
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/xen/xen-backend.h"
#include "trace.h"

struct XenBackendInstance {
    QLIST_ENTRY(XenBackendInstance) link;
    const XenBackendInfo *info;
    XenBus *xenbus;
    char *name;
    unsigned int frontend_id;
    XenDevice *xendev;
    void *opaque;
};

static GHashTable *backend_types;
static QLIST_HEAD(, XenBackendInstance) backends =
    QLIST_HEAD_INITIALIZER(backends);

void xen_backend_register(const XenBackendInfo *info)
{
    if (!backend_types) {
        backend_types = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_assert(!g_hash_table_contains(backend_types, info->type));
    g_hash_table_insert(backend_types, (gpointer)info->type, (gpointer)info);
}

const char **xen_backend_get_types(unsigned int *nr)
{
    if (!backend_types) {
        *nr = 0;
        return g_new0(const char *, 1);
    }
    return (const char **)g_hash_table_get_keys_as_array(backend_types, nr);
}

XenBus *xen_backend_get_bus(XenBackendInstance *backend)
{
    return backend->xenbus;
}

const char *xen_backend_get_name(XenBackendInstance *backend)
{
    return backend->name;
}

unsigned int xen_backend_get_frontend_id(XenBackendInstance *backend)
{
    return backend->frontend_id;
}

void xen_backend_set_device(XenBackendInstance *backend, XenDevice *xendev)
{
    backend->xendev = xendev;
}

XenDevice *xen_backend_get_device(XenBackendInstance *backend)
{
    return backend->xendev;
}

void xen_backend_set_opaque(XenBackendInstance *backend, void *opaque)
{
    backend->opaque = opaque;
}

void *xen_backend_get_opaque(XenBackendInstance *backend)
{
    return backend->opaque;
}

static void xen_backend_free(XenBackendInstance *backend)
{
    g_free(backend->name);
    g_free(backend);
}

void xen_backend_device_create(XenBus *xenbus, const char *type,
                               const char *name, unsigned int frontend_id,
                               QDict *opts, Error **errp)
{
    ERRP_GUARD();
    const XenBackendInfo *info = backend_types ?
        g_hash_table_lookup(backend_types, type) : NULL;
    XenBackendInstance *backend;

    if (!info) {
        error_setg(errp, "no backend type '%s'", type);
        return;
    }
    trace_xen_backend_device_create(type, frontend_id, name);

    backend = g_new0(XenBackendInstance, 1);
    backend->info = info;
    backend->xenbus = xenbus;
    backend->name = g_strdup(name);
    backend->frontend_id = frontend_id;

    info->create(backend, opts, errp);
    if (*errp) {
        xen_backend_free(backend);
        return;
    }
    g_assert(backend->xendev);
    QLIST_INSERT_HEAD(&backends, backend, link);
}

bool xen_backend_try_device_destroy(XenDevice *xendev, Error **errp)
{
    XenBackendInstance *backend;

    QLIST_FOREACH(backend, &backends, link) {
        if (backend->xendev == xendev) {
            trace_xen_backend_device_destroy(backend->info->type,
                                             backend->frontend_id,
                                             backend->name);
            QLIST_REMOVE(backend, link);
            backend->info->destroy(backend, errp);
            xen_backend_free(backend);
            return true;
        }
    }
    return false;
}
