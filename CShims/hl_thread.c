// hl_thread.c - CPU affinity and names for worker threads.
#define _GNU_SOURCE
#include "hl_thread.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

int hl_thread_pin_to_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) < 0 ? -errno : 0;
}

int hl_thread_set_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
    return -pthread_setname_np(pthread_self(), truncated);
}

int hl_thread_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) < 0) return -errno;
    return CPU_COUNT(&set);
}
