/*
 * xenemu: libxendevicemodel
 *
 * A PV device model opens the interface and may request a shutdown; the
 * ioreq-server and interrupt calls are HVM-only and fail with ENOSYS.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdlib.h>

#include <xendevicemodel.h>

#include "domain.h"
#include "state.h"

struct xendevicemodel_handle {
    int unused;
};

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
                                           unsigned int open_flags)
{
    if (!xenemu_state()) {
        return NULL;
    }
    return calloc(1, sizeof(xendevicemodel_handle));
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
    free(dmod);
    return 0;
}

int xendevicemodel_shutdown(xendevicemodel_handle *dmod, domid_t domid,
                            unsigned int reason)
{
    int ret = xenemu_domain_shutdown(domid, reason);

    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return 0;
}

#define UNSUPPORTED do { errno = ENOSYS; return -1; } while (0)

int xendevicemodel_create_ioreq_server(xendevicemodel_handle *dmod,
                                       domid_t domid, int handle_bufioreq,
                                       ioservid_t *id)
{
    UNSUPPORTED;
}

int xendevicemodel_get_ioreq_server_info(xendevicemodel_handle *dmod,
                                         domid_t domid, ioservid_t id,
                                         xen_pfn_t *ioreq_gfn,
                                         xen_pfn_t *bufioreq_gfn,
                                         evtchn_port_t *bufioreq_port)
{
    UNSUPPORTED;
}

int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *dmod,
                                                domid_t domid, ioservid_t id,
                                                int is_mmio, uint64_t start,
                                                uint64_t end)
{
    UNSUPPORTED;
}

int xendevicemodel_unmap_io_range_from_ioreq_server(
    xendevicemodel_handle *dmod, domid_t domid, ioservid_t id, int is_mmio,
    uint64_t start, uint64_t end)
{
    UNSUPPORTED;
}

int xendevicemodel_map_pcidev_to_ioreq_server(xendevicemodel_handle *dmod,
                                              domid_t domid, ioservid_t id,
                                              uint16_t segment, uint8_t bus,
                                              uint8_t device,
                                              uint8_t function)
{
    UNSUPPORTED;
}

int xendevicemodel_unmap_pcidev_from_ioreq_server(
    xendevicemodel_handle *dmod, domid_t domid, ioservid_t id,
    uint16_t segment, uint8_t bus, uint8_t device, uint8_t function)
{
    UNSUPPORTED;
}

int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *dmod,
                                        domid_t domid, ioservid_t id)
{
    UNSUPPORTED;
}

int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *dmod,
                                          domid_t domid, ioservid_t id,
                                          int enabled)
{
    UNSUPPORTED;
}

int xendevicemodel_set_pci_intx_level(xendevicemodel_handle *dmod,
                                      domid_t domid, uint16_t segment,
                                      uint8_t bus, uint8_t device,
                                      uint8_t intx, unsigned int level)
{
    UNSUPPORTED;
}

int xendevicemodel_set_isa_irq_level(xendevicemodel_handle *dmod,
                                     domid_t domid, uint8_t irq,
                                     unsigned int level)
{
    UNSUPPORTED;
}

int xendevicemodel_set_irq_level(xendevicemodel_handle *dmod, domid_t domid,
                                 unsigned int irq, unsigned int level)
{
    UNSUPPORTED;
}

int xendevicemodel_set_pci_link_route(xendevicemodel_handle *dmod,
                                      domid_t domid, uint8_t link,
                                      uint8_t irq)
{
    UNSUPPORTED;
}

int xendevicemodel_inject_msi(xendevicemodel_handle *dmod, domid_t domid,
                              uint64_t msi_addr, uint32_t msi_data)
{
    UNSUPPORTED;
}

int xendevicemodel_track_dirty_vram(xendevicemodel_handle *dmod,
                                    domid_t domid, uint64_t first_pfn,
                                    uint32_t nr, unsigned long *dirty_bitmap)
{
    UNSUPPORTED;
}

int xendevicemodel_modified_memory(xendevicemodel_handle *dmod,
                                   domid_t domid, uint64_t first_pfn,
                                   uint32_t nr)
{
    UNSUPPORTED;
}

int xendevicemodel_set_mem_type(xendevicemodel_handle *dmod, domid_t domid,
                                hvmmem_type_t mem_type, uint64_t first_pfn,
                                uint32_t nr)
{
    UNSUPPORTED;
}

int xendevicemodel_relocate_memory(xendevicemodel_handle *dmod,
                                   domid_t domid, uint32_t size,
                                   uint64_t src_gfn, uint64_t dst_gfn)
{
    UNSUPPORTED;
}

int xendevicemodel_pin_memory_cacheattr(xendevicemodel_handle *dmod,
                                        domid_t domid, uint64_t start,
                                        uint64_t end, uint32_t type)
{
    UNSUPPORTED;
}

int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
    UNSUPPORTED;
}
