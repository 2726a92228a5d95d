/*
 * QTest for xen-block: xenstore areas, vdev naming and the xenbus handshake
 *
 * Runs under the project's Xen test double (tests/xenemu/xenemu-run with a
 * guest domain 1), with LD_PRELOAD carrying the double into QEMU.  With
 * XEN_TEST_REFERENCE=1 the same binary checks the behaviour shared with
 * stock QEMU (7.2 and 10.0) and skips what is ours alone (see
 * docs/devel/xen-bus.rst, "Differences from stock QEMU").
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/cutils.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "xen-test-helpers.h"

#define IMAGE_SIZE (8 * 1024 * 1024)

static char *image;
static char *image_ro;
static bool reference;

static char *backend_path(unsigned long devid)
{
    return xen_test_backend_path("qdisk", devid);
}

/*
 * d0 and d1 are -blockdev nodes, which stay when a device on them is
 * removed (a -drive goes with its device): the vdev cases add and remove
 * a disk on d0 over and over.
 */
static QTestState *start(const char *devices)
{
    return qtest_initf("-machine xenpv -xen-domid %d -xen-attach "
                       "-nodefaults -display none "
                       "-blockdev driver=raw,node-name=d0,"
                       "file.driver=file,file.filename=%s "
                       "-blockdev driver=raw,node-name=d1,read-only=on,"
                       "file.driver=file,file.filename=%s "
                       "%s", XEN_TEST_FRONTEND_ID, image, image_ro, devices);
}

static void stop(QTestState *qts, unsigned long devid)
{
    g_autofree char *be = backend_path(devid);
    g_autofree char *fe = xen_test_frontend_path(devid);

    qtest_quit(qts);
    g_assert_true(xen_test_wait_gone(be));
    g_assert_true(xen_test_wait_gone(fe));
}

static void set_frontend_state(unsigned long devid, unsigned int state)
{
    g_autofree char *fe = xen_test_frontend_path(devid);
    g_autofree char *value = g_strdup_printf("%u", state);

    xen_test_write(fe, "state", value);
}

static void assert_backend_state(unsigned long devid, unsigned int state)
{
    g_autofree char *be = backend_path(devid);
    g_autofree char *want = g_strdup_printf("%u", state);

    if (!xen_test_wait_value(be, "state", want)) {
        g_autofree char *value = xen_test_read(be, "state");

        g_test_message("backend state is %s, want %s", value, want);
        g_assert_not_reached();
    }
}

static QDict *device_add(QTestState *qts, const char *driver,
                         const char *vdev, const char *drive)
{
    return qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                     "{'driver': %s, 'id': 'dev', 'vdev': %s, "
                     "'drive': %s}}", driver, vdev, drive);
}

static void device_del(QTestState *qts, unsigned long devid)
{
    g_autofree char *be = backend_path(devid);
    QDict *rsp = qtest_qmp(qts, "{'execute': 'device_del', 'arguments': "
                           "{'id': 'dev'}}");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    /* The drive is free again once the device is finalized. */
    qtest_qmp_eventwait(qts, "DEVICE_DELETED");
    g_assert_true(xen_test_wait_gone(be));
}

typedef struct VdevCase {
    const char *vdev;
    unsigned long devid;
} VdevCase;

/* xen-vbd-interface(7) and the reference notes §3. */
static const VdevCase valid_vdevs[] = {
    { "xvda", 51712 },
    { "xvdb2", (202 << 8) | (1 << 4) | 2 },
    { "d1p2", (202 << 8) | (1 << 4) | 2 },
    { "d0", 51712 },
    { "xvdp15", (202 << 8) | (15 << 4) | 15 },
    { "xvdq", (1 << 28) | (16 << 8) },
    { "xvda16", (1 << 28) | 16 },
    { "xvdaa", (1 << 28) | (26 << 8) },
    { "d536p37", (1 << 28) | (536 << 8) | 37 },
    { "xvdtq37", (1 << 28) | (536 << 8) | 37 },
    { "d1048575p255", (1 << 28) | (1048575ul << 8) | 255 },
    { "hda", 3 << 8 },
    { "hdb63", (3 << 8) | (1 << 6) | 63 },
    { "hdc2", (22 << 8) | 2 },
    { "hdd", (22 << 8) | (1 << 6) },
    { "sda", 8 << 8 },
    { "sdb3", (8 << 8) | (1 << 4) | 3 },
    { "sdp15", (8 << 8) | (15 << 4) | 15 },
};

