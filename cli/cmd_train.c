/*
 * cmd_train.c — `posenc train`: config in, run directory out. The options,
 * then rundir_prepare (run/rundir.h) and train_run (run/train.h) with
 * Ctrl-C handling: train_in, which `posenc run` uses too.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/error.h"
#include "run/config.h"
#include "run/rundir.h"
#include "run/train.h"

#define MAX_SETS 256

static volatile sig_atomic_t stop_requested = 0;

static void on_sigint(int sig) {
    (void)sig;
    if (stop_requested) _exit(EXIT_INTERRUPTED); /* second Ctrl-C: leave now */
    stop_requested = 1;
}

static void train_usage(FILE *f) {
    fprintf(f,
            "usage: posenc train [CONFIG] [--set KEY=VALUE]... [--out DIR] [--force] [--quiet]\n"
            "       posenc train --resume DIR [--set train.KEY=VALUE]...\n"
            "\n"
            "Train a model on the task in CONFIG (a JSON file; omitted: the built-in defaults)\n"
            "and write a run directory: config.json (the resolved config), metrics.jsonl,\n"
            "model.safetensors and optim.safetensors (checkpoints).\n"
            "\n"
            "options:\n"
            "  --set KEY=VALUE  override a config key, e.g. --set model.pe=alibi --set train.lr=3e-4\n"
            "                   --set eval.lengths=8,16,32 (repeatable; applied in order)\n"
            "  --out DIR        run directory (default: runs/NAME, NAME from the config's \"name\")\n"
            "  --force          reuse an existing run directory, replacing its run files (posenc's own\n"
            "                   file names only: config.json, metrics.jsonl, the checkpoints, eval*.json/.csv)\n"
            "  --resume DIR     continue DIR from its last checkpoint (only train.* keys may be --set;\n"
            "                   train.steps not below the checkpoint's step; DIR's config.json must be\n"
            "                   the checkpoint's: a disagreement is an error naming both values)\n"
            "  --quiet          no progress output\n"
            "  --stop-after N   checkpoint and stop after N steps as Ctrl-C would (to test resuming)\n"
            "\n"
            "Ctrl-C saves a checkpoint and exits (status 130); --resume continues it with a loss\n"
            "trajectory bitwise identical to an uninterrupted run. A non-finite loss stops\n"
            "training (status 3) and keeps the last good checkpoint.\n"
            "\n"
            "Randomized positions (Ruoss et al. 2023), for any encoding:\n"
            "  --set train.random_positions=true --set model.max_positions=P\n"
            "gives every training sequence a sorted random subset of [0, P) as its position ids.\n"
            "Every config key, its default, meaning and valid values: posenc config --keys\n"
            "(the same table as docs/CONFIG.md).\n");
}

int cmd_train(int argc, char **argv) {
    const char *config_path = NULL, *out = NULL, *resume = NULL;
    const char *sets[MAX_SETS] = {0};
    int nsets = 0, force = 0, quiet = 0;
    long stop_after = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_help(a)) {
            train_usage(stdout);
            return 0;
        } else if (strcmp(a, "--set") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "--resume") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "posenc train: %s needs a value (see posenc train --help)\n", a);
                return EXIT_USAGE;
            }
            const char *v = argv[++i];
            if (a[2] == 's') {
                if (nsets == MAX_SETS) {
                    fprintf(stderr, "posenc train: more than %d --set options\n", MAX_SETS);
                    return EXIT_USAGE;
                }
                sets[nsets++] = v;
            } else if (a[2] == 'o') {
                out = v;
            } else {
                resume = v;
            }
        } else if (strncmp(a, "--set=", 6) == 0 && nsets < MAX_SETS) {
            sets[nsets++] = a + 6;
        } else if (strcmp(a, "--stop-after") == 0) {
            if ((stop_after = parse_count(a, i + 1 < argc ? argv[i + 1] : NULL, 1000000000)) < 0) {
                fprintf(stderr, "posenc train: %s\n", core_error());
                return EXIT_USAGE;
            }
            i++;
        } else if (strcmp(a, "--force") == 0) {
            force = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "posenc train: unknown option \"%s\" (see posenc train --help)\n", a);
            return EXIT_USAGE;
        } else if (!config_path) {
            config_path = a;
        } else {
            fprintf(stderr, "posenc train: more than one CONFIG (\"%s\", \"%s\")\n", config_path, a);
            return EXIT_USAGE;
        }
    }

    if (resume && (config_path || out || force)) {
        fprintf(stderr, "posenc train: --resume DIR takes the config from DIR; do not give CONFIG, "
                        "--out or --force with it\n");
        return EXIT_USAGE;
    }
    const RunDirSetup setup = {
        .config_path = config_path, .sets = sets, .nsets = nsets, .out = out, .resume = resume, .force = force,
        .notes = stderr,
    };
    return train_in(&setup, stop_after, quiet, 0);
}

int train_in(const RunDirSetup *setup, long stop_after, int quiet, int evaluate_next) {
    RunConfig config, *cfg = &config;
    char dir[4096];
    const int prep = rundir_prepare(setup, cfg, dir, sizeof dir);
    if (prep != RUNDIR_OK) {
        fprintf(stderr, "posenc train: %s\n", core_error());
        return prep == RUNDIR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    TrainOptions opt = {
        .run_dir = dir,
        .resume = setup->resume != NULL,
        .stop = &stop_requested,
        .stop_after = stop_after,
        .live = isatty(fileno(stderr)),
        .log = quiet ? NULL : stderr,
    };
    if (!quiet)
        fprintf(stderr, "train %s: task %s (n %d..%d), pe %s, d_model %d, %d layers, %d heads, %d steps -> %s\n",
                cfg->name, cfg->task.name, cfg->task.min_len, cfg->task.max_len, cfg->model.pe, cfg->model.C, cfg->model.L,
                cfg->model.NH, cfg->train.steps, dir);
    const int rc = train_run(cfg, &opt);
    switch (rc) {
    case TRAIN_OK:
        if (!quiet && evaluate_next) fprintf(stderr, "trained: %s\n", dir);
        else if (!quiet) fprintf(stderr, "done: %s (evaluate with: posenc eval %s)\n", dir, dir);
        return 0;
    case TRAIN_INTERRUPTED:
        return EXIT_INTERRUPTED;
    case TRAIN_NONFINITE:
        fprintf(stderr, "posenc train: %s\n", core_error());
        return EXIT_NONFINITE;
    default:
        fprintf(stderr, "posenc train: %s\n", core_error());
        return EXIT_RUNTIME;
    }
}
