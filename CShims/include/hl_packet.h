// hl_packet.h - AF_PACKET socket and mmap ring ABI for the Swift data path.
//
// Two halves:
//  * setup calls (hl_packet_*), implemented in hl_packet.c: each performs one
//    system call and returns a non-negative result or -errno, so the Swift
//    side reads the error from the return value instead of a thread-local
//    `errno` that the runtime may have clobbered;
//  * ring accessors (hl_v3_*, hl_v2_*), static inline so the fast path pays
//    no call: the block/frame status words are the hand-off points between
//    kernel and user space and are read with acquire and written with
//    release ordering (Documentation/networking/packet_mmap.rst).
//
// RX uses TPACKET_V2 by default (fixed-size frames, one status word per
// frame: the kernel hands each frame over and wakes the socket as soon as it
// is written) or TPACKET_V3 (variable-size frames packed into blocks, one
// status word per block, handed over when full or at the retire timeout);
// TX uses TPACKET_V2, which the kernel's TX path supports without
// restrictions.
//
// With PACKET_VNET_HDR a struct virtio_net_hdr (10 bytes) carries the
// kernel's offload metadata: on an RX frame it sits right before the MAC
// header, on a TX slot it opens the frame data (include/linux/virtio_net.h,
// net/packet/af_packet.c).
#ifndef HL_PACKET_H
#define HL_PACKET_H

#include <stdint.h>
#include <stddef.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

// MARK: - Kernel constants (macros re-exported as values Swift imports)

enum {
    HL_TPACKET_V2 = TPACKET_V2,
    HL_TPACKET_V3 = TPACKET_V3,
    HL_TP_STATUS_KERNEL = TP_STATUS_KERNEL,
    HL_TP_STATUS_USER = TP_STATUS_USER,
    HL_TP_STATUS_COPY = TP_STATUS_COPY,
    HL_TP_STATUS_LOSING = TP_STATUS_LOSING,
    HL_TP_STATUS_CSUMNOTREADY = TP_STATUS_CSUMNOTREADY,
    HL_TP_STATUS_VLAN_VALID = TP_STATUS_VLAN_VALID,
    HL_TP_STATUS_BLK_TMO = TP_STATUS_BLK_TMO,
    HL_TP_STATUS_AVAILABLE = TP_STATUS_AVAILABLE,
    HL_TP_STATUS_SEND_REQUEST = TP_STATUS_SEND_REQUEST,
    HL_TP_STATUS_SENDING = TP_STATUS_SENDING,
    HL_TP_STATUS_WRONG_FORMAT = TP_STATUS_WRONG_FORMAT,
    HL_PACKET_FANOUT_HASH = PACKET_FANOUT_HASH,
    HL_PACKET_FANOUT_LB = PACKET_FANOUT_LB,
    HL_PACKET_FANOUT_CPU = PACKET_FANOUT_CPU,
    HL_PACKET_FANOUT_QM = PACKET_FANOUT_QM,
    HL_PACKET_FANOUT_FLAG_DEFRAG = PACKET_FANOUT_FLAG_DEFRAG,
    HL_PACKET_FANOUT_FLAG_ROLLOVER = PACKET_FANOUT_FLAG_ROLLOVER,
    HL_PACKET_FANOUT_FLAG_UNIQUEID = PACKET_FANOUT_FLAG_UNIQUEID,
    /// Linux 4.20 uapi; the libc's copy of if_packet.h predates it. A
    /// fanout group registers its own packet hook, so a member's
    /// PACKET_IGNORE_OUTGOING has no effect on it: the group needs this flag.
    HL_PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000,
    /// Alignment the kernel applies to frame sizes and header lengths.
    HL_TPACKET_ALIGNMENT = TPACKET_ALIGNMENT,
    HL_VIRTIO_NET_HDR_F_NEEDS_CSUM = VIRTIO_NET_HDR_F_NEEDS_CSUM,
    HL_VIRTIO_NET_HDR_F_DATA_VALID = VIRTIO_NET_HDR_F_DATA_VALID,
    HL_VIRTIO_NET_HDR_GSO_NONE = VIRTIO_NET_HDR_GSO_NONE,
    HL_VIRTIO_NET_HDR_GSO_TCPV4 = VIRTIO_NET_HDR_GSO_TCPV4,
    HL_VIRTIO_NET_HDR_GSO_UDP = VIRTIO_NET_HDR_GSO_UDP,
    HL_VIRTIO_NET_HDR_GSO_TCPV6 = VIRTIO_NET_HDR_GSO_TCPV6,
    HL_VIRTIO_NET_HDR_GSO_ECN = VIRTIO_NET_HDR_GSO_ECN,
};

