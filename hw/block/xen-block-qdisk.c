/*
 * The "qdisk" Xen backend type: xen-disk and xen-cdrom devices created from
 * the backend areas a toolstack (libxl) writes in xenstore
 *
 * For each area the drive, an IOThread for its ring and the device are
 * created; all three go when the toolstack takes the device away.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/vfs.h>
#include <linux/magic.h>
#include "qemu/module.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "block/qdict.h"
#include "hw/qdev-core.h"
#include "hw/xen/xen-backend.h"
#include "hw/xen/xen-block.h"
#include "block/block.h"
#include "system/iothread.h"
#include "trace.h"

/* libxl's "params" formats and the QEMU drivers that read them. */
static const struct {
    const char *format;
    const char *driver;
} qdisk_formats[] = {
    { "aio", "raw" },
    { "raw", "raw" },
    { "qcow", "qcow" },
    { "qcow2", "qcow2" },
    { "vhd", "vpc" },
    { "qed", "qed" },
};

static const char *qdisk_opt(QDict *opts, const char *key)
{
    return qdict_get_try_str(opts, key);
}

/* A toolstack flag: "1" is set, absent or anything else is not. */
static bool qdisk_flag(QDict *opts, const char *key)
{
    return !g_strcmp0(qdisk_opt(opts, key), "1");
}

/*
 * A target the block layer resolves itself: a URL ("nbd://host/export",
 * "iscsi://host/iqn/lun"), json:{...}, or Ceph's "rbd:pool/image[:opts]",
 * the form QEMU's -drive and libxl's params have always taken for RBD.
 */
static bool qdisk_target_is_network(const char *target)
{
    const char *p = target;

    if (g_str_has_prefix(target, "json:") ||
        g_str_has_prefix(target, "rbd:")) {
        return true;
    }
    while (g_ascii_isalnum(*p) || *p == '+' || *p == '-' || *p == '.') {
        p++;
    }
    return p != target && g_str_has_prefix(p, "://");
}

/*
 * "params" is "<format>:<target>", or a bare target meaning raw.  The
 * target is a file name or a network target (above); a bare json:{...}
 * names its own driver, so *driver stays NULL for it.
 */
static bool qdisk_parse_params(const char *params, const char **driver,
                               const char **target, Error **errp)
{
    const char *colon = strchr(params, ':');
    size_t i;

    *driver = g_str_has_prefix(params, "json:") ? NULL : "raw";
    *target = params;
    if (colon && !qdisk_target_is_network(params)) {
        for (i = 0; i < ARRAY_SIZE(qdisk_formats); i++) {
            if (strlen(qdisk_formats[i].format) == colon - params &&
                g_str_has_prefix(params, qdisk_formats[i].format)) {
                *driver = qdisk_formats[i].driver;
                *target = colon + 1;
                break;
            }
        }
        if (i == ARRAY_SIZE(qdisk_formats)) {
            error_setg(errp, "params '%s': unknown format '%.*s'", params,
                       (int)(colon - params), params);
            return false;
        }
    }
    if (!**target) {
        error_setg(errp, "params '%s' names no image", params);
        return false;
    }
    return true;
}

/*
 * How an image is opened, best first.  O_DIRECT is only taken where the
 * toolstack said direct-io-safe, or where the image is in memory (tmpfs):
 * there O_DIRECT bypasses no cache, only the kernel's buffered path, for
 * which io_uring hands each request to a kernel worker.  Elsewhere the
 * host page cache with io_uring read faster than O_DIRECT (ext4 on a block
 * device: 1.6x at queue depth 1, 2.4x at 32) and wrote about as fast.  A
 * file system that refuses O_DIRECT gets the page cache, and a kernel that
 * refuses io_uring the thread pool.
 */
static const struct {
    bool direct;
    const char *aio;
} qdisk_engines[] = {
    { true, "native" },
    { false, "io_uring" },
    { false, "threads" },
};

/* Whether @target, a file, is in memory. */
static bool qdisk_in_memory(const char *target)
{
    struct statfs fs;

    return !statfs(target, &fs) && fs.f_type == TMPFS_MAGIC;
}

/* @key of the protocol node: at the top for @prefix "", or below "file.". */
static void qdisk_put_protocol_opt(QDict *options, const char *prefix,
                                   const char *key, const char *value)
{
    g_autofree char *name = g_strconcat(prefix, key, NULL);

    qdict_put_str(options, name, value);
}

