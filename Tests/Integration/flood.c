/* flood.c - sends COUNT IPv6 frames on IFACE to DST_MAC as fast as the
 * kernel takes them (sendmmsg, batches of 256), each from another spoofed
 * source address (2001:db8:66::/64, low 64 bits varied), for the bad-input
 * suite (Tests/Integration/bad-input.sh).
 *
 *   flood IFACE DST_MAC DST_ADDRESS KIND COUNT [SECONDS]
 *   KIND udp: UDP to port 9 (a plain packet the engine forwards)
 *        hello: handshake message 1 (Next Header 253, docs/HANDSHAKE.md)
 *   SECONDS: stop after this long even if COUNT frames were not sent
 * The source's low words are chosen in pairs that sum to 0xffff, so the
 * UDP checksum stays the same for every source (one's complement sum).
 * Prints the number of frames the kernel accepted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define FRAME 86

static uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: flood IFACE DST_MAC DST_ADDRESS udp|hello COUNT [SECONDS]\n");
        return 2;
    }
    int hello = strcmp(argv[4], "hello") == 0;
    long count = atol(argv[5]);
    double seconds = argc > 6 ? atof(argv[6]) : 60;
    unsigned char frame[FRAME] = {0};
    unsigned int mac[6];
    if (sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6) return 2;
    for (int i = 0; i < 6; i++) frame[i] = (unsigned char)mac[i];
    frame[6] = 0x02; frame[11] = 0x66;                 /* locally administered source MAC */
    frame[12] = 0x86; frame[13] = 0xdd;
    unsigned char *ip = frame + 14;
    ip[0] = 0x60;
    ip[6] = hello ? 253 : 17;
    ip[7] = 64;
    inet_pton(AF_INET6, "2001:db8:66::", ip + 8);
    if (inet_pton(AF_INET6, argv[3], ip + 24) != 1) return 2;
    unsigned char *payload = ip + 40;
    int length = 32;                                   /* 24-octet message 1 + 8 spare, or UDP 8 + 24 */
    if (hello) {
        length = 24;
        payload[0] = 59; payload[1] = 2; payload[2] = 1; payload[3] = 1;   /* Next Header, Len, type 1, version 1 */
        for (int i = 8; i < 24; i++) payload[i] = (unsigned char)(i * 7);  /* nonce */
    } else {
        payload[0] = 0x9c; payload[1] = 0x40; payload[3] = 9;              /* 40000 -> 9 */
        payload[5] = (unsigned char)length;
        for (int i = 8; i < length; i++) payload[i] = (unsigned char)i;
    }
    ip[4] = 0; ip[5] = (unsigned char)length;
    /* Source low words: (0, 0xffff, 0, 0xffff) sum to 0x1fffe, as every
       pair (w, 0xffff - w) does: the checksum computed once holds for all. */
    ip[16] = 0; ip[17] = 0; ip[18] = 0xff; ip[19] = 0xff;
    ip[20] = 0; ip[21] = 0; ip[22] = 0xff; ip[23] = 0xff;
    if (!hello) {
        uint32_t sum = 0;
        for (int i = 8; i < 40; i += 2) sum += (ip[i] << 8) | ip[i + 1];
        sum += length + 17;
        for (int i = 0; i < length; i += 2) sum += (payload[i] << 8) | payload[i + 1];
        uint16_t checksum = (uint16_t)~fold(sum);
        payload[6] = checksum >> 8; payload[7] = checksum & 0xff;
    }
    int size = 14 + 40 + length;

    int sock = socket(AF_PACKET, SOCK_RAW, 0);
    if (sock < 0) { perror("socket"); return 1; }
    struct sockaddr_ll address = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1])};
    if (address.sll_ifindex == 0 || bind(sock, (struct sockaddr *)&address, sizeof address) < 0) { perror("bind"); return 1; }
    int one = 1;
    setsockopt(sock, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);

    static unsigned char frames[BATCH][FRAME];
    struct iovec vectors[BATCH];
    struct mmsghdr messages[BATCH];
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < BATCH; i++) {
        memcpy(frames[i], frame, FRAME);
        vectors[i] = (struct iovec){frames[i], (size_t)size};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    long sent = 0, next = 0;
    double deadline = now() + seconds;
    while (sent < count && now() < deadline) {
        int batch = count - sent < BATCH ? (int)(count - sent) : BATCH;
        for (int i = 0; i < batch; i++, next++) {
            uint16_t low = (uint16_t)next, high = (uint16_t)(next >> 16);
            unsigned char *source = frames[i] + 14 + 8;
            source[8] = high >> 8; source[9] = high & 0xff; source[10] = (0xffff - high) >> 8; source[11] = (0xffff - high) & 0xff;
            source[12] = low >> 8; source[13] = low & 0xff; source[14] = (0xffff - low) >> 8; source[15] = (0xffff - low) & 0xff;
        }
        int done = sendmmsg(sock, messages, (unsigned int)batch, 0);
        if (done < 0) {
            if (errno == ENOBUFS || errno == EAGAIN) { usleep(100); continue; }
            perror("sendmmsg");
            return 1;
        }
        sent += done;
        next -= batch - done;
    }
    printf("%ld\n", sent);
    return 0;
}
