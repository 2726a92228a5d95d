/*
 * xenemu tests: event channel semantics, dom0 (libxenevtchn) against a
 * guest (xenemu-guest.h), plus the notify round-trip latency.
 *
 * Run under `xenemu-run --guest 1`.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>

#include <xenevtchn.h>
#include <xengnttab.h>

#include "tap.h"
#include "xenemu-guest.h"

#define GUEST 1
#define PINGS 20000
#define STORM 200000

static bool readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static bool readable_within(int fd, int ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

static int run_cmd(const char *fmt, int arg)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), fmt, getenv("XENEMU_BIN"), arg);
    return system(cmd);
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* A child notifies @port of the guest 50 ms from now. */
static bool notify_later(XenemuGuest *g, int port)
{
    pid_t pid = fork();

    if (pid == 0) {
        usleep(50000);
        _exit(xenemu_guest_evtchn_notify(g, port) == 0 ? 0 : 1);
    }
    return pid > 0;
}

/* Guest side of the ping-pong, in a child process: echo every event. */
static void pong(int port_pipe)
{
    XenemuGuest *g = xenemu_guest_open(GUEST);
    int port = xenemu_guest_evtchn_alloc_unbound(g, 0);

    if (write(port_pipe, &port, sizeof(port)) != sizeof(port)) {
        _exit(1);
    }
    for (int i = 0; i < PINGS; i++) {
        int p = xenemu_guest_evtchn_wait(g, 5000);

        if (p != port) {
            _exit(2);
        }
        xenemu_guest_evtchn_unmask(g, port);
        xenemu_guest_evtchn_notify(g, port);
    }
    xenemu_guest_close(g);
    _exit(0);
}

/* The floor: two processes waking each other through the kernel only. */
static double socketpair_rtt_us(void)
{
    struct pollfd pfd = { .events = POLLIN };
    int sv[2], status;
    double t0, t1;
    char c = 0;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        pfd.fd = sv[1];
        for (int i = 0; i < PINGS; i++) {
            if (poll(&pfd, 1, 5000) != 1 || recv(sv[1], &c, 1, 0) != 1 ||
                send(sv[1], &c, 1, 0) != 1) {
                _exit(1);
            }
        }
        _exit(0);
    }
    pfd.fd = sv[0];
    t0 = now_us();
    for (int i = 0; i < PINGS; i++) {
        if (send(sv[0], &c, 1, 0) != 1 || poll(&pfd, 1, 5000) != 1 ||
            recv(sv[0], &c, 1, 0) != 1) {
            break;
        }
    }
    t1 = now_us();
    waitpid(pid, &status, 0);
    close(sv[0]);
    close(sv[1]);
    return (t1 - t0) / PINGS;
}

/*
 * A process killed with ports bound: like the kernel closing its evtchn fd,
 * the double closes them (when the next handle is opened).
 */
static void test_killed_owner(void)
{
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0), *later;
    int fds[2], gport = -1, lport, status;
    pid_t pid;

    if (pipe(fds) < 0) {
        tap_ok(false, "killed owner: pipe");
        return;
    }
    pid = fork();
    if (pid == 0) {
        XenemuGuest *g = xenemu_guest_open(GUEST);
        int port = xenemu_guest_evtchn_alloc_unbound(g, 0);

        if (write(fds[1], &port, sizeof(port)) != sizeof(port)) {
            _exit(1);
        }
        pause();
        _exit(0);
    }
    if (read(fds[0], &gport, sizeof(gport)) != sizeof(gport)) {
        gport = -1;
    }
    lport = xenevtchn_bind_interdomain(xce, GUEST, gport);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    later = xenevtchn_open(NULL, 0);
    tap_ok(lport > 0 && later && xenevtchn_notify(xce, lport) == 0 &&
           xenevtchn_bind_interdomain(later, GUEST, gport) == -1 &&
           errno == EINVAL,
           "ports of a killed process are closed; its peer falls back to "
           "unbound");
    xenevtchn_close(later);
    xenevtchn_close(xce);
    close(fds[0]);
    close(fds[1]);
}

/*
 * A port unbound after its delivery stays in Linux's evtchn ring, and
 * read() returns it: once poll() said the fd was readable, pending must
 * yield a port rather than block (or fail with EAGAIN when non-blocking).
 * A guest kernel forgets a port it closes, so the guest's fd goes quiet.
 */
