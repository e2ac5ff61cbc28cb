// hl_wakeup.h - waking the slow path: an eventfd the workers signal when
// they queue a frame for it, and a poll over it and one more descriptor
// (the rtnetlink monitor), so the slow path sleeps until there is work.
// Same conventions as hl_packet.h: a non-negative result or -errno.
#ifndef HL_WAKEUP_H
#define HL_WAKEUP_H

/// A non-blocking eventfd (EFD_NONBLOCK | EFD_CLOEXEC).
int hl_wakeup_open(void);

/// Adds one to the counter; a counter at its maximum (EAGAIN) already
/// means "wake up", so that is success too.
int hl_wakeup_signal(int fd);

/// Resets the counter; 0 when it was already zero.
int hl_wakeup_drain(int fd);

/// poll() for input on `first` and the `count` descriptors at `others`
/// (negative ones unused; at most HL_WAKEUP_MAX_OTHERS) for at most
/// `timeout_ms`: 1 when something is readable, 0 on timeout; EINTR is 0.
int hl_wakeup_wait(int first, const int *others, int count, int timeout_ms);

enum { HL_WAKEUP_MAX_OTHERS = 15 };

#endif
