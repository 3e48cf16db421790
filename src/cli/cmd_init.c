/* cmd_init.c -- `spanlite init`: create or migrate a warehouse. */
#include "cli.h"

#include <string.h>

int cmd_init(cli_ctx *ctx, int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: spanlite [--db FILE] init\n\n"
               "Create the warehouse FILE, or migrate an older one to schema version %d.\n"
               "Importing does this too; init is for scripts that want it explicit.\n"
               "It also turns closed workflow transactions that an earlier import left\n"
               "without spans into spans (sl_workflow_sync_spans).\n",
               sl_schema_version());
        return EXIT_OK;
    }
    if (argc > 1) {
        cli_error("init", "unexpected argument '%s'", argv[1]);
        return EXIT_USAGE;
    }
    sl_db *db = cli_open(ctx, 0);
    if (!db) return EXIT_USAGE;
    if (sl_workflow_sync_spans(db, NULL) != SL_OK) {
        cli_error("init", "%s", sl_errmsg(db));
        sl_close(db);
        return EXIT_FAIL;
    }
    sl_close(db);
    fprintf(stderr, "%s: schema version %d\n", ctx->db_path, sl_schema_version());
    return EXIT_OK;
}