static void test_unbound_after_delivery(XenemuGuest *g)
{
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    int fd = xenevtchn_fd(xce);
    int gport = xenemu_guest_evtchn_alloc_unbound(g, 0);
    int lport = xenevtchn_bind_interdomain(xce, GUEST, gport);
    bool was_readable;

    /* A new interdomain bind is delivered at once. */
    was_readable = readable_within(fd, 1000);
    xenevtchn_unbind(xce, lport);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    tap_ok(lport > 0 && was_readable && readable(fd) &&
           xenevtchn_pending(xce) == lport && !readable(fd),
           "a port unbound after delivery is still read once, as Linux");

    /* The guest's side: a port it closed is never reported. */
    lport = xenevtchn_bind_interdomain(xce, GUEST, gport);
    xenevtchn_notify(xce, lport);
    was_readable = readable_within(xenemu_guest_evtchn_fd(g), 1000);
    xenemu_guest_evtchn_close(g, gport);
    tap_ok(was_readable && !readable(xenemu_guest_evtchn_fd(g)) &&
           xenemu_guest_evtchn_wait(g, 0) == -EAGAIN,
           "a port the guest closed after delivery leaves its fd quiet");
    xenevtchn_close(xce);
}

/*
 * A guest process bumps a counter in a page granted to dom0 and notifies,
 * as fast as it can; dom0 consumes events with the pending/unmask dance.
 * Whatever coalesces, the last bump must be followed by a delivery: dom0
 * must see the final count without a timeout.
 */
static void test_storm(void)
{
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    xengnttab_handle *xgt = xengnttab_open(NULL, 0);
    struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };
    XenemuGuest *g = xenemu_guest_open(GUEST);
    volatile uint32_t *counter, *seen;
    int gport, lport, gref, status, events = 0;
    uint64_t gfn;
    pid_t pid;

    counter = xenemu_guest_alloc_pages(g, 1, &gfn);
    gref = xenemu_guest_grant_access(g, 0, gfn, true);
    gport = xenemu_guest_evtchn_alloc_unbound(g, 0);
    lport = xenevtchn_bind_interdomain(xce, GUEST, gport);
    seen = xengnttab_map_grant_ref(xgt, GUEST, gref, PROT_READ);
    pid = fork();
    if (pid == 0) {
        for (uint32_t i = 1; i <= STORM; i++) {
            __atomic_store_n(counter, i, __ATOMIC_RELEASE);
            xenemu_guest_evtchn_notify(g, gport);
        }
        _exit(0);
    }
    /*
     * At least one delivery (the bind's) even when a loaded machine lets
     * the child finish before this loop starts.
     */
    do {
        if (poll(&pfd, 1, 2000) != 1 || xenevtchn_pending(xce) != lport) {
            break;
        }
        events++;
        xenevtchn_unmask(xce, lport);
    } while (seen && __atomic_load_n(seen, __ATOMIC_ACQUIRE) < STORM);
    waitpid(pid, &status, 0);
    tap_ok(seen && *seen == STORM && events > 0,
           "notify storm: no lost wake-up (%d notifications, %d deliveries)",
           STORM, events);
    if (seen) {
        xengnttab_unmap(xgt, (void *)seen, 1);
    }
    xengnttab_close(xgt);
    xenevtchn_close(xce);
    xenemu_guest_close(g);
}

