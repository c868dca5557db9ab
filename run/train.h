/*
 * train.h — the training loop of one run, writing into its run directory:
 *
 *   DIR/config.json        the resolved config (written by the caller)
 *   DIR/metrics.jsonl      one JSON object per line:
 *                          {"type":"train","step","loss","lr","grad_norm",
 *                           "tokens_per_s","padded_tokens_per_s","elapsed"}
 *                          {"type":"eval","step","n","token_acc","exact_match","loss"}
 *   DIR/model.safetensors  parameters at the last checkpoint (checkpoint.h)
 *   DIR/optim.safetensors  AdamW moments, step, training-data RNG state
 *
 * "step" counts completed optimizer steps. Checkpoints are written every
 * train.checkpoint_every steps, at the end, and when *stop becomes non-zero
 * (Ctrl-C). Resuming restores parameters, moments, step and the data RNG, and
 * drops metrics lines written after the checkpoint, so a resumed run's loss
 * trajectory is bitwise identical to an uninterrupted one.
 *
 * Randomized positions (train.random_positions): after each training batch is
 * drawn, its position ids are replaced by batch_random_positions over
 * [0, model.max_positions), from a generator seeded per step with
 * rng_derive(rng_derive(seed, TRAIN_POS_STREAM), step) — so the batches are
 * the same as without the option, resuming needs no extra state, and with the
 * option off nothing changes. Periodic evaluations use plain positions.
 */
#define TRAIN_POS_STREAM 0x7a05u
#ifndef POSENC_TRAIN_H
#define POSENC_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "run/config.h"

typedef struct {
    const char *run_dir;
    int resume;                      /* continue from run_dir's checkpoint */
    volatile sig_atomic_t *stop;     /* set asynchronously: checkpoint and return TRAIN_INTERRUPTED */
    long stop_after;                 /* > 0: behave as if interrupted once this many steps are done */
    int live;                        /* 1: a live progress line (terminal); 0: plain lines */
    FILE *log;                       /* progress output (stderr); NULL: silent */
} TrainOptions;

enum { TRAIN_OK = 0, TRAIN_ERROR = -1, TRAIN_INTERRUPTED = 1, TRAIN_NONFINITE = 2 };

/* Train per cfg. Returns one of the codes above; on TRAIN_ERROR and
 * TRAIN_NONFINITE the message is in core_error(). */
int train_run(const RunConfig *cfg, const TrainOptions *opt);

/* The lines of metrics.jsonl text whose "step" is at most `step` (what a
 * resume from that checkpoint keeps); a torn last line and lines that are
 * not such JSON are dropped. *elapsed gets the "elapsed" of the last kept
 * line (0 if none). malloc'd NUL-terminated text of *len bytes, NULL on
 * out-of-memory. */
char *metrics_keep_until(const char *text, long step, size_t *len, double *elapsed);

/* The step of the run's checkpoint, or -1 if it has none (or it is unreadable). */
long train_checkpoint_step(const char *run_dir);

/* 0 if training cfg fits in memory (gpt_estimate_bytes of the training and
 * periodic-evaluation shapes against mem_available_bytes), else -1 after
 * core_errorf giving both numbers and what to reduce. */
int train_memory_check(const RunConfig *cfg);

#endif
