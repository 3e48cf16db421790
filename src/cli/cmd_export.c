/* cmd_export.c -- `spanlite export`: spans out, streamed, in any format. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] export [OPTIONS]\n"
        "\n"
        "Write spans, trace by trace, to standard output or --output.\n"
        "\n"
        "Options:\n"
        "  --format NAME   one of:");
    for (const char *const *f = sl_export_formats(); *f; f++) fprintf(out, " %s", *f);
    fprintf(out, " (default spans)\n"
        "  --output FILE   write to FILE instead of standard output\n"
        "  --trace ID      only this trace\n"
        "  --service S     only traces that touch service S\n"
        "  --since T       only traces starting at or after T (ISO 8601 or epoch)\n"
        "  --until T       only traces starting before T\n"
        "  --help          this help\n");
}

int cmd_export(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"trace", required_argument, NULL, 't'},  {"service", required_argument, NULL, 's'},
        {"since", required_argument, NULL, 'S'},  {"until", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    sl_export_opts eo = {0};
    const char *output = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:t:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': eo.format = optarg; break;
        case 'o': output = optarg; break;
        case 't': eo.trace_id = optarg; break;
        case 's': eo.service = optarg; break;
        case 'S':
        case 'U': {
            int64_t *t = c == 'S' ? &eo.since_ns : &eo.until_ns;
            if (cli_parse_time("export", c == 'S' ? "--since" : "--until", optarg, t))
                return EXIT_USAGE;
            *(c == 'S' ? &eo.has_since : &eo.has_until) = 1;
            break;
        }
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("export", "unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    int known = !eo.format;
    for (const char *const *f = sl_export_formats(); *f && !known; f++) known = strcmp(*f, eo.format) == 0;
    if (!known) {
        cli_error("export", "unknown format '%s' (see spanlite export --help)", eo.format);
        return EXIT_USAGE;
    }
    sl_db *db = cli_open(ctx, 1);
    if (!db) return EXIT_USAGE;
    FILE *out = output ? fopen(output, "w") : stdout;
    if (!out) {
        cli_error("export", "cannot write %s", output);
        sl_close(db);
        return EXIT_USAGE;
    }
    uint64_t n = 0;
    int rc = sl_export(db, out, &eo, &n);
    if (rc != SL_OK) cli_error("export", "%s", sl_errmsg(db));
    if (output && fclose(out) != 0 && rc == SL_OK) {
        cli_error("export", "writing %s failed", output);
        rc = SL_IO;
    }
    if (rc == SL_OK && output) fprintf(stderr, "%s: %llu spans\n", output, (unsigned long long)n);
    sl_close(db);
    if (rc == SL_OK && eo.trace_id && n == 0) { /* as `spanlite trace` says it */
        cli_error("export", "no trace with id '%s'", eo.trace_id);
        return EXIT_FAIL;
    }
    return rc == SL_OK ? EXIT_OK : EXIT_FAIL;
}
