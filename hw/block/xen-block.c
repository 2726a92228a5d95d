/*
 * Xen PV block devices: the device model of xen-disk and xen-cdrom
 *
 * The device publishes what it offers in its backend area, follows the
 * frontend through the xenbus handshake and hands the rings the frontend
 * granted to the dataplane (hw/block/dataplane/xen-block.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "hw/xen/xen-block.h"
#include "hw/xen/xen-bus-helper.h"
#include "hw/xen/xen-compat.h"
#include "hw/xen/interface/io/blkif.h"
#include "hw/xen/interface/io/protocols.h"
#include "system/block-backend.h"
#include "system/blockdev.h"
#include "dataplane/xen-block.h"
#include "trace.h"

/*
 * Without a vdev (-drive if=xen gives none) take the first xvd disk that
 * neither a device on the bus nor a frontend area of the guest (a disk the
 * toolstack gave it through another backend) uses.
 */
static bool xen_block_pick_vdev(XenBlockDevice *blockdev, Error **errp)
{
    XenDevice *xendev = XEN_DEVICE(blockdev);
    XenBus *xenbus = XEN_BUS(qdev_get_parent_bus(DEVICE(xendev)));
    XenBlockVdev candidate = { .type = XEN_BLOCK_VDEV_TYPE_XVD };

    for (candidate.disk = 0;; candidate.disk++) {
        g_autofree char *str = xen_block_vdev_to_string(&candidate);
        g_autofree char *name = NULL;
        g_autofree char *fe = NULL;

        /* Fails once past the last xvd disk. */
        if (!xen_block_vdev_parse(str, &candidate, errp)) {
            return false;
        }
        name = g_strdup_printf("%lu", candidate.number);
        fe = g_strdup_printf("/local/domain/%u/device/vbd/%s",
                             xendev->frontend_id, name);
        if (!xen_bus_find_device(xenbus, "qdisk", xendev->frontend_id,
                                 name) &&
            !xs_node_exists(xenbus->xsh, XBT_NULL, fe)) {
            trace_xen_block_auto_vdev(str, candidate.number);
            blockdev->vdev = candidate;
            return true;
        }
    }
}

static char *xen_block_get_name(XenDevice *xendev, Error **errp)
{
    XenBlockDevice *blockdev = XEN_BLOCK_DEVICE(xendev);

    if (blockdev->vdev.type == XEN_BLOCK_VDEV_TYPE_INVALID &&
        !xen_block_pick_vdev(blockdev, errp)) {
        return NULL;
    }
    return g_strdup_printf("%lu", blockdev->vdev.number);
}

static uint64_t xen_block_nr_sectors(XenBlockDevice *blockdev)
{
    int64_t len = blockdev->conf.blk ? blk_getlength(blockdev->conf.blk) : 0;

    /* "sectors" is always in 512-byte units, whatever the sector size. */
    return len > 0 ? len / BDRV_SECTOR_SIZE : 0;
}

static bool xen_block_discard_offered(XenBlockDevice *blockdev)
{
    return !(blockdev->info & VDISK_READONLY) &&
        (blk_get_flags(blockdev->conf.blk) & BDRV_O_UNMAP);
}

static void xen_block_dataplane_conf(XenBlockDevice *blockdev,
                                     XenBlockDataPlaneConf *conf)
{
    *conf = (XenBlockDataPlaneConf) {
        .sector_size = blockdev->conf.logical_block_size,
        .nr_sectors = xen_block_nr_sectors(blockdev),
        .read_only = blockdev->info & VDISK_READONLY,
        .discard = xen_block_discard_offered(blockdev),
        .discard_secure = xen_block_discard_offered(blockdev) &&
                          blockdev->discard_secure,
        .max_indirect_segments = blockdev->max_indirect_segments,
    };
}

/*
 * Strictly parse an unsigned frontend key: the frontend is untrusted, so
 * "12abc", "-1" or a value beyond @max is an error, not a number.  A
 * missing key is an error, unless @present is given: it then says whether
 * the key is there, and a missing key leaves @value alone.
 */
