/*
 * config.c — run configs: JSON file + --set overrides -> RunConfig (config.h).
 *
 * Every key is one row of a table (path, type, place in the struct, valid
 * range). The file and the overrides go through the same path: find the row
 * (or report the unknown key with a suggestion), type-check the JSON value and
 * store it. The loader remembers where each key was last set, so that a range
 * or consistency error found at the end names the file or "--set" that caused
 * it. The cJSON tree lives only inside one parse and is freed on one path.
 */
#include "core/dmath.h"
#include "run/config.h"

#include "core/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/alloc.h"
#include "core/error.h"
#include "model/pe.h"

#define MAX_U64_JSON 9007199254740991.0 /* 2^53 - 1: above it a JSON number cannot be told from its neighbours */
#define MAX_CONFIG_BYTES (1 << 20)
#define MAX_POSITIONS (1 << 20)

/* ---- the key table ---------------------------------------------------- */

/* T_SETTING_INT, T_SETTING_FLOAT: an encoding's or a task's setting, held as a
 * double in model.pe_set (pe.h PESettings) or task.set (task.h TaskSettings);
 * the float kind holds a float's value. T_SETTING_SEED: a task's seed setting,
 * a double holding an integer in 0..2^53. A task's text setting is a T_STRING. */
typedef enum {
    T_INT, T_U64, T_FLOAT, T_STRING, T_LENGTHS, T_BOOL, T_NAMES, T_SETTING_INT, T_SETTING_FLOAT, T_SETTING_SEED
} KeyType;

/* The encodings' settings take the rows K_SETTING .. K_SETTING + PE_MAX_SETTINGS - 1,
 * one per pe_setting_at slot, and the tasks' the rows K_TASK_SETTING ..
 * K_TASK_SETTING + TASK_MAX_SETTINGS - 1, one per task_setting_at slot (both
 * built from the registries; unused rows have no path). */
enum {
    K_NAME, K_SEED,
    K_TASK_NAME, K_TASK_ALPHABET, K_TASK_MIN_LEN, K_TASK_MAX_LEN,
    K_TASK_SETTING, K_D_MODEL = K_TASK_SETTING + TASK_MAX_SETTINGS, K_N_LAYERS, K_N_HEADS, K_D_FF, K_PE, K_MAX_POSITIONS, K_EMB_SCALE,
    K_SETTING, K_STEPS = K_SETTING + PE_MAX_SETTINGS,
    K_TRAIN_BATCH, K_LR, K_WARMUP, K_WEIGHT_DECAY, K_GRAD_CLIP, K_LOG_EVERY,
    K_EVAL_EVERY, K_CHECKPOINT_EVERY, K_THREADS, K_RANDOM_POSITIONS,
    K_EVAL_LENGTHS, K_EVAL_SAMPLES, K_EVAL_BATCH, K_EVAL_SEED, K_EVAL_POSITIONS, K_EVAL_ROPE_SCALING,
    K_EVAL_ROPE_SCALE,
    NUM_KEYS
};

typedef struct {
    const char *path;  /* "section.key", or "key" at the top level; NULL: an unused row */
    KeyType type;
    size_t offset;     /* in RunConfig */
    size_t size;       /* strings: capacity including the NUL */
    double lo, hi;     /* numbers: valid range, inclusive unless lo_open */
    int lo_open;       /* the range is (lo, hi] */
    const char *const *names; /* T_NAMES: the valid names, NULL-terminated; bit i = names[i] */
    const char *help;  /* what it means, for `posenc config --keys` and docs/CONFIG.md's table */
} Key;

static const char *const position_names[] = {"plain", "random", NULL};
/* pe_rope_scaling_name(0..PE_ROPE_SCALING_COUNT-1) (keys_init) */
static const char *scaling_names[PE_ROPE_SCALING_COUNT + 1];

const char *eval_positions_name(int mode) {
    return mode >= 0 && mode < EVAL_POS_COUNT ? position_names[mode] : NULL;
}

int eval_positions_find(const char *name) {
    for (int i = 0; i < EVAL_POS_COUNT; i++)
        if (strcmp(name, position_names[i]) == 0) return i;
    return -1;
}

#define FIELD(f) offsetof(RunConfig, f), sizeof(((RunConfig *)0)->f)
#define NOLIMIT INFINITY

