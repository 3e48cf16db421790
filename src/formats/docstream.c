/* formats/docstream.c -- the streaming driver of the document formats; see docstream.h. */
#include "formats/docstream.h"

#include <stdio.h>
#include <string.h>

void sl_docstream_init(sl_docstream *ds, size_t chunk)
{
    memset(ds, 0, sizeof *ds);
    sl_window_init(&ds->w, chunk);
}

void sl_docstream_free(sl_docstream *ds) { sl_window_free(&ds->w); }

static int input_error(sl_input *in, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", *sl_input_error(in) ? sl_input_error(in) : "out of memory");
    return -1;
}

/* Drop what was consumed and read more; pos starts the window again. */
static int more(sl_docstream *ds, sl_input *in)
{
    int r = sl_window_more(&ds->w, in, ds->pos);
    ds->pos = 0;
    return r;
}

/* Broken input at ds->bad: it and the rest of the input, rejected as one. */
static int reject_rest(sl_docstream *ds, sl_input *in, const sl_docformat *f, void *ctx,
                       char *err, size_t errlen)
{
    ds->pos = (size_t)(ds->bad - ds->w.buf);
    ds->bad = NULL;
    int r = more(ds, in);
    while (r > 0) r = more(ds, in);
    if (r < 0) return input_error(in, err, errlen);
    f->reject(ctx, sl_linepos_at(&ds->w.lines, ds->w.buf), ds->why, ds->w.buf, ds->w.len);
    return 0;
}

int sl_docstream_run(sl_docstream *ds, sl_input *in, const sl_docformat *f, void *ctx,
                     const int *stop, char *err, size_t errlen)
{
    int rc = 0;
    if (more(ds, in) < 0) return input_error(in, err, errlen);
    while (!*stop) {
        ds->bad = NULL;
        int r = f->step(ctx, ds);
        if (r == SL_DOC_DONE) break;
        if (r == SL_DOC_STEP) continue;
        if (r == SL_DOC_MORE && !ds->w.eof) {
            if (more(ds, in) < 0) {
                rc = input_error(in, err, errlen);
                break;
            }
            continue;
        }
        if (r == SL_DOC_MORE) /* a format's bug: nothing more will come */
            snprintf(ds->why, sizeof ds->why, "unexpected end of input");
        if (*stop) break;
        if (ds->bad && f->reject) {
            rc = reject_rest(ds, in, f, ctx, err, errlen);
        } else {
            snprintf(err, errlen, "%s", ds->why);
            rc = -1;
        }
        break;
    }
    return rc;
}
