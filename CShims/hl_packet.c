// hl_packet.c - one system call per function, -errno on failure.
#define _GNU_SOURCE
#include "hl_packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static int hl_result(int r) { return r < 0 ? -errno : r; }

static int hl_setsockopt_int(int fd, int level, int name, int value) {
    return hl_result(setsockopt(fd, level, name, &value, sizeof value));
}

int hl_packet_socket(void) {
    return hl_result(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
}

int hl_packet_set_version(int fd, int version) {
    return hl_setsockopt_int(fd, SOL_PACKET, PACKET_VERSION, version);
}

int hl_packet_set_rx_ring_v3(int fd, uint32_t block_size, uint32_t block_nr, uint32_t frame_size,
                             uint32_t retire_timeout_ms) {
    if (frame_size == 0) return -EINVAL;
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = block_size;
    req.tp_block_nr = block_nr;
    req.tp_frame_size = frame_size;
    req.tp_frame_nr = (block_size / frame_size) * block_nr;
    req.tp_retire_blk_tov = retire_timeout_ms;
    return hl_result(setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req));
}

static int hl_packet_set_ring_v2(int fd, int ring, uint32_t block_size, uint32_t block_nr, uint32_t frame_size) {
    if (frame_size == 0) return -EINVAL;
    struct tpacket_req req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = block_size;
    req.tp_block_nr = block_nr;
    req.tp_frame_size = frame_size;
    req.tp_frame_nr = (block_size / frame_size) * block_nr;
    return hl_result(setsockopt(fd, SOL_PACKET, ring, &req, sizeof req));
}

int hl_packet_set_tx_ring_v2(int fd, uint32_t block_size, uint32_t block_nr, uint32_t frame_size) {
    return hl_packet_set_ring_v2(fd, PACKET_TX_RING, block_size, block_nr, frame_size);
}

int hl_packet_set_rx_ring_v2(int fd, uint32_t block_size, uint32_t block_nr, uint32_t frame_size) {
    return hl_packet_set_ring_v2(fd, PACKET_RX_RING, block_size, block_nr, frame_size);
}

int hl_packet_set_vnet_header(int fd, int on) {
    return hl_setsockopt_int(fd, SOL_PACKET, PACKET_VNET_HDR, on);
}

int hl_packet_mmap(int fd, size_t length, void **out) {
    void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}

int hl_munmap(void *base, size_t length) { return hl_result(munmap(base, length)); }

int hl_packet_set_qdisc_bypass(int fd, int on) {
    return hl_setsockopt_int(fd, SOL_PACKET, PACKET_QDISC_BYPASS, on);
}

int hl_packet_set_ignore_outgoing(int fd, int on) {
    return hl_setsockopt_int(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, on);
}

int hl_packet_set_loss(int fd, int on) {
    return hl_setsockopt_int(fd, SOL_PACKET, PACKET_LOSS, on);
}

int hl_packet_set_send_buffer(int fd, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) == 0) return 0;
    return hl_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, bytes);
}

int hl_packet_set_copy_threshold(int fd, int on) {
    return hl_setsockopt_int(fd, SOL_PACKET, PACKET_COPY_THRESH, on);
}

int hl_packet_set_receive_buffer(int fd, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return 0;
    return hl_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, bytes);
}

int hl_packet_bind(int fd, int ifindex, uint16_t protocol) {
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = ifindex;
    sll.sll_protocol = htons(protocol);
    return hl_result(bind(fd, (struct sockaddr *)&sll, sizeof sll));
}

int hl_packet_join_fanout(int fd, uint16_t group, uint16_t mode, uint16_t flags) {
    int arg = (int)((uint32_t)group | ((uint32_t)(mode | flags) << 16));
    return hl_setsockopt_int(fd, SOL_PACKET, PACKET_FANOUT, arg);
}

int hl_packet_fanout_group(int fd) {
    int arg = 0;
    socklen_t length = sizeof arg;
    if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &length) < 0) return -errno;
    return arg & 0xffff;
}

int hl_packet_attach_bpf(int fd, int program_fd) {
    return hl_setsockopt_int(fd, SOL_SOCKET, SO_ATTACH_BPF, program_fd);
}

int hl_packet_detach_filter(int fd) {
    int unused = 0;
    return hl_result(setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused));
}

int hl_packet_statistics_v3(int fd, hl_packet_stats *out) {
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    memset(&st, 0, sizeof st);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) return -errno;
    out->packets = st.tp_packets;
    out->drops = st.tp_drops;
    out->freeze_queue_count = st.tp_freeze_q_cnt;
    return 0;
}

int hl_packet_tx_kick(int fd) {
    return hl_result((int)sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0));
}

long hl_packet_send(int fd, const void *frame, size_t length, int dont_wait) {
    ssize_t r = send(fd, frame, length, dont_wait ? MSG_DONTWAIT : 0);
    return r < 0 ? -(long)errno : (long)r;
}

long hl_packet_receive(int fd, void *buffer, size_t capacity, int dont_wait) {
    ssize_t r = recv(fd, buffer, capacity, dont_wait ? MSG_DONTWAIT : 0);
    return r < 0 ? -(long)errno : (long)r;
}

static int hl_poll_events(int fd, short events, int timeout_ms) {
    struct pollfd pfd = {.fd = fd, .events = events, .revents = 0};
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0) return -errno;
    return r > 0 ? 1 : 0;
}

int hl_poll_readable(int fd, int timeout_ms) { return hl_poll_events(fd, POLLIN | POLLERR, timeout_ms); }
int hl_poll_writable(int fd, int timeout_ms) { return hl_poll_events(fd, POLLOUT | POLLERR, timeout_ms); }

int hl_close(int fd) { return hl_result(close(fd)); }

int hl_socket_take_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return -errno;
    return error;
}

int hl_setns_net(int fd) { return hl_result(setns(fd, CLONE_NEWNET)); }

int hl_unshare_net(void) { return hl_result(unshare(CLONE_NEWNET)); }

int hl_open_current_netns(void) { return hl_result(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)); }

int hl_open_readonly(const char *path) { return hl_result(open(path, O_RDONLY | O_CLOEXEC)); }

int hl_if_nametoindex(const char *name) {
    unsigned index = if_nametoindex(name);
    if (index == 0) return errno ? -errno : -ENODEV;
    return (int)index;
}