static bool xen_block_read_frontend_uint(XenBlockDevice *blockdev,
                                         const char *key, unsigned int max,
                                         unsigned int *value, bool *present,
                                         Error **errp)
{
    XenDevice *xendev = XEN_DEVICE(blockdev);
    g_autofree char *str = xen_device_frontend_read(xendev, key);

    if (present) {
        *present = str;
        if (!str) {
            return true;
        }
    } else if (!str) {
        error_setg(errp, "frontend key %s is missing", key);
        return false;
    }
    if (qemu_strtoui(str, NULL, 10, value) < 0 || *value > max) {
        error_setg(errp, "frontend key %s has invalid value '%.32s'", key,
                   str);
        return false;
    }
    return true;
}

static bool xen_block_read_protocol(XenBlockDevice *blockdev,
                                    XenBlockProtocol *protocol, Error **errp)
{
    XenDevice *xendev = XEN_DEVICE(blockdev);
    g_autofree char *str = xen_device_frontend_read(xendev, "protocol");

    /* Frontends that predate the key are 32-bit x86, as Linux assumes. */
    if (!str || !strcmp(str, XEN_IO_PROTO_ABI_X86_32)) {
        *protocol = XEN_BLOCK_PROTOCOL_X86_32;
    } else if (!strcmp(str, XEN_IO_PROTO_ABI_X86_64)) {
        *protocol = XEN_BLOCK_PROTOCOL_X86_64;
    } else {
        error_setg(errp, "frontend protocol '%.32s' is not supported", str);
        return false;
    }
    return true;
}

/*
 * Persistent grants are used when both sides offer them.  The frontend's
 * key is optional and, when we offer the feature, 0 or 1.
 */
static bool xen_block_read_persistent(XenBlockDevice *blockdev,
                                      bool *persistent, Error **errp)
{
    unsigned int offered = 0;
    bool present;

    *persistent = false;
    if (!blockdev->persistent_grants) {
        return true;
    }
    if (!xen_block_read_frontend_uint(blockdev, "feature-persistent", 1,
                                      &offered, &present, errp)) {
        return false;
    }
    *persistent = offered;
    return true;
}

/*
 * The number of queues the frontend asked for: 1 without the key.  One
 * queue keeps the flat layout (blkif.h).
 */
static bool xen_block_read_nr_queues(XenBlockDevice *blockdev,
                                     unsigned int *nr_queues, Error **errp)
{
    bool present;

    *nr_queues = 1;
    if (!xen_block_read_frontend_uint(blockdev, "multi-queue-num-queues",
                                      UINT32_MAX, nr_queues, &present,
                                      errp)) {
        return false;
    }
    if (*nr_queues == 0 || *nr_queues > blockdev->max_queues) {
        error_setg(errp, "frontend asked for %u queues, %u offered",
                   *nr_queues, blockdev->max_queues);
        return false;
    }
    return true;
}

/*
 * One ring's keys, under @dir: "" in the flat layout, "queue-N/" for
 * queue N of several.  A frontend that wrote ring-page-order names its
 * pages ring-ref0..., one that did not has one page, ring-ref.
 */
static bool xen_block_read_ring(XenBlockDevice *blockdev, const char *dir,
                                bool have_order, unsigned int nr_ring_ref,
                                XenBlockRingConf *ring, Error **errp)
{
    g_autofree char *evtchn_key = g_strdup_printf("%sevent-channel", dir);
    unsigned int i;

    for (i = 0; i < nr_ring_ref; i++) {
        g_autofree char *key = have_order ?
            g_strdup_printf("%sring-ref%u", dir, i) :
            g_strdup_printf("%sring-ref", dir);

        if (!xen_block_read_frontend_uint(blockdev, key, UINT32_MAX,
                                          &ring->ring_ref[i], NULL, errp)) {
            return false;
        }
    }
    ring->nr_ring_ref = nr_ring_ref;
    return xen_block_read_frontend_uint(blockdev, evtchn_key, UINT32_MAX,
                                        &ring->event_channel, NULL, errp);
}

