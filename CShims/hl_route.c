// hl_route.c - rtnetlink change monitor and kernel-routed raw IPv6 socket.
#define _GNU_SOURCE
#include "hl_route.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int hl_route_monitor_open(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct sockaddr_nl local;
    memset(&local, 0, sizeof local);
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK | RTMGRP_IPV6_IFADDR;
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
}

long hl_route_monitor_drain(int fd, void *buffer, size_t capacity) {
    long messages = 0;
    for (;;) {
        ssize_t got = recv(fd, buffer, capacity, MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return messages;
            if (errno == ENOBUFS) { messages += 1; continue; }
            return messages > 0 ? messages : -errno;
        }
        if (got == 0) return messages;
        size_t remaining = (size_t)got;
        for (struct nlmsghdr *header = buffer; NLMSG_OK(header, remaining);
             header = NLMSG_NEXT(header, remaining)) {
            if (header->nlmsg_type == NLMSG_DONE || header->nlmsg_type == NLMSG_NOOP) continue;
            messages += 1;
        }
    }
}

int hl_ipv6_raw_open(const char *device) {
    int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0) return -errno;
    if (device && device[0]) {
        if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device) + 1) < 0) {
            int saved = errno;
            close(fd);
            return -saved;
        }
    }
    return fd;
}

long hl_ipv6_raw_send(int fd, const void *packet, size_t length, const uint8_t *destination) {
    struct sockaddr_in6 to;
    memset(&to, 0, sizeof to);
    to.sin6_family = AF_INET6;
    memcpy(&to.sin6_addr, destination, 16);
    ssize_t sent = sendto(fd, packet, length, 0, (struct sockaddr *)&to, sizeof to);
    return sent < 0 ? -(long)errno : (long)sent;
}
