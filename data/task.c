/*
 * task.c — the task registry, and examples framed into batches (task.h).
 * To add a task: write task_<name>.c defining `const TaskOps task_<name>_ops`
 * and add one line to the table below.
 */
#include "data/task.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"

extern const TaskOps task_copy_ops, task_reverse_ops, task_sort_ops, task_duplicate_ops,
    task_odds_first_ops, task_markov_ops, task_text_ops, task_repeat_ops, task_repeat_map_ops, task_copy_twice_ops,
    task_reverse_twice_ops, task_reverse_copy_ops, task_jsonl_ops;

static const TaskOps *const registry[] = {
    &task_copy_ops, &task_reverse_ops, &task_sort_ops, &task_duplicate_ops, &task_odds_first_ops,
    &task_markov_ops, &task_text_ops, &task_repeat_ops, &task_repeat_map_ops, &task_copy_twice_ops,
    &task_reverse_twice_ops, &task_reverse_copy_ops, &task_jsonl_ops,
};
#define NUM_TASKS ((int)(sizeof registry / sizeof registry[0]))

/* ---- registry --------------------------------------------------------- */

int task_count(void) { return NUM_TASKS; }
const TaskOps *task_at(int i) { return (i >= 0 && i < NUM_TASKS) ? registry[i] : NULL; }

