/*
 * QTest for toolstack-created Xen disks ("qdisk" backend areas as libxl 4.17
 * writes them) and for QMP hotplug and unplug of xen-disk
 *
 * Runs under the project's Xen test double with guest domain 1; the
 * userspace blkfront ($XEN_BLKFRONT) plays the guest and moves data.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qemu/cutils.h"
#include "xen-test-helpers.h"

#define IMAGE_SIZE (16 * 1024 * 1024)

typedef struct LibxlDisk {
    unsigned long devid;
    const char *vdev;
    const char *params;
    const char *mode;
    const char *device_type;
    const char *discard_enable;
    bool direct_io_safe;
} LibxlDisk;

static bool xs_put(xs_transaction_t t, const char *node, const char *key,
                   const char *value)
{
    g_autofree char *path = g_strdup_printf("%s/%s", node, key);

    return xs_write(xen_test_xsh(), t, path, value, strlen(value));
}

/* What libxl 4.17 writes for a qdisk of a PV guest, in one transaction. */
static void libxl_attach(const LibxlDisk *d)
{
    struct xs_handle *xsh = xen_test_xsh();
    g_autofree char *be = xen_test_backend_path("qdisk", d->devid);
    g_autofree char *fe = xen_test_frontend_path(d->devid);
    g_autofree char *devid = g_strdup_printf("%lu", d->devid);
    struct xs_permissions fe_perms[] = {
        { .id = XEN_TEST_FRONTEND_ID, .perms = XS_PERM_NONE },
        { .id = XEN_TEST_BACKEND_ID, .perms = XS_PERM_READ },
    };
    struct xs_permissions be_perms[] = {
        { .id = XEN_TEST_BACKEND_ID, .perms = XS_PERM_NONE },
        { .id = XEN_TEST_FRONTEND_ID, .perms = XS_PERM_READ },
    };

    for (;;) {
        xs_transaction_t t = xs_transaction_start(xsh);
        bool ok;

        g_assert_true(t != XBT_NULL);
        ok = xs_mkdir(xsh, t, fe) &&
            xs_set_permissions(xsh, t, fe, fe_perms, 2) &&
            xs_put(t, fe, "backend", be) &&
            xs_put(t, fe, "backend-id", "0") &&
            xs_put(t, fe, "state", "1") &&
            xs_put(t, fe, "virtual-device", devid) &&
            xs_put(t, fe, "device-type", d->device_type) &&
            xs_put(t, fe, "trusted", "1") &&
            xs_mkdir(xsh, t, be) &&
            xs_set_permissions(xsh, t, be, be_perms, 2) &&
            xs_put(t, be, "frontend", fe) &&
            xs_put(t, be, "frontend-id", "1") &&
            xs_put(t, be, "online", "1") &&
            xs_put(t, be, "state", "1") &&
            xs_put(t, be, "removable", "0") &&
            xs_put(t, be, "bootable", "1") &&
            xs_put(t, be, "type", "qdisk") &&
            xs_put(t, be, "mode", d->mode) &&
            xs_put(t, be, "device-type", d->device_type) &&
            xs_put(t, be, "params", d->params) &&
            xs_put(t, be, "dev", d->vdev) &&
            xs_put(t, be, "direct-io-safe", d->direct_io_safe ? "1" : "0") &&
            xs_put(t, be, "discard-enable", d->discard_enable) &&
            xs_put(t, be, "specification", "xen");
        g_assert_true(ok);
        if (xs_transaction_end(xsh, t, false)) {
            return;
        }
        g_assert_cmpint(errno, ==, EAGAIN);
    }
}

/*
 * libxl's detach: "online" to 0 and the backend to Closing in one
 * transaction, wait for Closed, then remove both areas itself.
 */