static void xen_block_connect(XenBlockDevice *blockdev, Error **errp)
{
    ERRP_GUARD();
    XenDevice *xendev = XEN_DEVICE(blockdev);
    g_autofree XenBlockRingConf *rings = NULL;
    unsigned int order = 0, nr_ring_ref, nr_queues, max_grants, i;
    XenBlockProtocol protocol;
    XenBlockDataPlaneConf conf;
    bool have_order, persistent;

    if (!xen_block_read_frontend_uint(blockdev, "ring-page-order",
                                      blockdev->max_ring_page_order,
                                      &order, &have_order, errp)) {
        return;
    }
    nr_ring_ref = 1u << order;
    if (!xen_block_read_nr_queues(blockdev, &nr_queues, errp)) {
        return;
    }
    rings = g_new0(XenBlockRingConf, nr_queues);
    for (i = 0; i < nr_queues; i++) {
        g_autofree char *dir = nr_queues > 1 ?
            g_strdup_printf("queue-%u/", i) : g_strdup("");

        if (!xen_block_read_ring(blockdev, dir, have_order, nr_ring_ref,
                                 &rings[i], errp)) {
            return;
        }
    }
    if (!xen_block_read_protocol(blockdev, &protocol, errp) ||
        !xen_block_read_persistent(blockdev, &persistent, errp)) {
        return;
    }

    trace_xen_block_connect(xendev->backend_path, nr_queues, order,
                            rings[0].event_channel, protocol);
    xen_block_dataplane_conf(blockdev, &conf);
    conf.persistent_grants = persistent;

    /*
     * The rings stay mapped; where the kernel cannot copy grants, the
     * pages of every request in flight are mapped too (a ring page holds
     * 32 requests), and so are persistent grants.
     */
    max_grants = nr_queues * (nr_ring_ref + 32 * nr_ring_ref *
        (MAX(conf.max_indirect_segments, BLKIF_MAX_SEGMENTS_PER_REQUEST) +
         BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST) +
        (persistent ? XEN_BLOCK_PERSISTENT_GRANTS : 0));
    xen_device_set_max_grant_refs(xendev, max_grants, errp);
    if (*errp) {
        return;
    }
    xen_block_dataplane_start(blockdev->dataplane, &conf, rings, nr_queues,
                              protocol, errp);
}

static void xen_block_disconnect(XenBlockDevice *blockdev)
{
    trace_xen_block_disconnect(XEN_DEVICE(blockdev)->backend_path);
    xen_block_dataplane_stop(blockdev->dataplane);
}

/* The toolstack takes a device away by clearing "online". */
static bool xen_block_online(XenBlockDevice *blockdev)
{
    unsigned int online;

    return xen_device_backend_scanf(XEN_DEVICE(blockdev), "online", "%u",
                                    &online) == 1 && online;
}

static void xen_block_frontend_changed(XenDevice *xendev,
                                       enum xenbus_state frontend_state,
                                       Error **errp)
{
    ERRP_GUARD();
    XenBlockDevice *blockdev = XEN_BLOCK_DEVICE(xendev);
    enum xenbus_state backend_state = xen_device_backend_get_state(xendev);

    switch (frontend_state) {
    case XenbusStateInitialised:
    case XenbusStateConnected:
        if (backend_state == XenbusStateConnected ||
            !xen_block_online(blockdev)) {
            break;
        }
        /* A frontend may reconnect without passing through Closed. */
        xen_block_disconnect(blockdev);
        xen_block_connect(blockdev, errp);
        if (*errp) {
            error_prepend(errp, "connect refused: ");
            xen_block_disconnect(blockdev);
            xen_device_backend_set_state(xendev, XenbusStateClosing);
            break;
        }
        xen_device_backend_set_state(xendev, XenbusStateConnected);
        break;

    case XenbusStateClosing:
        xen_device_backend_set_state(xendev, XenbusStateClosing);
        break;

    case XenbusStateClosed:
    case XenbusStateUnknown:
        /* Unknown: the frontend area is gone, the frontend with it. */
        xen_block_disconnect(blockdev);
        xen_device_backend_set_state(xendev, XenbusStateClosed);
        break;

    case XenbusStateInitialising:
        /* The guest rebooted or kexec'ed: offer the device again. */
        if ((backend_state == XenbusStateClosed ||
             backend_state == XenbusStateClosing) &&
            xen_block_online(blockdev)) {
            xen_block_disconnect(blockdev);
            xen_device_backend_set_state(xendev, XenbusStateInitWait);
        }
        break;

    default:
        break;
    }
}

