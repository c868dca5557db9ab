/*
 * test_repro.c — one result per config: the same bytes whatever the thread
 * count, the OpenBLAS kernel the environment asks for, the evaluation batch
 * size; deterministic elementary functions; provenance recorded and checked.
 * (docs/REPRODUCIBILITY.md.)
 */
#include <cJSON.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/dmath.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "data/task.h"
#include "run/provenance.h"
#include "tests/testutil.h"

/* ---- deterministic elementary functions -------------------------------- */

static double ulps(double a, double b) {
    if (a == b) return 0.0;
    double d = fabs(a - b), m = fabs(b) > 1e-300 ? fabs(b) : 1e-300;
    return d / (m * 2.220446049250313e-16);
}

/* Within a few ulps of a double of the C library's (glibc: < 1 ulp) over
 * the ranges posenc uses them on; the special values as C99 Annex F says. */
START_TEST(test_dmath_accuracy) {
    Rng r;
    rng_seed(&r, 42);
    double worst[7] = {0};
    for (int i = 0; i < 200000; i++) {
        const double u = (double)rng_u64(&r) / 18446744073709551616.0;
        double x = (u - 0.5) * 1400.0;
        if (exp(x) > 1e-300) worst[0] = fmax(worst[0], ulps(dm_exp(x), exp(x)));
        x = exp((u - 0.5) * 1400.0);
        if (fabs(log(x)) > 1e-3) worst[1] = fmax(worst[1], ulps(dm_log(x), log(x)));
        x = (u - 0.5) * 2.0e6; /* position x frequency stays below 2^20 pi/2 */
        worst[2] = fmax(worst[2], fabs(dm_sin(x) - sin(x)) / 2.220446049250313e-16);
        worst[3] = fmax(worst[3], fabs(dm_cos(x) - cos(x)) / 2.220446049250313e-16);
        x = (u - 0.5) * 1.9;
        if (x != 0.0) {
            worst[4] = fmax(worst[4], ulps(dm_log1p(x), log1p(x)));
            worst[5] = fmax(worst[5], ulps(dm_expm1(x), expm1(x)));
        }
        x = 1.0 + u * 20000.0;
        const double y = (u - 0.5) * 4.0;
        worst[6] = fmax(worst[6], ulps(dm_pow(x, y), pow(x, y)));
    }
    const char *names[7] = {"exp", "log", "sin (abs)", "cos (abs)", "log1p", "expm1", "pow"};
    const double tol[7] = {4, 4, 4, 4, 6, 6, 64}; /* pow = exp(y log x): |y log x| ulps of log */
    for (int k = 0; k < 7; k++) ck_assert_msg(worst[k] <= tol[k], "%s: %.2f ulps", names[k], worst[k]);
    ck_assert(isnan(dm_log(-1.0)) && dm_log(0.0) == -INFINITY && dm_log(INFINITY) == INFINITY);
    ck_assert(dm_exp(-INFINITY) == 0.0 && dm_exp(1000.0) == INFINITY && isnan(dm_exp(NAN)));
    ck_assert(dm_log1p(-1.0) == -INFINITY && isnan(dm_log1p(-2.0)) && dm_log1p(1e-300) == 1e-300);
    ck_assert(isnan(dm_sin(INFINITY)) && isnan(dm_cos(NAN)));
    ck_assert(dm_pow(2.0, -3.0) == 0.125 && dm_pow(0.0, 2.0) == 0.0 && dm_pow(5.0, 0.0) == 1.0);
    ck_assert(dm_log2(8.0) == 3.0 && dm_log2(0.25) == -2.0); /* ALiBi's slopes need powers of two exact */
    ck_assert(dm_log(5e-324) < -744.0 && dm_log(5e-324) > -745.2); /* subnormal input */
}
END_TEST

/* The exact bits, as this source computes them with -ffp-contract=off on any
 * IEEE-754 machine. A different compiler, flag (say -ffast-math, or FMA
 * contraction with -march=native) or libm must not change them: if this test
 * fails, every published number would regenerate differently. */
