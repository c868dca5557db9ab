/*
 * sweep.h — experiment specs, grid expansion, plans and the local executor.
 *
 * An experiment spec (experiments/NAME.json):
 *
 *   {
 *     "name": "demo",                      output folder name (runs/<name> by default)
 *     "description": "...",                free text, copied to the outputs
 *     "base": "../configs/copy.json",      a run config: a path (relative to the spec's
 *                                          folder) or an inline object; omitted = built-in defaults
 *     "set": {"train.steps": 1500},        overrides applied to the base (optional)
 *     "grid": {"model.pe": ["none", "rope"], "task.name": ["copy", "sort"]},
 *                                          every combination of the values (keys in order);
 *                                          a key that is an encoding's setting
 *                                          ("model.rope_fraction": [1, 0.25]) varies only the
 *                                          encodings that read it: the others run its first
 *                                          value only
 *     "seeds": [1, 2, 3],                  each cell is trained once per seed (default [1])
 *     "eval": {"lengths": [8, 16, 32], "samples": 256}   evaluation (optional;
 *                                          sets eval.* of every run's config; lists in
 *                                          eval.positions / eval.rope_scaling evaluate each
 *                                          trained run once per variant, e.g.
 *                                          "rope_scaling": ["none", "pi", "ntk", "yarn"]; with
 *                                          "none" in the list, the scalings apply to the
 *                                          encodings with RoPE and the others are evaluated
 *                                          with "none" alone; without it, every job needs RoPE)
 *     "threads": 1,                        threads per job (train.threads; optional, default 1)
 *     "overrides": ["train.steps=300"],    "key=value" overrides applied after "set" and "eval",
 *                                          as `posenc train --set` (optional; `posenc sweep
 *                                          --set` appends to it, and the resolved OUT/sweep.json
 *                                          records them); never a grid key, seed, name or
 *                                          train.threads
 *     "slurm": {"partition": "short", "time": "0:30:00", "mem": "2G", "max_running": 50}
 *                                          resources of `posenc sweep --slurm` (optional,
 *                                          study/slurm.h; checked, unused by local sweeps)
 *   }
 *
 * Every key of "set", "grid" and "eval" is a run-config key (run/config.h);
 * every job's config is resolved and validated before anything runs.
 *
 * Expansion gives one job per (cell, seed), with an id made of the grid
 * values and the seed, e.g. "rope.copy.s1". A plan is a folder:
 *
 *   OUT/sweep.json          the spec, resolved (the base inlined)
 *   OUT/configs/<id>.json   each job's resolved run config
 *   OUT/plan.txt            one self-contained, idempotent shell command per
 *                           line, every path absolute:
 *                             "${POSENC:-/abs/posenc}" run '/abs/OUT/configs/<id>.json' --out '/abs/OUT/runs/<id>'
 *                           which trains (or resumes, or skips when complete)
 *                           and evaluates into its own run directory. The
 *                           program is the posenc that wrote the plan unless
 *                           the environment variable POSENC names another.
 *
 * `posenc sweep` writes the plan and runs its lines N at a time; GNU parallel or
 * a Slurm job array (study/slurm.h) runs the same lines on any host that mounts
 * OUT at the same path; `posenc collect OUT` aggregates either way.
 */
#ifndef POSENC_SWEEP_H
#define POSENC_SWEEP_H

#include <cJSON.h>
#include <signal.h>

#include "run/config.h"

#define SWEEP_MAX_KEYS 8
/* the environment variable that replaces the program in every plan line */
#define SWEEP_PROGRAM_VAR "POSENC"
#define SWEEP_MAX_JOBS 4096

typedef struct {
    char id[128];
    char values[SWEEP_MAX_KEYS][64]; /* the grid values of this job (sweep_value_text) */
    uint64_t seed;
    RunConfig cfg;                   /* resolved */
} SweepJob;

typedef struct {
    char name[64];
    char description[512];
    char spec_path[4096];
    int num_keys;
    char keys[SWEEP_MAX_KEYS][64];   /* grid keys, in order */
    int num_jobs;
    SweepJob *jobs;
    int threads;
    char *resolved_json;             /* the spec with the base inlined */
} Sweep;

/* Read and expand a spec. Every job's config is resolved and checked; an
 * error names the spec file and the key (and the job for a job's error). */
int sweep_load(Sweep *s, const char *spec_path);
/* The same with "key=value" overrides from the command line (posenc sweep
 * --set), appended to the spec's "overrides". */
int sweep_load_set(Sweep *s, const char *spec_path, const char *const *sets, int nsets);
void sweep_free(Sweep *s);

/* Whether a plan can be written for folder out (it need not exist yet):
 * its absolute path has no newline (plan.txt is one command per line), the
 * program's path can be quoted, and with slurm sbatch can take the folder in
 * its #SBATCH lines. Checked before anything is written. 0 or -1 after
 * core_errorf. */
int sweep_plan_paths_check(const char *out, const char *bin, int slurm);
/* Write the plan into out_dir (created). `posenc_bin` is the program the
 * plan's lines call when POSENC is not set (an absolute path; it may not
 * contain " $ ` \ or a newline, nor out_dir a single quote). */
int sweep_write_plan(const Sweep *s, const char *out_dir, const char *posenc_bin);

/* Run the plan's lines, `jobs` at a time, each its own process with its
 * output in OUT/logs/<id>.log. Shows overall progress on stderr; keeps
 * going when a job fails. Returns the number of failed jobs (0 = all done),
 * or -1 on an error before anything ran; *interrupted is set if *stop was
 * raised (Ctrl-C), in which case running jobs were allowed to checkpoint;
 * *ran counts the jobs that finished successfully in this call, *resumed
 * those of them that continued from a checkpoint, and *trained their
 * training in whole runs: a run resumed at step k of N counts (N - k) / N, a
 * run that only had its evaluation left 0 (for an honest runs/hour). */
int sweep_run_plan(const char *out_dir, int jobs, volatile sig_atomic_t *stop, int *interrupted, int *ran,
                   int *resumed, double *trained);

/* A JSON value as text, as grid values are shown in ids, tables and plots:
 * a string as it is, anything else as compact JSON. */
void sweep_value_text(const cJSON *v, char *buf, size_t cap);

/* A run directory is complete as run_inspect decides (run/inspect.h): its
 * files agree, its checkpoint is at the final step and every evaluation
 * variant of its config has its file from that step. */
int sweep_run_complete(const char *run_dir);

/* Before a plan is (re)written into out: each job's run folder that holds a
 * run must hold a run of exactly the job's config, and none may be a link.
 * 0, or RUN_IO / RUN_INVALID (run/inspect.h) after core_errorf naming the
 * folder, the key and both values. */
int sweep_check_runs(const Sweep *s, const char *out);

#endif
