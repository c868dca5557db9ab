/* task_text.c — text: a byte-level language model of a UTF-8 text file
 * (task.file), trained as a language model (loss on every token, task.h
 * TASK_FRAME_LM).
 *
 * Tokens are the file's bytes, so the alphabet is fixed at 256 (V = 260 with
 * the four specials) and decoding a sequence gives the text back; the file
 * is read and checked by data/corpus.h (regular file, at most task.max_bytes,
 * valid UTF-8, no NUL). Its last tenth is held out.
 *
 * Draws. A training example of length n is the n bytes starting at offset
 * rng_below(train_n - n + 1) of the training part; an evaluation example the
 * n bytes starting at rng_below(held_n - n + 1) of the held-out part (one
 * draw per example, from the generator task.h says). The model sees BOS and
 * the first n-1 bytes and predicts all n.
 *
 * The file is read once per process and kept (a second file replaces it);
 * task_open must have opened it before a batch is drawn (the batch samplers
 * refuse otherwise, through room()).
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/corpus.h"
#include "data/task.h"

#define TEXT_ALPHABET 256

/* ---- settings ------------------------------------------------------------- */

/* task.file, task.file_hash and task.max_bytes: every task over a file reads them (task.h) */
const TaskSetting task_file_setting = {"file", TASK_SETTING_TEXT, 0, 0, 0, "",
                                       "the task's file (a path, relative to the working directory): text: UTF-8 "
                                       "text, its last tenth held out for evaluation; jsonl: JSON Lines of "
                                       "{\"input\": [...], \"target\": [...]}, token ids or strings"};
const TaskSetting task_file_hash_setting = {"file_hash", TASK_SETTING_TEXT, 0, 0, 0, "",
                                            "FNV-1a 64 hash of task.file (16 hex digits), recorded when a run is "
                                            "prepared, so a run is never evaluated on a changed file; \"\" = not yet"};
const TaskSetting task_max_bytes_setting = {"max_bytes", TASK_SETTING_INT, 64 << 20, 1, CORPUS_MAX_BYTES, NULL,
                                            "the largest task.file accepted, in bytes"};
static const TaskSetting *const text_settings[] = {&task_file_setting, &task_file_hash_setting,
                                                   &task_max_bytes_setting, NULL};
static const TaskSetting *const text_recorded[] = {&task_file_hash_setting, NULL};

int task_file_load_error(size_t cap) {
    char e[1024];
    snprintf(e, sizeof e, "%s", core_error());
    if (strstr(e, "more than the"))
        return core_errorf("task.file: %s (task.max_bytes = %zu; raise it to read a larger file)", e, cap);
    return core_errorf("task.file: %s", e);
}

int task_file_record_hash(TaskConfig *cfg, const char *path, const char *hash) {
    const char *want = task_setting_text(cfg, &task_file_hash_setting);
    if (!want[0])
        task_setting_set_text(cfg, &task_file_hash_setting, hash);
    else if (strcmp(want, hash) != 0)
        return core_errorf("task.file_hash: %s now has hash %s, but the run recorded %s: the file has changed since "
                           "the run was trained (restore it, or train a new run on it)", path, hash, want);
    return 0;
}

int task_file_check(const TaskConfig *cfg, const char *example) {
    if (!task_setting_text(cfg, &task_file_setting)[0])
        return core_errorf("task.file: task %s reads a file: name it (%s)", cfg->name, example);
    const char *h = task_setting_text(cfg, &task_file_hash_setting);
    int ok = strlen(h) == 0 || strlen(h) == 16;
    for (const char *p = h; *p; p++) ok &= (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
    if (!ok)
        return core_errorf("task.file_hash: \"%.40s\" is not 16 lower-case hex digits (leave it out: a new run "
                           "records the file's hash)", h);
    return 0;
}

static int text_check(const TaskConfig *cfg) {
    return task_file_check(cfg, "a UTF-8 text file, e.g. --set task.file=corpus.txt");
}

static void text_describe(const TaskConfig *cfg, char *buf, size_t n) {
    snprintf(buf, n, "task.file %s", task_setting_text(cfg, &task_file_setting));
}

/* ---- the file --------------------------------------------------------------- */

static Corpus loaded;
static char loaded_path[TASK_SETTING_TEXT_MAX], loaded_hash[17];
static size_t loaded_cap;

static int text_open(TaskConfig *cfg) {
    const char *path = task_setting_text(cfg, &task_file_setting);
    const size_t cap = (size_t)task_setting(cfg, &task_max_bytes_setting);
    if (!loaded.bytes || strcmp(loaded_path, path) != 0 || loaded_cap != cap) {
        Corpus c;
        if (corpus_load(&c, path, cap) != 0) {
            return task_file_load_error(cap);
        }
        corpus_free(&loaded);
        loaded = c;
        snprintf(loaded_path, sizeof loaded_path, "%s", path);
        loaded_cap = cap;
        corpus_hash_text(loaded.hash, loaded_hash);
    }
    return task_file_record_hash(cfg, path, loaded_hash);
}

static long text_room(const TaskConfig *cfg, int eval) {
    if (!loaded.bytes || strcmp(loaded_path, task_setting_text(cfg, &task_file_setting)) != 0 ||
        strcmp(loaded_hash, task_setting_text(cfg, &task_file_hash_setting)) != 0 ||
        loaded_cap != (size_t)task_setting(cfg, &task_max_bytes_setting))
        return 0;
    return (long)(eval ? loaded.n - loaded.train_n : loaded.train_n);
}

/* n bytes from [from, from + len) at a uniform offset (task.c has checked n <= len) */
static void cut(int *x, int n, size_t from, size_t len, Rng *rng) {
    const size_t off = from + rng_below(rng, (uint32_t)(len - (size_t)n + 1));
    for (int i = 0; i < n; i++) x[i] = loaded.bytes[off + (size_t)i];
}

static void text_sample_train(int *x, int n, const TaskConfig *cfg, Rng *rng) {
    (void)cfg;
    cut(x, n, 0, loaded.train_n, rng);
}

static void text_sample_eval(int *x, int n, const TaskConfig *cfg, Rng *rng) {
    (void)cfg;
    cut(x, n, loaded.train_n, loaded.n - loaded.train_n, rng);
}

const TaskOps task_text_ops = {
    .name = "text",
    .summary = "byte-level language model of a UTF-8 text file (task.file), its last tenth held out for evaluation",
    .frame = TASK_FRAME_LM,
    .sample_x = text_sample_train,
    .settings = text_settings,
    .check = text_check,
    .describe = text_describe,
    .alphabet = TEXT_ALPHABET,
    .sample_eval_x = text_sample_eval,
    .open = text_open,
    .room = text_room,
    .recorded = text_recorded,
};
