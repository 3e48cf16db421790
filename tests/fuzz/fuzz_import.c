/*
 * fuzz_import.c -- a libFuzzer harness for one import format, through the
 * public API, as a user's file would go: the input is written to an
 * anonymous in-memory file and imported with sl_import_file() into one
 * in-memory warehouse.  Built once per format, with FUZZ_FORMAT naming it
 * ("auto" for content detection): tests/fuzz/CMakeLists.txt.
 *
 * Besides crashes, leaks and undefined behaviour (the sanitizers), it checks
 * the accounting rule of every import: when the import succeeds,
 * read == imported + duplicates + rejected.
 *
 * Two builds:
 *   - with clang and -fsanitize=fuzzer (SPANLITE_FUZZ=ON, tools/fuzz): the
 *     fuzzer, seeded with the real files and the test fixtures;
 *   - with any compiler and driver.c's main(): runs each file given once, so
 *     every crash the fuzzer ever found (tests/fuzz/regressions/) stays a test.
 */
#include "spanlite.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT "auto"
#endif
#define CLEAR_EVERY 256 /* inputs between sl_clear(), so memory stays bounded */

typedef struct harness {
    sl_db *db;
    unsigned long runs;
} harness;

static void ignore_reject(void *ctx, const char *source, uint64_t line, const char *reason,
                          const char *record, size_t len)
{
    (void)ctx, (void)source, (void)line, (void)reason, (void)record, (void)len;
}

/* One warehouse for the process: libFuzzer calls us with no context. */
static harness *the_harness(void)
{
    static harness h;
    if (!h.db && sl_open(":memory:", 0, &h.db) != SL_OK) {
        fprintf(stderr, "fuzz: cannot open a warehouse: %s\n", sl_errmsg(h.db));
        abort();
    }
    return &h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness *h = the_harness();
    int fd = memfd_create("fuzz-input", 0);
    if (fd < 0) abort();
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) abort();
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    sl_import_opts opts = {.format = FUZZ_FORMAT, .on_reject = ignore_reject};
    sl_import_stats st = {0};
    int rc = sl_import_file(h->db, path, &opts, &st);
    if (rc == SL_OK && st.read != st.imported + st.duplicates + st.rejected) {
        fprintf(stderr, "fuzz: %s import read %llu but imported %llu + skipped %llu + rejected %llu\n",
                FUZZ_FORMAT, (unsigned long long)st.read, (unsigned long long)st.imported,
                (unsigned long long)st.duplicates, (unsigned long long)st.rejected);
        abort();
    }
    close(fd);
    if (++h->runs % CLEAR_EVERY == 0 && sl_clear(h->db) != SL_OK) {
        fprintf(stderr, "fuzz: clear: %s\n", sl_errmsg(h->db));
        abort();
    }
    return 0;
}
