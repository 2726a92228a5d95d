/*
 * xenemu: the double's shared state
 *
 * Everything a hypervisor would keep (domains, grant tables, event channel
 * port spaces, event delivery queues) lives in one file mapped MAP_SHARED by
 * every process of the environment ($XENEMU_STATE/shm), under a single
 * process-shared robust mutex.  One lock keeps the cross-domain operations
 * (interdomain bind, close, grant pinning) trivially atomic; every critical
 * section is a handful of loads and stores, so contention is not an issue
 * at the scale of a test or benchmark.
 *
 * Guest RAM is a tmpfs file per domain ($XENEMU_STATE/ram.<domid>.<gen>),
 * which any process maps to play the hypervisor's mapping of guest frames.
 *
 * Event delivery: each handle (a dom0 xenevtchn handle, or one of a guest
 * process's two queues) owns a queue of delivered ports here, plus a unix
 * datagram socket bound at $XENEMU_STATE/ev/<slot>.<gen>.  The owner polls
 * that socket; whoever makes a port deliverable queues it and, on the
 * empty->non-empty transition, sends one datagram.  The owner drains the
 * socket when it empties the queue, both under the lock, so the fd is
 * readable exactly when a port is queued (xenstored exits otherwise).
 * Datagram sockets need no privileges, never raise SIGPIPE, and report a
 * dead owner (ECONNREFUSED).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XENEMU_STATE_H
#define XENEMU_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

#define XENEMU_MAGIC        0x58454d55u     /* "XEMU" */
#define XENEMU_VERSION      3

#define XENEMU_PAGE_SHIFT   12
#define XENEMU_PAGE         (1u << XENEMU_PAGE_SHIFT)

#define XENEMU_MAX_DOMAINS  8
/* v1 entries per domain: Xen's default of 64 grant frames. */
#define XENEMU_NR_GRANTS    32768
#define XENEMU_NR_PORTS     1024            /* ports per domain, 0 invalid */
#define XENEMU_MAX_HANDLES  128
#define XENEMU_MAX_PAGES    (256u << (20 - XENEMU_PAGE_SHIFT)) /* 256 MiB */

/* Grant refs a guest kernel keeps for the toolstack (Linux: 8). */
#define XENEMU_GNTTAB_NR_RESERVED 8

/*
 * Who holds a guest page or grant ref (XenemuDomain.page_owner, gref_owner):
 * the pid of the guest process that allocated it, or one of these.
 */
#define XENEMU_OWNER_FREE   0
#define XENEMU_OWNER_DOMAIN (-1)    /* toolstack-built: never reclaimed */
#define XENEMU_OWNER_ORPHAN (-2)    /* owner died while a backend held it */

enum {
    PORT_FREE = 0,
    PORT_UNBOUND,
    PORT_INTERDOMAIN,
    PORT_VIRQ,
};

typedef struct XenemuPort {
    uint8_t state;
    uint8_t pending;
    uint8_t masked;
    uint8_t queued;             /* in its owner's delivery queue */
    uint16_t remote_domid;      /* UNBOUND: who may bind; INTERDOMAIN: peer */
    uint16_t virq;
    uint32_t remote_port;
    int32_t owner;              /* handle slot, -1 when nobody listens */
} XenemuPort;

typedef struct XenemuDomain {
    uint32_t in_use;
    uint32_t domid;
    uint32_t gen;               /* bumps on every creation of the slot */
    uint32_t dominf_flags;      /* XEN_DOMINF_* (xen/domctl.h) */
    uint64_t nr_pages;
    uint64_t shared_info_frame;
    uint64_t store_gfn;         /* 0 for dom0 */
    uint32_t store_port;        /* in this domain's port space */
    int32_t xs_pid;             /* guest process that used the ring last */
    uint32_t xs_req_id;         /* last request id, unique across them */
    uint8_t uuid[16];

    grant_entry_v1_t grants[XENEMU_NR_GRANTS];
    /* Hypervisor-private pin counts behind GTF_reading/GTF_writing. */
    uint16_t pin_read[XENEMU_NR_GRANTS];
    uint16_t pin_write[XENEMU_NR_GRANTS];
    /* What the first pin saw: later pins use it, as Xen's active entry. */
    uint32_t active_frame[XENEMU_NR_GRANTS];
    uint16_t active_domid[XENEMU_NR_GRANTS];
    /* Guest-kernel bookkeeping: grant refs and pages handed out. */
    int32_t gref_owner[XENEMU_NR_GRANTS];
    int32_t page_owner[XENEMU_MAX_PAGES];

    XenemuPort ports[XENEMU_NR_PORTS];
} XenemuDomain;

typedef struct XenemuHandle {
    uint32_t in_use;
    uint32_t gen;
    int32_t pid;
    uint32_t domid;             /* the domain whose ports it may own */
    uint32_t qhead;
    uint32_t qlen;
    uint32_t queue[XENEMU_NR_PORTS];
} XenemuHandle;

typedef struct XenemuShared {
    uint32_t magic;
    uint32_t version;
    uint32_t size;              /* sizeof(XenemuShared) of its creator */
    pthread_mutex_t lock;
    uint32_t dom_gen;
    uint32_t handle_gen;
    XenemuHandle handles[XENEMU_MAX_HANDLES];
    XenemuDomain domains[XENEMU_MAX_DOMAINS];
} XenemuShared;

/*
 * Per-process attachment.  xenemu_state() maps $XENEMU_STATE/shm on first
 * use and returns NULL (errno set) when the environment is missing.
 */
XenemuShared *xenemu_state(void);
const char *xenemu_state_dir(void);

/* Create the shared segment and dom0 (xenemu-ctl init). */
int xenemu_state_create(const char *dir);

void xenemu_lock(XenemuShared *s);
void xenemu_unlock(XenemuShared *s);

/*
 * Whether process @pid is still running (a zombie is not).  What a process
 * holds in the state is reclaimed once it is gone, as the kernel does when
 * it exits; a reused pid only delays that.
 */
bool xenemu_pid_alive(pid_t pid);

/* Under the lock. */
XenemuDomain *xenemu_domain(XenemuShared *s, uint32_t domid);
XenemuPort *xenemu_port(XenemuDomain *d, uint32_t port);

/*
 * Whole-RAM mapping of a domain in this process (MAP_SHARED over its RAM
 * file), cached per domain generation.  NULL with errno on failure.
 */
uint8_t *xenemu_ram(XenemuDomain *d);
int xenemu_ram_fd(XenemuDomain *d);
void xenemu_ram_path(char *buf, size_t len, uint32_t domid, uint32_t gen);

#endif /* XENEMU_STATE_H */