START_TEST(test_dmath_golden_bits) {
    static const struct {
        const char *f;
        double x;
        uint64_t bits;
    } g[] = {
        {"exp", 1.0, 0x4005bf0a8b14576aULL},         {"exp", -20.5, 0x3e157a3afeed00acULL},
        {"log", 10.0, 0x40026bb1bbb55516ULL},        {"log", 0.3, 0xbff34378fcbda721ULL},
        {"sin", 1000.5, 0x3fefd948c50a7a0dULL},      {"cos", 3.0, 0xbfefae04be85e5d2ULL},
        {"cos", 123456.789, 0x3faa74d27c41b22aULL}, {"log1p", 1e-3, 0x3f5060354f8c3ec0ULL},
        {"expm1", -0.2, 0xbfc733d4a7a67a9bULL},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        double v = 0;
        if (!strcmp(g[i].f, "exp")) v = dm_exp(g[i].x);
        if (!strcmp(g[i].f, "log")) v = dm_log(g[i].x);
        if (!strcmp(g[i].f, "sin")) v = dm_sin(g[i].x);
        if (!strcmp(g[i].f, "cos")) v = dm_cos(g[i].x);
        if (!strcmp(g[i].f, "log1p")) v = dm_log1p(g[i].x);
        if (!strcmp(g[i].f, "expm1")) v = dm_expm1(g[i].x);
        uint64_t b;
        memcpy(&b, &v, sizeof b);
        ck_assert_msg(b == g[i].bits, "dm_%s(%g) = %.17g (bits %016llx), expected bits %016llx", g[i].f, g[i].x, v,
                      (unsigned long long)b, (unsigned long long)g[i].bits);
    }
}
END_TEST

/* ---- the pinned OpenBLAS kernel ----------------------------------------- */

START_TEST(test_pinned) {
    const BlasInfo *b = blas_info();
    if (getenv("POSENC_BLAS") && strcmp(getenv("POSENC_BLAS"), "native") == 0) {
        test_skip(__func__, "POSENC_BLAS=native switches the pinned kernel off");
        return;
    }
    ck_assert_msg(b->pinned, "kernel %s, mode %s", b->kernel, b->mode);
    ck_assert_str_eq(openblas_get_corename(), BLAS_PINNED_KERNEL);
    ck_assert_str_eq(getenv("OPENBLAS_CORETYPE"), BLAS_PINNED_KERNEL);
}
END_TEST

/* What layers.c and task_eval_T rely on: with the pinned kernel, a block of
 * rows starting at a multiple of TASK_EVAL_ROW_ALIGN (12) and spanning whole
 * tiles is computed bitwise as in the whole product, for each of the three
 * products of a linear layer (forward, dinp, dweight). An OpenBLAS whose
 * kernel tiles rows differently fails here first. */
START_TEST(test_sgemm_row_tiles) {
    enum { N = 96, C = 40, OC = 72 };
    float *x = malloc(sizeof(float) * N * C), *w = malloc(sizeof(float) * OC * C), *d = malloc(sizeof(float) * N * OC);
    float *full = calloc(N * OC, sizeof(float)), *part = calloc(N * OC, sizeof(float));
    float *dw_full = calloc(OC * C, sizeof(float)), *dw_part = calloc(OC * C, sizeof(float));
    fill_normal(x, N * C, 1.0f, 1);
    fill_normal(w, OC * C, 1.0f, 2);
    fill_normal(d, N * OC, 1.0f, 3);
    openblas_set_num_threads(1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, x, C, w, C, 0.0f, full, OC);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, d, OC, x, C, 0.0f, dw_full, C);
    const int A = TASK_EVAL_ROW_ALIGN;
    for (int lo = 0; lo < N; lo += A)
        for (int hi = lo + A; hi <= N; hi += 2 * A) {
            memset(part, 0, sizeof(float) * N * OC);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, OC, C, 1.0f, x + lo * C, C, w, C, 0.0f,
                        part + lo * OC, OC);
            ck_assert_msg(memcmp(full + lo * OC, part + lo * OC, sizeof(float) * (hi - lo) * OC) == 0,
                          "forward rows [%d, %d) differ from the whole product's", lo, hi);
        }
    for (int lo = 0; lo < OC; lo += A) {
        const int hi = lo + 2 * A < OC ? lo + 2 * A : OC;
        memset(dw_part, 0, sizeof(float) * OC * C);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, C, N, 1.0f, d + lo, OC, x, C, 0.0f,
                    dw_part + lo * C, C);
        ck_assert_msg(memcmp(dw_full + lo * C, dw_part + lo * C, sizeof(float) * (hi - lo) * C) == 0,
                      "dweight rows [%d, %d) differ from the whole product's", lo, hi);
    }
    free(x), free(w), free(d), free(full), free(part), free(dw_full), free(dw_part);
}
END_TEST

