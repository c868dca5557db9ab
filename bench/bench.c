/*
 * bench.c — `make bench`: how close a training step runs to what this CPU can do,
 * and its speed targets, each a row of `targets`.
 *
 * One run measures, side by side, and prints a table and bench.json:
 *
 *   ceiling    OpenBLAS sgemm GFLOP/s at the model's own matrix shapes: every
 *              sgemm one training step makes (forward, dinp, dweight of each
 *              linear layer and the LM head), each timed alone (best of a few
 *              runs, warm caches); the ceiling is their total FLOPs over their
 *              total time. On 1 thread, and on 2 threads the faster, per
 *              product, of OpenBLAS's own 2 threads and posenc's pool (the rows
 *              split in two, each half a 1-thread sgemm, as training runs them).
 *   train      median step time (batch sampling + forward + backward + grad
 *              norm/clip + AdamW), tokens/s (real and padded), achieved
 *              GFLOP/s and MFU = achieved / ceiling at the same thread count,
 *              for the small and medium shapes, on 1 and 2 threads; the time
 *              split per part of the step; allocations inside the step; peak RSS.
 *   encodings  step time of each position encoding relative to `none`.
 *   eval       examples/s of evaluation at 4x the training length: the small
 *              model at n = 64 (copy), and the demo model at 4 x its max_len;
 *              the time of one demo run's whole evaluation (its eval lengths x
 *              samples at its eval batch size), per encoding of the demo.
 *   long       one 16,384-token sequence through the inference path (evaluation's,
 *              gpt_infer) of the small shape, for alibi, rope and t5, on 1 and 2
 *              threads, each in a child process of its own (this binary, --long):
 *              seconds per sequence, attention's share of it and its GFLOP/s
 *              against the 1-thread sgemm ceiling, peak RSS, allocations.
 *   memory     bytes per token and per attention score (fit over B and T).
 *   repro      step time with the pinned vs OpenBLAS's native kernel.
 *   split      the best processes x threads split for `posenc sweep` on the
 *              demo: 1 or 2 concurrent jobs of 1 or 2 threads each, every job
 *              training the demo's encodings in turn (as a sweep's jobs do).
 *
 * Targets (stdout and bench.json "targets": value, threshold, met):
 *   small 1 thread MFU >= 70 %; medium 1 thread >= 75 %, 2 threads >= 70 %;
 *   medium 2-thread step rate >= 1.8x the 1-thread one (ratio of the medians);
 *   `make demo` <= 300 s on this machine, an estimate from measured parts:
 *     runs x (train.steps / steps/s of the best split + one run's evaluation
 *     time, mean over the demo's encodings, measured in one process);
 *   every encoding within 10 % of none; no allocation inside a step;
 *   evaluation share of a demo run <= 10 %: one run's evaluation time
 *     (measured) / (that + train.steps / the measured 1-job x 1-thread demo
 *     step rate of the split); the pinned kernel <= 1.05x native;
 *   long context: peak RSS <= 256 MiB; attention on 1 thread >= 40 % of the
 *     small shape's 1-thread sgemm ceiling; 2 threads >= 1.8x 1 thread; no
 *     allocation inside the forward passes (each the worst encoding).
 * Under the table, for each training target not met, where its step goes.
 *
 * FLOP counting (per training step = 3 x forward):
 *   every matrix product 2*M*N*K: qkv, attproj, fc, fcproj per layer, LM head,
 *   on every row of the padded batch (the products run on all of them);
 *   attention 2 * 2*hs per (query, key) pair actually computed: q.k and att@v,
 *   over the causal half of each sequence's live rows only (L(L+1)/2 pairs per
 *   head, L = the model's live rows of the sequence: up to its last counted
 *   target; the kernels skip the padding past it, model/layers.h).
 *   Element-wise work (LayerNorm, GELU, softmax, AdamW) is not counted.
 *
 * Shapes (vocabulary 14: alphabet 10 + 4 specials):
 *   small   d_model 64, 2 layers, 4 heads, d_ff 256, sort, n in 1..16, batch 64
 *   medium  d_model 256, 4 layers, 8 heads, d_ff 1024, copy n = 63, batch 32 x 128 tokens
 *   demo    what `make demo` runs, read from experiments/demo.json through
 *           posenc's own spec loader (study/sweep.h, as `posenc sweep` expands
 *           it): task, lengths, model, batch, lr, weight decay, clipping,
 *           steps, evaluation lengths, samples and batch, grid, seeds
 *           (today d_model 64, 2 layers, 4 heads, copy 1..8, batch 48, 3000
 *           steps, 5 encodings x 3 seeds). The bench fails, naming the file,
 *           if it cannot read it.
 *
 * Usage: bench [--quick] [--long-only] [--json PATH] [--demo SPEC] [--one SHAPE PE THREADS STEPS]
 *        bench --long PE THREADS REPS
 *        bench --markdown RUN.json [MORE.json ...]   (bench_md.c: docs/PERFORMANCE.md's block)
 * The program is linked with -Wl,--wrap=malloc,... so that it counts the
 * allocations posenc's own code makes inside a training step.
 */
#include <cJSON.h>
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/fsutil.h"
#include "core/parallel.h"
#include "data/task.h"
#include "model/adamw.h"
#include "model/gpt.h"
#include "model/layers.h"
#include "run/score.h"
#include "study/sweep.h"

#include "bench/bench_md.h"

/* ------------------------------------------------------------------------
 * Allocation counting (tests/alloc_count.h)
 */

#include "tests/alloc_count.h" /* the allocators wrapped at link time (Makefile) */
#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"

