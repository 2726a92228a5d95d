/*
 * xenemu: /proc/xen/xsd_port and /proc/xen/xsd_kva for xenstored
 *
 * The dom0 kernel tells xenstored which port its own xenstore connection
 * uses and gives it the ring page through these two files.  libc's open()
 * family is interposed to redirect exactly these paths into the state
 * folder; everything else goes to the real libc.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

typedef int (*OpenFn)(const char *, int, ...);
typedef int (*OpenatFn)(int, const char *, int, ...);

static const char *redirect(const char *path, char *buf, size_t len)
{
    const char *dir = getenv("XENEMU_STATE");

    if (!dir || strncmp(path, "/proc/xen/xsd_", 14) ||
        (strcmp(path + 14, "port") && strcmp(path + 14, "kva"))) {
        return path;
    }
    snprintf(buf, len, "%s/%s", dir, path + 10);
    return buf;
}

static mode_t open_mode(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
           va_arg(ap, mode_t) : 0;
}

#define DEFINE_OPEN(name)                                               \
int name(const char *path, int flags, ...)                              \
{                                                                       \
    static OpenFn real;                                                 \
    char buf[PATH_MAX];                                                 \
    va_list ap;                                                         \
    mode_t mode;                                                        \
                                                                        \
    if (!real) {                                                        \
        real = (OpenFn)dlsym(RTLD_NEXT, #name);                         \
    }                                                                   \
    va_start(ap, flags);                                                \
    mode = open_mode(flags, ap);                                        \
    va_end(ap);                                                         \
    return real(redirect(path, buf, sizeof(buf)), flags, mode);         \
}

#define DEFINE_OPENAT(name)                                             \
int name(int dirfd, const char *path, int flags, ...)                   \
{                                                                       \
    static OpenatFn real;                                               \
    char buf[PATH_MAX];                                                 \
    va_list ap;                                                         \
    mode_t mode;                                                        \
                                                                        \
    if (!real) {                                                        \
        real = (OpenatFn)dlsym(RTLD_NEXT, #name);                       \
    }                                                                   \
    va_start(ap, flags);                                                \
    mode = open_mode(flags, ap);                                        \
    va_end(ap);                                                         \
    return real(dirfd, redirect(path, buf, sizeof(buf)), flags, mode);  \
}

DEFINE_OPEN(open)
DEFINE_OPEN(open64)
DEFINE_OPENAT(openat)
DEFINE_OPENAT(openat64)
