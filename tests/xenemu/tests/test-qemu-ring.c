/*
 * xenemu tests: stock QEMU's xen-block dataplane under the double, driven by
 * a minimal frontend written here (one 1-page ring, one segment per
 * request).  Exercises what a benchmark needs from the double: the ring map
 * (xengnttab_map_domain_grant_refs), the interdomain event channel both ways
 * and grant copy of data.
 *
 * Run under `xenemu-run --guest 1`.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ring.h's barriers, for a userspace frontend on x86 */
#define mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/xen.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include "tap.h"
#include "xenemu-guest.h"

#define GUEST 1
#define BE "/local/domain/0/backend/qdisk/1/51712"
#define FE "device/vbd/51712"

static XenemuGuest *g;
static blkif_front_ring_t ring;
static int ring_refs[16];
static unsigned int nr_ring_refs;
static int port;

static pid_t start_qemu(const char *img)
{
    const char *qemu = getenv("XENEMU_QEMU");
    char drive[600];
    pid_t pid;

    snprintf(drive, sizeof(drive), "if=none,id=d0,file=%s,format=raw", img);
    pid = fork();
    if (pid == 0) {
        char log[512];
        int fd;

        snprintf(log, sizeof(log), "%s/qemu-ring.log", getenv("XENEMU_STATE"));
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("LD_PRELOAD", getenv("XENEMU_PRELOAD"), 1);
        execl(qemu ? qemu : "/usr/libexec/xen-qemu-system-i386", "qemu",
              "-machine", "xenpv", "-xen-domid", "1", "-xen-attach",
              "-nodefaults", "-display", "none", "-drive", drive,
              "-device", "xen-disk,vdev=xvda,drive=d0", NULL);
        _exit(127);
    }
    return pid;
}

static int read_int(const char *path)
{
    char *val = xenemu_xs_read(g, 0, path, NULL);
    int v = val ? atoi(val) : -1;

    free(val);
    return v;
}

/*
 * Wait (via a watch) until @path reads @want: up to 30 s, which a loaded CI
 * machine starting QEMU may need.
 */
static bool wait_state(const char *path, int want)
{
    char *p, *t;
    bool ok = false;

    xenemu_xs_watch(g, path, "st");
    for (int i = 0; i < 100 && !ok; i++) {
        ok = read_int(path) == want;
        if (!ok && xenemu_xs_read_watch(g, 300, &p, &t) == 0) {
            free(p);
            free(t);
        }
    }
    xenemu_xs_unwatch(g, path, "st");
    return ok;
}

/* Submit one single-segment request and wait for its response. */
static int do_io(uint8_t op, uint64_t sector, uint32_t gref)
{
    blkif_request_t *req = RING_GET_REQUEST(&ring, ring.req_prod_pvt);
    int notify, more;

    memset(req, 0, sizeof(*req));
    req->operation = op;
    req->nr_segments = 1;
    req->handle = 51712;
    req->id = 0x1234;
    req->sector_number = sector;
    req->seg[0].gref = gref;
    req->seg[0].first_sect = 0;
    req->seg[0].last_sect = 7;
    ring.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify);
    if (notify) {
        xenemu_guest_evtchn_notify(g, port);
    }
    for (;;) {
        RING_FINAL_CHECK_FOR_RESPONSES(&ring, more);
        if (more) {
            blkif_response_t *rsp = RING_GET_RESPONSE(&ring, ring.rsp_cons);

            ring.rsp_cons++;
            return rsp->id == 0x1234 && rsp->operation == op ?
                   rsp->status : -1000;
        }
        if (xenemu_guest_evtchn_wait(g, 5000) != port) {
            return -2000;
        }
        xenemu_guest_evtchn_unmask(g, port);
    }
}

/* Grant a 2^@order-page ring, publish it and wait for Connected. */
static bool connect_ring(unsigned int order)
{
    unsigned int n = 1u << order;
    char key[32];
    uint64_t gfn;
    bool ok = true;
    uint8_t *sring = xenemu_guest_alloc_pages(g, n, &gfn);

    SHARED_RING_INIT((blkif_sring_t *)sring);
    FRONT_RING_INIT(&ring, (blkif_sring_t *)sring, XENEMU_PAGE_SIZE * n);
    for (unsigned int i = 0; i < n; i++) {
        ring_refs[i] = xenemu_guest_grant_access(g, 0, gfn + i, false);
        if (order) {
            snprintf(key, sizeof(key), FE "/ring-ref%u", i);
        } else {
            snprintf(key, sizeof(key), FE "/ring-ref");
        }
        ok &= xenemu_xs_printf(g, 0, key, "%d", ring_refs[i]) == 0;
    }
    nr_ring_refs = n;
    port = xenemu_guest_evtchn_alloc_unbound(g, 0);
    if (order) {
        ok &= xenemu_xs_printf(g, 0, FE "/ring-page-order", "%u", order) == 0;
    } else {
        xenemu_xs_rm(g, 0, FE "/ring-page-order");
    }
    ok &= xenemu_xs_printf(g, 0, FE "/event-channel", "%d", port) == 0 &&
          xenemu_xs_printf(g, 0, FE "/protocol", "%s",
                           XEN_IO_PROTO_ABI_NATIVE) == 0 &&
          xenemu_xs_printf(g, 0, FE "/state", "%d",
                           XenbusStateInitialised) == 0 &&
          wait_state(BE "/state", XenbusStateConnected);
    for (unsigned int i = 0; i < n; i++) {
        ok &= (xenemu_guest_grant_flags(g, ring_refs[i]) & GTF_writing) != 0;
    }
    xenemu_xs_printf(g, 0, FE "/state", "%d", XenbusStateConnected);
    return ok;
}

