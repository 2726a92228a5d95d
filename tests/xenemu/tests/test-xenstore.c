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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

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
    tap_plan(33);
    g = xenemu_guest_open(GUEST);
    xsh = xs_open(0);
    if (!tap_ok(g && xsh, "open guest and a dom0 xenstore connection")) {
        return tap_done();
    }
    test_access();
    test_perms();
    test_watches();
    test_transactions();
    test_big_and_reopen();
    test_turns();
    test_domain_lifecycle();
    xenemu_guest_close(g);
    xs_close(xsh);
    return tap_done();
}
