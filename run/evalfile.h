/*
 * evalfile.h — a run's evaluation files, as read back (docs/SPEC.md §2).
 *
 * eval_run (run/evaluation.h) is their one writer, eval_file_read their one
 * reader: run_inspect (run/inspect.h), and through it run, sweep and collect,
 * read them with it, as untrusted input.
 *
 * <stem>.json: run (the config's name), step, task, pe, train_min_len,
 * train_max_len, eval_seed, entropy_rate (LM tasks); beside a non-default
 * variant or randomized training: variant, label, train_random_positions,
 * positions, positions_range, rope_scaling, rope_scale, rope_scale_derived,
 * rope_original_context; results (per length: n, examples, tokens,
 * token_acc, exact_match, loss, in_training_range, loss_floor for LM tasks)
 * and by_position (pos, correct, total, acc, loss; read back binned, below).
 * The canonical evaluation also records samples (the examples per length
 * asked for); an ad-hoc one (posenc eval with --lengths, --samples,
 * --rope-scale or a variant its config does not list) is written as
 * <stem>.adhoc.json/.csv with "adhoc": true and "adhoc_reason", and never
 * counts as the run's result (docs/SPEC.md §2).
 * <stem>.csv: one row per length, n,examples,tokens,token_acc,exact_match,
 * loss,in_training_range[,loss_floor].
 */
#ifndef POSENC_EVALFILE_H
#define POSENC_EVALFILE_H

#include <stddef.h>

/* eval_run's and eval_file_read's results */
enum {
    EVAL_RUN_OK = 0,
    EVAL_RUN_FAILED = -1,  /* a runtime failure (unreadable files, memory, a non-finite loss): exit 1 */
    EVAL_RUN_INVALID = -2, /* not a run, files that disagree, options the run cannot take: exit 2 */
};

/* ---- the evaluation files ------------------------------------------------- */

#define RUN_EVAL_MAX_ROWS 256
#define RUN_EVAL_MAX_BYPOS 65536 /* by_position entries (positions of the longest input, at most ~12300) */

/* Loss and accuracy by absolute position of the predicted token (by_position
 * of the file, summed over its lengths: in a causal model a prediction at
 * position p depends on positions 0..p alone, whatever the example's length)
 * are kept in log-spaced bins: positions 1..7 one bin each, then four bins
 * per octave (8-9, 10-11, 12-13, 14-15, 16-19, ...), up to 2^22. */
#define RUN_EVAL_POS_BINS 83
/* The bin of position p, or -1 (p < 1 or p >= 2^22). */
int eval_pos_bin(long p);
/* The first position of bin b (0 <= b <= RUN_EVAL_POS_BINS: b = BINS is the end of the last). */
long eval_pos_bin_lo(int b);

/* One evaluation file, parsed and checked. */
typedef struct {
    int present;
    int positions, scaling;          /* its variant (EVAL_POS_*, PE_ROPE_SCALING_*) */
    long step;                       /* the step it evaluated */
    char pe[32], task[32];           /* as the file records them ("" if absent) */
    int num;                         /* result rows */
    int n[RUN_EVAL_MAX_ROWS];
    double token_acc[RUN_EVAL_MAX_ROWS], exact_match[RUN_EVAL_MAX_ROWS], loss[RUN_EVAL_MAX_ROWS];
    double floor[RUN_EVAL_MAX_ROWS]; /* loss_floor, -1 if absent */
    long examples[RUN_EVAL_MAX_ROWS];  /* evaluation examples, 0 if absent (older files) */
    long samples;                    /* the examples per length asked for, -1 if absent (older files) */
    double eval_seed;                /* the eval.seed it was made with, -1 if absent */
    int adhoc;                       /* an ad-hoc evaluation (<stem>.adhoc.json) */
    int bp_num;                      /* by_position entries (pos strictly increasing, correct <= total) */
    long bp_max_pos;                 /* their largest pos, -1 without any (run_inspect bounds it) */
    char stale[700];                 /* set by run_inspect: why it does not count as the run's result ("" if it does) */
    /* by position, binned (eval_pos_bin): predicted tokens, right ones, summed loss; all 0 if absent */
    long pos_total[RUN_EVAL_POS_BINS], pos_correct[RUN_EVAL_POS_BINS];
    double pos_loss[RUN_EVAL_POS_BINS];
} RunEval;

/* Parse and check an evaluation file's text (origin names it in messages):
 * every value range-checked, as untrusted input. 0, or -1 after core_errorf
 * naming origin, the key and the value. */
int eval_file_parse(const char *text, const char *origin, RunEval *e);
/* Read DIR's file of variant (positions, scaling) into *e (its canonical
 * file, <stem>.json; adhoc: <stem>.adhoc.json): 0 absent, 1 read
 * (e->present), EVAL_RUN_FAILED if it cannot be read (permission, a link that
 * cannot be followed, a FIFO...), EVAL_RUN_INVALID if it does not parse or
 * holds another variant than its name says; errors name the path. */
int eval_file_read(const char *dir, int positions, int scaling, int adhoc, RunEval *e);

/* A JSON value as short text for messages ("(missing)" for NULL, at most 60
 * characters of it): also runinfo's config differences. */
void json_value_text(const void *cjson_value, char *buf, size_t cap);

#endif
