/*
 * cmd_config.c — `posenc config --keys`: every config key with its default,
 * meaning and valid values, from the key table (run/config.c) and the
 * encodings' own settings (model/pe.h), the source of docs/CONFIG.md's table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "run/config.h"

static void config_usage(FILE *f) {
    fprintf(f, "usage: posenc config --keys [--markdown]\n"
               "\n"
               "List every config key of a run config (configs/*.json, --set key=value): its\n"
               "default, what it means and its valid values. The model.* keys of the position\n"
               "encodings' settings come from the encodings themselves (model/pe_<name>.c).\n"
               "  --markdown  as the Markdown table of docs/CONFIG.md\n");
}

int cmd_config(int argc, char **argv) {
    int keys = 0, markdown = 0;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            config_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--keys") == 0) {
            keys = 1;
        } else if (strcmp(argv[i], "--markdown") == 0) {
            markdown = 1;
        } else {
            fprintf(stderr, "posenc config: unknown option \"%s\" (see posenc config --help)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!keys) {
        config_usage(stderr);
        return EXIT_USAGE;
    }
    if (markdown) {
        char *md = config_keys_markdown();
        fputs(md, stdout);
        free(md);
        return 0;
    }
    for (int i = 0; i < config_key_count(); i++) {
        ConfigKeyDoc d;
        config_key_doc(i, &d);
        printf("%-24s %-10s %s\n%-35s valid: %s\n", d.path, d.def, d.help, "", d.range[0] ? d.range : "see above");
    }
    return 0;
}
