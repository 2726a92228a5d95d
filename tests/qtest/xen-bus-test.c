/*
 * QTest for the Xen bus as a toolstack and QEMU's other Xen devices use it:
 * the device model's state and advertised backends, and the xen-console and
 * xen-net-device of QEMU 10.0's tree on our bus (QEMU 7.2 has neither as a
 * XenDevice: those cases are skipped there).
 *
 * Runs under the project's Xen test double (tests/xenemu/xenemu-run with a
 * guest domain 1), with LD_PRELOAD carrying the double into QEMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "xen-test-helpers.h"

#define DM_PATH "/local/domain/0/device-model/1"

/* What libxl passes a PV guest's device model (libxl_dm.c), and @extra. */
static QTestState *start_like_libxl(const char *extra)
{
    return qtest_initf("-xen-domid %d -xen-attach -name guest%d "
                       "-machine xenpv -nodefaults -no-user-config "
                       "-display none %s", XEN_TEST_FRONTEND_ID,
                       XEN_TEST_FRONTEND_ID, extra);
}

/* Whether this QEMU has the XenDevice type @type. */
static bool has_xen_device(QTestState *qts, const char *type)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-list-types', "
                           "'arguments': {'implements': 'xen-device'}}");
    QListEntry *entry;
    bool found = false;

    g_assert_true(qdict_haskey(rsp, "return"));
    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), entry) {
        QDict *info = qobject_to(QDict, qlist_entry_obj(entry));

        found |= !strcmp(qdict_get_str(info, "name"), type);
    }
    qobject_unref(rsp);
    return found;
}

static void qmp_ok(QTestState *qts, QDict *rsp)
{
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

static void test_device_model_running(void)
{
    QTestState *qts;

    /* The key outlives a QEMU: start without it. */
    xs_rm(xen_test_xsh(), XBT_NULL, DM_PATH "/state");
    qts = start_like_libxl("");

    /* libxl waits for this before it lets the guest run. */
    g_assert_true(xen_test_wait_value(DM_PATH, "state", "running"));
    /* Stock QEMU advertises only its legacy backends there. */
    g_assert_true(xen_test_exists(DM_PATH "/backends/qdisk"));
    qtest_quit(qts);
}

static void assert_areas(const char *be, const char *fe)
{
    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_perms(be, XEN_TEST_BACKEND_ID, XEN_TEST_FRONTEND_ID,
                          XS_PERM_READ);
    xen_test_assert_key(be, "frontend", fe);
    xen_test_assert_key(be, "frontend-id", "1");
    xen_test_assert_key(be, "online", "1");
    xen_test_assert_perms(fe, XEN_TEST_FRONTEND_ID, XEN_TEST_BACKEND_ID,
                          XS_PERM_READ | XS_PERM_WRITE);
    xen_test_assert_key(fe, "backend", be);
    xen_test_assert_key(fe, "backend-id", "0");
}

/* A console plugged at run time, as QEMU's own xen-console. */
static void test_console_device(void)
{
    QTestState *qts = start_like_libxl("");

    if (!has_xen_device(qts, "xen-console")) {
        qtest_quit(qts);
        g_test_skip("no xen-console XenDevice in this QEMU");
        return;
    }
    qmp_ok(qts, qtest_qmp(qts, "{'execute': 'chardev-add', 'arguments': "
                          "{'id': 'c0', 'backend': {'type': 'null', "
                          "'data': {}}}}"));
    qmp_ok(qts, qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                          "{'driver': 'xen-console', 'id': 'con1', "
                          "'chardev': 'c0', 'idx': 1}}"));
    assert_areas("/local/domain/0/backend/console/1/1",
                 "/local/domain/1/device/console/1");
    g_assert_true(xen_test_exists(DM_PATH "/backends/console"));
    qtest_quit(qts);
}

