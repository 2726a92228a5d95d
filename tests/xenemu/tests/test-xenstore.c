/*
 * xenemu tests: Debian's xenstored under the double, talked to by a guest
 * over its xenstore ring (xenemu-guest.h) and by dom0 over the socket
 * (libxenstore).
 *
 * Run under `xenemu-run --guest 1`.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "tap.h"
#include "xenemu-guest.h"

#define GUEST 1

static XenemuGuest *g;
static struct xs_handle *xsh;

static bool read_is(const char *path, const char *want)
{
    char *val = xenemu_xs_read(g, 0, path, NULL);
    bool ok = val && !strcmp(val, want);

    free(val);
    return ok;
}

static bool dom0_read_is(const char *path, const char *want)
{
    char *val = xs_read(xsh, XBT_NULL, path, NULL);
    bool ok = val && !strcmp(val, want);

    free(val);
    return ok;
}

static bool next_watch_is(const char *path, const char *token, int ms)
{
    char *p, *t;
    bool ok;

    if (xenemu_xs_read_watch(g, ms, &p, &t) < 0) {
        return false;
    }
    ok = !strcmp(p, path) && !strcmp(t, token);
    if (!ok) {
        tap_diag("watch event %s %s", p, t);
    }
    free(p);
    free(t);
    return ok;
}

static void test_access(void)
{
    unsigned int len, num;
    char *val, **dir;
    bool found = false;

    val = xenemu_xs_read(g, 0, "name", &len);
    tap_ok(val && !strcmp(val, "guest1") && len == 6,
           "guest reads its name (relative path)");
    free(val);
    tap_ok(read_is("/local/domain/1/domid", "1"),
           "guest reads its domid (absolute path)");

    tap_ok(xenemu_xs_write(g, 0, "data/hello", "world", 5) == 0 &&
           dom0_read_is("/local/domain/1/data/hello", "world"),
           "guest writes its own area; dom0 sees it");
    tap_ok(xenemu_xs_printf(g, 0, "device/vbd/51712/state", "%d", 1) == 0 &&
           dom0_read_is("/local/domain/1/device/vbd/51712/state", "1"),
           "guest creates nodes under device/ (owned by the guest)");
    tap_ok(xenemu_xs_write(g, 0, "/local/domain/0/evil", "x", 1) == -EACCES,
           "guest cannot write dom0's /local/domain/0: EACCES");
    tap_ok(xenemu_xs_write(g, 0, "evil", "x", 1) == -EACCES,
           "guest cannot write its domain node itself (owned by dom0)");
    tap_ok(xenemu_xs_read(g, 0, "/local/domain/0/name", NULL) == NULL &&
           errno == EACCES, "guest cannot read dom0's nodes: EACCES");
    tap_ok(xenemu_xs_read(g, 0, "data/missing", NULL) == NULL &&
           errno == ENOENT, "missing node: ENOENT");

    tap_ok(xenemu_xs_mkdir(g, 0, "data/dir") == 0 &&
           xenemu_xs_write(g, 0, "data/dir/a", "1", 1) == 0,
           "guest mkdir and write below");
    dir = xenemu_xs_directory(g, 0, "data", &num);
    for (unsigned int i = 0; dir && i < num; i++) {
        found |= !strcmp(dir[i], "dir");
        free(dir[i]);
    }
    tap_ok(dir && found && num == 2 && !dir[num],
           "guest lists its directory");
    free(dir);
    tap_ok(xenemu_xs_rm(g, 0, "data/dir") == 0 &&
           xenemu_xs_read(g, 0, "data/dir/a", NULL) == NULL,
           "guest removes a subtree");
}

static void test_perms(void)
{
    struct xs_permissions ro[2] = {
        { .id = 0, .perms = XS_PERM_NONE },
        { .id = GUEST, .perms = XS_PERM_READ },
    };
    const char *perms[] = { "n1", "r0" };
    struct xs_permissions *got;
    unsigned int n;

    tap_ok(xs_write(xsh, XBT_NULL, "/local/domain/1/data/locked", "v", 1) &&
           xs_set_permissions(xsh, XBT_NULL, "/local/domain/1/data/locked",
                              ro, 2),
           "dom0 sets n0,r1 on a node in the guest's area");
    tap_ok(read_is("data/locked", "v") &&
           xenemu_xs_write(g, 0, "data/locked", "w", 1) == -EACCES,
           "the guest can read it but not write it");

    tap_ok(xenemu_xs_write(g, 0, "data/mine", "m", 1) == 0 &&
           xenemu_xs_set_perms(g, 0, "data/mine", perms, 2) == 0,
           "guest sets permissions on its own node");
    got = xs_get_permissions(xsh, XBT_NULL, "/local/domain/1/data/mine", &n);
    tap_ok(got && n == 2 && got[0].id == 1 && got[0].perms == XS_PERM_NONE &&
           got[1].id == 0 && got[1].perms == XS_PERM_READ,
           "dom0 sees the guest's permissions");
    free(got);
}

static void test_watches(void)
{
    tap_ok(xenemu_xs_watch(g, "data/w", "tok") == 0 &&
           next_watch_is("data/w", "tok", 2000),
           "a new watch fires once at registration");
    tap_ok(xenemu_xs_read_watch(g, 100, &(char *){0}, &(char *){0}) ==
           -EAGAIN, "then nothing: -EAGAIN on timeout");
    tap_ok(xs_write(xsh, XBT_NULL, "/local/domain/1/data/w/x", "1", 1) &&
           next_watch_is("data/w/x", "tok", 2000),
           "a dom0 write below fires the guest's watch (relative path)");

    /* An event that arrives while a request is in flight is kept. */
    xs_write(xsh, XBT_NULL, "/local/domain/1/data/w", "2", 1);
    tap_ok(read_is("data/hello", "world") &&
           next_watch_is("data/w", "tok", 2000),
           "events read during a request are buffered for read_watch");

    tap_ok(xenemu_xs_unwatch(g, "data/w", "tok") == 0, "unwatch");
    xs_write(xsh, XBT_NULL, "/local/domain/1/data/w", "3", 1);
    tap_ok(xenemu_xs_read_watch(g, 200, &(char *){0}, &(char *){0}) ==
           -EAGAIN, "no event after unwatch");
    tap_ok(xenemu_xs_watch(g, "/local/domain/0/backend", "be") == 0 &&
           next_watch_is("/local/domain/0/backend", "be", 2000),
           "absolute watches report absolute paths");
    xenemu_xs_unwatch(g, "/local/domain/0/backend", "be");
}