static Key keys[NUM_KEYS] = {
    [K_NAME] = {"name", T_STRING, FIELD(name), 0, 0, 0, NULL,
                "run name: 1-63 characters of [A-Za-z0-9._-], not starting with `.`"},
    [K_SEED] = {"seed", T_U64, FIELD(seed), 0, MAX_U64_JSON, 0, NULL, "training seed (initialisation, batches)"},
    [K_TASK_NAME] = {"task.name", T_STRING, FIELD(task.name), 0, 0, 0, NULL, "the task"},
    [K_TASK_ALPHABET] = {"task.alphabet", T_INT, FIELD(task.alphabet), TASK_MIN_ALPHABET, TASK_MAX_ALPHABET, 0,
                         NULL, "symbols 0..A-1; vocabulary A+4 with PAD, BOS, SEP, EOS"},
    [K_TASK_MIN_LEN] = {"task.min_len", T_INT, FIELD(task.min_len), 1, TASK_MAX_TRAIN_LEN, 0, NULL,
                        "shortest training length n (at most task.max_len); lengths are uniform in [min_len, max_len]"},
    [K_TASK_MAX_LEN] = {"task.max_len", T_INT, FIELD(task.max_len), 1, TASK_MAX_TRAIN_LEN, 0, NULL,
                        "longest training length n"},
    [K_D_MODEL] = {"model.d_model", T_INT, FIELD(model.C), 1, 8192, 0, NULL, "channels C"},
    [K_N_LAYERS] = {"model.n_layers", T_INT, FIELD(model.L), 1, 256, 0, NULL, "layers L"},
    [K_N_HEADS] = {"model.n_heads", T_INT, FIELD(model.NH), 1, 8192, 0, NULL, "heads; must divide d_model"},
    [K_D_FF] = {"model.d_ff", T_INT, FIELD(model.F), 0, 65536, 0, NULL, "MLP hidden size; 0 = 4 * d_model"},
    [K_PE] = {"model.pe", T_STRING, FIELD(model.pe), 0, 0, 0, NULL, "position encoding"},
    [K_MAX_POSITIONS] = {"model.max_positions", T_INT, FIELD(model.P), 0, MAX_POSITIONS, 0, NULL,
                         "position table size P; 0 = the longest input of training and evaluation, else at least "
                         "the longest training input"},
    [K_EMB_SCALE] = {"model.emb_scale", T_FLOAT, FIELD(model.emb_scale), 0, NOLIMIT, 1, NULL,
                     "token embeddings are multiplied by this (Vaswani et al.: sqrt(d_model))"},
    [K_STEPS] = {"train.steps", T_INT, FIELD(train.steps), 1, 1e9, 0, NULL, "optimizer steps"},
    [K_TRAIN_BATCH] = {"train.batch_size", T_INT, FIELD(train.batch_size), 1, 65536, 0, NULL,
                       "sequences per step (right-padded to the longest)"},
    [K_LR] = {"train.lr", T_FLOAT, FIELD(train.lr), 0, NOLIMIT, 1, NULL,
              "peak learning rate (linear warmup, cosine decay to 10 %)"},
    [K_WARMUP] = {"train.warmup", T_INT, FIELD(train.warmup), 0, 1e9, 0, NULL, "warmup steps (at most train.steps)"},
    [K_WEIGHT_DECAY] = {"train.weight_decay", T_FLOAT, FIELD(train.weight_decay), 0, 10, 0, NULL,
                        "AdamW decoupled weight decay, on weight matrices and the token embedding only"},
    [K_GRAD_CLIP] = {"train.grad_clip", T_FLOAT, FIELD(train.grad_clip), 0, NOLIMIT, 0, NULL,
                     "global gradient-norm clip (0 = off)"},
    [K_LOG_EVERY] = {"train.log_every", T_INT, FIELD(train.log_every), 1, 1e9, 0, NULL,
                     "log the training loss every k steps"},
    [K_EVAL_EVERY] = {"train.eval_every", T_INT, FIELD(train.eval_every), 0, 1e9, 0, NULL,
                      "evaluate every k steps (0 = only at the end)"},
    [K_CHECKPOINT_EVERY] = {"train.checkpoint_every", T_INT, FIELD(train.checkpoint_every), 0, 1e9, 0, NULL,
                            "checkpoint every k steps (0 = only at the end)"},
    [K_THREADS] = {"train.threads", T_INT, FIELD(train.threads), 1, 1024, 0, NULL,
                   "threads of posenc's own pool (core/parallel.c; OpenBLAS itself stays on one thread): speed "
                   "only, results are bitwise the same for any value, so it is not written to the resolved config"},
    [K_RANDOM_POSITIONS] = {"train.random_positions", T_BOOL, FIELD(train.random_positions), 0, 1, 0, NULL,
                            "randomized positions (Ruoss et al. 2023): each training row's position ids are a "
                            "sorted random subset of [0, model.max_positions) instead of 0..T-1; any encoding"},
    [K_EVAL_LENGTHS] = {"eval.lengths", T_LENGTHS, FIELD(eval.lengths), 1, TASK_MAX_EVAL_LEN, 0, NULL,
                        "evaluation lengths, up to 64 distinct, kept in the order given; [] = max_len/2, max_len, "
                        "2x, 3x, 4x max_len"},
    [K_EVAL_SAMPLES] = {"eval.samples", T_INT, FIELD(eval.samples), 1, 1e7, 0, NULL, "examples per length"},
    [K_EVAL_BATCH] = {"eval.batch_size", T_INT, FIELD(eval.batch_size), 1, 65536, 0, NULL, "evaluation batch size"},
    [K_EVAL_SEED] = {"eval.seed", T_U64, FIELD(eval.seed), 0, MAX_U64_JSON, 0, NULL,
                     "evaluation-set seed, independent of seed"},
    [K_EVAL_POSITIONS] = {"eval.positions", T_NAMES, FIELD(eval.positions), 0, 0, 0, position_names,
                          "evaluation position ids, one evaluation per value: plain (0..T-1), random (as in "
                          "training with random positions; needs max_positions >= the longest evaluation input)"},
    [K_EVAL_ROPE_SCALING] = {"eval.rope_scaling", T_NAMES, FIELD(eval.rope_scaling), 0, 0, 0, scaling_names,
                             "RoPE scaling at evaluation, one evaluation per value (all but none need an encoding "
                             "with RoPE scaling)"},
    [K_EVAL_ROPE_SCALE] = {"eval.rope_scale", T_FLOAT, FIELD(eval.rope_scale), 0, 1e6, 0, NULL,
                           "the RoPE scale factor s; 0 = derived: longest evaluation input / longest training "
                           "input, else >= 1"},
};

/* The rows of the encodings' and the tasks' settings and the scaling names,
 * from the registries (once). */
static char setting_paths[PE_MAX_SETTINGS][64], task_setting_paths[TASK_MAX_SETTINGS][64];
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

static void build_keys(void) {
    for (int i = 0; i < PE_ROPE_SCALING_COUNT; i++) scaling_names[i] = pe_rope_scaling_name(i);
    for (int slot = 0; slot < pe_num_settings(); slot++) {
        const PESetting *s = pe_setting_at(slot);
        snprintf(setting_paths[slot], sizeof setting_paths[slot], "model.%s", s->name);
        keys[K_SETTING + slot] = (Key){setting_paths[slot],
                                       s->type == PE_SETTING_INT ? T_SETTING_INT : T_SETTING_FLOAT,
                                       offsetof(RunConfig, model.pe_set.v) + (size_t)slot * sizeof(double),
                                       sizeof(double), s->lo, s->hi, s->lo_open, NULL, s->help};
    }
    for (int slot = 0; slot < task_num_settings(); slot++) {
        const TaskSetting *s = task_setting_at(slot);
        static const KeyType type[] = {[TASK_SETTING_INT] = T_SETTING_INT, [TASK_SETTING_SEED] = T_SETTING_SEED,
                                       [TASK_SETTING_TEXT] = T_STRING};
        snprintf(task_setting_paths[slot], sizeof task_setting_paths[slot], "task.%s", s->name);
        keys[K_TASK_SETTING + slot] =
            (Key){task_setting_paths[slot], type[s->type],
                  offsetof(RunConfig, task.set) + task_setting_offset(slot),
                  s->type == TASK_SETTING_TEXT ? TASK_SETTING_TEXT_MAX : sizeof(double),
                  s->type == TASK_SETTING_SEED ? 0 : s->lo, s->type == TASK_SETTING_SEED ? MAX_U64_JSON : s->hi, 0,
                  NULL, s->help};
    }
}

/* Whether key k is a task's setting; its slot in *slot. */
static int task_setting_key(int k, int *slot) {
    if (k < K_TASK_SETTING || k >= K_TASK_SETTING + TASK_MAX_SETTINGS || !keys[k].path) return 0;
    *slot = k - K_TASK_SETTING;
    return 1;
}

static void keys_init(void) { pthread_once(&keys_once, build_keys); }

