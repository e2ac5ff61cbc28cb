// hl_memory.h - large zeroed tables that cost only the pages in use.
//
// The fast-path tables (the Host Cache address index, the translation
// slots and their flow marks) are sized for the configured maximum number
// of peers, up to millions. An anonymous private mapping is zero-filled by
// the kernel on first touch, so a table of a million slots of which a
// thousand are used keeps only the touched pages resident (an allocation
// zeroed with memset would make every page resident at start-up).
#ifndef HL_MEMORY_H
#define HL_MEMORY_H

#include <stddef.h>
#include <sys/mman.h>

/// `bytes` of zeroed, page-aligned memory, backed lazily; NULL on failure.
static inline void *hl_zeroed_pages_allocate(size_t bytes) {
    void *pages = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return pages == MAP_FAILED ? NULL : pages;
}

/// Returns memory of `hl_zeroed_pages_allocate` (same `bytes`).
static inline void hl_zeroed_pages_free(void *pages, size_t bytes) {
    if (pages != NULL) munmap(pages, bytes);
}

#endif