/* Drop the watch events that came in so far. */
static void drain_watches(void)
{
    char *p, *t;

    while (xenemu_xs_read_watch(g, 0, &p, &t) == 0) {
        free(p);
        free(t);
    }
}

/* One poll() for a watch event or an event channel, whichever comes. */
static void test_poll_both(void)
{
    struct pollfd pfd[2] = {
        { .fd = xenemu_guest_evtchn_fd(g), .events = POLLIN },
        { .fd = xenemu_xs_fd(g), .events = POLLIN },
    };

    xenemu_xs_watch(g, "data/p", "p");
    next_watch_is("data/p", "p", 2000);     /* the one at registration */
    drain_watches();
    xs_write(xsh, XBT_NULL, "/local/domain/1/data/p", "1", 1);
    tap_ok(poll(pfd, 2, 2000) == 1 && !pfd[0].revents &&
           (pfd[1].revents & POLLIN) && next_watch_is("data/p", "p", 0),
           "the xenstore fd wakes poll() for a watch event");
    xenemu_xs_unwatch(g, "data/p", "p");
    drain_watches();
}

static void test_transactions(void)
{
    XenemuTx tx;
    char *val;

    xenemu_xs_write(g, 0, "data/c", "0", 1);
    tap_ok(xenemu_xs_transaction_start(g, &tx) == 0 && tx != 0,
           "guest starts a transaction");
    val = xenemu_xs_read(g, tx, "data/c", NULL);
    free(val);
    xenemu_xs_write(g, tx, "data/c", "tx", 2);
    tap_ok(read_is("data/c", "0"), "writes in a transaction are private");
    xs_write(xsh, XBT_NULL, "/local/domain/1/data/c", "dom0", 4);
    tap_ok(xenemu_xs_transaction_end(g, tx, false) == -EAGAIN &&
           read_is("data/c", "dom0"),
           "a conflicting commit fails with -EAGAIN and changes nothing");

    tap_ok(xenemu_xs_transaction_start(g, &tx) == 0 &&
           xenemu_xs_write(g, tx, "data/c", "tx2", 3) == 0 &&
           xenemu_xs_transaction_end(g, tx, false) == 0 &&
           read_is("data/c", "tx2"), "an undisturbed transaction commits");
    tap_ok(xenemu_xs_transaction_start(g, &tx) == 0 &&
           xenemu_xs_write(g, tx, "data/c", "no", 2) == 0 &&
           xenemu_xs_transaction_end(g, tx, true) == 0 &&
           read_is("data/c", "tx2"), "an aborted transaction changes nothing");
}

