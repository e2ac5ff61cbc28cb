/* classifier.bpf.c - which frames on a wire port belong to the engine.
 *
 * One classification function, two entry points:
 *   hl_classify_sk  socket filter on the engine's AF_PACKET socket: engine
 *                   frames enter the ring, nothing else does;
 *   hl_classify_tc  tc clsact ingress: engine frames are dropped from the
 *                   kernel's path (AF_PACKET ETH_P_ALL taps run before tc
 *                   ingress, so the ring has already received them).
 *
 * A frame is the engine's when, after the exclusions below, its source is a
 * locator of a Foreign Host Cache entry (map hl_foreign_locs), or a
 * Destination Options header carries a draft-era Mobile IPv6 option (Binding
 * Update 198, Binding Acknowledgement 7, Binding Request 8, Home Address 201;
 * such headers follow AH in draft-era practice), or the upper-layer protocol
 * is the Anonymous Authentication handshake (Next Header 253, configurable),
 * or, when enabled, an RFC 6275 Mobility Header (Next Header 135).
 * With HL_CONFIG_REQUIRE_LOCAL_DESTINATION the destination must also be a
 * local locator (map hl_local_locs).
 *
 * Never the engine's, whatever the maps say: Neighbour Discovery, router
 * discovery, Redirect and MLD (draft section 1.4: ICMP/ND bypass the Host
 * Cache), and DHCPv6.
 *
 * Packet bytes are read with bpf_skb_load_bytes, which both program types
 * may call and which checks every offset at run time. Offset 0 is the
 * Ethernet header in both hooks.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "homeless_bpf.h"

#define ETH_HEADER_LEN 14
#define ETH_P_IPV6_ 0x86DD
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8
#define IPV6_HEADER_LEN 40

#define NEXT_HOP_BY_HOP 0
#define NEXT_UDP 17
#define NEXT_ROUTING 43
#define NEXT_FRAGMENT 44
#define NEXT_AH 51
#define NEXT_ICMPV6 58
#define NEXT_DESTINATION_OPTIONS 60
#define NEXT_MOBILITY 135
#define NEXT_TCP 6
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define PACKET_OUTGOING_ 4 /* linux/if_packet.h */

#define DHCPV6_CLIENT_PORT 546
#define DHCPV6_SERVER_PORT 547

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, HL_LOCAL_LOCATORS_MAX);
    __type(key, struct hl_locator_key);
    __type(value, struct hl_locator_value);
} hl_local_locs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, HL_FOREIGN_LOCATORS_MAX);
    __type(key, struct hl_locator_key);
    __type(value, struct hl_locator_value);
} hl_foreign_locs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct hl_classifier_config);
} hl_config SEC(".maps");

/* hl_conversation_tap: when each UDP destination was last tapped (ns). */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, HL_CONVERSATION_TAP_UDP_DESTINATIONS);
    __type(key, struct hl_locator_key);
    __type(value, __u64);
} hl_tap_udp_seen SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, HL_VERDICT_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} hl_verdicts SEC(".maps");

static __always_inline int is_mobility_option(__u8 type)
{
    return type == HL_OPTION_BINDING_UPDATE || type == HL_OPTION_BINDING_ACKNOWLEDGEMENT ||
           type == HL_OPTION_BINDING_REQUEST || type == HL_OPTION_HOME_ADDRESS;
}

/* ICMPv6 types that are link control (RFC 4861 ND, RFC 2710/3810 MLD,
 * RFC 3122 inverse ND, RFC 3971 SEND, RFC 4286 multicast router discovery). */
static __always_inline int is_link_control_icmpv6(__u8 type)
{
    return (type >= 130 && type <= 137) || (type >= 141 && type <= 143) || type == 148 || type == 149 ||
           (type >= 151 && type <= 153);
}

/* Scans one Destination Options header (starting at `header`, `length`
 * bytes) for a Mobile IPv6 option. */
static __always_inline int has_mobility_option(struct __sk_buff *skb, __u32 header, __u32 length)
{
    __u32 offset = header + 2;
    __u32 end = header + length;
    for (int i = 0; i < HL_MAX_OPTIONS_PER_HEADER; i++) {
        if (offset >= end)
            return 0;
        __u8 tl[2];
        if (bpf_skb_load_bytes(skb, offset, tl, 1) < 0)
            return 0;
        if (tl[0] == 0) { /* Pad1 has no length byte */
            offset += 1;
            continue;
        }
        if (is_mobility_option(tl[0]))
            return 1;
        if (bpf_skb_load_bytes(skb, offset, tl, 2) < 0)
            return 0;
        offset += 2 + (__u32)tl[1];
    }
    return 0;
}