/* ------------------------------------------------------------------------
 * Helpers
 */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *x, int n) {
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Peak RSS since the last reset, in MiB. Linux resets the high-water mark
 * on writing "5" to /proc/self/clear_refs; VmHWM is read from status. */
static void peak_rss_reset(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w"); /* writer-exempt: a kernel control file */
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static double peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb / 1024.0;
}

/* Training and evaluation use posenc's pool (OpenBLAS on one thread, sgemm
 * split by the pool); the 2-thread ceiling takes the faster of that split and
 * OpenBLAS's own threading for each product. */
static void set_threads(int t) { par_set_threads(t); }

/* ------------------------------------------------------------------------
 * Shapes
 */

typedef struct {
    const char *name;
    int C, L, NH, F, P;
    const char *task;
    int min_len, max_len, B;
    const RunConfig *rc; /* the demo: its resolved run config (model, task, train); NULL: the fields above */
} Shape;

static const Shape SMALL = {"small", 64, 2, 4, 256, 64, "sort", 1, 16, 64, NULL};
static const Shape MEDIUM = {"medium", 256, 4, 8, 1024, 128, "copy", 63, 63, 32, NULL};
static Shape DEMO = {"demo", 0, 0, 0, 0, 0, "", 0, 0, 0, NULL}; /* filled by demo_load */
enum { ALPHABET = 10 };

/* The demo (`make demo`): its spec expanded by posenc's own loader, one job
 * per (encoding, seed); its cells are the jobs of the first seed (one per
 * grid value: every encoding once). */
#define DEMO_SPEC_DEFAULT "experiments/demo.json"
#define DEMO_MAX_CELLS 16
static Sweep demo_spec;
static const RunConfig *demo_cell[DEMO_MAX_CELLS];
static int demo_ncells;

static void demo_load(const char *path) {
    const int rc_load = sweep_load(&demo_spec, path);
    if (rc_load != 0 || demo_spec.num_jobs < 1) {
        fprintf(stderr,
                "bench: cannot read the demo's spec %s: %s\n"
                "bench: the bench measures what `make demo` runs with the settings of %s; run it from the "
                "repository root (make bench) or name the spec with --demo SPEC\n",
                path, rc_load != 0 ? core_error() : "it expands to no job", path);
        exit(1);
    }
    const SweepJob *j0 = &demo_spec.jobs[0];
    for (int j = 0; j < demo_spec.num_jobs && demo_ncells < DEMO_MAX_CELLS; j++)
        if (demo_spec.jobs[j].seed == j0->seed) demo_cell[demo_ncells++] = &demo_spec.jobs[j].cfg;
    const RunConfig *rc = demo_cell[0];
    DEMO = (Shape){"demo", rc->model.C, rc->model.L, rc->model.NH, rc->model.F, rc->model.P, rc->task.name,
                   rc->task.min_len, rc->task.max_len, rc->train.batch_size, rc};
}

static void shape_config(const Shape *s, const char *pe, GPTConfig *c, TaskConfig *tc) {
    if (s->rc) { /* the demo's own resolved config */
        *c = s->rc->model;
        *tc = s->rc->task;
        snprintf(c->pe, sizeof c->pe, "%s", pe);
        return;
    }
    gpt_config_default(c);
    c->V = task_vocab(ALPHABET);
    c->C = s->C;
    c->L = s->L;
    c->NH = s->NH;
    c->F = s->F;
    c->P = s->P;
    snprintf(c->pe, sizeof c->pe, "%s", pe);
    task_config_default(tc);
    snprintf(tc->name, sizeof tc->name, "%s", s->task);
    tc->alphabet = ALPHABET;
    tc->min_len = s->min_len;
    tc->max_len = s->max_len;
}

/* FLOPs of one training step (3 x forward) at B x T, as in the header;
 * live (B): the rows the model computed attention for (m->live after the
 * forward), or NULL for all T. */
static double step_flops(const GPTConfig *c, int B, int T, const int *live) {
    const double N = (double)B * T, C = c->C, F = c->F, V = c->V, L = c->L, hs = (double)c->C / c->NH;
    double mm = 2.0 * N * (3 * C * C + C * C + 2 * C * F) * L + 2.0 * N * C * V;
    double pairs = 0.0;
    for (int b = 0; b < B; b++) {
        const double lb = live ? live[b] : T;
        pairs += c->NH * lb * (lb + 1) / 2.0;
    }
    double att = 2.0 * 2.0 * hs * pairs * L;
    return 3.0 * (mm + att);
}

/* ------------------------------------------------------------------------
 * Ceiling: sgemm at the model's shapes
 */

typedef struct {
    char ta, tb;  /* 'N' or 'T' for A, B */
    int M, N, K;  /* C (M, N) = op(A) (M, K) op(B) (K, N) */
    int count;    /* calls per training step */
    const char *what;
} Gemm;

static int model_gemms(const GPTConfig *c, int Ntok, Gemm *g) {
    const int C = c->C, F = c->F, V = c->V, L = c->L;
    struct { int in, out; const char *what; } lin[] = {
        {C, 3 * C, "qkv"}, {C, C, "attproj"}, {C, F, "fc"}, {F, C, "fcproj"}, {C, V, "lm_head"},
    };
    int n = 0;
    for (int i = 0; i < 5; i++) {
        int cnt = i == 4 ? 1 : L, in = lin[i].in, out = lin[i].out;
        g[n++] = (Gemm){'N', 'T', Ntok, out, in, cnt, lin[i].what};  /* forward   out = x W^T */
        g[n++] = (Gemm){'N', 'N', Ntok, in, out, cnt, lin[i].what};  /* dinp     += dout W */
        g[n++] = (Gemm){'T', 'N', out, in, Ntok, cnt, lin[i].what};  /* dweight  += dout^T x */
    }
    return n;
}

/* One part of a product split as posenc's pool splits it (model/layers.c):
 * rows of C (M) at multiples of SGEMM_ROW_ALIGN, each part a 1-thread sgemm. */
typedef struct {
    const Gemm *g;
    const float *A, *Bm;
    float *Cm;
} GemmSplit;

static void gemm_part(void *ctx, int part, int nparts) {
    const GemmSplit *s = ctx;
    const Gemm *g = s->g;
    const int lda = g->ta == 'N' ? g->K : g->M, ldb = g->tb == 'N' ? g->N : g->K;
    int lo, hi;
    par_range(g->M, part, nparts, SGEMM_ROW_ALIGN, &lo, &hi);
    if (lo >= hi) return;
    const float *a = g->ta == 'N' ? s->A + (size_t)lo * lda : s->A + lo;
    cblas_sgemm(CblasRowMajor, g->ta == 'N' ? CblasNoTrans : CblasTrans, g->tb == 'N' ? CblasNoTrans : CblasTrans,
                hi - lo, g->N, g->K, 1.0f, a, lda, s->Bm, ldb, 1.0f, s->Cm + (size_t)lo * g->N, g->N);
}

/* best time of one product: one call on OpenBLAS's own threads (pool = 0),
 * or split across posenc's pool (pool = 1) */
static double time_gemm_by(const Gemm *g, float *A, float *Bm, float *Cm, int reps, int pool) {
    GemmSplit split = {g, A, Bm, Cm};
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = now_s();
        if (pool)
            par_run(gemm_part, &split);
        else
            gemm_part(&split, 0, 1); /* the whole product */
        double t = now_s() - t0;
        if (r > 0 && t < best) best = t; /* first call warms up */
    }
    return best;
}

static double time_gemm(const Gemm *g, float *A, float *Bm, float *Cm, int reps) {
    return time_gemm_by(g, A, Bm, Cm, reps, 0);
}

typedef struct {
    double gflops[3]; /* by thread count 1, 2 */
    double square[3]; /* 1024^3 for reference */
} Ceiling;

