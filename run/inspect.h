/*
 * inspect.h — what a run directory is, and whether it is complete: the one
 * place that decides it, for run, sweep, collect, eval and train --resume.
 *
 * A run directory holds (run/train.h, run/score.h):
 *   config.json           the resolved config
 *   model.safetensors     the checkpoint: parameters, its step and the config it was trained with
 *   optim.safetensors     (optim.next.safetensors) optimizer state
 *   metrics.jsonl         training log
 *   eval.json / eval-<variant>.json (and .csv)   one file per evaluation variant (run/evaluation.h)
 *   <stem>.adhoc.json (and .csv)  ad-hoc evaluations (docs/SPEC.md §2.0): checked, never a result
 * Files of other names (a provenance record, a user's backup copy such as
 * eval-old.json, notes) are ignored: they are never read as results and never
 * deleted.
 *
 * run_inspect reads every one of them as untrusted input (fsutil's safe
 * reader: regular files only, size-capped; values range-checked) and checks
 * that they agree:
 *   - config.json and the checkpoint's config have the same seed, task.* and
 *     model.* (train.* may differ: train --resume --set train.KEY=...);
 *   - the checkpoint's step is at most config.json's train.steps;
 *   - each evaluation file holds the variant its name says, the config's
 *     encoding and task, and a step no later than the checkpoint's.
 * A disagreement is an error naming the file, the key and both values.
 *
 * The run is trained when the checkpoint is at train.steps, and complete
 * when it is trained and every evaluation variant of its config (eval.json,
 * eval-<variant>.json for eval.positions x eval.rope_scaling) has its file,
 * evaluated at that step with config.json's eval.seed, eval.samples and
 * eval.lengths. A canonical file that does not match (from an earlier step,
 * another eval.seed...; a variant the config does not list) is stale: present,
 * e->stale says why, not counted.
 */
#ifndef POSENC_RUNINFO_H
#define POSENC_RUNINFO_H

#include "model/pe.h"
#include "run/config.h"
#include "run/evalfile.h" /* RunEval: an evaluation file, read by eval_file_read */

typedef struct {
    char dir[4096];
    RunConfig cfg;                   /* config.json */
    long ckpt_step;                  /* the checkpoint's step; -1 without a checkpoint */
    RunEval eval[EVAL_POS_COUNT][PE_ROPE_SCALING_COUNT];
    int trained;                     /* ckpt_step == cfg.train.steps */
    int complete;                    /* trained and every variant of cfg.eval evaluated at that step */
    char why[600];                   /* why it is not complete ("" when it is) */
} RunInfo;

/* run_inspect's results */
enum {
    RUN_OK = 0,         /* a run directory (complete or not: see ri->complete, ri->why) */
    RUN_NOT_A_RUN = 1,  /* missing, not a directory, or no config.json and no checkpoint (message in core_error()) */
    RUN_IO = -1,        /* a file could not be read (permission, a dangling link, a damaged checkpoint): exit 1 */
    RUN_INVALID = -2,   /* files that disagree, or hold values out of range: exit 2 */
};
/* Inspect run directory dir into *ri (heap-allocate it: it is large). */
int run_inspect(const char *dir, RunInfo *ri);

/* The first key at which two configs differ, with both values as text:
 * 1 if they differ (key, va, vb filled), 0 if equal. identity_only compares
 * only what makes a trained model what it is (seed, task.*, model.*). A task
 * setting recorded when a run is prepared (TaskOps.recorded: the text task's
 * file hash) that one side leaves "" matches any value of the other. */
int run_config_diff(const RunConfig *a, const RunConfig *b, int identity_only, char *key, size_t key_cap,
                    char *va, char *vb, size_t val_cap);

/* Whether `name` is one of the files posenc writes into a run directory
 * (config.json, metrics.jsonl, the checkpoint files, eval[-<variant>].json
 * and .csv): the only files posenc ever deletes or replaces there. */
int run_file_is_ours(const char *name);
/* Whether DIR/name is a file posenc can prove it wrote: one of those names,
 * a regular file, and content that only posenc writes (config.json exactly
 * as config_to_json resolves it, a checkpoint with posenc's metadata, an
 * evaluation file its reader accepts, an evaluation CSV's header, a training
 * log of JSON steps, a valid provenance record). The only files --force
 * deletes; what makes a folder "a posenc run" (a user's own config.json in a
 * folder does not). */
int run_file_proven_ours(const char *dir, const char *name);

#endif