static void xen_block_resize_cb(void *opaque)
{
    XenBlockDevice *blockdev = opaque;
    XenDevice *xendev = XEN_DEVICE(blockdev);
    uint64_t nr_sectors = xen_block_nr_sectors(blockdev);

    trace_xen_block_resize(xendev->backend_path, nr_sectors);
    xen_block_dataplane_resize(blockdev->dataplane, nr_sectors);
    xen_device_backend_printf(xendev, "sectors", "%" PRIu64, nr_sectors);

    /*
     * Frontends only look at "sectors" when the state changes: write the
     * state again, unchanged, so that their watch fires.
     */
    xen_device_backend_printf(xendev, "state", "%u",
                              xen_device_backend_get_state(xendev));
}

/* No request is taken off the ring while the drive is drained. */
static void xen_block_drained_begin(void *opaque)
{
    XenBlockDevice *blockdev = opaque;

    xen_block_dataplane_detach(blockdev->dataplane);
}

static void xen_block_drained_end(void *opaque)
{
    XenBlockDevice *blockdev = opaque;

    xen_block_dataplane_attach(blockdev->dataplane);
}

static const BlockDevOps xen_block_dev_ops = {
    .resize_cb = xen_block_resize_cb,
    .drained_begin = xen_block_drained_begin,
    .drained_end = xen_block_drained_end,
};

static void xen_block_publish(XenBlockDevice *blockdev)
{
    XenDevice *xendev = XEN_DEVICE(blockdev);
    BlockConf *conf = &blockdev->conf;

    xen_device_backend_printf(xendev, "info", "%u", blockdev->info);
    xen_device_backend_printf(xendev, "mode", "%s",
                              blockdev->info & VDISK_READONLY ? "r" : "w");
    xen_device_backend_printf(xendev, "sector-size", "%u",
                              conf->logical_block_size);
    xen_device_backend_printf(xendev, "physical-sector-size", "%u",
                              conf->physical_block_size);
    xen_device_backend_printf(xendev, "sectors", "%" PRIu64,
                              xen_block_nr_sectors(blockdev));
    /* A read-only disk answers flushes with errors: offer none. */
    if (!(blockdev->info & VDISK_READONLY)) {
        xen_device_backend_printf(xendev, "feature-flush-cache", "%u", 1);
        xen_device_backend_printf(xendev, "feature-barrier", "%u", 1);
    }
    xen_device_backend_printf(xendev, "max-ring-page-order", "%u",
                              blockdev->max_ring_page_order);
    xen_device_backend_printf(xendev, "multi-queue-max-queues", "%u",
                              blockdev->max_queues);
    if (blockdev->persistent_grants) {
        xen_device_backend_printf(xendev, "feature-persistent", "%u", 1);
    }
    if (blockdev->max_indirect_segments) {
        xen_device_backend_printf(xendev, "feature-max-indirect-segments",
                                  "%u", blockdev->max_indirect_segments);
    }
    if (xen_block_discard_offered(blockdev)) {
        xen_device_backend_printf(xendev, "feature-discard", "%u", 1);
        xen_device_backend_printf(xendev, "discard-granularity", "%u",
                                  conf->discard_granularity == -1 ?
                                  conf->logical_block_size :
                                  conf->discard_granularity);
        xen_device_backend_printf(xendev, "discard-alignment", "%u", 0);
        xen_device_backend_printf(xendev, "discard-secure", "%u",
                                  blockdev->discard_secure);
    }

    if (xendev->frontend_created) {
        xen_device_frontend_printf(xendev, "virtual-device", "%lu",
                                   blockdev->vdev.number);
        xen_device_frontend_printf(xendev, "device-type", "%s",
                                   blockdev->device_type);
    }
}