static __always_inline enum hl_verdict classify(struct __sk_buff *skb)
{
    __u32 l3 = ETH_HEADER_LEN;
    __be16 ether_type;
    if (bpf_skb_load_bytes(skb, 12, &ether_type, 2) < 0)
        return HL_VERDICT_KERNEL_NOT_IPV6;
    if (ether_type == bpf_htons(ETH_P_8021Q_) || ether_type == bpf_htons(ETH_P_8021AD_)) {
        if (bpf_skb_load_bytes(skb, 16, &ether_type, 2) < 0)
            return HL_VERDICT_KERNEL_NOT_IPV6;
        l3 += 4;
    }
    if (ether_type != bpf_htons(ETH_P_IPV6_))
        return HL_VERDICT_KERNEL_NOT_IPV6;

    __u8 ip6[IPV6_HEADER_LEN];
    if (bpf_skb_load_bytes(skb, l3, ip6, sizeof ip6) < 0 || (ip6[0] >> 4) != 6)
        return HL_VERDICT_KERNEL_UNPARSED;

    __u32 zero = 0;
    const struct hl_classifier_config *config = bpf_map_lookup_elem(&hl_config, &zero);
    __u8 handshake = config ? config->handshake_next_header : HL_DEFAULT_HANDSHAKE_NEXT_HEADER;
    __u32 flags = config ? config->flags : 0;

    /* Walk the extension header chain to the upper-layer header. */
    __u8 next = ip6[6];
    __u32 offset = l3 + IPV6_HEADER_LEN;
    int mobility = 0;
    int reached_upper_layer = 0;
    for (int i = 0; i < HL_MAX_EXTENSION_HEADERS; i++) {
        __u8 header[2];
        __u32 length;
        if (next == NEXT_HOP_BY_HOP || next == NEXT_ROUTING || next == NEXT_DESTINATION_OPTIONS) {
            if (bpf_skb_load_bytes(skb, offset, header, 2) < 0)
                break;
            length = ((__u32)header[1] + 1) * 8; /* RFC 8200 4.3-4.6 */
            if (next == NEXT_DESTINATION_OPTIONS && !mobility)
                mobility = has_mobility_option(skb, offset, length);
        } else if (next == NEXT_AH) {
            if (bpf_skb_load_bytes(skb, offset, header, 2) < 0)
                break;
            length = ((__u32)header[1] + 2) * 4; /* RFC 4302 2.2 */
        } else if (next == NEXT_FRAGMENT) {
            __u8 fragment[4];
            if (bpf_skb_load_bytes(skb, offset, fragment, 4) < 0)
                break;
            /* A non-first fragment has no upper-layer header to look at. */
            if (((fragment[2] << 8 | fragment[3]) & 0xfff8) != 0) {
                reached_upper_layer = 0;
                break;
            }
            header[0] = fragment[0];
            length = 8;
        } else {
            reached_upper_layer = 1;
            break;
        }
        next = header[0];
        offset += length;
    }

    if (reached_upper_layer && next == NEXT_ICMPV6) {
        __u8 type;
        if (bpf_skb_load_bytes(skb, offset, &type, 1) == 0 && is_link_control_icmpv6(type))
            return HL_VERDICT_KERNEL_NEIGHBOR_DISCOVERY;
    }
    if (reached_upper_layer && next == NEXT_UDP) {
        __be16 ports[2];
        if (bpf_skb_load_bytes(skb, offset, ports, 4) == 0 &&
            (ports[1] == bpf_htons(DHCPV6_CLIENT_PORT) || ports[1] == bpf_htons(DHCPV6_SERVER_PORT)))
            return HL_VERDICT_KERNEL_DHCPV6;
    }
    if ((flags & HL_CONFIG_REQUIRE_LOCAL_DESTINATION) &&
        !bpf_map_lookup_elem(&hl_local_locs, (const struct hl_locator_key *)&ip6[24]))
        return HL_VERDICT_KERNEL_NOT_OWNED;
    if (reached_upper_layer && next == handshake)
        return HL_VERDICT_ENGINE_HANDSHAKE;
    if (mobility)
        return HL_VERDICT_ENGINE_MOBILITY_OPTION;
    if ((flags & HL_CONFIG_MOBILITY_HEADER) && reached_upper_layer && next == NEXT_MOBILITY)
        return HL_VERDICT_ENGINE_MOBILITY_HEADER;
    if (bpf_map_lookup_elem(&hl_foreign_locs, (const struct hl_locator_key *)&ip6[8]))
        return HL_VERDICT_ENGINE_FOREIGN_LOCATOR;
    return reached_upper_layer ? HL_VERDICT_KERNEL_NOT_OWNED : HL_VERDICT_KERNEL_UNPARSED;
}

