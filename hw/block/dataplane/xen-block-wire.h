/*
 * Xen block dataplane: the blkif wire layouts of both x86 ABIs
 *
 * blkif.h describes requests and responses with the compiler's own layout,
 * which is the native ABI's only.  These layouts spell out each ABI, so a
 * ring of either is read with one copy and answered byte for byte.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_DATAPLANE_XEN_BLOCK_WIRE_H
#define HW_BLOCK_DATAPLANE_XEN_BLOCK_WIRE_H

#include "hw/xen/interface/io/blkif.h"

/* One segment descriptor, in requests and in indirect pages. */
typedef struct XenBlkSeg {
    uint32_t gref;
    uint8_t first_sect;
    uint8_t last_sect;
    uint16_t pad;
} XenBlkSeg;

/*
 * The request layouts of the two x86 ABIs.  x86_32 aligns 64-bit fields to
 * 4 bytes; x86_64 aligns them to 8, which puts 4 bytes of padding after the
 * first word and leaves every later field 4 bytes further.
 */
typedef struct QEMU_PACKED XenBlkRwReq32 {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    XenBlkSeg seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} XenBlkRwReq32;

typedef struct QEMU_PACKED XenBlkDiscardReq32 {
    uint8_t operation;
    uint8_t flag;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
} XenBlkDiscardReq32;

typedef struct QEMU_PACKED XenBlkIndirectReq32 {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint16_t pad;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint64_t pad2;
} XenBlkIndirectReq32;

typedef struct QEMU_PACKED XenBlkRwReq64 {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    XenBlkSeg seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} XenBlkRwReq64;

typedef struct QEMU_PACKED XenBlkDiscardReq64 {
    uint8_t operation;
    uint8_t flag;
    uint16_t handle;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
} XenBlkDiscardReq64;

typedef struct QEMU_PACKED XenBlkIndirectReq64 {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint16_t pad2;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint32_t pad3;
} XenBlkIndirectReq64;

/* Responses: the same fields at the same offsets in both ABIs. */
typedef struct QEMU_PACKED XenBlkRsp32 {
    uint64_t id;
    uint8_t operation;
    uint8_t pad;
    int16_t status;
} XenBlkRsp32;

typedef struct QEMU_PACKED XenBlkRsp64 {
    uint64_t id;
    uint8_t operation;
    uint8_t pad;
    int16_t status;
    uint32_t pad2;
} XenBlkRsp64;

QEMU_BUILD_BUG_ON(sizeof(XenBlkSeg) != 8);
QEMU_BUILD_BUG_ON(sizeof(XenBlkRwReq32) != 108);
QEMU_BUILD_BUG_ON(sizeof(XenBlkDiscardReq32) != 28);
QEMU_BUILD_BUG_ON(sizeof(XenBlkIndirectReq32) != 64);
QEMU_BUILD_BUG_ON(sizeof(XenBlkRsp32) != 12);
QEMU_BUILD_BUG_ON(sizeof(XenBlkRwReq64) != 112);
QEMU_BUILD_BUG_ON(sizeof(XenBlkDiscardReq64) != 32);
QEMU_BUILD_BUG_ON(sizeof(XenBlkIndirectReq64) != 64);
QEMU_BUILD_BUG_ON(sizeof(XenBlkRsp64) != 16);

/* Every x86_64 field after the first word sits 4 bytes after x86_32's. */
#define XEN_BLK_SHIFTED(type, field) \
    QEMU_BUILD_BUG_ON(offsetof(type##64, field) != \
                      offsetof(type##32, field) + 4)
XEN_BLK_SHIFTED(XenBlkRwReq, id);
XEN_BLK_SHIFTED(XenBlkRwReq, sector_number);
XEN_BLK_SHIFTED(XenBlkRwReq, seg);
XEN_BLK_SHIFTED(XenBlkDiscardReq, id);
XEN_BLK_SHIFTED(XenBlkDiscardReq, sector_number);
XEN_BLK_SHIFTED(XenBlkDiscardReq, nr_sectors);
XEN_BLK_SHIFTED(XenBlkIndirectReq, id);
XEN_BLK_SHIFTED(XenBlkIndirectReq, sector_number);
XEN_BLK_SHIFTED(XenBlkIndirectReq, handle);
XEN_BLK_SHIFTED(XenBlkIndirectReq, indirect_grefs);
QEMU_BUILD_BUG_ON(offsetof(XenBlkRsp64, status) !=
                  offsetof(XenBlkRsp32, status));

/* A request in the x86_32 layout: the private copy of a ring entry. */
typedef union XenBlkReqCopy {
    XenBlkRwReq32 rw;
    XenBlkDiscardReq32 discard;
    XenBlkIndirectReq32 indirect;
} XenBlkReqCopy;

QEMU_BUILD_BUG_ON(offsetof(XenBlkRwReq32, id) !=
                  offsetof(XenBlkDiscardReq32, id));
QEMU_BUILD_BUG_ON(offsetof(XenBlkRwReq32, id) !=
                  offsetof(XenBlkIndirectReq32, id));

/* The native ABI is the host's: x86_32's on i386, x86_64's elsewhere. */
#define XEN_BLK_NATIVE_IS_64 \
    (sizeof(struct blkif_request) == sizeof(XenBlkRwReq64))
#define XEN_BLK_NATIVE_OFFSET(type, field) \
    (XEN_BLK_NATIVE_IS_64 ? offsetof(type##64, field) : \
                            offsetof(type##32, field))
QEMU_BUILD_BUG_ON(sizeof(struct blkif_request) != sizeof(XenBlkRwReq64) &&
                  sizeof(struct blkif_request) != sizeof(XenBlkRwReq32));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_request, id) !=
                  XEN_BLK_NATIVE_OFFSET(XenBlkRwReq, id));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_request, seg) !=
                  XEN_BLK_NATIVE_OFFSET(XenBlkRwReq, seg));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_request_discard, nr_sectors) !=
                  XEN_BLK_NATIVE_OFFSET(XenBlkDiscardReq, nr_sectors));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_request_indirect, indirect_grefs) !=
                  XEN_BLK_NATIVE_OFFSET(XenBlkIndirectReq, indirect_grefs));
QEMU_BUILD_BUG_ON(offsetof(struct blkif_response, status) !=
                  offsetof(XenBlkRsp32, status));

#endif /* HW_BLOCK_DATAPLANE_XEN_BLOCK_WIRE_H */