/// Size of struct virtio_net_hdr, the PACKET_VNET_HDR metadata.
static inline uint32_t hl_vnet_header_size(void) { return (uint32_t)sizeof(struct virtio_net_hdr); }

/// The offload metadata. The kernel keeps a packet socket's 16-bit fields
/// in host order: vio_le() is virtio_legacy_is_little_endian(), true on
/// little-endian hosts and false (native) on big-endian ones.
typedef struct hl_vnet_header {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t header_length;
    uint16_t gso_size;
    uint16_t checksum_start;
    uint16_t checksum_offset;
} hl_vnet_header;

_Static_assert(sizeof(hl_vnet_header) == sizeof(struct virtio_net_hdr), "virtio_net_hdr layout");

/// Reads the header at `at` (no alignment assumed).
static inline hl_vnet_header hl_vnet_header_load(const void *at) {
    hl_vnet_header h;
    __builtin_memcpy(&h, at, sizeof h);
    return h;
}

/// Writes the header at `at` (no alignment assumed).
static inline void hl_vnet_header_store(void *at, hl_vnet_header h) { __builtin_memcpy(at, &h, sizeof h); }

/// Offset of the frame data inside a TPACKET_V2 TX frame (no PACKET_TX_HAS_OFF).
static inline uint32_t hl_v2_tx_data_offset(void) {
    return (uint32_t)TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
}
/// Smallest frame size the kernel accepts for a TPACKET_V3 RX ring.
static inline uint32_t hl_v3_min_frame_size(void) { return (uint32_t)TPACKET3_HDRLEN; }
/// Smallest frame size the kernel accepts for a TPACKET_V2 ring.
static inline uint32_t hl_v2_min_frame_size(void) { return (uint32_t)TPACKET2_HDRLEN; }
/// Size of the per-frame header in a TPACKET_V3 block.
static inline uint32_t hl_v3_frame_header_size(void) { return (uint32_t)sizeof(struct tpacket3_hdr); }
/// Bytes the kernel reserves at the start of a TPACKET_V3 block.
static inline uint32_t hl_v3_block_header_size(void) {
    return (uint32_t)TPACKET_ALIGN(sizeof(struct tpacket_block_desc));
}

// MARK: - Setup calls (hl_packet.c); each returns >= 0 or -errno

/// socket(AF_PACKET, SOCK_RAW, 0) with close-on-exec. Protocol 0 receives
/// nothing until hl_packet_bind names one, so no frame arrives before the
/// ring, filter and fanout are in place.
int hl_packet_socket(void);
int hl_packet_set_version(int fd, int version);
/// PACKET_RX_RING with a tpacket_req3; frame_nr is derived from the rest.
int hl_packet_set_rx_ring_v3(int fd, uint32_t block_size, uint32_t block_nr, uint32_t frame_size,
                             uint32_t retire_timeout_ms);
