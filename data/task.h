/*
 * task.h — synthetic ordering tasks and the batches the model trains on
 * (docs/SPEC.md §1).
 *
 * Tokens. Symbols are 0..A-1 (A = alphabet size), followed by four specials:
 *
 *     PAD = A    BOS = A+1    SEP = A+2    EOS = A+3        V = A+4
 *
 * One example of problem length n, with answer y of length m = answer_len(n):
 *
 *     position:  0    1 .. n    n+1   n+2 .. n+m+1   n+m+2
 *     token:     BOS  x1 .. xn  SEP   y1  .. ym      EOS
 *
 * The model is causal and predicts the next token; it sees every token but
 * the last, so an example is n+m+2 input tokens (task_input_len). Only the
 * predictions of y1..ym and EOS count in the loss: those made at the input
 * positions SEP, y1, .., ym (positions n+1 .. n+m+1), m+1 of them.
 *
 * A task is one small file (task_<name>.c) defining a `const TaskOps`, plus
 * one line in the registry table of task.c. The task only says how long the
 * answer is and what it is; the frame above is shared by every task. Its own
 * config keys, if any, are TaskSetting rows it lists (see "settings" below).
 *
 * Language-model frame (TaskOps.frame = TASK_FRAME_LM, e.g. markov). There is
 * no answer: the example is the sequence itself,
 *
 *     position:  0    1 .. n
 *     token:     BOS  x1 .. xn
 *
 * the model sees BOS x1 .. x(n-1) (n input tokens, task_input_len = n) and
 * every prediction counts: x_t is predicted at input position t-1, so the
 * predicted token's absolute position is t, as in the answer frame. There is
 * no SEP and no EOS: the length is drawn independently of x, so an EOS would
 * only add an unpredictable token to the loss. x comes from the task's own
 * sampler (TaskOps.sample_x) instead of the uniform draw, and the task knows
 * its source's true distribution (next_dist) and the entropy of x_t given
 * x_<t (entropy), the lowest loss any model can reach at each position.
 *
 * Batches. B examples are right-padded with PAD to the longest row T. For
 * row b and input position t (0 <= t < T):
 *
 *     inputs [b*T+t]  the token at position t (PAD past the row's end)
 *     targets[b*T+t]  the token at position t+1 if its prediction counts,
 *                     else -1 (prompt BOS x1..xn, and padding)
 *     pos    [b*T+t]  t (padding keeps counting, so ids are always 0..T-1)
 *
 * Example: copy, A = 10, n = 3, x = 3 1 4, a batch of this one row:
 *
 *     inputs   11  3  1  4 12  3  1  4
 *     targets  -1 -1 -1 -1  3  1  4 13
 *     pos       0  1  2  3  4  5  6  7       lens 8, ns 3
 *
 * Determinism. Batches are drawn from an Rng in this order: for each row
 * b = 0..B-1, first n (training batches only: min_len +
 * rng_below(max_len - min_len + 1), or the task's sample_len), then x1..xn (each rng_below(A), or the
 * task's sample_x, which documents its own draws). The same Rng state therefore gives the same batch on every
 * machine. Evaluation sets use their own Rng, seeded by the caller from the
 * evaluation seed (rng_derive), so they never depend on training.
 */
#ifndef POSENC_TASK_H
#define POSENC_TASK_H

#include <stddef.h>

#include "core/rng.h"

/* Bounds checked by task_config_check. */
#define TASK_MIN_ALPHABET 2
#define TASK_MAX_ALPHABET 1000
#define TASK_MAX_TRAIN_LEN 1024   /* largest training length max_len */
/* largest evaluation length n: evaluation's memory is linear in the length
 * (gpt_infer), so the bound is that the longest input, 3n + 2 tokens
 * (duplicate), stays within model.max_positions' bound of 2^20 */
#define TASK_MAX_EVAL_LEN 262144

