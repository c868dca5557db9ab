/*
 * cmd_plot.c — `posenc plot RUN...`: training curves of one or several runs,
 * a figure and a CSV (study/curves.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "study/curves.h"

#define MAX_PLOT_RUNS 64

static void plot_usage(FILE *f) {
    fprintf(f,
            "usage: posenc plot RUN... [--out BASE] [--csv FILE] [--no-plots]\n"
            "\n"
            "Training curves from each RUN's metrics.jsonl, several runs overlaid (one hue each):\n"
            "training loss (log axis) and learning rate against step, and token accuracy and exact\n"
            "match of the periodic evaluations (train.eval_every) against step, at the longest\n"
            "training length (solid) and the longest evaluation length (dashed); chance levels\n"
            "(loss log(alphabet), token accuracy 1/alphabet) dotted. Writes BASE.png and BASE.svg.\n"
            "\n"
            "With --csv, also FILE: one row per metrics line of every run, columns\n"
            "  run,type,step,n,loss,lr,grad_norm,tokens_per_s,elapsed,token_acc,exact_match\n"
            "(type train or eval; a field a line does not have is empty), for pandas\n"
            "(pd.read_csv(FILE)), R, a spreadsheet or W&B (wandb.Table(dataframe=...)).\n"
            "\n"
            "options:\n"
            "  --out BASE   the figure's path without extension (default: RUN/curves for one run;\n"
            "               required for several)\n"
            "  --csv FILE   also write the curves as CSV\n"
            "  --no-plots   only the CSV (needs --csv)\n"
            "Up to %d runs.\n",
            MAX_PLOT_RUNS);
}

int cmd_plot(int argc, char **argv) {
    const char *runs[MAX_PLOT_RUNS], *out = NULL, *csv = NULL;
    int nruns = 0, plots = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_help(a)) {
            plot_usage(stdout);
            return 0;
        } else if ((strcmp(a, "--out") == 0 || strcmp(a, "--csv") == 0) && i + 1 < argc) {
            if (a[2] == 'o') out = argv[++i];
            else csv = argv[++i];
        } else if (strcmp(a, "--no-plots") == 0) {
            plots = 0;
        } else if (a[0] != '-' && nruns < MAX_PLOT_RUNS) {
            runs[nruns++] = a;
        } else {
            fprintf(stderr, "posenc plot: %s \"%s\"%s (see posenc plot --help)\n",
                    a[0] == '-' ? "unexpected argument" : "too many runs; the most is 64, got", a,
                    a[0] == '-' && i + 1 == argc ? " without its value" : "");
            return EXIT_USAGE;
        }
    }
    if (nruns == 0) {
        fprintf(stderr, "posenc plot: give one or more run directories (see posenc plot --help)\n");
        return EXIT_USAGE;
    }
    if (!plots && !csv) {
        fprintf(stderr, "posenc plot: --no-plots without --csv FILE writes nothing\n");
        return EXIT_USAGE;
    }
    char base[4096];
    if (plots && !out) {
        if (nruns > 1) {
            fprintf(stderr, "posenc plot: %d runs: say where the figure goes with --out BASE\n", nruns);
            return EXIT_USAGE;
        }
        if (path_join(base, sizeof base, runs[0], "curves") != 0) {
            fprintf(stderr, "posenc plot: %s\n", core_error());
            return EXIT_USAGE;
        }
        out = base;
    }
    if (curves_write(runs, nruns, csv, plots ? out : NULL) != 0) {
        fprintf(stderr, "posenc plot: %s\n", core_error());
        return EXIT_RUNTIME;
    }
    if (plots) printf("plot: %s.png (and .svg)\n", out);
    if (csv) printf("csv: %s\n", csv);
    return 0;
}