static void test_vdev_valid(void)
{
    QTestState *qts = start("");
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(valid_vdevs); i++) {
        const VdevCase *c = &valid_vdevs[i];
        g_autofree char *be = backend_path(c->devid);
        g_autofree char *fe = xen_test_frontend_path(c->devid);
        g_autofree char *vd = NULL;
        unsigned long number;
        QDict *rsp = device_add(qts, "xen-disk", c->vdev, "d0");

        if (!qdict_haskey(rsp, "return")) {
            g_test_message("device_add vdev=%s refused: %s", c->vdev,
                           qdict_get_str(qdict_get_qdict(rsp, "error"),
                                         "desc"));
        }
        g_assert_true(qdict_haskey(rsp, "return"));
        qobject_unref(rsp);
        g_assert_true(xen_test_wait_value(be, "state", "2"));
        vd = xen_test_read(fe, "virtual-device");
        g_assert_nonnull(vd);
        g_assert_cmpint(qemu_strtoul(vd, NULL, 10, &number), ==, 0);
        g_assert_cmpuint(number, ==, c->devid);
        device_del(qts, c->devid);
    }
    qtest_quit(qts);
}

typedef struct BadVdev {
    const char *vdev;
    /* Part of our error message that names what is wrong. */
    const char *names;
} BadVdev;

static const BadVdev invalid_vdevs[] = {
    { "", "expected one of" },
    { "foo", "expected one of" },
    { "xvd", "expected disk letters" },
    { "xvdA", "expected disk letters" },
    { "xvda-1", "bad partition number '-1'" },
    { "xvda1x", "bad partition number '1x'" },
    { "xvda256", "partition 256 is beyond the last xvd partition" },
    { "hde", "disk 4 is beyond the last hd disk" },
    { "hda64", "partition 64 is beyond the last hd partition" },
    { "sdq", "disk 16 is beyond the last sd disk" },
    { "sda16", "partition 16 is beyond the last sd partition" },
    { "d", "expected a disk number" },
    { "dp1", "expected a disk number" },
    { "d1p", "bad partition number ''" },
    { "d1x", "unexpected 'x'" },
    { "d1048576", "disk 1048576 is beyond the last d disk" },
    { "d99999999999999999999", "expected a disk number" },
    { "xvdzzzzzzzzzzzzz", "expected disk letters" },
    { " xvda", "expected one of" },
};

static void test_vdev_invalid(void)
{
    QTestState *qts = start("");
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(invalid_vdevs); i++) {
        const BadVdev *c = &invalid_vdevs[i];
        QDict *rsp = device_add(qts, "xen-disk", c->vdev, "d0");
        QDict *err = qdict_get_qdict(rsp, "error");

        if (!err) {
            g_test_message("vdev '%s' was accepted", c->vdev);
        }
        g_assert_nonnull(err);
        if (!reference) {
            const char *desc = qdict_get_str(err, "desc");

            if (!strstr(desc, c->names)) {
                g_test_message("vdev '%s': '%s' does not say '%s'", c->vdev,
                               desc, c->names);
            }
            g_assert_nonnull(strstr(desc, c->names));
        }
        qobject_unref(rsp);
    }
    qtest_quit(qts);
}

static void test_disk_areas(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0");
    g_autofree char *be = backend_path(51712);
    g_autofree char *fe = xen_test_frontend_path(51712);
    g_autofree char *sectors = g_strdup_printf("%d", IMAGE_SIZE / 512);
    /* A queue per host CPU, at most 4, as Linux blkback offers. */
    g_autofree char *default_queues =
        g_strdup_printf("%ld", MIN(4, sysconf(_SC_NPROCESSORS_ONLN)));

    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_perms(be, XEN_TEST_BACKEND_ID, XEN_TEST_FRONTEND_ID,
                          XS_PERM_READ);
    xen_test_assert_key(be, "frontend", fe);
    xen_test_assert_key(be, "frontend-id", "1");
    xen_test_assert_key(be, "online", "1");
    xen_test_assert_key(be, "hotplug-status", "connected");
    xen_test_assert_key(be, "info", "0");
    xen_test_assert_key(be, "sector-size", "512");
    xen_test_assert_key(be, "sectors", sectors);
    xen_test_assert_key(be, "feature-flush-cache", "1");
    if (!reference) {
        xen_test_assert_key(be, "max-ring-page-order", "4");
        xen_test_assert_key(be, "multi-queue-max-queues", default_queues);
        xen_test_assert_key(be, "physical-sector-size", "512");
        xen_test_assert_key(be, "mode", "w");
    }

    xen_test_assert_perms(fe, XEN_TEST_FRONTEND_ID, XEN_TEST_BACKEND_ID,
                          XS_PERM_READ | XS_PERM_WRITE);
    xen_test_assert_key(fe, "backend", be);
    xen_test_assert_key(fe, "backend-id", "0");
    xen_test_assert_key(fe, "state", "1");
    xen_test_assert_key(fe, "virtual-device", "51712");
    xen_test_assert_key(fe, "device-type", "disk");
    stop(qts, 51712);
}