/* A secondary console as libxl adds one: areas first, then the bus. */
static void test_console_from_toolstack(void)
{
    const char *be = "/local/domain/0/backend/console/1/2";
    const char *fe = "/local/domain/1/device/console/2";
    struct xs_permissions be_perms[] = {
        { .id = XEN_TEST_BACKEND_ID, .perms = XS_PERM_NONE },
        { .id = XEN_TEST_FRONTEND_ID, .perms = XS_PERM_READ },
    };
    struct xs_permissions fe_perms[] = {
        { .id = XEN_TEST_FRONTEND_ID, .perms = XS_PERM_NONE },
        { .id = XEN_TEST_BACKEND_ID, .perms = XS_PERM_READ },
    };
    struct xs_handle *xsh = xen_test_xsh();
    QTestState *qts = start_like_libxl("");

    if (!has_xen_device(qts, "xen-console")) {
        qtest_quit(qts);
        g_test_skip("no xen-console XenDevice in this QEMU");
        return;
    }

    g_assert_true(xs_mkdir(xsh, XBT_NULL, fe));
    g_assert_true(xs_set_permissions(xsh, XBT_NULL, fe, fe_perms, 2));
    xen_test_write(fe, "backend", be);
    xen_test_write(fe, "backend-id", "0");
    xen_test_write(fe, "type", "ioemu");
    xen_test_write(fe, "output", "null");
    xen_test_write(fe, "state", "1");
    g_assert_true(xs_mkdir(xsh, XBT_NULL, be));
    g_assert_true(xs_set_permissions(xsh, XBT_NULL, be, be_perms, 2));
    xen_test_write(be, "frontend", fe);
    xen_test_write(be, "frontend-id", "1");
    xen_test_write(be, "online", "1");
    xen_test_write(be, "state", "1");

    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_key(be, "hotplug-status", "connected");
    qtest_quit(qts);
    g_assert_true(xs_rm(xsh, XBT_NULL, be));
    g_assert_true(xs_rm(xsh, XBT_NULL, fe));
}

/* -device xen-net-device and -nic ...,model=xen: one vif each. */
static void test_net_devices(void)
{
    const char *vifs = "/local/domain/1/device/vif";
    g_autofree char **names = NULL;
    unsigned int i, n = 0;
    QTestState *qts = start_like_libxl("");
    bool has_net = has_xen_device(qts, "xen-net-device");

    qtest_quit(qts);
    if (!has_net) {
        g_test_skip("no xen-net-device XenDevice in this QEMU");
        return;
    }
    qts = start_like_libxl("-netdev hubport,id=n0,hubid=0 "
                           "-device xen-net-device,netdev=n0 "
                           "-nic hubport,hubid=1,model=xen");

    names = (char **)xs_directory(xen_test_xsh(), XBT_NULL, vifs, &n);
    g_assert_nonnull(names);
    g_assert_cmpuint(n, ==, 2);
    for (i = 0; i < n; i++) {
        g_autofree char *fe = g_strdup_printf("%s/%s", vifs, names[i]);
        g_autofree char *be = g_strdup_printf("/local/domain/%d/backend/"
                                              "qnic/%d/%s",
                                              XEN_TEST_BACKEND_ID,
                                              XEN_TEST_FRONTEND_ID, names[i]);
        g_autofree char *mac = NULL;

        assert_areas(be, fe);
        xen_test_assert_key(be, "feature-rx-copy", "1");
        mac = xen_test_read(fe, "mac");
        g_assert_nonnull(mac);
        g_assert_cmpuint(strlen(mac), ==, strlen("52:54:00:12:34:56"));
    }
    g_assert_true(xen_test_exists(DM_PATH "/backends/qnic"));
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);

    if (!xen_test_init()) {
        g_test_skip("needs the Xen test double (tests/xenemu/xenemu-run)");
        return g_test_run();
    }

    qtest_add_func("/xen-bus/device-model/running",
                   test_device_model_running);
    qtest_add_func("/xen-bus/console/device", test_console_device);
    qtest_add_func("/xen-bus/console/toolstack", test_console_from_toolstack);
    qtest_add_func("/xen-bus/net/devices", test_net_devices);

    ret = g_test_run();
    xen_test_cleanup();
    return ret;
}
