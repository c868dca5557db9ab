/*
 * test_curves.c — `posenc plot RUN...`: training curves of one or several
 * runs as a figure and as CSV (study/curves.h), and its errors.
 */
#include <check.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fsutil.h"
#include "tests/testutil.h"

static long file_size_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int count_lines(const char *text) {
    int n = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    return n;
}

/* two short runs (smoke config: 50 steps, logged every 10, evaluated at 25 and 50) */
static const char *two_runs(void) {
    const char *d = test_tmpdir("curves");
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s/a --quiet", d), 0);
    ck_assert_int_eq(posenc("train configs/smoke.json --set seed=2 --out %s/b --quiet", d), 0);
    return d;
}

START_TEST(test_plot_and_csv) {
    const char *d = two_runs();
    char p[600];
    /* one run: the figure goes into the run */
    ck_assert_int_eq(posenc("plot %s/a", d), 0);
    EXPECT_OUT("curves.png (and .svg)");
    snprintf(p, sizeof p, "%s/a/curves.png", d);
    ck_assert_msg(file_size_of(p) > 1000, "%s missing or tiny", p);
    snprintf(p, sizeof p, "%s/a/curves.svg", d);
    char *svg = file_read_all(p, NULL);
    ck_assert_ptr_nonnull(svg);
    ck_assert_msg(strstr(svg, "training loss") && strstr(svg, "learning rate") && strstr(svg, "token accuracy") &&
                      strstr(svg, "chance: log(alphabet), 1/alphabet") && strstr(svg, "n = 6, the longest training"),
                  "panels, chance or lengths missing in %s", p);
    /* the run in its encoding's colour (rope: #0072B2, model/pe_registry.c), named with it; no zero-loss mark */
    ck_assert_msg(strstr(svg, "stroke=\"rgb(  0, 114, 178)\"") && strstr(svg, ">a (rope)</tspan>") &&
                      !strstr(svg, "exactly 0"),
                  "rope's colour or name missing, or a zero loss marked, in %s", p);
    free(svg);
    /* a training loss of exactly 0, which a log axis cannot show: drawn at the axis' bottom and marked */
    char cmd0[1024];
    snprintf(cmd0, sizeof cmd0, "cp -r %s/a %s/z", d, d);
    ck_assert_int_eq(run_captured(cmd0), 0);
    snprintf(p, sizeof p, "%s/z/metrics.jsonl", d);
    char *mz = file_read_all(p, NULL);
    const char *key = "{\"type\":\"train\",\"step\":50,\"loss\":";
    char *at = mz ? strstr(mz, key) : NULL;
    ck_assert_ptr_nonnull(at);
    at += strlen(key);
    char *end = strchr(at, ',');
    ck_assert_ptr_nonnull(end);
    FILE *fz = fopen(p, "w");
    ck_assert_ptr_nonnull(fz);
    fprintf(fz, "%.*s0%s", (int)(at - mz), mz, end);
    fclose(fz);
    free(mz);
    ck_assert_int_eq(posenc("plot %s/z", d), 0);
    snprintf(p, sizeof p, "%s/z/curves.svg", d);
    svg = file_read_all(p, NULL);
    ck_assert_msg(svg && strstr(svg, "training loss exactly 0 (drawn at the axis bottom)"), "no zero-loss mark in %s", p);
    free(svg);
    /* two runs overlaid, and the CSV: every metrics line of both runs */
    ck_assert_int_eq(posenc("plot %s/a %s/b --out %s/both --csv %s/both.csv", d, d, d, d), 0);
    snprintf(p, sizeof p, "%s/both.svg", d);
    svg = file_read_all(p, NULL);
    ck_assert_msg(svg && strstr(svg, ">a (rope)</tspan>") && strstr(svg, ">b (rope)</tspan>"), "run names missing in %s", p);
    free(svg);
    snprintf(p, sizeof p, "%s/both.csv", d);
    char *csv = file_read_all(p, NULL);
    ck_assert_ptr_nonnull(csv);
    const char *header = "run,type,step,n,loss,lr,grad_norm,tokens_per_s,elapsed,token_acc,exact_match\n";
    ck_assert_msg(strncmp(csv, header, strlen(header)) == 0, "%s", csv);
    snprintf(p, sizeof p, "%s/a/metrics.jsonl", d);
    char *ma = file_read_all(p, NULL);
    snprintf(p, sizeof p, "%s/b/metrics.jsonl", d);
    char *mb = file_read_all(p, NULL);
    ck_assert_int_eq(count_lines(csv), 1 + count_lines(ma) + count_lines(mb));
    /* the last training line of run a, field by field */
    const char *last = strstr(ma, "{\"type\":\"train\",\"step\":50,");
    ck_assert_ptr_nonnull(last);
    char *line = strndup(last, strchr(last, '\n') - last);
    cJSON *j = cJSON_Parse(line);
    free(line);
    ck_assert_ptr_nonnull(j);
    char want[256];
    snprintf(want, sizeof want, "\na,train,50,,%.9g,%.9g,", cJSON_GetObjectItem(j, "loss")->valuedouble,
             cJSON_GetObjectItem(j, "lr")->valuedouble);
    ck_assert_msg(strstr(csv, want), "no \"%s\" in\n%s", want + 1, csv);
    cJSON_Delete(j);
    /* an evaluation row: n set, the training fields empty */
    ck_assert_msg(strstr(csv, "\nb,eval,25,6,"), "%s", csv);
    ck_assert_msg(strstr(csv, "\nb,eval,50,12,"), "%s", csv);
    const char *ev = strstr(csv, "\nb,eval,25,6,");
    int commas = 0;
    for (const char *q = ev + strlen("\nb,eval,25,6,"); *q && *q != '\n'; q++) commas += *q == ',';
    ck_assert_int_eq(commas, 6);
    ck_assert_msg(strstr(ev, ",,,,,"), "training fields not empty: %.80s", ev);
    free(ma);
    free(mb);
    free(csv);
    /* two runs with one folder name are named by their paths */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/x %s/y && cp -r %s/a %s/x/run && cp -r %s/b %s/y/run", d, d, d, d, d, d);
    ck_assert_int_eq(run_captured(cmd), 0);
    ck_assert_int_eq(posenc("plot %s/x/run %s/y/run --no-plots --csv %s/same.csv", d, d, d), 0);
    snprintf(p, sizeof p, "%s/same.csv", d);
    csv = file_read_all(p, NULL);
    snprintf(want, sizeof want, "\n%s/x/run,train,1,", d);
    ck_assert_msg(csv && strstr(csv, want), "%s", csv ? csv : "");
    free(csv);
    /* a run name with gnuplot's quote and enhanced-text characters is drawn literally */
    snprintf(cmd, sizeof cmd, "cp -r %s/a \"%s/it's_a{b}^2\"", d, d);
    ck_assert_int_eq(run_captured(cmd), 0);
    ck_assert_int_eq(posenc("plot \"%s/it's_a{b}^2\" --out %s/odd", d, d), 0);
    snprintf(p, sizeof p, "%s/odd.svg", d);
    svg = file_read_all(p, NULL);
    ck_assert_msg(svg && strstr(svg, ">it's_a{b}^2 (rope)</tspan>"), "the odd run name is not drawn literally in %s", p);
    free(svg);
}
END_TEST

