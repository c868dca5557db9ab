/*
 * cmd_sweep.c — `posenc sweep SPEC` and `posenc collect DIR` (one plan
 * line, `posenc run`: cmd_run.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "run/config.h"
#include "run/inspect.h"
#include "run/train.h"
#include "study/aggregate.h"
#include "study/slurm.h"
#include "study/sweep.h"

static volatile sig_atomic_t sweep_stop = 0;
static void on_sweep_sigint(int sig) {
    (void)sig;
    sweep_stop = 1; /* the jobs got the signal too: they checkpoint and exit */
}

static void sweep_usage(FILE *f) {
    fprintf(f,
            "usage: posenc sweep SPEC [--set KEY=VALUE]... [--jobs N] [--out DIR] [--no-plots]\n"
            "       posenc sweep SPEC --plan DIR [--slurm [--partition P] [--time T] [--mem M] [--max-running N]]\n"
            "\n"
            "Run an experiment: expand SPEC's grid (experiments/NAME.json) into one training +\n"
            "evaluation per cell and seed, write them as DIR/plan.txt (one shell command per line),\n"
            "run its lines N at a time as separate processes, then aggregate over seeds into\n"
            "DIR/results.csv (mean, 95%% interval, per-seed values), DIR/breaks.csv (break lengths),\n"
            "DIR/results.md, print a table and draw the plots (posenc collect --help; posenc compare\n"
            "DIR ranks the encodings). Runs already complete are skipped,\n"
            "interrupted ones resume, a failing run does not stop the others (it is reported at the\n"
            "end, and the exit status is 1). Re-running the same command finishes what was\n"
            "interrupted. The end of every sweep reports runs/hour (a resumed run counts by the\n"
            "fraction of its steps trained in this sweep) and CPU utilisation.\n"
            "\n"
            "With --plan, only the plan is written, for GNU parallel or Slurm to run (the same lines,\n"
            "absolute paths; POSENC=PROGRAM in the environment replaces the posenc program in every\n"
            "line); `posenc collect DIR` aggregates afterwards. See docs/SCALING.md.\n"
            "\n"
            "options:\n"
            "  --set KEY=VALUE  override a config key in every job, as posenc train --set (after the\n"
            "                   spec's \"set\" and \"eval\"; repeatable), e.g. --set train.steps=300;\n"
            "                   recorded in DIR/sweep.json (\"overrides\"); not a grid key\n"
            "  --jobs N         concurrent jobs (default: cores / the spec's \"threads\", %ld / threads\n"
            "                   here: measured fastest, one single-threaded job per core)\n"
            "  --out DIR        output folder (default: runs/NAME, NAME from the spec)\n"
            "  --plan DIR       write DIR/plan.txt, DIR/configs/*.json and DIR/sweep.json; run nothing\n"
            "  --plan-only      the same for the --out folder\n"
            "  --slurm          with --plan: also DIR/slurm/array.sbatch (a job array, one task per\n"
            "                   line), collect.sbatch and submit.sh (submits both, collect after the array)\n"
            "  --partition P    Slurm partition (overrides the spec's slurm.partition)\n"
            "  --time T         Slurm time limit per task, e.g. 30, 1:30:00, 2-0 (slurm.time)\n"
            "  --mem M          Slurm memory per task, e.g. 2G (slurm.mem)\n"
            "  --max-running N  at most N array tasks at once (slurm.max_running)\n"
            "  --no-plots       skip the gnuplot figures\n",
            sysconf(_SC_NPROCESSORS_ONLN));
}