/* xenstored's default entry quota is 2048 bytes; larger values get ENOSPC */
static void test_big_and_reopen(void)
{
    char big[1500];

    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = 'y';
    tap_ok(xenemu_xs_write(g, 0, "data/big", big, sizeof(big)) == 0 &&
           ({
               unsigned int len;
               char *v = xenemu_xs_read(g, 0, "data/big", &len);
               bool ok = v && len == sizeof(big) && !memcmp(v, big, len);
               free(v);
               ok;
           }), "a 1500-byte value wraps the 1 KiB rings both ways");

    /*
     * Leave an event undelivered (a watch firing) when the process lets go
     * of the domain: the next process must still get woken up.
     */
    xenemu_xs_watch(g, "data/r", "r");
    next_watch_is("data/r", "r", 2000);
    xs_write(xsh, XBT_NULL, "/local/domain/1/data/r", "1", 1);
    usleep(100000);
    xenemu_guest_close(g);
    g = xenemu_guest_open(GUEST);
    tap_ok(g && read_is("data/hello", "world") &&
           next_watch_is("data/r", "r", 2000),
           "a guest process reopening the domain keeps its xenstore link "
           "and the event left pending");
    xenemu_xs_unwatch(g, "data/r", "r");
}

/* Two processes of one domain taking turns on its single xenstore ring. */
static void test_turns(void)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        XenemuGuest *child = xenemu_guest_open(GUEST);

        _exit(child && xenemu_xs_write(child, 0, "data/child", "c", 1) == 0 ?
              0 : 1);
    }
    waitpid(pid, &status, 0);
    tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
           read_is("data/child", "c"),
           "another process of the domain used xenstore; ours still works");
}

/* Exit status of a child process running @fn. */
static int in_child(int (*fn)(void))
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        _exit(fn());
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int read_hello(void)
{
    XenemuGuest *child = xenemu_guest_open(GUEST);
    char *val = child ? xenemu_xs_read(child, 0, "data/hello", NULL) : NULL;

    return val && !strcmp(val, "world") ? 0 : 1;
}

/*
 * A process killed between a request and its reply leaves the reply on the
 * ring.  Forge that (a request with id 1 that nobody reads the answer of):
 * the next process's first request must not take it for its own.
 */
static void test_stale_reply(void)
{
    struct xenstore_domain_interface *xs = NULL;
    struct xsd_sockmsg hdr = { .type = XS_READ, .req_id = 1, .len = 5 };
    char msg[sizeof(hdr) + 5];
    char *ref = xenemu_xs_read(g, 0, "store/ring-ref", NULL);

    if (ref) {
        xs = xenemu_guest_gfn_to_ptr(g, strtoull(ref, NULL, 10));
        free(ref);
    }
    if (!tap_ok(xs != NULL, "find the domain's xenstore ring")) {
        return;
    }
    memcpy(msg, &hdr, sizeof(hdr));
    memcpy(msg + sizeof(hdr), "name", 5);
    for (size_t i = 0; i < sizeof(msg); i++) {
        xs->req[MASK_XENSTORE_IDX(xs->req_prod + i)] = msg[i];
    }
    __atomic_store_n(&xs->req_prod, xs->req_prod + sizeof(msg),
                     __ATOMIC_RELEASE);
    tap_ok(in_child(read_hello) == 0,
           "a new process's request ids never match a stale reply's");
}