/* ---- whole runs ---------------------------------------------------------- */

/* The run's result files concatenated (model, optimizer, evaluation, metrics
 * without timing), malloc'd. */
static char *run_bytes(const char *dir, size_t *n) {
    static const char *files[] = {"model.safetensors", "optim.safetensors", "eval.json", "eval.csv"};
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        char p[600];
        size_t m = 0;
        snprintf(p, sizeof p, "%s/%s", dir, files[k]);
        char *t = file_read_all(p, &m);
        ck_assert_msg(t != NULL, "%s", core_error());
        while (len + m + 1 > cap) out = realloc(out, cap *= 2);
        memcpy(out + len, t, m);
        len += m;
        free(t);
    }
    char *mt = metrics_without_timing(dir);
    size_t m = strlen(mt);
    while (len + m + 1 > cap) out = realloc(out, cap *= 2);
    memcpy(out + len, mt, m);
    len += m;
    free(mt);
    *n = len;
    return out;
}

/* env: what the user's environment says about OpenBLAS (posenc's own
 * re-execution marker removed, as in a fresh shell). */
static void train_eval(const char *dir, const char *env, int threads) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "env -u OPENBLAS_CORETYPE -u POSENC_BLAS_ORIG_CORETYPE %s '%s' train configs/smoke.json --set "
             "train.steps=30 --set train.eval_every=10 --set train.threads=%d --out '%s' --quiet && "
             "env -u OPENBLAS_CORETYPE -u POSENC_BLAS_ORIG_CORETYPE %s '%s' eval '%s' --threads %d",
             env, posenc_bin(), threads, dir, env, posenc_bin(), dir, threads);
    ck_assert_msg(run_captured(cmd) == 0, "%s\n%s", cmd, posenc_out);
}

START_TEST(test_same_bytes_any_threads_and_kernel) {
    const char *base = test_tmpdir("repro");
    static const struct {
        const char *env;
        int threads;
    } cases[] = {{"", 1}, {"", 2}, {"", 3}, {"OPENBLAS_CORETYPE=SkylakeX", 1}, {"OPENBLAS_CORETYPE=Zen", 2},
                 {"OPENBLAS_CORETYPE=Haswell", 3}, {"OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2", 4}};
    size_t n0 = 0;
    char *ref = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/case%zu", base, i);
        train_eval(dir, cases[i].env, cases[i].threads);
        size_t n;
        char *b = run_bytes(dir, &n);
        if (!ref) {
            ref = b, n0 = n;
            continue;
        }
        ck_assert_msg(n == n0 && memcmp(b, ref, n) == 0, "%s, %d threads: results differ from case 0's",
                      cases[i].env[0] ? cases[i].env : "OPENBLAS_CORETYPE unset", cases[i].threads);
        free(b);
    }
    free(ref);
}
END_TEST

/* The mechanism matters: with the pin switched off (POSENC_BLAS=native),
 * OpenBLAS's AVX-512 kernels round differently from the Haswell ones and the
 * same config trains a different model. (Only where the CPU has AVX-512: the
 * kernel OpenBLAS would pick elsewhere may be the Haswell one.) */
START_TEST(test_native_kernel_differs) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        test_skip(__func__, "this CPU has no AVX-512, so OpenBLAS's native kernel may be the pinned one");
        return;
    }
    const char *base = test_tmpdir("repro-native");
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/haswell", base);
    snprintf(b, sizeof b, "%s/skylakex", base);
    train_eval(a, "POSENC_BLAS=native OPENBLAS_CORETYPE=Haswell", 1);
    train_eval(b, "POSENC_BLAS=native OPENBLAS_CORETYPE=SkylakeX", 1);
    size_t na, nb;
    char *x = run_bytes(a, &na), *y = run_bytes(b, &nb);
    ck_assert_msg(na != nb || memcmp(x, y, na) != 0, "the SkylakeX and Haswell kernels gave the same bytes");
    free(x);
    free(y);
    /* the native run says so */
    char p[700];
    snprintf(p, sizeof p, "%s/provenance.json", b);
    char *t = file_read_all(p, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert_msg(strstr(t, "\"blas_mode\":\t\"native\"") && strstr(t, "\"reproducible\":\tfalse") &&
                      strstr(t, "\"blas_kernel\":\t\"SkylakeX\""),
                  "%s", t);
    free(t);
}
END_TEST