static void libxl_detach(unsigned long devid)
{
    struct xs_handle *xsh = xen_test_xsh();
    g_autofree char *be = xen_test_backend_path("qdisk", devid);
    g_autofree char *fe = xen_test_frontend_path(devid);

    for (;;) {
        xs_transaction_t t = xs_transaction_start(xsh);

        g_assert_true(xs_put(t, be, "online", "0") &&
                      xs_put(t, be, "state", "5"));
        if (xs_transaction_end(xsh, t, false)) {
            break;
        }
        g_assert_cmpint(errno, ==, EAGAIN);
    }
    g_assert_true(xen_test_wait_value(be, "state", "6"));
    g_assert_true(xs_rm(xsh, XBT_NULL, be));
    g_assert_true(xs_rm(xsh, XBT_NULL, fe));
}

static QTestState *start(const char *extra)
{
    return qtest_initf("-machine xenpv -xen-domid %d -xen-attach "
                       "-nodefaults -display none "
                       "%s",
                       XEN_TEST_FRONTEND_ID, extra);
}

/* Devices of @type on the machine (qdisk devices are unattached). */
static int count_devices(QTestState *qts, const char *type)
{
    g_autofree char *child = g_strdup_printf("child<%s>", type);
    QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-list', 'arguments': "
                           "{'path': '/machine/unattached'}}");
    QListEntry *e;
    int n = 0;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *prop = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(prop, "type"), child)) {
            n++;
        }
    }
    qobject_unref(rsp);
    return n;
}

/* Whether the node reading @filename bypasses the host page cache. */
static bool node_is_direct(QTestState *qts, const char *filename)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-named-block-nodes'}");
    QListEntry *e;
    bool direct = false;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *node = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(node, "file"), filename)) {
            direct = qdict_get_bool(qdict_get_qdict(node, "cache"),
                                    "direct");
        }
    }
    qobject_unref(rsp);
    return direct;
}

/* Block nodes reading @filename. */
static int count_nodes(QTestState *qts, const char *filename)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-named-block-nodes'}");
    QListEntry *e;
    int n = 0;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *node = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(node, "file"), filename)) {
            n++;
        }
    }
    qobject_unref(rsp);
    return n;
}

/* IOThreads of qdisk devices (named xen-qdisk-<frontend>-<vbd>). */
static int count_iothreads(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-iothreads'}");
    QListEntry *e;
    int n = 0;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *iothread = qobject_to(QDict, qlist_entry_obj(e));

        if (g_str_has_prefix(qdict_get_str(iothread, "id"), "xen-qdisk-")) {
            n++;
        }
    }
    qobject_unref(rsp);
    return n;
}