static const char *const sections[] = {"task", "model", "train", "eval"};
#define NUM_SECTIONS ((int)(sizeof sections / sizeof sections[0]))

static void *field(RunConfig *c, int k) { return (char *)c + keys[k].offset; }
static const void *cfield(const RunConfig *c, int k) {
    return (const char *)c + keys[k].offset;
}

/* The last component of a path: "model.d_model" -> "d_model". */
static const char *leaf(const char *path) {
    const char *dot = strchr(path, '.');
    return dot ? dot + 1 : path;
}

/* Does `path` lie directly in `section` ("" = the top level)? */
static int in_section(const char *path, const char *section) {
    const char *dot = strchr(path, '.');
    if (!*section) return dot == NULL;
    size_t n = strlen(section);
    return dot && (size_t)(dot - path) == n && strncmp(path, section, n) == 0;
}

static int is_section(const char *name) {
    for (int i = 0; i < NUM_SECTIONS; i++)
        if (strcmp(sections[i], name) == 0) return 1;
    return 0;
}

/* The key at `section`.`name`, or -1. */
static int find_key(const char *section, const char *name) {
    for (int k = 0; k < NUM_KEYS; k++)
        if (keys[k].path && in_section(keys[k].path, section) && strcmp(leaf(keys[k].path), name) == 0) return k;
    return -1;
}

/* ---- the loader: where each key was last set -------------------------- */

typedef struct {
    RunConfig *c;
    const char *origin[NUM_KEYS]; /* name of the source that last set the key */
    int rank[NUM_KEYS];           /* 0 = default, then increasing with each source */
    int job; /* one job of a sweep: other encodings' and tasks' settings go back to their defaults */
} Loader;

static void loader_init(Loader *ld, RunConfig *c, const char *origin) {
    keys_init();
    ld->c = c;
    ld->job = 0;
    for (int k = 0; k < NUM_KEYS; k++) {
        ld->origin[k] = origin;
        ld->rank[k] = 0;
    }
}

/* The origin of whichever of the keys (a list ending in -1) was set last: the
 * source that made a consistency check fail. */
static const char *latest(const Loader *ld, int k, ...) {
    va_list ap;
    va_start(ap, k);
    int best = k;
    for (int j = va_arg(ap, int); j >= 0; j = va_arg(ap, int))
        if (ld->rank[j] > ld->rank[best]) best = j;
    va_end(ap);
    return ld->origin[best];
}

/* Record "<origin>: <path>: <message>" and return -1. */
static int fail(const char *origin, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(const char *origin, const char *path, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return core_errorf("%s: %s: %s", origin, path, msg);
}

/* ---- unknown keys: the closest valid one ------------------------------- */

/* Optimal-string-alignment distance (Levenshtein plus adjacent swaps),
 * case-insensitive; names are short, longer ones are cut at 63 chars. */
static int edit_distance(const char *a, const char *b) {
    enum { M = 64 };
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > M - 1) la = M - 1;
    if (lb > M - 1) lb = M - 1;
    int d[M][M];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                cb == tolower((unsigned char)a[i - 2]) && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

/* The error for an unknown key `name` inside `section` ("" = top level):
 * suggest the same key in another section ("model.lr" -> "train.lr"), else
 * the closest valid key of that section, else list the valid keys. */
static int unknown_key(const char *origin, const char *section, const char *name) {
    char path[160];
    snprintf(path, sizeof path, "%s%s%.100s", section, *section ? "." : "", name);
    const char *cand[NUM_KEYS + NUM_SECTIONS];
    int nc = 0;
    for (int k = 0; k < NUM_KEYS; k++)
        if (keys[k].path && in_section(keys[k].path, section)) cand[nc++] = leaf(keys[k].path);
    if (!*section)
        for (int i = 0; i < NUM_SECTIONS; i++) cand[nc++] = sections[i];

    for (int k = 0; k < NUM_KEYS; k++) /* the right key in the wrong section */
        if (keys[k].path && strcmp(leaf(keys[k].path), name) == 0)
            return fail(origin, path, "unknown key (did you mean \"%s\"?)", keys[k].path);
    const char *best = NULL;
    int best_d = 1 << 30;
    for (int i = 0; i < nc; i++) {
        int d = edit_distance(name, cand[i]);
        if (d < best_d) best_d = d, best = cand[i];
    }
    int limit = ((int)strlen(name) + 2) / 3; /* 1 for "sed", 3 for "d_modle" */
    if (best && best_d <= limit)
        return fail(origin, path, "unknown key (did you mean \"%s\"?)", best);
    char list[1024] = "";
    for (int i = 0; i < nc; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", cand[i]);
    return fail(origin, path, "unknown key (valid keys%s%s: %s)", *section ? " of " : "",
                section, list);
}

/* ---- storing one JSON value ------------------------------------------- */

static const char *json_type(const cJSON *v) {
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsObject(v)) return "object";
    return "invalid value";
}

/* "got string \"abc\"", "got 2.5", "got array", ... for type errors. */
static const char *describe(const cJSON *v, char *buf, size_t n) {
    if (cJSON_IsString(v))
        snprintf(buf, n, "string \"%.60s\"", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, n, "%.15g", v->valuedouble);
    else
        snprintf(buf, n, "%s", json_type(v));
    return buf;
}

/* Whether s holds a byte below 0x20 (a NUL from "\u0000" shows as json_mark_nul's 0x01). */
static int has_control(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) return 1;
    return 0;
}

/* A JSON number with an integral value within [lo, hi], into *out. */
static int get_integer(const cJSON *v, double lo, double hi, double *out, const char *origin,
                       const char *path) {
    char d[96];
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return fail(origin, path, "expected an integer, got %s", describe(v, d, sizeof d));
    if (v->valuedouble < lo || v->valuedouble > hi)
        return fail(origin, path, "out of range: must be in %.0f..%.0f, got %.15g", lo, hi,
                    v->valuedouble);
    *out = v->valuedouble;
    return 0;
}

