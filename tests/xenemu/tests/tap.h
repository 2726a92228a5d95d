/*
 * xenemu tests: minimal TAP output
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XENEMU_TAP_H
#define XENEMU_TAP_H

#include <stdbool.h>

void tap_plan(int n);
/* Prints "ok N - name" or "not ok N - name"; returns @cond. */
bool tap_ok(bool cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit status for main: non-zero if any test failed or the plan was off. */
int tap_done(void);

#endif /* XENEMU_TAP_H */
