/*
 * xenemu: libxenevtchn for dom0 processes (Linux's /dev/xen/evtchn)
 *
 * One handle is one delivery queue with its own pollable fd; ports belong
 * to the handle that bound them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>

#include <xenevtchn.h>

#include "evtchn-core.h"

struct xenevtchn_handle {
    EvcHandle h;
};

static int ret_errno(int ret)
{
    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return ret;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
                                 unsigned int flags)
{
    xenevtchn_handle *xce = calloc(1, sizeof(*xce));
    int ret;

    if (!xce) {
        return NULL;
    }
    ret = evc_handle_open(&xce->h, 0);
    if (ret < 0) {
        free(xce);
        errno = -ret;
        return NULL;
    }
    return xce;
}

/* Only xenstored's live update re-adopts an fd; there is none to adopt. */
xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger,
                                   int fd, unsigned open_flags)
{
    errno = ENOSYS;
    return NULL;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
    if (xce) {
        evc_handle_close(&xce->h);
        free(xce);
    }
    return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
    return xce->h.fd;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
    return ret_errno(evc_notify(&xce->h, port));
}

xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
    return ret_errno(evc_alloc_unbound(&xce->h, domid));
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
                           evtchn_port_t remote_port)
{
    return ret_errno(evc_bind_interdomain(&xce->h, domid, remote_port));
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
    return ret_errno(evc_bind_virq(&xce->h, virq));
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
    return ret_errno(evc_unbind(&xce->h, port, false));
}

/*
 * Linux's read() on the evtchn fd: blocks until a port is delivered unless
 * the fd was made O_NONBLOCK, then -1/EAGAIN.  A port unbound since its
 * delivery is returned all the same, as Linux does; unmasking it is a
 * no-op (evc_unmask ignores ports the handle does not own).
 */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
    struct pollfd pfd = { .fd = xce->h.fd, .events = POLLIN };
    bool stale;
    int port;

    for (;;) {
        port = evc_pop(&xce->h, &stale);
        if (port != -EAGAIN || (fcntl(xce->h.fd, F_GETFL) & O_NONBLOCK)) {
            return ret_errno(port);
        }
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
            return -1;
        }
    }
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
    return ret_errno(evc_unmask(&xce->h, port));
}

int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
    errno = ENOSYS;
    return -1;
}