static void check_gone(QTestState *qts, const char *type,
                       const char *image)
{
    int waited;

    /* Devices are finalized, and drop their drives, after an RCU period */
    for (waited = 0; waited < 10000; waited += 10) {
        if (!count_devices(qts, type) && !count_nodes(qts, image)) {
            break;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(count_devices(qts, type), ==, 0);
    g_assert_cmpint(count_nodes(qts, image), ==, 0);
    g_assert_cmpint(count_iothreads(qts), ==, 0);
}

static void verify_data(const char *vdev, const char *image)
{
    g_autofree char *out = NULL;
    int rc;

    if (image) {
        rc = xen_test_blkfront(&out, "--vdev %s verify 0 4M --image %s",
                               vdev, image);
    } else {
        rc = xen_test_blkfront(&out, "--vdev %s verify 0 4M", vdev);
    }
    if (rc) {
        g_test_message("blkfront verify: %s", out);
    }
    g_assert_cmpint(rc, ==, 0);
    g_assert_nonnull(strstr(out, "verify=ok"));
}

/* libxl attaches @d to running QEMU, which creates the device (InitWait) */
static void attach_created(const LibxlDisk *d)
{
    g_autofree char *be = xen_test_backend_path("qdisk", d->devid);

    libxl_attach(d);
    g_assert_true(xen_test_wait_value(be, "state", "2"));
}

/* libxl detaches @devid: device @type, its drive on @image, IOThread gone */
static void detach_gone(QTestState *qts, unsigned long devid,
                        const char *type, const char *image)
{
    libxl_detach(devid);
    check_gone(qts, type, image);
}

static void test_raw_disk(void)
{
    g_autofree char *image = xen_test_make_image(IMAGE_SIZE);
    g_autofree char *params = g_strdup_printf("aio:%s", image);
    g_autofree char *be = xen_test_backend_path("qdisk", 51712);
    LibxlDisk disk = {
        .devid = 51712, .vdev = "xvda", .params = params, .mode = "w",
        .device_type = "disk", .discard_enable = "1",
    };
    g_autofree char *out = NULL;
    QTestState *qts;

    /* Written before QEMU starts: the first watch event finds it. */
    libxl_attach(&disk);
    qts = start("");
    g_assert_true(xen_test_wait_value(be, "state", "2"));
    g_assert_true(xen_test_exists("/local/domain/0/device-model/1/"
                                  "backends/qdisk"));
    xen_test_assert_key(be, "info", "0");
    xen_test_assert_key(be, "sectors", "32768");
    xen_test_assert_key(be, "feature-discard", "1");
    g_assert_cmpint(count_devices(qts, "xen-disk"), ==, 1);
    g_assert_cmpint(count_iothreads(qts), ==, 1);

    verify_data("xvda", image);
    g_assert_cmpint(xen_test_blkfront(&out, "--vdev xvda discard 0 1M"),
                    ==, 0);

    detach_gone(qts, 51712, "xen-disk", image);
    qtest_quit(qts);
    unlink(image);
}

/* libxl's image formats and the qemu-img format that makes each. */
static const struct {
    const char *libxl;
    const char *qemu;
} image_formats[] = {
    { "qcow2", "qcow2" },
    { "qcow", "qcow" },
    { "vhd", "vpc" },
    { "qed", "qed" },
};

static void test_image_formats(void)
{
    g_autofree char *be = xen_test_backend_path("qdisk", 51728);
    g_autofree char *discard = g_strdup_printf("%s/feature-discard", be);
    QTestState *qts = start("");
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(image_formats); i++) {
        g_autofree char *image = xen_test_make_image(0);
        g_autofree char *params = g_strdup_printf("%s:%s",
                                                  image_formats[i].libxl,
                                                  image);
        g_autofree char *cmd = g_strdup_printf("%s create -q -f %s %s 16M",
                                               getenv("XEN_QEMU_IMG"),
                                               image_formats[i].qemu, image);
        LibxlDisk disk = {
            .devid = 51728, .vdev = "xvdb", .params = params, .mode = "w",
            .device_type = "disk", .discard_enable = "0",
        };

        g_test_message("format %s", image_formats[i].libxl);
        g_assert_cmpint(system(cmd), ==, 0);
        /* Written while QEMU runs. */
        attach_created(&disk);
        g_assert_false(xen_test_exists(discard));
        verify_data("xvdb", NULL);

        detach_gone(qts, 51728, "xen-disk", image);
        unlink(image);
    }
    qtest_quit(qts);
}

static void test_readonly_disk(void)
{
    g_autofree char *image = xen_test_make_image(IMAGE_SIZE);
    g_autofree char *be = xen_test_backend_path("qdisk", 51744);
    g_autofree char *out = NULL;
    g_autofree char *data = NULL;
    gsize len;
    LibxlDisk disk = {
        .devid = 51744, .vdev = "xvdc", .params = image, .mode = "r",
        .device_type = "disk", .discard_enable = "1",
    };
    QTestState *qts = start("");

    attach_created(&disk);
    xen_test_assert_key(be, "info", "4");
    xen_test_assert_key(be, "mode", "r");
    g_assert_cmpint(xen_test_blkfront(&out, "--vdev xvdc write 0 64K "
                                      "--pattern 7"), !=, 0);
    g_assert_true(g_file_get_contents(image, &data, &len, NULL));
    g_assert_cmpuint(len, ==, IMAGE_SIZE);
    g_assert_true(buffer_is_zero(data, len));

    detach_gone(qts, 51744, "xen-disk", image);
    qtest_quit(qts);
    unlink(image);
}

static void test_cdrom(void)
{
    g_autofree char *image = xen_test_make_image(IMAGE_SIZE);
    g_autofree char *params = g_strdup_printf("raw:%s", image);
    g_autofree char *be = xen_test_backend_path("qdisk", 5632);
    LibxlDisk disk = {
        .devid = 5632, .vdev = "hdc", .params = params, .mode = "r",
        .device_type = "cdrom", .discard_enable = "0",
    };
    QTestState *qts = start("");

    attach_created(&disk);
    xen_test_assert_key(be, "info", "7");
    g_assert_cmpint(count_devices(qts, "xen-cdrom"), ==, 1);

    detach_gone(qts, 5632, "xen-cdrom", image);
    qtest_quit(qts);
    unlink(image);
}

/*
 * direct-io-safe: O_DIRECT on a disk-backed image; libxl's default (0):
 * the host page cache.
 */
static void test_direct_io(void)
{
    g_autofree char *image = g_strdup("/var/tmp/xen-test-direct.XXXXXX");
    g_autofree char *params = NULL;
    LibxlDisk disk = {
        .devid = 51712, .vdev = "xvda", .mode = "w",
        .device_type = "disk", .discard_enable = "1",
    };
    QTestState *qts;
    int fd = g_mkstemp(image);
    int safe;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, IMAGE_SIZE), ==, 0);
    close(fd);
    params = g_strdup_printf("aio:%s", image);
    disk.params = params;

    qts = start("");
    for (safe = 0; safe <= 1; safe++) {
        disk.direct_io_safe = safe;
        attach_created(&disk);
        g_assert_cmpint(node_is_direct(qts, image), ==, safe);
        verify_data("xvda", image);
        detach_gone(qts, 51712, "xen-disk", image);
    }
    qtest_quit(qts);
    unlink(image);
}

