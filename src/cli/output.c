/*
 * output.c -- result sets on stdout in the format the reader wants:
 *   table  aligned columns for people (buffers up to TABLE_MAX rows to size
 *          the columns, then streams the rest with those widths); widths
 *          are display widths (cli_display_width: a CJK character takes 2)
 *   csv    RFC 4180 quoting with a header row, lines end in \n
 *   json   one array of objects keyed by column name, numbers as numbers
 *   jsonl  one object per line
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_MAX 1000

/* A cell as text (NULL: ""), malloc'd; NULL when out of memory. */
static char *cell_text(sqlite3_stmt *st, int i)
{
    char *t = NULL;
    int n = 0;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return strdup("");
    case SQLITE_INTEGER:
        n = asprintf(&t, "%" PRId64, (int64_t)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT: { /* shortest text that reads back as the same double */
        double v = sqlite3_column_double(st, i);
        char tmp[40];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v) break;
        }
        return strdup(tmp);
    }
    case SQLITE_BLOB: {
        const unsigned char *p = sqlite3_column_blob(st, i);
        int len = sqlite3_column_bytes(st, i);
        static const char hex[] = "0123456789abcdef";
        if (!(t = malloc(2 * (size_t)len + 4))) return NULL;
        char *q = t;
        *q++ = 'x';
        *q++ = '\'';
        for (int k = 0; k < len; k++) {
            *q++ = hex[p[k] >> 4];
            *q++ = hex[p[k] & 15];
        }
        *q++ = '\'';
        *q = '\0';
        return t;
    }
    default: {
        const char *s = (const char *)sqlite3_column_text(st, i);
        return strdup(s ? s : "");
    }
    }
    return n < 0 ? NULL : t;
}

/* 0, or -1 when out of memory. */
static int json_cell(sqlite3_stmt *st, int i, FILE *out)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: fputs("null", out); return 0;
    case SQLITE_INTEGER: fprintf(out, "%" PRId64, (int64_t)sqlite3_column_int64(st, i)); return 0;
    case SQLITE_FLOAT: sl_json_write_double(out, sqlite3_column_double(st, i)); return 0;
    default: {
        char *t = cell_text(st, i);
        if (!t) return -1;
        sl_json_write_string(out, t);
        free(t);
        return 0;
    }
    }
}

static int json_row(sqlite3_stmt *st, FILE *out)
{
    int n = sqlite3_column_count(st), rc = 0;
    fputc('{', out);
    for (int i = 0; i < n && !rc; i++) {
        if (i) fputc(',', out);
        sl_json_write_string(out, sqlite3_column_name(st, i));
        fputc(':', out);
        rc = json_cell(st, i, out);
    }
    fputc('}', out);
    return rc;
}

void cli_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static int csv_row(sqlite3_stmt *st, FILE *out, int header)
{
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', out);
        if (header) {
            cli_csv_field(out, sqlite3_column_name(st, i));
            continue;
        }
        char *t = cell_text(st, i);
        if (!t) return -1;
        cli_csv_field(out, t);
        free(t);
    }
    fputc('\n', out);
    return 0;
}

typedef struct table {
    int ncol;
    size_t *width;
    char **cells;  /* TABLE_MAX * ncol slots, nrows * ncol used, owned */
    int *numeric;  /* column holds numbers so far: right-align */
    size_t nrows;
} table;

static void table_pad(FILE *out, const char *s, size_t width, int right)
{
    size_t w = cli_display_width(s);
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
    t.cells = calloc((size_t)TABLE_MAX * t.ncol, sizeof *t.cells);
    char **row = calloc(t.ncol, sizeof *row);
    int rc = SQLITE_NOMEM, headed = 0;
    if (!t.width || !t.numeric || !t.cells || !row) goto done;
    for (int i = 0; i < t.ncol; i++) {
        t.width[i] = cli_display_width(sqlite3_column_name(st, i));
        t.numeric[i] = 1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int oom = 0;
        for (int i = 0; i < t.ncol; i++) {
            int type = sqlite3_column_type(st, i);
            if (type != SQLITE_INTEGER && type != SQLITE_FLOAT && type != SQLITE_NULL) t.numeric[i] = 0;
            if (!(row[i] = cell_text(st, i))) oom = 1;
        }
        if (oom) {
            for (int i = 0; i < t.ncol; i++) free(row[i]);
            rc = SQLITE_NOMEM;
            break;
        }
        if (t.nrows < TABLE_MAX) {
            for (int i = 0; i < t.ncol; i++) {
                t.cells[t.nrows * t.ncol + i] = row[i];
                size_t w = cli_display_width(row[i]);
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
done:
    for (size_t k = 0; t.cells && k < t.nrows * (size_t)t.ncol; k++) free(t.cells[k]);
    free(t.cells);
    free(t.width);
    free(t.numeric);
    free(row);
    return rc;
}

int cli_print_stmt(sqlite3_stmt *st, cli_outfmt fmt, FILE *out)
{
    if (fmt == OUT_TABLE) return print_table(st, out);
    int rc, nrow = 0, oom = 0;
    if (fmt == OUT_CSV && sqlite3_column_count(st)) csv_row(st, out, 1);
    if (fmt == OUT_JSON) fputc('[', out);
    while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fmt == OUT_CSV) {
            oom = csv_row(st, out, 0) != 0;
        } else {
            if (fmt == OUT_JSON && nrow) fputc(',', out);
            if (fmt == OUT_JSON) fputc('\n', out);
            oom = json_row(st, out) != 0;
            if (fmt == OUT_JSONL) fputc('\n', out);
        }
        nrow++;
    }
    if (oom) return SQLITE_NOMEM;
    if (fmt == OUT_JSON) fputs(nrow ? "\n]\n" : "]\n", out);
    return rc;
}
