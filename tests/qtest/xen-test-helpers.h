/*
 * Helpers shared by the Xen qtests: xenstore access and waits, images, the
 * userspace blkfront
 *
 * The tests run under the project's Xen test double (tests/xenemu/), with
 * guest domain 1 and QEMU reached through scripts/xenemu-qemu-system-i386.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XEN_TEST_HELPERS_H
#define TESTS_QTEST_XEN_TEST_HELPERS_H

#include <xenstore.h>

#define XEN_TEST_FRONTEND_ID 1
#define XEN_TEST_BACKEND_ID 0

/* Connect to the double's xenstored; false when not under the double. */
bool xen_test_init(void);
void xen_test_cleanup(void);
struct xs_handle *xen_test_xsh(void);

char *xen_test_backend_path(const char *type, unsigned long devid);
char *xen_test_frontend_path(unsigned long devid);

/* A key's value, or NULL when it does not exist. */
char *xen_test_read(const char *node, const char *key);
void xen_test_write(const char *node, const char *key, const char *value);
bool xen_test_exists(const char *node);
/* Poll (xenstore is asynchronous to QEMU) for a value or a node's end. */
bool xen_test_wait_value(const char *node, const char *key,
                         const char *want);
bool xen_test_wait_gone(const char *node);
void xen_test_assert_key(const char *node, const char *key,
                         const char *want);
void xen_test_assert_perms(const char *node, unsigned int owner,
                           unsigned int peer, unsigned int peer_perms);

/* A zero-filled raw image of @size bytes in /tmp; unlink and g_free it. */
char *xen_test_make_image(size_t size);

/*
 * Run the userspace blkfront ($XEN_BLKFRONT) as guest domain 1 with
 * @args (space-separated); returns its exit status, output in *@out.
 */
int xen_test_blkfront(char **out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The same, started in the background; xen_test_blkfront_wait() ends it */
GPid xen_test_blkfront_start(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
int xen_test_blkfront_wait(GPid pid);

#endif /* TESTS_QTEST_XEN_TEST_HELPERS_H */
