/* task_jsonl.c — jsonl: a user's sequence task from a JSON Lines file
 * (task.file) of {"input": [...], "target": [...]}, token ids or symbols as
 * strings (data/jsonl.h), in the answer frame: BOS input SEP target EOS,
 * loss on the target and EOS (task.h, docs/SPEC.md §1). A task is tested
 * without writing C: train on the short inputs, evaluate on the long ones.
 *
 * Answer length. m(n) = task.target_slope * n + task.target_offset, a
 * function of the config alone, so a config is sized (model.max_positions)
 * before the file is read; every line of the file must follow it.
 *
 * Symbols. Token ids 0..A-1, A = task.alphabet; or symbols as strings, whose
 * ids are their ranks in byte order (data/jsonl.h), a function of the file
 * alone: the recorded hash fixes them, so evaluation and predict decode the
 * symbols training saw (predict and attention read and print the names; an
 * id the file does not use, k..A-1 for k symbols, is named "#id").
 *
 * Draws. Training: the length n uniform among the lengths of
 * [task.min_len, task.max_len] that the file has (one rng_below over them,
 * ascending; with every length present this is the draw of every task),
 * then one rng_below(k) picks among the k lines whose input has n tokens
 * (file order): a repeated line is drawn as often as it appears.
 * Evaluation at length n: the same draw among the lines of length n, with
 * replacement, so with k < eval.samples lines an example is scored more
 * than once (`posenc eval`'s header says how many lines each length has,
 * TaskOps.describe). A length in the training range is evaluated on the
 * lines it trains on. task_open refuses a file without an example of any
 * training length, or of some evaluation length.
 *
 * The answer of a drawn x is the target of the line with that input, found
 * by a hash of the input (an input appears with one target only). The file
 * is read once per process and kept (another file, cap, alphabet or length
 * rule reads it again); its FNV-1a 64 hash is recorded as task.file_hash,
 * as the text task does, and a changed file is refused.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/jsonl.h"
#include "data/corpus.h"
#include "data/task.h"

/* ---- settings ------------------------------------------------------------- */

static const TaskSetting slope_setting = {"target_slope", TASK_SETTING_INT, 1, 0, 64, NULL,
                                          "a jsonl target has target_slope * n + target_offset tokens for an input of "
                                          "n tokens (copy: 1 and 0; a class label: 0 and 1)"};
static const TaskSetting offset_setting = {"target_offset", TASK_SETTING_INT, 0, -1024, 1024, NULL,
                                           "see task.target_slope"};
static const TaskSetting *const jsonl_settings[] = {&task_file_setting, &task_file_hash_setting,
                                                    &task_max_bytes_setting, &slope_setting, &offset_setting, NULL};
static const TaskSetting *const jsonl_recorded[] = {&task_file_hash_setting, NULL};

static int slope(const TaskConfig *cfg) { return (int)task_setting(cfg, &slope_setting); }
static int offset(const TaskConfig *cfg) { return (int)task_setting(cfg, &offset_setting); }

static int jsonl_check(const TaskConfig *cfg) {
    if (task_file_check(cfg, "a JSON Lines file of {\"input\": [...], \"target\": [...]}, e.g. --set "
                             "task.file=examples/cumsum.jsonl") != 0)
        return -1;
    const long m = (long)slope(cfg) * cfg->min_len + offset(cfg);
    if (m < 1)
        return core_errorf("task.target_offset: the target of an input of task.min_len = %d tokens would have "
                           "%d * %d + %d = %ld tokens; a target has at least 1", cfg->min_len, slope(cfg),
                           cfg->min_len, offset(cfg), m);
    return 0;
}

static int jsonl_answer_len(int n, const TaskConfig *cfg) { return slope(cfg) * n + offset(cfg); }

/* ---- the file --------------------------------------------------------------- */

static JsonlSet loaded;
static char loaded_path[TASK_SETTING_TEXT_MAX], loaded_hash[17];
static size_t loaded_cap;
static JsonlRules loaded_rules;
static const char *loaded_names[TASK_MAX_ALPHABET]; /* a file of strings: symbol names by id */
static char unused_names[TASK_MAX_ALPHABET][8];       /* "#id" for the ids past its symbols */

static JsonlRules rules_of(const TaskConfig *cfg) {
    return (JsonlRules){cfg->alphabet, slope(cfg), offset(cfg), TASK_MAX_EVAL_LEN};
}

/* Whether the loaded file is cfg's (path, rules, recorded hash). */
static int is_open(const TaskConfig *cfg) {
    const JsonlRules r = rules_of(cfg);
    return loaded.ex && strcmp(loaded_path, task_setting_text(cfg, &task_file_setting)) == 0 &&
           strcmp(loaded_hash, task_setting_text(cfg, &task_file_hash_setting)) == 0 &&
           loaded_cap == (size_t)task_setting(cfg, &task_max_bytes_setting) && memcmp(&r, &loaded_rules, sizeof r) == 0;
}

