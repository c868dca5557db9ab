/*
 * cmd_run.c — `posenc run CONFIG --out DIR`: one job of a sweep plan
 * (train, or resume, or skip, then evaluate), through the library:
 * run_inspect (run/inspect.h), train_in (cmd_train.c: rundir_prepare of
 * run/rundir.h, then train_run with Ctrl-C handling), eval_run
 * (run/evaluation.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/error.h"
#include "run/config.h"
#include "run/evaluation.h"
#include "run/inspect.h"
#include "run/rundir.h"

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: posenc run CONFIG --out DIR\n"
            "\n"
            "One job of a sweep plan, idempotent: if DIR holds a complete run (its files agree, the\n"
            "checkpoint is at the final step and every configured evaluation variant has its file\n"
            "from that step) do nothing and exit 0; if it holds an interrupted run of the same\n"
            "config, resume it; a trained run whose evaluation is missing or stale is evaluated;\n"
            "otherwise train from scratch. Then evaluate (posenc eval DIR). A DIR holding a run of\n"
            "another config, or files that disagree, is refused (exit 2, naming the key and both\n"
            "values); two processes on one DIR: the second fails on the run directory's lock.\n");
}

int cmd_run(int argc, char **argv) {
    const char *config = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            run_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] != '-' && !config) {
            config = argv[i];
        } else {
            fprintf(stderr, "posenc run: unexpected argument \"%s\" (see posenc run --help)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!config || !out) {
        fprintf(stderr, "posenc run: give CONFIG and --out DIR (see posenc run --help)\n");
        return EXIT_USAGE;
    }
    /* what DIR holds (run/inspect.h), and whether it is this config's run */
    RunConfig want;
    if (config_load(&want, config, NULL, 0) != 0) {
        fprintf(stderr, "posenc run: %s\n", core_error());
        return EXIT_USAGE;
    }
    RunInfo *ri = core_calloc(1, sizeof *ri);
    int st = run_inspect(out, ri);
    if (st == RUN_IO || st == RUN_INVALID) {
        fprintf(stderr, "posenc run: %s\n", core_error());
        free(ri);
        return st == RUN_IO ? EXIT_RUNTIME : EXIT_USAGE;
    }
    char key[256], va[80], vb[80];
    if (st == RUN_OK && run_config_diff(&ri->cfg, &want, 0, key, sizeof key, va, vb, sizeof va)) {
        fprintf(stderr, "posenc run: %s holds a run of another config (%s is %s there, %s in %s); remove it or "
                        "choose another --out\n", out, key, va, vb, config);
        free(ri);
        return EXIT_USAGE;
    }
    const int complete = st == RUN_OK && ri->complete;
    const long step = st == RUN_OK ? ri->ckpt_step : -1;
    free(ri);
    if (complete) {
        printf("%s: complete, nothing to do\n", out);
        return 0;
    }
    /* resume; a run trained to its last step trains no step but completes a
     * checkpoint pair that a kill left half renamed (optim.next.safetensors,
     * run/train.c) before the evaluation. Otherwise train from scratch. */
    const RunDirSetup setup = step >= 0 ? (RunDirSetup){.resume = out, .notes = stderr}
                                        : (RunDirSetup){.config_path = config, .out = out, .force = 1, .notes = stderr};
    int rc = train_in(&setup, 0, 0, 1);
    if (rc != 0) return rc;
    const EvalOptions opt = {.out = stdout}; /* everything as the config says */
    rc = eval_run(out, &opt);
    if (rc == EVAL_RUN_OK) return 0;
    fprintf(stderr, "posenc eval: %s\n", core_error());
    return rc == EVAL_RUN_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
}