static void test_cdrom_areas(void)
{
    QTestState *qts = start("-device xen-cdrom,vdev=hdc,drive=d1");
    unsigned long devid = 22 << 8;
    g_autofree char *be = backend_path(devid);
    g_autofree char *fe = xen_test_frontend_path(devid);

    g_assert_true(xen_test_wait_value(be, "state", "2"));
    /* VDISK_CDROM | VDISK_REMOVABLE | VDISK_READONLY */
    xen_test_assert_key(be, "info", reference ? "5" : "7");
    xen_test_assert_key(fe, "device-type", "cdrom");
    xen_test_assert_key(fe, "virtual-device", "5632");
    stop(qts, devid);
}

static void test_readonly_disk(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvdb,drive=d1");
    g_autofree char *be = backend_path(51728);

    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_key(be, "info", "4");
    xen_test_assert_key(be, "mode", "r");
    stop(qts, 51728);
}

/* A frontend area made by the toolstack is neither replaced nor re-keyed. */
static void test_toolstack_frontend(void)
{
    g_autofree char *be = backend_path(51712);
    g_autofree char *fe = xen_test_frontend_path(51712);
    QTestState *qts;

    xen_test_write(fe, "state", "1");
    xen_test_write(fe, "backend", "written-by-toolstack");
    qts = start("-device xen-disk,vdev=xvda,drive=d0");
    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_key(fe, "backend", "written-by-toolstack");
    xen_test_assert_key(fe, "state", "1");
    stop(qts, 51712);
}

/* Without a vdev: the first xvd disk no device or frontend area uses. */
static void test_vdev_auto(void)
{
    g_autofree char *fe_xvda = xen_test_frontend_path(51712);
    g_autofree char *be_xvdb = backend_path(51728);
    g_autofree char *be_xvdc = backend_path(51744);
    g_autofree char *fe_xvdc = xen_test_frontend_path(51744);
    QTestState *qts;

    /* xvda is taken by a disk the toolstack gave through another backend */
    xen_test_write(fe_xvda, "backend", "/local/domain/0/backend/vbd/1/51712");
    qts = start("-device xen-disk,drive=d0 -device xen-cdrom,drive=d1");
    g_assert_true(xen_test_wait_value(be_xvdb, "state", "2"));
    g_assert_true(xen_test_wait_value(be_xvdc, "state", "2"));
    xen_test_assert_key(be_xvdb, "info", "0");
    xen_test_assert_key(fe_xvdc, "device-type", "cdrom");
    xen_test_assert_key(fe_xvda, "backend",
                        "/local/domain/0/backend/vbd/1/51712");
    qtest_quit(qts);
    g_assert_true(xen_test_wait_gone(be_xvdb));
    g_assert_true(xen_test_wait_gone(be_xvdc));
    g_assert_true(xs_rm(xen_test_xsh(), XBT_NULL, fe_xvda));
}

/*
 * -drive if=xen: a xen-disk on the first free xvd disk.  QEMU 7.2's xenpv
 * machine refuses such a drive.
 */
static void test_drive_if_xen(void)
{
    g_autofree char *be = backend_path(51712);
    g_autofree char *sectors = g_strdup_printf("%d", IMAGE_SIZE / 512);
    QTestState *qts = start("");
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-version'}");
    int64_t major = qdict_get_int(qdict_get_qdict(qdict_get_qdict(rsp,
                                                                  "return"),
                                                  "qemu"), "major");

    qobject_unref(rsp);
    qtest_quit(qts);
    if (major < 10) {
        g_test_skip("-drive if=xen needs QEMU 10");
        return;
    }
    qts = qtest_initf("-machine xenpv -xen-domid %d -xen-attach "
                      "-nodefaults -display none "
                      "-drive if=xen,file=%s,format=raw",
                      XEN_TEST_FRONTEND_ID, image);
    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_key(be, "sectors", sectors);
    stop(qts, 51712);
}