/*
 * The IOThread of each queue the device offers: "iothread" for all, or
 * "iothread-vq-mapping": its queue indexes (vqs) for each IOThread, or
 * without them the queues dealt out in turn.  NULL is the main loop.
 */
static bool xen_block_queue_iothreads(XenBlockDevice *blockdev,
                                      IOThread *iothreads[], Error **errp)
{
    IOThreadVirtQueueMappingList *list = blockdev->iothread_vq_mapping;
    IOThreadVirtQueueMappingList *node, *prev;
    unsigned int max_queues = blockdev->max_queues, i;
    uint16List *vq;

    if (!list) {
        for (i = 0; i < max_queues; i++) {
            iothreads[i] = blockdev->iothread;
        }
        return true;
    }
    if (blockdev->iothread) {
        error_setg(errp, "iothread and iothread-vq-mapping are mutually "
                   "exclusive");
        return false;
    }
    for (i = 0; i < max_queues; i++) {
        iothreads[i] = NULL;
    }
    for (node = list; node; node = node->next) {
        const char *id = node->value->iothread;
        IOThread *iothread = iothread_by_id(id);

        if (!iothread) {
            error_setg(errp, "IOThread \"%s\" does not exist", id);
            return false;
        }
        for (prev = list; prev != node; prev = prev->next) {
            if (!strcmp(prev->value->iothread, id)) {
                error_setg(errp, "IOThread \"%s\" is named twice", id);
                return false;
            }
        }
        if (!node->value->vqs != !list->value->vqs) {
            error_setg(errp, "give vqs for every IOThread or for none");
            return false;
        }
        for (vq = node->value->vqs; vq; vq = vq->next) {
            if (vq->value >= max_queues) {
                error_setg(errp, "queue %u of IOThread \"%s\" is not below "
                           "max-queues %u", vq->value, id, max_queues);
                return false;
            }
            if (iothreads[vq->value]) {
                error_setg(errp, "queue %u is given to two IOThreads",
                           vq->value);
                return false;
            }
            iothreads[vq->value] = iothread;
        }
    }
    for (i = 0, node = list; i < max_queues; i++) {
        if (!list->value->vqs) {
            iothreads[i] = iothread_by_id(node->value->iothread);
            node = node->next ? node->next : list;
        } else if (!iothreads[i]) {
            error_setg(errp, "queue %u has no IOThread", i);
            return false;
        }
    }
    return true;
}

static void xen_block_realize(XenDevice *xendev, Error **errp)
{
    ERRP_GUARD();
    XenBlockDevice *blockdev = XEN_BLOCK_DEVICE(xendev);
    XenBlockDeviceClass *blockdev_class = XEN_BLOCK_DEVICE_GET_CLASS(xendev);
    BlockConf *conf = &blockdev->conf;
    IOThread *iothreads[XEN_BLOCK_MAX_QUEUES];

    if (blockdev->max_ring_page_order > XEN_BLOCK_MAX_RING_PAGE_ORDER) {
        error_setg(errp, "max-ring-page-order %u is above the supported %u",
                   blockdev->max_ring_page_order,
                   XEN_BLOCK_MAX_RING_PAGE_ORDER);
        return;
    }
    /* As Linux blkback: a queue per host CPU, but no more than 4. */
    if (!blockdev->max_queues) {
        blockdev->max_queues = MIN(XEN_BLOCK_AUTO_QUEUES,
                                   MAX(1, sysconf(_SC_NPROCESSORS_ONLN)));
    }
    if (blockdev->max_queues > XEN_BLOCK_MAX_QUEUES) {
        error_setg(errp, "max-queues %u is above the supported %u",
                   blockdev->max_queues, XEN_BLOCK_MAX_QUEUES);
        return;
    }
    if (!xen_block_queue_iothreads(blockdev, iothreads, errp)) {
        return;
    }
    if (blockdev->max_indirect_segments > XEN_BLOCK_MAX_INDIRECT_SEGMENTS) {
        error_setg(errp, "max-indirect-segments %u is above the supported %u",
                   blockdev->max_indirect_segments,
                   (unsigned int)XEN_BLOCK_MAX_INDIRECT_SEGMENTS);
        return;
    }
    blockdev->device_type = blockdev_class->device_type;
    blockdev_class->realize(blockdev, errp);
    if (*errp) {
        return;
    }
    if (!blkconf_blocksizes(conf, errp) ||
        !blkconf_apply_backend_options(conf,
                                       blockdev->info & VDISK_READONLY,
                                       true, errp)) {
        return;
    }
    /* A segment of a request lies within one page. */
    if (conf->logical_block_size > XEN_PAGE_SIZE) {
        error_setg(errp, "logical_block_size %u is above the page size %lu",
                   conf->logical_block_size, XEN_PAGE_SIZE);
        return;
    }
    /* A ring of several pages is mapped as one. */
    if (!qemu_xen_gnttab_can_map_multi()) {
        blockdev->max_ring_page_order = 0;
    }
    blk_set_dev_ops(conf->blk, &xen_block_dev_ops, blockdev);

    blockdev->dataplane = xen_block_dataplane_create(xendev, conf->blk,
                                                     iothreads,
                                                     blockdev->max_queues);
    xen_block_publish(blockdev);
}