static int fresh_watcher(void)
{
    XenemuGuest *child = xenemu_guest_open(GUEST);
    int ret = 0;

    if (!child) {
        return 4;
    }
    if (xenemu_xs_read_watch(child, 200, &(char *){0}, &(char *){0}) !=
        -EAGAIN) {
        ret |= 1;
    }
    if (xenemu_xs_watch(child, "data/k", "k") < 0) {
        ret |= 2;
    }
    xenemu_xs_unwatch(child, "data/k", "k");
    return ret;
}

/*
 * Watches belong to the domain's xenstore connection, which outlives the
 * process that set them: one killed with a watch set (and an event for it
 * on the ring) must not hand either to the next process.
 */
static void test_killed_watcher(void)
{
    int fds[2], status, ret;
    bool watching;
    char c;
    pid_t pid;

    if (pipe(fds) < 0) {
        tap_ok(false, "killed watcher: pipe");
        return;
    }
    pid = fork();
    if (pid == 0) {
        XenemuGuest *child = xenemu_guest_open(GUEST);

        if (child && xenemu_xs_watch(child, "data/k", "k") == 0 &&
            write(fds[1], "w", 1) == 1) {
            pause();
        }
        _exit(1);
    }
    close(fds[1]);
    watching = read(fds[0], &c, 1) == 1;
    close(fds[0]);
    xs_write(xsh, XBT_NULL, "/local/domain/1/data/k", "1", 1);
    usleep(100000);
    kill(pid, SIGKILL);
    /* Still a zombie, not reaped yet: dead all the same. */
    waitid(P_PID, pid, &(siginfo_t){0}, WEXITED | WNOWAIT);
    ret = in_child(fresh_watcher);
    waitpid(pid, &status, 0);
    tap_ok(watching && !(ret & ~1),
           "the next process sets the same watch as a killed one (status %d)",
           ret);
    tap_ok(watching && !(ret & ~2),
           "and gets no event of the killed process's watch");
}

/* As libxl relies on: xenstored notices a destroyed domain by itself. */
static void test_domain_lifecycle(void)
{
    char cmd[512], **ev;
    unsigned int n;
    bool fired = false;

    snprintf(cmd, sizeof(cmd), "%s/xenemu-ctl create 5 16",
             getenv("XENEMU_BIN"));
    tap_ok(system(cmd) == 0 && xs_is_domain_introduced(xsh, 5),
           "a guest created at run time is introduced to xenstored");
    xs_watch(xsh, "@releaseDomain", "rel");
    /* Drain the watch's initial event. */
    free(xs_read_watch(xsh, &n));
    snprintf(cmd, sizeof(cmd), "%s/xenemu-ctl destroy 5",
             getenv("XENEMU_BIN"));
    if (system(cmd) == 0) {
        ev = xs_read_watch(xsh, &n);
        fired = ev && !strcmp(ev[XS_WATCH_PATH], "@releaseDomain");
        free(ev);
    }
    tap_ok(fired && !xs_is_domain_introduced(xsh, 5),
           "destroying it makes xenstored release it (@releaseDomain)");
    xs_unwatch(xsh, "@releaseDomain", "rel");
}

int main(void)
{
    alarm(60);      /* a lost wake-up fails the run instead of hanging it */
    tap_plan(38);
    g = xenemu_guest_open(GUEST);
    xsh = xs_open(0);
    if (!tap_ok(g && xsh, "open guest and a dom0 xenstore connection")) {
        return tap_done();
    }
    test_access();
    test_perms();
    test_watches();
    test_poll_both();
    test_transactions();
    test_big_and_reopen();
    test_turns();
    test_stale_reply();
    test_killed_watcher();
    test_domain_lifecycle();
    xenemu_guest_close(g);
    xs_close(xsh);
    return tap_done();
}
