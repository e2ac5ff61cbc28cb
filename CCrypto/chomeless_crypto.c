// chomeless_crypto.c - SHA-1 and SHA-256 through libcrypto's low-level API.
//
// The low-level SHA*_Init/Update/Final functions are deprecated in OpenSSL 3
// in favour of EVP, but EVP contexts live on the heap and copying one
// allocates; HMAC with a precomputed key state per packet needs a copy that
// does not (see chomeless_crypto.h).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#include "chomeless_crypto.h"

_Static_assert(sizeof(SHA_CTX) <= sizeof(hl_hash_state), "SHA_CTX must fit hl_hash_state");
_Static_assert(sizeof(SHA256_CTX) <= sizeof(hl_hash_state), "SHA256_CTX must fit hl_hash_state");
_Static_assert(_Alignof(SHA_CTX) <= _Alignof(hl_hash_state), "SHA_CTX alignment");
_Static_assert(_Alignof(SHA256_CTX) <= _Alignof(hl_hash_state), "SHA256_CTX alignment");

void hl_sha1_init(hl_hash_state *state) { SHA1_Init((SHA_CTX *)state); }

void hl_sha1_update(hl_hash_state *state, const void *bytes, size_t count) {
    if (count > 0) SHA1_Update((SHA_CTX *)state, bytes, count);
}

void hl_sha1_final(hl_hash_state *state, uint8_t *digest) { SHA1_Final(digest, (SHA_CTX *)state); }

void hl_sha256_init(hl_hash_state *state) { SHA256_Init((SHA256_CTX *)state); }

void hl_sha256_update(hl_hash_state *state, const void *bytes, size_t count) {
    if (count > 0) SHA256_Update((SHA256_CTX *)state, bytes, count);
}

void hl_sha256_final(hl_hash_state *state, uint8_t *digest) { SHA256_Final(digest, (SHA256_CTX *)state); }

void hl_hmac_sha1(const hl_hash_state *inner, const hl_hash_state *outer, const void *first, size_t first_count,
                  const void *second, size_t second_count, uint8_t *mac) {
    SHA_CTX context = *(const SHA_CTX *)inner;
    uint8_t inner_digest[SHA_DIGEST_LENGTH];
    if (first_count > 0) SHA1_Update(&context, first, first_count);
    if (second_count > 0) SHA1_Update(&context, second, second_count);
    SHA1_Final(inner_digest, &context);
    context = *(const SHA_CTX *)outer;
    SHA1_Update(&context, inner_digest, sizeof inner_digest);
    SHA1_Final(mac, &context);
}

// HMAC-SHA-256 without SHA256_Update/SHA256_Final around every piece: the
// message is absorbed into a 64-octet block on the stack (whole blocks of
// the packet go to the block function in place), the final padding
// (FIPS 180-4 5.1.1) is written here, and each padded block goes to
// SHA256_Transform. The length counts the ipad/opad block the precomputed
// states have already absorbed. For the 104-octet AH packet this is three
// compressions and no buffering in libcrypto, which is what keeps small
// packets near the cost of the bare HMAC.
static void hl_store_be32(uint8_t *out, uint32_t value) {
    out[0] = (uint8_t)(value >> 24); out[1] = (uint8_t)(value >> 16);
    out[2] = (uint8_t)(value >> 8); out[3] = (uint8_t)value;
}

static void hl_store_be64(uint8_t *out, uint64_t value) {
    hl_store_be32(out, (uint32_t)(value >> 32));
    hl_store_be32(out + 4, (uint32_t)value);
}

// Appends `count` octets to the partial block (`*used` octets in `block`);
// full blocks are compressed. SHA256_Update only ever sees whole blocks, so
// the context's own buffer stays empty and it goes straight to the block
// function.
static void hl_sha256_absorb(SHA256_CTX *context, uint8_t block[SHA256_CBLOCK], size_t *used,
                             const uint8_t *bytes, size_t count) {
    if (*used > 0) {
        size_t take = SHA256_CBLOCK - *used;
        if (take > count) take = count;
        memcpy(block + *used, bytes, take);
        *used += take;
        bytes += take;
        count -= take;
        if (*used < SHA256_CBLOCK) return;
        SHA256_Transform(context, block);
        *used = 0;
    }
    size_t whole = count & ~(size_t)(SHA256_CBLOCK - 1);
    if (whole > 0) {
        SHA256_Update(context, bytes, whole);
        bytes += whole;
        count -= whole;
    }
    if (count > 0) memcpy(block, bytes, count);
    *used = count;
}

// Pads the partial block with the message length `bits` and compresses it.
static void hl_sha256_pad(SHA256_CTX *context, uint8_t block[SHA256_CBLOCK], size_t used, uint64_t bits) {
    block[used++] = 0x80;
    if (used > SHA256_CBLOCK - 8) {
        memset(block + used, 0, SHA256_CBLOCK - used);
        SHA256_Transform(context, block);
        used = 0;
    }
    memset(block + used, 0, SHA256_CBLOCK - 8 - used);
    hl_store_be64(block + SHA256_CBLOCK - 8, bits);
    SHA256_Transform(context, block);
}

void hl_hmac_sha256(const hl_hash_state *inner, const hl_hash_state *outer, const void *first, size_t first_count,
                    const void *second, size_t second_count, uint8_t *mac) {
    SHA256_CTX context = *(const SHA256_CTX *)inner;
    uint8_t block[SHA256_CBLOCK];
    size_t used = 0;
    if (first_count > 0) hl_sha256_absorb(&context, block, &used, first, first_count);
    if (second_count > 0) hl_sha256_absorb(&context, block, &used, second, second_count);
    // The precomputed state already absorbed one block (key XOR ipad).
    hl_sha256_pad(&context, block, used, ((uint64_t)SHA256_CBLOCK + first_count + second_count) * 8);
    for (int word = 0; word < 8; word++) hl_store_be32(block + 4 * word, context.h[word]);
    context = *(const SHA256_CTX *)outer;
    hl_sha256_pad(&context, block, SHA256_DIGEST_LENGTH, ((uint64_t)SHA256_CBLOCK + SHA256_DIGEST_LENGTH) * 8);
    for (int word = 0; word < 8; word++) hl_store_be32(mac + 4 * word, context.h[word]);
}
