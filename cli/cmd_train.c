/*
 * cmd_train.c — `posenc train`: config in, run directory out.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/config.h"
#include "model/gpt.h"
#include "run/provenance.h"
#include "run/fsutil.h"
#include "run/runinfo.h"
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
            "(the same table as README.md, section \"Configs\").\n");
}

/* The model a config describes can be built (every encoding's own checks,
 * e.g. model.rope_base > 1, an even d_model for sinusoidal): a config error,
 * found before anything is written. */
static int check_model_config(const RunConfig *cfg) {
    if (gpt_config_check(&cfg->model) != 0) return -1;
    PE pe;
    PEConfig pc = gpt_pe_config(&cfg->model);
    if (pe_init(&pe, cfg->model.pe, &pc) != 0) return -1;
    pe_free(&pe);
    return 0;
}

int cmd_train(int argc, char **argv) { return train_command(argc, argv, 0); }

int train_command(int argc, char **argv, int evaluate_next) {
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
                fprintf(stderr, "posenc train: %s\n", pe_error());
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

    RunConfig cfg;
    char dir[4096], path[4096];
    if (resume) {
        if (config_path || out || force) {
            fprintf(stderr, "posenc train: --resume DIR takes the config from DIR; do not give CONFIG, "
                            "--out or --force with it\n");
            return EXIT_USAGE;
        }
        for (int i = 0; i < nsets; i++)
            if (strncmp(sets[i], "train.", 6) != 0) {
                fprintf(stderr, "posenc train: --set %s: only train.* keys can change when resuming "
                                "(the model and task are fixed by the checkpoint)\n", sets[i]);
                return EXIT_USAGE;
            }
        snprintf(dir, sizeof dir, "%s", resume);
        /* what the folder is, before anything is created in it (not even the lock) */
        RunInfo *ri = pe_calloc(1, sizeof *ri);
        int st = run_inspect(dir, ri);
        if (st != RUN_OK) {
            fprintf(stderr, "posenc train: --resume %s: %s\n", dir, pe_error());
            free(ri);
            return st == RUN_IO ? EXIT_RUNTIME : EXIT_USAGE;
        }
        const long ck = ri->ckpt_step;
        const int old_steps = ri->cfg.train.steps, was_trained = ri->trained;
        free(ri);
        if (ck < 0) {
            fprintf(stderr, "posenc train: --resume %s: no checkpoint to resume from (training stopped before its "
                            "first checkpoint); start it again with: posenc train %s/config.json --out %s --force\n",
                    dir, dir, dir);
            return EXIT_USAGE;
        }
        if (dir_lock(dir) != 0) {
            fprintf(stderr, "posenc train: %s\n", pe_error());
            return EXIT_RUNTIME;
        }
        if (path_join(path, sizeof path, dir, "config.json") != 0 || config_load(&cfg, path, sets, nsets) != 0) {
            fprintf(stderr, "posenc train: %s\n", pe_error());
            return EXIT_USAGE;
        }
        if (cfg.train.steps < ck) {
            fprintf(stderr, "posenc train: --resume %s: train.steps = %d is below the checkpoint's step %ld; a run "
                            "cannot go back (train.steps must be at least %ld)\n",
                    dir, cfg.train.steps, ck, ck);
            return EXIT_USAGE;
        }
        if (cfg.train.steps != old_steps) {
            /* the learning-rate schedule (warmup, then cosine decay to train.steps) changes from here on */
            fprintf(stderr, "posenc train: note: train.steps changes from %d to %d at step %ld: the learning-rate "
                            "schedule (cosine decay to train.steps) bends here, so this run differs from a %d-step "
                            "run trained from scratch\n",
                    old_steps, cfg.train.steps, ck, cfg.train.steps);
            if (was_trained)
                fprintf(stderr, "posenc train: note: %s had finished at step %ld; its evaluation files (eval*.json) "
                                "are from that step and no longer count as its results (run, sweep and collect "
                                "see them as stale) until `posenc eval %s` evaluates the new last step\n",
                        dir, ck, dir);
        }
        if (prov_check(dir) != 0) { /* the session's record is appended to it at the end */
            fprintf(stderr, "posenc train: %s\n", pe_error());
            return EXIT_USAGE;
        }
    } else {
        if (config_load(&cfg, config_path, sets, nsets) != 0 || check_model_config(&cfg) != 0) {
            fprintf(stderr, "posenc train: %s\n", pe_error());
            return EXIT_USAGE;
        }
        if (out)
            snprintf(dir, sizeof dir, "%s", out);
        else
            snprintf(dir, sizeof dir, "runs/%s", cfg.name);
        if (path_join(path, sizeof path, dir, "config.json") != 0) {
            fprintf(stderr, "posenc train: %s\n", pe_error());
            return EXIT_USAGE;
        }
        /* a run here already? (any file of posenc's: run_file_is_ours) */
        int has_run = 0;
        DIR *dd = opendir(dir);
        for (struct dirent *e; dd && (e = readdir(dd));) has_run |= run_file_is_ours(e->d_name);
        if (dd) closedir(dd);
        if (has_run && !force) {
            fprintf(stderr, "posenc train: %s already holds a run; continue it with --resume %s, "
                            "replace it with --force, or choose another --out\n", dir, dir);
            return EXIT_USAGE;
        }
        if (dir_create(dir) != 0 || dir_lock(dir) != 0) {
            fprintf(stderr, "posenc train: %s\n", pe_error());
            return EXIT_RUNTIME;
        }
        /* --force: remove the old run's files, and only those (never a file posenc did not write) */
        dd = force ? opendir(dir) : NULL;
        for (struct dirent *e; dd && (e = readdir(dd));) {
            char f[4400];
            struct stat fs;
            snprintf(f, sizeof f, "%s/%s", dir, e->d_name);
            if (run_file_is_ours(e->d_name) && lstat(f, &fs) == 0 && (S_ISREG(fs.st_mode) || S_ISLNK(fs.st_mode)))
                unlink(f);
        }
        if (dd) closedir(dd);
    }
    dir_remove_stale_tmp(dir, run_file_is_ours); /* left by a process killed while writing */
    /* the resolved config (with any train.* overrides of a resume) */
    char *json = config_to_json(&cfg);
    int rc = file_write_atomic(path, json, strlen(json));
    free(json);
    if (rc != 0) {
        fprintf(stderr, "posenc train: %s\n", pe_error());
        return EXIT_RUNTIME;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    TrainOptions opt = {
        .run_dir = dir,
        .resume = resume != NULL,
        .stop = &stop_requested,
        .stop_after = stop_after,
        .live = isatty(fileno(stderr)),
        .log = quiet ? NULL : stderr,
    };
    if (!quiet)
        fprintf(stderr, "train %s: task %s (n %d..%d), pe %s, d_model %d, %d layers, %d heads, %d steps -> %s\n",
                cfg.name, cfg.task.name, cfg.task.min_len, cfg.task.max_len, cfg.model.pe, cfg.model.C, cfg.model.L,
                cfg.model.NH, cfg.train.steps, dir);
    rc = train_run(&cfg, &opt);
    switch (rc) {
    case TRAIN_OK:
        if (!quiet && evaluate_next) fprintf(stderr, "trained: %s\n", dir);
        else if (!quiet) fprintf(stderr, "done: %s (evaluate with: posenc eval %s)\n", dir, dir);
        return 0;
    case TRAIN_INTERRUPTED:
        return EXIT_INTERRUPTED;
    case TRAIN_NONFINITE:
        fprintf(stderr, "posenc train: %s\n", pe_error());
        return EXIT_NONFINITE;
    default:
        fprintf(stderr, "posenc train: %s\n", pe_error());
        return EXIT_RUNTIME;
    }
}
