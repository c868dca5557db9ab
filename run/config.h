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
 *
 * | key                      | default | meaning and valid range |
 * | ------------------------ | ------- | --- |
 * | `name`                   | "run"   | run name: 1-63 characters of [A-Za-z0-9._-], not starting with `.` |
 * | `seed`                   | 1       | training seed (initialisation, batches): integer 0..2^53 |
 * | `task.name`              | "copy"  | task: copy, reverse, sort, duplicate, odds_first, markov |
 * | `task.alphabet`          | 10      | alphabet size A (symbols 0..A-1): 2..1000 |
 * | `task.min_len`           | 1       | shortest training length n: 1..max_len |
 * | `task.max_len`           | 16      | longest training length n: min_len..1024 |
 * | `task.markov_order`      | 2       | markov only: order k of the chain, 1..8, with (alphabet+1)^k <= 65536 contexts |
 * | `task.markov_branch`     | 3       | markov only: successors with non-zero probability per context, 1..min(8, alphabet) |
 * | `task.markov_seed`       | 1       | markov only: seed of the transition table: integer 0..2^53 |
 * | `model.d_model`          | 64      | channels C: 1..8192 |
 * | `model.n_layers`         | 2       | layers L: 1..256 |
 * | `model.n_heads`          | 4       | heads NH: must divide d_model |
 * | `model.d_ff`             | 0       | MLP hidden size F: 0 = auto (4*d_model), else 1..65536 |
 * | `model.pe`               | "rope"  | position encoding: none, sinusoidal, learned, rope, alibi, t5, fire, kerple, xpos |
 * | `model.max_positions`    | 0       | position table size P: 0 = auto (the longest input of training and evaluation: task_input_len at the largest of max_len and the eval lengths), else at least the longest training input, at most 1048576 |
 * | `model.emb_scale`        | 1.0     | token embeddings are multiplied by this: > 0 (Vaswani et al. use sqrt(d_model)) |
 * | `model.rope_base`        | 10000   | RoPE base: > 0 |
 * | `model.rope_fraction`    | 1.0     | fraction of each head's dimensions RoPE rotates: (0, 1]; with pe rope, fraction * head size must be an even whole number |
 * | `model.t5_buckets`       | 32      | T5 relative-position buckets: 2..1024 |
 * | `model.t5_max_distance`  | 128     | T5: distances from here on share the last bucket: 2..1048576, > t5_buckets/2 |
 * | `model.fire_hidden`      | 32      | FIRE: hidden units of each layer's MLP: 1..4096 |
 * | `model.fire_init_L`      | 512     | FIRE: initial threshold L of the normaliser psi(max(L, i)): > 0 |
 * | `model.xpos_scale_base`  | 512     | xPos: decay divisor gamma (scale zeta^(n/gamma)): > 0, large enough that zeta^(-P/gamma) stays in float range |
 * | `train.steps`            | 2000    | optimizer steps: 1..10^9 |
 * | `train.batch_size`       | 64      | sequences per step: 1..65536 |
 * | `train.lr`               | 1e-3    | peak learning rate: > 0 |
 * | `train.warmup`           | 100     | linear warmup steps: 0..steps |
 * | `train.weight_decay`     | 0.1     | AdamW decoupled weight decay (matrices only): 0..10 |
 * | `train.grad_clip`        | 1.0     | global gradient-norm clip: >= 0 (0 = off) |
 * | `train.log_every`        | 50      | log the training loss every k steps: >= 1 |
 * | `train.eval_every`       | 500     | evaluate every k steps: >= 0 (0 = only at the end) |
 * | `train.checkpoint_every` | 500     | checkpoint every k steps: >= 0 (0 = only at the end) |
 * | `train.threads`          | 1       | worker threads: 1..1024; speed only (results are bitwise the same for any value), not written by config_to_json |
 * | `train.random_positions` | false   | randomized positions (Ruoss et al. 2023): each training row's position ids are a sorted random subset of [0, model.max_positions) instead of 0..T-1; any encoding |
 * | `eval.lengths`           | []      | evaluation lengths n: [] = auto (max_len/2, max_len, 2x, 3x, 4x max_len, deduplicated, each >= 1), else 1..64 distinct lengths, each 1..4096, kept in the order given |
 * | `eval.samples`           | 256     | examples per length: 1..10^7 |
 * | `eval.batch_size`        | 64      | evaluation batch size: 1..65536 |
 * | `eval.seed`              | 1234    | evaluation-set seed, independent of `seed`: integer 0..2^53 |
 * | `eval.positions`         | ["plain"] | evaluation position ids, one evaluation per value: plain (0..T-1), random (sorted random subset of [0, model.max_positions) per example, seeded by eval.seed; needs max_positions >= the longest evaluation input) |
 * | `eval.rope_scaling`      | ["none"] | RoPE scaling at evaluation, one evaluation per value: none, pi, ntk, yarn (anything but none needs model.pe rope) |
 * | `eval.rope_scale`        | 0       | the RoPE scale factor s: 0 = derived (longest evaluation input / longest training input), else >= 1 |
 *
 * The markov keys may differ from their defaults only with task.name
 * "markov", and only its resolved config lists them (so every other
 * config.json reads as before).
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
 * message (pe_errorf) naming the file or "--set" and the key path. On error
 * *c holds no meaningful value. */
int config_load(RunConfig *c, const char *path, const char *const *sets, int nsets);

/* The same from JSON text; `origin` names it in messages (e.g. the file
 * name). json may be NULL (defaults only). */
int config_from_string(RunConfig *c, const char *json, const char *origin,
                       const char *const *sets, int nsets);

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
 * only (results are bitwise the same for any value: model/parallel.h); the
 * thread count a run used is in its provenance.json. Loading the text back
 * gives a bytewise-identical RunConfig except train.threads (then 1). */
char *config_to_json(const RunConfig *c);
/* The same with train.threads: a sweep job's config (how to run it). */
char *config_to_json_plan(const RunConfig *c);

/* The automatic evaluation lengths for a training max_len: max_len/2,
 * max_len, 2x, 3x, 4x max_len, deduplicated, each >= 1, ascending. Returns
 * how many were written to lengths (at most 5). */
int config_auto_eval_lengths(int max_len, int *lengths);

#endif
