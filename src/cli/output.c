/*
 * output.c -- result sets on stdout in the format the reader wants:
 *   table  aligned columns for people (buffers up to TABLE_MAX rows to size
 *          the columns, then streams the rest with those widths)
 *   csv    RFC 4180 quoting with a header row, lines end in \n
 *   json   one array of objects keyed by column name, numbers as numbers
 *   jsonl  one object per line
 */
#include "cli.h"
#include "base/buf.h"
#include "base/json.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_MAX 1000

static void cell_text(sqlite3_stmt *st, int i, sl_buf *b)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: break;
    case SQLITE_INTEGER: sl_jw_int(b, sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: { /* shortest text that reads back as the same double */
        double v = sqlite3_column_double(st, i);
        char tmp[40];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v) break;
        }
        sl_buf_puts(b, tmp);
        break;
    }
    case SQLITE_BLOB: {
        const unsigned char *p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        sl_buf_puts(b, "x'");
        for (int k = 0; k < n; k++) sl_buf_printf(b, "%02x", p[k]);
        sl_buf_putc(b, '\'');
        break;
    }
    default: sl_buf_puts(b, (const char *)sqlite3_column_text(st, i));
    }
}

static void json_cell(sqlite3_stmt *st, int i, sl_buf *b)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: sl_buf_puts(b, "null"); break;
    case SQLITE_INTEGER: sl_jw_int(b, sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: sl_jw_double(b, sqlite3_column_double(st, i)); break;
    default: {
        sl_buf t = SL_BUF_INIT;
        cell_text(st, i, &t);
        sl_jw_stringn(b, t.p ? t.p : "", t.len);
        sl_buf_free(&t);
    }
    }
}

static void json_row(sqlite3_stmt *st, sl_buf *b)
{
    int first = 1, n = sqlite3_column_count(st);
    sl_buf_putc(b, '{');
    for (int i = 0; i < n; i++) {
        sl_jw_key(b, sqlite3_column_name(st, i), &first);
        json_cell(st, i, b);
    }
    sl_buf_putc(b, '}');
}

static void csv_field(sl_buf *b, const char *s, size_t n)
{
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n)) {
        sl_buf_append(b, s, n);
        return;
    }
    sl_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') sl_buf_putc(b, '"');
        sl_buf_putc(b, s[i]);
    }
    sl_buf_putc(b, '"');
}

static void csv_row(sqlite3_stmt *st, sl_buf *b, int header)
{
    int n = sqlite3_column_count(st);
    sl_buf t = SL_BUF_INIT;
    for (int i = 0; i < n; i++) {
        if (i) sl_buf_putc(b, ',');
        sl_buf_reset(&t);
        if (header) sl_buf_puts(&t, sqlite3_column_name(st, i));
        else cell_text(st, i, &t);
        csv_field(b, t.p ? t.p : "", t.len);
    }
    sl_buf_putc(b, '\n');
    sl_buf_free(&t);
}

/* Display width of UTF-8 text: code points, not bytes. */
static size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

typedef struct table {
    int ncol;
    size_t *width;
    char **cells;  /* nrows * ncol, owned */
    int *numeric;  /* column holds numbers so far: right-align */
    size_t nrows, cap;
} table;

static void table_pad(FILE *out, const char *s, size_t width, int right)
{
    size_t w = utf8_width(s);
    if (right) for (size_t k = w; k < width; k++) fputc(' ', out);
    fputs(s, out);
    if (!right) for (size_t k = w; k < width; k++) fputc(' ', out);
}

static void table_line(table *t, FILE *out, char **cells)
{
    for (int i = 0; i < t->ncol; i++) {
        if (i) fputs("  ", out);
        int last = i == t->ncol - 1;
        if (last && !t->numeric[i]) fputs(cells[i], out);
        else table_pad(out, cells[i], t->width[i], t->numeric[i]);
    }
    fputc('\n', out);
}