static int set_value(Loader *ld, int k, const cJSON *v, const char *origin, int rank) {
    const Key *key = &keys[k];
    void *dst = field(ld->c, k);
    char d[96];
    double x;
    switch (key->type) {
    case T_INT:
        /* any int is stored here; the key's own range is checked at the end */
        if (get_integer(v, -2147483648.0, 2147483647.0, &x, origin, key->path)) return -1;
        *(int *)dst = (int)x;
        break;
    case T_U64:
        if (get_integer(v, key->lo, key->hi, &x, origin, key->path)) return -1;
        *(uint64_t *)dst = (uint64_t)x;
        break;
    case T_SETTING_INT:
        if (get_integer(v, -2147483648.0, 2147483647.0, &x, origin, key->path)) return -1;
        *(double *)dst = x;
        break;
    case T_SETTING_SEED:
        if (get_integer(v, key->lo, key->hi, &x, origin, key->path)) return -1;
        *(double *)dst = x;
        break;
    case T_FLOAT:
    case T_SETTING_FLOAT:
        if (!cJSON_IsNumber(v))
            return fail(origin, key->path, "expected a number, got %s", describe(v, d, sizeof d));
        if (!isfinite((float)v->valuedouble))
            return fail(origin, key->path, "%g is out of range for a 32-bit float",
                        v->valuedouble);
        if (key->type == T_FLOAT)
            *(float *)dst = (float)v->valuedouble;
        else
            *(double *)dst = (float)v->valuedouble;
        break;
    case T_STRING:
        if (!cJSON_IsString(v))
            return fail(origin, key->path, "expected a string, got %s", describe(v, d, sizeof d));
        if (has_control(v->valuestring))
            return fail(origin, key->path, "holds a control character (a NUL, a newline...): not a name");
        if (strlen(v->valuestring) >= key->size)
            return fail(origin, key->path, "\"%.40s...\" is too long (at most %zu characters)",
                        v->valuestring, key->size - 1);
        memset(dst, 0, key->size);
        memcpy(dst, v->valuestring, strlen(v->valuestring));
        break;
    case T_LENGTHS: {
        if (!cJSON_IsArray(v))
            return fail(origin, key->path, "expected an array of integers, got %s",
                        describe(v, d, sizeof d));
        int n = cJSON_GetArraySize(v);
        if (n > EVAL_MAX_LENGTHS)
            return fail(origin, key->path, "at most %d lengths, got %d", EVAL_MAX_LENGTHS, n);
        EvalConfig *e = &ld->c->eval;
        memset(e->lengths, 0, sizeof e->lengths);
        int i = 0;
        for (const cJSON *item = v->child; item; item = item->next, i++) {
            char path[64];
            snprintf(path, sizeof path, "%s[%d]", key->path, i);
            if (get_integer(item, -2147483648.0, 2147483647.0, &x, origin, path)) return -1;
            e->lengths[i] = (int)x;
        }
        e->num_lengths = n;
        break;
    }
    case T_BOOL:
        if (!cJSON_IsBool(v))
            return fail(origin, key->path, "expected true or false, got %s", describe(v, d, sizeof d));
        *(int *)dst = cJSON_IsTrue(v);
        break;
    case T_NAMES: {
        /* an array of names, or one string of comma-separated names */
        char valid[256] = "";
        for (int i = 0; key->names[i]; i++)
            snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s%s", i ? ", " : "", key->names[i]);
        char text[512] = "";
        if (cJSON_IsString(v)) {
            snprintf(text, sizeof text, "%s", v->valuestring);
        } else if (cJSON_IsArray(v)) {
            for (const cJSON *item = v->child; item; item = item->next) {
                if (!cJSON_IsString(item))
                    return fail(origin, key->path, "expected names (%s), got %s", valid,
                                describe(item, d, sizeof d));
                if (strchr(item->valuestring, ','))
                    return fail(origin, key->path, "unknown value \"%.60s\" (valid: %s)", item->valuestring, valid);
                snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", text[0] ? "," : "",
                         item->valuestring);
            }
        } else {
            return fail(origin, key->path, "expected an array of names (%s), got %s", valid,
                        describe(v, d, sizeof d));
        }
        if (has_control(text))
            return fail(origin, key->path, "holds a control character (a NUL, a newline...): not a name");
        unsigned mask = 0;
        for (char *rest = text[0] ? text : NULL, *tok; (tok = rest);) {
            char *comma = strchr(tok, ',');
            rest = comma ? comma + 1 : NULL;
            if (comma) *comma = '\0';
            while (*tok == ' ') tok++;
            if (!*tok) return fail(origin, key->path, "an empty item in the list (valid: %s)", valid);
            for (char *e = tok + strlen(tok); e > tok && e[-1] == ' ';) *--e = '\0';
            int i = 0;
            while (key->names[i] && strcmp(key->names[i], tok) != 0) i++;
            if (!key->names[i])
                return fail(origin, key->path, "unknown value \"%.60s\" (valid: %s)", tok, valid);
            mask |= 1u << i;
        }
        if (!mask) return fail(origin, key->path, "needs at least one of: %s", valid);
        *(unsigned *)dst = mask;
        break;
    }
    }
    ld->origin[k] = origin;
    ld->rank[k] = rank;
    return 0;
}

/* Apply every member of a JSON object found at `section` ("" = top level). */
static int apply_object(Loader *ld, const char *section, const cJSON *obj, const char *origin,
                        int rank) {
    for (const cJSON *m = obj->child; m; m = m->next) {
        const char *name = m->string;
        for (const cJSON *p = obj->child; p != m; p = p->next)
            if (strcmp(p->string, name) == 0) {
                char path[160];
                snprintf(path, sizeof path, "%s%s%.100s", section, *section ? "." : "", name);
                return fail(origin, path, "duplicate key");
            }
        if (!*section && is_section(name)) {
            if (!cJSON_IsObject(m)) {
                char d[96];
                return fail(origin, name, "expected an object, got %s", describe(m, d, sizeof d));
            }
            if (apply_object(ld, name, m, origin, rank)) return -1;
            continue;
        }
        int k = find_key(section, name);
        if (k < 0) return unknown_key(origin, section, name);
        if (set_value(ld, k, m, origin, rank)) return -1;
    }
    return 0;
}

/* cJSON ends a string at "\u0000", so a NUL inside a string would cut it
 * silently ("copy\u0000evil" would read as "copy"). Parse a copy in which
 * every \u0000 escape is \u0001 instead: has_control then refuses the value
 * naming its key. *end (optional) points into text as cJSON_ParseWithOpts's. */
static cJSON *parse_json(const char *text, const char **end) {
    char *copy = core_strdup(text);
    for (char *p = copy; *p; p++)
        if (*p == '\\' && p[1]) {
            if (p[1] == 'u' && strncmp(p + 2, "0000", 4) == 0) p[5] = '1';
            p++; /* the escaped character: "\\\\u0000" is no escape of a NUL */
        }
    const char *e = NULL;
    cJSON *j = cJSON_ParseWithOpts(copy, &e, 1);
    if (end) *end = e ? text + (e - copy) : NULL;
    free(copy);
    return j;
}

/* Parse the whole text as one JSON value, or NULL. */
static cJSON *parse_exact(const char *text) { return parse_json(text, NULL); }

