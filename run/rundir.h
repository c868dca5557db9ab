/*
 * rundir.h — a run directory's life outside training and evaluation:
 * preparing it for training (rundir_prepare), opening its checkpoint
 * (rundir_load). What its files are: run/inspect.h.
 */
#ifndef POSENC_RUNDIR_H
#define POSENC_RUNDIR_H

#include <stddef.h>
#include <stdio.h>

#include "model/gpt.h"
#include "run/config.h"

/* What to train where (posenc train, posenc run). */
typedef struct {
    const char *config_path;  /* a new run: its config file (NULL: the built-in defaults) */
    const char *const *sets;  /* KEY=VALUE overrides, applied in order (resuming: train.* keys only) */
    int nsets;
    const char *out;          /* a new run's directory (NULL: runs/NAME, NAME the config's) */
    const char *resume;       /* continue this run directory from its checkpoint instead */
    int force;                /* a new run: replace a run in `out` (posenc's own files only) */
    FILE *notes;              /* notes (train.steps changed on resuming...); NULL: none */
} RunDirSetup;

/* rundir_prepare's results */
enum {
    RUNDIR_OK = 0,
    RUNDIR_FAILED = -1,   /* a runtime failure (cannot create, lock or write): exit 1 */
    RUNDIR_INVALID = -2,  /* a config the model cannot be built from, a folder that holds another run or
                             files that disagree, nothing to resume: exit 2; nothing was written */
};
/* Make a run directory ready for training: check the config (every
 * encoding's own checks too: nothing is written for a config that cannot be
 * built) and what the folder holds; take its lock (dir_lock: for the rest of
 * the process's life); with force, remove the old run's files (only
 * run_file_is_ours names); remove temporary files of killed writes; write
 * config.json, the resolved config. *cfg receives the config to train, dir
 * (cap bytes) the folder. core_error() says why it failed. */
int rundir_prepare(const RunDirSetup *s, RunConfig *cfg, char *dir, size_t cap);

/* task_open (data/task.h) for a run's config: the task's file, if it reads
 * one, read and checked against the training lengths and the longest of
 * eval.lengths; a new config gets the file's hash. 0 or an error. */
int task_open_for_run(RunConfig *cfg);

/* Read DIR/model.safetensors: its config (parsed into *cfg), and build *m
 * from it with the checkpoint's parameters. If min_P > cfg->model.P and the
 * encoding has no position-indexed parameters (no PE_TRAINED_POSITIONS,
 * model/pe.h), the model is built with max_positions = min_P, so that it can
 * be evaluated on longer sequences; with such parameters that is an error
 * naming the setting to raise (RUNDIR_INVALID: a usage error, exit 2, the
 * same wording everywhere: rundir_table_error). Weights that are not all
 * finite are refused (a damaged checkpoint: -1). *step receives the
 * checkpoint's step (may be NULL). 0, -1 (RUNDIR_FAILED: exit 1) or
 * RUNDIR_INVALID after core_errorf. rundir_load does not check config.json
 * against the checkpoint: run_inspect first (rundir_open). */
int rundir_load(const char *dir, int min_P, RunConfig *cfg, GPT *m, long *step);
/* core_errorf: `need` positions do not fit in the trained table of P rows of encoding pe. */
void rundir_table_error(const char *dir, const char *pe, int need, int P);
/* A reader's way into a run: run_inspect (config.json, the checkpoint and the
 * evaluation files agree, values in range: the one judge), then rundir_load.
 * 0, RUNDIR_FAILED (exit 1: unreadable files, a damaged checkpoint) or
 * RUNDIR_INVALID (exit 2: not a run, files that disagree, a table too short)
 * after core_errorf. */
int rundir_open(const char *dir, int min_P, RunConfig *cfg, GPT *m, long *step);

#endif
