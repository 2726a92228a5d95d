/*
 * xenemu tests: minimal TAP output
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdarg.h>
#include <stdio.h>

#include "tap.h"

static int planned, run, failed;

void tap_plan(int n)
{
    planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

bool tap_ok(bool cond, const char *fmt, ...)
{
    va_list ap;

    run++;
    if (!cond) {
        failed++;
    }
    printf("%sok %d - ", cond ? "" : "not ", run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

void tap_diag(const char *fmt, ...)
{
    va_list ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

int tap_done(void)
{
    if (run != planned) {
        tap_diag("planned %d tests but ran %d", planned, run);
        return 1;
    }
    return failed ? 1 : 0;
}