/* One evaluation of one checkpoint, one answer: the periodic evaluation of
 * training (metrics.jsonl) equals `posenc eval` at the same n, whatever the
 * evaluation batch size. */
START_TEST(test_periodic_eval_matches_eval) {
    const char *dir = test_tmpdir("repro-eval");
    ck_assert_msg(posenc("train configs/smoke.json --set train.steps=20 --set train.warmup=2 --set eval.samples=40 "
                         "--set eval.batch_size=16 --set eval.lengths=6,12 --out '%s/r' --quiet",
                         dir) == 0,
                  "%s", posenc_out);
    char r[600], p[700];
    snprintf(r, sizeof r, "%s/r", dir);
    for (int bs = 1; bs <= 3; bs++) {
        const int batch = bs == 1 ? 16 : bs == 2 ? 7 : 40;
        ck_assert_msg(posenc("eval '%s' --lengths 6,12 --batch-size %d", r, batch) == 0, "%s", posenc_out);
        snprintf(p, sizeof p, "%s/eval.json", r);
        char *t = file_read_all(p, NULL);
        cJSON *e = cJSON_Parse(t);
        free(t);
        ck_assert_ptr_nonnull(e);
        /* the last periodic evaluation at each n in metrics.jsonl */
        snprintf(p, sizeof p, "%s/metrics.jsonl", r);
        char *m = file_read_all(p, NULL);
        int matched = 0;
        for (char *line = strtok(m, "\n"); line; line = strtok(NULL, "\n")) {
            cJSON *j = cJSON_Parse(line);
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
            const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
            if (cJSON_IsString(type) && !strcmp(type->valuestring, "eval") && step->valueint == 20) {
                const int n = cJSON_GetObjectItemCaseSensitive(j, "n")->valueint;
                const cJSON *res;
                cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(e, "results")) {
                    if (cJSON_GetObjectItemCaseSensitive(res, "n")->valueint != n) continue;
                    static const char *keys[] = {"token_acc", "exact_match", "loss"};
                    for (int k = 0; k < 3; k++) {
                        const double a = cJSON_GetObjectItemCaseSensitive(j, keys[k])->valuedouble;
                        const double b = cJSON_GetObjectItemCaseSensitive(res, keys[k])->valuedouble;
                        ck_assert_msg(a == b, "n = %d, %s: training's evaluation %.17g, posenc eval (batch %d) %.17g",
                                      n, keys[k], a, batch, b);
                    }
                    matched++;
                }
            }
            cJSON_Delete(j);
        }
        free(m);
        cJSON_Delete(e);
        ck_assert_int_eq(matched, 2); /* n = 6 (max_len) and n = 12 (the longest evaluation length) */
    }
}
END_TEST