/* A bad area is refused once, and not retried while it stays. */
static void test_bad_area(void)
{
    g_autofree char *be = xen_test_backend_path("qdisk", 51712);
    LibxlDisk disk = {
        .devid = 51712, .vdev = "xvda", .params = "qcow2:/nonexistent.img",
        .mode = "w", .device_type = "disk", .discard_enable = "1",
    };
    QTestState *qts = start("");
    int i;

    libxl_attach(&disk);
    for (i = 0; i < 20; i++) {
        /* Each write fires the watch again. */
        xen_test_write(be, "bootable", i % 2 ? "1" : "0");
        g_usleep(10 * 1000);
    }
    xen_test_assert_key(be, "state", "1");
    g_assert_cmpint(count_devices(qts, "xen-disk"), ==, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'query-status'}");

    /* Once removed, the same name may come back as a good area. */
    g_assert_true(xs_rm(xen_test_xsh(), XBT_NULL, be));
    g_usleep(100 * 1000);
    {
        g_autofree char *image = xen_test_make_image(IMAGE_SIZE);

        disk.params = image;
        attach_created(&disk);
        detach_gone(qts, 51712, "xen-disk", image);
        unlink(image);
    }
    qtest_quit(qts);
}

/* QEMU with xen-disk "disk0" (xvda) on @image, added by QMP, in InitWait */
static QTestState *start_with_disk0(const char *image)
{
    g_autofree char *drive = g_strdup_printf(
        "-drive if=none,id=d0,file=%s,format=raw", image);
    g_autofree char *be = xen_test_backend_path("qdisk", 51712);
    QTestState *qts = start(drive);

    qtest_qmp_assert_success(qts, "{'execute': 'device_add', 'arguments': "
                             "{'driver': 'xen-disk', 'id': 'disk0', "
                             "'vdev': 'xvda', 'drive': 'd0'}}");
    g_assert_true(xen_test_wait_value(be, "state", "2"));
    return qts;
}