/* ---- settings: each task's own config keys --------------------------------
 *
 * A task declares the settings it reads as a table of TaskSetting rows (name,
 * type, default, valid range, help line), as an encoding does (model/pe.h,
 * PESetting): `posenc` turns each into the config key task.<name>
 * (run/config.c), lists it in `posenc config --keys` (with the tasks that read
 * it) and in docs/CONFIG.md's table of config keys, all from the registry. A setting
 * read by several tasks is one row, defined by one task and listed (by
 * pointer) by the others. The values travel in TaskConfig.set, one slot per
 * distinct row in registry order (task_setting_at); a task reads its own with
 * task_setting(cfg, &row) or task_setting_text(cfg, &row).
 *
 * Every setting's range is checked whatever the task (a typo never hides
 * behind another task); a value other than the default for a setting the
 * chosen task does not read is an error (run/config.c; a sweep's job puts it
 * back to the default instead, config_for_job), and a resolved config.json
 * lists only the chosen task's settings.
 */
#define TASK_MAX_SETTINGS 16
#define TASK_MAX_TEXT_SETTINGS 4    /* of them, text settings */
#define TASK_SETTING_TEXT_MAX 1024  /* a text value's capacity, NUL included */

typedef enum {
    TASK_SETTING_INT,  /* an integer in [lo, hi] (int range) */
    TASK_SETTING_SEED, /* an integer in 0..2^53 (a seed; lo, hi unused) */
    TASK_SETTING_TEXT, /* a string of at most TASK_SETTING_TEXT_MAX - 1 bytes (e.g. a file path) */
} TaskSettingType;

typedef struct {
    const char *name;     /* the config key is task.<name> */
    TaskSettingType type;
    double def;           /* int, seed: default */
    double lo, hi;        /* int: valid range, inclusive */
    const char *def_text; /* text: default (NULL = "") */
    const char *help;     /* one line: what it means (the range and the tasks are printed from the table) */
} TaskSetting;

/* Every setting's value by slot: v[slot] for int and seed settings,
 * text[task_setting_text_index(slot)] for text settings. */
typedef struct {
    double v[TASK_MAX_SETTINGS];
    char text[TASK_MAX_TEXT_SETTINGS][TASK_SETTING_TEXT_MAX];
} TaskSettings;

typedef struct {
    char name[32];        /* task name: copy | reverse | ... (task_names()) */
    int alphabet;         /* A: symbols 0..A-1; default 10 */
    int min_len, max_len; /* training lengths n uniform in [min_len, max_len] */
    TaskSettings set;     /* the tasks' own settings (task_setting; e.g. markov's order) */
} TaskConfig;

/* ---- vocabulary ------------------------------------------------------- */

static inline int task_pad(int A) { return A; }
static inline int task_bos(int A) { return A + 1; }
static inline int task_sep(int A) { return A + 2; }
static inline int task_eos(int A) { return A + 3; }
static inline int task_vocab(int A) { return A + 4; }

/* ---- tasks ------------------------------------------------------------ */

typedef enum {
    TASK_FRAME_ANSWER = 0, /* BOS x SEP y EOS, loss on y and EOS (the default) */
    TASK_FRAME_LM = 1,     /* BOS x, loss on every x_t (see the top of this file) */
} TaskFrame;