static int jsonl_open(TaskConfig *cfg) {
    const char *path = task_setting_text(cfg, &task_file_setting);
    const size_t cap = (size_t)task_setting(cfg, &task_max_bytes_setting);
    const JsonlRules r = rules_of(cfg);
    if (!loaded.ex || strcmp(loaded_path, path) != 0 || loaded_cap != cap || memcmp(&r, &loaded_rules, sizeof r) != 0) {
        JsonlSet s;
        if (jsonl_load(&s, path, cap, &r) != 0) {
            return task_file_load_error(cap);
        }
        jsonl_free(&loaded);
        loaded = s;
        snprintf(loaded_path, sizeof loaded_path, "%s", path);
        loaded_cap = cap;
        loaded_rules = r;
        corpus_hash_text(loaded.hash, loaded_hash);
        for (int i = 0; i < r.alphabet && i < TASK_MAX_ALPHABET; i++) {
            snprintf(unused_names[i], sizeof unused_names[i], "#%d", i);
            loaded_names[i] = i < loaded.num_symbols ? loaded.symbols[i] : unused_names[i];
        }
    }
    return task_file_record_hash(cfg, path, loaded_hash);
}

static long jsonl_room(const TaskConfig *cfg, int eval) {
    (void)eval;
    return is_open(cfg) ? loaded.max_n : 0;
}

static int jsonl_holds(const TaskConfig *cfg, const int *x, int n) {
    if (!is_open(cfg)) return 0;
    return x ? jsonl_find(&loaded, x, n) >= 0 : jsonl_count(&loaded, n) > 0;
}

static const char *const *jsonl_symbols(const TaskConfig *cfg) {
    return is_open(cfg) && loaded.symbols ? loaded_names : NULL;
}

static void jsonl_describe(const TaskConfig *cfg, char *buf, size_t n) {
    const char *path = task_setting_text(cfg, &task_file_setting);
    if (!is_open(cfg)) {
        snprintf(buf, n, "task.file %s", path);
        return;
    }
    char lengths[256];
    jsonl_lengths_text(&loaded, lengths, sizeof lengths);
    char symbols[160] = "";
    if (loaded.symbols) { /* the first few, in id order */
        size_t used = (size_t)snprintf(symbols, sizeof symbols, "; %d symbols as strings:", loaded.num_symbols);
        int i = 0;
        for (; i < loaded.num_symbols && used + JSONL_MAX_SYMBOL_BYTES + 8 < sizeof symbols; i++)
            used += (size_t)snprintf(symbols + used, sizeof symbols - used, " %s", loaded.symbols[i]);
        if (i < loaded.num_symbols) snprintf(symbols + used, sizeof symbols - used, " ...");
    }
    snprintf(buf, n, "task.file %s: %d examples%s; by input length: %s", path, loaded.count, symbols, lengths);
}

/* A training length: uniform among those of [min_len, max_len] the file has
 * (the sampler checked there is one). */
static int jsonl_sample_len(const TaskConfig *cfg, Rng *rng) {
    int present = 0;
    for (int n = cfg->min_len; n <= cfg->max_len; n++) present += jsonl_count(&loaded, n) > 0;
    int pick = (int)rng_below(rng, (uint32_t)present);
    for (int n = cfg->min_len;; n++)
        if (jsonl_count(&loaded, n) > 0 && pick-- == 0) return n;
}

/* One of the lines whose input has n tokens (the samplers checked there is one). */
static void jsonl_sample_x(int *x, int n, const TaskConfig *cfg, Rng *rng) {
    (void)cfg;
    const int k = jsonl_count(&loaded, n);
    const JsonlExample *e = &loaded.ex[loaded.by_len[loaded.len_start[n] + (int)rng_below(rng, (uint32_t)k)]];
    memcpy(x, loaded.tokens + e->x, (size_t)n * sizeof *x);
}

/* The target of the line with input x; PAD for an x the file does not hold
 * (never drawn: the samplers draw the file's inputs, and task_open_problem
 * refuses a user's x that is not one). */
static void jsonl_answer(int *y, const int *x, int n, int A) {
    const int k = jsonl_find(&loaded, x, n);
    if (k < 0) {
        const int m = loaded_rules.slope * n + loaded_rules.offset;
        for (int i = 0; i < m; i++) y[i] = task_pad(A);
        return;
    }
    memcpy(y, loaded.tokens + loaded.ex[k].y, (size_t)loaded.ex[k].m * sizeof *y);
}

const TaskOps task_jsonl_ops = {
    .name = "jsonl",
    .summary = "your own task: BOS input SEP target EOS from a JSON Lines file (task.file) of ids or strings",
    .answer_len = jsonl_answer_len,
    .answer = jsonl_answer,
    .sample_x = jsonl_sample_x,
    .settings = jsonl_settings,
    .check = jsonl_check,
    .describe = jsonl_describe,
    .open = jsonl_open,
    .room = jsonl_room,
    .recorded = jsonl_recorded,
    .holds = jsonl_holds,
    .sample_len = jsonl_sample_len,
    .symbols = jsonl_symbols,
};