/* device_del while the guest writes: nothing it saw acknowledged is lost */
static void test_device_del_inflight(void)
{
    g_autofree char *image = xen_test_make_image(IMAGE_SIZE);
    g_autofree char *be = xen_test_backend_path("qdisk", 51712);
    QTestState *qts = start_with_disk0(image);
    GPid writer;

    writer = xen_test_blkfront_start("--vdev xvda verify 0 16M --qd 32 "
                                     "--image %s", image);
    g_assert_true(xen_test_wait_value(be, "state", "4"));
    qtest_qmp_assert_success(qts, "{'execute': 'device_del', 'arguments': "
                             "{'id': 'disk0'}}");
    /* The backend asks the frontend to close and waits for it. */
    xen_test_assert_key(be, "online", "0");

    g_assert_cmpint(xen_test_blkfront_wait(writer), ==, 0);
    qtest_qmp_eventwait(qts, "DEVICE_DELETED");
    g_assert_true(xen_test_wait_gone(be));
    qtest_quit(qts);
    unlink(image);
}

/* device_del of a device no frontend uses completes at once. */
static void test_device_del_idle(void)
{
    g_autofree char *image = xen_test_make_image(IMAGE_SIZE);
    g_autofree char *be = xen_test_backend_path("qdisk", 51712);
    QTestState *qts = start_with_disk0(image);
    qtest_qmp_assert_success(qts, "{'execute': 'device_del', 'arguments': "
                             "{'id': 'disk0'}}");
    qtest_qmp_eventwait(qts, "DEVICE_DELETED");
    g_assert_true(xen_test_wait_gone(be));
    qtest_quit(qts);
    unlink(image);
}

/*
 * Block options given as json:{...}: bare, naming their own driver, or
 * behind a format as libxl writes them ("aio:json:{...}" for raw), where
 * they describe what the format reads.
 */
static void test_json_target(void)
{
    static const char *const forms[] = {
        "json:{\"driver\": \"raw\", \"file\": {\"driver\": \"file\", "
        "\"filename\": \"%s\"}}",
        "aio:json:{\"driver\": \"file\", \"filename\": \"%s\"}",
        "raw:json:{\"driver\": \"file\", \"filename\": \"%s\"}",
    };
    QTestState *qts = start("");
    g_autofree char *qcow2 = xen_test_make_image(0);
    g_autofree char *cmd = g_strdup_printf("%s create -q -f qcow2 %s 16M",
                                           getenv("XEN_QEMU_IMG"), qcow2);
    g_autofree char *params = NULL;
    LibxlDisk disk = {
        .devid = 51712, .vdev = "xvda", .mode = "w",
        .device_type = "disk", .discard_enable = "0",
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(forms); i++) {
        g_autofree char *image = xen_test_make_image(IMAGE_SIZE);

        g_free(params);
        params = g_strdup_printf(forms[i], image);
        g_test_message("params %s", params);
        disk.params = params;
        attach_created(&disk);
        verify_data("xvda", image);
        detach_gone(qts, 51712, "xen-disk", image);
        unlink(image);
    }

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(params);
    params = g_strdup_printf("qcow2:json:{\"driver\": \"file\", "
                             "\"filename\": \"%s\"}", qcow2);
    disk.params = params;
    attach_created(&disk);
    verify_data("xvda", NULL);
    detach_gone(qts, 51712, "xen-disk", qcow2);
    unlink(qcow2);
    qtest_quit(qts);
}

/*
 * A json target that is no JSON object is refused, and QEMU serves on: an
 * area written after it (so handled after it) gets its device.
 */