static void measure_ceiling(const Shape *s, int quick, Ceiling *out, cJSON *jshape) {
    GPTConfig c;
    TaskConfig tc;
    shape_config(s, "none", &c, &tc);
    const TaskOps *task = task_find(tc.name);
    const int T = task_max_train_input_len(task, &tc), Ntok = s->B * T;
    Gemm g[16];
    const int n = model_gemms(&c, Ntok, g);
    size_t maxA = 0, maxB = 0, maxC = 0;
    for (int i = 0; i < n; i++) {
        size_t a = (size_t)g[i].M * g[i].K, b = (size_t)g[i].K * g[i].N, cc = (size_t)g[i].M * g[i].N;
        if (a > maxA) maxA = a;
        if (b > maxB) maxB = b;
        if (cc > maxC) maxC = cc;
    }
    if (maxA < 1024 * 1024) maxA = maxB = maxC = 1024 * 1024;
    if (maxB < 1024 * 1024) maxB = 1024 * 1024;
    if (maxC < 1024 * 1024) maxC = 1024 * 1024;
    float *A = core_calloc(maxA, sizeof(float)), *Bm = core_calloc(maxB, sizeof(float)), *Cm = core_calloc(maxC, sizeof(float));
    for (size_t i = 0; i < maxA; i++) A[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < maxB; i++) Bm[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    memset(Cm, 0, maxC * sizeof(float));
    cJSON *jt = cJSON_AddArrayToObject(jshape, "per_gemm");
    /* 2 threads as training runs them: posenc's pool, each half of the rows a
     * 1-thread sgemm. Timed before any 2-thread OpenBLAS call: OpenBLAS's
     * idle worker spins for a while after one, on the pool's other core. */
    double tpool[sizeof g / sizeof g[0]];
    openblas_set_num_threads(1);
    par_set_threads(2);
    for (int i = 0; i < n; i++) {
        const double f = 2.0 * g[i].M * g[i].N * g[i].K;
        tpool[i] = time_gemm_by(&g[i], A, Bm, Cm, quick ? 2 : (f < 2e8 ? 10 : 4), 1);
    }
    for (int threads = 1; threads <= 2; threads++) {
        par_set_threads(1);
        openblas_set_num_threads(threads);
        double flops = 0.0, secs = 0.0;
        for (int i = 0; i < n; i++) {
            double f = 2.0 * g[i].M * g[i].N * g[i].K;
            int reps = quick ? 2 : (f < 2e8 ? 10 : 4);
            const double t = time_gemm(&g[i], A, Bm, Cm, reps);
            /* 2 threads: the faster of OpenBLAS's own threading and the pool's split */
            const double tbest = threads == 2 && tpool[i] < t ? tpool[i] : t;
            flops += f * g[i].count;
            secs += tbest * g[i].count;
            cJSON *o = threads == 1 ? cJSON_CreateObject() : cJSON_GetArrayItem(jt, i);
            if (threads == 1) {
                char op[64];
                snprintf(op, sizeof op, "%s %c%c %dx%dx%d", g[i].what, g[i].ta, g[i].tb, g[i].M, g[i].N, g[i].K);
                cJSON_AddStringToObject(o, "gemm", op);
                cJSON_AddNumberToObject(o, "calls_per_step", g[i].count);
                cJSON_AddItemToArray(jt, o);
            }
            cJSON_AddNumberToObject(o, threads == 1 ? "gflops_1t" : "gflops_2t", round(f / tbest / 1e9 * 10) / 10);
            if (threads == 2) {
                cJSON_AddNumberToObject(o, "gflops_2t_openblas", round(f / t / 1e9 * 10) / 10);
                cJSON_AddNumberToObject(o, "gflops_2t_pool", round(f / tpool[i] / 1e9 * 10) / 10);
            }
        }
        out->gflops[threads] = flops / secs / 1e9;
        Gemm sq = {'N', 'T', 1024, 1024, 1024, 1, "square"};
        out->square[threads] = 2.0 * 1024 * 1024 * 1024 / time_gemm(&sq, A, Bm, Cm, quick ? 2 : 4) / 1e9;
    }
    cJSON_AddNumberToObject(jshape, "tokens", Ntok);
    cJSON_AddNumberToObject(jshape, "gflops_1t", round(out->gflops[1] * 10) / 10);
    cJSON_AddNumberToObject(jshape, "gflops_2t", round(out->gflops[2] * 10) / 10);
    cJSON_AddNumberToObject(jshape, "square1024_gflops_1t", round(out->square[1] * 10) / 10);
    cJSON_AddNumberToObject(jshape, "square1024_gflops_2t", round(out->square[2] * 10) / 10);
    free(A);
    free(Bm);
    free(Cm);
}

/* ------------------------------------------------------------------------
 * Training throughput
 */

enum { PART_DATA = GPT_NUM_PARTS, PART_OPTIM, NUM_PARTS };
static const char *part_name(int i) {
    return i < GPT_NUM_PARTS ? gpt_part_names[i] : i == PART_DATA ? "data" : "optimizer";
}

typedef struct {
    double step_med, step_min; /* seconds */
    double tok_real, tok_pad;  /* per second, over the measured steps */
    double gflops, mfu;
    double parts[NUM_PARTS];   /* seconds per step */
    double mean_T;
    long allocs;
    int steps;
    double rss_mb, model_mb;
} TrainResult;

/* A model, its optimizer and a batch stream for one shape: what every
 * training measurement sets up the same way. */
typedef struct {
    GPTConfig c;
    TaskConfig tc;
    const TaskOps *task;
    GPT m;
    AdamW opt;
    Batch batch;
    Rng rng;
    int B;                   /* batch size */
    float lr, wd, clip;      /* the demo's train.lr, weight_decay, grad_clip; else 1e-3, 0.1, 1 */
} Trainer;

static void trainer_init(Trainer *t, const Shape *s, const char *pe, uint64_t data_seed) {
    shape_config(s, pe, &t->c, &t->tc);
    t->task = task_find(t->tc.name);
    t->B = s->B;
    t->lr = s->rc ? s->rc->train.lr : 1e-3f;
    t->wd = s->rc ? s->rc->train.weight_decay : 0.1f;
    t->clip = s->rc ? s->rc->train.grad_clip : 1.0f;
    if (gpt_build(&t->m, &t->c) != 0) {
        fprintf(stderr, "bench: %s\n", core_error());
        exit(1);
    }
    gpt_init_params(&t->m, 1);
    adamw_init(&t->opt, t->m.num_params, t->wd);
    const int Tmax = task_max_train_input_len(t->task, &t->tc);
    gpt_reserve(&t->m, t->B, Tmax, 1);
    memset(&t->batch, 0, sizeof t->batch);
    if (batch_alloc(&t->batch, t->B, Tmax) != 0) {
        fprintf(stderr, "bench: %s\n", core_error());
        exit(1);
    }
    rng_seed(&t->rng, data_seed);
}

/* Backward of the batch last forwarded, then gradient clipping and the
 * AdamW update (two calls so that the optimizer can be timed apart). */
static void trainer_backward(Trainer *t) {
    gpt_zero_grad(&t->m);
    gpt_backward(&t->m, t->batch.inputs, t->batch.targets, t->batch.pos);
}

static void trainer_optimize(Trainer *t) {
    float norm = grad_global_norm(&t->m);
    grad_clip(&t->m, norm, t->clip);
    adamw_step(&t->opt, &t->m, t->lr);
}

static void trainer_free(Trainer *t) {
    batch_free(&t->batch);
    adamw_free(&t->opt);
    gpt_free(&t->m);
}

/* Train `steps` measured steps (after `warmup`) or until `budget` seconds pass
 * (at least 3 steps). Same batch stream for every run of a shape. */
static void bench_train(const Shape *s, const char *pe, int threads, int warmup, int steps, double budget,
                        TrainResult *r) {
    memset(r, 0, sizeof *r);
    set_threads(threads);
    peak_rss_reset();
    Trainer tr;
    trainer_init(&tr, s, pe, 1234);
    GPT *m = &tr.m;
    Batch *batch = &tr.batch;
    double *times = core_calloc(steps + 1, sizeof(double));
    double flops = 0.0, total = 0.0, sumT = 0.0;
    long real = 0, pad = 0;
    int done = 0;
    const double t_start = now_s();
    for (int it = 0; it < warmup + steps; it++) {
        const int measured = it >= warmup;
        if (measured && done == 0) {
            memset(&m->profile, 0, sizeof m->profile);
            m->profile.enabled = 1;
            alloc_count = 0;
            alloc_counting = 1;
        }
        double t0 = now_s();
        batch_sample_train(batch, tr.task, &tr.tc, s->B, &tr.rng);
        double t1 = now_s();
        gpt_forward(m, batch->inputs, batch->targets, batch->pos, batch->B, batch->T);
        trainer_backward(&tr);
        double t3 = now_s();
        trainer_optimize(&tr);
        double t4 = now_s();
        if (measured) {
            times[done++] = t4 - t0;
            r->parts[PART_DATA] += t1 - t0;
            r->parts[PART_OPTIM] += t4 - t3;
            flops += step_flops(&tr.c, batch->B, batch->T, m->live);
            total += t4 - t0;
            sumT += batch->T;
            pad += (long)batch->B * batch->T;
            for (int b = 0; b < batch->B; b++) real += batch->lens[b];
            if (done >= 3 && now_s() - t_start > budget) break;
        }
    }
    alloc_counting = 0;
    r->allocs = alloc_count;
    r->steps = done;
    for (int i = 0; i < GPT_NUM_PARTS; i++) r->parts[i] = m->profile.seconds[i];
    for (int i = 0; i < NUM_PARTS; i++) r->parts[i] /= done;
    r->step_min = 1e30;
    for (int i = 0; i < done; i++)
        if (times[i] < r->step_min) r->step_min = times[i];
    r->step_med = median(times, done);
    r->tok_real = real / total;
    r->tok_pad = pad / total;
    r->gflops = flops / total / 1e9;
    r->mean_T = sumT / done;
    r->model_mb = (gpt_reserved_bytes(m) + 2.0 * m->num_params * sizeof(float)) / (1024.0 * 1024.0);
    r->rss_mb = peak_rss_mb();
    free(times);
    trainer_free(&tr);
}

static cJSON *train_json(const Shape *s, const char *pe, int threads, const TrainResult *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "shape", s->name);
    cJSON_AddStringToObject(o, "pe", pe);
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "steps", r->steps);
    cJSON_AddNumberToObject(o, "mean_padded_T", round(r->mean_T * 10) / 10);
    cJSON_AddNumberToObject(o, "step_ms_median", round(r->step_med * 1e5) / 100);
    cJSON_AddNumberToObject(o, "step_ms_min", round(r->step_min * 1e5) / 100);
    cJSON_AddNumberToObject(o, "tokens_per_s", round(r->tok_real));
    cJSON_AddNumberToObject(o, "padded_tokens_per_s", round(r->tok_pad));
    cJSON_AddNumberToObject(o, "gflops", round(r->gflops * 10) / 10);
    cJSON_AddNumberToObject(o, "mfu", round(r->mfu * 1000) / 1000);
    cJSON_AddNumberToObject(o, "allocations_in_steps", r->allocs);
    cJSON_AddNumberToObject(o, "peak_rss_mb", round(r->rss_mb * 10) / 10);
    cJSON_AddNumberToObject(o, "model_mb", round(r->model_mb * 10) / 10);
    cJSON *p = cJSON_AddObjectToObject(o, "ms_per_step");
    for (int i = 0; i < NUM_PARTS; i++) cJSON_AddNumberToObject(p, part_name(i), round(r->parts[i] * 1e5) / 100);
    return o;
}

static void print_parts(const Shape *s, int threads, const TrainResult *r) {
    double sum = 0.0;
    for (int i = 0; i < NUM_PARTS; i++) sum += r->parts[i];
    printf("  %-6s %dt:", s->name, threads);
    for (int i = 0; i < NUM_PARTS; i++) printf(" %s %.0f%%", part_name(i), 100.0 * r->parts[i] / sum);
    printf("  (%.2f ms/step)\n", sum * 1e3);
}

/* ------------------------------------------------------------------------
 * Evaluation throughput at long lengths
 */

static double bench_eval(const char *pe, int n, int samples, double *rss_mb) {
    set_threads(1);
    peak_rss_reset();
    GPTConfig c;
    TaskConfig tc;
    shape_config(&SMALL, pe, &c, &tc);
    const TaskOps *task = task_find("copy");
    snprintf(tc.name, sizeof tc.name, "copy");
    int B, T;
    eval_shape(task, &tc, n, samples, 64, &B, &T);
    c.P = T;
    GPT m;
    gpt_build(&m, &c);
    gpt_init_params(&m, 1);
    gpt_reserve_infer(&m, eval_infer_B(B, T), T);
    Batch batch = {0};
    batch_alloc(&batch, B, T);
    EvalResult r;
    evaluate_length(&m, task, &tc, n, B, 64, 7, 0, &batch, &r, NULL); /* warm-up */
    double t0 = now_s();
    evaluate_length(&m, task, &tc, n, samples, 64, 7, 0, &batch, &r, NULL);
    double t = now_s() - t0;
    *rss_mb = peak_rss_mb();
    batch_free(&batch);
    gpt_free(&m);
    return samples / t;
}

/* One demo run's evaluation, as `posenc run` evaluates it (run/evaluation.c,
 * eval_run): the model with room for the longest evaluation input, every
 * length of its eval.lengths at eval.samples in batches of eval.batch_size,
 * the per-position counts kept, on its train.threads; weights random (the
 * time does not depend on them). *total_s: the time of all its lengths;
 * *eps_4x: examples/s at n4x = 4 x task.max_len (its own timing if n4x is
 * an evaluation length, else timed apart, outside *total_s). */