/* One override "key=value". */
static int apply_set(Loader *ld, const char *assignment, const char *origin, int rank) {
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return core_errorf("%s: \"%s\": expected key=value (e.g. train.lr=3e-4)", origin,
                         assignment);
    char path[128];
    size_t plen = (size_t)(eq - assignment);
    if (plen == 0 || plen >= sizeof path)
        return core_errorf("%s: \"%s\": expected key=value with a key of 1-%d characters", origin,
                         assignment, (int)sizeof path - 1);
    memcpy(path, assignment, plen);
    path[plen] = '\0';
    const char *value = eq + 1;

    /* the key: "section.key", "key", or a whole section */
    char section[128] = "";
    const char *name = path;
    char *dot = strchr(path, '.');
    if (dot) {
        *dot = '\0';
        strcpy(section, path);
        name = dot + 1;
        if (!is_section(section)) return unknown_key(origin, "", section);
    }
    int k = find_key(section, name);
    int whole_section = !dot && is_section(name);
    if (k < 0 && !whole_section) return unknown_key(origin, section, name);

    /* the value: JSON if it is JSON; strings as they are; bare lists */
    cJSON *v = parse_exact(value);
    if (k >= 0 && keys[k].type == T_STRING && !cJSON_IsString(v)) {
        cJSON_Delete(v);
        v = cJSON_CreateString(value);
    } else if (k >= 0 && keys[k].type == T_LENGTHS && !cJSON_IsArray(v)) {
        size_t n = strlen(value) + 3;
        char *list = core_calloc(n, 1);
        snprintf(list, n, "[%s]", value);
        cJSON *a = parse_exact(list);
        free(list);
        if (a) {
            cJSON_Delete(v);
            v = a;
        }
    }
    if (!v) v = cJSON_CreateString(value); /* not JSON: a string (for the type error) */

    int rc;
    if (whole_section) {
        char d[96];
        rc = cJSON_IsObject(v) ? apply_object(ld, name, v, origin, rank)
                               : fail(origin, name, "expected an object, got %s",
                                      describe(v, d, sizeof d));
    } else {
        rc = set_value(ld, k, v, origin, rank);
    }
    cJSON_Delete(v);
    return rc;
}

/* ---- derived values and checks ---------------------------------------- */

int config_auto_eval_lengths(int max_len, int *lengths) {
    const int cand[5] = {max_len / 2, max_len, 2 * max_len, 3 * max_len, 4 * max_len};
    int n = 0;
    for (int i = 0; i < 5; i++) {
        int v = cand[i] < 1 ? 1 : cand[i];
        if (n == 0 || v > lengths[n - 1]) lengths[n++] = v; /* ascending: dedup = skip equal */
    }
    return n;
}

/* The single-key range of key k, from the table. */
static int check_range(const Loader *ld, int k) {
    const Key *key = &keys[k];
    double v;
    if (!key->path) return 0;
    if (key->type == T_INT)
        v = *(const int *)cfield(ld->c, k);
    else if (key->type == T_FLOAT)
        v = *(const float *)cfield(ld->c, k);
    else if (key->type == T_SETTING_INT || key->type == T_SETTING_FLOAT)
        v = *(const double *)cfield(ld->c, k);
    else
        return 0;
    int ok = (key->lo_open ? v > key->lo : v >= key->lo) && v <= key->hi;
    if (ok) return 0;
    const char *o = ld->origin[k];
    if (key->type == T_INT || key->type == T_SETTING_INT) { /* "in lo..hi", but only ">= lo" for the practically unbounded */
        if (key->hi >= 1e9 && v < key->lo)
            return fail(o, key->path, "must be >= %.0f, got %.0f", key->lo, v);
        return fail(o, key->path, "must be in %.0f..%.0f, got %.0f", key->lo, key->hi, v);
    }
    const char *op = key->lo_open ? ">" : ">=";
    if (isinf(key->hi)) return fail(o, key->path, "must be %s %g, got %g", op, key->lo, v);
    return fail(o, key->path, "must be %s %g and <= %g, got %g", op, key->lo, key->hi, v);
}

static int check_name(const Loader *ld) {
    const char *s = ld->c->name, *o = ld->origin[K_NAME];
    if (!*s) return fail(o, "name", "must not be empty");
    if (s[0] == '.') return fail(o, "name", "\"%s\" must not start with '.'", s);
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return fail(o, "name", "\"%s\": only letters, digits, '.', '_' and '-' are allowed",
                        s);
    return 0;
}

/* Map a task_config_check message ("task.<key>: ...") to the key's origin. */
static const char *task_error_origin(const Loader *ld, const char *msg) {
    for (int k = K_TASK_NAME, slot; k < K_TASK_SETTING + TASK_MAX_SETTINGS; k++) {
        if (!keys[k].path) continue;
        size_t n = strlen(keys[k].path);
        if (strncmp(msg, keys[k].path, n) == 0 && msg[n] == ':')
            return k == K_TASK_MAX_LEN ? latest(ld, K_TASK_MAX_LEN, K_TASK_MIN_LEN, -1)
                   : task_setting_key(k, &slot) ? latest(ld, k, K_TASK_ALPHABET, K_TASK_NAME, -1)
                                                : ld->origin[k];
    }
    return latest(ld, K_TASK_NAME, K_TASK_ALPHABET, K_TASK_MIN_LEN, K_TASK_MAX_LEN, -1);
}

/* pe_check of the chosen encoding (each of its settings' range, then its
 * check hook). Its error starts with the key at fault, "model.<key>: ";
 * the origin is that of the last set among that key and what the check
 * reads: the encoding, the model's shape, the position count. */
static int check_encoding(Loader *ld) {
    const GPTConfig *m = &ld->c->model;
    const PEConfig pc = gpt_pe_config(m);
    if (pe_check(pe_find(m->pe), &pc) == 0) return 0;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", core_error());
    int k = K_PE;
    const char *colon = strstr(msg, ": ");
    if (colon) {
        char path[64];
        snprintf(path, sizeof path, "%.*s", (int)(colon - msg), msg);
        const char *dot = strchr(path, '.');
        if (dot) {
            char section[32];
            snprintf(section, sizeof section, "%.*s", (int)(dot - path), path);
            int f = find_key(section, dot + 1);
            if (f >= 0) k = f;
        }
    }
    const PEOps *ops = pe_find(m->pe);
    int best = k;
    const int read[] = {K_PE, K_D_MODEL, K_N_HEADS, K_MAX_POSITIONS, K_EVAL_LENGTHS, K_TASK_MAX_LEN};
    for (size_t i = 0; i < sizeof read / sizeof read[0]; i++)
        if (ld->rank[read[i]] > ld->rank[best]) best = read[i];
    for (int slot = 0; slot < pe_num_settings(); slot++)
        if (pe_uses_setting(ops, slot) && ld->rank[K_SETTING + slot] > ld->rank[best]) best = K_SETTING + slot;
    const char *origin = ld->origin[best];
    return core_errorf("%s: %s", origin, msg);
}