static void test_json_target_bad(void)
{
    static const char *const bad[] = {
        "aio:json:", "aio:json:[1]", "aio:json:{\"driver\": ",
    };
    g_autofree char *be = xen_test_backend_path("qdisk", 51712);
    g_autofree char *image = xen_test_make_image(IMAGE_SIZE);
    QTestState *qts = start("");
    LibxlDisk good = {
        .devid = 51728, .vdev = "xvdb", .params = image, .mode = "w",
        .device_type = "disk", .discard_enable = "0",
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        LibxlDisk disk = {
            .devid = 51712, .vdev = "xvda", .params = bad[i], .mode = "w",
            .device_type = "disk", .discard_enable = "0",
        };

        g_test_message("params %s", bad[i]);
        libxl_attach(&disk);
        attach_created(&good);
        xen_test_assert_key(be, "state", "1");
        g_assert_cmpint(count_devices(qts, "xen-disk"), ==, 1);
        verify_data("xvdb", image);
        detach_gone(qts, 51728, "xen-disk", image);
        g_assert_true(xs_rm(xen_test_xsh(), XBT_NULL, be));
    }
    qtest_quit(qts);
    unlink(image);
}

static bool wait_listening(int port)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    int waited;

    for (waited = 0; waited < 10000; waited += 10) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        bool up = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;

        close(fd);
        if (up) {
            return true;
        }
        g_usleep(10 * 1000);
    }
    return false;
}

/* A disk served over NBD on loopback by qemu-nbd, given as a URL. */
static void test_nbd_url(void)
{
    g_autofree char *image = xen_test_make_image(IMAGE_SIZE);
    /* Our pid picks the port, so that concurrent runs do not collide. */
    int port = 20000 + getpid() % 20000;
    g_autofree char *port_str = g_strdup_printf("%d", port);
    g_autofree char *params = g_strdup_printf("raw:nbd://127.0.0.1:%d",
                                              port);
    g_autofree char *be = xen_test_backend_path("qdisk", 51712);
    const char *qemu_nbd = getenv("XEN_QEMU_NBD");
    const char *argv[] = {
        qemu_nbd, "-f", "raw", "-b", "127.0.0.1", "-p", port_str,
        "--persistent", image, NULL,
    };
    LibxlDisk disk = {
        .devid = 51712, .vdev = "xvda", .params = params, .mode = "w",
        .device_type = "disk", .discard_enable = "0",
    };
    QTestState *qts;
    GPid server;

    if (!qemu_nbd || access(qemu_nbd, X_OK)) {
        g_test_skip("qemu-nbd not found");
        return;
    }
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &server, NULL));
    g_assert_true(wait_listening(port));
    qts = start("");
    attach_created(&disk);
    xen_test_assert_key(be, "sectors", "32768");
    verify_data("xvda", image);
    libxl_detach(51712);
    g_assert_cmpint(count_iothreads(qts), ==, 0);
    qtest_quit(qts);

    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    g_spawn_close_pid(server);
    unlink(image);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    if (!xen_test_init()) {
        g_test_skip("needs the Xen test double (tests/xenemu/xenemu-run)");
        return g_test_run();
    }

    qtest_add_func("/xen-qdisk/libxl/raw", test_raw_disk);
    qtest_add_func("/xen-qdisk/libxl/image-formats", test_image_formats);
    qtest_add_func("/xen-qdisk/libxl/readonly", test_readonly_disk);
    qtest_add_func("/xen-qdisk/libxl/cdrom", test_cdrom);
    qtest_add_func("/xen-qdisk/libxl/direct-io", test_direct_io);
    qtest_add_func("/xen-qdisk/libxl/bad-area", test_bad_area);
    qtest_add_func("/xen-qdisk/libxl/nbd-url", test_nbd_url);
    qtest_add_func("/xen-qdisk/libxl/json-target", test_json_target);
    qtest_add_func("/xen-qdisk/libxl/json-target-bad", test_json_target_bad);
    qtest_add_func("/xen-qdisk/qmp/device-del-inflight",
                   test_device_del_inflight);
    qtest_add_func("/xen-qdisk/qmp/device-del-idle", test_device_del_idle);

    ret = g_test_run();
    xen_test_cleanup();
    return ret;
}
