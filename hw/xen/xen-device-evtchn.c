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
#include "hw/xen/xen-compat.h"
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
    QLIST_ENTRY(XenEventChannel) link;
};

/*
 * io_read: consume the event and re-arm the channel before doing the work,
 * so that an event raised while the handler runs makes the fd readable
 * again instead of being lost.
 */
static void xen_device_evtchn_event(void *opaque)
{
    XenEventChannel *channel = opaque;
    xenevtchn_port_or_error_t port = qemu_xen_evtchn_pending(channel->xeh);

    if (port < 0) {
        return;
    }
    trace_xen_device_evtchn_event(channel->xendev->name, port);
    if (qemu_xen_evtchn_unmask(channel->xeh, port)) {
        error_report("xen device %s: cannot unmask event channel %d: %s",
                     channel->xendev->name, port, strerror(errno));
    }
    channel->handler(channel->opaque);
}

/*
 * io_poll: while the AioContext busy-polls, run the handler without waiting
 * for an event.  Handlers are idempotent ring checks, so running one finds
 * the work and does it at once.
 */
static bool xen_device_evtchn_poll(void *opaque)
{
    XenEventChannel *channel = opaque;

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
    aio_set_fd_handler(channel->ctx, qemu_xen_evtchn_fd(channel->xeh),
                       xen_device_evtchn_event, NULL, xen_device_evtchn_poll,
                       xen_device_evtchn_poll_ready, channel);
}

static void xen_device_evtchn_detach(XenEventChannel *channel)
{
    if (!channel->ctx) {
        return;
    }
    aio_set_fd_handler(channel->ctx, qemu_xen_evtchn_fd(channel->xeh),
                       NULL, NULL, NULL, NULL, NULL);
    channel->ctx = NULL;
}

XenEventChannel *xen_device_bind_event_channel(XenDevice *xendev,
                                               unsigned int port,
                                               XenEventHandler handler,
                                               void *opaque, Error **errp)
{
    XenEventChannel *channel = g_new0(XenEventChannel, 1);
    xenevtchn_port_or_error_t local_port;

    channel->xendev = xendev;
    channel->xeh = qemu_xen_evtchn_open();
    if (!channel->xeh) {
        error_setg_errno(errp, errno, "failed to open event channel handle");
        g_free(channel);
        return NULL;
    }

    local_port = qemu_xen_evtchn_bind_interdomain(channel->xeh,
                                                  xendev->frontend_id, port);
    if (local_port < 0) {
        error_setg_errno(errp, errno,
                         "failed to bind event channel %u of domain %u",
                         port, xendev->frontend_id);
        qemu_xen_evtchn_close(channel->xeh);
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
 * Move the handler to @ctx, or with @ctx NULL detach it: no events are
 * handled until a context is set again, and one that arrives meanwhile
 * stays pending.  A handler already running in the old context may still
 * finish after this returns.
 */
void xen_device_set_event_channel_context(XenDevice *xendev,
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

void xen_device_notify_event_channel(XenDevice *xendev,
                                     XenEventChannel *channel,
                                     Error **errp)
{
    trace_xen_device_evtchn_notify(xendev->name, channel->local_port);
    if (qemu_xen_evtchn_notify(channel->xeh, channel->local_port)) {
        error_setg_errno(errp, errno, "failed to notify event channel %u",
                         channel->local_port);
    }
}

unsigned int xen_event_channel_get_local_port(XenEventChannel *channel)
{
    return channel->local_port;
}

/* The channel is freed even when unbinding fails. */
void xen_device_unbind_event_channel(XenDevice *xendev,
                                     XenEventChannel *channel,
                                     Error **errp)
{
    trace_xen_device_evtchn_unbind(xendev->name, channel->local_port);
    QLIST_REMOVE(channel, link);
    xen_device_evtchn_detach(channel);
    if (qemu_xen_evtchn_unbind(channel->xeh, channel->local_port)) {
        error_setg_errno(errp, errno, "failed to unbind event channel %u",
                         channel->local_port);
    }
    qemu_xen_evtchn_close(channel->xeh);
    g_free(channel);
}

void xen_device_evtchn_close_all(XenDevice *xendev)
{
    XenEventChannel *channel, *next;

    QLIST_FOREACH_SAFE(channel, &xendev->event_channels, link, next) {
        Error *local_err = NULL;

        xen_device_unbind_event_channel(xendev, channel, &local_err);
        if (local_err) {
            warn_report_err(local_err);
        }
    }
}
