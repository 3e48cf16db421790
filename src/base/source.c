/*
 * base/source.c -- files, stdin, gzip, memory buffers and byte ranges of files
 * behind one reader; see source.h.
 *
 * zlib's gzread() reads plain files transparently, so compressed and plain
 * input take the same path and compression is recognised by magic bytes.
 * A memory buffer and a byte range are read as they are (no gzip): the one
 * is a message already in memory, the other the rest of a plain log.
 */
#include "base/source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (256u << 10)

struct sl_input {
    gzFile gz;       /* a file or stdin, or NULL for the two kinds below */
    int fd;          /* the descriptor gz reads (gz owns it); a range's own, or -1 */
    const char *mem; /* a memory input's bytes (borrowed) ... */
    uint64_t left;   /* ... or a range's: bytes not yet read from mem or fd */
    uint64_t origin; /* offset in the underlying file of the first byte read */
    uint64_t mark;   /* where the unit being decoded starts (sl_input_mark) */
    int raw;         /* sl_input_read() has been called since the last line */
    char *name;
    char *buf;       /* buffered, decompressed bytes: [pos, end) unread */
    size_t pos, end, cap;
    int eof;         /* gzread() returned 0 */
    uint64_t lineno; /* lines returned so far */
    uint64_t consumed;
    char err[256];
};

/* A new input named name with its buffer, reading nothing yet; NULL when
 * out of memory. */
static sl_input *input_new(const char *name)
{
    sl_input *in = calloc(1, sizeof *in);
    if (!in) return NULL;
    in->fd = -1;
    in->cap = CHUNK;
    in->name = strdup(name);
    in->buf = malloc(CHUNK + 1);
    if (!in->name || !in->buf) {
        sl_input_free(in);
        return NULL;
    }
    return in;
}

sl_input *sl_input_open(const char *path, char *err, size_t errlen)
{
    int is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) { /* read() would say only EISDIR, late */
        snprintf(err, errlen, "%s is a directory: name the files in it (%s/*)", path, path);
        close(fd);
        return NULL;
    }
    sl_input *in = input_new(is_stdin ? "<stdin>" : path);
    if (in) in->gz = gzdopen(fd, "rb");
    if (!in || !in->gz) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(fd);
        sl_input_free(in);
        return NULL;
    }
    gzbuffer(in->gz, CHUNK);
    return in;
}

sl_input *sl_input_memory(const char *name, const void *buf, size_t len, char *err, size_t errlen)
{
    sl_input *in = input_new(name);
    if (!in) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    in->mem = buf ? buf : "";
    in->left = buf ? len : 0;
    return in;
}

