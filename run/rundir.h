/*
 * rundir.h — opening a finished (or checkpointed) run directory.
 */
#ifndef POSENC_RUNDIR_H
#define POSENC_RUNDIR_H

#include "model/gpt.h"
#include "run/config.h"

/* Read DIR/model.safetensors: its config (parsed into *cfg), and build *m
 * from it with the checkpoint's parameters. If min_P > cfg->model.P and the
 * encoding has no position-indexed parameters (no PE_TRAINED_POSITIONS,
 * model/pe.h), the model is built with max_positions = min_P, so that it can
 * be evaluated on longer sequences; with such parameters that is an error
 * naming the setting to raise. *step receives the checkpoint's step (may be NULL).
 * 0 or an error. */
int rundir_load(const char *dir, int min_P, RunConfig *cfg, GPT *m, long *step);

#endif
