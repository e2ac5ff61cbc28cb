// hl_route.c - rtnetlink change monitor, kernel-routed raw IPv6 socket,
// next-hop and neighbour queries.
#define _GNU_SOURCE
#include "hl_route.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
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

// MARK: - Next-hop and neighbour queries

// Replies are read into a buffer of this size. A dump datagram never
// exceeds 32 KiB (netlink_recvmsg caps the kernel's dump allocation there);
// a larger datagram is reported as -EMSGSIZE rather than read truncated.
enum { HL_NETLINK_REPLY_CAPACITY = 32 * 1024 };

// Starts a request of `type` with a fixed part of `body` octets (zeroed by
// the caller) and no attributes yet.
static void hl_netlink_begin(struct nlmsghdr *header, size_t body, unsigned short type, unsigned short flags) {
    header->nlmsg_len = NLMSG_LENGTH(body);
    header->nlmsg_type = type;
    header->nlmsg_flags = flags;
    header->nlmsg_seq = 1;
}

// Appends one attribute to the request in `message` (`capacity` octets).
static int hl_netlink_put(struct nlmsghdr *message, size_t capacity, unsigned short type,
                          const void *data, size_t length) {
    size_t offset = NLMSG_ALIGN(message->nlmsg_len);
    size_t size = RTA_LENGTH(length);
    if (offset + RTA_ALIGN(size) > capacity) return -EMSGSIZE;
    struct rtattr *attribute = (struct rtattr *)((char *)message + offset);
    attribute->rta_type = type;
    attribute->rta_len = (unsigned short)size;
    memcpy(RTA_DATA(attribute), data, length);
    message->nlmsg_len = (uint32_t)(offset + RTA_ALIGN(size));
    return 0;
}

// The attributes after a message's fixed `body` octets (a multiple of 4)
// and their total length; NULL when the message is shorter than the body.
static struct rtattr *hl_netlink_attributes(struct nlmsghdr *message, size_t body, int *out_length) {
    if (message->nlmsg_len < NLMSG_LENGTH(body)) return NULL;
    *out_length = (int)(message->nlmsg_len - NLMSG_LENGTH(body));
    return (struct rtattr *)((char *)message + NLMSG_LENGTH(body));
}

// Sends `request` on a fresh NETLINK_ROUTE socket and passes each reply
// message with its sequence number to `visit`, until NLMSG_DONE, an
// NLMSG_ERROR, or `visit` returns non-zero. Returns 0 or -errno (the
// kernel's error, or visit's negative result).
static int hl_netlink_exchange(struct nlmsghdr *request,
                               int (*visit)(struct nlmsghdr *message, void *context), void *context) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    while (sendto(fd, request, request->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        if (errno == EINTR) continue;
        int saved = errno;
        close(fd);
        return -saved;
    }
    // On the heap: the slow path's threads need not have 32 KiB of stack to spare.
    struct nlmsghdr *buffer = malloc(HL_NETLINK_REPLY_CAPACITY);
    if (!buffer) {
        close(fd);
        return -ENOMEM;
    }
    int result = 1;  // > 0: not finished yet
    while (result > 0) {
        ssize_t got = recv(fd, buffer, HL_NETLINK_REPLY_CAPACITY, MSG_TRUNC);
        if (got < 0) {
            if (errno == EINTR) continue;
            result = -errno;
            break;
        }
        if (got == 0 || got > HL_NETLINK_REPLY_CAPACITY) {
            result = got == 0 ? -EPROTO : -EMSGSIZE;
            break;
        }
        int remaining = (int)got;
        for (struct nlmsghdr *message = buffer; result > 0 && NLMSG_OK(message, remaining);
             message = NLMSG_NEXT(message, remaining)) {
            if (message->nlmsg_seq != request->nlmsg_seq) continue;
            if (message->nlmsg_type == NLMSG_ERROR) {
                if (message->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) { result = -EPROTO; break; }
                const struct nlmsgerr *error = NLMSG_DATA(message);
                result = error->error < 0 ? error->error : 0;
            } else if (message->nlmsg_type == NLMSG_DONE) {
                int status = 0;
                if (message->nlmsg_len >= NLMSG_LENGTH(sizeof status)) memcpy(&status, NLMSG_DATA(message), sizeof status);
                result = status < 0 ? status : 0;
            } else {
                int visited = visit(message, context);
                if (visited != 0) result = visited < 0 ? visited : 0;
            }
        }
    }
    free(buffer);
    close(fd);
    return result;
}

struct hl_route_answer {
    int found;
    int32_t ifindex;
    int has_gateway;
    uint8_t gateway[16];
};

