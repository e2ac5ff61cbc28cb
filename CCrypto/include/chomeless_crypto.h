// chomeless_crypto.h - the hash primitives under HomelessSecurity's HMAC.
//
// Swift keeps one precomputed hash state per Security Association (the state
// after absorbing key XOR ipad, and after key XOR opad; RFC 2104 section 4)
// and copies it for every packet. That copy must be a plain memory copy, so
// the state is an opaque fixed-size value here rather than a heap-allocated
// EVP context. The implementation is libcrypto's SHA1/SHA256 block code,
// which uses the CPU's SHA extensions where present.
//
// Every symbol is prefixed `hl_`.
#ifndef CHOMELESS_CRYPTO_H
#define CHOMELESS_CRYPTO_H

#include <stdint.h>
#include <stddef.h>

/// Storage for a SHA-1 or SHA-256 running state (libcrypto's SHA_CTX or
/// SHA256_CTX, checked at compile time to fit). Trivially copyable.
typedef struct {
    uint64_t words[16];
} hl_hash_state;

void hl_sha1_init(hl_hash_state *state);
void hl_sha1_update(hl_hash_state *state, const void *bytes, size_t count);
/// Writes the 20-byte digest; the state is consumed.
void hl_sha1_final(hl_hash_state *state, uint8_t *digest);

void hl_sha256_init(hl_hash_state *state);
void hl_sha256_update(hl_hash_state *state, const void *bytes, size_t count);
/// Writes the 32-byte digest; the state is consumed.
void hl_sha256_final(hl_hash_state *state, uint8_t *digest);

/// HMAC (RFC 2104) of the message `first` followed by `second`, from the
/// precomputed states after key XOR ipad (`inner`) and key XOR opad
/// (`outer`), which are copied, not changed. Writes the full 20- or 32-byte
/// MAC. One call per packet instead of one per piece: the AH fast path
/// passes the rewritten headers (on the stack) and the rest of the packet.
void hl_hmac_sha1(const hl_hash_state *inner, const hl_hash_state *outer, const void *first, size_t first_count,
                  const void *second, size_t second_count, uint8_t *mac);
void hl_hmac_sha256(const hl_hash_state *inner, const hl_hash_state *outer, const void *first, size_t first_count,
                    const void *second, size_t second_count, uint8_t *mac);

#endif
