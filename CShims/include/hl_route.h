// hl_route.h - the kernel's routing side of host mode: an rtnetlink socket
// that reports link and address changes, and a raw IPv6 socket whose
// packets the kernel routes and resolves (next hop, neighbour) itself.
//
// Like hl_packet.h: one system call per function, a non-negative result or
// -errno, so Swift never reads a clobbered thread-local errno.
#ifndef HL_ROUTE_H
#define HL_ROUTE_H

#include <stdint.h>
#include <stddef.h>

/// Opens a non-blocking NETLINK_ROUTE socket subscribed to link changes
/// (RTMGRP_LINK) and IPv6 address changes (RTMGRP_IPV6_IFADDR).
int hl_route_monitor_open(void);

/// Reads every datagram queued on the monitor without blocking and returns
/// how many netlink messages they held; 0 when nothing was queued. An
/// overrun socket (ENOBUFS: the kernel dropped notifications) counts as one
/// message: the caller re-reads the state it watches either way.
long hl_route_monitor_drain(int fd, void *buffer, size_t capacity);

/// Opens a raw IPv6 socket with IPPROTO_RAW (the caller supplies the whole
/// IPv6 header, IPV6_HDRINCL) bound to `device` (SO_BINDTODEVICE), so the
/// kernel routes through that interface and fills in the link header from
/// its neighbour table, resolving the next hop when needed.
int hl_ipv6_raw_open(const char *device);

/// Sends one complete IPv6 packet toward `destination` (16 octets: the
/// packet's destination address, used for the route lookup).
long hl_ipv6_raw_send(int fd, const void *packet, size_t length, const uint8_t *destination);

#endif
