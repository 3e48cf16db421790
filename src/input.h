/*
 * input.h -- a byte source for importers: a file, standard input ("-"), or
 * either of them gzip-compressed (detected by magic bytes, not by name).
 *
 * Line-oriented formats pull one line at a time with sl_input_line(); the
 * returned line lives in the input's buffer until the next call, so memory
 * stays bounded by the longest line (capped at SL_INPUT_MAX_LINE).  Whole-
 * document formats call sl_input_read_all() once.
 */
#ifndef SL_INPUT_H
#define SL_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define SL_INPUT_MAX_LINE (256u << 20) /* longer lines are rejected, not buffered */

typedef struct sl_input sl_input;

/* Open path ("-" = stdin).  On failure returns NULL and writes a message to err. */
sl_input *sl_input_open(const char *path, char *err, size_t errlen);
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

/* The rest of the input in one malloc'd, NUL-terminated buffer (caller frees). */
char *sl_input_read_all(sl_input *in, size_t *len);

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

/* Uncompressed bytes consumed so far. */
uint64_t sl_input_bytes(const sl_input *in);
const char *sl_input_error(const sl_input *in);

#endif