static void bench_demo_eval(const RunConfig *cfg, int n4x, double *total_s, double *eps_4x) {
    set_threads(cfg->train.threads);
    const TaskOps *task = task_find(cfg->task.name);
    const EvalConfig *ev = &cfg->eval;
    int lengths[EVAL_MAX_LENGTHS + 1], nl = ev->num_lengths, has4x = 0;
    memcpy(lengths, ev->lengths, nl * sizeof *lengths);
    for (int i = 0; i < nl; i++) has4x |= lengths[i] == n4x;
    if (!has4x) lengths[nl] = n4x;
    int maxB = 1, maxT = 1, maxLen = 1;
    for (int i = 0; i < nl + !has4x; i++) {
        int B, T, len = task_input_len(task, &cfg->task, lengths[i]);
        eval_shape(task, &cfg->task, lengths[i], ev->samples, ev->batch_size, &B, &T);
        maxB = B > maxB ? B : maxB;
        maxT = T > maxT ? T : maxT;
        maxLen = len > maxLen ? len : maxLen;
    }
    GPTConfig c = cfg->model;
    if (maxLen > c.P) c.P = maxLen; /* as eval_run rebuilds the model */
    GPT m;
    if (gpt_build(&m, &c) != 0) {
        fprintf(stderr, "bench: %s\n", core_error());
        exit(1);
    }
    gpt_init_params(&m, 1);
    for (int i = 0; i < nl + !has4x; i++) {
        int B, T;
        eval_shape(task, &cfg->task, lengths[i], ev->samples, ev->batch_size, &B, &T);
        gpt_reserve_infer(&m, eval_infer_B(B, T), T);
    }
    Batch batch = {0};
    batch_alloc(&batch, maxB, maxT);
    PosAcc pa;
    posacc_init(&pa, (maxT > c.P ? maxT : c.P) + 1);
    EvalResult r;
    evaluate_length(&m, task, &cfg->task, n4x, ev->batch_size, ev->batch_size, ev->seed, 0, &batch, &r, &pa); /* warm-up */
    *total_s = 0.0;
    *eps_4x = 0.0;
    for (int i = 0; i < nl + !has4x; i++) {
        double t0 = now_s();
        evaluate_length(&m, task, &cfg->task, lengths[i], ev->samples, ev->batch_size, ev->seed, 0, &batch, &r, &pa);
        double t = now_s() - t0;
        if (i < nl) *total_s += t;
        if (lengths[i] == n4x) *eps_4x = ev->samples / t;
    }
    posacc_free(&pa);
    batch_free(&batch);
    gpt_free(&m);
}

/* ------------------------------------------------------------------------
 * Memory: bytes = fixed + a * (B*T) + b * (B*T*T), fitted and checked
 */

static double reserved(const Shape *s, int B, int T) {
    GPTConfig c;
    TaskConfig tc;
    shape_config(s, "none", &c, &tc);
    GPT m;
    gpt_build(&m, &c);
    gpt_reserve(&m, B, T, 1);
    /* less the attention kernels' scratch (a function of T alone, model/layers.h) */
    double bytes = (double)gpt_reserved_bytes(&m) -
                   (double)attention_scratch_floats((int)m.attn_scratch_T, c.C, c.NH) * sizeof(float);
    gpt_free(&m);
    return bytes;
}

static void bench_memory(const Shape *s, double *per_token, double *per_score, double *fixed, double *err) {
    const int B = 16, T = 32;
    double m0 = reserved(s, B, T), mB = reserved(s, 2 * B, T), mT = reserved(s, B, 2 * T);
    /* m(B,T) = f + a BT + b BT^2 */
    double d1 = mB - m0;                  /* a BT + b BT^2 */
    double d2 = mT - m0;                  /* a BT + 3 b BT^2 */
    double b = (d2 - d1) / (2.0 * B * T * T);
    double a = (d1 - b * B * T * T) / (B * T);
    *per_token = a;
    *per_score = b;
    *fixed = m0 - a * B * T - b * B * T * T;
    double pred = *fixed + a * 4 * B * 3 * T + b * 4 * B * 9.0 * T * T;
    *err = fabs(reserved(s, 4 * B, 3 * T) - pred);
}

/* ------------------------------------------------------------------------
 * Sweep split: 2 jobs x 1 thread vs 1 job x 2 threads (forked processes)
 */

/* One job of the split: a trainer per encoding of the demo (the demo's own
 * configs), trained in turn, steps/ncells each, as a sweep job after another. */
static void child_train(int threads, int steps, int ready_fd, int go_fd, int out_fd) {
    set_threads(threads);
    Trainer *tr = core_calloc(demo_ncells, sizeof *tr);
    for (int c = 0; c < demo_ncells; c++) {
        trainer_init(&tr[c], &DEMO, demo_cell[c]->model.pe, 99 + c);
        for (int i = 0; i < 3; i++) { /* warm-up */
            batch_sample_train(&tr[c].batch, tr[c].task, &tr[c].tc, tr[c].B, &tr[c].rng);
            gpt_forward(&tr[c].m, tr[c].batch.inputs, tr[c].batch.targets, tr[c].batch.pos, tr[c].batch.B,
                        tr[c].batch.T);
        }
    }
    char byte = 1;
    if (write(ready_fd, &byte, 1) != 1 || read(go_fd, &byte, 1) != 1) _exit(1);
    double t0 = now_s();
    for (int i = 0; i < steps; i++) {
        Trainer *t = &tr[(long)i * demo_ncells / steps];
        batch_sample_train(&t->batch, t->task, &t->tc, t->B, &t->rng);
        gpt_forward(&t->m, t->batch.inputs, t->batch.targets, t->batch.pos, t->batch.B, t->batch.T);
        trainer_backward(t);
        trainer_optimize(t);
    }
    double t = now_s() - t0;
    if (write(out_fd, &t, sizeof t) != sizeof t) _exit(1);
    _exit(0);
}

/* Steps per second of `jobs` concurrent processes with `threads` each. */
static double bench_split(int jobs, int threads, int steps) {
    int ready[2], go[2], out[2];
    if (pipe(ready) || pipe(go) || pipe(out)) {
        perror("pipe");
        exit(1);
    }
    fflush(stdout);
    pid_t pids[8];
    for (int j = 0; j < jobs; j++) {
        pids[j] = fork();
        if (pids[j] == 0) child_train(threads, steps, ready[1], go[0], out[1]);
    }
    char byte;
    for (int j = 0; j < jobs; j++)
        if (read(ready[0], &byte, 1) != 1) exit(1);
    double t0 = now_s();
    for (int j = 0; j < jobs; j++)
        if (write(go[1], &byte, 1) != 1) exit(1);
    for (int j = 0; j < jobs; j++) {
        double t;
        if (read(out[0], &t, sizeof t) != sizeof t) exit(1);
    }
    double wall = now_s() - t0;
    for (int j = 0; j < jobs; j++) waitpid(pids[j], NULL, 0);
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]), close(out[0]), close(out[1]);
    return jobs * steps / wall;
}

/* ------------------------------------------------------------------------
 * Main
 */

static void cpu_name(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(buf, cap, "%s", colon + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    }
    if (f) fclose(f);
}

typedef struct {
    char name[128];
    double value, target;
    int higher_is_better;
} Target;

/* Each target printed (its name padded to `width`) and added to the JSON array jtg. */
static void print_targets(const Target *tg, size_t n, int width, cJSON *jtg) {
    for (size_t i = 0; i < n; i++) {
        const int met = tg[i].higher_is_better ? tg[i].value >= tg[i].target : tg[i].value <= tg[i].target;
        printf("  %-*s %10.3f %s%9.3f  %s\n", width, tg[i].name, tg[i].value, tg[i].higher_is_better ? ">=" : "<=",
               tg[i].target, met ? "met" : "NOT MET");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "target", tg[i].name);
        cJSON_AddNumberToObject(o, "value", round(tg[i].value * 1000) / 1000);
        cJSON_AddNumberToObject(o, "threshold", tg[i].target);
        cJSON_AddBoolToObject(o, "met", met);
        cJSON_AddItemToArray(jtg, o);
    }
}

/* Median step ms of `bench --one SHAPE none THREADS STEPS` run as a child
 * with the pinned kernel (native = 0) or with POSENC_BLAS=native (OpenBLAS's
 * own kernel for this CPU, the environment's OPENBLAS_CORETYPE removed): the
 * same binary, so the difference is the kernel alone. -1 on failure. */
static double child_step_ms(const char *self, const char *shape, int threads, int steps, int native) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "env -u OPENBLAS_CORETYPE -u POSENC_BLAS_ORIG_CORETYPE POSENC_BLAS=%s '%s' --one %s none %d %d",
             native ? "native" : "pinned", self, shape, threads, steps);
    FILE *p = popen(cmd, "r");
    if (!p) return -1.0;
    char line[512];
    double ms = -1.0;
    while (fgets(line, sizeof line, p)) {
        const char *m = strstr(line, "median step ");
        if (m) ms = atof(m + 12);
    }
    return pclose(p) == 0 ? ms : -1.0;
}

/* The cost of reproducibility: pinned vs native kernel, interleaved
 * (native, pinned, native, pinned, ...) so that a shared machine's drift hits
 * both; the minimum of `reps` medians each (5 for the small shape, whose
 * short 2-thread steps this shared machine sometimes slows by half for a
 * whole run; 3 for the medium one). */
