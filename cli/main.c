/*
 * main.c — `posenc`: train, evaluate and inspect transformers with
 * pluggable position encodings. Dispatches to one function per subcommand.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "data/task.h"
#include "model/pe.h"
#include "run/provenance.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: posenc COMMAND [ARGS...]\n"
            "\n"
            "Which position encoding lets a transformer work on sequences longer than it\n"
            "was trained on? Train on short ordering tasks, evaluate on long ones.\n"
            "\n"
            "commands:\n"
            "  train [CONFIG] [--set k=v]... [--out DIR]   train a model, write a run directory\n"
            "  train --resume DIR                           continue an interrupted run\n"
            "  eval RUN [--lengths 8,16,24:64:8] [--samples N]\n"
            "           [--positions plain,random] [--rope-scaling none,pi,ntk,yarn]\n"
            "                                               accuracy and loss per length (and per variant)\n"
            "  predict RUN \"3 1 4 1 5\"                      greedy answer with probabilities\n"
            "  attention RUN \"3 1 4\" [--json]               attention weights of every layer and head\n"
            "  sweep SPEC [--jobs N]                        run an experiment grid over encodings and seeds\n"
            "  sweep SPEC --plan DIR [--slurm]              write the grid as a job list for GNU parallel / Slurm\n"
            "  collect DIR | RUN... [--out DIR]             aggregate a sweep folder or runs: results.csv,\n"
            "                                               table, plots (one provenance, or --allow-mixed)\n"
            "  compare DIR | RUN... [--at N | --beyond]     rank the encodings: break lengths, paired\n"
            "                                               differences over seeds with 95%% intervals\n"
            "  robustness SPEC                              re-run an experiment under perturbations of its\n"
            "                                               recipe; which conclusions hold, which flip\n"
            "  run CONFIG --out DIR                         one sweep job: train (or resume, or skip), evaluate\n"
            "  plot RUN... [--out BASE] [--csv FILE]        training curves (loss, lr, accuracy vs step), runs\n"
            "                                               overlaid; CSV for pandas / W&B\n"
            "  show ENCODING [--len N --dim C --heads H] [--run RUN]\n"
            "                                               pictures of an encoding (PNG, SVG) + figures\n"
            "  report DIR [--out FILE]                      one self-contained interactive HTML page of a\n"
            "                                               sweep folder or a run (DIR/report.html)\n"
            "  config --keys [--markdown]                   every config key: default, meaning, valid values\n"
            "  help                                         this message\n"
            "  --version                                    version, build, OpenBLAS kernel\n"
            "\n"
            "Run `posenc COMMAND --help` for a command's options.\n"
            "\n"
            "Results are the same bytes on any x86-64 machine with AVX2/FMA and any thread count:\n"
            "posenc pins OpenBLAS's Haswell kernels (it sets OPENBLAS_CORETYPE and runs itself\n"
            "again). POSENC_BLAS=native keeps OpenBLAS's own choice instead; such runs are marked\n"
            "not reproducible in their provenance.json.\n"
            "\n"
            "position encodings (model.pe):\n");
    for (int i = 0; i < pe_count(); i++) {
        fprintf(f, "  %-11s %s\n", pe_at(i)->name, pe_at(i)->summary);
        for (const PESetting *const *s = pe_at(i)->settings; s && *s; s++)
            fprintf(f, "  %-11s   model.%s (default %g): %s\n", "", (*s)->name, (*s)->def, (*s)->help);
    }
    fprintf(f, "\ntasks (task.name):\n");
    for (int i = 0; i < task_count(); i++) fprintf(f, "  %-11s %s\n", task_at(i)->name, task_at(i)->summary);
    fprintf(f, "\noptions for any encoding:\n"
               "  train.random_positions  true: each training sequence's position ids are a sorted random\n"
               "              subset of [0, model.max_positions) (Ruoss et al. 2023); labelled <pe>+rand\n"
               "  eval.positions          plain (0..T-1) and/or random (the same randomization), also\n"
               "              posenc eval --positions\n"
               "  eval.rope_scaling       rope runs at evaluation: none, pi, ntk, yarn (posenc eval\n"
               "              --rope-scaling, --rope-scale S); labelled rope+pi, rope+ntk, rope+yarn\n");
}

/* The command's status, or 1 if what it printed could not be written (a
 * full disk, a closed pipe, a closed stdout): output that did not arrive is
 * a failure, not a success. */
static int finish(int rc) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "posenc: cannot write to standard output: %s\n", strerror(errno ? errno : EIO));
        return rc ? rc : EXIT_RUNTIME;
    }
    return rc;
}

static int dispatch(int argc, char **argv);

/* cJSON's allocations through the checked allocator too (core/alloc.h) */
static void *checked_malloc(size_t n) { return core_calloc(n, 1); }

int main(int argc, char **argv) {
    cJSON_Hooks hooks = {.malloc_fn = checked_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
    /* a closed stdin/stdout/stderr: occupy the descriptor, so that no file
     * posenc opens becomes "standard output"; writes to a closed stdout then
     * fail (EBADF on a read-only descriptor) and finish() reports it */
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int nfd = open("/dev/null", fd == 0 ? O_RDWR : O_RDONLY); /* writer-exempt: /dev/null */
            if (nfd >= 0 && nfd != fd) {
                dup2(nfd, fd);
                close(nfd);
            }
        }
    return finish(dispatch(argc, argv));
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    /* one OpenBLAS kernel family on every machine (core/blas.h); may run
     * the program again with OPENBLAS_CORETYPE set */
    const int pinned = blas_pin(argv);
    if (pinned != 0) {
        fprintf(stderr, "posenc: %s\n", core_error());
        return pinned == -2 ? EXIT_USAGE : EXIT_RUNTIME;
    }
    /* a write beyond `ulimit -f` fails with EFBIG (and a message naming the
     * file) instead of killing the process */
    signal(SIGXFSZ, SIG_IGN);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        provenance_print_version();
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
    }
    if (is_help(cmd) || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0) return cmd_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "show") == 0) return cmd_show(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0) return cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "collect") == 0) return cmd_collect(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0) return cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "attention") == 0) return cmd_attention(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0) return cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "robustness") == 0) return cmd_robustness(argc - 1, argv + 1);
    if (strcmp(cmd, "config") == 0) return cmd_config(argc - 1, argv + 1);
    fprintf(stderr, "posenc: unknown command \"%s\" (commands: train, eval, predict, attention, sweep, collect, compare, robustness, run, plot, show, report, config, help)\n", cmd);
    return EXIT_USAGE;
}