static int hl_route_visit(struct nlmsghdr *message, void *context) {
    struct hl_route_answer *answer = context;
    int length = 0;
    struct rtattr *attribute = hl_netlink_attributes(message, sizeof(struct rtmsg), &length);
    if (message->nlmsg_type != RTM_NEWROUTE || !attribute) return 0;
    for (; RTA_OK(attribute, length); attribute = RTA_NEXT(attribute, length)) {
        if (attribute->rta_type == RTA_OIF && RTA_PAYLOAD(attribute) >= sizeof answer->ifindex) {
            memcpy(&answer->ifindex, RTA_DATA(attribute), sizeof answer->ifindex);
            answer->found = 1;
        } else if (attribute->rta_type == RTA_GATEWAY && RTA_PAYLOAD(attribute) == sizeof answer->gateway) {
            memcpy(answer->gateway, RTA_DATA(attribute), sizeof answer->gateway);
            answer->has_gateway = 1;
        }
    }
    return 1;  // a route get has exactly one answer
}

int hl_route_lookup6(const uint8_t destination[16], uint32_t mark, int32_t *out_ifindex,
                     uint8_t out_gateway[16], int *out_has_gateway) {
    struct {
        struct nlmsghdr header;
        struct rtmsg route;
        char attributes[64];
    } request;
    memset(&request, 0, sizeof request);
    hl_netlink_begin(&request.header, sizeof request.route, RTM_GETROUTE,
                     NLM_F_REQUEST);
    request.route.rtm_family = AF_INET6;
    request.route.rtm_dst_len = 128;
    int status = hl_netlink_put(&request.header, sizeof request, RTA_DST, destination, 16);
    if (status == 0 && mark != 0) status = hl_netlink_put(&request.header, sizeof request, RTA_MARK, &mark, sizeof mark);
    if (status < 0) return status;

    struct hl_route_answer answer;
    memset(&answer, 0, sizeof answer);
    status = hl_netlink_exchange(&request.header, hl_route_visit, &answer);
    if (status < 0) return status;
    if (!answer.found) return -ENODEV;  // no answer, or a route without an outgoing interface
    *out_ifindex = answer.ifindex;
    *out_has_gateway = answer.has_gateway;
    if (answer.has_gateway) memcpy(out_gateway, answer.gateway, sizeof answer.gateway);
    return 0;
}

struct hl_neighbour_search {
    int32_t ifindex;
    const uint8_t *address;
    int found;
    uint16_t state;
    size_t lladdr_length;
    uint8_t lladdr[6];
};

static int hl_neighbour_visit(struct nlmsghdr *message, void *context) {
    struct hl_neighbour_search *search = context;
    int length = 0;
    struct rtattr *attribute = hl_netlink_attributes(message, sizeof(struct ndmsg), &length);
    if (message->nlmsg_type != RTM_NEWNEIGH || !attribute) return 0;
    const struct ndmsg *entry = NLMSG_DATA(message);
    if (entry->ndm_family != AF_INET6 || entry->ndm_ifindex != search->ifindex) return 0;
    const void *destination = NULL, *lladdr = NULL;
    size_t lladdr_length = 0;
    for (; RTA_OK(attribute, length); attribute = RTA_NEXT(attribute, length)) {
        if (attribute->rta_type == NDA_DST && RTA_PAYLOAD(attribute) == 16) {
            destination = RTA_DATA(attribute);
        } else if (attribute->rta_type == NDA_LLADDR) {
            lladdr = RTA_DATA(attribute);
            lladdr_length = RTA_PAYLOAD(attribute);
        }
    }
    if (!destination || memcmp(destination, search->address, 16) != 0) return 0;
    search->found = 1;
    search->state = entry->ndm_state;
    search->lladdr_length = lladdr ? lladdr_length : 0;
    if (lladdr_length == sizeof search->lladdr) memcpy(search->lladdr, lladdr, sizeof search->lladdr);
    return 0;  // read on to NLMSG_DONE
}

