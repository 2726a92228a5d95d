/*
 * xenemu-ctl: the toolstack of the double
 *
 *   xenemu-ctl init                   create the state and dom0 (before
 *                                     xenstored starts)
 *   xenemu-ctl dom0                   dom0's xenstore entries (as
 *                                     xen-init-dom0)
 *   xenemu-ctl create DOMID [MIB]     build a guest domain and introduce it
 *                                     to xenstored (as libxl)
 *   xenemu-ctl destroy DOMID          destroy it (as libxl)
 *   xenemu-ctl list                   domains of the double
 *
 * The state folder is $XENEMU_STATE; xenstored is found through
 * $XENSTORED_PATH as by every libxenstore client.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "domain.h"

#define DEFAULT_MEM_MIB 64

static void uuid_str(const uint8_t *u, char *buf)
{
    sprintf(buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
            "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
            u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static bool xs_printf(struct xs_handle *xsh, xs_transaction_t t,
                      const char *path, const char *fmt, ...)
{
    char *val;
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    if (vasprintf(&val, fmt, ap) < 0) {
        va_end(ap);
        return false;
    }
    va_end(ap);
    ok = xs_write(xsh, t, path, val, strlen(val));
    free(val);
    return ok;
}

static bool xs_mknod(struct xs_handle *xsh, xs_transaction_t t,
                     const char *path, struct xs_permissions *perms,
                     unsigned int nperms)
{
    return xs_mkdir(xsh, t, path) &&
           xs_set_permissions(xsh, t, path, perms, nperms);
}

static struct xs_handle *xs_connect(void)
{
    struct xs_handle *xsh = xs_open(0);

    if (!xsh) {
        fprintf(stderr, "xenemu-ctl: cannot reach xenstored: %s\n",
                strerror(errno));
    }
    return xsh;
}

static int cmd_dom0(void)
{
    struct xs_handle *xsh = xs_connect();
    bool ok;

    if (!xsh) {
        return 1;
    }
    ok = xs_printf(xsh, XBT_NULL, "/local/domain/0/domid", "0") &&
         xs_printf(xsh, XBT_NULL, "/local/domain/0/name", "Domain-0");
    xs_close(xsh);
    return ok ? 0 : 1;
}

/* libxl__domain_make + libxl__build_post, the parts a PV backend sees. */
static bool write_domain_nodes(struct xs_handle *xsh, uint32_t domid,
                               unsigned int mem_mib,
                               const XenemuDomainInfo *info)
{
    static const char *const ro_dirs[] = { "cpu", "memory", "control" };
    static const char *const rw_dirs[] = {
        "device", "control/shutdown", "control/feature-poweroff",
        "control/feature-reboot", "control/feature-suspend", "data",
        "drivers", "feature", "attr", "error",
    };
    struct xs_permissions roperm[2] = {
        { .id = 0, .perms = XS_PERM_NONE },
        { .id = domid, .perms = XS_PERM_READ },
    };
    struct xs_permissions rwperm[1] = {
        { .id = domid, .perms = XS_PERM_NONE },
    };
    char dom[64], vm[80], path[128], uuid[40];
    xs_transaction_t t;
    bool ok;

    uuid_str(info->uuid, uuid);
    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);
    for (;;) {
        t = xs_transaction_start(xsh);
        if (!t) {
            return false;
        }
        xs_rm(xsh, t, dom);
        xs_rm(xsh, t, vm);
        ok = xs_mknod(xsh, t, dom, roperm, 2) &&
             xs_mknod(xsh, t, vm, roperm, 2) &&
             xs_printf(xsh, t, strcat(strcpy(path, dom), "/vm"), "%s", vm) &&
             xs_printf(xsh, t, strcat(strcpy(path, dom), "/name"),
                       "guest%u", domid) &&
             xs_printf(xsh, t, strcat(strcpy(path, vm), "/uuid"), "%s",
                       uuid) &&
             xs_printf(xsh, t, strcat(strcpy(path, vm), "/name"),
                       "guest%u", domid);
        for (size_t i = 0; ok && i < sizeof(ro_dirs) / sizeof(*ro_dirs); i++) {
            snprintf(path, sizeof(path), "%s/%s", dom, ro_dirs[i]);
            ok = xs_mknod(xsh, t, path, roperm, 2);
        }
        for (size_t i = 0; ok && i < sizeof(rw_dirs) / sizeof(*rw_dirs); i++) {
            snprintf(path, sizeof(path), "%s/%s", dom, rw_dirs[i]);
            ok = xs_mknod(xsh, t, path, rwperm, 1);
        }
        ok = ok &&
             xs_printf(xsh, t, strcat(strcpy(path, dom), "/domid"), "%u",
                       domid) &&
             xs_printf(xsh, t, strcat(strcpy(path, dom), "/memory/static-max"),
                       "%u", mem_mib * 1024) &&
             xs_printf(xsh, t, strcat(strcpy(path, dom), "/memory/target"),
                       "%u", mem_mib * 1024) &&
             xs_printf(xsh, t, strcat(strcpy(path, dom), "/store/port"), "%u",
                       info->store_port) &&
             xs_printf(xsh, t, strcat(strcpy(path, dom), "/store/ring-ref"),
                       "%llu", (unsigned long long)info->store_gfn);
        if (!ok) {
            xs_transaction_end(xsh, t, true);
            return false;
        }
        if (xs_transaction_end(xsh, t, false)) {
            return true;
        }
        if (errno != EAGAIN) {
            return false;
        }
    }
}