typedef struct {
    const char *name;
    const char *summary;                                 /* one line for --help */
    TaskFrame frame;
    /* answer frame */
    int (*answer_len)(int n, const TaskConfig *cfg);     /* m for problem length n (from cfg alone: never
                                                            a file, so a config is sized without it) */
    void (*answer)(int *y, const int *x, int n, int A);  /* write y (m) from x (n) */
    /* (optional) draw x1..xn; NULL = uniform, one rng_below(A) per symbol.
     * Must not allocate (it runs inside training steps). */
    void (*sample_x)(int *x, int n, const TaskConfig *cfg, Rng *rng);
    /* LM frame: (optional) the source's true distribution of the next symbol,
     * p[v] = P(x_(t+1) = v | x_1 .. x_t) for v in 0..A-1 (t >= 0 symbols given). */
    void (*next_dist)(double *p, const int *x, int t, const TaskConfig *cfg);
    /* LM frame: (optional) h[t-1] = H(x_t | x_<t) in nats for t = 1..n (h may
     * be NULL) and *rate = its limit t -> inf (rate may be NULL). Allocates;
     * not for the hot path. 0 or an error. */
    int (*entropy)(double *h, int n, double *rate, const TaskConfig *cfg);
    /* The settings this task reads (NULL-terminated; optional). */
    const TaskSetting *const *settings;
    /* (optional) Check the settings together with the rest of cfg (alphabet,
     * lengths), beyond each setting's own range (checked before from the
     * table): 0, or -1 with an error via core_errorf that starts with the
     * config key at fault, "task.<key>: ...". */
    int (*check)(const TaskConfig *cfg);
    /* (optional) One line describing the source for `posenc eval`'s header
     * (e.g. markov: "order-2 chain, 3 successors per context, table seed 1"). */
    void (*describe)(const TaskConfig *cfg, char *buf, size_t n);
    /* A fixed alphabet (text: the 256 byte values), or 0: task.alphabet. A
     * config that leaves task.alphabet out gets it (run/config.c); another
     * value is an error. */
    int alphabet;
    /* (optional) Evaluation's x, drawn from held-out data (NULL: sample_x). */
    void (*sample_eval_x)(int *x, int n, const TaskConfig *cfg, Rng *rng);
    /* (optional) A task over a file: read and check it, once per process
     * (again only for another file), and record what identifies it in cfg's
     * settings if they are empty, else refuse a file that differs from what
     * they record. 0, or an error starting with the key at fault
     * ("task.file: ..."). Call it through task_open. */
    int (*open)(TaskConfig *cfg);
    /* (with open) The longest x the opened file holds for training (eval = 0)
     * or evaluation (eval = 1); 0 if cfg's file is not open. The batch
     * samplers refuse a batch it has no room for. */
    long (*room)(const TaskConfig *cfg, int eval);
    /* (with open) The text settings open fills in when they are "" (the file's
     * hash), NULL-terminated: a config that leaves one "" matches a run that
     * recorded a value (run/inspect.h run_config_diff). */
    const TaskSetting *const *recorded;
    /* (with open, optional) Whether the opened file has an example with an
     * input of n tokens (x NULL), or the input x itself (x of n tokens): a
     * task whose answers come from its file knows them for its inputs only.
     * 0 if cfg's file is not open. With it, task_open checks that some
     * training length and each evaluation length have examples (room only
     * bounds them), the batch samplers refuse a length it lacks, and
     * task_open_problem an x it does not hold. */
    int (*holds)(const TaskConfig *cfg, const int *x, int n);
    /* (with holds) Draw a training length: the one draw of n of a training
     * row (instead of min_len + rng_below(max_len - min_len + 1)), among
     * the lengths of [min_len, max_len] that cfg's file has. */
    int (*sample_len)(const TaskConfig *cfg, Rng *rng);
    /* (with open, optional) The names of the symbols 0..A-1 when cfg's open
     * file gives its tokens as strings (a user's problem is read, and tokens
     * are printed, by these names), else NULL. */
    const char *const *(*symbols)(const TaskConfig *cfg);
} TaskOps;

/* The settings of the tasks over a file (text, jsonl): one row each, defined
 * in task_text.c and listed by every such task. task.file names the file,
 * task.file_hash records its hash when a run is prepared (TaskOps.open),
 * task.max_bytes caps its size. */
extern const TaskSetting task_file_setting, task_file_hash_setting, task_max_bytes_setting;
/* The check hook's part for them: task.file named (else an error naming the
 * task and showing `example`, e.g. "a UTF-8 text file, e.g. --set
 * task.file=corpus.txt"), task.file_hash "" or 16 lower-case hex digits. */
int task_file_check(const TaskConfig *cfg, const char *example);
/* The open hook's error when its reader refused the file (core_error()):
 * "task.file: ...", with a hint at task.max_bytes (`cap`) for a file over it. -1. */
