/*
 * xenemu: the guest side of the hypervisor test double
 *
 * A process that plays guest domain N (the userspace blkfront, hostile
 * frontends in tests) uses this API instead of a kernel: it owns the
 * domain's RAM, grant table and event channels in the double's shared
 * state, and talks to xenstored over the domain's own xenstore ring, so
 * xenstored sees it as domain N with that domain's permissions.
 *
 * The state folder comes from $XENEMU_STATE (set by xenemu-run).  The domain
 * must have been created by `xenemu-run --guest N` (or xenemu_ctl).
 *
 * One process at a time acts as a given domain.  What a guest kernel owns
 * is shared by every process that opens the domain: the xenstore
 * connection (one ring, with its watches and transactions) and the
 * allocators of pages and grant refs.  Processes of one domain may take
 * turns (a test and the children it forks): the ring goes to whoever calls
 * xenemu_xs_* next, with the watches set so far, and a watch event goes to
 * whichever process reads the ring first.  They must not overlap.
 *
 * What a process leaves behind when it dies, even by SIGKILL, is taken
 * back by the time the next process has opened the domain, as a kernel
 * does at exit: its event channels, pages and grant refs (a grant the
 * backend still has mapped, and its page, once unmapped), and, when it was
 * the last to use the xenstore ring, the connection's watches and
 * transactions and what was on the ring for them (XS_RESET_WATCHES).
 * Request ids are unique across processes, so a reply left on the ring
 * never answers a new request; a message that fits the ring (1 KiB) moves
 * in one piece, so a process killed halfway through leaves the ring at a
 * message boundary.
 *
 * Waiting for event channels and xenstore watches together: poll() both
 * xenemu_guest_evtchn_fd() and xenemu_xs_fd(), then call
 * xenemu_guest_evtchn_wait() and xenemu_xs_read_watch() with a timeout of 0
 * for whichever is readable.  A single-threaded process can also alternate
 * the two calls with short timeouts.
 *
 * Conventions: functions returning int return >= 0 on success and -errno on
 * failure; pointers are NULL on failure with errno set.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XENEMU_GUEST_H
#define XENEMU_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XENEMU_PAGE_SIZE 4096

typedef struct XenemuGuest XenemuGuest;

/*
 * Attach to domain @domid of the environment in $XENEMU_STATE, taking back
 * what dead processes left (above).  errno ESRCH: no such domain;
 * ETIMEDOUT: xenstored does not serve the domain's ring.
 */
XenemuGuest *xenemu_guest_open(uint32_t domid);
void xenemu_guest_close(XenemuGuest *g);
uint32_t xenemu_guest_domid(XenemuGuest *g);

/*
 * Guest memory.  Pages are allocated from the domain's RAM (a memfd shared
 * with the double); @gfn receives the frame number of the first page of a
 * physically contiguous run of @count pages.
 */
void *xenemu_guest_alloc_pages(XenemuGuest *g, unsigned int count,
                               uint64_t *gfn);
void xenemu_guest_free_pages(XenemuGuest *g, uint64_t gfn,
                             unsigned int count);
/* Direct pointer to frame @gfn (any frame of the domain's RAM). */
void *xenemu_guest_gfn_to_ptr(XenemuGuest *g, uint64_t gfn);

/*
 * Grant table (v1 entries in the domain's grant table, exactly as a guest
 * kernel writes them: frame, domid, then flags with GTF_permit_access and
 * optionally GTF_readonly, with the right write barriers).
 */
int xenemu_guest_grant_access(XenemuGuest *g, uint32_t peer_domid,
                              uint64_t gfn, bool readonly); /* gref */
/* -EBUSY while the peer still has it mapped (GTF_reading/GTF_writing). */
int xenemu_guest_end_access(XenemuGuest *g, uint32_t gref);
/* Writes a raw entry: hostile tests forge grants with this. */
int xenemu_guest_grant_raw(XenemuGuest *g, uint32_t gref, uint16_t flags,
                           uint16_t domid, uint32_t frame);
/*
 * Current flags of entry @gref (GTF_* from xen/grant_table.h), including
 * the GTF_reading/GTF_writing the hypervisor sets while the peer has the
 * grant mapped or is copying through it; -EINVAL for a bad ref.
 */
int xenemu_guest_grant_flags(XenemuGuest *g, uint32_t gref);

