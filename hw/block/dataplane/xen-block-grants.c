/*
 * Xen block dataplane: persistent grants
 *
 * A frontend that negotiated feature-persistent keeps granting the same
 * pages.  Each one is mapped on first use and kept, and data moves with
 * memcpy through the mapping instead of a grant copy per request.  The
 * cache of one queue is bounded.  When it is full, the least recently used
 * grant makes room only if it has gone unused for a while: a frontend
 * whose pages in flight outnumber the limit would otherwise have each one
 * mapped and unmapped in turn, slower than a grant copy, which the grants
 * the cache does not keep get instead.  Everything is unmapped when the
 * queue stops, so no mapping outlives the connection (XSA-371).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "xen-block-internal.h"
#include "hw/block/trace.h"

/* Unused for this many lookups per cached grant: a grant may go. */
#define XEN_BLOCK_GRANT_IDLE_ROUNDS 4

typedef struct XenBlockGrant {
    uint32_t ref;
    uint8_t *page;
    /* cache->lookups when last looked up. */
    uint64_t last_use;
    QTAILQ_ENTRY(XenBlockGrant) lru;
} XenBlockGrant;

struct XenBlockGrantCache {
    XenDevice *xendev;
    unsigned int max;
    uint64_t lookups;
    /* ref -> XenBlockGrant */
    GHashTable *grants;
    /* Least recently used first. */
    QTAILQ_HEAD(, XenBlockGrant) lru;
};

XenBlockGrantCache *xen_block_grant_cache_new(XenDevice *xendev,
                                              unsigned int max)
{
    XenBlockGrantCache *cache = g_new0(XenBlockGrantCache, 1);

    cache->xendev = xendev;
    cache->max = max;
    cache->grants = g_hash_table_new(g_direct_hash, g_direct_equal);
    QTAILQ_INIT(&cache->lru);
    return cache;
}

static void xen_block_grant_unmap(XenBlockGrantCache *cache,
                                  XenBlockGrant *grant)
{
    Error *local_err = NULL;

    trace_xen_block_grant_unmap(cache, grant->ref);
    xen_device_unmap_grant_refs(cache->xendev, grant->page, &grant->ref, 1,
                                &local_err);
    if (local_err) {
        warn_report_err(local_err);
    }
    QTAILQ_REMOVE(&cache->lru, grant, lru);
    g_hash_table_remove(cache->grants, GUINT_TO_POINTER(grant->ref));
    g_free(grant);
}

void xen_block_grant_cache_free(XenBlockGrantCache *cache)
{
    XenBlockGrant *grant;

    if (!cache) {
        return;
    }
    while ((grant = QTAILQ_FIRST(&cache->lru))) {
        xen_block_grant_unmap(cache, grant);
    }
    g_hash_table_destroy(cache->grants);
    g_free(cache);
}

uint8_t *xen_block_grant_cache_get(XenBlockGrantCache *cache, uint32_t ref)
{
    XenBlockGrant *grant = g_hash_table_lookup(cache->grants,
                                               GUINT_TO_POINTER(ref));
    uint8_t *page;

    cache->lookups++;
    if (grant) {
        grant->last_use = cache->lookups;
        QTAILQ_REMOVE(&cache->lru, grant, lru);
        QTAILQ_INSERT_TAIL(&cache->lru, grant, lru);
        return grant->page;
    }
    if (g_hash_table_size(cache->grants) >= cache->max) {
        grant = QTAILQ_FIRST(&cache->lru);
        if (cache->lookups - grant->last_use <
            (uint64_t)XEN_BLOCK_GRANT_IDLE_ROUNDS * cache->max) {
            return NULL;
        }
        xen_block_grant_unmap(cache, grant);
    }
    /* Read-only or bad grants are left to grant copy, which decides. */
    page = xen_device_map_grant_refs(cache->xendev, &ref, 1,
                                     PROT_READ | PROT_WRITE, NULL);
    if (!page) {
        return NULL;
    }
    trace_xen_block_grant_map(cache, ref);
    grant = g_new(XenBlockGrant, 1);
    grant->ref = ref;
    grant->page = page;
    grant->last_use = cache->lookups;
    QTAILQ_INSERT_TAIL(&cache->lru, grant, lru);
    g_hash_table_insert(cache->grants, GUINT_TO_POINTER(ref), grant);
    return page;
}