/*
 * Open @target, an image file or a block device in @format, with the first
 * engine that works (O_DIRECT ones only if @direct_io_safe or in memory);
 * the error is the last engine's.  @options is consumed.
 */
static BlockDriverState *qdisk_open_file(const char *target,
                                         const char *format,
                                         bool direct_io_safe,
                                         QDict *options, int flags,
                                         Error **errp)
{
    /*
     * A raw image is the protocol node itself: a raw format node on top
     * would only pass requests through, at a sixth of the instructions of
     * each request.
     */
    const char *prefix = strcmp(format, "raw") ? "file." : "";
    BlockDriverState *bs = NULL;
    bool is_file = true;
    bool direct_ok;
    struct stat st;
    size_t i;

    if (!stat(target, &st) && S_ISBLK(st.st_mode)) {
        is_file = false;
    }
    direct_ok = direct_io_safe || (is_file && qdisk_in_memory(target));
    if (*prefix) {
        qdict_put_str(options, "driver", format);
    }
    qdisk_put_protocol_opt(options, prefix, "driver",
                           is_file ? "file" : "host_device");
    qdisk_put_protocol_opt(options, prefix, "filename", target);
    /*
     * An HVM guest's emulated disk may have the same image open until the
     * guest unplugs it, so the image cannot be locked.
     */
    qdisk_put_protocol_opt(options, prefix, "locking", "off");
    for (i = 0; i < ARRAY_SIZE(qdisk_engines) && !bs; i++) {
        bool last = i == ARRAY_SIZE(qdisk_engines) - 1;
        Error *local_err = NULL;
        QDict *attempt;

        if (qdisk_engines[i].direct && !direct_ok) {
            continue;
        }
        attempt = qdict_clone_shallow(options);
        qdict_put_bool(attempt, "cache.direct", qdisk_engines[i].direct);
        qdisk_put_protocol_opt(attempt, prefix, "aio", qdisk_engines[i].aio);
        bs = bdrv_open(NULL, NULL, attempt, flags, &local_err);
        if (bs) {
            trace_xen_qdisk_engine(target, qdisk_engines[i].aio,
                                   qdisk_engines[i].direct);
        } else if (last) {
            error_propagate(errp, local_err);
        } else {
            trace_xen_qdisk_engine_refused(target, qdisk_engines[i].aio,
                                           qdisk_engines[i].direct,
                                           error_get_pretty(local_err));
            error_free(local_err);
        }
    }
    qobject_unref(options);
    return bs;
}

/*
 * "<format>:json:{...}", as libxl writes a json target ("aio:json:{...}"
 * for raw): the json describes the node the format driver reads, so it
 * goes under "file".  Given as the filename instead, its options would be
 * merged into the format node's own.
 */
static bool qdisk_nest_json(QDict *options, const char *target, Error **errp)
{
    ERRP_GUARD();
    QObject *json = qobject_from_json(target + strlen("json:"), errp);
    QDict *file = qobject_to(QDict, json);

    if (!file) {
        /* Empty JSON is no error to the parser. */
        if (!*errp) {
            error_setg(errp, "'%s' is not a JSON object", target);
        }
        qobject_unref(json);
        return false;
    }
    qdict_put(options, "file", file);
    qdict_flatten(options);
    return true;
}

static BlockDriverState *qdisk_open_drive(QDict *opts, bool read_only,
                                          Error **errp)
{
    const char *params = qdisk_opt(opts, "params");
    const char *driver, *target;
    int flags = read_only ? 0 : BDRV_O_RDWR;
    QDict *options;

    if (!params) {
        error_setg(errp, "no params key");
        return NULL;
    }
    if (!qdisk_parse_params(params, &driver, &target, errp)) {
        return NULL;
    }

    options = qdict_new();
    qdict_put_bool(options, "read-only", read_only);
    qdict_put_bool(options, "cache.no-flush", false);
    /* Absent means allowed: libxl writes discard-enable=0 to forbid it. */
    if (!read_only && g_strcmp0(qdisk_opt(opts, "discard-enable"), "0")) {
        qdict_put_str(options, "discard", "unmap");
    }
    if (qdisk_target_is_network(target)) {
        /*
         * The block layer finds the protocol driver from the target; the
         * toolstack's direct-io-safe is all we know of its caching.
         */
        qdict_put_bool(options, "cache.direct",
                       qdisk_flag(opts, "direct-io-safe"));
        if (!driver) {
            return bdrv_open(target, NULL, options, flags, errp);
        }
        qdict_put_str(options, "driver", driver);
        if (g_str_has_prefix(target, "json:")) {
            if (!qdisk_nest_json(options, target, errp)) {
                qobject_unref(options);
                return NULL;
            }
            return bdrv_open(NULL, NULL, options, flags, errp);
        }
        return bdrv_open(target, NULL, options, flags, errp);
    }
    return qdisk_open_file(target, driver, qdisk_flag(opts, "direct-io-safe"),
                           options, flags, errp);
}

