/*
 * formats/format.c -- the table of import formats and content-based detection.
 */
#include "formats/format.h"

#include <string.h>

/* One per fmt_*.c. */
extern const sl_format sl_format_spans, sl_format_otlp, sl_format_jaeger, sl_format_zipkin,
    sl_format_csv, sl_format_workflow;

static const sl_format *const formats[] = {
    &sl_format_spans, &sl_format_otlp, &sl_format_jaeger, &sl_format_zipkin,
    &sl_format_csv, &sl_format_workflow,
};
#define NFORMATS (sizeof formats / sizeof *formats)

const sl_format *sl_format_find(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(formats[i]->name, name) == 0) return formats[i];
    return NULL;
}

const sl_format *sl_format_detect(const char *head, size_t len)
{
    const sl_format *best = NULL;
    int best_score = 0;
    for (size_t i = 0; i < NFORMATS; i++) {
        if (!formats[i]->detect) continue;
        int score = formats[i]->detect(head, len);
        if (score > best_score) {
            best = formats[i];
            best_score = score;
        }
    }
    return best;
}

const char *const *sl_formats(void)
{
    static const char *const names[] = {"spans", "otlp", "jaeger", "zipkin", "csv", "workflow", NULL};
    return names;
}
