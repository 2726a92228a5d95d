/*
 * xenemu tests: grant tables (libxengnttab against a guest's v1 entries),
 * foreign memory and domain info.
 *
 * Run under `xenemu-run --guest 1`.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>

#include "tap.h"
#include "xenemu-guest.h"

#define GUEST 1
#define BUSY (GTF_reading | GTF_writing)

static XenemuGuest *g;
static xengnttab_handle *xgt;

/* A fresh guest page filled with @byte, granted to @peer. */
static int grant_page(uint8_t byte, uint16_t peer, bool ro, uint8_t **page,
                      uint64_t *gfn)
{
    uint64_t frame;
    uint8_t *p = xenemu_guest_alloc_pages(g, 1, &frame);

    if (!p) {
        return -1;
    }
    memset(p, byte, XENEMU_PAGE_SIZE);
    if (page) {
        *page = p;
    }
    if (gfn) {
        *gfn = frame;
    }
    return xenemu_guest_grant_access(g, peer, frame, ro);
}

/* Does writing to @addr kill a child with SIGSEGV? */
static bool write_faults(volatile uint8_t *addr)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        *addr = 1;
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

static void test_map(void)
{
    uint8_t *page, *map;
    int gref, ro;

    gref = grant_page(0x5a, 0, false, &page, NULL);
    map = xengnttab_map_grant_ref(xgt, GUEST, gref, PROT_READ | PROT_WRITE);
    tap_ok(map && map[0] == 0x5a && map[4095] == 0x5a,
           "map a writable grant: dom0 sees the guest's page");
    if (!map) {
        return;
    }
    map[17] = 0xa5;
    tap_ok(page[17] == 0xa5, "dom0 writes are visible to the guest");
    tap_ok((xenemu_guest_grant_flags(g, gref) & BUSY) == BUSY,
           "GTF_reading|GTF_writing set while mapped writable");
    tap_ok(xenemu_guest_end_access(g, gref) == -EBUSY,
           "end_access while mapped: -EBUSY");
    tap_ok(xengnttab_unmap(xgt, map, 2) == -1 && errno == EINVAL,
           "unmap with the wrong count: EINVAL");
    tap_ok(xengnttab_unmap(xgt, map + 4096, 1) == -1 && errno == EINVAL,
           "unmap with the wrong start: EINVAL");
    tap_ok(xengnttab_unmap(xgt, map, 1) == 0 &&
           !(xenemu_guest_grant_flags(g, gref) & BUSY),
           "unmap clears GTF_reading|GTF_writing");
    tap_ok(xenemu_guest_end_access(g, gref) == 0 &&
           xenemu_guest_grant_flags(g, gref) == 0,
           "end_access succeeds once unmapped");
    tap_ok(xengnttab_map_grant_ref(xgt, GUEST, gref, PROT_READ) == NULL &&
           errno == EINVAL, "a revoked grant no longer maps");

    ro = grant_page(0x11, 0, true, NULL, NULL);
    tap_ok(xengnttab_map_grant_ref(xgt, GUEST, ro, PROT_READ | PROT_WRITE) ==
           NULL && errno == EINVAL, "read-only grant refuses a writable map");
    map = xengnttab_map_grant_ref(xgt, GUEST, ro, PROT_READ);
    tap_ok(map && map[9] == 0x11 &&
           (xenemu_guest_grant_flags(g, ro) & BUSY) == GTF_reading,
           "read-only grant maps PROT_READ with GTF_reading only");
    if (map) {
        tap_ok(write_faults(map), "writing the read-only mapping faults");
        xengnttab_unmap(xgt, map, 1);
    } else {
        tap_ok(false, "writing the read-only mapping faults");
    }
    xenemu_guest_end_access(g, ro);
}