static void collect_usage(FILE *f) {
    fprintf(f,
            "usage: posenc collect DIR [--no-plots] [--allow-mixed] [--break-fraction F] [--break-factor F]\n"
            "       posenc collect RUN_OR_FOLDER... [--out DIR] [same options]\n"
            "\n"
            "Aggregate the runs of sweep folder DIR (written by posenc sweep, or by running its\n"
            "plan.txt with another engine): DIR/results.csv with mean, std (sample), min and max\n"
            "over seeds of token_acc, exact_match and loss per grid cell and length, a table, and\n"
            "the accuracy and loss plots (PNG and SVG) per task.\n"
            "\n"
            "Runs that are not one sweep's (e.g. several `posenc train` runs): give their run\n"
            "directories, or folders holding run directories. The cells are the config keys whose\n"
            "values differ between the runs (runs that differ only in name and seed are seeds of\n"
            "one cell); the outputs go to --out DIR (required for more than one folder; default:\n"
            "the one folder given).\n"
            "\n"
            "Only finished runs evaluated at their last step count; others are listed and left out.\n"
            "Run files that disagree (a config.json that is not the checkpoint's, an evaluation\n"
            "from a later step than the checkpoint) or hold values out of range are an error (exit\n"
            "2) naming the file, the key and the values, and nothing is written.\n"
            "\n"
            "Provenance: the runs' provenance.json files must name one result identity (posenc\n"
            "version, OpenBLAS version and kernel) and agree within each run; collect prints it\n"
            "(with the thread counts and CPUs used) and results.md states it. Runs that differ, or\n"
            "a run without provenance.json, are refused (exit 2, naming them).\n"
            "\n"
            "Uncertainty (docs/SPEC.md §2.1): per cell and length, results.csv has the per-seed values,\n"
            "min and max, and a 95 %% interval (a t interval over the seeds widened by the Wilson\n"
            "interval of the evaluation sample; both half-widths in their own columns); results.md\n"
            "shows mean [interval] and, folded, the per-seed values.\n"
            "\n"
            "Where it breaks (docs/SPEC.md §2.1): per run and metric, where it leaves its value inside\n"
            "the training range, as the grid knows it: \"8 to 10\", the last evaluated n within the rule\n"
            "and the first past it (\"coarse grid\" when they are far apart). The rule: exact_match or\n"
            "token_acc below F x its mean inside the training range (--break-fraction, 0.5), loss or\n"
            "perplexity: perplexity above F x its value there (--break-factor, 2). A RoPE-scaling\n"
            "variant is measured against the same run's unscaled evaluation, also inside the training\n"
            "range (\"in range: 4\"). Per cell the median and min to max over the seeds. Printed, in\n"
            "results.md, in breaks.csv, and marked on the accuracy plots. A language model's tables\n"
            "show loss, perplexity and token_acc. posenc compare DIR ranks the encodings with\n"
            "paired differences.\n"
            "\n"
            "options:\n"
            "  --out DIR             where results.csv, results.md and the plots go (ad-hoc runs)\n"
            "  --no-plots            skip the gnuplot figures\n"
            "  --allow-mixed         aggregate runs of different provenance anyway; results.md says so\n"
            "  --break-fraction F    the accuracy break rule's fraction, 0 < F < 1 (default 0.5)\n"
            "  --break-factor F      the loss/perplexity break rule's factor, F > 1 (default 2)\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int cmd_collect(int argc, char **argv) {
    const char **paths = core_calloc(argc > 1 ? argc : 1, sizeof *paths);
    const char *out = NULL;
    int plots = 1, np = 0, rc = 0, allow_mixed = 0;
    double fraction = 0, factor = 0;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            collect_usage(stdout);
            free(paths);
            return 0;
        } else if (strcmp(argv[i], "--no-plots") == 0) {
            plots = 0;
        } else if (strcmp(argv[i], "--allow-mixed") == 0) {
            allow_mixed = 1;
        } else if (strcmp(argv[i], "--break-fraction") == 0 && i + 1 < argc) {
            if ((fraction = parse_fraction("--break-fraction", argv[++i])) < 0) {
                fprintf(stderr, "posenc collect: %s\n", core_error());
                free(paths);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--break-factor") == 0 && i + 1 < argc) {
            if ((factor = parse_factor("--break-factor", argv[++i])) < 0) {
                fprintf(stderr, "posenc collect: %s\n", core_error());
                free(paths);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] != '-') {
            paths[np++] = argv[i];
        } else {
            fprintf(stderr, "posenc collect: unexpected argument \"%s\" (see posenc collect --help)\n", argv[i]);
            free(paths);
            return EXIT_USAGE;
        }
    }
    if (np == 0) {
        fprintf(stderr, "posenc collect: missing DIR (see posenc collect --help)\n");
        free(paths);
        return EXIT_USAGE;
    }
    const AggOptions o = {.plots = plots, .allow_mixed = allow_mixed, .break_fraction = fraction, .break_factor = factor};
    char sweep_json[4200];
    snprintf(sweep_json, sizeof sweep_json, "%s/sweep.json", paths[0]);
    int n;
    if (np == 1 && !out && path_probe(sweep_json, "the sweep's spec") != 0) {
        /* a sweep folder: not while a sweep writes it */
        n = dir_lock(paths[0]) == 0 ? aggregate_sweep(paths[0], stdout, &o) : -1;
    } else {
        /* runs of posenc train (or of several sweeps): the outputs go to --out, or into the one folder given */
        if (!out && np == 1) {
            out = paths[0];
        } else if (!out) {
            fprintf(stderr, "posenc collect: several folders: give --out DIR for results.csv, the tables and the "
                            "plots\n");
            free(paths);
            return EXIT_USAGE;
        }
        n = dir_create(out) == 0 ? aggregate_runs(paths, np, out, stdout, &o) : -1;
    }
    if (n < 0) {
        fprintf(stderr, "posenc collect: %s\n", core_error());
        rc = n == RUN_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    free(paths);
    return rc;
}

#define SWEEP_CLI_SETS 64

typedef struct {
    const char *sets[SWEEP_CLI_SETS]; /* --set KEY=VALUE, in order */
    int nsets;
} SweepSets;

static int sweep_execute(const char *spec, const char *out, long jobs, int plots, int plan_only, int slurm,
                         int nslurm_sets, const char *slurm_sets[][2], const SweepSets *ss);

int cmd_sweep(int argc, char **argv) {
    const char *spec = NULL, *out = NULL, *plan = NULL;
    long jobs = 0; /* 0: cores / threads */
    int plan_only = 0, plots = 1, slurm = 0, nslurm_sets = 0;
    const char *slurm_sets[8][2];
    SweepSets ss = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_help(a)) {
            sweep_usage(stdout);
            return 0;
        } else if (strcmp(a, "--set") == 0 || strncmp(a, "--set=", 6) == 0) {
            const char *v = a[5] == '=' ? a + 6 : i + 1 < argc ? argv[++i] : NULL;
            if (!v || !strchr(v, '=') || v[0] == '=') {
                fprintf(stderr, "posenc sweep: --set needs KEY=VALUE, e.g. --set train.steps=300%s%s%s\n",
                        v ? " (got \"" : "", v ? v : "", v ? "\")" : "");
                return EXIT_USAGE;
            }
            if (ss.nsets == SWEEP_CLI_SETS) {
                fprintf(stderr, "posenc sweep: more than %d --set options\n", SWEEP_CLI_SETS);
                return EXIT_USAGE;
            }
            ss.sets[ss.nsets++] = v;
        } else if (strcmp(a, "--jobs") == 0) {
            if ((jobs = parse_count(a, i + 1 < argc ? argv[i + 1] : NULL, 1024)) < 0) {
                fprintf(stderr, "posenc sweep: %s\n", core_error());
                return EXIT_USAGE;
            }
            i++;
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(a, "--plan") == 0 && i + 1 < argc) {
            plan = argv[++i];
        } else if (strcmp(a, "--plan-only") == 0) {
            plan_only = 1;
        } else if (strcmp(a, "--slurm") == 0) {
            slurm = 1;
        } else if ((strcmp(a, "--partition") == 0 || strcmp(a, "--time") == 0 || strcmp(a, "--mem") == 0 ||
                    strcmp(a, "--max-running") == 0) &&
                   i + 1 < argc && nslurm_sets < 8) {
            slurm_sets[nslurm_sets][0] = a;
            slurm_sets[nslurm_sets++][1] = argv[++i];
        } else if (strcmp(a, "--no-plots") == 0) {
            plots = 0;
        } else if (a[0] != '-' && !spec) {
            spec = a;
        } else {
            fprintf(stderr, "posenc sweep: unexpected argument \"%s\"%s (see posenc sweep --help)\n", a,
                    i + 1 == argc && a[0] == '-' ? " without its value" : "");
            return EXIT_USAGE;
        }
    }
    if (!spec) {
        fprintf(stderr, "posenc sweep: missing SPEC (see posenc sweep --help)\n");
        return EXIT_USAGE;
    }
    if (plan && out) {
        fprintf(stderr, "posenc sweep: give --plan DIR or --out DIR, not both\n");
        return EXIT_USAGE;
    }
    if (plan) out = plan, plan_only = 1;
    if ((slurm || nslurm_sets) && !plan_only) {
        fprintf(stderr, "posenc sweep: %s writes Slurm scripts for a plan; use it with --plan DIR\n",
                slurm ? "--slurm" : slurm_sets[0][0]);
        return EXIT_USAGE;
    }
    if (nslurm_sets && !slurm) {
        fprintf(stderr, "posenc sweep: %s is a Slurm option; add --slurm\n", slurm_sets[0][0]);
        return EXIT_USAGE;
    }
    return sweep_execute(spec, out, jobs, plots, plan_only, slurm, nslurm_sets, slurm_sets, &ss);
}

