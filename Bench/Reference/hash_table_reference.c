/*
 * Plain C reference for the Host Cache fast-path index (AddressIndex):
 * the same data structure without Swift, atomics or a seqlock, to tell how
 * far the Swift lookup is from what the hardware allows.
 *
 *   - open addressing, linear probing, power-of-two slot count >= 2 x entries
 *     (load factor <= 1/2), as AddressIndex;
 *   - 24-byte slots {key high, key low, value}; the all-zero key (the
 *     unspecified address) marks an empty slot, as in AddressIndex;
 *   - the same seeded 128 -> 64 bit multiply-xorshift hash as
 *     AddressIndex.hash, so both tables see the same probe lengths;
 *   - keys 2001:db8:XXXX:XXXX + 64 random bits, misses from 2001:db9::/32;
 *   - independent lookups over a pre-generated array of queries (present
 *     keys in random order for hits, absent keys for misses), and a batched
 *     variant that hashes and prefetches 16 keys before probing them.
 *
 * Prints one line per measurement:
 *   c-reference entries=<n> kind=<hit|miss> mode=<single|batch16> ns=<ns per lookup>
 * (the best of 15 passes over the 2^20 queries).
 *
 * Build: cc -O2 -o hash_table_reference hash_table_reference.c
 * Usage: hash_table_reference [entries...]   (default: 1024 1048576)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct address {
    uint64_t high;
    uint64_t low;
};

struct slot {
    uint64_t high;
    uint64_t low;
    uint64_t value;
};

struct table {
    struct slot *slots;
    uint64_t mask;
    uint64_t seed;
};

/* A small deterministic generator (SplitMix64) for keys and query order. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The hash of AddressIndex: both halves multiplied by odd constants,
 * combined, then a xorshift-multiply finaliser. */
static inline uint64_t address_hash(const struct table *table, struct address key) {
    uint64_t mixed = (key.low ^ table->seed) * 0x9E3779B97F4A7C15ULL;
    mixed ^= (key.high + 0x632BE59BD9B4E019ULL + (table->seed >> 1)) * 0xC2B2AE3D27D4EB4FULL;
    mixed ^= mixed >> 29;
    mixed *= 0xBF58476D1CE4E5B9ULL;
    mixed ^= mixed >> 32;
    return mixed;
}

static struct table table_create(size_t entries, uint64_t seed) {
    size_t count = 8;
    while (count < 2 * entries) count <<= 1;
    struct table table;
    table.mask = count - 1;
    table.seed = seed;
    table.slots = aligned_alloc(64, count * sizeof(struct slot));
    if (table.slots == NULL) {
        perror("aligned_alloc");
        exit(1);
    }
    memset(table.slots, 0, count * sizeof(struct slot));
    return table;
}

/* Returns 1 when the key was new. */
static int table_insert(struct table *table, struct address key, uint64_t value) {
    uint64_t index = address_hash(table, key) & table->mask;
    for (;;) {
        struct slot *slot = &table->slots[index];
        if ((slot->high | slot->low) == 0) {
            slot->high = key.high;
            slot->low = key.low;
            slot->value = value;
            return 1;
        }
        if (slot->high == key.high && slot->low == key.low) {
            slot->value = value;
            return 0;
        }
        index = (index + 1) & table->mask;
    }
}

/* The value for key, or -1 when absent. Bounded like AddressIndex.probe. */
static inline int64_t table_lookup_hashed(const struct table *table, struct address key, uint64_t hash) {
    uint64_t index = hash & table->mask;
    uint64_t remaining = table->mask;
    for (;;) {
        const struct slot *slot = &table->slots[index];
        if ((slot->high | slot->low) == 0) return -1;
        if (slot->high == key.high && slot->low == key.low) return (int64_t)slot->value;
        if (remaining-- == 0) return -1;
        index = (index + 1) & table->mask;
    }
}

static inline int64_t table_lookup(const struct table *table, struct address key) {
    return table_lookup_hashed(table, key, address_hash(table, key));
}

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* Keeps results alive so the compiler cannot drop the lookups. */
static volatile uint64_t sink;

static double measure(const struct table *table, const struct address *queries, size_t count, int batched) {
    double best = 1e30;
    for (int pass = 0; pass < 15; pass++) {
        uint64_t found = 0;
        double start = seconds_now();
        if (!batched) {
            for (size_t i = 0; i < count; i++) found += table_lookup(table, queries[i]) >= 0;
        } else {
            for (size_t i = 0; i < count; i += 16) {
                uint64_t hashes[16];
                for (int j = 0; j < 16; j++) {
                    hashes[j] = address_hash(table, queries[i + j]);
                    __builtin_prefetch(&table->slots[hashes[j] & table->mask]);
                }
                for (int j = 0; j < 16; j++) found += table_lookup_hashed(table, queries[i + j], hashes[j]) >= 0;
            }
        }
        double elapsed = seconds_now() - start;
        sink += found;
        double per_lookup = elapsed * 1e9 / (double)count;
        if (per_lookup < best) best = per_lookup;
    }
    return best;
}

static void run(size_t entries) {
    uint64_t random = 0xC0FFEE ^ entries;
    struct table table = table_create(entries, next_random(&random));
    struct address *keys = malloc(entries * sizeof *keys);
    size_t stored = 0;
    while (stored < entries) {
        struct address key = { 0x20010DB800000000ULL | (next_random(&random) & 0xFFFFFFFFULL), next_random(&random) };
        if (table_insert(&table, key, stored)) keys[stored++] = key;
    }
    const size_t query_count = 1u << 20;
    struct address *hits = malloc(query_count * sizeof *hits);
    struct address *misses = malloc(query_count * sizeof *misses);
    if (keys == NULL || hits == NULL || misses == NULL) {
        perror("malloc");
        exit(1);
    }
    for (size_t i = 0; i < query_count; i++) {
        hits[i] = keys[next_random(&random) % entries];
        misses[i].high = 0x20010DB900000000ULL | (next_random(&random) & 0xFFFFFFFFULL);
        misses[i].low = next_random(&random);
    }
    const char *modes[] = { "single", "batch16" };
    for (int batched = 0; batched < 2; batched++) {
        printf("c-reference entries=%zu kind=hit mode=%s ns=%.2f\n", entries, modes[batched],
               measure(&table, hits, query_count, batched));
        printf("c-reference entries=%zu kind=miss mode=%s ns=%.2f\n", entries, modes[batched],
               measure(&table, misses, query_count, batched));
    }
    fflush(stdout);
    free(hits);
    free(misses);
    free(keys);
    free(table.slots);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        for (int i = 1; i < argc; i++) run(strtoull(argv[i], NULL, 0));
    } else {
        run(1u << 10);
        run(1u << 20);
    }
    return 0;
}