/* Close as a frontend does; true if QEMU let go of every ring page. */
static bool disconnect_ring(void)
{
    bool ok;

    xenemu_xs_printf(g, 0, FE "/state", "%d", XenbusStateClosing);
    ok = wait_state(BE "/state", XenbusStateClosing);
    xenemu_xs_printf(g, 0, FE "/state", "%d", XenbusStateClosed);
    ok &= wait_state(BE "/state", XenbusStateClosed);
    for (unsigned int i = 0; i < nr_ring_refs; i++) {
        ok &= xenemu_guest_end_access(g, ring_refs[i]) == 0;
    }
    xenemu_guest_evtchn_close(g, port);
    return ok;
}

int main(void)
{
    char img[512];
    uint8_t *wbuf, *rbuf, disk[4096];
    uint64_t wgfn, rgfn;
    int wref, rref, fd, status;
    pid_t qemu;

    alarm(120);
    tap_plan(12);
    snprintf(img, sizeof(img), "%s/ring.img", getenv("XENEMU_STATE"));
    fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, 1 << 20) < 0) {
        return 1;
    }
    g = xenemu_guest_open(GUEST);
    qemu = start_qemu(img);
    /*
     * QEMU 7.2 publishes InitWait before it writes the frontend's state=1:
     * a frontend that moves on at InitWait alone can see its Initialised
     * overwritten.  Wait for both.
     */
    tap_ok(g && wait_state(BE "/state", XenbusStateInitWait) &&
           wait_state(FE "/state", XenbusStateInitialising),
           "QEMU's backend reaches InitWait and initialises the frontend");
    tap_ok(connect_ring(0), "1-page ring: QEMU maps it writable, binds the "
           "channel, Connected");

    wbuf = xenemu_guest_alloc_pages(g, 1, &wgfn);
    rbuf = xenemu_guest_alloc_pages(g, 1, &rgfn);
    for (int i = 0; i < 4096; i++) {
        wbuf[i] = i * 7 + 3;
    }
    wref = xenemu_guest_grant_access(g, 0, wgfn, true);
    rref = xenemu_guest_grant_access(g, 0, rgfn, false);
    tap_ok(do_io(BLKIF_OP_WRITE, 16, wref) == BLKIF_RSP_OKAY,
           "4 KiB write at sector 16 completes OKAY");
    tap_ok(pread(fd, disk, 4096, 16 * 512) == 4096 &&
           !memcmp(disk, wbuf, 4096), "the data reached the image file");
    tap_ok(do_io(BLKIF_OP_READ, 16, rref) == BLKIF_RSP_OKAY &&
           !memcmp(rbuf, wbuf, 4096), "reading it back returns the data");
    tap_ok(do_io(BLKIF_OP_READ, 16, wref) == BLKIF_RSP_ERROR,
           "a read into a read-only grant fails with BLKIF_RSP_ERROR");
    tap_ok(disconnect_ring(), "after Closed QEMU has unmapped the ring");

    /* Guest reboot: Initialising again brings the backend back. */
    xenemu_xs_printf(g, 0, FE "/state", "%d", XenbusStateInitialising);
    tap_ok(wait_state(BE "/state", XenbusStateInitWait),
           "frontend back to Initialising: backend back to InitWait");
    tap_ok(connect_ring(2), "4-page ring (one contiguous map): Connected");
    memset(rbuf, 0, 4096);
    tap_ok(do_io(BLKIF_OP_READ, 16, rref) == BLKIF_RSP_OKAY &&
           !memcmp(rbuf, wbuf, 4096), "I/O works over the new ring");
    tap_ok(disconnect_ring(), "and QEMU unmaps all 4 pages on Closed");

    kill(qemu, SIGTERM);
    waitpid(qemu, &status, 0);
    tap_ok(WIFEXITED(status) || WTERMSIG(status) == SIGTERM,
           "QEMU terminates on SIGTERM");
    xenemu_guest_close(g);
    return tap_done();
}