int sweep_local(const char *spec, const char *out, long jobs, int plots) {
    return sweep_execute(spec, out, jobs, plots, 0, 0, 0, NULL, NULL);
}

/* Load SPEC, write its plan into out (default runs/NAME), and unless
 * plan_only run it jobs at a time (0: cores / threads) and aggregate it. */
/* The Slurm resources of the spec's "slurm" object, then the command line's
 * (--partition, --time, --mem, --max-running): 0, or -1 after core_errorf. */
static int sweep_slurm_options(SlurmOptions *so, const Sweep *s, const char *spec, int nslurm_sets,
                               const char *slurm_sets[][2]) {
    if (slurm_options_from_spec(so, s->resolved_json, spec) != 0) return -1;
    for (int k = 0; k < nslurm_sets; k++) {
        const char *key = strcmp(slurm_sets[k][0], "--max-running") == 0 ? "max_running" : slurm_sets[k][0] + 2;
        if (slurm_option_set(so, key, slurm_sets[k][1], slurm_sets[k][0]) != 0) return -1;
    }
    return 0;
}

/* How to run a written plan (--plan): this program, GNU parallel, Slurm; then collect. */
static void print_run_hints(const char *dir, const char *spec, long jobs, int slurm, int num_jobs, int threads) {
    char abs[4096];
    if (!realpath(dir, abs)) snprintf(abs, sizeof abs, "%s", dir);
    printf("run it with one of:\n"
           "  posenc sweep %s --out %s --jobs %ld\n"
           "  parallel --jobs %ld --joblog %s/joblog --resume-failed < %s/plan.txt\n",
           spec, abs, jobs, jobs, abs, abs);
    if (slurm) printf("  %s/slurm/submit.sh   (Slurm: %d array tasks, %d CPU(s) each)\n", abs, num_jobs, threads);
    printf("then aggregate with: posenc collect %s\n", abs);
}

