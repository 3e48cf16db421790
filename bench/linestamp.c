/*
 * linestamp.c -- a pipe that times its lines: bench/ingest puts it in front
 * of `spanlite import -` to see the import's rate million by million.
 *
 *   linestamp EVERY < IN | spanlite --db W import -     (stamps on stderr)
 *
 * Copies stdin to stdout unchanged and, each time EVERY more lines have
 * gone out, writes "LINES SECONDS" to stderr (seconds since it started,
 * to the nanosecond).  The importer reads only a bounded distance ahead
 * (the pipe, its input window and three batches of 4,096 spans), so a
 * stamp trails the warehouse's progress by well under 1% of a million
 * lines.  Exit status 0, or 2 on a read or write error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long every = argc == 2 ? atol(argv[1]) : 0;
    if (every <= 0) {
        fprintf(stderr, "usage: linestamp EVERY < IN > OUT\n");
        return 2;
    }
    static char buf[1 << 16];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long lines = 0, next = every;
    ssize_t n;
    while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0) {
        const char *todo = buf, *end = buf + n; /* [todo, end) not yet written */
        for (const char *p = buf, *nl; (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
            if (++lines < next) continue;
            /* Out before the stamp: the reader can have this line now. */
            if (write_all(todo, (size_t)(nl + 1 - todo))) return 2;
            todo = nl + 1;
            fprintf(stderr, "%ld %.6f\n", lines, since(&t0));
            next += every;
        }
        if (write_all(todo, (size_t)(end - todo))) return 2;
    }
    if (n < 0) return 2;
    fprintf(stderr, "%ld %.6f end\n", lines, since(&t0));
    return 0;
}
