/*
 * Helpers shared by the Xen qtests
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "xen-test-helpers.h"

#define WAIT_MS 10000

static struct xs_handle *xsh;

bool xen_test_init(void)
{
    if (!getenv("XENSTORED_PATH")) {
        return false;
    }
    xsh = xs_open(0);
    g_assert_nonnull(xsh);
    return true;
}

void xen_test_cleanup(void)
{
    xs_close(xsh);
    xsh = NULL;
}

struct xs_handle *xen_test_xsh(void)
{
    return xsh;
}

char *xen_test_backend_path(const char *type, unsigned long devid)
{
    return g_strdup_printf("/local/domain/%d/backend/%s/%d/%lu",
                           XEN_TEST_BACKEND_ID, type, XEN_TEST_FRONTEND_ID,
                           devid);
}

char *xen_test_frontend_path(unsigned long devid)
{
    return g_strdup_printf("/local/domain/%d/device/vbd/%lu",
                           XEN_TEST_FRONTEND_ID, devid);
}

char *xen_test_read(const char *node, const char *key)
{
    g_autofree char *path = g_strdup_printf("%s/%s", node, key);
    unsigned int len;
    char *value = xs_read(xsh, XBT_NULL, path, &len);
    char *copy = value ? g_strndup(value, len) : NULL;

    free(value);
    return copy;
}

void xen_test_write(const char *node, const char *key, const char *value)
{
    g_autofree char *path = g_strdup_printf("%s/%s", node, key);

    g_assert_true(xs_write(xsh, XBT_NULL, path, value, strlen(value)));
}

bool xen_test_exists(const char *node)
{
    unsigned int len;
    char *value = xs_read(xsh, XBT_NULL, node, &len);

    free(value);
    return value != NULL;
}

bool xen_test_wait_value(const char *node, const char *key,
                         const char *want)
{
    int waited;

    for (waited = 0; waited < WAIT_MS; waited += 10) {
        g_autofree char *value = xen_test_read(node, key);

        if (value && !strcmp(value, want)) {
            return true;
        }
        g_usleep(10 * 1000);
    }
    return false;
}

bool xen_test_wait_gone(const char *node)
{
    int waited;

    for (waited = 0; waited < WAIT_MS; waited += 10) {
        if (!xen_test_exists(node)) {
            return true;
        }
        g_usleep(10 * 1000);
    }
    return false;
}

void xen_test_assert_key(const char *node, const char *key,
                         const char *want)
{
    g_autofree char *value = xen_test_read(node, key);

    if (g_strcmp0(value, want)) {
        g_test_message("%s/%s is '%s', want '%s'", node, key,
                       value ? value : "(absent)", want);
    }
    g_assert_cmpstr(value, ==, want);
}

void xen_test_assert_perms(const char *node, unsigned int owner,
                           unsigned int peer, unsigned int peer_perms)
{
    unsigned int num = 0;
    struct xs_permissions *perms = xs_get_permissions(xsh, XBT_NULL, node,
                                                      &num);

    g_assert_nonnull(perms);
    g_assert_cmpuint(num, ==, 2);
    g_assert_cmpuint(perms[0].id, ==, owner);
    g_assert_cmpuint(perms[0].perms, ==, XS_PERM_NONE);
    g_assert_cmpuint(perms[1].id, ==, peer);
    g_assert_cmpuint(perms[1].perms, ==, peer_perms);
    free(perms);
}

char *xen_test_make_image(size_t size)
{
    char *path = g_strdup("/tmp/xen-test-image.XXXXXX");
    int fd = g_mkstemp(path);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

G_GNUC_PRINTF(1, 0)
static char **blkfront_argv(const char *fmt, va_list ap)
{
    const char *blkfront = getenv("XEN_BLKFRONT");
    g_autofree char *args = g_strdup_vprintf(fmt, ap);
    g_autofree char *cmd = NULL;
    char **argv;

    g_assert_nonnull(blkfront);
    cmd = g_strdup_printf("%s --quiet %s", blkfront, args);
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    return argv;
}

int xen_test_blkfront(char **out, const char *fmt, ...)
{
    g_auto(GStrv) argv = NULL;
    g_autofree char *err = NULL;
    va_list ap;
    int status;

    va_start(ap, fmt);
    argv = blkfront_argv(fmt, ap);
    va_end(ap);
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL,
                               NULL, out, &err, &status, NULL));
    if (err && *err) {
        g_test_message("blkfront: %s", err);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

GPid xen_test_blkfront_start(const char *fmt, ...)
{
    g_auto(GStrv) argv = NULL;
    va_list ap;
    GPid pid;

    va_start(ap, fmt);
    argv = blkfront_argv(fmt, ap);
    va_end(ap);
    g_assert_true(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &pid, NULL));
    return pid;
}

int xen_test_blkfront_wait(GPid pid)
{
    int status;

    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