static void bench_repro_cost(const char *self, int quick, cJSON *root, double *worst) {
    static const struct { const char *shape; int steps, reps; } sh[] = {{"small", 60, 5}, {"medium", 6, 3}};
    cJSON *ja = cJSON_AddArrayToObject(root, "reproducibility_cost");
    printf("\ncost of reproducibility: step ms with OpenBLAS's native kernel for this CPU vs the pinned %s kernel\n"
           "(same binary, interleaved, min of %d (small) and %d (medium) medians)\n", BLAS_PINNED_KERNEL,
           quick ? 1 : sh[0].reps, quick ? 1 : sh[1].reps);
    *worst = 0.0;
    for (int s = 0; s < 2; s++)
        for (int t = 1; t <= 2; t++) {
            double best[2] = {1e30, 1e30};
            for (int r = 0; r < (quick ? 1 : sh[s].reps); r++)
                for (int native = 1; native >= 0; native--) {
                    double ms = child_step_ms(self, sh[s].shape, t, quick ? sh[s].steps / 3 + 2 : sh[s].steps, native);
                    if (ms > 0 && ms < best[native]) best[native] = ms;
                }
            const double ratio = best[0] / best[1];
            if (ratio > *worst) *worst = ratio;
            printf("  %-7s %d thread%s: native %8.2f ms   pinned %8.2f ms   pinned / native %.3f\n", sh[s].shape, t,
                   t > 1 ? "s" : " ", best[1], best[0], ratio);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "shape", sh[s].shape);
            cJSON_AddNumberToObject(o, "threads", t);
            cJSON_AddNumberToObject(o, "native_step_ms", round(best[1] * 100) / 100);
            cJSON_AddNumberToObject(o, "pinned_step_ms", round(best[0] * 100) / 100);
            cJSON_AddNumberToObject(o, "ratio", round(ratio * 1000) / 1000);
            cJSON_AddItemToArray(ja, o);
        }
}

/* ------------------------------------------------------------------------
 * Long context: one 16,384-token sequence through the inference path
 */

#define LONG_T 16384
static const char *const LONG_PES[] = {"alibi", "rope", "t5"};
enum { LONG_NPE = 3 };

typedef struct {
    double seconds, attention_s; /* per sequence, median over the reps */
    double rss_mb;
    long allocs;
} LongResult;

/* Attention's FLOPs of one sequence of T tokens: q.k and att@v, 2 * hs each
 * per (query, key) pair of the causal half, every head and layer. */
static double long_attention_flops(const GPTConfig *c, int T) {
    return 2.0 * 2.0 * c->C * ((double)T * (T + 1) / 2.0) * c->L;
}

/* `bench --long PE THREADS REPS` (a child of its own, so that its peak RSS is
 * the evaluation's alone): the small shape with random weights and room for
 * LONG_T positions, one sequence of LONG_T tokens, every token's successor a
 * counted target (as a language model's evaluation), REPS forward passes. */
static int long_child(const char *pe, int threads, int reps) {
    set_threads(threads);
    GPTConfig c;
    TaskConfig tc;
    shape_config(&SMALL, pe, &c, &tc);
    c.P = LONG_T;
    GPT m;
    if (gpt_build(&m, &c) != 0) {
        fprintf(stderr, "bench: %s\n", core_error());
        return 1;
    }
    gpt_init_params(&m, 1);
    gpt_reserve_infer(&m, 1, LONG_T);
    int *in = core_calloc(LONG_T, sizeof(int)), *tg = core_calloc(LONG_T, sizeof(int)), *pos = core_calloc(LONG_T, sizeof(int));
    Rng rng;
    rng_seed(&rng, 24);
    for (int t = 0; t < LONG_T; t++) in[t] = (int)(rng_uniform(&rng) * ALPHABET) % ALPHABET, pos[t] = t;
    for (int t = 0; t < LONG_T; t++) tg[t] = t + 1 < LONG_T ? in[t + 1] : in[0];
    double secs[16], att[16];
    long allocs = 0;
    if (reps > 16) reps = 16;
    m.profile.enabled = 1;
    for (int r = 0; r < reps; r++) {
        memset(m.profile.seconds, 0, sizeof m.profile.seconds);
        alloc_count = 0;
        alloc_counting = 1;
        const double t0 = now_s();
        gpt_infer(&m, in, tg, pos, 1, LONG_T);
        secs[r] = now_s() - t0;
        alloc_counting = 0;
        allocs += alloc_count;
        att[r] = m.profile.seconds[GPT_PART_ATTENTION];
    }
    printf("long %s %d: seconds %.4f attention %.4f allocations %ld peak_rss_mb %.1f loss %.6f\n", pe, threads,
           median(secs, reps), median(att, reps), allocs, peak_rss_mb(), m.mean_loss);
    free(in);
    free(tg);
    free(pos);
    gpt_free(&m);
    return 0;
}

/* One child: 0, or -1 if it failed. */
static int long_run(const char *self, const char *pe, int threads, int reps, LongResult *r) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "'%s' --long %s %d %d", self, pe, threads, reps);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    int got = 0;
    while (fgets(line, sizeof line, p)) {
        const char *at = strstr(line, ": seconds ");
        if (at && sscanf(at, ": seconds %lf attention %lf allocations %ld peak_rss_mb %lf", &r->seconds, &r->attention_s,
                         &r->allocs, &r->rss_mb) == 4)
            got = 1;
    }
    return pclose(p) == 0 && got ? 0 : -1;
}

/* The long-context rows: every encoding of LONG_PES on 1 and 2 threads, each
 * a child (long_run), into root's "long_context"; *out: the worst of each
 * target's value (NaN, allocations -1, if a child failed). ceil1t: the small
 * shape's 1-thread sgemm ceiling, GFLOP/s. */
typedef struct {
    double rss, share, scale;
    long allocs;
} LongSummary;

static void bench_long(const char *self, int quick, double ceil1t, cJSON *root, LongSummary *out) {
    LongResult lr[LONG_NPE][3];
    double long_rss = 0.0, long_share = 1e30, long_scale = 1e30;
    long long_allocs = 0;
    int long_failed = 0;
    GPTConfig lc;
    {
        TaskConfig ltc;
        shape_config(&SMALL, "none", &lc, &ltc);
    }
    const double long_flops = long_attention_flops(&lc, LONG_T);
    printf("\nlong context: one %d-token sequence, small shape (d_model %d, %d layers, %d heads), inference path: "
           "s per sequence, attention s, attention GFLOP/s (of the 1-thread sgemm ceiling, %.1f), peak RSS MiB\n",
           LONG_T, lc.C, lc.L, lc.NH, ceil1t);
    cJSON *jl = cJSON_AddArrayToObject(root, "long_context");
    for (int p = 0; p < LONG_NPE; p++)
        for (int t = 1; t <= 2; t++) {
            LongResult *r = &lr[p][t];
            if (long_run(self, LONG_PES[p], t, quick ? 1 : 3, r) != 0) {
                fprintf(stderr, "bench: the long-context child for %s on %d thread(s) failed\n", LONG_PES[p], t);
                *r = (LongResult){NAN, NAN, NAN, -1};
                long_failed = 1;
                continue;
            }
            const double gf = long_flops / r->attention_s / 1e9, share = gf / ceil1t;
            printf("  %-6s %d thread%s %8.2f s %8.2f s %8.1f GFLOP/s (%5.1f%%) %8.1f MiB, %ld allocations\n",
                   LONG_PES[p], t, t > 1 ? "s" : " ", r->seconds, r->attention_s, gf, 100 * share, r->rss_mb, r->allocs);
            if (r->rss_mb > long_rss) long_rss = r->rss_mb;
            if (t == 1 && share < long_share) long_share = share;
            long_allocs += r->allocs;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "pe", LONG_PES[p]);
            cJSON_AddNumberToObject(o, "tokens", LONG_T);
            cJSON_AddNumberToObject(o, "threads", t);
            cJSON_AddNumberToObject(o, "seconds_per_sequence", round(r->seconds * 1000) / 1000);
            cJSON_AddNumberToObject(o, "attention_seconds", round(r->attention_s * 1000) / 1000);
            cJSON_AddNumberToObject(o, "attention_gflops", round(gf * 10) / 10);
            cJSON_AddNumberToObject(o, "attention_of_ceiling_1t", round(share * 1000) / 1000);
            cJSON_AddNumberToObject(o, "peak_rss_mb", round(r->rss_mb * 10) / 10);
            cJSON_AddNumberToObject(o, "allocations", (double)r->allocs);
            cJSON_AddItemToArray(jl, o);
        }
    for (int p = 0; p < LONG_NPE; p++)
        if (lr[p][1].seconds / lr[p][2].seconds < long_scale) long_scale = lr[p][1].seconds / lr[p][2].seconds;
    if (long_failed) long_rss = long_share = long_scale = NAN, long_allocs = -1;
    *out = (LongSummary){long_rss, long_share, long_scale, long_allocs};
}

/* The long-context targets (the last four of main's). */
#define LONG_TARGETS(ls)                                                                                           \
    {"long context (16,384 tokens): peak RSS <= 256 MiB (worst of alibi, rope, t5 on 1 and 2 threads)", (ls).rss,   \
     256.0, 0},                                                                                                    \
    {"long context, 1 thread: attention >= 40% of the 1-thread sgemm ceiling (worst encoding)", (ls).share, 0.40,  \
     1},                                                                                                           \
    {"long context: 2 threads >= 1.8x 1 thread (sequences/s, worst encoding)", (ls).scale, 1.8, 1},               \
    {"allocations inside long-context forward passes = 0", (double)(ls).allocs, 0.0, 0}