/// PACKET_TX_RING with a tpacket_req (TPACKET_V2).
int hl_packet_set_tx_ring_v2(int fd, uint32_t block_size, uint32_t block_nr, uint32_t frame_size);
/// PACKET_RX_RING with a tpacket_req (TPACKET_V2: one status word per frame).
int hl_packet_set_rx_ring_v2(int fd, uint32_t block_size, uint32_t block_nr, uint32_t frame_size);
/// PACKET_VNET_HDR: frames carry a struct virtio_net_hdr (GSO type and
/// size, checksum offload). Must be set before the rings are created.
int hl_packet_set_vnet_header(int fd, int on);
/// mmap(MAP_SHARED | MAP_POPULATE) of the socket's rings; *out receives the base.
int hl_packet_mmap(int fd, size_t length, void **out);
int hl_munmap(void *base, size_t length);
int hl_packet_set_qdisc_bypass(int fd, int on);
int hl_packet_set_ignore_outgoing(int fd, int on);
/// PACKET_LOSS on a TX ring: a frame the device refuses (too long, bad
/// header) is skipped and its slot freed instead of stopping the ring.
int hl_packet_set_loss(int fd, int on);
/// Enlarges the send buffer past rmem/wmem limits (SO_SNDBUFFORCE, needs
/// CAP_NET_ADMIN), falling back to SO_SNDBUF.
int hl_packet_set_send_buffer(int fd, int bytes);
/// bind() to an interface index; protocol is an EtherType in host order
/// (0x0003 = ETH_P_ALL).
/// PACKET_COPY_THRESH: a frame longer than its RX slot is written truncated
/// with TP_STATUS_COPY, and the whole frame is also queued on the socket's
/// receive queue (while SO_RCVBUF has room) for one recv().
int hl_packet_set_copy_threshold(int fd, int on);
/// SO_RCVBUFFORCE (root), falling back to SO_RCVBUF within rmem_max.
int hl_packet_set_receive_buffer(int fd, int bytes);
int hl_packet_bind(int fd, int ifindex, uint16_t protocol);
/// PACKET_FANOUT: group id in the low 16 bits, mode and flags above.
int hl_packet_join_fanout(int fd, uint16_t group, uint16_t mode, uint16_t flags);
/// The fanout group id the socket belongs to (getsockopt PACKET_FANOUT),
/// e.g. the one the kernel chose for PACKET_FANOUT_FLAG_UNIQUEID.
int hl_packet_fanout_group(int fd);
/// SO_ATTACH_BPF with an eBPF socket-filter program descriptor.
int hl_packet_attach_bpf(int fd, int program_fd);
int hl_packet_detach_filter(int fd);

/// PACKET_STATISTICS (tpacket_stats_v3 for TPACKET_V3; a TPACKET_V2 socket
/// fills packets and drops only). The kernel resets its counters
/// on every read; `packets` counts every frame that reached the socket,
/// including the dropped ones.
typedef struct hl_packet_stats {
    uint32_t packets;
    uint32_t drops;
    uint32_t freeze_queue_count;
} hl_packet_stats;
int hl_packet_statistics_v3(int fd, hl_packet_stats *out);

/// Asks the kernel to transmit every TX ring frame marked SEND_REQUEST,
/// without blocking (-EAGAIN / -ENOBUFS: ring busy, try later).
int hl_packet_tx_kick(int fd);
/// send() of one frame (for sockets without a TX ring); returns bytes sent.
long hl_packet_send(int fd, const void *frame, size_t length, int dont_wait);
/// recv() of one frame (for sockets without an RX ring); returns its length.
long hl_packet_receive(int fd, void *buffer, size_t capacity, int dont_wait);
/// poll() for POLLIN; returns 1 when readable or in error, 0 on timeout.
int hl_poll_readable(int fd, int timeout_ms);
/// poll() for POLLOUT (TX ring frames freed).
int hl_poll_writable(int fd, int timeout_ms);
int hl_close(int fd);
/// getsockopt(SO_ERROR): reads and clears the socket's pending error (0 if
/// none). A packet socket whose device went down keeps reporting POLLERR
/// until its error is read.
int hl_socket_take_error(int fd);
/// setns(fd, CLONE_NEWNET) for the calling thread.
int hl_setns_net(int fd);
/// unshare(CLONE_NEWNET): the calling thread moves to a new, empty network namespace.
int hl_unshare_net(void);
/// The open file descriptor of the calling thread's network namespace.
int hl_open_current_netns(void);
/// if_nametoindex(); the positive index or -errno (-ENODEV when unknown).
int hl_if_nametoindex(const char *name);
/// open(path, O_RDONLY | O_CLOEXEC).
int hl_open_readonly(const char *path);

// MARK: - TPACKET_V3 RX block and frame accessors