static void xen_block_unrealize(XenDevice *xendev)
{
    XenBlockDevice *blockdev = XEN_BLOCK_DEVICE(xendev);

    if (blockdev->dataplane) {
        xen_block_dataplane_stop(blockdev->dataplane);
        xen_block_dataplane_destroy(blockdev->dataplane);
        blockdev->dataplane = NULL;
    }
    if (blockdev->conf.blk) {
        blk_set_dev_ops(blockdev->conf.blk, NULL, NULL);
        /* A -drive goes with the device it was given to, as elsewhere. */
        blockdev_mark_auto_del(blockdev->conf.blk);
    }
}

static const Property xen_block_properties[] = {
    DEFINE_PROP("vdev", XenBlockDevice, vdev, xen_block_prop_vdev,
                XenBlockVdev),
    DEFINE_BLOCK_PROPERTIES(XenBlockDevice, conf),
    DEFINE_PROP_UINT32("max-ring-page-order", XenBlockDevice,
                       max_ring_page_order, XEN_BLOCK_MAX_RING_PAGE_ORDER),
    DEFINE_PROP_UINT32("max-indirect-segments", XenBlockDevice,
                       max_indirect_segments, 256),
    DEFINE_PROP_UINT32("max-queues", XenBlockDevice, max_queues, 0),
    DEFINE_PROP_BOOL("discard-secure", XenBlockDevice, discard_secure, false),
    DEFINE_PROP_BOOL("persistent-grants", XenBlockDevice, persistent_grants,
                     false),
    DEFINE_PROP_LINK("iothread", XenBlockDevice, iothread, TYPE_IOTHREAD,
                     IOThread *),
    DEFINE_PROP_IOTHREAD_VQ_MAPPING_LIST("iothread-vq-mapping", XenBlockDevice,
                                         iothread_vq_mapping),
};

/* -device xen-disk,help describes every property. */
static const struct {
    const char *name;
    const char *description;
} xen_block_property_help[] = {
    { "max-ring-page-order",
      "Largest ring the frontend may use, as log2 of its pages (0-4)" },
    { "iothread", "IOThread that serves the rings" },
    { "iothread-vq-mapping", "IOThreads that serve the rings, and which "
      "rings (vqs) each serves (QEMU 9.0 or later)" },
    { "max-queues", "Rings (queues) the frontend may use, 1 to 16 "
      "(0: one per host CPU, at most 4)" },
    { "vdev", "Virtual disk specifier: d<N>[p<M>], xvd<letters>[N], "
      "hd<letter>[N] or sd<letter>[N] (default: the first free xvd disk)" },
    { "max-indirect-segments",
      "Segments an indirect request may carry (0: no indirect requests)" },
    { "discard-secure",
      "Offer secure discard, done by writing zeroes" },
    { "persistent-grants",
      "Offer persistent grants: pages the frontend keeps granting stay "
      "mapped" },
    { "discard_granularity",
      "Granularity of discard requests in bytes (4294967295: sector size)" },
    { "min_io_size", "Minimum I/O size in bytes" },
    { "opt_io_size", "Optimal I/O size in bytes" },
    { "share-rw", "Allow other users to write to the drive" },
    { "write-cache", "Write cache of the drive: on, off or auto" },
    { "account-failed", "Account failed requests in the drive statistics" },
    { "account-invalid",
      "Account invalid requests in the drive statistics" },
    { "backend_defaults",
      "Take block size defaults from the backend: on, off or auto" },
};