/*
 * Event channels of the domain.  The domain's xenstore event channel is not
 * one of them: the library handles it internally (xenemu_xs_* calls and
 * xenemu_xs_read_watch pump the xenstore ring and buffer watch events), so
 * xenemu_guest_evtchn_wait never returns it and the fd below never wakes up
 * for xenstore traffic.
 *
 * Delivery follows Xen with Linux's evtchn driver: a port that becomes
 * pending while unmasked is delivered once (and masked); notifications
 * arriving while it is masked coalesce into its pending bit, and
 * xenemu_guest_evtchn_unmask re-delivers it if pending.  Ports are owned by
 * the XenemuGuest that allocated them; another handle gets -ENOTCONN.
 */
int xenemu_guest_evtchn_alloc_unbound(XenemuGuest *g,
                                      uint32_t remote_domid); /* port */
int xenemu_guest_evtchn_notify(XenemuGuest *g, uint32_t port);
int xenemu_guest_evtchn_close(XenemuGuest *g, uint32_t port);
/* Readable (poll) whenever a port of this guest is pending and unmasked. */
int xenemu_guest_evtchn_fd(XenemuGuest *g);
/*
 * Next pending port (which becomes masked, as in Xen's delivery), or
 * -EAGAIN when none; @timeout_ms < 0 waits forever, 0 does not wait.
 */
int xenemu_guest_evtchn_wait(XenemuGuest *g, int timeout_ms);
int xenemu_guest_evtchn_unmask(XenemuGuest *g, uint32_t port);

/*
 * Xenstore over the domain's ring (struct xenstore_domain_interface, the
 * xs_wire.h protocol), as domain @domid.  Paths are absolute or relative to
 * /local/domain/<domid>.  tx is 0 outside a transaction.  Errors are the
 * ones xenstored reports (-EACCES, -ENOENT, -EAGAIN...), and -ETIMEDOUT
 * when xenstored does not answer within 30 s.  One XenemuGuest must not be
 * used by two threads at once.  A domain has a single xenstore ring: two
 * processes attached to the same domain may take turns using it (each call
 * re-attaches to the ring's event channel) but not overlap (see above).
 */
typedef uint32_t XenemuTx;

/* Value is NUL-terminated and malloc'ed; *len (if non-NULL) excludes NUL. */
char *xenemu_xs_read(XenemuGuest *g, XenemuTx tx, const char *path,
                     unsigned int *len);
int xenemu_xs_write(XenemuGuest *g, XenemuTx tx, const char *path,
                    const void *data, unsigned int len);
int xenemu_xs_printf(XenemuGuest *g, XenemuTx tx, const char *path,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int xenemu_xs_mkdir(XenemuGuest *g, XenemuTx tx, const char *path);
int xenemu_xs_rm(XenemuGuest *g, XenemuTx tx, const char *path);
/* NULL-terminated malloc'ed vector of malloc'ed names; *num gets count. */
char **xenemu_xs_directory(XenemuGuest *g, XenemuTx tx, const char *path,
                           unsigned int *num);
/* Permission strings as xenstore-chmod takes them: "n0", "r1", "b2"... */
int xenemu_xs_set_perms(XenemuGuest *g, XenemuTx tx, const char *path,
                        const char *const *perms, unsigned int nperms);
int xenemu_xs_transaction_start(XenemuGuest *g, XenemuTx *tx);
/* Returns -EAGAIN when the transaction conflicted. */
int xenemu_xs_transaction_end(XenemuGuest *g, XenemuTx tx, bool abort);
int xenemu_xs_watch(XenemuGuest *g, const char *path, const char *token);
int xenemu_xs_unwatch(XenemuGuest *g, const char *path, const char *token);
/*
 * Wait up to @timeout_ms (< 0: forever) for a watch event; fills malloc'ed
 * *path and *token.  -EAGAIN on timeout.
 */
int xenemu_xs_read_watch(XenemuGuest *g, int timeout_ms, char **path,
                         char **token);
/*
 * Readable (poll) when xenstored signalled the ring: then
 * xenemu_xs_read_watch(g, 0, ...) returns the watch events that came in,
 * or -EAGAIN if there were none (xenstored also signals when it consumes a
 * request).  Events that arrived during other calls are buffered without
 * waking it: call xenemu_xs_read_watch(g, 0, ...) until -EAGAIN before
 * polling.  Only the XenemuGuest that used the ring last (opened the domain
 * or made a xenemu_xs_* call) is woken.
 */
int xenemu_xs_fd(XenemuGuest *g);

#endif /* XENEMU_GUEST_H */