static __always_inline void count(__u32 hook, enum hl_verdict verdict)
{
    __u32 index = hook * HL_VERDICT_COUNT + (__u32)verdict;
    __u64 *counter = bpf_map_lookup_elem(&hl_verdicts, &index);
    if (counter)
        *counter += 1; /* per-CPU slot: no atomic needed */
}

SEC("socket")
int hl_classify_sk(struct __sk_buff *skb)
{
    enum hl_verdict verdict = classify(skb);
    count(HL_HOOK_SOCKET_FILTER, verdict);
    /* A socket filter returns how many bytes to keep: all or nothing. */
    return verdict >= HL_VERDICT_FIRST_ENGINE ? (int)skb->len : 0;
}

SEC("tc")
int hl_classify_tc(struct __sk_buff *skb)
{
    enum hl_verdict verdict = classify(skb);
    count(HL_HOOK_TC_INGRESS, verdict);
    return verdict >= HL_VERDICT_FIRST_ENGINE ? TC_ACT_SHOT : TC_ACT_OK;
}

/*
 * Classifier steering routes only known peers through the engine, so the
 * first packet of a connection to a new peer leaves through the kernel
 * alone. The slow path taps those on the wire with this filter: outgoing
 * (PACKET_OUTGOING) IPv6 packets to a global unicast destination that is
 * not in the foreign-locator map (a known peer's packets pass through the
 * engine anyway) that open a conversation (draft 2.1.1): TCP segments with
 * SYN and without ACK or RST, and UDP datagrams, at most one per
 * destination per HL_CONVERSATION_TAP_UDP_INTERVAL_NS (the workers' note
 * of a first datagram does the same in bridge mode). The slow path starts
 * the anonymous handshake for it (draft 2.4.3). Only the headers are kept.
 */
SEC("socket")
int hl_conversation_tap(struct __sk_buff *skb)
{
    if (skb->pkt_type != PACKET_OUTGOING_)
        return 0;
    __be16 ether_type;
    if (bpf_skb_load_bytes(skb, 12, &ether_type, 2) < 0 || ether_type != bpf_htons(ETH_P_IPV6_))
        return 0;
    __u8 ip6[IPV6_HEADER_LEN];
    if (bpf_skb_load_bytes(skb, ETH_HEADER_LEN, ip6, sizeof ip6) < 0 || (ip6[0] >> 4) != 6)
        return 0;
    /* The kernel's SYNs and datagrams carry no extension headers. */
    if (ip6[6] != NEXT_TCP && ip6[6] != NEXT_UDP)
        return 0;
    /* Multicast (ff00::/8) and link-local (fe80::/10) are never peers. */
    if (ip6[24] == 0xff || (ip6[24] == 0xfe && (ip6[25] & 0xc0) == 0x80))
        return 0;
    if (bpf_map_lookup_elem(&hl_foreign_locs, (const struct hl_locator_key *)&ip6[24]))
        return 0;
    __u32 snap = skb->len < HL_CONVERSATION_TAP_SNAP ? skb->len : HL_CONVERSATION_TAP_SNAP;
    if (ip6[6] == NEXT_UDP) {
        __u64 now = bpf_ktime_get_ns();
        __u64 *last = bpf_map_lookup_elem(&hl_tap_udp_seen, (const struct hl_locator_key *)&ip6[24]);
        if (last && now - *last < HL_CONVERSATION_TAP_UDP_INTERVAL_NS)
            return 0;
        bpf_map_update_elem(&hl_tap_udp_seen, (const struct hl_locator_key *)&ip6[24], &now, BPF_ANY);
        return (int)snap;
    }
    __u8 flags;
    if (bpf_skb_load_bytes(skb, ETH_HEADER_LEN + IPV6_HEADER_LEN + 13, &flags, 1) < 0)
        return 0;
    if ((flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) != TCP_FLAG_SYN)
        return 0;
    return (int)snap;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
