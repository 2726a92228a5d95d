/*
 * QEMU 7.2 compat: include/qobject/ is include/qapi/qmp/ before QEMU 10.0
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qapi/qmp/qjson.h"