/* ---- provenance ---------------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

START_TEST(test_provenance_recorded) {
    const char *dir = test_tmpdir("repro-prov");
    char r[600], p[700];
    snprintf(r, sizeof r, "%s/r", dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "env -u POSENC_BLAS_ORIG_CORETYPE OPENBLAS_CORETYPE=SkylakeX '%s' train configs/smoke.json --set "
             "train.steps=10 --set train.warmup=1 --set train.threads=2 --out '%s' --quiet && '%s' eval '%s'",
             posenc_bin(), r, posenc_bin(), r);
    ck_assert_msg(run_captured(cmd) == 0, "%s", posenc_out);
    snprintf(p, sizeof p, "%s/provenance.json", r);
    char *t = file_read_all(p, NULL);
    ck_assert_msg(t != NULL, "%s", core_error());
    cJSON *root = cJSON_Parse(t);
    free(t);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(get(root, "format")->valuestring, "posenc-provenance");
    const cJSON *s = get(root, "sessions");
    ck_assert_int_eq(cJSON_GetArraySize(s), 2);
    static const char *strings[] = {"command", "posenc_version", "compiler", "cflags", "kernel_cflags", "openblas",
                                    "blas_kernel", "blas_mode", "openblas_coretype_env", "libc", "cpu", "started",
                                    "finished"};
    for (int i = 0; i < 2; i++) {
        const cJSON *o = cJSON_GetArrayItem(s, i);
        for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
            ck_assert_msg(cJSON_IsString(get(o, strings[k])), "session %d: %s", i, strings[k]);
        ck_assert(cJSON_IsTrue(get(o, "reproducible")));
        ck_assert_str_eq(get(o, "blas_kernel")->valuestring, BLAS_PINNED_KERNEL);
        ck_assert_str_eq(get(o, "blas_mode")->valuestring, "pinned");
        ck_assert_str_eq(get(o, "posenc_version")->valuestring, posenc_version());
        ck_assert(strstr(get(o, "cflags")->valuestring, "-ffp-contract=off") != NULL);
        ck_assert(strstr(get(o, "openblas")->valuestring, "OpenBLAS") != NULL);
        ck_assert_int_ge(get(o, "cores")->valueint, 1);
        const char *st = get(o, "started")->valuestring; /* 2026-11-29T04:42:16Z */
        ck_assert_msg(strlen(st) == 20 && st[4] == '-' && st[10] == 'T' && st[19] == 'Z', "started %s", st);
    }
    const cJSON *tr = cJSON_GetArrayItem(s, 0), *ev = cJSON_GetArrayItem(s, 1);
    ck_assert_str_eq(get(tr, "command")->valuestring, "train");
    ck_assert_int_eq(get(tr, "threads")->valueint, 2);
    ck_assert_int_eq(get(tr, "step_from")->valueint, 0);
    ck_assert_int_eq(get(tr, "step_to")->valueint, 10);
    ck_assert_str_eq(get(tr, "openblas_coretype_env")->valuestring, "SkylakeX");
    ck_assert_str_eq(get(ev, "command")->valuestring, "eval");
    ck_assert_int_eq(get(ev, "threads")->valueint, 1);
    cJSON_Delete(root);

    /* the version and kernel on the command line */
    ck_assert_int_eq(posenc("--version"), 0);
    EXPECT_OUT(posenc_version());
    EXPECT_OUT("blas kernel: Haswell (pinned, reproducible)");
    EXPECT_OUT("openblas: OpenBLAS");

    /* a damaged provenance file: refused before any work, naming the file */
    FILE *f = fopen(p, "w");
    fputs("{\"format\": \"something else\"}", f);
    fclose(f);
    ck_assert_int_eq(posenc("eval '%s'", r), 2);
    EXPECT_OUT("provenance.json: not a posenc provenance file");
    ck_assert_int_eq(posenc("train --resume '%s' --set train.steps=12", r), 2);
    EXPECT_OUT("provenance.json");
    /* a bad POSENC_BLAS is a usage error */
    snprintf(cmd, sizeof cmd, "POSENC_BLAS=fast '%s' --version", posenc_bin());
    ck_assert_int_eq(run_captured(cmd), 2);
    EXPECT_OUT("POSENC_BLAS=fast: expected pinned");
}
END_TEST