/* ---- the sections of a full run --------------------------------------------- */

typedef struct {
    const char *json_path, *demo_path;
    int quick, one_threads, one_steps, long_only;
    const char *one_shape, *one_pe; /* --one: one training run */
} BenchOptions;

/* The options: 0, or 2 after printing the usage. */
static int bench_options(int argc, char **argv, BenchOptions *o) {
    *o = (BenchOptions){"bench.json", DEMO_SPEC_DEFAULT, 0, 1, 20, 0, NULL, "none"};
    const char *json_path = o->json_path, *demo_path = o->demo_path;
    int quick = 0, one_threads = 1, one_steps = 20, long_only = 0;
    const char *one_shape = NULL, *one_pe = "none";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--one") == 0 && i + 4 < argc) {
            one_shape = argv[++i];
            one_pe = argv[++i];
            one_threads = atoi(argv[++i]);
            one_steps = atoi(argv[++i]);
        }
        else if (strcmp(argv[i], "--long-only") == 0)
            long_only = 1;
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            json_path = argv[++i];
        else if (strcmp(argv[i], "--demo") == 0 && i + 1 < argc)
            demo_path = argv[++i];
        else {
            fprintf(stderr, "usage: bench [--quick] [--long-only] [--json PATH] [--demo SPEC] [--one SHAPE PE THREADS STEPS]\n"
                            "       bench --long PE THREADS REPS\n"
                            "       bench --markdown RUN.json [MORE.json ...]\n"
                            "  --quick      fewer repetitions (a rough figure)\n"
                            "  --json PATH  where to write the results (default bench.json)\n"
                            "  --demo SPEC  the demo's spec, whose settings the demo rows measure\n"
                            "               (default " DEMO_SPEC_DEFAULT ")\n"
                            "  --one ...    only one training run (small|medium|demo), e.g. under perf\n"
                            "  --long ...   only one long-context evaluation (16,384 tokens), REPS forward passes\n"
                            "  --long-only  only the small shape's sgemm ceiling and the long-context rows and targets\n"
                            "  --markdown   print docs/PERFORMANCE.md's block from a run's bench.json\n"
                            "               (later runs of the same build: their targets beside it)\n");
            return 2;
        }
    }
    if (one_shape && strcmp(one_shape, "small") != 0 && strcmp(one_shape, "medium") != 0 &&
        strcmp(one_shape, "demo") != 0) {
        fprintf(stderr, "bench: --one: unknown shape \"%s\" (small, medium or demo)\n", one_shape);
        return 2;
    }
    *o = (BenchOptions){json_path, demo_path, quick, one_threads, one_steps, long_only, one_shape, one_pe};
    return 0;
}

/* The machine: bench.json's root with its "machine" object, and the header line. */
static cJSON *bench_machine(int quick) {
    cJSON *root = cJSON_CreateObject();
    char cpu[256], date[64];
    cpu_name(cpu, sizeof cpu);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cJSON *jm = cJSON_AddObjectToObject(root, "machine");
    cJSON_AddStringToObject(jm, "cpu", cpu);
    cJSON_AddNumberToObject(jm, "cores", (double)ncpu);
    cJSON_AddStringToObject(jm, "openblas", openblas_get_config());
    cJSON_AddStringToObject(jm, "openblas_core", openblas_get_corename());
    cJSON_AddStringToObject(jm, "date", date);
    cJSON_AddBoolToObject(jm, "quick", quick);
    printf("posenc bench — %s, %ld cores, OpenBLAS %s (%s kernels)%s\n\n", cpu, ncpu, openblas_get_config(),
           openblas_get_corename(), quick ? " [--quick]" : "");

    return root;
}

/* The sgemm ceilings of the two shapes. */
static void bench_ceilings(const Shape *const shapes[2], int quick, Ceiling ceil[2], cJSON *root) {
    /* 2. ceilings */
    cJSON *jc = cJSON_AddObjectToObject(root, "ceiling");
    printf("sgemm ceiling (GFLOP/s at the model's shapes; 1024^3 for reference)\n");
    printf("  %-8s %10s %10s %14s %14s\n", "shape", "1 thread", "2 threads", "1024^3 1t", "1024^3 2t");
    for (int s = 0; s < 2; s++) {
        measure_ceiling(shapes[s], quick, &ceil[s], cJSON_AddObjectToObject(jc, shapes[s]->name));
        printf("  %-8s %10.1f %10.1f %14.1f %14.1f\n", shapes[s]->name, ceil[s].gflops[1], ceil[s].gflops[2],
               ceil[s].square[1], ceil[s].square[2]);
    }
}

/* Training throughput of the two shapes on 1 and 2 threads (tr[s][t]), and where a step goes. */
static void bench_training(const Shape *const shapes[2], int quick, const Ceiling ceil[2], TrainResult tr[2][3],
                           cJSON *root) {
    /* 3. training throughput */
    printf("\ntraining step (pe none; tokens/s real | padded; MFU = achieved / sgemm ceiling at the same threads)\n");
    printf("  %-7s %3s %6s %10s %10s %11s %9s %6s %7s %8s %7s\n", "shape", "thr", "T", "step ms", "tok/s",
           "padded/s", "GFLOP/s", "MFU", "allocs", "RSS MiB", "model");
    cJSON *jt = cJSON_AddArrayToObject(root, "train");
    for (int s = 0; s < 2; s++) {
        for (int t = 1; t <= 2; t++) {
            TrainResult *r = &tr[s][t];
            int big = s == 1;
            bench_train(shapes[s], "none", t, big ? 2 : 5, quick ? (big ? 3 : 15) : (big ? 8 : 60),
                        quick ? 4.0 : (big ? 15.0 : 6.0), r);
            r->mfu = r->gflops / ceil[s].gflops[t];
            printf("  %-7s %3d %6.1f %10.2f %10.0f %11.0f %9.1f %5.1f%% %7ld %8.1f %7.1f\n", shapes[s]->name, t,
                   r->mean_T, r->step_med * 1e3, r->tok_real, r->tok_pad, r->gflops, 100 * r->mfu, r->allocs,
                   r->rss_mb, r->model_mb);
            cJSON_AddItemToArray(jt, train_json(shapes[s], "none", t, r));
        }
    }
    printf("\ntime split per step (share of the step)\n");
    for (int s = 0; s < 2; s++)
        for (int t = 1; t <= 2; t++) print_parts(shapes[s], t, &tr[s][t]);
}

/* Every registered encoding (none first) into pes; their count. */
static int encoding_names(const char *pes[16]) {
    const int npe = pe_count() < 16 ? pe_count() : 16;
    for (int p = 0; p < npe; p++) pes[p] = pe_at(p)->name;
    return npe;
}

/* Each encoding's step relative to none on 1 thread: the worst ratio (its shape and name in worst_name). */
static double bench_encodings(const Shape *const shapes[2], int quick, cJSON *root, char *worst_name,
                              size_t worst_cap) {
    /* 4. encodings relative to none, 1 thread */
    /* every registered encoding (none first) */
    const char *pes[16];
    const int npe = encoding_names(pes);
    double worst_pe = 0.0;
    worst_name[0] = '\0';
    cJSON *je = cJSON_AddArrayToObject(root, "encodings");
    printf("\nencodings, 1 thread: median step ms (ratio to none)\n");
    for (int s = 0; s < 2; s++) {
        printf("  %-7s", shapes[s]->name);
        double base = 0.0;
        for (int p = 0; p < npe; p++) {
            TrainResult r;
            int big = s == 1;
            bench_train(shapes[s], pes[p], 1, big ? 1 : 5, quick ? (big ? 3 : 15) : (big ? 5 : 40),
                        quick ? 3.0 : (big ? 8.0 : 4.0), &r);
            if (p == 0) base = r.step_med;
            double ratio = r.step_med / base;
            if (ratio > worst_pe) {
                worst_pe = ratio;
                snprintf(worst_name, worst_cap, "%s %s", shapes[s]->name, pes[p]);
            }
            printf(" %s %.2f (%.3f)", pes[p], r.step_med * 1e3, ratio);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "shape", shapes[s]->name);
            cJSON_AddStringToObject(o, "pe", pes[p]);
            cJSON_AddNumberToObject(o, "step_ms_median", round(r.step_med * 1e5) / 100);
            cJSON_AddNumberToObject(o, "ratio_to_none", round(ratio * 1000) / 1000);
            cJSON_AddNumberToObject(o, "allocations_in_steps", r.allocs);
            cJSON_AddItemToArray(je, o);
        }
        printf("\n");
    }
    return worst_pe;
}

/* Evaluation speed: the small model at n = 64 per encoding, and the demo's
 * models at 4x their training length; one demo run's evaluation in seconds
 * (the mean over the demo's encodings). */