int hl_neighbour_lookup6(int32_t ifindex, const uint8_t address[16], uint8_t out_lladdr[6],
                         uint16_t *out_state) {
    struct {
        struct nlmsghdr header;
        struct ndmsg neighbour;
        char attributes[16];
    } request;
    memset(&request, 0, sizeof request);
    hl_netlink_begin(&request.header, sizeof request.neighbour, RTM_GETNEIGH,
                     NLM_F_REQUEST | NLM_F_DUMP);
    request.neighbour.ndm_family = AF_INET6;
    request.neighbour.ndm_ifindex = ifindex;
    // The kernel filters a dump by NDA_IFINDEX (ndm_ifindex is ignored there).
    uint32_t index = (uint32_t)ifindex;
    int status = hl_netlink_put(&request.header, sizeof request, NDA_IFINDEX, &index, sizeof index);
    if (status < 0) return status;

    struct hl_neighbour_search search;
    memset(&search, 0, sizeof search);
    search.ifindex = ifindex;
    search.address = address;
    status = hl_netlink_exchange(&request.header, hl_neighbour_visit, &search);
    if (status < 0) return status;
    if (!search.found || search.lladdr_length == 0) return -ENOENT;
    if (search.lladdr_length != sizeof search.lladdr) return -EMSGSIZE;
    memcpy(out_lladdr, search.lladdr, sizeof search.lladdr);
    *out_state = search.state;
    return 0;
}

// MARK: - Host routes and permanent neighbours (classifier steering)

static int hl_ignore_reply(struct nlmsghdr *message, void *context) {
    (void)message;
    (void)context;
    return 0;
}

// Starts an acknowledged change request: `add_type` with `add_flags` (on
// top of NLM_F_CREATE) when `install`, else `remove_type`.
static void hl_netlink_begin_change(struct nlmsghdr *header, size_t body, int install, unsigned short add_type,
                                    unsigned short add_flags, unsigned short remove_type) {
    hl_netlink_begin(header, body, install ? add_type : remove_type,
                     NLM_F_REQUEST | NLM_F_ACK | (install ? NLM_F_CREATE | add_flags : 0));
}

int hl_route_host6(const uint8_t destination[16], int32_t ifindex, uint32_t table, int install) {
    struct {
        struct nlmsghdr header;
        struct rtmsg route;
        char attributes[96];
    } request;
    memset(&request, 0, sizeof request);
    hl_netlink_begin_change(&request.header, sizeof request.route, install, RTM_NEWROUTE, NLM_F_REPLACE, RTM_DELROUTE);
    request.route.rtm_family = AF_INET6;
    request.route.rtm_dst_len = 128;
    // Tables above 255 travel in RTA_TABLE; the header field says so.
    request.route.rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
    request.route.rtm_protocol = RTPROT_STATIC;
    request.route.rtm_scope = RT_SCOPE_UNIVERSE;
    request.route.rtm_type = RTN_UNICAST;
    int status = hl_netlink_put(&request.header, sizeof request, RTA_DST, destination, 16);
    if (status == 0) status = hl_netlink_put(&request.header, sizeof request, RTA_TABLE, &table, sizeof table);
    if (status == 0 && install) {
        uint32_t index = (uint32_t)ifindex;
        status = hl_netlink_put(&request.header, sizeof request, RTA_OIF, &index, sizeof index);
    }
    if (status < 0) return status;
    return hl_netlink_exchange(&request.header, hl_ignore_reply, NULL);
}

int hl_neighbour_permanent6(int32_t ifindex, const uint8_t address[16], const uint8_t lladdr[6], int install) {
    struct {
        struct nlmsghdr header;
        struct ndmsg neighbour;
        char attributes[64];
    } request;
    memset(&request, 0, sizeof request);
    hl_netlink_begin_change(&request.header, sizeof request.neighbour, install, RTM_NEWNEIGH, NLM_F_REPLACE,
                            RTM_DELNEIGH);
    request.neighbour.ndm_family = AF_INET6;
    request.neighbour.ndm_ifindex = ifindex;
    request.neighbour.ndm_state = NUD_PERMANENT;
    int status = hl_netlink_put(&request.header, sizeof request, NDA_DST, address, 16);
    if (status == 0 && install) status = hl_netlink_put(&request.header, sizeof request, NDA_LLADDR, lladdr, 6);
    if (status < 0) return status;
    return hl_netlink_exchange(&request.header, hl_ignore_reply, NULL);
}

int hl_rule_nop6(uint32_t priority, int install) {
    struct {
        struct nlmsghdr header;
        struct fib_rule_hdr rule;
        char attributes[16];
    } request;
    memset(&request, 0, sizeof request);
    hl_netlink_begin_change(&request.header, sizeof request.rule, install, RTM_NEWRULE, NLM_F_EXCL, RTM_DELRULE);
    request.rule.family = AF_INET6;
    request.rule.action = FR_ACT_NOP;
    int status = hl_netlink_put(&request.header, sizeof request, FRA_PRIORITY, &priority, sizeof priority);
    if (status < 0) return status;
    return hl_netlink_exchange(&request.header, hl_ignore_reply, NULL);
}