static int cmd_create(uint32_t domid, unsigned int mem_mib)
{
    XenemuDomainInfo info;
    struct xs_handle *xsh;
    int ret;

    ret = xenemu_domain_create(domid, mem_mib, &info);
    if (ret < 0) {
        fprintf(stderr, "xenemu-ctl: create %u: %s\n", domid, strerror(-ret));
        return 1;
    }
    xsh = xs_connect();
    if (!xsh) {
        xenemu_domain_destroy(domid);
        return 1;
    }
    if (!write_domain_nodes(xsh, domid, mem_mib, &info) ||
        !xs_introduce_domain(xsh, domid, info.store_gfn, info.store_port)) {
        fprintf(stderr, "xenemu-ctl: xenstore setup of %u: %s\n", domid,
                strerror(errno));
        xs_close(xsh);
        xenemu_domain_destroy(domid);
        return 1;
    }
    xs_close(xsh);
    return 0;
}

static int cmd_destroy(uint32_t domid)
{
    struct xs_handle *xsh;
    char path[64], *vm;
    int ret;

    ret = xenemu_domain_destroy(domid);
    if (ret < 0) {
        fprintf(stderr, "xenemu-ctl: destroy %u: %s\n", domid,
                strerror(-ret));
        return 1;
    }
    /* xenstored drops the connection on VIRQ_DOM_EXC; libxl cleans up. */
    xsh = xs_connect();
    if (!xsh) {
        return 1;
    }
    snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
    vm = xs_read(xsh, XBT_NULL, path, NULL);
    if (vm) {
        xs_rm(xsh, XBT_NULL, vm);
        free(vm);
    }
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    xs_rm(xsh, XBT_NULL, path);
    xs_close(xsh);
    return 0;
}

static int cmd_list(void)
{
    XenemuShared *s = xenemu_state();

    if (!s) {
        perror("xenemu-ctl: state");
        return 1;
    }
    xenemu_lock(s);
    for (int i = 0; i < XENEMU_MAX_DOMAINS; i++) {
        XenemuDomain *d = &s->domains[i];

        if (d->in_use) {
            printf("%u pages=%llu store_gfn=%llu store_port=%u flags=%#x\n",
                   d->domid, (unsigned long long)d->nr_pages,
                   (unsigned long long)d->store_gfn, d->store_port,
                   d->dominf_flags);
        }
    }
    xenemu_unlock(s);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: xenemu-ctl init | dom0 | create DOMID [MIB] | "
            "destroy DOMID | list\n");
    return 2;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > UINT32_MAX) {
        return false;
    }
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("XENEMU_STATE");
    uint32_t domid, mib = DEFAULT_MEM_MIB;
    int ret;

    if (argc < 2) {
        return usage();
    }
    if (!dir) {
        fprintf(stderr, "xenemu-ctl: XENEMU_STATE is not set\n");
        return 2;
    }
    if (!strcmp(argv[1], "init") && argc == 2) {
        ret = xenemu_state_create(dir);
        if (ret == 0) {
            ret = xenemu_dom0_xenstore_init();
        }
        if (ret < 0) {
            fprintf(stderr, "xenemu-ctl: init: %s\n", strerror(-ret));
            return 1;
        }
        return 0;
    }
    if (!strcmp(argv[1], "dom0") && argc == 2) {
        return cmd_dom0();
    }
    if (!strcmp(argv[1], "list") && argc == 2) {
        return cmd_list();
    }
    if (argc < 3 || !parse_u32(argv[2], &domid)) {
        return usage();
    }
    if (!strcmp(argv[1], "create") && argc <= 4) {
        if (argc == 4 && !parse_u32(argv[3], &mib)) {
            return usage();
        }
        return cmd_create(domid, mib);
    }
    if (!strcmp(argv[1], "destroy") && argc == 3) {
        return cmd_destroy(domid);
    }
    return usage();
}