int task_file_load_error(size_t cap);
/* The open hook's last step: record `hash` (16 hex digits) of the opened file
 * `path` in cfg's task.file_hash if it is "", else refuse a file whose hash
 * differs from the recorded one. 0 or -1 with an error. */
int task_file_record_hash(TaskConfig *cfg, const char *path, const char *hash);

/* The task called `name`, or NULL. */
const TaskOps *task_find(const char *name);
/* The valid names, comma-separated in registry order ("copy, reverse, sort"),
 * into buf (TASK_NAMES_MAX bytes hold them all). */
#define TASK_NAMES_MAX 512
void task_names(char *buf, size_t n);
int task_count(void);
/* The i-th task of the registry (0 <= i < task_count()), else NULL. */
const TaskOps *task_at(int i);

/* The distinct settings of all tasks, in registry order: slots 0..n-1. */
int task_num_settings(void);
const TaskSetting *task_setting_at(int slot);
/* The slot of the setting called `name` (without "task."), or -1. */
int task_setting_find(const char *name);
/* Whether task t reads the setting in `slot`. */
int task_uses_setting(const TaskOps *t, int slot);
/* Where the value of `slot` lives: its byte offset in TaskSettings. */
size_t task_setting_offset(int slot);
/* The value of int or seed setting s in cfg (s must be a row of a registered task). */
double task_setting(const TaskConfig *cfg, const TaskSetting *s);
/* The value of text setting s in cfg. */
const char *task_setting_text(const TaskConfig *cfg, const TaskSetting *s);
/* Set the int or seed setting called `name` (tests, tools): 0, or -1 with an
 * error for an unknown name or a text setting. */
int task_setting_set(TaskConfig *cfg, const char *name, double v);
/* Set text setting s in cfg to v (cut at TASK_SETTING_TEXT_MAX - 1 bytes). */
void task_setting_set_text(TaskConfig *cfg, const TaskSetting *s, const char *v);
/* Whether the setting in `slot` holds its default in cfg. */
int task_setting_is_default(const TaskConfig *cfg, int slot);
/* Put the setting in `slot` back to its default in cfg. */
void task_setting_reset(TaskConfig *cfg, int slot);
/* The tasks that read the setting in `slot`, "\"a\"" or "\"a\", \"b\"", into buf. */
void task_setting_readers(int slot, char *buf, size_t n);

/* Number of model input tokens for an example of length n: n + m + 2
 * (the sequence BOS x SEP y EOS has n+m+3 tokens; the model sees all but the
 * last); n in the LM frame (BOS x1..xn, all but xn). */
int task_input_len(const TaskOps *t, const TaskConfig *cfg, int n);
/* Rows of an evaluation batch: task_input_len rounded up to a multiple of
 * TASK_EVAL_ROW_ALIGN. OpenBLAS's pinned sgemm kernels compute the rows of a
 * product in tiles of 12, and a row's last bit depends on its place in its
 * tile; with every example starting on a tile boundary and filling whole
 * tiles, an example's numbers are the same whatever batch it is evaluated in
 * (eval.batch_size, the last short batch, the periodic evaluation during
 * training). The extra rows are padding, never attended to by real tokens and
 * never counted. */
#define TASK_EVAL_ROW_ALIGN 12
int task_eval_T(const TaskOps *t, const TaskConfig *cfg, int n);
/* Longest input of a training batch: task_input_len maximised over
 * n in [cfg->min_len, cfg->max_len]. Allocate training batches with this T. */
int task_max_train_input_len(const TaskOps *t, const TaskConfig *cfg);

/* Counted (loss) tokens of an example of length n: m + 1, or n in the LM frame. */
int task_counted_len(const TaskOps *t, const TaskConfig *cfg, int n);

/* The best achievable mean loss per counted token at each evaluation length:
 * floor[i] = mean over t = 1..ns[i] of H(x_t | x_<t), for tasks with an
 * entropy hook (*rate gets the entropy rate); 1 if computed, 0 if the task
 * has no entropy hook (floor untouched), -1 on error. */
int task_loss_floor(const TaskOps *t, const TaskConfig *cfg, const int *ns, int count, double *floor,
                    double *rate);