static void test_latency(void)
{
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    int fds[2], gport, lport, status, ok = 0;
    struct pollfd pfd;
    double t0, t1;
    pid_t pid;

    if (pipe(fds) < 0) {
        tap_ok(false, "latency: pipe");
        return;
    }
    pid = fork();
    if (pid == 0) {
        pong(fds[1]);
    }
    if (read(fds[0], &gport, sizeof(gport)) != sizeof(gport)) {
        gport = -1;
    }
    lport = xenevtchn_bind_interdomain(xce, GUEST, gport);
    /* Consume the bind's own event. */
    if (xenevtchn_pending(xce) == lport) {
        xenevtchn_unmask(xce, lport);
    }
    pfd.fd = xenevtchn_fd(xce);
    pfd.events = POLLIN;
    t0 = now_us();
    for (int i = 0; i < PINGS; i++) {
        xenevtchn_notify(xce, lport);
        if (poll(&pfd, 1, 5000) != 1 || xenevtchn_pending(xce) != lport) {
            break;
        }
        xenevtchn_unmask(xce, lport);
        ok++;
    }
    t1 = now_us();
    waitpid(pid, &status, 0);
    tap_ok(ok == PINGS && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "notify round trip dom0 <-> guest process, %d pings", PINGS);
    tap_diag("notify round-trip latency: %.1f us (poll/pending/unmask/"
             "notify on both sides); bare socketpair ping-pong: %.1f us",
             (t1 - t0) / PINGS, socketpair_rtt_us());
    xenevtchn_close(xce);
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    xenevtchn_handle *xce, *other;
    XenemuGuest *g;
    int gport, lport, vport, fd, gfd, xs_port;
    char *val;

    tap_plan(32);
    g = xenemu_guest_open(GUEST);
    xce = xenevtchn_open(NULL, 0);
    other = xenevtchn_open(NULL, 0);
    if (!tap_ok(g && xce && other, "open guest and two dom0 handles")) {
        return tap_done();
    }
    fd = xenevtchn_fd(xce);
    gfd = xenemu_guest_evtchn_fd(g);
    val = xenemu_xs_read(g, 0, "store/port", NULL);
    xs_port = val ? atoi(val) : -1;
    free(val);

    gport = xenemu_guest_evtchn_alloc_unbound(g, 0);
    tap_ok(gport > 0, "guest allocates an unbound port for dom0 (%d)", gport);
    tap_ok(!readable(fd), "dom0 fd not readable with nothing pending");

    lport = xenevtchn_bind_interdomain(xce, GUEST, gport);
    tap_ok(lport > 0, "dom0 binds interdomain (%d)", lport);
    tap_ok(readable(fd) && xenevtchn_pending(xce) == lport,
           "a new interdomain bind is immediately pending");
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    tap_ok(!readable(fd) && xenevtchn_pending(xce) == -1 && errno == EAGAIN,
           "fd not readable once consumed; pending() on O_NONBLOCK: EAGAIN");
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    xenevtchn_unmask(xce, lport);
    tap_ok(notify_later(g, gport) && xenevtchn_pending(xce) == lport,
           "pending() on a blocking fd waits for the next event");
    xenevtchn_unmask(xce, lport);

    tap_ok(xenevtchn_notify(other, lport) == -1 && errno == ENOTCONN,
           "notify on another handle's port: ENOTCONN");
    tap_ok(xenevtchn_unbind(other, lport) == -1 && errno == ENOTCONN,
           "unbind of another handle's port: ENOTCONN");
    tap_ok(xenemu_guest_evtchn_notify(g, xs_port) == -ENOTCONN,
           "the guest's xenstore port (%d) is the library's, not the "
           "caller's: ENOTCONN", xs_port);

    xenemu_guest_evtchn_notify(g, gport);
    tap_ok(readable_within(fd, 1000) && xenevtchn_pending(xce) == lport,
           "guest notify delivers to dom0");
    xenemu_guest_evtchn_notify(g, gport);
    xenemu_guest_evtchn_notify(g, gport);
    xenemu_guest_evtchn_notify(g, gport);
    tap_ok(!readable(fd), "notifications while masked are not delivered");
    xenevtchn_unmask(xce, lport);
    tap_ok(readable(fd) && xenevtchn_pending(xce) == lport,
           "unmask re-delivers the pending port");
    tap_ok(!readable(fd), "three notifications coalesced into one delivery");
    xenevtchn_unmask(xce, lport);
    tap_ok(!readable(fd), "unmask without pending delivers nothing");

    tap_ok(!readable(gfd) && xenemu_guest_evtchn_wait(g, 0) == -EAGAIN,
           "guest has nothing pending");
    xenevtchn_notify(xce, lport);
    tap_ok(readable_within(gfd, 1000) &&
           xenemu_guest_evtchn_wait(g, 1000) == gport,
           "dom0 notify delivers to the guest");
    xenevtchn_notify(xce, lport);
    xenevtchn_notify(xce, lport);
    tap_ok(xenemu_guest_evtchn_wait(g, 50) == -EAGAIN,
           "guest port stays masked until unmask");
    xenemu_guest_evtchn_unmask(g, gport);
    tap_ok(xenemu_guest_evtchn_wait(g, 0) == gport &&
           xenemu_guest_evtchn_wait(g, 0) == -EAGAIN,
           "guest unmask re-delivers once");
    xenemu_guest_evtchn_unmask(g, gport);

    tap_ok(xenemu_guest_evtchn_close(g, gport) == 0, "guest closes its port");
    tap_ok(xenevtchn_notify(xce, lport) == 0,
           "notify to a closed peer succeeds silently");
    tap_ok(xenemu_guest_evtchn_wait(g, 50) == -EAGAIN,
           "and reaches nobody");
    tap_ok(xenevtchn_bind_interdomain(xce, GUEST, gport) == -1 &&
           errno == EINVAL, "binding a closed remote port: EINVAL");
    tap_ok(xenevtchn_unbind(xce, lport) == 0 &&
           xenevtchn_unbind(xce, lport) == -1 && errno == ENOTCONN,
           "unbind, then unbind again: ENOTCONN");

    vport = xenevtchn_bind_virq(xce, VIRQ_DOM_EXC);
    tap_ok(vport > 0 && run_cmd("%s/xenemu-ctl create %d", 7) == 0 &&
           run_cmd("%s/xenemu-ctl destroy %d", 7) == 0 &&
           readable_within(fd, 1000) && xenevtchn_pending(xce) == vport,
           "VIRQ_DOM_EXC fires when a domain is destroyed");
    xenevtchn_unmask(xce, vport);

    xenevtchn_close(other);
    tap_ok(xenemu_guest_evtchn_alloc_unbound(g, 4242) == -ESRCH,
           "unbound port for a missing domain: ESRCH");

    test_killed_owner();
    test_unbound_after_delivery(g);
    test_storm();
    test_latency();

    xenemu_guest_close(g);
    tap_ok(xenevtchn_close(xce) == 0, "close");
    return tap_done();
}