sl_input *sl_input_range(const char *path, uint64_t offset, uint64_t length, char *err,
                         size_t errlen)
{
    sl_input *in = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || (offset > (uint64_t)INT64_MAX) ||
        lseek(fd, (off_t)offset, SEEK_SET) == (off_t)-1) {
        snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "cannot seek to the range");
        goto fail;
    }
    if (!(in = input_new(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    in->fd = fd;
    in->left = length;
    in->origin = in->mark = offset;
    return in;
fail:
    if (fd >= 0) close(fd);
    return NULL;
}

void sl_input_free(sl_input *in)
{
    if (!in) return;
    if (in->gz) gzclose(in->gz);
    else if (in->fd >= 0) close(in->fd);
    free(in->name);
    free(in->buf);
    free(in);
}

const char *sl_input_name(const sl_input *in) { return in->name; }
const char *sl_input_error(const sl_input *in) { return in->err; }
uint64_t sl_input_bytes(const sl_input *in) { return in->consumed; }
uint64_t sl_input_origin(const sl_input *in) { return in->origin; }
uint64_t sl_input_mark(const sl_input *in) { return in->mark; }

/* A memory input's or a range's next bytes into buf.  Same results as gz_read. */
static long plain_read(sl_input *in, char *buf, size_t cap)
{
    if (cap > in->left) cap = (size_t)in->left;
    if (cap > INT_MAX) cap = INT_MAX;
    long n = 0;
    if (in->mem) {
        memcpy(buf, in->mem, cap);
        in->mem += cap;
        n = (long)cap;
    } else if (cap) {
        ssize_t r;
        do r = read(in->fd, buf, cap);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            snprintf(in->err, sizeof in->err, "read error: %s", strerror(errno));
            return -1;
        }
        n = (long)r;
    }
    in->left -= (uint64_t)n;
    if (n == 0) in->eof = 1; /* the end of the range, or of a file shorter than it */
    return n;
}

/* gzread() into buf, setting eof at the end.  Returns the byte count, 0 at
 * end of input, -1 on error (message in in->err). */
static long gz_read(sl_input *in, char *buf, size_t cap)
{
    if (!in->gz) return plain_read(in, buf, cap);
    if (cap > INT_MAX) cap = INT_MAX;
    int n = gzread(in->gz, buf, (unsigned)cap);
    if (n < 0) {
        int zerr;
        const char *msg = gzerror(in->gz, &zerr);
        snprintf(in->err, sizeof in->err, "read error: %s",
                 zerr == Z_ERRNO ? strerror(errno) : msg);
        return -1;
    }
    if (n == 0) {
        in->eof = 1;
        /* gzread stops quietly at a truncated gzip stream, leaving
         * Z_BUF_ERROR ("unexpected end of file"): that is an error, or a
         * file cut short would import as if whole. */
        int zerr;
        gzerror(in->gz, &zerr);
        if (zerr == Z_BUF_ERROR) {
            long long at = (long long)gzoffset(in->gz); /* -1 on a pipe */
            char where[64] = "";
            if (at >= 0) snprintf(where, sizeof where, " at byte %lld", at);
            snprintf(in->err, sizeof in->err,
                     "truncated gzip data: the compressed stream stops%s, before its end "
                     "(%llu bytes decompressed); what came before it was read",
                     where, (unsigned long long)gztell(in->gz));
            return -1;
        }
        if (zerr != Z_OK) {
            snprintf(in->err, sizeof in->err, "read error: %s", gzerror(in->gz, &zerr));
            return -1;
        }
    }
    return n;
}

/* Read more bytes after the unread ones, growing the buffer up to max.
 * Returns bytes added, 0 at end of input, -1 on error. */
static long fill(sl_input *in, size_t max)
{
    if (in->eof) return in->err[0] ? -1 : 0; /* a read error stays an error (a peek may have met it) */
    if (in->pos > 0) { /* slide the unread tail to the front */
        memmove(in->buf, in->buf + in->pos, in->end - in->pos);
        in->end -= in->pos;
        in->pos = 0;
    }
    if (in->end == in->cap) {
        if (in->cap >= max) return -1;
        /* Doubling stopped at max (the caller's record limit: the buffer
         * must not pass it), which sl_array_reserve cannot express. */
        size_t cap = in->cap * 2 > max ? max : in->cap * 2;
        char *b = realloc(in->buf, cap + 1);
        if (!b) {
            snprintf(in->err, sizeof in->err, "out of memory");
            return -1;
        }
        in->buf = b;
        in->cap = cap;
    }
    long n = gz_read(in, in->buf + in->end, in->cap - in->end);
    if (n > 0) in->end += (size_t)n;
    return n;
}

const char *sl_input_peek(sl_input *in, size_t want, size_t *len)
{
    if (want > in->cap) want = in->cap;
    while (in->end - in->pos < want && fill(in, in->cap) > 0)
        ;
    *len = in->end - in->pos;
    in->buf[in->end] = '\0';
    return in->buf + in->pos;
}

int sl_input_line(sl_input *in, char **line, size_t *len, uint64_t *lineno)
{
    size_t scanned = 0; /* bytes after pos already known to hold no newline */
    for (;;) {
        char *start = in->buf + in->pos;
        char *nl = memchr(start + scanned, '\n', in->end - in->pos - scanned);
        if (nl || (in->eof && in->end > in->pos)) {
            size_t n = nl ? (size_t)(nl - start) : in->end - in->pos;
            in->mark = in->origin + in->consumed;
            in->raw = 0;
            in->pos += n + (nl ? 1 : 0);
            in->consumed += n + (nl ? 1 : 0);
            if (n > 0 && start[n - 1] == '\r') n--;
            start[n] = '\0';
            *line = start;
            *len = n;
            *lineno = ++in->lineno;
            return 1;
        }
        if (in->eof) return in->err[0] ? -1 : 0;
        scanned = in->end - in->pos;
        long got = fill(in, SL_INPUT_MAX_LINE);
        if (got < 0) {
            if (!in->err[0])
                snprintf(in->err, sizeof in->err, "line %llu is longer than %u bytes",
                         (unsigned long long)in->lineno + 1, SL_INPUT_MAX_LINE);
            return -1;
        }
    }
}

long sl_input_read(sl_input *in, char *buf, size_t cap)
{
    if (!in->raw) { /* a document read raw is a unit from here on */
        in->raw = 1;
        in->mark = in->origin + in->consumed;
    }
    size_t held = in->end - in->pos;
    long n;
    if (held) { /* what a peek or a line read buffered comes first */
        n = (long)(held < cap ? held : cap);
        memcpy(buf, in->buf + in->pos, (size_t)n);
        in->pos += (size_t)n;
    } else {
        n = !in->eof ? gz_read(in, buf, cap) : in->err[0] ? -1 : 0;
    }
    if (n > 0) in->consumed += (uint64_t)n;
    return n;
}

void sl_linepos_init(sl_linepos *lp, const char *base, uint64_t base_line)
{
    lp->base = lp->counted = base;
    lp->base_line = lp->counted_line = base_line;
}

uint64_t sl_linepos_at(sl_linepos *lp, const char *pos)
{
    if (pos < lp->counted) { /* behind us: count again from the start */
        lp->counted = lp->base;
        lp->counted_line = lp->base_line;
    }
    for (const char *p = lp->counted; p < pos;) {
        const char *nl = memchr(p, '\n', (size_t)(pos - p));
        if (!nl) break;
        lp->counted_line++;
        p = nl + 1;
    }
    lp->counted = pos;
    return lp->counted_line;
}

/* ---- Window ---- */

void sl_window_init(sl_window *w, size_t chunk)
{
    memset(w, 0, sizeof *w);
    w->chunk = chunk ? chunk : 1;
    sl_linepos_init(&w->lines, NULL, 1);
}

void sl_window_free(sl_window *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

/* Forget buf[0, n): its lines are counted first, then the rest slides down. */
static void window_drop(sl_window *w, size_t n)
{
    if (!n) return;
    uint64_t line = sl_linepos_at(&w->lines, w->buf + n);
    memmove(w->buf, w->buf + n, w->len - n + 1); /* with the NUL */
    w->len -= n;
    sl_linepos_init(&w->lines, w->buf, line);
}

/* Room for cap bytes (and a NUL); lines follow the buffer if it moves. */
static int window_reserve(sl_window *w, size_t cap)
{
    if (cap <= w->cap && w->buf) return 0;
    size_t counted = w->buf ? (size_t)(w->lines.counted - w->buf) : 0;
    char *b = realloc(w->buf, cap + 1);
    if (!b) return -1;
    w->buf = b;
    w->cap = cap;
    w->lines.base = b;
    w->lines.counted = b + counted;
    return 0;
}

int sl_window_more(sl_window *w, sl_input *in, size_t consumed)
{
    window_drop(w, consumed);
    if (w->eof) return 0;
    /* Double what is held (or add a chunk): the re-scans of a record cut
     * off again and again then add up to about twice its size. */
    size_t want = w->len + (w->len > w->chunk ? w->len : w->chunk);
    if (want > w->cap && window_reserve(w, want > 2 * w->cap ? want : 2 * w->cap)) {
        snprintf(in->err, sizeof in->err, "out of memory");
        return -1;
    }
    size_t before = w->len;
    while (w->len < want) {
        long n = sl_input_read(in, w->buf + w->len, w->cap - w->len);
        if (n < 0) return -1;
        if (n == 0) {
            w->eof = 1;
            break;
        }
        w->len += (size_t)n;
    }
    w->buf[w->len] = '\0';
    return w->len > before;
}