static double bench_evaluations(int quick, const char *demo_path, cJSON *root) {
    const char *pes[16];
    const int npe = encoding_names(pes);
    /* 5. evaluation at n = 64 */
    cJSON *jv = cJSON_AddArrayToObject(root, "eval");
    printf("\nevaluation, small model, copy n = 64 (T = 130), batch 64, 1 thread: examples/s\n ");
    for (int p = 0; p < npe; p++) {
        double rss;
        double eps = bench_eval(pes[p], 64, quick ? 128 : 512, &rss);
        printf(" %s %.0f", pes[p], eps);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "pe", pes[p]);
        cJSON_AddNumberToObject(o, "n", 64);
        cJSON_AddNumberToObject(o, "examples_per_s", round(eps));
        cJSON_AddNumberToObject(o, "peak_rss_mb", round(rss * 10) / 10);
        cJSON_AddItemToArray(jv, o);
    }
    printf("\n");
    /* the demo model at 4x its longest training length, and one demo run's whole evaluation */
    const RunConfig *dc = demo_cell[0];
    const int demo_n4x = 4 * dc->task.max_len;
    double demo_eval_s = 0.0; /* one run's evaluation, mean over the demo's encodings */
    printf("evaluation, demo model (%s), %s n = %d (4x), batch %d, %d thread%s: examples/s; one demo run's "
           "evaluation (%d lengths x %d examples): s\n ",
           demo_path, dc->task.name, demo_n4x, dc->eval.batch_size, dc->train.threads,
           dc->train.threads > 1 ? "s" : "", dc->eval.num_lengths, dc->eval.samples);
    cJSON *jde = cJSON_AddArrayToObject(root, "eval_demo");
    for (int c = 0; c < demo_ncells; c++) {
        double secs, eps;
        bench_demo_eval(demo_cell[c], demo_n4x, &secs, &eps);
        demo_eval_s += secs / demo_ncells;
        printf(" %s %.0f (%.2f s)", demo_cell[c]->model.pe, eps, secs);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "pe", demo_cell[c]->model.pe);
        cJSON_AddNumberToObject(o, "n", demo_n4x);
        cJSON_AddNumberToObject(o, "examples_per_s", round(eps));
        cJSON_AddNumberToObject(o, "run_eval_seconds", round(secs * 1000) / 1000);
        cJSON_AddItemToArray(jde, o);
    }
    printf("\n");
    return demo_eval_s;
}

/* The memory the model reserves, fitted per token and per attention score. */
static void bench_memory_use(const Shape *const shapes[2], cJSON *root) {
    /* 6. memory */
    cJSON *jmem = cJSON_AddObjectToObject(root, "memory");
    printf("\nmemory reserved by the model (training: parameters, grads, activations, scratch)\n");
    for (int s = 0; s < 2; s++) {
        double a, b, f, err;
        bench_memory(shapes[s], &a, &b, &f, &err);
        printf("  %-7s %.0f bytes per token + %.0f bytes per attention score (B*T*T) + %.2f MiB fixed "
               "(+ %d bytes per position of T rounded up to 8, attention scratch); fit error at 4B x 3T: %.0f bytes\n",
               shapes[s]->name, a, b, f / 1048576.0,
               (int)(attention_scratch_floats(8, shapes[s]->C, shapes[s]->NH) / 8 * sizeof(float)), err);
        cJSON *o = cJSON_AddObjectToObject(jmem, shapes[s]->name);
        cJSON_AddNumberToObject(o, "bytes_per_token", round(a));
        cJSON_AddNumberToObject(o, "bytes_per_attention_score", round(b));
        cJSON_AddNumberToObject(o, "fixed_bytes", round(f));
        cJSON_AddNumberToObject(o, "fit_error_bytes", round(err));
    }
}

/* What `make demo` costs, from its measured parts. */
typedef struct {
    int runs;
    double est_s, eval_share;
} DemoCost;

/* The sweep split's steps/s (sp: 1x1, 1x2, 2x1, 2x2 jobs x threads) and the demo's cost from them. */
static DemoCost bench_demo_cost(const char *demo_path, const double sp[4], double demo_eval_s, cJSON *root) {
    /* 8. sweep split */
    char pes_list[512] = "";
    for (int c = 0; c < demo_ncells; c++)
        snprintf(pes_list + strlen(pes_list), sizeof pes_list - strlen(pes_list), "%s%s", c ? ", " : "",
                 demo_cell[c]->model.pe);
    printf("\nsweep split, demo model (%s: d%d L%d H%d, %s %d..%d, batch %d; each job trains %s in turn): "
           "steps/s of all jobs together\n",
           demo_path, DEMO.C, DEMO.L, DEMO.NH, DEMO.task, DEMO.min_len, DEMO.max_len, DEMO.B, pes_list);
    const double sp11 = sp[0], sp12 = sp[1], sp21 = sp[2], sp22 = sp[3];
    printf("  1 job x 1 thread %.1f   1 job x 2 threads %.1f   2 jobs x 1 thread %.1f   2 jobs x 2 threads %.1f\n",
           sp11, sp12, sp21, sp22);
    const char *best = sp21 >= sp12 && sp21 >= sp22 ? "2 jobs x 1 thread"
                       : sp12 >= sp22              ? "1 job x 2 threads"
                                                   : "2 jobs x 2 threads";
    const double sp_best = fmax(fmax(sp11, sp12), fmax(sp21, sp22));
    printf("  best: %s (%.1f steps/s)\n", best, sp_best);
    cJSON *js = cJSON_AddObjectToObject(root, "sweep_split");
    cJSON_AddStringToObject(js, "spec", demo_path);
    cJSON_AddNumberToObject(js, "batch_size", DEMO.B);
    cJSON_AddStringToObject(js, "encodings", pes_list);
    cJSON_AddNumberToObject(js, "steps_per_s_1job_1thread", round(sp11 * 10) / 10);
    cJSON_AddNumberToObject(js, "steps_per_s_1job_2threads", round(sp12 * 10) / 10);
    cJSON_AddNumberToObject(js, "steps_per_s_2jobs_1thread", round(sp21 * 10) / 10);
    cJSON_AddNumberToObject(js, "steps_per_s_2jobs_2threads", round(sp22 * 10) / 10);
    cJSON_AddStringToObject(js, "best", best);
    cJSON_AddNumberToObject(js, "best_steps_per_s", round(sp_best * 10) / 10);

    /* the demo from its measured parts. Training: train.steps per run at the
     * best split's steps/s of all jobs together (its jobs training the demo's
     * encodings in turn). Evaluation: one run's evaluation time as measured
     * above in one process on its own (the mean over the encodings), added per
     * run as the demo's cost formula has it although a sweep's concurrent jobs
     * evaluate side by side: on the safe side. Not counted: building, process
     * start, checkpoints, logs, the aggregation, plots and report of `make
     * demo` (a few seconds: docs/PERFORMANCE.md). The evaluation share uses the
     * measured 1-thread demo step rate (the split's 1 job x 1 thread). */
    const RunConfig *dc = demo_cell[0];
    const int demo_runs = demo_spec.num_jobs, demo_steps = dc->train.steps;
    const double demo_train_s = demo_runs * (double)demo_steps / sp_best;
    const double demo_est_s = demo_train_s + demo_runs * demo_eval_s;
    const double demo_train_1t_s = demo_steps / sp11;
    const double eval_share = demo_eval_s / (demo_eval_s + demo_train_1t_s);
    printf("  make demo (%d runs x %d steps), estimate from measured parts: training %.1f s at %.1f steps/s + "
           "evaluation %d x %.2f s = %.1f s\n",
           demo_runs, demo_steps, demo_train_s, sp_best, demo_runs, demo_eval_s, demo_est_s);
    printf("  one demo run on 1 thread: training %.1f s (%d steps at %.1f steps/s), evaluation %.2f s (%.1f%%)\n",
           demo_train_1t_s, demo_steps, sp11, demo_eval_s, 100 * eval_share);
    cJSON *jd = cJSON_AddObjectToObject(root, "demo");
    cJSON_AddStringToObject(jd, "spec", demo_path);
    cJSON_AddNumberToObject(jd, "runs", demo_runs);
    cJSON_AddNumberToObject(jd, "train_steps", demo_steps);
    cJSON_AddNumberToObject(jd, "best_split_steps_per_s", round(sp_best * 10) / 10);
    cJSON_AddNumberToObject(jd, "estimate_train_seconds", round(demo_train_s * 10) / 10);
    cJSON_AddNumberToObject(jd, "run_eval_seconds", round(demo_eval_s * 1000) / 1000);
    cJSON_AddNumberToObject(jd, "estimate_wall_seconds", round(demo_est_s * 10) / 10);
    cJSON_AddNumberToObject(jd, "run_train_seconds_1thread", round(demo_train_1t_s * 10) / 10);
    cJSON_AddNumberToObject(jd, "eval_share", round(eval_share * 1000) / 1000);

    return (DemoCost){demo_runs, demo_est_s, eval_share};
}

