/*
 * task.c — the task registry, and examples framed into batches (task.h).
 * To add a task: write task_<name>.c defining `const TaskOps task_<name>_ops`
 * and add one line to the table below.
 */
#include "data/task.h"

#include <stdlib.h>
#include <string.h>
#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"

extern const TaskOps task_copy_ops, task_reverse_ops, task_sort_ops, task_duplicate_ops,
    task_odds_first_ops, task_markov_ops;

static const TaskOps *const registry[] = {
    &task_copy_ops, &task_reverse_ops, &task_sort_ops, &task_duplicate_ops, &task_odds_first_ops,
    &task_markov_ops,
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

const char *task_names(void) {
    static char buf[512];
    if (!buf[0]) {
        for (int i = 0; i < NUM_TASKS; i++) {
            if (i) strcat(buf, ", ");
            strcat(buf, registry[i]->name);
        }
    }
    return buf;
}

int task_input_len(const TaskOps *t, int n) {
    return t->frame == TASK_FRAME_LM ? n : n + t->answer_len(n) + 2;
}

int task_eval_T(const TaskOps *t, int n) {
    const int T = task_input_len(t, n);
    return (T + TASK_EVAL_ROW_ALIGN - 1) / TASK_EVAL_ROW_ALIGN * TASK_EVAL_ROW_ALIGN;
}

int task_counted_len(const TaskOps *t, int n) {
    return t->frame == TASK_FRAME_LM ? n : t->answer_len(n) + 1;
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
        int len = task_input_len(t, n);
        if (len > T) T = len;
    }
    return T;
}

/* ---- configuration ---------------------------------------------------- */

void task_config_default(TaskConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->name, "copy");
    cfg->alphabet = 10;
    cfg->min_len = 1;
    cfg->max_len = 16;
    cfg->markov_order = 2;
    cfg->markov_branch = 3;
    cfg->markov_seed = 1;
}

int task_config_check(const TaskConfig *cfg) {
    if (!memchr(cfg->name, '\0', sizeof cfg->name) || !task_find(cfg->name))
        return core_errorf("task.name: unknown task \"%.*s\" (valid: %s)", (int)sizeof cfg->name,
                         cfg->name, task_names());
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
    if (cfg->markov_order < 1 || cfg->markov_order > TASK_MARKOV_MAX_ORDER)
        return core_errorf("task.markov_order: must be in 1..%d, got %d", TASK_MARKOV_MAX_ORDER,
                         cfg->markov_order);
    if (cfg->markov_branch < 1 || cfg->markov_branch > TASK_MARKOV_MAX_BRANCH)
        return core_errorf("task.markov_branch: must be in 1..%d, got %d", TASK_MARKOV_MAX_BRANCH,
                         cfg->markov_branch);
    if (strcmp(cfg->name, "markov") == 0) {
        if (cfg->markov_branch > cfg->alphabet)
            return core_errorf("task.markov_branch: %d successors need task.alphabet >= %d, got %d",
                             cfg->markov_branch, cfg->markov_branch, cfg->alphabet);
        double contexts = 1.0;
        for (int i = 0; i < cfg->markov_order; i++) contexts *= cfg->alphabet + 1;
        if (contexts > TASK_MARKOV_MAX_CONTEXTS)
            return core_errorf("task.markov_order: (task.alphabet + 1)^%d = %.0f contexts exceed %d; "
                             "lower the order or the alphabet",
                             cfg->markov_order, contexts, TASK_MARKOV_MAX_CONTEXTS);
    }
    return 0;
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

static void draw_x(Batch *b, int r, int n, const TaskOps *t, const TaskConfig *cfg, Rng *rng) {
    int *x = row_x(b, r, t);
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
static void frame_rows(Batch *b, const TaskOps *t, int A, int B, int T) {
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
        int m = t->answer_len(n);
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
    int span = cfg->max_len - cfg->min_len + 1, T = 0;
    for (int r = 0; r < B; r++) {
        int n = cfg->min_len + (int)rng_below(rng, (uint32_t)span);
        b->ns[r] = n;
        draw_x(b, r, n, t, cfg, rng);
        int len = task_input_len(t, n);
        if (len > T) T = len;
    }
    frame_rows(b, t, cfg->alphabet, B, T);
    return 0;
}

int batch_sample_eval(Batch *b, const TaskOps *t, const TaskConfig *cfg, int n, int B, Rng *rng) {
    if (n < 1) return core_errorf("batch_sample_eval: length must be >= 1, got %d", n);
    if (cfg->alphabet < 1)
        return core_errorf("batch_sample_eval: bad alphabet size %d", cfg->alphabet);
    if (B < 1) return core_errorf("batch_sample_eval: batch size must be >= 1, got %d", B);
    int T = task_eval_T(t, n);
    if (B > b->cap_B || T > b->cap_T)
        return core_errorf("batch_sample_eval: %d rows of %d tokens (n = %d) exceed the batch "
                         "capacity %d x %d",
                         B, T, n, b->cap_B, b->cap_T);
    for (int r = 0; r < B; r++) {
        b->ns[r] = n;
        draw_x(b, r, n, t, cfg, rng);
    }
    frame_rows(b, t, cfg->alphabet, B, T);
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