static void test_multi(void)
{
    uint32_t refs[4];
    uint8_t *map;
    bool ok = true;

    for (int i = 0; i < 4; i++) {
        refs[i] = grant_page(0x20 + i, 0, false, NULL, NULL);
    }
    map = xengnttab_map_domain_grant_refs(xgt, 4, GUEST, refs,
                                          PROT_READ | PROT_WRITE);
    for (int i = 0; map && i < 4; i++) {
        ok &= map[i * 4096] == 0x20 + i && map[i * 4096 + 4095] == 0x20 + i;
    }
    tap_ok(map && ok, "4 refs map as one contiguous range, in order");
    if (map) {
        xengnttab_unmap(xgt, map, 4);
    }

    /* The last ref is bad: nothing may stay mapped or pinned. */
    xenemu_guest_end_access(g, refs[3]);
    map = xengnttab_map_domain_grant_refs(xgt, 4, GUEST, refs,
                                          PROT_READ | PROT_WRITE);
    ok = true;
    for (int i = 0; i < 3; i++) {
        ok &= !(xenemu_guest_grant_flags(g, refs[i]) & BUSY);
    }
    tap_ok(!map && errno == EINVAL && ok,
           "one bad ref fails the whole map (EINVAL), no ref left pinned");
    for (int i = 0; i < 3; i++) {
        xenemu_guest_end_access(g, refs[i]);
    }

    refs[0] = grant_page(0x33, 5, false, NULL, NULL);
    tap_ok(!xengnttab_map_grant_ref(xgt, GUEST, refs[0], PROT_READ) &&
           errno == EINVAL, "grant to another domain refuses dom0: EINVAL");
    xenemu_guest_end_access(g, refs[0]);
    tap_ok(!xengnttab_map_grant_ref(xgt, GUEST, 100000, PROT_READ) &&
           errno == EINVAL, "out-of-range ref: EINVAL");
    tap_ok(!xengnttab_map_grant_ref(xgt, 99, 8, PROT_READ) && errno == EINVAL,
           "missing domain: EINVAL");
}

/* What hostile frontends forge with xenemu_guest_grant_raw. */
static void test_forged(void)
{
    xengnttab_grant_copy_segment_t seg = { 0 };
    uint8_t buf[16];
    uint64_t gfn;
    uint8_t *page = xenemu_guest_alloc_pages(g, 1, &gfn);
    uint8_t *map;

    tap_ok(xenemu_guest_grant_raw(g, 300, GTF_permit_access, 0,
                                  1u << 30) == 0 &&
           !xengnttab_map_grant_ref(xgt, GUEST, 300, PROT_READ) &&
           errno == EINVAL, "forged grant of a frame outside RAM: EINVAL");
    seg.flags = GNTCOPY_source_gref;
    seg.source.foreign.ref = 300;
    seg.source.foreign.domid = GUEST;
    seg.dest.virt = buf;
    seg.len = sizeof(buf);
    tap_ok(xengnttab_grant_copy(xgt, 1, &seg) == 0 &&
           seg.status == GNTST_general_error &&
           !(xenemu_guest_grant_flags(g, 300) & BUSY),
           "copy through it: GNTST_general_error, entry left as it was");

    page[0] = 0xee;
    xenemu_guest_grant_raw(g, 301, GTF_permit_access | GTF_readonly, 0, gfn);
    map = xengnttab_map_grant_ref(xgt, GUEST, 301, PROT_READ);
    /* The guest rewrites the entry while mapped: the pin stays as it was. */
    xenemu_guest_grant_raw(g, 301, GTF_permit_access, 5, gfn + 1);
    tap_ok(map && map[0] == 0xee &&
           xenemu_guest_grant_flags(g, 301) == GTF_permit_access,
           "a forged rewrite drops GTF_reading but the mapping keeps the "
           "frame it pinned");
    if (map) {
        xengnttab_unmap(xgt, map, 1);
    }
    xenemu_guest_end_access(g, 300);
    xenemu_guest_end_access(g, 301);
}

static void test_xenstore_gref(void)
{
    char *ring_ref = xenemu_xs_read(g, 0, "store/ring-ref", NULL);
    uint8_t *map, *page;

    page = ring_ref ? xenemu_guest_gfn_to_ptr(g, atoll(ring_ref)) : NULL;
    map = xengnttab_map_grant_ref(xgt, GUEST, GNTTAB_RESERVED_XENSTORE,
                                  PROT_READ | PROT_WRITE);
    tap_ok(map && page && !memcmp(map, page, 4096) &&
           (page[4000] ^= 0xff, map[4000] == page[4000]),
           "gref 1 (GNTTAB_RESERVED_XENSTORE) maps the xenstore page");
    if (page) {
        page[4000] ^= 0xff;
    }
    if (map) {
        xengnttab_unmap(xgt, map, 1);
    }
    free(ring_ref);
}

