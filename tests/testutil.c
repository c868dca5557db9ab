#include "tests/testutil.h"

#include <cJSON.h>

#include "core/blas.h"
#include "core/error.h"
#include "core/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int run_suite(Suite *s) {
    /* the pinned OpenBLAS kernels, as in posenc itself (may run the test again) */
    if (blas_pin(NULL) != 0) {
        fprintf(stderr, "%s\n", core_error());
        return 1;
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

const char *test_tmpdir(const char *tag) {
    static char path[512];
    snprintf(path, sizeof path, "tests/tmp/%s-%d", tag, (int)getpid());
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot create %s\n", path);
        abort();
    }
    return path;
}

float max_abs_diff(const float *a, const float *b, int n) {
    float m = 0;
    for (int i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

#include "core/fsutil.h"

double grad_check(double (*f)(void *ctx), void *ctx, float *x, const float *analytic, int n,
                  float eps, double *max_abs) {
    double diff2 = 0.0, a2 = 0.0, n2 = 0.0, mx = 0.0;
    for (int i = 0; i < n; i++) {
        float orig = x[i];
        x[i] = orig + eps;
        double fp = f(ctx);
        x[i] = orig - eps;
        double fm = f(ctx);
        x[i] = orig;
        /* divide by the step actually taken in float */
        double num = (fp - fm) / ((double)(orig + eps) - (double)(orig - eps));
        double d = analytic[i] - num;
        diff2 += d * d;
        a2 += (double)analytic[i] * analytic[i];
        n2 += num * num;
        if (!(fabs(d) <= mx)) mx = fabs(d);
    }
    if (max_abs) *max_abs = mx;
    double denom = sqrt(a2 > n2 ? a2 : n2);
    if (denom == 0.0) return 0.0;
    return sqrt(diff2) / denom;
}

void fill_normal(float *x, int n, float std, unsigned long long seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) x[i] = std * rng_normal(&r);
}

char posenc_out[1 << 16];

const char *posenc_bin(void) {
    const char *b = getenv("POSENC_BIN");
    return b && *b ? b : "./posenc";
}

const char *posenc_fault_bin(void) {
    const char *b = getenv("POSENC_FAULT_BIN");
    return b && *b ? b : "build/posenc-test";
}

int wait_for_file(const char *path, size_t min_bytes, pid_t pid, int *status) {
    for (;;) {
        struct stat st;
        if (stat(path, &st) == 0 && (size_t)st.st_size >= min_bytes) return 0;
        int s;
        if (pid > 0 && waitpid(pid, &s, WNOHANG) == pid) {
            if (status) *status = s;
            return -1;
        }
        usleep(2000);
    }
}

void test_skip(const char *test, const char *fmt, ...) {
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    printf("SKIP %s: %s\n", test, why);
    fflush(stdout);
}

int run_captured(const char *cmd) {
    char full[8400];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(posenc_out, 1, sizeof posenc_out - 1, p);
    posenc_out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int posenc(const char *fmt, ...) {
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s", posenc_bin(), args);
    return run_captured(cmd);
}

/* metrics.jsonl without the timing fields (tokens/s, elapsed), one line per
 * entry: what must be identical between an interrupted and an
 * uninterrupted run. */
char *metrics_without_timing(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    char *text = file_read_all(path, NULL);
    ck_assert_msg(text != NULL, "%s", core_error());
    size_t cap = strlen(text) + 1, len = 0;
    char *res = calloc(cap, 1);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        ck_assert_msg(j != NULL, "torn metrics line: %s", line);
        cJSON_DeleteItemFromObject(j, "tokens_per_s");
        cJSON_DeleteItemFromObject(j, "padded_tokens_per_s");
        cJSON_DeleteItemFromObject(j, "elapsed");
        char *s = cJSON_PrintUnformatted(j);
        len += snprintf(res + len, cap - len, "%s\n", s);
        free(s);
        cJSON_Delete(j);
    }
    free(text);
    return res;
}

int shell_run(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return run_captured(cmd);
}

char *file_text(const char *fmt, ...) {
    char p[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof p, fmt, ap);
    va_end(ap);
    char *t = file_read_all(p, NULL);
    ck_assert_msg(t != NULL, "%s", core_error());
    return t;
}

int path_present(const char *fmt, ...) {
    char p[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof p, fmt, ap);
    va_end(ap);
    struct stat st;
    return lstat(p, &st) == 0;
}