static void test_hotplug(void)
{
    QTestState *qts = start("");
    g_autofree char *be = backend_path(51712);
    g_autofree char *fe = xen_test_frontend_path(51712);
    QDict *rsp = device_add(qts, "xen-disk", "xvda", "d0");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_key(fe, "state", "1");

    /*
     * A second device with the same vdev is refused and leaves the first
     * alone (QEMU 7.2 accepts it and both then share the areas).
     */
    if (!reference) {
        rsp = qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                        "{'driver': 'xen-disk', 'id': 'dup', "
                        "'vdev': 'xvda', 'drive': 'd1'}}");
        g_assert_nonnull(qdict_get_qdict(rsp, "error"));
        qobject_unref(rsp);
        xen_test_assert_key(be, "state", "2");
        xen_test_assert_key(fe, "state", "1");
    }

    device_del(qts, 51712);
    g_assert_true(xen_test_wait_gone(fe));
    qtest_quit(qts);
}

static void test_exit_sigterm(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0 "
                            "-device xen-cdrom,vdev=hdc,drive=d1");

    assert_backend_state(51712, 2);
    assert_backend_state(5632, 2);
    qtest_kill_qemu(qts);
    g_assert_true(xen_test_wait_gone(backend_path(51712)));
    g_assert_true(xen_test_wait_gone(xen_test_frontend_path(51712)));
    g_assert_true(xen_test_wait_gone(backend_path(5632)));
    g_assert_true(xen_test_wait_gone(xen_test_frontend_path(5632)));
    qtest_quit(qts);
}

static void test_exit_quit(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0");

    assert_backend_state(51712, 2);
    qtest_qmp_assert_success(qts, "{'execute': 'quit'}");
    g_assert_true(xen_test_wait_gone(backend_path(51712)));
    g_assert_true(xen_test_wait_gone(xen_test_frontend_path(51712)));
    qtest_quit(qts);
}

/* Closing, Closed, a reboot (back to Initialising) and the area going. */
static void test_state_machine(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0");
    g_autofree char *fe = xen_test_frontend_path(51712);

    assert_backend_state(51712, 2);
    set_frontend_state(51712, 5);
    assert_backend_state(51712, 5);
    set_frontend_state(51712, 6);
    assert_backend_state(51712, 6);
    set_frontend_state(51712, 1);
    assert_backend_state(51712, 2);

    /* Frontend area removed: the frontend is gone. */
    g_assert_true(xs_rm(xen_test_xsh(), XBT_NULL, fe));
    assert_backend_state(51712, 6);
    stop(qts, 51712);
}

/* Initialised with no usable ring: the connect fails, QEMU lives on. */
static void test_connect_refused(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0");
    g_autofree char *fe = xen_test_frontend_path(51712);

    assert_backend_state(51712, 2);
    set_frontend_state(51712, 3);
    assert_backend_state(51712, 5);
    qtest_qmp_assert_success(qts, "{'execute': 'query-status'}");
    stop(qts, 51712);
}

typedef struct HostileKeys {
    const char *key;
    const char *value;
} HostileKeys;

static const HostileKeys hostile_keys[] = {
    { "ring-ref", "garbage" },
    { "ring-ref", "99999999999999999999999" },
    { "ring-ref", "-1" },
    { "ring-ref", "" },
    { "ring-page-order", "99" },
    { "ring-page-order", "4294967296" },
    { "ring-page-order", "0x2" },
    { "event-channel", "-5" },
    { "event-channel", "12 34" },
    { "protocol", "x86_16-abi" },
    { "protocol", "" },
    /* More queues than offered, none, or several without their keys. */
    { "multi-queue-num-queues", "0" },
    { "multi-queue-num-queues", "17" },
    { "multi-queue-num-queues", "4294967297" },
    { "multi-queue-num-queues", "2" },
};

