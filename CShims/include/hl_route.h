// hl_route.h - the kernel's routing side of host mode: an rtnetlink socket
// that reports link and address changes, a raw IPv6 socket whose packets
// the kernel routes and resolves (next hop, neighbour) itself, and the
// rtnetlink queries the slow path uses to resolve a next hop on its own.
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

/// Asks the kernel which route it would use for `destination` (16 octets)
/// with socket mark `mark` (0: none), like `ip -6 route get ADDR mark M`:
/// one RTM_GETROUTE request on a fresh NETLINK_ROUTE socket. Returns 0 and
/// the outgoing interface; `out_gateway` is filled and `*out_has_gateway`
/// is 1 when the route has a next-hop router, 0 when `destination` is
/// on-link. Otherwise -errno, including the kernel's own answer
/// (-ENETUNREACH: no route, -EHOSTUNREACH / -EACCES / -EINVAL: an
/// unreachable, prohibit or blackhole route).
int hl_route_lookup6(const uint8_t destination[16], uint32_t mark, int32_t *out_ifindex,
                     uint8_t out_gateway[16], int *out_has_gateway);

/// Finds `address` (16 octets) in the kernel's neighbour table for
/// interface `ifindex` (an RTM_GETNEIGH dump, filtered by the kernel and
/// again here). Returns 0 with its link-layer address and NUD_* state;
/// -ENOENT when there is no entry or the entry has no link-layer address
/// (INCOMPLETE, FAILED); -EMSGSIZE when the address is not 6 octets long
/// (not Ethernet); otherwise -errno.
int hl_neighbour_lookup6(int32_t ifindex, const uint8_t address[16], uint8_t out_lladdr[6],
                         uint16_t *out_state);

/// Installs (`install` 1: create or replace) or removes (0) the host route
/// `destination`/128 out of interface `ifindex` in routing table `table`
/// (RTM_NEWROUTE / RTM_DELROUTE, protocol static, no gateway), like
/// `ip -6 route replace ADDR/128 dev IF table T`. Returns 0 or -errno from
/// the kernel's acknowledgement (-ESRCH: no such route to remove).
int hl_route_host6(const uint8_t destination[16], int32_t ifindex, uint32_t table, int install);

/// Installs (1: create or replace) or removes (0) a permanent neighbour
/// entry `address` -> `lladdr` (6 octets; ignored when removing) on
/// `ifindex` (RTM_NEWNEIGH / RTM_DELNEIGH, NUD_PERMANENT), like
/// `ip -6 neigh replace ADDR lladdr MAC dev IF nud permanent`. Returns 0 or
/// -errno (-ENOENT: no such entry to remove).
int hl_neighbour_permanent6(int32_t ifindex, const uint8_t address[16], const uint8_t lladdr[6], int install);

/// Adds (`install` 1) or removes (0) an IPv6 policy rule with action "nop"
/// at `priority` (RTM_NEWRULE / RTM_DELRULE), like
/// `ip -6 rule add pref P nop`. A nop rule matches and does nothing, so
/// it changes no routing decision; adding or removing any rule makes the
/// kernel flush its IPv6 routing trees' generation, which invalidates the
/// routes that sockets cached. Returns 0 or -errno (-ENOENT: no such
/// rule to remove).
int hl_rule_nop6(uint32_t priority, int install);

#endif