static void table_header(table *t, sqlite3_stmt *st, FILE *out)
{
    char **names = malloc(t->ncol * sizeof *names);
    if (!names) return;
    for (int i = 0; i < t->ncol; i++) names[i] = (char *)sqlite3_column_name(st, i);
    table_line(t, out, names);
    for (int i = 0; i < t->ncol; i++) {
        if (i) fputs("  ", out);
        for (size_t k = 0; k < t->width[i]; k++) fputc('-', out);
    }
    fputc('\n', out);
    free(names);
}

static int print_table(sqlite3_stmt *st, FILE *out)
{
    table t = {0};
    t.ncol = sqlite3_column_count(st);
    if (t.ncol == 0) {
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        return rc;
    }
    t.width = calloc(t.ncol, sizeof *t.width);
    t.numeric = calloc(t.ncol, sizeof *t.numeric);
    char **row = calloc(t.ncol, sizeof *row);
    int rc = SQLITE_NOMEM, headed = 0;
    if (!t.width || !t.numeric || !row) goto done;
    for (int i = 0; i < t.ncol; i++) {
        t.width[i] = utf8_width(sqlite3_column_name(st, i));
        t.numeric[i] = 1;
    }
    sl_buf b = SL_BUF_INIT;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < t.ncol; i++) {
            sl_buf_reset(&b);
            int type = sqlite3_column_type(st, i);
            if (type != SQLITE_INTEGER && type != SQLITE_FLOAT && type != SQLITE_NULL) t.numeric[i] = 0;
            cell_text(st, i, &b);
            row[i] = strdup(b.p ? b.p : "");
        }
        if (t.nrows < TABLE_MAX) {
            if (t.nrows == t.cap) {
                t.cap = t.cap ? t.cap * 2 : 64;
                t.cells = realloc(t.cells, t.cap * t.ncol * sizeof *t.cells);
            }
            for (int i = 0; i < t.ncol; i++) {
                t.cells[t.nrows * t.ncol + i] = row[i];
                size_t w = utf8_width(row[i]);
                if (w > t.width[i]) t.width[i] = w;
            }
            t.nrows++;
            continue;
        }
        if (!headed) { /* the buffer is full: print it, then stream */
            table_header(&t, st, out);
            for (size_t r = 0; r < t.nrows; r++) table_line(&t, out, &t.cells[r * t.ncol]);
            headed = 1;
        }
        table_line(&t, out, row);
        for (int i = 0; i < t.ncol; i++) free(row[i]);
    }
    if (!headed) {
        table_header(&t, st, out);
        for (size_t r = 0; r < t.nrows; r++) table_line(&t, out, &t.cells[r * t.ncol]);
    }
    sl_buf_free(&b);
done:
    for (size_t k = 0; k < t.nrows * (size_t)t.ncol; k++) free(t.cells[k]);
    free(t.cells);
    free(t.width);
    free(t.numeric);
    free(row);
    return rc;
}

int cli_print_stmt(sqlite3_stmt *st, cli_outfmt fmt, FILE *out)
{
    if (fmt == OUT_TABLE) return print_table(st, out);
    sl_buf b = SL_BUF_INIT;
    int rc, nrow = 0;
    if (fmt == OUT_CSV && sqlite3_column_count(st)) csv_row(st, &b, 1);
    if (fmt == OUT_JSON) sl_buf_putc(&b, '[');
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fmt == OUT_CSV) {
            csv_row(st, &b, 0);
        } else {
            if (fmt == OUT_JSON && nrow) sl_buf_putc(&b, ',');
            if (fmt == OUT_JSON) sl_buf_putc(&b, '\n');
            json_row(st, &b);
            if (fmt == OUT_JSONL) sl_buf_putc(&b, '\n');
        }
        nrow++;
        if (b.len > (1u << 16)) {
            fwrite(b.p, 1, b.len, out);
            sl_buf_reset(&b);
        }
    }
    if (fmt == OUT_JSON) sl_buf_puts(&b, nrow ? "\n]\n" : "]\n");
    if (b.len) fwrite(b.p, 1, b.len, out);
    sl_buf_free(&b);
    return rc;
}