/* The targets, each met or not, and for a training target not met where its step goes. */
static void bench_targets(const Shape *const shapes[2], TrainResult tr[2][3], const Ceiling ceil[2],
                          const DemoCost *cost, double worst_pe, const char *worst_name, double repro_worst,
                          const LongSummary *ls, cJSON *root) {
    /* 9. targets */
    long allocs = 0;
    for (int s = 0; s < 2; s++)
        for (int t = 1; t <= 2; t++) allocs += tr[s][t].allocs;
    const double scaling = tr[1][1].step_med / tr[1][2].step_med; /* medium: 2-thread step rate / 1-thread */
    enum { T_SMALL1, T_MED1, T_MED2, T_SCALE };
    Target tg[] = {
        [T_SMALL1] = {"small 1 thread (padded): MFU >= 70%", tr[0][1].mfu, 0.70, 1},
        [T_MED1] = {"medium 1 thread: MFU >= 75%", tr[1][1].mfu, 0.75, 1},
        [T_MED2] = {"medium 2 threads: MFU >= 70%", tr[1][2].mfu, 0.70, 1},
        [T_SCALE] = {"medium 2 threads: step rate >= 1.8x 1 thread (ratio of medians)", scaling, 1.8, 1},
        {"", cost->est_s, 300.0, 0},
        {"", worst_pe, 1.10, 0},
        {"allocations inside training steps = 0", (double)allocs, 0.0, 0},
        {"evaluation share of a demo run <= 10%", cost->eval_share, 0.10, 0},
        {"reproducibility: pinned kernel step <= 1.05x native (worst shape/threads)", repro_worst, 1.05, 0},
        LONG_TARGETS(*ls),
    };
    snprintf(tg[4].name, sizeof tg[4].name, "make demo (%d runs) <= 300 s wall [estimate from measured parts] (s)",
             cost->runs);
    snprintf(tg[5].name, sizeof tg[5].name, "every encoding within 10%% of none (worst: %s)", worst_name);
    printf("\ntargets%78s %11s\n", "value", "threshold");
    print_targets(tg, sizeof tg / sizeof tg[0], 72, cJSON_AddArrayToObject(root, "targets"));
    /* closing note: for each training target not met, where its step goes */
    const struct { int s, t, tg; } runs[] = {{0, 1, T_SMALL1}, {1, 1, T_MED1}, {1, 2, T_MED2}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const TrainResult *r = &tr[runs[i].s][runs[i].t];
        const double target = tg[runs[i].tg].target;
        if (r->mfu >= target) continue;
        double sum = 0.0;
        for (int p = 0; p < NUM_PARTS; p++) sum += r->parts[p];
        printf("  limit, %s %dt (MFU %.1f%% < %.0f%%): step split", shapes[runs[i].s]->name, runs[i].t, 100 * r->mfu,
               100 * target);
        for (int p = 0; p < NUM_PARTS; p++)
            if (r->parts[p] / sum >= 0.02) printf(" %s %.0f%%", part_name(p), 100 * r->parts[p] / sum);
        printf("; attn linear and mlp are sgemm-bound (plus GELU), the rest is element-wise or attention work\n");
    }
    if (scaling < tg[T_SCALE].target) { /* which parts of the medium step do not halve on 2 threads */
        const TrainResult *r1 = &tr[1][1], *r2 = &tr[1][2];
        printf("  limit, medium 2t / 1t (%.2fx < %.1fx): speed-up per part (share of the 2-thread step)",
               scaling, tg[T_SCALE].target);
        double sum2 = 0.0;
        for (int p = 0; p < NUM_PARTS; p++) sum2 += r2->parts[p];
        for (int p = 0; p < NUM_PARTS; p++)
            if (r2->parts[p] / sum2 >= 0.02 && r2->parts[p] > 0)
                printf(" %s %.2fx (%.0f%%)", part_name(p), r1->parts[p] / r2->parts[p], 100 * r2->parts[p] / sum2);
        printf("; sgemm ceiling 2t / 1t %.2fx\n", ceil[1].gflops[2] / ceil[1].gflops[1]);
    }
}

/* `bench --long-only`: the small shape's ceiling, the long-context rows and
 * their targets, into json_path (bench --markdown renders what it holds). */
static int bench_long_only(int quick, const char *json_path) {
    const double t_all = now_s();
    cJSON *root = cJSON_CreateObject();
    char cpu[256], date[64], self[4096];
    cpu_name(cpu, sizeof cpu);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    cJSON *jm = cJSON_AddObjectToObject(root, "machine");
    cJSON_AddStringToObject(jm, "cpu", cpu);
    cJSON_AddNumberToObject(jm, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddStringToObject(jm, "openblas", openblas_get_config());
    cJSON_AddStringToObject(jm, "openblas_core", openblas_get_corename());
    cJSON_AddStringToObject(jm, "date", date);
    cJSON_AddBoolToObject(jm, "quick", quick);
    cJSON_AddBoolToObject(jm, "long_only", 1);
    Ceiling ce;
    measure_ceiling(&SMALL, quick, &ce, cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "ceiling"), "small"));
    printf("sgemm ceiling, small shape: %.1f GFLOP/s on 1 thread\n", ce.gflops[1]);
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = '\0';
    LongSummary ls;
    bench_long(self, quick, ce.gflops[1], root, &ls);
    Target tg[] = {LONG_TARGETS(ls)};
    printf("\ntargets\n");
    print_targets(tg, sizeof tg / sizeof tg[0], 100, cJSON_AddArrayToObject(root, "targets"));
    cJSON_AddNumberToObject(root, "bench_seconds", round((now_s() - t_all) * 10) / 10);
    char *text = cJSON_Print(root);
    const size_t len = strlen(text);
    text = core_realloc(text, len + 2);
    memcpy(text + len, "\n", 2);
    const int rc = file_write_atomic(json_path, text, len + 1);
    if (rc != 0) fprintf(stderr, "bench: %s\n", core_error());
    else printf("\nwrote %s\n", json_path);
    free(text);
    cJSON_Delete(root);
    return rc != 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--markdown") == 0) return bench_markdown(argc - 2, argv + 2);
    if (blas_pin(argv) != 0) { /* what posenc runs (POSENC_BLAS=native: OpenBLAS's choice) */
        fprintf(stderr, "bench: %s\n", core_error());
        return 1;
    }
    if (argc == 5 && strcmp(argv[1], "--long") == 0) return long_child(argv[2], atoi(argv[3]), atoi(argv[4]));
    BenchOptions o;
    if (bench_options(argc, argv, &o) != 0) return 2;
    const int quick = o.quick;
    if (o.long_only) return bench_long_only(quick, o.json_path);
    if (!o.one_shape || strcmp(o.one_shape, "demo") == 0) demo_load(o.demo_path);
    if (o.one_shape) { /* one training run, e.g. under perf */
        const Shape *s = strcmp(o.one_shape, "medium") == 0 ? &MEDIUM : strcmp(o.one_shape, "demo") == 0 ? &DEMO : &SMALL;
        TrainResult r;
        bench_train(s, o.one_pe, o.one_threads, 2, o.one_steps, 1e9, &r);
        printf("%s %s %dt: median step %.2f ms, %.1f GFLOP/s, %ld allocations in steps\n", s->name, o.one_pe,
               o.one_threads, r.step_med * 1e3, r.gflops, r.allocs);
        print_parts(s, o.one_threads, &r);
        return 0;
    }
    const double t_all = now_s();
    cJSON *root = bench_machine(quick);

    /* 1. sweep split first, while this process is small (children fork from it) */
    const int split_steps = quick ? 60 : 200;
    double sp[4];
    sp[0] = bench_split(1, 1, split_steps), sp[1] = bench_split(1, 2, split_steps);
    sp[2] = bench_split(2, 1, split_steps), sp[3] = bench_split(2, 2, split_steps);
    /* 2. ceilings, 3. training throughput, 4. encodings, 5. evaluation, 6. memory */
    const Shape *const shapes[2] = {&SMALL, &MEDIUM};
    Ceiling ceil[2];
    bench_ceilings(shapes, quick, ceil, root);
    TrainResult tr[2][3];
    bench_training(shapes, quick, ceil, tr, root);
    char worst_name[64];
    const double worst_pe = bench_encodings(shapes, quick, root, worst_name, sizeof worst_name);
    const double demo_eval_s = bench_evaluations(quick, o.demo_path, root);
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = '\0';
    /* 5b. long context: each (encoding, threads) a child of its own */
    LongSummary ls;
    bench_long(self, quick, ceil[0].gflops[1], root, &ls);
    bench_memory_use(shapes, root);
    /* 7. the cost of reproducibility (children: this binary with each kernel) */
    double repro_worst = 0.0;
    bench_repro_cost(self, quick, root, &repro_worst);
    /* 8. sweep split and the demo's cost, 9. targets */
    const DemoCost cost = bench_demo_cost(o.demo_path, sp, demo_eval_s, root);
    bench_targets(shapes, tr, ceil, &cost, worst_pe, worst_name, repro_worst, &ls, root);

    const char *json_path = o.json_path;
    const double total = now_s() - t_all;
    cJSON_AddNumberToObject(root, "bench_seconds", round(total * 10) / 10);
    char *text = cJSON_Print(root);
    const size_t len = strlen(text);
    text = core_realloc(text, len + 2);
    memcpy(text + len, "\n", 2);
    if (file_write_atomic(json_path, text, len + 1) != 0) { /* the one writer (core/fsutil.h) */
        fprintf(stderr, "bench: %s\n", core_error());
        return 1;
    }
    printf("\nwrote %s (%.0f s)\n", json_path, total);
    free(text);
    cJSON_Delete(root);
    return 0;
}