START_TEST(test_plot_errors) {
    const char *d = two_runs();
    ck_assert_int_eq(posenc("plot --help"), 0);
    EXPECT_OUT("usage: posenc plot RUN...");
    ck_assert_int_eq(posenc("plot"), 2);
    EXPECT_OUT("give one or more run directories");
    ck_assert_int_eq(posenc("plot %s/a %s/b", d, d), 2);
    EXPECT_OUT("2 runs: say where the figure goes with --out BASE");
    ck_assert_int_eq(posenc("plot %s/a --no-plots", d), 2);
    EXPECT_OUT("--no-plots without --csv FILE writes nothing");
    ck_assert_int_eq(posenc("plot %s/a --colour red", d), 2);
    EXPECT_OUT("unexpected argument \"--colour\"");
    ck_assert_int_eq(posenc("plot %s/nothing --out %s/x", d, d), 1);
    EXPECT_OUT("nothing: no metrics.jsonl: not a run directory");
    /* a broken line: named, and nothing written */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "printf 'not json\\n' >> %s/b/metrics.jsonl", d);
    ck_assert_int_eq(run_captured(cmd), 0);
    ck_assert_int_eq(posenc("plot %s/a %s/b --out %s/broken --csv %s/broken.csv", d, d, d, d), 1);
    EXPECT_OUT("b/metrics.jsonl: line ");
    EXPECT_OUT(": not a metrics line");
    char p[600];
    snprintf(p, sizeof p, "%s/broken.csv", d);
    ck_assert(!path_exists(p));
    snprintf(p, sizeof p, "%s/broken.png", d);
    ck_assert(!path_exists(p));
}
END_TEST

static Suite *curves_suite(void) {
    Suite *s = suite_create("curves");
    TCase *tc = tcase_create("curves");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_plot_and_csv);
    tcase_add_test(tc, test_plot_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(curves_suite()); }
