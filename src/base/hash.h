/*
 * base/hash.h -- the one family of hash functions of spanlite.  Every hash
 * table, cache, Bloom filter and content hash uses these; do not add a
 * private FNV or murmur finaliser elsewhere.
 *
 *   sl_hash_bytes(h, p, n)  n bytes folded into h (start with SL_HASH_INIT):
 *                           byte strings, composite keys field by field.
 *   sl_hash_str(h, s)       a NUL-terminated string with a length prefix, so
 *                           that ("ab","c") and ("a","bc") differ, and NULL
 *                           differs from "".
 *   sl_hash_mix64(x)        a 64-bit integer key (a rowid, a packed pair) to
 *                           well-spread bits: murmur3's fmix64, a bijection.
 *   sl_hash_step64(h, w)    one word folded into h, inline: records hashed
 *                           field by field, then sl_hash_mix64.
 *
 *   sl_hash_wf_txn_key(p, n)  the workflow transaction key hash; only for
 *                           wf_txn.key_hash, see below.
 *
 * Stability: sl_hash_bytes and sl_hash_str are persisted (span.content_hash,
 * resource.hash), so their values must never change; a new function gets a
 * new name.  Not cryptographic.
 */
#ifndef SL_HASH_H
#define SL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SL_HASH_INIT 0xcbf29ce484222325ULL

uint64_t sl_hash_bytes(uint64_t h, const void *p, size_t n);
uint64_t sl_hash_str(uint64_t h, const char *s);

/* PERSISTED: the high 32 bits of this hash of a transaction's dict-key text
 * are stored in wf_txn.key_hash (schema/002) and looked up by the workflow
 * writer (workflow/writer.c), so its value must never change unless a
 * migration recomputes that column.  FNV-1a over 8-byte little-endian words
 * (the tail zero-padded) seeded with the length, then sl_hash_mix64.  Use
 * sl_hash_bytes for anything new. */
uint64_t sl_hash_wf_txn_key(const void *p, size_t n);

/* One 8-byte round of sl_hash_bytes: fold the word w into h (xxHash64's
 * round).  For hashing a record field by field without a call per field;
 * end with sl_hash_mix64 (sl_hash_bytes ends with its own avalanche).
 * sl_hash_bytes is built on it, so it never changes either. */
static inline uint64_t sl_hash_step64(uint64_t h, uint64_t w)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL;
    w *= P2;
    w = (w << 31) | (w >> 33);
    h ^= w * P1;
    h = (h << 27) | (h >> 37);
    return h * P1 + 0x85EBCA77C2B2AE63ULL;
}

static inline uint64_t sl_hash_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif
