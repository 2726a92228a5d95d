/*
 * Logging, the clock, test data patterns and vdev names.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "blkfront.h"

void blk_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("xen-blkfront: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

uint64_t blk_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * splitmix64 of (seed, 8-byte word index): any 8-aligned byte range can be
 * generated or checked on its own, so reads of any size and alignment can
 * be verified against writes of any other.
 */
static uint64_t pattern_word(uint64_t seed, uint64_t word)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + word + 1;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void blk_pattern_fill(uint8_t *buf, uint64_t offset, uint64_t len,
                      uint64_t seed)
{
    for (uint64_t i = 0; i < len; i += 8) {
        uint64_t w = pattern_word(seed, (offset + i) / 8);

        memcpy(buf + i, &w, len - i < 8 ? len - i : 8);
    }
}

int64_t blk_pattern_check(const uint8_t *buf, uint64_t offset, uint64_t len,
                          uint64_t seed)
{
    for (uint64_t i = 0; i < len; i += 8) {
        uint64_t w = pattern_word(seed, (offset + i) / 8);
        uint64_t n = len - i < 8 ? len - i : 8;

        if (memcmp(buf + i, &w, n)) {
            for (uint64_t k = 0; k < n; k++) {
                if (buf[i + k] != ((uint8_t *)&w)[k]) {
                    return (int64_t)(i + k);
                }
            }
        }
    }
    return -1;
}

/* Bijective base 26: a=0 .. z=25, aa=26 (xen-vbd-interface.7). */
static int parse_letters(const char **s, unsigned long *disk)
{
    unsigned long v = 0;
    const char *p = *s;

    if (*p < 'a' || *p > 'z') {
        return -EINVAL;
    }
    for (; *p >= 'a' && *p <= 'z'; p++) {
        if (v > (1ul << 20)) {
            return -EINVAL;
        }
        v = v * 26 + (unsigned long)(*p - 'a' + 1);
    }
    *disk = v - 1;
    *s = p;
    return 0;
}

static int parse_num(const char **s, unsigned long *n, bool required)
{
    const char *p = *s;
    unsigned long v = 0;

    if (!(*p >= '0' && *p <= '9')) {
        *n = 0;
        return required ? -EINVAL : 0;
    }
    if (*p == '0' && p[1] >= '0' && p[1] <= '9') {
        return -EINVAL;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (1ul << 24)) {
            return -EINVAL;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    *n = v;
    *s = p;
    return 0;
}

int blk_vdev_to_devid(const char *vdev, uint32_t *devid)
{
    const char *p = vdev;
    unsigned long disk, part = 0;

    if (!strncmp(p, "xvd", 3)) {
        p += 3;
        if (parse_letters(&p, &disk) < 0 || parse_num(&p, &part, false) < 0) {
            return -EINVAL;
        }
    } else if (*p == 'd') {
        p++;
        if (parse_num(&p, &disk, true) < 0) {
            return -EINVAL;
        }
        if (*p == 'p') {
            p++;
            if (parse_num(&p, &part, true) < 0) {
                return -EINVAL;
            }
        }
    } else {
        return -EINVAL;
    }
    if (*p) {
        return -EINVAL;
    }
    if (disk <= 15 && part <= 15) {
        *devid = 202u << 8 | disk << 4 | part;
    } else if (disk < (1ul << 20) && part < 256) {
        *devid = 1u << 28 | disk << 8 | part;
    } else {
        return -EINVAL;
    }
    return 0;
}
