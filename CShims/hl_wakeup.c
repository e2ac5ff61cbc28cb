// hl_wakeup.c - eventfd and poll for the slow path's sleep.
#define _GNU_SOURCE
#include "hl_wakeup.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int hl_wakeup_open(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int hl_wakeup_signal(int fd) {
    uint64_t one = 1;
    for (;;) {
        if (write(fd, &one, sizeof one) == (ssize_t)sizeof one) return 0;
        if (errno == EINTR) continue;
        return errno == EAGAIN ? 0 : -errno;
    }
}

int hl_wakeup_drain(int fd) {
    uint64_t value = 0;
    for (;;) {
        if (read(fd, &value, sizeof value) == (ssize_t)sizeof value) return 1;
        if (errno == EINTR) continue;
        return errno == EAGAIN ? 0 : -errno;
    }
}

int hl_wakeup_wait(int first, const int *others, int count, int timeout_ms) {
    struct pollfd fds[1 + HL_WAKEUP_MAX_OTHERS];
    nfds_t used = 0;
    fds[used++] = (struct pollfd){.fd = first, .events = POLLIN, .revents = 0};
    for (int i = 0; i < count && i < HL_WAKEUP_MAX_OTHERS; i++) {
        if (others[i] >= 0) fds[used++] = (struct pollfd){.fd = others[i], .events = POLLIN, .revents = 0};
    }
    int r = poll(fds, used, timeout_ms);
    if (r < 0) return errno == EINTR ? 0 : -errno;
    return r > 0 ? 1 : 0;
}