const TaskOps *task_find(const char *name) {
    for (int i = 0; i < NUM_TASKS; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

void task_names(char *buf, size_t n) {
    size_t used = 0;
    if (n) buf[0] = '\0';
    for (int i = 0; i < NUM_TASKS && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", registry[i]->name);
}

/* ---- settings ------------------------------------------------------------ */

static const TaskSetting *slots[TASK_MAX_SETTINGS];
static int text_index[TASK_MAX_SETTINGS]; /* text settings: their index in TaskSettings.text */
static int num_slots;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void build_slots(void) {
    int num_text = 0;
    for (int i = 0; i < NUM_TASKS; i++) {
        for (const TaskSetting *const *s = registry[i]->settings; s && *s; s++) {
            int k = 0;
            while (k < num_slots && slots[k] != *s) k++;
            if (k < num_slots) continue; /* listed by an earlier task */
            for (int j = 0; j < num_slots; j++)
                if (strcmp(slots[j]->name, (*s)->name) == 0) {
                    fprintf(stderr, "posenc: two task settings called %s (task_%s.c): one row, listed by both\n",
                            (*s)->name, registry[i]->name);
                    abort();
                }
            if (num_slots == TASK_MAX_SETTINGS || ((*s)->type == TASK_SETTING_TEXT && num_text == TASK_MAX_TEXT_SETTINGS)) {
                fprintf(stderr, "posenc: more than TASK_MAX_SETTINGS (%d) task settings or TASK_MAX_TEXT_SETTINGS (%d) "
                                "text ones\n", TASK_MAX_SETTINGS, TASK_MAX_TEXT_SETTINGS);
                abort();
            }
            text_index[num_slots] = (*s)->type == TASK_SETTING_TEXT ? num_text++ : -1;
            slots[num_slots++] = *s;
        }
    }
}

static void slots_init(void) { pthread_once(&slots_once, build_slots); }

int task_num_settings(void) {
    slots_init();
    return num_slots;
}

const TaskSetting *task_setting_at(int slot) {
    slots_init();
    return slot >= 0 && slot < num_slots ? slots[slot] : NULL;
}

int task_setting_find(const char *name) {
    slots_init();
    for (int k = 0; k < num_slots; k++)
        if (strcmp(slots[k]->name, name) == 0) return k;
    return -1;
}

int task_uses_setting(const TaskOps *t, int slot) {
    const TaskSetting *row = task_setting_at(slot);
    for (const TaskSetting *const *s = t ? t->settings : NULL; row && s && *s; s++)
        if (*s == row) return 1;
    return 0;
}

size_t task_setting_offset(int slot) {
    slots_init();
    if (slot >= 0 && slot < num_slots && text_index[slot] >= 0)
        return offsetof(TaskSettings, text) + (size_t)text_index[slot] * TASK_SETTING_TEXT_MAX;
    return offsetof(TaskSettings, v) + (size_t)slot * sizeof(double);
}

static int slot_of(const TaskSetting *s) {
    slots_init();
    for (int k = 0; k < num_slots; k++)
        if (slots[k] == s) return k;
    fprintf(stderr, "posenc: task setting %s belongs to no registered task\n", s->name);
    abort();
}

double task_setting(const TaskConfig *cfg, const TaskSetting *s) { return cfg->set.v[slot_of(s)]; }

const char *task_setting_text(const TaskConfig *cfg, const TaskSetting *s) {
    const int k = slot_of(s);
    return text_index[k] >= 0 ? cfg->set.text[text_index[k]] : "";
}

void task_setting_set_text(TaskConfig *cfg, const TaskSetting *s, const char *v) {
    const int k = slot_of(s);
    if (text_index[k] >= 0) snprintf(cfg->set.text[text_index[k]], TASK_SETTING_TEXT_MAX, "%s", v);
}

int task_setting_set(TaskConfig *cfg, const char *name, double v) {
    const int k = task_setting_find(name);
    if (k < 0 || slots[k]->type == TASK_SETTING_TEXT)
        return core_errorf("task.%s: no such int or seed setting of any task", name);
    cfg->set.v[k] = v;
    return 0;
}

static void settings_default(TaskSettings *set) {
    slots_init();
    memset(set, 0, sizeof *set);
    for (int k = 0; k < num_slots; k++) {
        if (text_index[k] >= 0)
            snprintf(set->text[text_index[k]], TASK_SETTING_TEXT_MAX, "%s", slots[k]->def_text ? slots[k]->def_text : "");
        else
            set->v[k] = slots[k]->def;
    }
}

int task_setting_is_default(const TaskConfig *cfg, int slot) {
    const TaskSetting *s = task_setting_at(slot);
    if (!s) return 1;
    if (text_index[slot] >= 0) return strcmp(cfg->set.text[text_index[slot]], s->def_text ? s->def_text : "") == 0;
    return cfg->set.v[slot] == s->def;
}

void task_setting_reset(TaskConfig *cfg, int slot) {
    const TaskSetting *s = task_setting_at(slot);
    if (!s) return;
    if (text_index[slot] >= 0)
        snprintf(cfg->set.text[text_index[slot]], TASK_SETTING_TEXT_MAX, "%s", s->def_text ? s->def_text : "");
    else
        cfg->set.v[slot] = s->def;
}

void task_setting_readers(int slot, char *buf, size_t n) {
    size_t used = 0;
    if (n) buf[0] = '\0';
    for (int i = 0; i < NUM_TASKS && used < n; i++)
        if (task_uses_setting(registry[i], slot))
            used += (size_t)snprintf(buf + used, n - used, "%s\"%s\"", used ? ", " : "", registry[i]->name);
}

/* Each setting's own range: 0 or an error "task.<name>: ...". */
static int check_settings(const TaskConfig *cfg) {
    for (int k = 0; k < task_num_settings(); k++) {
        const TaskSetting *s = slots[k];
        if (s->type == TASK_SETTING_TEXT) {
            if (!memchr(cfg->set.text[text_index[k]], '\0', TASK_SETTING_TEXT_MAX))
                return core_errorf("task.%s: longer than %d characters", s->name, TASK_SETTING_TEXT_MAX - 1);
            continue;
        }
        const double v = cfg->set.v[k];
        const double lo = s->type == TASK_SETTING_SEED ? 0 : s->lo, hi = s->type == TASK_SETTING_SEED ? 9007199254740992.0 : s->hi;
        if (!(v >= lo && v <= hi) || v != (double)(long long)v) {
            if (s->type == TASK_SETTING_SEED) return core_errorf("task.%s: must be an integer in 0..2^53, got %.17g", s->name, v);
            return core_errorf("task.%s: must be in %.0f..%.0f, got %.17g", s->name, lo, hi, v);
        }
    }
    return 0;
}

int task_input_len(const TaskOps *t, const TaskConfig *cfg, int n) {
    return t->frame == TASK_FRAME_LM ? n : n + t->answer_len(n, cfg) + 2;
}

int task_eval_T(const TaskOps *t, const TaskConfig *cfg, int n) {
    const int T = task_input_len(t, cfg, n);
    return (T + TASK_EVAL_ROW_ALIGN - 1) / TASK_EVAL_ROW_ALIGN * TASK_EVAL_ROW_ALIGN;
}

int task_counted_len(const TaskOps *t, const TaskConfig *cfg, int n) {
    return t->frame == TASK_FRAME_LM ? n : t->answer_len(n, cfg) + 1;
}

int task_loss_floor(const TaskOps *t, const TaskConfig *cfg, const int *ns, int count, double *floor,
                    double *rate) {
    if (!t->entropy) return 0;
    int nmax = 1;
    for (int i = 0; i < count; i++)
        if (ns[i] > nmax) nmax = ns[i];
    double *h = core_calloc((size_t)nmax, sizeof(double));
    int rc = t->entropy(h, nmax, rate, cfg);
    if (rc == 0) {
        /* prefix sums: floor at n = mean of h[0..n-1] */
        for (int i = 1; i < nmax; i++) h[i] += h[i - 1];
        for (int i = 0; i < count; i++) floor[i] = ns[i] >= 1 ? h[ns[i] - 1] / ns[i] : 0.0;
    }
    free(h);
    return rc == 0 ? 1 : -1;
}

int task_max_train_input_len(const TaskOps *t, const TaskConfig *cfg) {
    int T = 0;
    for (int n = cfg->min_len; n <= cfg->max_len; n++) {
        int len = task_input_len(t, cfg, n);
        if (len > T) T = len;
    }
    return T;
}

/* ---- configuration ---------------------------------------------------- */

int task_open(const TaskOps *t, TaskConfig *cfg, const int *eval_ns, int count) {
    if (!t->open) return 0;
    if (t->open(cfg) != 0) return -1;
    char what[512] = "its file";
    if (t->describe) t->describe(cfg, what, sizeof what);
    if (t->holds) { /* training draws among the lengths it has; evaluation needs each */
        int some = 0;
        for (int n = cfg->min_len; n <= cfg->max_len && !some; n++) some = t->holds(cfg, NULL, n);
        if (!some)
            return core_errorf("task.min_len, task.max_len: %s has no example with an input of %d..%d tokens to train "
                               "on", what, cfg->min_len, cfg->max_len);
        for (int i = 0; i < count; i++)
            if (!t->holds(cfg, NULL, eval_ns[i]))
                return core_errorf("eval.lengths: %s has no example with an input of %d tokens; evaluate the "
                                   "lengths it has", what, eval_ns[i]);
        return 0;
    }
    int longest_eval = 0;
    for (int i = 0; i < count; i++) longest_eval = eval_ns[i] > longest_eval ? eval_ns[i] : longest_eval;
    const long train = t->room(cfg, 0), held = t->room(cfg, 1);
    if (cfg->max_len > train)
        return core_errorf("task.max_len: %d is longer than the training part of %s (%ld tokens)", cfg->max_len,
                           what, train);
    if (longest_eval > held)
        return core_errorf("eval.lengths: %d is longer than the held-out part of %s (%ld tokens); evaluate shorter "
                           "lengths or use a longer file", longest_eval, what, held);
    return 0;
}

int task_open_problem(const TaskOps *t, TaskConfig *cfg, const int *x, int n) {
    if (!t->open) return 0;
    if (task_open(t, cfg, NULL, 0) != 0) return -1;
    if (t->holds && !t->holds(cfg, x, n)) {
        char what[512] = "its file";
        if (t->describe) t->describe(cfg, what, sizeof what);
        return core_errorf("the problem (%d tokens) is not an input of %s: the answer is known only for the file's "
                           "inputs", n, what);
    }
    return 0;
}

void task_config_default(TaskConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->name, "copy");
    cfg->alphabet = 10;
    cfg->min_len = 1;
    cfg->max_len = 16;
    settings_default(&cfg->set);
}

int task_config_check(const TaskConfig *cfg) {
    if (!memchr(cfg->name, '\0', sizeof cfg->name) || !task_find(cfg->name)) {
        char names[TASK_NAMES_MAX];
        task_names(names, sizeof names);
        return core_errorf("task.name: unknown task \"%.*s\" (valid: %s)", (int)sizeof cfg->name, cfg->name, names);
    }
    if (cfg->alphabet < TASK_MIN_ALPHABET || cfg->alphabet > TASK_MAX_ALPHABET)
        return core_errorf("task.alphabet: must be in %d..%d, got %d", TASK_MIN_ALPHABET,
                         TASK_MAX_ALPHABET, cfg->alphabet);
    if (cfg->min_len < 1)
        return core_errorf("task.min_len: must be >= 1, got %d", cfg->min_len);
    if (cfg->max_len > TASK_MAX_TRAIN_LEN)
        return core_errorf("task.max_len: must be <= %d, got %d", TASK_MAX_TRAIN_LEN, cfg->max_len);
    if (cfg->max_len < cfg->min_len)
        return core_errorf("task.max_len: must be >= task.min_len (%d), got %d", cfg->min_len,
                         cfg->max_len);
    if (check_settings(cfg) != 0) return -1;
    const TaskOps *t = task_find(cfg->name);
    if (t->alphabet && cfg->alphabet != t->alphabet)
        return core_errorf("task.alphabet: task %s has a fixed alphabet of %d; leave task.alphabet out, got %d",
                           t->name, t->alphabet, cfg->alphabet);
    return t->check ? t->check(cfg) : 0;
}

/* ---- batches ---------------------------------------------------------- */

int batch_alloc(Batch *b, int cap_B, int cap_T) {
    memset(b, 0, sizeof *b);
    if (cap_B < 1 || cap_T < 1)
        return core_errorf("batch_alloc: capacity must be positive, got %d x %d", cap_B, cap_T);
    size_t n = (size_t)cap_B * (size_t)cap_T;
    b->inputs = core_calloc(n, sizeof(int));
    b->targets = core_calloc(n, sizeof(int));
    b->pos = core_calloc(n, sizeof(int));
    b->lens = core_calloc((size_t)cap_B, sizeof(int));
    b->ns = core_calloc((size_t)cap_B, sizeof(int));
    b->cap_B = cap_B;
    b->cap_T = cap_T;
    return 0;
}

void batch_free(Batch *b) {
    free(b->inputs);
    free(b->targets);
    free(b->pos);
    free(b->lens);
    free(b->ns);
    memset(b, 0, sizeof *b);
}

/* Phase 1 of both samplers: draw x of row r (length n) into the row's slot at
 * stride cap_T, leaving position 0 free for BOS (the LM frame: from position
 * 0, since its n input tokens have no room for x_n after BOS). */
static int *row_x(Batch *b, int r, const TaskOps *t) {
    return b->inputs + (size_t)r * b->cap_T + (t->frame == TASK_FRAME_LM ? 0 : 1);
}

static void draw_x(Batch *b, int r, int n, const TaskOps *t, const TaskConfig *cfg, Rng *rng, int eval) {
    int *x = row_x(b, r, t);
    if (eval && t->sample_eval_x) {
        t->sample_eval_x(x, n, cfg, rng);
        return;
    }
    if (t->sample_x) {
        t->sample_x(x, n, cfg, rng);
        return;
    }
    for (int i = 0; i < n; i++) x[i] = (int)rng_below(rng, (uint32_t)cfg->alphabet);
}

/* Phase 2: with T known, move each row's x from stride cap_T to stride T and
 * frame it (BOS x SEP y, PAD), with its targets and positions. Rows go in
 * ascending order; since T <= cap_T, the destination of row r never overlaps
 * the source of a later row. */
static void frame_rows(Batch *b, const TaskOps *t, const TaskConfig *cfg, int B, int T) {
    const int A = cfg->alphabet;
    b->B = B;
    b->T = T;
    for (int r = 0; r < B; r++) {
        int n = b->ns[r];
        int *in = b->inputs + (size_t)r * T;
        int *tg = b->targets + (size_t)r * T;
        int *ps = b->pos + (size_t)r * T;
        if (t->frame == TASK_FRAME_LM) { /* BOS x1..x(n-1) -> x1..xn */
            const int *x = row_x(b, r, t);
            for (int i = 0; i < T; i++) {
                ps[i] = i;
                tg[i] = i < n ? x[i] : -1; /* targets first: the move below may overwrite x */
            }
            memmove(in + 1, x, (size_t)(n - 1) * sizeof(int));
            in[0] = task_bos(A);
            b->lens[r] = n;
            for (int i = n; i < T; i++) in[i] = task_pad(A);
            continue;
        }
        int m = t->answer_len(n, cfg);
        memmove(in + 1, b->inputs + (size_t)r * b->cap_T + 1, (size_t)n * sizeof(int));
        in[0] = task_bos(A);
        in[n + 1] = task_sep(A);
        t->answer(in + n + 2, in + 1, n, A);
        int len = n + m + 2;
        b->lens[r] = len;
        for (int i = len; i < T; i++) in[i] = task_pad(A);
        /* the prediction made at position i is of the token at i+1 */
        for (int i = 0; i < T; i++) {
            ps[i] = i;
            tg[i] = -1;
        }
        for (int i = n + 1; i < len - 1; i++) tg[i] = in[i + 1]; /* SEP..y(m-1) -> y1..ym */
        tg[len - 1] = task_eos(A);                               /* ym -> EOS */
    }
}

int batch_sample_train(Batch *b, const TaskOps *t, const TaskConfig *cfg, int B, Rng *rng) {
    if (cfg->min_len < 1 || cfg->max_len < cfg->min_len)
        return core_errorf("batch_sample_train: bad length range %d..%d", cfg->min_len,
                         cfg->max_len);
    if (cfg->alphabet < 1)
        return core_errorf("batch_sample_train: bad alphabet size %d", cfg->alphabet);
    if (B < 1) return core_errorf("batch_sample_train: batch size must be >= 1, got %d", B);
    int worst = task_max_train_input_len(t, cfg);
    if (B > b->cap_B || worst > b->cap_T)
        return core_errorf("batch_sample_train: %d rows of up to %d tokens (lengths %d..%d) exceed "
                         "the batch capacity %d x %d",
                         B, worst, cfg->min_len, cfg->max_len, b->cap_B, b->cap_T);
    if (t->room) {
        const long room = t->room(cfg, 0);
        if (room == 0) return core_errorf("batch_sample_train: task %s: its file is not open (task_open)", t->name);
        if (cfg->max_len > room)
            return core_errorf("batch_sample_train: task.max_len %d exceeds the %ld tokens of the training part",
                               cfg->max_len, room);
        int some = !t->holds;
        for (int n = cfg->min_len; n <= cfg->max_len && !some; n++) some = t->holds(cfg, NULL, n);
        if (!some)
            return core_errorf("batch_sample_train: task %s: its file has no example of length %d..%d", t->name,
                               cfg->min_len, cfg->max_len);
    }
    int span = cfg->max_len - cfg->min_len + 1, T = 0;
    for (int r = 0; r < B; r++) {
        int n = t->sample_len ? t->sample_len(cfg, rng) : cfg->min_len + (int)rng_below(rng, (uint32_t)span);
        if (t->holds && !t->holds(cfg, NULL, n)) /* sample_len draws only lengths the file has */
            return core_errorf("batch_sample_train: task %s: its file has no example of length %d", t->name, n);
        b->ns[r] = n;
        draw_x(b, r, n, t, cfg, rng, 0);
        int len = task_input_len(t, cfg, n);
        if (len > T) T = len;
    }
    frame_rows(b, t, cfg, B, T);
    return 0;
}

int batch_sample_eval(Batch *b, const TaskOps *t, const TaskConfig *cfg, int n, int B, Rng *rng) {
    if (n < 1) return core_errorf("batch_sample_eval: length must be >= 1, got %d", n);
    if (cfg->alphabet < 1)
        return core_errorf("batch_sample_eval: bad alphabet size %d", cfg->alphabet);
    if (B < 1) return core_errorf("batch_sample_eval: batch size must be >= 1, got %d", B);
    int T = task_eval_T(t, cfg, n);
    if (B > b->cap_B || T > b->cap_T)
        return core_errorf("batch_sample_eval: %d rows of %d tokens (n = %d) exceed the batch "
                         "capacity %d x %d",
                         B, T, n, b->cap_B, b->cap_T);
    if (t->room) {
        const long room = t->room(cfg, 1);
        if (room == 0) return core_errorf("batch_sample_eval: task %s: its file is not open (task_open)", t->name);
        if (t->holds && !t->holds(cfg, NULL, n))
            return core_errorf("evaluation length %d: the task's file has no example of that length", n);
        if (n > room)
            return core_errorf("evaluation length %d exceeds the %ld tokens of the held-out part of the task's file",
                               n, room);
    }
    for (int r = 0; r < B; r++) {
        b->ns[r] = n;
        draw_x(b, r, n, t, cfg, rng, 1);
    }
    frame_rows(b, t, cfg, B, T);
    for (int r = 0; r < B; r++) { /* alignment padding: repeat the last real id */
        int *ps = b->pos + (size_t)r * T;
        for (int i = b->lens[r]; i < T; i++) ps[i] = b->lens[r] - 1;
    }
    return 0;
}

int batch_random_positions(Batch *b, int P, Rng *rng) {
    for (int r = 0; r < b->B; r++)
        if (b->lens[r] > P)
            return core_errorf("random positions: a row of %d tokens does not fit in %d positions "
                             "(model.max_positions must be at least the longest input)", b->lens[r], P);
    for (int r = 0; r < b->B; r++) {
        int *pos = b->pos + (size_t)r * b->T;
        const int k = b->lens[r];
        /* Floyd: for j = P-k .. P-1 add t ~ U[0, j] unless taken, else j; the set
         * stays sorted in pos[0..m-1] */
        int m = 0;
        for (int j = P - k; j < P; j++) {
            int t = (int)rng_below(rng, (uint32_t)j + 1);
            int lo = 0, hi = m; /* first index with pos[idx] >= t */
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (pos[mid] < t) lo = mid + 1;
                else hi = mid;
            }
            if (lo < m && pos[lo] == t) t = j, lo = m; /* j > every member so far: append */
            memmove(pos + lo + 1, pos + lo, sizeof(int) * (size_t)(m - lo));
            pos[lo] = t;
            m++;
        }
        for (int i = k; i < b->T; i++) pos[i] = k ? pos[k - 1] : 0;
    }
    return 0;
}