static void test_hostile_keys(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0");
    g_autofree char *fe = xen_test_frontend_path(51712);
    g_autofree char *order = g_strdup_printf("%s/ring-page-order", fe);
    g_autofree char *queues = g_strdup_printf("%s/multi-queue-num-queues",
                                              fe);
    g_autofree char *state = g_strdup_printf("%s/state", fe);
    g_autofree char *huge = g_strnfill(4000, '7');
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(hostile_keys); i++) {
        const HostileKeys *h = &hostile_keys[i];

        /* Start from a well-formed set and spoil one key. */
        xen_test_write(fe, "ring-ref", "8");
        xen_test_write(fe, "event-channel", "5");
        xen_test_write(fe, "protocol", "x86_64-abi");
        xs_rm(xen_test_xsh(), XBT_NULL, order);
        xs_rm(xen_test_xsh(), XBT_NULL, queues);
        xen_test_write(fe, h->key, h->value);
        set_frontend_state(51712, 3);
        /* Refused: Closing, never Connected. */
        assert_backend_state(51712, 5);

        set_frontend_state(51712, 6);
        assert_backend_state(51712, 6);
        set_frontend_state(51712, 1);
        assert_backend_state(51712, 2);
    }

    /* Garbage and huge states, and the state key deleted. */
    xen_test_write(fe, "state", huge);
    assert_backend_state(51712, 6);
    set_frontend_state(51712, 1);
    assert_backend_state(51712, 2);
    xen_test_write(fe, "state", "4294967299");
    assert_backend_state(51712, 6);
    set_frontend_state(51712, 1);
    assert_backend_state(51712, 2);
    xs_rm(xen_test_xsh(), XBT_NULL, state);
    assert_backend_state(51712, 6);

    qtest_qmp_assert_success(qts, "{'execute': 'query-status'}");
    stop(qts, 51712);
}

/* State flapping as fast as xenstore takes it (XSA-350). */
static void test_state_flapping(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0");
    int i;

    assert_backend_state(51712, 2);
    for (i = 0; i < 300; i++) {
        set_frontend_state(51712, 1 + i % 6);
    }
    set_frontend_state(51712, 6);
    assert_backend_state(51712, 6);
    set_frontend_state(51712, 1);
    assert_backend_state(51712, 2);
    qtest_qmp_assert_success(qts, "{'execute': 'query-status'}");
    stop(qts, 51712);
}

/* device_del of a disk on a -drive removes the drive too, as elsewhere. */
static void test_unplug_drive(void)
{
    g_autofree char *own = xen_test_make_image(IMAGE_SIZE);
    g_autofree char *args = g_strdup_printf(
        "-drive if=none,id=u0,file=%s,format=raw "
        "-device xen-disk,id=u,vdev=xvdc,drive=u0", own);
    QTestState *qts = start(args);
    QDict *rsp;
    QList *blocks;
    QListEntry *e;

    assert_backend_state(51744, 2);
    qtest_qmp_device_del(qts, "u");
    rsp = qtest_qmp(qts, "{'execute': 'query-block'}");
    blocks = qdict_get_qlist(rsp, "return");
    QLIST_FOREACH_ENTRY(blocks, e) {
        QDict *b = qobject_to(QDict, qlist_entry_obj(e));

        g_assert_cmpstr(qdict_get_try_str(b, "device"), !=, "u0");
    }
    qobject_unref(rsp);
    qtest_quit(qts);
    unlink(own);
}

/* block_resize: "sectors" follows, and the state is written again. */
static void test_resize(void)
{
    g_autofree char *own = xen_test_make_image(IMAGE_SIZE);
    g_autofree char *args = g_strdup_printf(
        "-drive if=none,id=r0,file=%s,format=raw "
        "-device xen-disk,vdev=xvdc,drive=r0", own);
    g_autofree char *be = backend_path(51744);
    QTestState *qts = start(args);

    assert_backend_state(51744, 2);
    xen_test_assert_key(be, "sectors", "16384");
    qtest_qmp_assert_success(qts, "{'execute': 'block_resize', 'arguments': "
                             "{'device': 'r0', 'size': %d}}",
                             2 * IMAGE_SIZE);
    g_assert_true(xen_test_wait_value(be, "sectors", "32768"));
    xen_test_assert_key(be, "state", "2");
    stop(qts, 51744);
    unlink(own);
}

/* A segment lies within one page: no larger sector. */
static void test_large_sector(void)
{
    QTestState *qts = start("");
    QDict *rsp = qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                           "{'driver': 'xen-disk', 'vdev': 'xvda', "
                           "'drive': 'd0', 'logical_block_size': 8192, "
                           "'physical_block_size': 8192}}");

    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);
    qtest_quit(qts);
}