/* The sweep's throughput, on stderr: finished jobs per hour and the CPU the
 * jobs used (their CPU since ru0) vs what the cores offer; written as
 * DIR/timing.json when a job ran. */
static void sweep_report_timing(const char *dir, double t0, const struct rusage *ru0_p, int ran, int resumed,
                                double trained, long jobs, int threads, long cores) {
    const struct rusage ru0 = *ru0_p;
    /* throughput: finished jobs per hour and the CPU the jobs used vs what the cores offer */
    const double wall = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    const double cpu = ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec + ru.ru_stime.tv_sec + 1e-6 * ru.ru_stime.tv_usec -
                       (ru0.ru_utime.tv_sec + 1e-6 * ru0.ru_utime.tv_usec + ru0.ru_stime.tv_sec + 1e-6 * ru0.ru_stime.tv_usec);
    /* runs/hour counts training done here: a resumed run by the fraction of its steps it trained */
    char resumed_text[160] = "";
    if (resumed)
        snprintf(resumed_text, sizeof resumed_text, " (%d of them resumed: %.2f runs' worth of training steps)", resumed,
                 trained);
    fprintf(stderr,
            "sweep: %d jobs run%s in %.1f s wall (%.0f runs/hour), %ld at a time x %d thread(s), CPU %.1f s = %.0f%% "
            "of %ld cores\n",
            ran, resumed_text, wall, wall > 0 ? trained * 3600.0 / wall : 0.0, jobs, threads, cpu,
            wall > 0 ? 100.0 * cpu / (wall * cores) : 0.0, cores);
    char tpath[4200], tjson[512];
    snprintf(tpath, sizeof tpath, "%s/timing.json", dir);
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    int tn = snprintf(tjson, sizeof tjson,
                      "{\"finished\": \"%s\", \"wall_s\": %.1f, \"jobs_run\": %d, \"jobs_resumed\": %d, "
                      "\"runs_trained\": %.3f, \"parallel_jobs\": %ld, "
                      "\"threads_per_job\": %d, \"cores\": %ld, \"cpu_s\": %.1f, \"cpu_utilisation\": %.3f}\n",
                      date, wall, ran, resumed, trained, jobs, threads, cores, cpu, wall > 0 ? cpu / (wall * cores) : 0.0);
    if (ran > 0 && file_write_atomic(tpath, tjson, (size_t)tn) != 0)
        fprintf(stderr, "posenc sweep: %s\n", core_error());
}

