// chomeless_crypto.c - SHA-1 and SHA-256 through libcrypto's low-level API.
//
// The low-level SHA*_Init/Update/Final functions are deprecated in OpenSSL 3
// in favour of EVP, but EVP contexts live on the heap and copying one
// allocates; HMAC with a precomputed key state per packet needs a copy that
// does not (see chomeless_crypto.h).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

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

void hl_hmac_sha256(const hl_hash_state *inner, const hl_hash_state *outer, const void *first, size_t first_count,
                    const void *second, size_t second_count, uint8_t *mac) {
    SHA256_CTX context = *(const SHA256_CTX *)inner;
    uint8_t inner_digest[SHA256_DIGEST_LENGTH];
    if (first_count > 0) SHA256_Update(&context, first, first_count);
    if (second_count > 0) SHA256_Update(&context, second, second_count);
    SHA256_Final(inner_digest, &context);
    context = *(const SHA256_CTX *)outer;
    SHA256_Update(&context, inner_digest, sizeof inner_digest);
    SHA256_Final(mac, &context);
}
