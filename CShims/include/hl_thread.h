// hl_thread.h - worker thread placement (CPU_SET is a macro family Swift
// cannot call). Each returns 0 or -errno and acts on the calling thread.
#ifndef HL_THREAD_H
#define HL_THREAD_H

/// Pins the calling thread to one CPU (sched_setaffinity).
int hl_thread_pin_to_cpu(int cpu);
/// Names the calling thread (at most 15 characters are kept), for top/perf.
int hl_thread_set_name(const char *name);
/// The number of CPUs this process may run on.
int hl_thread_available_cpus(void);

#endif