/// The block status with acquire ordering: when it has HL_TP_STATUS_USER the
/// kernel has finished writing the block and everything it wrote is visible.
static inline uint32_t hl_v3_block_status_acquire(const void *block) {
    const struct tpacket_block_desc *bd = (const struct tpacket_block_desc *)block;
    return __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
}
/// Hands the block back to the kernel; release ordering keeps every read of
/// the block's frames before the store.
static inline void hl_v3_block_release(void *block) {
    struct tpacket_block_desc *bd = (struct tpacket_block_desc *)block;
    __atomic_store_n(&bd->hdr.bh1.block_status, (uint32_t)TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}
static inline uint32_t hl_v3_block_packet_count(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.num_pkts;
}
static inline uint32_t hl_v3_block_first_packet_offset(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.offset_to_first_pkt;
}
static inline uint32_t hl_v3_block_length(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.blk_len;
}
static inline uint64_t hl_v3_block_sequence(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.seq_num;
}

static inline uint32_t hl_v3_frame_next_offset(const void *frame) {
    return ((const struct tpacket3_hdr *)frame)->tp_next_offset;
}
static inline uint32_t hl_v3_frame_snap_length(const void *frame) {
    return ((const struct tpacket3_hdr *)frame)->tp_snaplen;
}
static inline uint32_t hl_v3_frame_wire_length(const void *frame) {
    return ((const struct tpacket3_hdr *)frame)->tp_len;
}
static inline uint32_t hl_v3_frame_mac_offset(const void *frame) {
    return ((const struct tpacket3_hdr *)frame)->tp_mac;
}
static inline uint32_t hl_v3_frame_status(const void *frame) {
    return ((const struct tpacket3_hdr *)frame)->tp_status;
}
static inline uint32_t hl_v3_frame_seconds(const void *frame) {
    return ((const struct tpacket3_hdr *)frame)->tp_sec;
}
static inline uint32_t hl_v3_frame_nanoseconds(const void *frame) {
    return ((const struct tpacket3_hdr *)frame)->tp_nsec;
}
static inline uint32_t hl_v3_frame_rxhash(const void *frame) {
    return ((const struct tpacket3_hdr *)frame)->hv1.tp_rxhash;
}
/// The 802.1Q tag the kernel removed from the frame (valid with
/// HL_TP_STATUS_VLAN_VALID): the ring holds the frame without it.
static inline uint16_t hl_v3_frame_vlan_tci(const void *frame) {
    return (uint16_t)((const struct tpacket3_hdr *)frame)->hv1.tp_vlan_tci;
}

// MARK: - TPACKET_V2 frame accessors (RX and TX rings)

/// Hands a TPACKET_V2 RX frame back to the kernel; release ordering keeps
/// every read of the frame before the store.
static inline void hl_v2_frame_release(void *frame) {
    struct tpacket2_hdr *h = (struct tpacket2_hdr *)frame;
    __atomic_store_n(&h->tp_status, (uint32_t)TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}
/// tp_status without ordering (after an acquire load of the same word).
static inline uint32_t hl_v2_frame_status(const void *frame) {
    return ((const struct tpacket2_hdr *)frame)->tp_status;
}
static inline uint32_t hl_v2_frame_snap_length(const void *frame) {
    return ((const struct tpacket2_hdr *)frame)->tp_snaplen;
}
static inline uint32_t hl_v2_frame_wire_length(const void *frame) {
    return ((const struct tpacket2_hdr *)frame)->tp_len;
}
static inline uint32_t hl_v2_frame_mac_offset(const void *frame) {
    return ((const struct tpacket2_hdr *)frame)->tp_mac;
}
static inline uint32_t hl_v2_frame_seconds(const void *frame) {
    return ((const struct tpacket2_hdr *)frame)->tp_sec;
}
static inline uint32_t hl_v2_frame_nanoseconds(const void *frame) {
    return ((const struct tpacket2_hdr *)frame)->tp_nsec;
}
static inline uint16_t hl_v2_frame_vlan_tci(const void *frame) {
    return ((const struct tpacket2_hdr *)frame)->tp_vlan_tci;
}
/// Size of the per-frame header of a TPACKET_V2 ring.
static inline uint32_t hl_v2_frame_header_size(void) { return (uint32_t)sizeof(struct tpacket2_hdr); }

static inline uint32_t hl_v2_frame_status_acquire(const void *frame) {
    const struct tpacket2_hdr *h = (const struct tpacket2_hdr *)frame;
    return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}
/// Publishes a filled frame: the length first, then SEND_REQUEST with
/// release ordering so the kernel sees the bytes and the length.
static inline void hl_v2_frame_submit(void *frame, uint32_t length) {
    struct tpacket2_hdr *h = (struct tpacket2_hdr *)frame;
    h->tp_len = length;
    __atomic_store_n(&h->tp_status, (uint32_t)TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
}
/// Returns a frame the kernel refused (WRONG_FORMAT) to the free pool.
static inline void hl_v2_frame_reset(void *frame) {
    struct tpacket2_hdr *h = (struct tpacket2_hdr *)frame;
    __atomic_store_n(&h->tp_status, (uint32_t)TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
}

#endif