/* collect: one result identity, or a refusal naming the two runs */
START_TEST(test_collect_refuses_mixed) {
    const char *dir = test_tmpdir("repro-mix");
    char spec[700], out[700], p[800];
    snprintf(spec, sizeof spec, "%s/spec.json", dir);
    snprintf(out, sizeof out, "%s/sw", dir);
    FILE *f = fopen(spec, "w");
    fprintf(f, "{\"name\": \"mix\", \"base\": \"%s/configs/smoke.json\", \"set\": {\"train.steps\": 10, "
               "\"train.warmup\": 1, \"train.checkpoint_every\": 10}, \"grid\": {\"model.pe\": [\"rope\"]}, "
               "\"seeds\": [1, 2], \"eval\": {\"lengths\": [2, 6], \"samples\": 8}}",
            getenv("PWD"));
    fclose(f);
    ck_assert_msg(posenc("sweep '%s' --out '%s' --no-plots", spec, out) == 0, "%s", posenc_out);
    EXPECT_OUT("provenance: 2 runs, one result identity");
    snprintf(p, sizeof p, "%s/results.md", out);
    char *md = file_read_all(p, NULL);
    ck_assert_msg(strncmp(md, "Produced by posenc ", 19) == 0 && strstr(md, "Haswell kernel (pinned)"), "%s", md);
    free(md);
    /* one run now claims another posenc version */
    snprintf(p, sizeof p, "%s/runs/rope.s2/provenance.json", out);
    char *t = file_read_all(p, NULL);
    f = fopen(p, "w");
    int edits = 0;
    const char *at = t, *v = strstr(t, posenc_version());
    for (; v; edits++) { /* "other-" before each occurrence of the version */
        fprintf(f, "%.*sother-", (int)(v - at), at);
        at = v;
        v = strstr(v + 1, posenc_version());
    }
    fputs(at, f);
    fclose(f);
    free(t);
    ck_assert_int_eq(edits, 2); /* the training and the evaluation session */
    ck_assert_int_eq(posenc("collect '%s' --no-plots", out), 2);
    EXPECT_OUT("rope.s1 and ");
    EXPECT_OUT("rope.s2 were produced differently");
    EXPECT_OUT("--allow-mixed");
    ck_assert_int_eq(posenc("collect '%s' --no-plots --allow-mixed", out), 0);
    snprintf(p, sizeof p, "%s/results.md", out);
    md = file_read_all(p, NULL);
    ck_assert_msg(strncmp(md, "MIXED PROVENANCE", 16) == 0, "%s", md);
    free(md);
    /* a run without provenance (an older posenc, or a copied folder) is refused too */
    snprintf(p, sizeof p, "%s/runs/rope.s2/provenance.json", out);
    ck_assert_int_eq(unlink(p), 0);
    ck_assert_int_eq(posenc("collect '%s' --no-plots", out), 2);
    EXPECT_OUT("no provenance.json");
}
END_TEST

/* A sweep's results.csv and results.md: the same bytes with 1, 2 or 3 threads per job. */
START_TEST(test_sweep_same_results_any_threads) {
    const char *dir = test_tmpdir("repro-sweep");
    char *ref_csv = NULL, *ref_md = NULL;
    for (int th = 1; th <= 3; th++) {
        char spec[700], out[700], p[800];
        snprintf(spec, sizeof spec, "%s/spec%d.json", dir, th);
        snprintf(out, sizeof out, "%s/sw%d", dir, th);
        FILE *f = fopen(spec, "w");
        fprintf(f, "{\"name\": \"th\", \"base\": \"%s/configs/smoke.json\", \"set\": {\"train.steps\": 20, "
                   "\"train.warmup\": 2}, \"grid\": {\"model.pe\": [\"rope\", \"alibi\"]}, \"seeds\": [1, 2], "
                   "\"eval\": {\"lengths\": [3, 6, 12], \"samples\": 24, \"batch_size\": %d}, \"threads\": %d}",
                getenv("PWD"), 5 + 3 * th, th);
        fclose(f);
        ck_assert_msg(posenc("sweep '%s' --out '%s' --no-plots --jobs 1", spec, out) == 0, "%s", posenc_out);
        snprintf(p, sizeof p, "%s/results.csv", out);
        char *csv = file_read_all(p, NULL);
        snprintf(p, sizeof p, "%s/results.md", out);
        char *md = file_read_all(p, NULL);
        ck_assert(csv && md);
        if (th == 1) {
            ref_csv = csv, ref_md = md;
            continue;
        }
        ck_assert_msg(strcmp(csv, ref_csv) == 0, "results.csv with %d threads:\n%s\nwith 1:\n%s", th, csv, ref_csv);
        ck_assert_msg(strcmp(md, ref_md) == 0, "results.md with %d threads differs", th);
        free(csv);
        free(md);
    }
    free(ref_csv);
    free(ref_md);
}
END_TEST

