/*
 * cmd_import.c -- `spanlite import`: files (or stdin) into the warehouse.
 * Rejected records are reported as FILE:LINE: reason on stderr and kept
 * verbatim in the --rejects file, so they can be fixed and replayed.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SHOWN 100 /* reject messages printed before going quiet */

typedef struct import_ui {
    FILE *rejects;        /* --rejects, or NULL */
    const sl_source *src; /* being imported: positions in messages */
    uint64_t shown;       /* reject messages printed */
    int progress;         /* stderr is a terminal */
    struct timespec last; /* last progress line */
    int write_failed;
} import_ui;

static void on_reject(void *ctx, const char *source, uint64_t line, const char *reason,
                      const char *record, size_t len)
{
    import_ui *ui = ctx;
    (void)source; /* ui->src names it, in its own position form */
    if (ui->shown < MAX_SHOWN) {
        char where[1024];
        sl_source_where(ui->src, line, where, sizeof where);
        fprintf(stderr, "%s: %s\n", where, reason);
    }
    else if (ui->shown == MAX_SHOWN)
        fprintf(stderr, "spanlite import: more rejects not shown%s\n",
                ui->rejects ? " (all are in the rejects file)" : "");
    ui->shown++;
    if (ui->rejects && (fwrite(record, 1, len, ui->rejects) != len || fputc('\n', ui->rejects) == EOF))
        ui->write_failed = 1;
}

static void on_progress(void *ctx, const sl_import_stats *st)
{
    import_ui *ui = ctx;
    if (!ui->progress) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - ui->last.tv_sec) + (now.tv_nsec - ui->last.tv_nsec) / 1e9;
    if (dt < 0.5) return;
    ui->last = now;
    fprintf(stderr, "\r%llu records, %.1f MB read ", (unsigned long long)st->read, st->bytes / 1e6);
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] import [OPTIONS] [INPUT...]\n"
        "\n"
        "Import spans or workflow events.  INPUT is a file or '-' for standard input\n"
        "(the default); gzip-compressed input is recognised by its content.\n"
        "Importing the same data again adds nothing.\n"
        "\n"
        "Options:\n"
        "  --format NAME       auto (default: detected from the content), or one of:");
    for (const char *const *f = sl_formats(); *f; f++) fprintf(out, " %s", *f);
    fprintf(out, "\n"
        "  --rejects FILE      append rejected records, verbatim, to FILE\n"
        "  --map FIELD=COLUMN  csv: take FIELD from COLUMN (repeatable)\n"
        "  --quiet             no summary line\n"
        "  --help              this help\n"
        "\n"
        "Exit status: 0 all imported, 1 some records rejected, 2 usage or fatal error.\n"
        "See docs/formats.md for the formats.\n");
}

static void summary(const char *what, const sl_import_stats *st)
{
    fprintf(stderr, "%s: %llu read, %llu imported, %llu duplicates skipped, %llu rejected\n", what,
            (unsigned long long)st->read, (unsigned long long)st->imported,
            (unsigned long long)st->duplicates, (unsigned long long)st->rejected);
}

int cmd_import(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"rejects", required_argument, NULL, 'r'},
        {"map", required_argument, NULL, 'm'},    {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *format = "auto", *rejects = NULL;
    const char **maps = calloc((size_t)argc + 1, sizeof *maps);
    size_t nmaps = 0;
    int quiet = 0, c, status = EXIT_OK;
    import_ui ui = {NULL, NULL, 0, cli_isatty(2), {0, 0}, 0};
    sl_db *db = NULL;
    if (!maps) return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "f:r:m:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'r': rejects = optarg; break;
        case 'm':
            if (!strchr(optarg, '=')) {
                cli_error("import", "--map wants FIELD=COLUMN, not '%s'", optarg);
                status = EXIT_USAGE;
                goto done;
            }
            maps[nmaps++] = optarg;
            break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); goto done;
        default: usage(stderr); status = EXIT_USAGE; goto done;
        }
    }
    int known = strcmp(format, "auto") == 0;
    for (const char *const *f = sl_formats(); *f && !known; f++) known = strcmp(*f, format) == 0;
    if (!known) {
        cli_error("import", "unknown format '%s' (see spanlite import --help)", format);
        status = EXIT_USAGE;
        goto done;
    }
    if (rejects && !(ui.rejects = fopen(rejects, "a"))) {
        cli_error("import", "cannot open rejects file %s", rejects);
        status = EXIT_USAGE;
        goto done;
    }
    if (!(db = cli_open(ctx, 0))) {
        status = EXIT_USAGE;
        goto done;
    }
    sl_import_opts io = {format, maps, on_reject, on_progress, &ui, NULL};
    sl_import_stats total = {0};
    char *stdin_only[] = {"-", NULL};
    char **inputs = optind < argc ? argv + optind : stdin_only;
    int ninputs = optind < argc ? argc - optind : 1;
    for (int i = 0; i < ninputs; i++) {
        sl_import_stats st = {0};
        sl_source *src = sl_source_file(inputs[i]);
        ui.src = src;
        int rc = src ? sl_import_source(db, src, &io, &st) : SL_NOMEM;
        if (ui.progress) fputs("\r\033[K", stderr);
        if (rc != SL_OK) {
            cli_error("import", "%s", src ? sl_errmsg(db) : "out of memory");
            status = EXIT_USAGE;
        }
        if (!quiet && ninputs > 1) summary(src ? sl_source_name(src) : inputs[i], &st);
        sl_source_free(src);
        ui.src = NULL;
        total.read += st.read;
        total.imported += st.imported;
        total.duplicates += st.duplicates;
        total.rejected += st.rejected;
    }
    if (!quiet) summary(ninputs > 1 ? "total" : (strcmp(inputs[0], "-") ? inputs[0] : "<stdin>"), &total);
    if (status == EXIT_OK && total.rejected) status = EXIT_FAIL;
done:
    if (ui.rejects && (fclose(ui.rejects) != 0 || ui.write_failed)) {
        cli_error("import", "writing the rejects file %s failed", rejects);
        status = EXIT_USAGE;
    }
    sl_close(db);
    free(maps);
    return status;
}