static void xen_block_class_init(ObjectClass *class, void *data)
{
    DeviceClass *dev_class = DEVICE_CLASS(class);
    XenDeviceClass *xendev_class = XEN_DEVICE_CLASS(class);
    size_t i;

    xendev_class->backend = "qdisk";
    xendev_class->device = "vbd";
    xendev_class->get_name = xen_block_get_name;
    xendev_class->realize = xen_block_realize;
    xendev_class->frontend_changed = xen_block_frontend_changed;
    xendev_class->unrealize = xen_block_unrealize;

    dev_class->desc = "Xen block device";
    set_bit(DEVICE_CATEGORY_STORAGE, dev_class->categories);
    device_class_set_props(dev_class, xen_block_properties);
    for (i = 0; i < ARRAY_SIZE(xen_block_property_help); i++) {
        object_class_property_set_description(
            class, xen_block_property_help[i].name,
            xen_block_property_help[i].description);
    }
}

static const TypeInfo xen_block_type_info = {
    .name = TYPE_XEN_BLOCK_DEVICE,
    .parent = TYPE_XEN_DEVICE,
    .instance_size = sizeof(XenBlockDevice),
    .abstract = true,
    .class_size = sizeof(XenBlockDeviceClass),
    .class_init = xen_block_class_init,
};

static void xen_disk_realize(XenBlockDevice *blockdev, Error **errp)
{
    BlockConf *conf = &blockdev->conf;

    if (!conf->blk) {
        error_setg(errp, "drive property not set");
        return;
    }
    if (!blk_is_inserted(conf->blk)) {
        error_setg(errp, "device needs media, but drive is empty");
        return;
    }
    blockdev->info = blk_supports_write_perm(conf->blk) ? 0 : VDISK_READONLY;
}

static void xen_disk_class_init(ObjectClass *class, void *data)
{
    DeviceClass *dev_class = DEVICE_CLASS(class);
    XenBlockDeviceClass *blockdev_class = XEN_BLOCK_DEVICE_CLASS(class);

    blockdev_class->device_type = "disk";
    blockdev_class->realize = xen_disk_realize;
    dev_class->desc = "Xen disk device";
}

static const TypeInfo xen_disk_type_info = {
    .name = TYPE_XEN_DISK_DEVICE,
    .parent = TYPE_XEN_BLOCK_DEVICE,
    .class_init = xen_disk_class_init,
};

static void xen_cdrom_realize(XenBlockDevice *blockdev, Error **errp)
{
    BlockConf *conf = &blockdev->conf;

    if (!conf->blk) {
        error_setg(errp, "drive property not set");
        return;
    }
    blockdev->info = VDISK_CDROM | VDISK_REMOVABLE | VDISK_READONLY;
}

static void xen_cdrom_class_init(ObjectClass *class, void *data)
{
    DeviceClass *dev_class = DEVICE_CLASS(class);
    XenBlockDeviceClass *blockdev_class = XEN_BLOCK_DEVICE_CLASS(class);

    blockdev_class->device_type = "cdrom";
    blockdev_class->realize = xen_cdrom_realize;
    dev_class->desc = "Xen CD-ROM device";
}

static const TypeInfo xen_cdrom_type_info = {
    .name = TYPE_XEN_CDROM_DEVICE,
    .parent = TYPE_XEN_BLOCK_DEVICE,
    .class_init = xen_cdrom_class_init,
};

static void xen_block_register_types(void)
{
    type_register_static(&xen_block_type_info);
    type_register_static(&xen_disk_type_info);
    type_register_static(&xen_cdrom_type_info);
}

type_init(xen_block_register_types)
