/*
 * The Xen VBD naming scheme (xen-vbd-interface(7)) for xen-block's vdev
 *
 * Forms: d<disk>p<partition> and d<disk>; xvd, hd and sd followed by disk
 * letters (bijective base 26: a is 0, z 25, aa 26) and an optional
 * partition number.  Partition 0 is the whole disk.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/qdev-properties.h"
#include "hw/xen/xen-block.h"
#include "hw/xen/xen-compat.h"

/* Major numbers and limits of the encodings. */
#define XVD_MAJOR 202
#define XVD_EXT_FLAG (1UL << 28)
#define XVD_EXT_MAX_DISK ((1UL << 20) - 1)
#define XVD_EXT_MAX_PARTITION 255
#define IDE0_MAJOR 3
#define IDE1_MAJOR 22
#define SCSI_DISK0_MAJOR 8

/* Bound on any number we read: above every limit, far from overflow. */
#define VDEV_NUMBER_CEILING (1UL << 30)

typedef struct VdevForm {
    const char *prefix;
    XenBlockVdevType type;
    bool letters;
    unsigned long max_disk;
    unsigned long max_partition;
} VdevForm;

/* No prefix begins another, so the order does not matter. */
static const VdevForm vdev_forms[] = {
    { "xvd", XEN_BLOCK_VDEV_TYPE_XVD, true, XVD_EXT_MAX_DISK,
      XVD_EXT_MAX_PARTITION },
    { "hd", XEN_BLOCK_VDEV_TYPE_HD, true, 3, 63 },
    { "sd", XEN_BLOCK_VDEV_TYPE_SD, true, 15, 15 },
    { "d", XEN_BLOCK_VDEV_TYPE_DP, false, XVD_EXT_MAX_DISK,
      XVD_EXT_MAX_PARTITION },
};

/* Decimal digits without a leading zero (a lone "0" is fine). */
static const char *parse_decimal(const char *p, unsigned long *value)
{
    unsigned long v = 0;

    if (!g_ascii_isdigit(*p) || (p[0] == '0' && g_ascii_isdigit(p[1]))) {
        return NULL;
    }
    while (g_ascii_isdigit(*p)) {
        v = v * 10 + (*p++ - '0');
        if (v >= VDEV_NUMBER_CEILING) {
            return NULL;
        }
    }
    *value = v;
    return p;
}

static const char *parse_letters(const char *p, unsigned long *disk)
{
    unsigned long v = 0;

    if (!(*p >= 'a' && *p <= 'z')) {
        return NULL;
    }
    while (*p >= 'a' && *p <= 'z') {
        v = v * 26 + (*p++ - 'a' + 1);
        if (v >= VDEV_NUMBER_CEILING) {
            return NULL;
        }
    }
    *disk = v - 1;
    return p;
}

static bool vdev_encode(XenBlockVdev *vdev, const VdevForm *form,
                        const char *str, Error **errp)
{
    unsigned long disk = vdev->disk, partition = vdev->partition;

    if (disk > form->max_disk) {
        error_setg(errp, "vdev '%s': disk %lu is beyond the last %s disk "
                   "(%lu)", str, disk, form->prefix, form->max_disk);
        return false;
    }
    if (partition > form->max_partition) {
        error_setg(errp, "vdev '%s': partition %lu is beyond the last %s "
                   "partition (%lu)", str, partition, form->prefix,
                   form->max_partition);
        return false;
    }

    switch (vdev->type) {
    case XEN_BLOCK_VDEV_TYPE_DP:
    case XEN_BLOCK_VDEV_TYPE_XVD:
        if (disk <= 15 && partition <= 15) {
            vdev->number = (XVD_MAJOR << 8) | (disk << 4) | partition;
        } else {
            vdev->number = XVD_EXT_FLAG | (disk << 8) | partition;
        }
        break;
    case XEN_BLOCK_VDEV_TYPE_HD:
        vdev->number = ((disk < 2 ? IDE0_MAJOR : IDE1_MAJOR) << 8) |
                       ((disk & 1) << 6) | partition;
        break;
    case XEN_BLOCK_VDEV_TYPE_SD:
        vdev->number = (SCSI_DISK0_MAJOR << 8) | (disk << 4) | partition;
        break;
    default:
        g_assert_not_reached();
    }
    return true;
}

