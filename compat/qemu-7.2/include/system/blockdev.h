/*
 * QEMU 7.2 compat: include/system/ is include/sysemu/ before QEMU 9.1
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "sysemu/blockdev.h"
