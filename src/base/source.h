/*
 * base/source.h -- a byte source for importers: a file, standard input ("-"), or
 * either of them gzip-compressed (detected by magic bytes, not by name); a
 * buffer in memory (a Kafka message, a request body); or a byte range of a
 * plain file (the rest of a grown log).  Every kind reads the same way.
 *
 * Line-oriented formats pull one line at a time with sl_input_line(); the
 * returned line lives in the input's buffer until the next call, so memory
 * stays bounded by the longest line (capped at SL_INPUT_MAX_LINE).  JSON
 * document formats stream: an sl_window holds the part of the document
 * still being scanned, the reader drops what it has consumed and asks for
 * more when a record is cut off.
 */
#ifndef SL_INPUT_H
#define SL_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define SL_INPUT_MAX_LINE (256u << 20) /* longer lines are rejected, not buffered */

typedef struct sl_input sl_input;

/* Open path ("-" = stdin).  On failure returns NULL and writes a message to err. */
sl_input *sl_input_open(const char *path, char *err, size_t errlen);
/* Read len bytes at buf (borrowed: they must outlive the input) as they are,
 * named name.  NULL when out of memory (message in err). */
sl_input *sl_input_memory(const char *name, const void *buf, size_t len, char *err, size_t errlen);
/* Read at most length bytes of the plain file path from byte offset on (less
 * if the file ends first; UINT64_MAX: to its end).  NULL with a message in err. */
sl_input *sl_input_range(const char *path, uint64_t offset, uint64_t length, char *err,
                         size_t errlen);
void sl_input_free(sl_input *in);

/* Name for messages ("<stdin>" for "-"). */
const char *sl_input_name(const sl_input *in);

/*
 * Peek at the first bytes of the (decompressed) stream without consuming
 * them; sets *len to what is available (up to want).  For format detection.
 */
const char *sl_input_peek(sl_input *in, size_t want, size_t *len);

/*
 * Next line, without its "\n" (and "\r\n"); NUL-terminated, writable by the
 * caller up to *len.  Returns 1 with a line, 0 at end of input, -1 on a read
 * error or an over-long line (message in sl_input_error()).  *lineno is the
 * 1-based line number.
 */
int sl_input_line(sl_input *in, char **line, size_t *len, uint64_t *lineno);

/* Up to cap bytes of the rest of the input into buf (bytes buffered by a
 * peek or a line read come first).  Returns the byte count, 0 at end of
 * input, -1 on a read error (message in sl_input_error()). */
long sl_input_read(sl_input *in, char *buf, size_t cap);

/*
 * Line numbers of positions in a document held in memory, for messages
 * about records found by scanning it.  Positions asked for in increasing
 * order cost one pass over the text in all.
 */
typedef struct sl_linepos {
    const char *base;      /* the document */
    uint64_t base_line;    /* line number of base[0] */
    const char *counted;   /* a position already counted ... */
    uint64_t counted_line; /* ... and its line */
} sl_linepos;

void sl_linepos_init(sl_linepos *lp, const char *base, uint64_t base_line);
uint64_t sl_linepos_at(sl_linepos *lp, const char *pos);

/*
 * A sliding window over an input, for scanning records out of a document
 * without holding all of it:
 *
 *   sl_window w;
 *   sl_window_init(&w, chunk);
 *   size_t pos = 0;                            // consumed: buf[0, pos)
 *   for (;;) {
 *       ... take complete records from buf[pos, len), advancing pos;
 *       ... a record cut off at len (and !w.eof): ask for more:
 *       int r = sl_window_more(&w, in, pos);   // drops buf[0, pos) first
 *       pos = 0;
 *       if (r < 0) error; if (r == 0) w.eof is set: what is held is all
 *   }
 *   sl_window_free(&w);
 *
 * Each call at least doubles the bytes held after the consumed ones (or
 * reads one chunk when that is more), so re-scanning a record that was cut
 * off costs linear time overall however big the record, and memory stays
 * bounded by the biggest record taken whole plus a chunk or so.  Line
 * numbers of positions in buf come from lines, which the window keeps right
 * across drops (a dropped byte's line is counted before it goes).
 */
typedef struct sl_window {
    char *buf;        /* held bytes [0, len), NUL-terminated at len */
    size_t len, cap;  /* bytes held; allocated, not counting the NUL */
    size_t chunk;     /* least number of bytes a call adds, eof aside */
    int eof;          /* the input is exhausted: buf holds all that is left */
    sl_linepos lines; /* line numbers in buf (base is always buf) */
} sl_window;

void sl_window_init(sl_window *w, size_t chunk);
void sl_window_free(sl_window *w);
/* Drop buf[0, consumed) and read more.  Returns 1 when bytes were added,
 * 0 at end of input (eof set), -1 on a read error or when out of memory
 * (message in sl_input_error(), or "out of memory" if that is empty). */
int sl_window_more(sl_window *w, sl_input *in, size_t consumed);

/* Uncompressed bytes consumed so far. */
uint64_t sl_input_bytes(const sl_input *in);
/* Offset in the underlying file of the input's first byte (a range's start;
 * 0 for the other kinds). */
uint64_t sl_input_origin(const sl_input *in);
/* Where the unit now being decoded starts, as origin + bytes: the start of the
 * line sl_input_line() returned last, or, once sl_input_read() has been
 * called since, where those raw reads began (a document read raw can only be
 * re-read from its start).  Every record handed over after this call comes
 * from at or after the mark, which makes it a safe place to resume. */
uint64_t sl_input_mark(const sl_input *in);
const char *sl_input_error(const sl_input *in);

#endif