static void test_copy(void)
{
    xengnttab_grant_copy_segment_t seg[6];
    uint8_t *rw_page, *ro_page, buf[64], out[64];
    int rw, ro, gone;

    rw = grant_page(0x44, 0, false, &rw_page, NULL);
    ro = grant_page(0x55, 0, true, &ro_page, NULL);
    gone = grant_page(0x66, 0, false, NULL, NULL);
    xenemu_guest_end_access(g, gone);
    memset(buf, 0x77, sizeof(buf));
    memset(out, 0, sizeof(out));
    memset(seg, 0, sizeof(seg));

    tap_ok(xengnttab_grant_copy(xgt, 0, NULL) == 0,
           "grant copy of 0 segments returns 0");

    /* 0: guest -> local, 1: local -> guest, 2: local -> read-only grant,
     * 3: revoked ref, 4: ref out of range, 5: missing domain. */
    seg[0].flags = GNTCOPY_source_gref;
    seg[0].source.foreign = (typeof(seg[0].source.foreign))
        { .ref = rw, .offset = 100, .domid = GUEST };
    seg[0].dest.virt = out;
    seg[0].len = 64;
    seg[1].flags = GNTCOPY_dest_gref;
    seg[1].source.virt = buf;
    seg[1].dest.foreign = (typeof(seg[1].dest.foreign))
        { .ref = rw, .offset = 4032, .domid = GUEST };
    seg[1].len = 64;
    seg[2] = seg[1];
    seg[2].dest.foreign.ref = ro;
    seg[3] = seg[0];
    seg[3].source.foreign.ref = gone;
    seg[4] = seg[0];
    seg[4].source.foreign.ref = 1u << 30;
    seg[5] = seg[0];
    seg[5].source.foreign.domid = 99;
    for (int i = 0; i < 6; i++) {
        seg[i].status = 12345;
    }
    tap_ok(xengnttab_grant_copy(xgt, 6, seg) == 0,
           "a batch with failing segments still returns 0");
    tap_ok(seg[0].status == GNTST_okay && out[0] == 0x44 && out[63] == 0x44,
           "guest -> local copy: GNTST_okay, data copied");
    tap_ok(seg[1].status == GNTST_okay && rw_page[4032] == 0x77 &&
           rw_page[4095] == 0x77 && rw_page[4031] == 0x44,
           "local -> guest copy: GNTST_okay, exactly the range written");
    tap_ok(seg[2].status == GNTST_general_error && ro_page[4032] == 0x55,
           "copy into a read-only grant: GNTST_general_error, untouched");
    tap_ok(seg[3].status == GNTST_general_error,
           "copy from a revoked grant: GNTST_general_error");
    tap_ok(seg[4].status == GNTST_bad_gntref,
           "copy from an out-of-range ref: GNTST_bad_gntref");
    tap_ok(seg[5].status == GNTST_bad_domain,
           "copy from a missing domain: GNTST_bad_domain");
    tap_ok(!(xenemu_guest_grant_flags(g, rw) & BUSY),
           "no grant left busy after the copy");

    seg[0].source.foreign.offset = 4090;
    seg[0].len = 7;
    seg[1].dest.foreign.offset = 0;
    memset(rw_page, 0, 16);
    tap_ok(xengnttab_grant_copy(xgt, 2, seg) == -1 && errno == EINVAL &&
           rw_page[0] == 0, "a gref side crossing its page: EINVAL, nothing "
           "copied");
    xenemu_guest_end_access(g, rw);
    xenemu_guest_end_access(g, ro);
}

/* Allocate every free page of @h in as few runs as possible; count them. */
static unsigned int alloc_all(XenemuGuest *h, bool *got_gfn, uint64_t gfn)
{
    unsigned int total = 0;
    uint64_t start;

    for (unsigned int run = 1u << 16; run; run /= 2) {
        while (xenemu_guest_alloc_pages(h, run, &start)) {
            *got_gfn |= gfn >= start && gfn < start + run;
            total += run;
        }
    }
    return total;
}

/*
 * A guest process killed with every page and grant ref of the domain taken,
 * one grant mapped by dom0: the next open takes everything back except that
 * grant and its page, which follow once dom0 unmaps them.
 */
