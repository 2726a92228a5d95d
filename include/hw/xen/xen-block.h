/*
 * Xen PV block devices: xen-block, xen-disk, xen-cdrom
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_BLOCK_H
#define HW_XEN_BLOCK_H

#include "hw/xen/xen-bus.h"
#include "hw/block/block.h"
#include "system/iothread.h"
#include "hw/xen/xen-compat.h"
#include "qom/object.h"

/* Which form of the Xen VBD naming scheme a vdev was written in. */
typedef enum XenBlockVdevType {
    XEN_BLOCK_VDEV_TYPE_INVALID,
    XEN_BLOCK_VDEV_TYPE_DP,     /* d<disk>p<partition>, d<disk> */
    XEN_BLOCK_VDEV_TYPE_XVD,    /* xvd<letters><partition> */
    XEN_BLOCK_VDEV_TYPE_HD,     /* hd<letter><partition> */
    XEN_BLOCK_VDEV_TYPE_SD,     /* sd<letter><partition> */
} XenBlockVdevType;

typedef struct XenBlockVdev {
    XenBlockVdevType type;
    unsigned long disk;
    unsigned long partition;
    /* The VBD number: the device's name in xenstore. */
    unsigned long number;
} XenBlockVdev;

/*
 * Parse @str per xen-vbd-interface(7) into @vdev, computing its number.
 * Errors name the part of @str that is wrong.
 */
bool xen_block_vdev_parse(const char *str, XenBlockVdev *vdev, Error **errp);
/* The canonical spelling of @vdev in its own form, to g_free. */
char *xen_block_vdev_to_string(const XenBlockVdev *vdev);

extern const PropertyInfo xen_block_prop_vdev;

typedef struct XenBlockDataPlane XenBlockDataPlane;

#define TYPE_XEN_BLOCK_DEVICE "xen-block"
OBJECT_DECLARE_TYPE(XenBlockDevice, XenBlockDeviceClass, XEN_BLOCK_DEVICE)

struct XenBlockDevice {
    XenDevice parent_obj;

    /* Properties. */
    XenBlockVdev vdev;
    BlockConf conf;
    uint32_t max_ring_page_order;
    uint32_t max_indirect_segments;
    uint32_t max_queues;
    bool discard_secure;
    bool persistent_grants;
    IOThread *iothread;
    IOThreadVirtQueueMappingList *iothread_vq_mapping;

    const char *device_type;
    unsigned int info;
    XenBlockDataPlane *dataplane;
};

struct XenBlockDeviceClass {
    XenDeviceClass parent_class;

    /* The frontend's device-type: "disk" or "cdrom". */
    const char *device_type;
    /* Checks the drive and fills the VDISK_* info bits. */
    void (*realize)(XenBlockDevice *blockdev, Error **errp);
};

#define TYPE_XEN_DISK_DEVICE "xen-disk"
#define TYPE_XEN_CDROM_DEVICE "xen-cdrom"

#endif /* HW_XEN_BLOCK_H */