static int sweep_execute(const char *spec, const char *out, long jobs, int plots, int plan_only, int slurm,
                         int nslurm_sets, const char *slurm_sets[][2], const SweepSets *ss) {
    Sweep s;
    if (sweep_load_set(&s, spec, ss ? ss->sets : NULL, ss ? ss->nsets : 0) != 0) {
        fprintf(stderr, "posenc sweep: %s\n", core_error());
        return EXIT_USAGE;
    }
    /* the spec's "slurm" resources are checked for every sweep, local or not */
    SlurmOptions so;
    if (sweep_slurm_options(&so, &s, spec, nslurm_sets, slurm_sets) != 0) {
        fprintf(stderr, "posenc sweep: %s\n", core_error());
        sweep_free(&s);
        return EXIT_USAGE;
    }
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs == 0) jobs = cores / s.threads > 1 ? cores / s.threads : 1;
    char dir[4096];
    if (out)
        snprintf(dir, sizeof dir, "%s", out);
    else
        snprintf(dir, sizeof dir, "runs/%s", s.name);
    char bin[4096];
    ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
    if (n <= 0) {
        fprintf(stderr, "posenc sweep: cannot find the posenc program (/proc/self/exe)\n");
        sweep_free(&s);
        return EXIT_RUNTIME;
    }
    bin[n] = '\0';
    /* the runs already in DIR must be runs of this spec, and the plan's paths
     * writable where they go (plan.txt, sbatch): nothing is written otherwise */
    int chk = sweep_check_runs(&s, dir);
    if (chk == 0 && sweep_plan_paths_check(dir, bin, slurm) != 0) chk = RUN_INVALID;
    if (chk != 0) {
        fprintf(stderr, "posenc sweep: %s\n", core_error());
        sweep_free(&s);
        return chk == RUN_IO ? EXIT_RUNTIME : EXIT_USAGE;
    }
    /* one sweep per folder at a time: a second one is refused before it writes */
    if (dir_create(dir) != 0 || dir_lock(dir) != 0) {
        fprintf(stderr, "posenc sweep: %s\n", core_error());
        sweep_free(&s);
        return EXIT_RUNTIME;
    }
    if (sweep_write_plan(&s, dir, bin) != 0 ||
        (slurm && slurm_write_scripts(dir, s.name, bin, s.num_jobs, s.threads, &so) != 0)) {
        fprintf(stderr, "posenc sweep: %s\n", core_error());
        sweep_free(&s);
        return EXIT_RUNTIME;
    }
    printf("sweep %s: %d jobs -> %s/plan.txt\n", s.name, s.num_jobs, dir);
    for (int k = 0; ss && k < ss->nsets; k++) printf("sweep: every job with --set %s (recorded in sweep.json)\n", ss->sets[k]);
    const char *env_prog = getenv(SWEEP_PROGRAM_VAR);
    if (env_prog && *env_prog) printf("sweep: the plan's program is %s=%s (from the environment)\n", SWEEP_PROGRAM_VAR, env_prog);
    if (plan_only) print_run_hints(dir, spec, jobs, slurm, s.num_jobs, s.threads);
    fflush(stdout);
    const int threads = s.threads;
    sweep_free(&s);
    if (plan_only) return 0;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sweep_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    const double t0 = now_s();
    struct rusage ru0; /* the children's CPU before: a process may run several sweeps (posenc robustness) */
    getrusage(RUSAGE_CHILDREN, &ru0);
    int interrupted = 0;
    int ran = 0, resumed = 0;
    double trained = 0.0;
    int failed = sweep_run_plan(dir, (int)jobs, &sweep_stop, &interrupted, &ran, &resumed, &trained);
    if (failed < 0) {
        fprintf(stderr, "posenc sweep: %s\n", core_error());
        return EXIT_RUNTIME;
    }
    sweep_report_timing(dir, t0, &ru0, ran, resumed, trained, jobs, threads, cores);
    if (interrupted) {
        fprintf(stderr, "sweep: interrupted; run the same command again to finish\n");
        return EXIT_INTERRUPTED;
    }
    const AggOptions o = {.plots = plots};
    int n_agg = aggregate_sweep(dir, stdout, &o);
    if (n_agg < 0) {
        fprintf(stderr, "posenc sweep: %s\n", core_error());
        return n_agg == RUN_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    return failed ? EXIT_RUNTIME : 0;
}