/* A CD-ROM drive with no medium: zero sectors, still a device. */
static void test_empty_cdrom(void)
{
    QTestState *qts = start("-drive if=none,id=c0 "
                            "-device xen-cdrom,vdev=hdc,drive=c0");
    g_autofree char *be = backend_path(5632);

    assert_backend_state(5632, 2);
    xen_test_assert_key(be, "sectors", "0");
    xen_test_assert_key(be, "info", "7");
    stop(qts, 5632);
}

/* The connect code holds at most 16 ring references. */
static void test_max_ring_page_order(void)
{
    QTestState *qts = start("");
    QDict *rsp = qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                           "{'driver': 'xen-disk', 'vdev': 'xvda', "
                           "'drive': 'd0', 'max-ring-page-order': 5}}");

    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);
    qtest_quit(qts);
}

/*
 * persistent-grants=on publishes feature-persistent (the blkfront suite's
 * bad-persistent case checks the frontend's key).
 */
static void test_persistent_grants(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0,"
                            "persistent-grants=on");
    g_autofree char *be = backend_path(51712);

    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_key(be, "feature-persistent", "1");
    stop(qts, 51712);
}

/* max-queues: 1 turns multi-queue off, above 16 is refused. */
static void test_max_queues(void)
{
    QTestState *qts = start("-device xen-disk,vdev=xvda,drive=d0,"
                            "max-queues=1");
    g_autofree char *be = backend_path(51712);
    QDict *rsp;

    g_assert_true(xen_test_wait_value(be, "state", "2"));
    xen_test_assert_key(be, "multi-queue-max-queues", "1");
    rsp = qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                    "{'driver': 'xen-disk', 'vdev': 'xvdb', "
                    "'drive': 'd1', 'max-queues': 17}}");
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"), "max-queues 17"));
    qobject_unref(rsp);
    stop(qts, 51712);
}

static void test_reserved_frontend_id(void)
{
    QTestState *qts = start("");
    QDict *rsp = qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                           "{'driver': 'xen-disk', 'vdev': 'xvda', "
                           "'drive': 'd0', 'frontend-id': 32752}}");

    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);
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
    reference = getenv("XEN_TEST_REFERENCE") != NULL;
    image = xen_test_make_image(IMAGE_SIZE);
    image_ro = xen_test_make_image(IMAGE_SIZE);

    qtest_add_func("/xen-block/vdev/valid", test_vdev_valid);
    qtest_add_func("/xen-block/vdev/invalid", test_vdev_invalid);
    qtest_add_func("/xen-block/areas/disk", test_disk_areas);
    qtest_add_func("/xen-block/areas/cdrom", test_cdrom_areas);
    qtest_add_func("/xen-block/areas/toolstack-frontend",
                   test_toolstack_frontend);
    qtest_add_func("/xen-block/hotplug", test_hotplug);
    qtest_add_func("/xen-block/exit/sigterm", test_exit_sigterm);
    qtest_add_func("/xen-block/exit/quit", test_exit_quit);
    qtest_add_func("/xen-block/state/machine", test_state_machine);
    if (!reference) {
        qtest_add_func("/xen-block/areas/readonly-disk", test_readonly_disk);
        qtest_add_func("/xen-block/state/connect-refused",
                       test_connect_refused);
        qtest_add_func("/xen-block/hostile/keys", test_hostile_keys);
        qtest_add_func("/xen-block/max-ring-page-order",
                       test_max_ring_page_order);
        qtest_add_func("/xen-block/max-queues", test_max_queues);
        qtest_add_func("/xen-block/persistent-grants",
                       test_persistent_grants);
        qtest_add_func("/xen-block/large-sector", test_large_sector);
        qtest_add_func("/xen-block/areas/empty-cdrom", test_empty_cdrom);
        qtest_add_func("/xen-block/vdev/auto", test_vdev_auto);
        /* QEMU 7.2 and 10.0 keep the drive. */
        qtest_add_func("/xen-block/unplug/drive", test_unplug_drive);
    }
    qtest_add_func("/xen-block/vdev/drive-if-xen", test_drive_if_xen);
    qtest_add_func("/xen-block/resize", test_resize);
    qtest_add_func("/xen-block/hostile/flapping", test_state_flapping);
    qtest_add_func("/xen-block/frontend-id/reserved",
                   test_reserved_frontend_id);

    ret = g_test_run();
    unlink(image);
    unlink(image_ro);
    g_free(image);
    g_free(image_ro);
    xen_test_cleanup();
    return ret;
}