/* Open the task's file, if it reads one (TaskOps.open; nothing for the
 * others), and check that the training lengths and the evaluation lengths
 * eval_ns[0..count-1] (count 0: none) fit in its parts (TaskOps.room), or,
 * for a task with TaskOps.holds, that it has examples of each. 0, or an
 * error naming the key, the file and the sizes. */
int task_open(const TaskOps *t, TaskConfig *cfg, const int *eval_ns, int count);
/* For a problem x of n tokens given by a user (posenc predict, attention):
 * task_open without evaluation lengths, and for a task with TaskOps.holds,
 * x must be one of its file's inputs (the only ones whose answer it knows).
 * 0 (at once for a task without a file), or an error naming the file. */
int task_open_problem(const TaskOps *t, TaskConfig *cfg, const int *x, int n);

/* Defaults: copy, alphabet 10, lengths 1..16; every task setting at its default. */
void task_config_default(TaskConfig *cfg);
/* Check every field: 0, or an error whose message starts with the key path
 * ("task.alphabet: must be in 2..1000, got 1"); an unknown task name lists
 * the valid ones. Every setting's range is checked for every task (so a typo
 * never hides behind another task), then the chosen task's check hook. */
int task_config_check(const TaskConfig *cfg);

/* ---- batches ---------------------------------------------------------- */

typedef struct {
    int B, T;          /* current batch: B sequences right-padded to T */
    int cap_B, cap_T;  /* allocated capacity */
    int *inputs;   /* (B, T) tokens at positions 0..T-1: BOS x1..xn SEP y1..ym, then PAD
                      (LM frame: BOS x1..x(n-1), then PAD) */
    int *targets;  /* (B, T) next token whose prediction counts in the loss (y1..ym, EOS at the
                      input positions SEP..ym; LM frame: x1..xn at 0..n-1), -1 everywhere else
                      (prompt and padding) */
    int *pos;      /* (B, T) position ids, 0..T-1 for every row (padding continues counting) */
    int *lens;     /* (B) real input length of each row (task_input_len: n+m+2, LM n) */
    int *ns;       /* (B) problem length n of each row */
} Batch;

/* Allocate room for up to cap_B rows of up to cap_T tokens: the only
 * allocation a Batch ever does. 0, or an error for non-positive sizes. */
int batch_alloc(Batch *b, int cap_B, int cap_T);
/* Free the buffers; the Batch is zeroed (freeing twice is harmless). */
void batch_free(Batch *b);

/* Training batch: B examples, each n ~ uniform[min_len, max_len], x uniform
 * over the alphabet (or from the task's sample_x), T = longest row of this batch. No allocation. The
 * capacity is checked against the worst case, B <= cap_B and
 * task_max_train_input_len <= cap_T, so that whether a configuration fits
 * never depends on the random draw; an error otherwise (batch unchanged). */
int batch_sample_train(Batch *b, const TaskOps *t, const TaskConfig *cfg, int B, Rng *rng);
/* Evaluation batch: B examples all of length n, T = task_eval_T(t, n) (the
 * padding rows past task_input_len repeat the last real position id, so an
 * id never exceeds the real input's). Uses cfg->alphabet only. An error if n < 1 or the batch exceeds the capacity. */
int batch_sample_eval(Batch *b, const TaskOps *t, const TaskConfig *cfg, int n, int B, Rng *rng);

/* Randomized positions (Ruoss et al. 2023): replace the position ids of every
 * row b of the batch by a sorted random subset of [0, P) of lens[b] elements,
 * uniform over all such subsets (Floyd's algorithm with an in-place sorted
 * insertion: O(lens[b]^2) per row at worst, independent of P, no allocation).
 * Padding after a row's end repeats the row's last position id (a valid id;
 * padding is never attended to by real tokens and never counted). Draws
 * exactly sum over rows of lens[b] numbers from rng, each with rng_below.
 * An error (batch unchanged) if a row is longer than P. */
int batch_random_positions(Batch *b, int P, Rng *rng);

#endif
