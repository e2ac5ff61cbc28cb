// chomeless.h - the thin C shim under the Swift engine.
//
// Every symbol is prefixed `hl_`. Only what Swift cannot express directly
// lives here: C11 atomics with explicit memory order over plain memory
// (the Host Cache index and the AF_PACKET ring hand-off), cache prefetch,
// and wrappers for kernel ABI macros. Everything is `static inline` so the
// optimiser inlines it into the Swift fast path.
#ifndef CHOMELESS_H
#define CHOMELESS_H

#include <stdint.h>
#include <stddef.h>

// The data path's kernel interfaces, in headers of their own.
#include "hl_packet.h"  // AF_PACKET sockets and TPACKET rings
#include "hl_bpf.h"     // the wire-port classifier (libbpf)
#include "hl_thread.h"  // worker thread placement
#include "hl_route.h"   // rtnetlink change monitor, kernel-routed IPv6 socket
#include "hl_wakeup.h"  // the slow path's sleep: eventfd and poll
#include "hl_memory.h"  // lazily backed zeroed tables

// MARK: - Atomics over plain memory

static inline uint64_t hl_load_relaxed_u64(const uint64_t *p) {
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline uint64_t hl_load_acquire_u64(const uint64_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void hl_store_relaxed_u64(uint64_t *p, uint64_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline void hl_store_release_u64(uint64_t *p, uint64_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint32_t hl_load_relaxed_u32(const uint32_t *p) {
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void hl_store_relaxed_u32(uint32_t *p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline uint32_t hl_load_acquire_u32(const uint32_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void hl_store_release_u32(uint32_t *p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint64_t hl_fetch_add_relaxed_u64(uint64_t *p, uint64_t v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
static inline void hl_fetch_or_relaxed_u64(uint64_t *p, uint64_t v) {
    (void)__atomic_fetch_or(p, v, __ATOMIC_RELAXED);
}
/// Orders earlier loads before later loads and stores (seqlock read side).
static inline void hl_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
/// Orders earlier loads and stores before later stores (seqlock write side).
static inline void hl_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
static inline void hl_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// MARK: - Cache hints

static inline void hl_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

// MARK: - Spin-wait hint

/// Tells the CPU a spin-wait loop is running (seqlock readers retrying).
static inline void hl_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