static void test_killed_process(void)
{
    int fds[2], status;
    struct { uint64_t gfn; int gref; } held = { 0, -1 };
    bool got_gfn = false;
    XenemuGuest *h;
    uint8_t *map = NULL;
    uint64_t gfn;
    pid_t pid;

    if (pipe(fds) < 0) {
        tap_ok(false, "killed process: pipe");
        return;
    }
    pid = fork();
    if (pid == 0) {
        XenemuGuest *child = xenemu_guest_open(GUEST);
        uint8_t *page = child ? xenemu_guest_alloc_pages(child, 1,
                                                         &held.gfn) : NULL;

        if (page) {
            memset(page, 0x77, XENEMU_PAGE_SIZE);
            held.gref = xenemu_guest_grant_access(child, 0, held.gfn, true);
            alloc_all(child, &got_gfn, 0);
            /* Every grant ref left, all for that page. */
            while (xenemu_guest_grant_access(child, 0, held.gfn, true) > 0) {
                continue;
            }
        }
        if (write(fds[1], &held, sizeof(held)) == sizeof(held)) {
            pause();
        }
        _exit(1);
    }
    if (read(fds[0], &held, sizeof(held)) == sizeof(held) && held.gref > 0) {
        map = xengnttab_map_grant_ref(xgt, GUEST, held.gref, PROT_READ);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    close(fds[0]);
    close(fds[1]);
    if (!tap_ok(map != NULL, "a killed process's grant is mapped by dom0")) {
        return;
    }

    h = xenemu_guest_open(GUEST);
    tap_ok(h && alloc_all(h, &got_gfn, held.gfn) > 0 && !got_gfn &&
           map[0] == 0x77 && map[4095] == 0x77,
           "its pages are reclaimed at the next open, except the mapped one");
    gfn = held.gfn;
    tap_ok(h && xenemu_guest_grant_access(h, 0, gfn, true) > 0 &&
           xenemu_guest_grant_flags(h, held.gref) & GTF_reading,
           "its grant refs too, except the mapped one");
    xenemu_guest_close(h);

    xengnttab_unmap(xgt, map, 1);
    h = xenemu_guest_open(GUEST);
    tap_ok(h && xenemu_guest_grant_flags(h, held.gref) == 0 &&
           alloc_all(h, &got_gfn, held.gfn) > 0 && got_gfn,
           "once unmapped, that grant is revoked and its page reclaimed");
    xenemu_guest_close(h);
}

/* Xen 4.18+ (trixie's xenstored uses it); not in bookworm's headers. */
int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid,
                             xc_domaininfo_t *info);

static void test_foreign_and_info(void)
{
    xenforeignmemory_handle *fmem = xenforeignmemory_open(NULL, 0);
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    xc_dominfo_t info[4];
    xc_domaininfo_t one = { 0 };
    xen_pfn_t pfns[2];
    uint8_t *page, *map;
    int err[2];
    uint64_t gfn;

    grant_page(0x99, 0, false, &page, &gfn);
    pfns[0] = gfn;
    pfns[1] = 1ull << 40;
    map = xenforeignmemory_map(fmem, GUEST, PROT_READ, 2, pfns, err);
    tap_ok(map && err[0] == 0 && map[5] == 0x99 && err[1] == -EINVAL,
           "foreign map: guest frame visible, bad frame reported per page");
    if (map) {
        xenforeignmemory_unmap(fmem, map, 2);
    }
    tap_ok(!xenforeignmemory_map(fmem, GUEST, PROT_READ, 2, pfns, NULL),
           "foreign map without error array fails on a bad frame");

    tap_ok(xc_domain_getinfo(xch, 0, 4, info) == 2 && info[0].domid == 0 &&
           info[1].domid == GUEST && info[1].running &&
           info[1].nr_pages == info[1].max_memkb / 4,
           "xc_domain_getinfo lists dom0 and the guest");
    tap_ok(xc_domain_getinfo(xch, 2, 1, info) == 0,
           "xc_domain_getinfo past the last domain returns 0");
    tap_ok(xc_domain_getinfo_single(xch, GUEST, &one) == 0 &&
           one.domain == GUEST && (one.flags & XEN_DOMINF_running) &&
           one.tot_pages == info[1].nr_pages &&
           xc_domain_getinfo_single(xch, 0, NULL) == 0,
           "xc_domain_getinfo_single fills in the domain asked for");
    errno = 0;
    tap_ok(xc_domain_getinfo_single(xch, GUEST + 1, &one) == -1 &&
           errno == ESRCH,
           "xc_domain_getinfo_single of a missing domain fails with ESRCH");
    xc_interface_close(xch);
    xenforeignmemory_close(fmem);
}

int main(void)
{
    tap_plan(43);
    g = xenemu_guest_open(GUEST);
    xgt = xengnttab_open(NULL, 0);
    if (!tap_ok(g && xgt, "open guest and gnttab")) {
        return tap_done();
    }
    test_map();
    test_multi();
    test_forged();
    test_xenstore_gref();
    test_copy();
    test_foreign_and_info();
    test_killed_process();
    tap_ok(xengnttab_close(xgt) == 0, "close");
    xenemu_guest_close(g);
    return tap_done();
}