static int resolve_check(Loader *ld) {
    RunConfig *c = ld->c;
    GPTConfig *m = &c->model;
    for (int k = 0; k < NUM_KEYS; k++)
        if (check_range(ld, k)) return -1;
    if (check_name(ld)) return -1;

    /* task: a task with a fixed alphabet (text: bytes) gets it unless the config sets task.alphabet */
    const TaskOps *named = task_find(c->task.name);
    if (named && named->alphabet && ld->rank[K_TASK_ALPHABET] == 0) c->task.alphabet = named->alphabet;
    if (task_config_check(&c->task)) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", core_error());
        return core_errorf("%s: %s", task_error_origin(ld, msg), msg);
    }
    const TaskOps *task = task_find(c->task.name);
    m->V = task_vocab(c->task.alphabet);
    /* a task's settings belong to the tasks that read them: config.json of
     * another task leaves them out, so a value other than the default would
     * be lost on reloading (the defaults themselves may be written, e.g. by a
     * sweep whose grid varies task.name) */
    for (int slot = 0; slot < task_num_settings(); slot++) {
        if (task_uses_setting(task, slot) || task_setting_is_default(&c->task, slot)) continue;
        if (ld->job) {
            task_setting_reset(&c->task, slot);
            continue;
        }
        char readers[256];
        task_setting_readers(slot, readers, sizeof readers);
        const int k = K_TASK_SETTING + slot;
        return fail(latest(ld, k, K_TASK_NAME, -1), keys[k].path, "applies only to task.name %s (task.name is \"%s\")",
                    readers, c->task.name);
    }

    /* model */
    if (m->C % m->NH != 0)
        return fail(latest(ld, K_N_HEADS, K_D_MODEL, -1), "model.n_heads",
                    "%d does not divide model.d_model (%d)", m->NH, m->C);
    if (!pe_find(m->pe)) {
        char names[PE_NAMES_MAX];
        pe_names(names, sizeof names);
        return fail(ld->origin[K_PE], "model.pe", "unknown position encoding \"%s\" (valid: %s)", m->pe, names);
    }
    /* an encoding's settings belong to the encodings that read them, as a
     * task's do (config.json holds every encoding's, at its default where
     * the encoding does not read it) */
    {
        const PEOps *ops = pe_find(m->pe);
        PESettings def;
        pe_settings_default(&def);
        for (int slot = 0; slot < pe_num_settings(); slot++) {
            if (pe_uses_setting(ops, slot) || m->pe_set.v[slot] == def.v[slot]) continue;
            if (ld->job) {
                m->pe_set.v[slot] = def.v[slot];
                continue;
            }
            char readers[256];
            pe_setting_readers(slot, readers, sizeof readers);
            const int k = K_SETTING + slot;
            return fail(latest(ld, k, K_PE, -1), keys[k].path, "applies only to model.pe %s (model.pe is \"%s\")",
                        readers, m->pe);
        }
    }
    if (m->F == 0) m->F = 4 * m->C;

    /* evaluation lengths */
    EvalConfig *e = &c->eval;
    if (e->num_lengths == 0) {
        e->num_lengths = config_auto_eval_lengths(c->task.max_len, e->lengths);
        ld->origin[K_EVAL_LENGTHS] = ld->origin[K_TASK_MAX_LEN];
    }
    for (int i = 0; i < e->num_lengths; i++) {
        char path[64];
        snprintf(path, sizeof path, "eval.lengths[%d]", i);
        if (e->lengths[i] < 1 || e->lengths[i] > TASK_MAX_EVAL_LEN)
            return fail(ld->origin[K_EVAL_LENGTHS], path, "must be in 1..%d, got %d",
                        TASK_MAX_EVAL_LEN, e->lengths[i]);
        for (int j = 0; j < i; j++)
            if (e->lengths[j] == e->lengths[i])
                return fail(ld->origin[K_EVAL_LENGTHS], path, "%d is listed twice",
                            e->lengths[i]);
    }

    /* positions: the longest sequence of training and evaluation */
    int train_T = task_max_train_input_len(task, &c->task), longest = train_T;
    for (int i = 0; i < e->num_lengths; i++) {
        int len = task_input_len(task, &c->task, e->lengths[i]);
        if (len > longest) longest = len;
    }
    if (m->P == 0) {
        if (longest > MAX_POSITIONS)
            return fail(latest(ld, K_EVAL_LENGTHS, K_TASK_MAX_LEN, -1), "model.max_positions",
                        "the longest sequence (%d tokens) exceeds %d", longest, MAX_POSITIONS);
        m->P = longest;
    } else if (m->P < train_T) {
        return fail(latest(ld, K_MAX_POSITIONS, K_TASK_MAX_LEN, K_TASK_NAME, -1),
                    "model.max_positions",
                    "%d is shorter than the longest training input (%d tokens at task.max_len "
                    "%d)",
                    m->P, train_T, c->task.max_len);
    }

    /* evaluation variants */
    if (e->rope_scale != 0.0f && e->rope_scale < 1.0f)
        return fail(ld->origin[K_EVAL_ROPE_SCALE], "eval.rope_scale",
                    "must be 0 (derived: longest evaluation input / longest training input) or >= 1, got %g",
                    e->rope_scale);
    if ((e->rope_scaling & ~(1u << PE_ROPE_SCALING_NONE)) && !pe_has(m->pe, PE_SCALABLE)) {
        int i = 1;
        while (!(e->rope_scaling & (1u << i))) i++;
        char with[256];
        pe_names_with(PE_SCALABLE, with, sizeof with);
        return fail(latest(ld, K_EVAL_ROPE_SCALING, K_PE, -1), "eval.rope_scaling",
                    "%s rescales RoPE and needs model.pe %s, but the encoding is %s (use [\"%s\"])",
                    scaling_names[i], with, m->pe, scaling_names[PE_ROPE_SCALING_NONE]);
    }
    if ((e->positions & (1u << EVAL_POS_RANDOM)) && longest > m->P)
        return fail(latest(ld, K_EVAL_POSITIONS, K_MAX_POSITIONS, K_EVAL_LENGTHS, -1), "eval.positions",
                    "random positions draw from [0, model.max_positions = %d), which cannot hold the longest "
                    "evaluation input (%d tokens); raise model.max_positions or shorten eval.lengths",
                    m->P, longest);

    /* the encoding's own checks (its settings with the model's shape, P resolved) */
    if (check_encoding(ld)) return -1;

    /* training */
    if (c->train.warmup > c->train.steps)
        return fail(latest(ld, K_WARMUP, K_STEPS, -1), "train.warmup",
                    "%d is more than train.steps (%d)", c->train.warmup, c->train.steps);
    return 0;
}

