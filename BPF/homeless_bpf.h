/* homeless_bpf.h - what the classifier (classifier.bpf.c) and the engine
 * (through the C shim) agree on: map names and layouts, the configuration
 * record and the verdict codes. Only fixed-width kernel types, so the same
 * text compiles for the BPF target and for the host.
 */
#ifndef HOMELESS_BPF_H
#define HOMELESS_BPF_H

#include <linux/types.h>

/* Map names as they appear in the object (bpf_object__find_map_by_name). */
#define HL_MAP_LOCAL_LOCATORS "hl_local_locs"
#define HL_MAP_FOREIGN_LOCATORS "hl_foreign_locs"
#define HL_MAP_CONFIG "hl_config"
#define HL_MAP_VERDICT_COUNTERS "hl_verdicts"

/* Program names (also what `bpftool prog` and `tc filter show` display). */
#define HL_PROGRAM_SOCKET "hl_classify_sk"
#define HL_PROGRAM_TC "hl_classify_tc"
/* Socket filter for the slow path's tap of outgoing conversation starts
 * (classifier steering): see hl_conversation_tap. */
#define HL_PROGRAM_CONVERSATION_TAP "hl_conversation_tap"
/* Bytes of a tapped frame kept: Ethernet, IPv6 and the TCP header with
 * its options (a UDP datagram is cut there too; the slow path needs only
 * its addresses). */
#define HL_CONVERSATION_TAP_SNAP 128
/* The tap keeps at most one UDP datagram per destination in this interval
 * (UDP has no SYN: every datagram could open a conversation), remembering
 * up to HL_CONVERSATION_TAP_UDP_DESTINATIONS destinations (LRU). */
#define HL_MAP_CONVERSATION_TAP_UDP "hl_tap_udp_seen"
#define HL_CONVERSATION_TAP_UDP_INTERVAL_NS 1000000000ULL
#define HL_CONVERSATION_TAP_UDP_DESTINATIONS 4096

/* Capacities; the slow path refuses entries past them (E2BIG/ENOSPC). */
#define HL_LOCAL_LOCATORS_MAX 256
#define HL_FOREIGN_LOCATORS_MAX 65536

/* Key of both locator maps: an IPv6 address in network byte order. */
struct hl_locator_key {
    __u8 address[16];
};

/* Value of both locator maps. */
struct hl_locator_value {
    /* Which Host Cache entry or interface the locator belongs to; the
     * classifier only tests membership, the engine reads this back. */
    __u32 owner;
    __u32 flags;
};

/* Flags of struct hl_classifier_config. */
enum {
    /* Only frames addressed to a local locator (hl_local_locs) are the
     * engine's. Set on hosts; a gateway serving many hosts clears it. */
    HL_CONFIG_REQUIRE_LOCAL_DESTINATION = 1u << 0,
    /* RFC 6275 Mobility Header (Next Header 135) is the engine's: the
     * optional modern signalling profile (WIRE.md section 3). Off by
     * default so a host's own Mobile IPv6 stack keeps its traffic. */
    HL_CONFIG_MOBILITY_HEADER = 1u << 1,
};

/* The single entry (key 0) of the hl_config array map. */
struct hl_classifier_config {
    /* Next Header value of the Anonymous Authentication handshake
     * (RFC 3692 experimentation value 253 by default). */
    __u8 handshake_next_header;
    __u8 reserved[3];
    __u32 flags;
};

#define HL_DEFAULT_HANDSHAKE_NEXT_HEADER 253

/* Why a frame went where it went. Every frame a program sees is counted
 * under exactly one verdict in the per-CPU array hl_verdicts, at index
 * hook * HL_VERDICT_COUNT + verdict. Verdicts below HL_VERDICT_FIRST_ENGINE
 * leave the frame to the kernel. */
enum hl_verdict {
    HL_VERDICT_KERNEL_NOT_IPV6 = 0,
    /* Neighbour Discovery, Router Solicitation/Advertisement, Redirect and
     * MLD: always the kernel's (draft section 1.4). */
    HL_VERDICT_KERNEL_NEIGHBOR_DISCOVERY = 1,
    /* DHCPv6 (UDP 546/547). */
    HL_VERDICT_KERNEL_DHCPV6 = 2,
    /* IPv6 that matches no engine rule. */
    HL_VERDICT_KERNEL_NOT_OWNED = 3,
    /* Header chain truncated or longer than the classifier walks: the
     * kernel decides what to do with it. */
    HL_VERDICT_KERNEL_UNPARSED = 4,
    /* Source address is a locator of a Foreign Host Cache entry. */
    HL_VERDICT_ENGINE_FOREIGN_LOCATOR = 5,
    /* A Destination Options header carries a Binding Update, Binding
     * Acknowledgement, Binding Request or Home Address option. */
    HL_VERDICT_ENGINE_MOBILITY_OPTION = 6,
    /* The Anonymous Authentication handshake's Next Header. */
    HL_VERDICT_ENGINE_HANDSHAKE = 7,
    /* An RFC 6275 Mobility Header, with HL_CONFIG_MOBILITY_HEADER set. */
    HL_VERDICT_ENGINE_MOBILITY_HEADER = 8,
    HL_VERDICT_COUNT = 9,
};

enum {
    HL_VERDICT_FIRST_ENGINE = HL_VERDICT_ENGINE_FOREIGN_LOCATOR,
};

/* Where a verdict was reached: the socket filter decides what enters the
 * engine's ring, the tc ingress program what the kernel stops seeing. */
enum hl_hook {
    HL_HOOK_SOCKET_FILTER = 0,
    HL_HOOK_TC_INGRESS = 1,
    HL_HOOK_COUNT = 2,
};

enum {
    HL_VERDICT_COUNTERS = HL_HOOK_COUNT * HL_VERDICT_COUNT,
};

/* How far the classifier walks: extension headers, and options inside one
 * Destination Options header. Longer chains are left to the kernel. */
#define HL_MAX_EXTENSION_HEADERS 8
#define HL_MAX_OPTIONS_PER_HEADER 16

/* Draft-era Mobile IPv6 destination option types (WIRE.md section 1). */
#define HL_OPTION_BINDING_UPDATE 198
#define HL_OPTION_BINDING_ACKNOWLEDGEMENT 7
#define HL_OPTION_BINDING_REQUEST 8
#define HL_OPTION_HOME_ADDRESS 201

/* tc filter identity: a crashed run's leftover is recognised by this
 * handle and priority on the ingress hook *and* by its program name. */
#define HL_TC_HANDLE 0x484c /* "HL" */
#define HL_TC_PRIORITY 0xc1

#endif