static void qdisk_create(XenBackendInstance *backend, QDict *opts,
                         Error **errp)
{
    ERRP_GUARD();
    XenBus *xenbus = xen_backend_get_bus(backend);
    const char *name = xen_backend_get_name(backend);
    const char *vdev = qdisk_opt(opts, "dev");
    const char *device_type = qdisk_opt(opts, "device-type");
    const char *mode = qdisk_opt(opts, "mode");
    g_autofree char *iothread_id = NULL;
    g_autofree char *number = NULL;
    BlockDriverState *bs;
    IOThread *iothread;
    XenBlockVdev parsed;
    DeviceState *dev;
    bool cdrom;

    if (!vdev) {
        error_setg(errp, "no dev key");
        return;
    }
    if (!xen_block_vdev_parse(vdev, &parsed, errp)) {
        return;
    }
    number = g_strdup_printf("%lu", parsed.number);
    if (strcmp(name, number)) {
        error_setg(errp, "dev '%s' is VBD %lu, not %s", vdev, parsed.number,
                   name);
        return;
    }
    cdrom = !g_strcmp0(device_type, "cdrom");
    if (!cdrom && device_type && strcmp(device_type, "disk")) {
        error_setg(errp, "unknown device-type '%s'", device_type);
        return;
    }
    if (mode && strcmp(mode, "r") && strcmp(mode, "w")) {
        error_setg(errp, "unknown mode '%s'", mode);
        return;
    }

    bs = qdisk_open_drive(opts, cdrom || !g_strcmp0(mode, "r"), errp);
    if (!bs) {
        return;
    }
    iothread_id = g_strdup_printf("xen-qdisk-%u-%s",
                                  xen_backend_get_frontend_id(backend), name);
    /* Listed by query-iothreads, so that management can see and pin it. */
    iothread = IOTHREAD(object_new_with_props(TYPE_IOTHREAD,
                                              object_get_objects_root(),
                                              iothread_id, errp, NULL));
    if (!iothread) {
        bdrv_unref(bs);
        return;
    }

    dev = qdev_new(cdrom ? TYPE_XEN_CDROM_DEVICE : TYPE_XEN_DISK_DEVICE);
    if (!object_property_parse(OBJECT(dev), "vdev", vdev, errp) ||
        !object_property_set_uint(OBJECT(dev), "frontend-id",
                                  xen_backend_get_frontend_id(backend),
                                  errp) ||
        !object_property_set_str(OBJECT(dev), "drive",
                                 bdrv_get_node_name(bs), errp) ||
        !object_property_set_link(OBJECT(dev), "iothread", OBJECT(iothread),
                                  errp)) {
        object_unref(OBJECT(dev));
    } else {
        /* On failure this also takes the device off the bus and frees it. */
        qdev_realize_and_unref(dev, BUS(xenbus), errp);
    }
    /* The device's own BlockBackend keeps the node while it needs it. */
    bdrv_unref(bs);
    if (*errp) {
        object_unparent(OBJECT(iothread));
        return;
    }
    xen_backend_set_device(backend, XEN_DEVICE(dev));
    xen_backend_set_opaque(backend, iothread);
}

static void qdisk_destroy(XenBackendInstance *backend, Error **errp)
{
    XenDevice *xendev = xen_backend_get_device(backend);

    /*
     * Unrealizes the device at once; it drops the drive and its reference
     * to the IOThread, which then stops, when it is finalized.
     */
    object_unparent(OBJECT(xendev));
    object_unparent(OBJECT(xen_backend_get_opaque(backend)));
}

static const XenBackendInfo qdisk_backend_info = {
    .type = "qdisk",
    .create = qdisk_create,
    .destroy = qdisk_destroy,
};

static void qdisk_register_backend(void)
{
    xen_backend_register(&qdisk_backend_info);
}

xen_backend_init(qdisk_register_backend);