/* ---- public ------------------------------------------------------------ */

void config_default(RunConfig *c) {
    memset(c, 0, sizeof *c);
    strcpy(c->name, "run");
    c->seed = 1;
    task_config_default(&c->task);

    GPTConfig *m = &c->model;
    gpt_config_default(m); /* the model's and every encoding's defaults (pe_config_default) */
    m->V = task_vocab(c->task.alphabet);
    m->F = 0; /* auto: 4*C */
    m->P = 0; /* auto: the longest sequence */

    TrainConfig *t = &c->train;
    t->steps = 2000;
    t->batch_size = 64;
    t->lr = 1e-3f;
    t->warmup = 100;
    t->weight_decay = 0.1f;
    t->grad_clip = 1.0f;
    t->log_every = 50;
    t->eval_every = 500;
    t->checkpoint_every = 500;
    t->threads = 1;

    EvalConfig *e = &c->eval;
    e->num_lengths = 0; /* auto */
    e->samples = 256;
    e->batch_size = 64;
    e->seed = 1234;
    e->positions = 1u << EVAL_POS_PLAIN;
    e->rope_scaling = 1u << PE_ROPE_SCALING_NONE;
    e->rope_scale = 0.0f; /* derived */
}

/* Line and column (1-based) of offset `at` in text. */
static void line_col(const char *text, const char *at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int load_string(RunConfig *c, const char *json, const char *origin, const char *const *sets, int nsets,
                       int job) {
    if (!origin) origin = "config";
    config_default(c);
    Loader ld;
    loader_init(&ld, c, origin);
    ld.job = job;
    if (json) {
        const char *end = NULL;
        cJSON *root = parse_json(json, &end);
        if (!root) {
            const char *p = json;
            while (isspace((unsigned char)*p)) p++;
            if (!*p) return core_errorf("%s: empty: expected a JSON object", origin);
            if (!end) end = json;
            int line, col;
            line_col(json, end, &line, &col);
            /* context: up to 12 characters either side, within the line */
            const char *from = end;
            while (from > json && end - from < 12 && from[-1] != '\n' && from[-1] != '\r')
                from--;
            char near[32];
            int n = 0;
            for (const char *q = from; *q && *q != '\n' && *q != '\r' && q < end + 12; q++)
                near[n++] = *q;
            near[n] = '\0';
            return core_errorf("%s: invalid JSON at line %d, column %d (near \"%s\")", origin, line,
                             col, n ? near : "end of input");
        }
        int rc;
        if (!cJSON_IsObject(root)) {
            char d[96];
            rc = core_errorf("%s: expected a JSON object at the top level, got %s", origin,
                           describe(root, d, sizeof d));
        } else {
            rc = apply_object(&ld, "", root, origin, 1);
        }
        cJSON_Delete(root);
        if (rc) return rc;
    }
    for (int i = 0; i < nsets; i++)
        if (apply_set(&ld, sets[i], "--set", 2 + i)) return -1;
    return resolve_check(&ld);
}

int config_from_string(RunConfig *c, const char *json, const char *origin,
                       const char *const *sets, int nsets) {
    return load_string(c, json, origin, sets, nsets, 0);
}

int config_for_job(RunConfig *c, const char *json, const char *origin, const char *const *sets, int nsets) {
    return load_string(c, json, origin, sets, nsets, 1);
}

int config_load(RunConfig *c, const char *path, const char *const *sets, int nsets) {
    if (!path) return config_from_string(c, NULL, NULL, sets, nsets);
    size_t n = 0;
    char *text = file_read_capped(path, MAX_CONFIG_BYTES, &n); /* a regular file only, size-capped */
    if (!text) return -1;
    int rc;
    if (memchr(text, '\0', n))
        rc = core_errorf("%s: contains a NUL byte: not a JSON config file", path);
    else
        rc = config_from_string(c, text, path, sets, nsets);
    free(text);
    return rc;
}

int config_apply_set(RunConfig *c, const char *assignment) {
    Loader ld;
    loader_init(&ld, c, "--set");
    return apply_set(&ld, assignment, "--set", 1);
}

int config_resolve_check(RunConfig *c, const char *origin) {
    Loader ld;
    loader_init(&ld, c, origin ? origin : "config");
    return resolve_check(&ld);
}

/* ---- writing ------------------------------------------------------------ */

/* Numbers are written as raw text: cJSON prints doubles with 15 significant
 * digits and calls a 2^53 seed equal to a neighbour 2 away. */

/* The shortest decimal that reads back as the same float (so that 1e-3f is
 * written 0.001, not 0.0010000000474974513). */
static void float_text(float f, char *buf, size_t n) {
    if (f == truncf(f) && fabsf(f) < 1e15f) { /* 10000, not 1e+04 */
        snprintf(buf, n, "%.0f", (double)f);
        return;
    }
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, n, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f) break;
    }
}

static cJSON *float_number(float f) {
    char buf[48];
    float_text(f, buf, sizeof buf);
    return cJSON_CreateRaw(buf);
}

static cJSON *u64_number(uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(buf);
}

