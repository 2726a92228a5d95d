/*
 * Shared between the xen-blkfront subcommands.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef BLKFRONT_CLI_H
#define BLKFRONT_CLI_H

#include "blkfront.h"

/* Exit codes. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

typedef enum BenchRw {
    BENCH_READ,
    BENCH_WRITE,
    BENCH_MIX,
} BenchRw;

typedef struct CliOptions {
    uint32_t domid;
    BlkfrontConfig cfg;
    /* Subcommand options. */
    const char *image;
    uint64_t seed;
    bool have_seed;
    bool barrier;
    unsigned int qd;
    unsigned int bs;
    BenchRw rw;
    bool random;
    unsigned int mix_read_pct;
    double time_s;
    uint64_t count;
    const char *log;
} CliOptions;

/* Connect with the common options; prints the reason on failure. */
int cli_connect(XenemuGuest *g, const CliOptions *o, Blkfront **bf);

int cmd_bench(XenemuGuest *g, const CliOptions *o, int argc, char **argv);
int cmd_hostile(XenemuGuest *g, const CliOptions *o, int argc, char **argv);
int cmd_stream(XenemuGuest *g, const CliOptions *o, int argc, char **argv);
int cmd_stream_check(const CliOptions *o, int argc, char **argv);
int cmd_fuzz(XenemuGuest *g, const CliOptions *o, int argc, char **argv);

/* OFFSET LENGTH arguments, checked against the disk; prints why not. */
int cli_range(Blkfront *bf, int argc, char **argv, uint64_t *off,
              uint64_t *len);

/* "4096", "64K", "1M", "2G" (binary multiples). */
int parse_size(const char *s, uint64_t *v);

#endif /* BLKFRONT_CLI_H */