/* The published numbers regenerate. Short training runs and evaluations of
 * every encoding (sort, so that batches hold padding; head sizes 16, 32 on 2
 * threads, and 12), hashed (FNV-1a 64 over model.safetensors,
 * optim.safetensors and eval.csv) and compared with the hashes of the same
 * runs (the same commands, the same hash) by the build that trained the
 * published runs, posenc f52f503. A kernel change that moves a single bit of
 * any weight, moment or score fails here: faster kernels must compute the
 * same float operations in the same order. The hashes hold for this build's
 * pinned OpenBLAS kernel (Haswell) on any x86-64 CPU with AVX2. */
static uint64_t fnv1a(const char *p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

START_TEST(test_published_numerics) {
    static const struct {
        const char *name, *set;
        uint64_t hash;
    } cases[] = {
        {"none", "--set model.pe=none", 0x9a07bb4a603a3784ULL},
        {"sinusoidal", "--set model.pe=sinusoidal", 0x0dddd7997ba13989ULL},
        {"learned", "--set model.pe=learned", 0xf50c13466723acb5ULL},
        {"rope", "--set model.pe=rope", 0xa7145dc57707fbacULL},
        {"alibi", "--set model.pe=alibi", 0xb689753b8e43881aULL},
        {"t5", "--set model.pe=t5", 0xa29843675a7cf340ULL},
        {"fire", "--set model.pe=fire", 0xb38e59130547d90fULL},
        {"kerple", "--set model.pe=kerple", 0x02e2b6f6ac91a9f7ULL},
        {"xpos", "--set model.pe=xpos", 0x9d92d86f9f21e304ULL},
        {"rope-hs32-2threads", "--set model.pe=rope --set model.n_heads=2 --set train.threads=2", 0xafbded3360e2648dULL},
        {"alibi-hs12", "--set model.pe=alibi --set model.d_model=48", 0x7b8081ae024a1fceULL},
    };
    const char *base = test_tmpdir("published");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char dir[600], cmd[4096];
        snprintf(dir, sizeof dir, "%s/%s", base, cases[i].name);
        snprintf(cmd, sizeof cmd,
                 "env -u OPENBLAS_CORETYPE -u POSENC_BLAS_ORIG_CORETYPE '%s' train configs/smoke.json --quiet --out '%s' "
                 "--set task.name=sort --set task.max_len=8 --set model.d_model=64 --set model.n_layers=2 "
                 "--set model.n_heads=4 --set train.steps=25 --set train.batch_size=16 --set train.eval_every=0 "
                 "--set eval.lengths=4,8,16 --set eval.samples=24 %s && "
                 "env -u OPENBLAS_CORETYPE -u POSENC_BLAS_ORIG_CORETYPE '%s' eval '%s'",
                 posenc_bin(), dir, cases[i].set, posenc_bin(), dir);
        ck_assert_msg(run_captured(cmd) == 0, "%s\n%s", cmd, posenc_out);
        static const char *files[] = {"model.safetensors", "optim.safetensors", "eval.csv"};
        uint64_t h = 0xcbf29ce484222325ULL;
        for (int k = 0; k < 3; k++) {
            char p[700];
            size_t m;
            snprintf(p, sizeof p, "%s/%s", dir, files[k]);
            char *t = file_read_all(p, &m);
            ck_assert_msg(t != NULL, "%s", core_error());
            h = fnv1a(t, m, h);
            free(t);
        }
        ck_assert_msg(h == cases[i].hash, "%s: hash 0x%016llx, published build 0x%016llx: the numerics changed",
                      cases[i].name, (unsigned long long)h, (unsigned long long)cases[i].hash);
    }
}
END_TEST

static Suite *repro_suite(void) {
    Suite *s = suite_create("repro");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_dmath_accuracy);
    tcase_add_test(tc, test_dmath_golden_bits);
    tcase_add_test(tc, test_pinned);
    tcase_add_test(tc, test_sgemm_row_tiles);
    tcase_add_test(tc, test_same_bytes_any_threads_and_kernel);
    tcase_add_test(tc, test_native_kernel_differs);
    tcase_add_test(tc, test_periodic_eval_matches_eval);
    tcase_add_test(tc, test_provenance_recorded);
    tcase_add_test(tc, test_collect_refuses_mixed);
    tcase_add_test(tc, test_sweep_same_results_any_threads);
    tcase_add_test(tc, test_published_numerics);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(repro_suite()); }
