/*
 * config.h — one run's configuration: task, model, training, evaluation.
 *
 * A run is described by a JSON file (configs/NAME.json), optionally changed by
 * `--set key=value` overrides, and resolved into a plain C struct (RunConfig)
 * once; nothing else in posenc reads JSON. Every key has a type and a range,
 * and unknown keys are errors (with the closest valid key suggested), so a
 * typo can never silently fall back to a default.
 *
 * Keys (every one optional; `0`/`[]` marked "auto" are resolved at load time,
 * and the resolved config, as written by config_to_json, holds the values):
 * one table in config.c, each row with its type, range and help line; the
 * model.* keys of the encodings' settings come from the encodings' own
 * tables (model/pe.h, PESetting), through the registry. `posenc config
 * --keys` prints them all, and the table of docs/CONFIG.md is
 * that listing (tests/test_config.c fails when they differ).
 *
 * The task.* keys of the tasks' settings come from the tasks' own tables
 * (data/task.h, TaskSetting), through the registry. A task's setting may
 * differ from its default only with a task.name that reads it, and only
 * that task's resolved config lists it (so every other config.json reads as
 * before).
 *
 * Types: integer keys take JSON numbers with an integral value (2.0 is 2,
 * 2.5 is an error); number keys take any JSON number; string keys take
 * strings; boolean keys take true or false; eval.lengths takes an array of
 * integers; eval.positions and eval.rope_scaling take an array of names or
 * one string of comma-separated names (stored as a set: order and
 * repetition do not matter, written back in the canonical order).
 *
 * Overrides: `--set key=value`, e.g. `model.pe=alibi`, `train.lr=3e-4`,
 * `eval.lengths=8,16,32` or `eval.lengths=[8,16]`, `task={"name":"sort"}`.
 * The value is read as JSON if it is JSON, else as a plain string; for a
 * string key the text is taken as it is (`name=42` names the run "42"); for
 * eval.lengths a bare comma list is read as an array.
 *
 * Errors are one line naming where the value came from (the file, or
 * "--set"), the key path, and what is wrong, e.g.
 *     configs/x.json: model.n_heads: 3 does not divide model.d_model (64)
 *     configs/x.json: model.d_modle: unknown key (did you mean "d_model"?)
 *     configs/x.json: invalid JSON at line 3, column 28 (near ": "copy",}")
 *     --set: train.lr: must be > 0, got -1
 */
#ifndef POSENC_CONFIG_H
#define POSENC_CONFIG_H

#include <stdint.h>

#include "data/task.h"
#include "model/gpt.h"

typedef struct {
    int steps, batch_size;
    float lr;
    int warmup;
    float weight_decay, grad_clip;
    int log_every, eval_every, checkpoint_every, threads;
    int random_positions; /* 1: each training row gets a sorted random subset of [0, P) as positions */
} TrainConfig;

#define EVAL_MAX_LENGTHS 64
typedef struct {
    int lengths[EVAL_MAX_LENGTHS];
    int num_lengths;  /* evaluation lengths n */
    int samples;      /* examples per length */
    int batch_size;   /* evaluation batch size */
    uint64_t seed;    /* evaluation-set seed, independent of the training seed */
    unsigned positions;    /* variants: bit EVAL_POS_PLAIN and/or EVAL_POS_RANDOM */
    unsigned rope_scaling; /* variants: bit i = PERopeScaling i (none, pi, ntk, yarn) */
    float rope_scale;      /* RoPE scaling factor s; 0 = derived (longest eval input / longest training input) */
} EvalConfig;

/* Evaluation position ids: 0..T-1, or a sorted random subset of [0, P) per
 * example (the training randomization, from a generator seeded by eval.seed). */
enum { EVAL_POS_PLAIN = 0, EVAL_POS_RANDOM = 1, EVAL_POS_COUNT };
/* "plain", "random" (NULL out of range) and the reverse (-1 if unknown). */
const char *eval_positions_name(int mode);
int eval_positions_find(const char *name);

typedef struct {
    char name[64];
    uint64_t seed;
    TaskConfig task;
    GPTConfig model;  /* V = task_vocab(alphabet); F and P resolved (never 0 after loading) */
    TrainConfig train;
    EvalConfig eval;
} RunConfig;

/* The documented defaults, unresolved: model.F, model.P and eval.num_lengths
 * are 0 ("auto"), model.V is set from the default alphabet. The struct is
 * zeroed first, so two configs holding the same values are equal bytewise. */
void config_default(RunConfig *c);

/* Load a run config: the defaults, then the JSON file at `path` (NULL: the
 * defaults only), then the `--set key=value` overrides in order, then the
 * derived values and validation (config_resolve_check). 0, or -1 with an error
 * message (core_errorf) naming the file or "--set" and the key path. On error
 * *c holds no meaningful value. */
int config_load(RunConfig *c, const char *path, const char *const *sets, int nsets);

/* The same from JSON text; `origin` names it in messages (e.g. the file
 * name). json may be NULL (defaults only). */
int config_from_string(RunConfig *c, const char *json, const char *origin,
                       const char *const *sets, int nsets);

/* config_from_string for one job of a sweep, whose spec's "set" and grid
 * may name settings that only some of its jobs' encodings or tasks read: a
 * setting the job's model.pe (or task.name) does not read goes back to its
 * default instead of being refused. */
int config_for_job(RunConfig *c, const char *json, const char *origin, const char *const *sets, int nsets);

/* Apply one override "key=value" (see above) to *c: the value is type-checked
 * and stored, nothing is resolved or range-checked (config_resolve_check
 * does that once all overrides are in). 0 or an error prefixed "--set". */
int config_apply_set(RunConfig *c, const char *assignment);

/* Fill the derived values (model.V always; model.F, model.P and the eval
 * lengths where they are 0 / empty = auto) and check every key's range and
 * the keys' consistency. `origin` names the source in messages (NULL:
 * "config"). 0 or an error. */
int config_resolve_check(RunConfig *c, const char *origin);

/* The resolved config, every key with its value except train.threads, as a
 * malloc'd pretty JSON string (free() it): what a run's results depend on
 * (config.json, the checkpoints' metadata). train.threads is a speed setting
 * only (results are bitwise the same for any value: core/parallel.h); the
 * thread count a run used is in its provenance.json. Loading the text back
 * gives a bytewise-identical RunConfig except train.threads (then 1). */
char *config_to_json(const RunConfig *c);
/* The same with train.threads: a sweep job's config (how to run it). */
char *config_to_json_plan(const RunConfig *c);

/* The documentation of every config key, generated from the key table (the
 * encodings' keys from their own tables, model/pe.h): the key, its default
 * as JSON, what it means and its valid values. */
typedef struct {
    const char *path;
    char def[64];
    char range[256];
    const char *help;
} ConfigKeyDoc;
int config_key_count(void);
/* Key i (0..config_key_count()-1) in table order; 0, or -1 out of range. */
int config_key_doc(int i, ConfigKeyDoc *out);
/* Every key as a Markdown table (docs/CONFIG.md's), malloc'd. */
char *config_keys_markdown(void);

/* The automatic evaluation lengths for a training max_len: max_len/2,
 * max_len, 2x, 3x, 4x max_len, deduplicated, each >= 1, ascending. Returns
 * how many were written to lengths (at most 5). */
int config_auto_eval_lengths(int max_len, int *lengths);

#endif