bool xen_block_vdev_parse(const char *str, XenBlockVdev *vdev, Error **errp)
{
    const VdevForm *form = NULL;
    const char *p;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(vdev_forms); i++) {
        if (g_str_has_prefix(str, vdev_forms[i].prefix)) {
            form = &vdev_forms[i];
            break;
        }
    }
    if (!form) {
        error_setg(errp, "vdev '%s': expected one of xvd<letters>[N], "
                   "hd<letter>[N], sd<letter>[N], d<N>[p<M>]", str);
        return false;
    }
    p = str + strlen(form->prefix);
    vdev->type = form->type;
    vdev->partition = 0;

    if (form->letters) {
        p = parse_letters(p, &vdev->disk);
        if (!p) {
            error_setg(errp, "vdev '%s': expected disk letters a-z after "
                       "'%s'", str, form->prefix);
            return false;
        }
        if (*p) {
            const char *q = parse_decimal(p, &vdev->partition);

            if (!q || *q) {
                error_setg(errp, "vdev '%s': bad partition number '%s'",
                           str, p);
                return false;
            }
        }
    } else {
        p = parse_decimal(p, &vdev->disk);
        if (!p) {
            error_setg(errp, "vdev '%s': expected a disk number after 'd'",
                       str);
            return false;
        }
        if (*p == 'p') {
            const char *q = parse_decimal(p + 1, &vdev->partition);

            if (!q || *q) {
                error_setg(errp, "vdev '%s': bad partition number '%s'",
                           str, p + 1);
                return false;
            }
        } else if (*p) {
            error_setg(errp, "vdev '%s': unexpected '%s' after the disk "
                       "number", str, p);
            return false;
        }
    }

    if (!vdev_encode(vdev, form, str, errp)) {
        vdev->type = XEN_BLOCK_VDEV_TYPE_INVALID;
        return false;
    }
    return true;
}

char *xen_block_vdev_to_string(const XenBlockVdev *vdev)
{
    const char *prefix;
    GString *str;
    char letters[8];
    unsigned long n;
    int i;

    switch (vdev->type) {
    case XEN_BLOCK_VDEV_TYPE_DP:
        return vdev->partition ?
            g_strdup_printf("d%lup%lu", vdev->disk, vdev->partition) :
            g_strdup_printf("d%lu", vdev->disk);
    case XEN_BLOCK_VDEV_TYPE_XVD:
        prefix = "xvd";
        break;
    case XEN_BLOCK_VDEV_TYPE_HD:
        prefix = "hd";
        break;
    case XEN_BLOCK_VDEV_TYPE_SD:
        prefix = "sd";
        break;
    default:
        return g_strdup("");
    }

    /* Letters from the last: bijective base 26. */
    i = sizeof(letters);
    n = vdev->disk + 1;
    while (n && i > 0) {
        letters[--i] = 'a' + (n - 1) % 26;
        n = (n - 1) / 26;
    }
    str = g_string_new(prefix);
    g_string_append_len(str, letters + i, sizeof(letters) - i);
    if (vdev->partition) {
        g_string_append_printf(str, "%lu", vdev->partition);
    }
    return g_string_free(str, false);
}

static void xen_block_get_vdev(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    Property *prop = opaque;
    XenBlockVdev *vdev = object_field_prop_ptr(obj, prop);
    g_autofree char *str = xen_block_vdev_to_string(vdev);

    visit_type_str(v, name, &str, errp);
}

static void xen_block_set_vdev(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    Property *prop = opaque;
    XenBlockVdev *vdev = object_field_prop_ptr(obj, prop);
    g_autofree char *str = NULL;
    XenBlockVdev parsed;

    if (!visit_type_str(v, name, &str, errp)) {
        return;
    }
    if (xen_block_vdev_parse(str, &parsed, errp)) {
        *vdev = parsed;
    }
}

const PropertyInfo xen_block_prop_vdev = {
    XEN_PROPERTY_INFO_TYPE("str"),
    .description = "Virtual disk specifier: d<N>[p<M>], xvd<letters>[N], "
                   "hd<letter>[N] or sd<letter>[N]",
    .get = xen_block_get_vdev,
    .set = xen_block_set_vdev,
};