static char *config_json(const RunConfig *c, int with_threads) {
    cJSON *root = cJSON_CreateObject();
    keys_init();
    for (int k = 0; k < NUM_KEYS; k++) {
        const Key *key = &keys[k];
        if (!key->path) continue;
        int slot;
        if (task_setting_key(k, &slot) && !task_uses_setting(task_find(c->task.name), slot)) continue;
        if (k == K_THREADS && !with_threads) continue;
        cJSON *parent = root;
        const char *dot = strchr(key->path, '.');
        if (dot) {
            char section[32];
            snprintf(section, sizeof section, "%.*s", (int)(dot - key->path), key->path);
            parent = cJSON_GetObjectItemCaseSensitive(root, section);
            if (!parent) parent = cJSON_AddObjectToObject(root, section);
        }
        const void *src = cfield(c, k);
        cJSON *v = NULL;
        switch (key->type) {
        case T_INT: v = cJSON_CreateNumber(*(const int *)src); break;
        case T_U64: v = u64_number(*(const uint64_t *)src); break;
        case T_FLOAT: v = float_number(*(const float *)src); break;
        case T_SETTING_INT: v = cJSON_CreateNumber(*(const double *)src); break;
        case T_SETTING_SEED: v = u64_number((uint64_t)*(const double *)src); break;
        case T_SETTING_FLOAT: v = float_number((float)*(const double *)src); break;
        case T_STRING: {
            char s[128];
            snprintf(s, sizeof s, "%.*s", (int)key->size, (const char *)src);
            v = cJSON_CreateString(s);
            break;
        }
        case T_LENGTHS:
            v = cJSON_CreateIntArray(c->eval.lengths, c->eval.num_lengths);
            break;
        case T_BOOL: v = cJSON_CreateBool(*(const int *)src); break;
        case T_NAMES: {
            v = cJSON_CreateArray();
            for (int i = 0; key->names[i]; i++)
                if (*(const unsigned *)src & (1u << i)) cJSON_AddItemToArray(v, cJSON_CreateString(key->names[i]));
            break;
        }
        }
        cJSON_AddItemToObject(parent, leaf(key->path), v);
    }
    char *raw = cJSON_Print(root);
    cJSON_Delete(root);
    if (!raw) return NULL;

    /* cJSON indents with tabs and writes "key":<tab>value; use two spaces and
     * "key": value instead (strings never hold a raw tab: cJSON escapes it). */
    size_t tabs = 0, n = strlen(raw);
    for (size_t i = 0; i < n; i++) tabs += raw[i] == '\t';
    char *out = core_calloc(n + tabs + 2, 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] != '\t')
            out[j++] = raw[i];
        else if (i > 0 && raw[i - 1] == ':')
            out[j++] = ' ';
        else
            out[j++] = ' ', out[j++] = ' ';
    }
    out[j++] = '\n';
    out[j] = '\0';
    cJSON_free(raw);
    return out;
}

char *config_to_json(const RunConfig *c) { return config_json(c, 0); }

char *config_to_json_plan(const RunConfig *c) { return config_json(c, 1); }

/* ---- documentation: every key from the table --------------------------- */

int config_key_count(void) {
    keys_init();
    int n = 0;
    for (int k = 0; k < NUM_KEYS; k++) n += keys[k].path != NULL;
    return n;
}

/* The valid values of key k, as text: a range, or the names. */
static void range_text(int k, char *buf, size_t n) {
    const Key *key = &keys[k];
    char lo[48], hi[48];
    snprintf(lo, sizeof lo, "%g", key->lo);
    snprintf(hi, sizeof hi, "%g", key->hi);
    switch (key->type) {
    case T_INT:
    case T_SETTING_INT:
        if (key->hi >= 1e9) snprintf(buf, n, ">= %.0f", key->lo);
        else snprintf(buf, n, "%.0f..%.0f", key->lo, key->hi);
        break;
    case T_U64:
    case T_SETTING_SEED: snprintf(buf, n, "integer 0..2^53"); break;
    case T_FLOAT:
    case T_SETTING_FLOAT:
        if (isinf(key->hi)) snprintf(buf, n, "%s %s", key->lo_open ? ">" : ">=", lo);
        else if (key->lo_open) snprintf(buf, n, "> %s and <= %s", lo, hi);
        else snprintf(buf, n, "%s..%s", lo, hi);
        break;
    case T_STRING:
        if (k == K_PE) pe_names(buf, n);
        else if (k == K_TASK_NAME) task_names(buf, n);
        else buf[0] = '\0';
        break;
    case T_LENGTHS: snprintf(buf, n, "each 1..%d", TASK_MAX_EVAL_LEN); break;
    case T_BOOL: snprintf(buf, n, "true or false"); break;
    case T_NAMES: {
        size_t used = (size_t)snprintf(buf, n, "any of ");
        for (int i = 0; key->names[i] && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", key->names[i]);
        break;
    }
    }
    int slot;
    if (task_setting_key(k, &slot)) { /* which tasks read it */
        char readers[256];
        task_setting_readers(slot, readers, sizeof readers);
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%stask.name %s", used ? "; " : "", readers);
    } else if (key->type == T_SETTING_INT || key->type == T_SETTING_FLOAT) { /* which encodings read it */
        size_t used = strlen(buf);
        int first = 1;
        for (int i = 0; i < pe_count() && used < n; i++)
            if (pe_uses_setting(pe_at(i), k - K_SETTING)) {
                used += (size_t)snprintf(buf + used, n - used, "%s%s", first ? "; model.pe " : ", ", pe_at(i)->name);
                first = 0;
            }
    }
}

/* The default of key k as JSON text. */
static void default_text(int k, char *buf, size_t n) {
    RunConfig d;
    config_default(&d);
    const Key *key = &keys[k];
    const void *src = cfield(&d, k);
    switch (key->type) {
    case T_INT: snprintf(buf, n, "%d", *(const int *)src); break;
    case T_SETTING_INT: snprintf(buf, n, "%.0f", *(const double *)src); break;
    case T_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)src); break;
    case T_SETTING_SEED: snprintf(buf, n, "%.0f", *(const double *)src); break;
    case T_FLOAT: float_text(*(const float *)src, buf, n); break;
    case T_SETTING_FLOAT: float_text((float)*(const double *)src, buf, n); break;
    case T_STRING: snprintf(buf, n, "\"%s\"", (const char *)src); break;
    case T_LENGTHS: snprintf(buf, n, "[]"); break; /* auto */
    case T_BOOL: snprintf(buf, n, "%s", *(const int *)src ? "true" : "false"); break;
    case T_NAMES: {
        size_t used = (size_t)snprintf(buf, n, "[");
        for (int i = 0; key->names[i] && used < n; i++)
            if (*(const unsigned *)src & (1u << i))
                used += (size_t)snprintf(buf + used, n - used, "%s\"%s\"", used > 1 ? ", " : "", key->names[i]);
        if (used < n) snprintf(buf + used, n - used, "]");
        break;
    }
    }
}

int config_key_doc(int i, ConfigKeyDoc *out) {
    keys_init();
    for (int k = 0; k < NUM_KEYS; k++) {
        if (!keys[k].path || i-- > 0) continue;
        out->path = keys[k].path;
        out->help = keys[k].help;
        default_text(k, out->def, sizeof out->def);
        range_text(k, out->range, sizeof out->range);
        return 0;
    }
    return -1;
}

char *config_keys_markdown(void) {
    const int n = config_key_count();
    size_t cap = 256 + (size_t)n * 1024, used = 0;
    char *out = core_calloc(cap, 1);
    used += (size_t)snprintf(out + used, cap - used, "| key | default | meaning | valid values |\n| --- | --- | --- | --- |\n");
    for (int i = 0; i < n; i++) {
        ConfigKeyDoc d;
        config_key_doc(i, &d);
        used += (size_t)snprintf(out + used, cap - used, "| `%s` | %s | %s | %s |\n", d.path, d.def, d.help, d.range);
    }
    return out;
}
