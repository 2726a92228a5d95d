/*
 * Event-channel services of a XenDevice: interdomain channels to the
 * frontend domain, each served from an AioContext
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "hw/xen/xen-bus.h"
#include "hw/xen/xen-device-services.h"
#include "trace.h"

struct XenEventChannel {
    XenDevice *xendev;
    /*
     * One handle per channel: its fd is readable exactly when this channel
     * has an event, so every AioContext handler owns its own fd.
     */
    xenevtchn_handle *xeh;
    evtchn_port_t local_port;
    XenEventHandler handler;
    void *opaque;
    /* Where the handler runs; NULL while detached. */
    AioContext *ctx;
    /* The context is busy-polling the handler (io_poll_begin..end). */
    bool polling;
    /* An event was consumed while polling and the port left masked. */
    bool masked;
    QLIST_ENTRY(XenEventChannel) link;
};

static void xen_device_evtchn_unmask(XenEventChannel *channel)
{
    if (xenevtchn_unmask(channel->xeh, channel->local_port)) {
        error_report("xen device %s: cannot unmask event channel %d: %s",
                     channel->xendev->name, channel->local_port,
                     strerror(errno));
    }
}

/* io_read: consume the event, re-arm the channel, then do the work. */
static void xen_device_evtchn_event(void *opaque)
{
    XenEventChannel *channel = opaque;
    xenevtchn_port_or_error_t port = xenevtchn_pending(channel->xeh);

    if (port < 0) {
        return;
    }
    trace_xen_device_evtchn_event(channel->xendev->name, port);
    /*
     * While the context polls, the handler runs without events: the port
     * stays masked so that the peer's notifications neither wake this
     * thread nor cost it a read and an unmask each, until polling ends.
     * Otherwise unmask before handling, so that an event raised while the
     * handler runs makes the fd readable again instead of being lost.
     */
    if (channel->polling) {
        channel->masked = true;
    } else {
        xen_device_evtchn_unmask(channel);
    }
    channel->handler(channel->opaque);
}

static void xen_device_evtchn_poll_begin(void *opaque)
{
    XenEventChannel *channel = opaque;

    channel->polling = true;
}

/*
 * aio_poll() calls io_poll once more after this, so that work signalled
 * only by an event that stayed pending while masked is found as well.
 */
static void xen_device_evtchn_poll_end(void *opaque)
{
    XenEventChannel *channel = opaque;

    channel->polling = false;
    if (channel->masked) {
        channel->masked = false;
        xen_device_evtchn_unmask(channel);
    }
}

/*
 * io_poll: while the AioContext busy-polls, run the handler without waiting
 * for an event.  Handlers are idempotent ring checks, so running one finds
 * the work and does it at once.  aio_poll() calls io_poll on leaving poll
 * mode without checking whether external clients are disabled: honour a
 * drained section here.
 */
static bool xen_device_evtchn_poll(void *opaque)
{
    XenEventChannel *channel = opaque;

    if (aio_external_disabled(channel->ctx)) {
        return false;
    }
    return channel->handler(channel->opaque);
}

/*
 * io_poll_ready: io_poll found work and already did it.  aio_poll() only
 * keeps io_poll (and so polling) for handlers that have this callback.
 */
static void xen_device_evtchn_poll_ready(void *opaque)
{
}

static void xen_device_evtchn_attach(XenEventChannel *channel)
{
    int fd = xenevtchn_fd(channel->xeh);

    aio_set_fd_handler(channel->ctx, fd, true, xen_device_evtchn_event, NULL,
                       xen_device_evtchn_poll, xen_device_evtchn_poll_ready,
                       channel);
    aio_set_fd_poll(channel->ctx, fd, xen_device_evtchn_poll_begin,
                    xen_device_evtchn_poll_end);
}

/*
 * Removing the handler ends polling without io_poll_end: unmask here, so
 * that an event left pending is delivered to whoever attaches next.
 */
static void xen_device_evtchn_detach(XenEventChannel *channel)
{
    if (!channel->ctx) {
        return;
    }
    aio_set_fd_handler(channel->ctx, xenevtchn_fd(channel->xeh), true,
                       NULL, NULL, NULL, NULL, NULL);
    channel->ctx = NULL;
    xen_device_evtchn_poll_end(channel);
}

XenEventChannel *xen_device_evtchn_bind(XenDevice *xendev,
                                        unsigned int port,
                                        XenEventHandler handler,
                                        void *opaque, Error **errp)
{
    XenEventChannel *channel = g_new0(XenEventChannel, 1);
    xenevtchn_port_or_error_t local_port;

    channel->xendev = xendev;
    channel->xeh = xenevtchn_open(NULL, 0);
    if (!channel->xeh) {
        error_setg_errno(errp, errno, "failed to open event channel handle");
        g_free(channel);
        return NULL;
    }

    local_port = xenevtchn_bind_interdomain(channel->xeh, xendev->frontend_id,
                                            port);
    if (local_port < 0) {
        error_setg_errno(errp, errno,
                         "failed to bind event channel %u of domain %u",
                         port, xendev->frontend_id);
        xenevtchn_close(channel->xeh);
        g_free(channel);
        return NULL;
    }

    channel->local_port = local_port;
    channel->handler = handler;
    channel->opaque = opaque;
    channel->ctx = qemu_get_aio_context();
    xen_device_evtchn_attach(channel);
    QLIST_INSERT_HEAD(&xendev->event_channels, channel, link);

    trace_xen_device_evtchn_bind(xendev->name, port, local_port);
    return channel;
}

/*
 * Move the handler to @ctx, or with @ctx NULL detach it (no events are
 * handled until a context is set again; one that arrives meanwhile stays
 * pending).  Call it from the thread that runs the current context, or
 * when that context cannot be running the handler, so that the handler
 * never runs after this returns.
 */
void xen_device_evtchn_set_context(XenDevice *xendev,
                                   XenEventChannel *channel,
                                   AioContext *ctx, Error **errp)
{
    trace_xen_device_evtchn_set_context(xendev->name, channel->local_port,
                                        ctx);
    xen_device_evtchn_detach(channel);
    channel->ctx = ctx;
    if (ctx) {
        xen_device_evtchn_attach(channel);
    }
}

void xen_device_evtchn_notify(XenDevice *xendev, XenEventChannel *channel,
                              Error **errp)
{
    trace_xen_device_evtchn_notify(xendev->name, channel->local_port);
    if (xenevtchn_notify(channel->xeh, channel->local_port)) {
        error_setg_errno(errp, errno, "failed to notify event channel %u",
                         channel->local_port);
    }
}

/* The channel is freed even when unbinding fails. */
void xen_device_evtchn_unbind(XenDevice *xendev, XenEventChannel *channel,
                              Error **errp)
{
    trace_xen_device_evtchn_unbind(xendev->name, channel->local_port);
    QLIST_REMOVE(channel, link);
    xen_device_evtchn_detach(channel);
    if (xenevtchn_unbind(channel->xeh, channel->local_port)) {
        error_setg_errno(errp, errno, "failed to unbind event channel %u",
                         channel->local_port);
    }
    xenevtchn_close(channel->xeh);
    g_free(channel);
}

void xen_device_evtchn_close_all(XenDevice *xendev)
{
    XenEventChannel *channel, *next;

    QLIST_FOREACH_SAFE(channel, &xendev->event_channels, link, next) {
        Error *local_err = NULL;

        xen_device_evtchn_unbind(xendev, channel, &local_err);
        if (local_err) {
            warn_report_err(local_err);
        }
    }
}
