/* base/hash.c -- the project's one hash family; see hash.h. */
#include "base/hash.h"

#include <string.h>

/* Eight bytes a round, each folded in with a multiply-rotate-multiply step
 * (xxHash64's round); the tail byte by byte.  Not cryptographic: it only
 * has to tell different spans of one trace apart. */
static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t sl_hash_bytes(uint64_t h, const void *p, size_t n)
{
    static const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL;
    const unsigned char *s = p;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = sl_hash_step64(h, w);
    }
    for (; n; s++, n--) {
        h ^= *s * 0x27D4EB2F165667C5ULL;
        h = rotl64(h, 11) * P1;
    }
    h ^= h >> 33; /* final avalanche, so low bits depend on every byte */
    h *= P2;
    h ^= h >> 29;
    return h;
}

uint64_t sl_hash_str(uint64_t h, const char *s)
{
    /* A length prefix keeps field boundaries unambiguous ("ab","c" != "a","bc"). */
    uint64_t n = s ? (uint64_t)strlen(s) : UINT64_MAX;
    h = sl_hash_bytes(h, &n, sizeof n);
    return s ? sl_hash_bytes(h, s, (size_t)n) : h;
}


uint64_t sl_hash_wf_txn_key(const void *p, size_t n)
{
    /* Value-identical to the workflow code's sl_wf_hash_bytes, which wrote
     * every stored wf_txn.key_hash: do not change (see hash.h). */
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ n;
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, b, 8);
        h = (h ^ k) * 0x100000001b3ULL;
        h ^= h >> 29;
        b += 8;
        n -= 8;
    }
    uint64_t k = 0;
    if (n) memcpy(&k, b, n);
    h = (h ^ k) * 0x100000001b3ULL;
    return sl_hash_mix64(h);
}
