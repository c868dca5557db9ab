/*
 * test_report.c — posenc report and posenc attention: the HTML escaping of
 * run-folder strings (study/html.h), attention weights read from the forward
 * pass (run/attention.h), and both commands end to end (the page itself is
 * checked in a browser by make test-report).
 */
#include <check.h>
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/show.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "model/gpt.h"
#include "run/attention.h"
#include "study/html.h"
#include "tests/testutil.h"

/* ---- the one escaping function -------------------------------------------- */

static const char *const nasty[] = {
    "</script><script>alert(1)</script>",
    "</SCRIPT >",
    "<!--<script>",
    "]]>",
    "<img src=x onerror=alert(1)>",
    "a & b &amp; &lt;",
    "it's \"quoted\"",
    "line\xE2\x80\xA8separator\xE2\x80\xA9paragraph", /* U+2028, U+2029 */
    "\\u003c already escaped",
    "tab\tnewline\ncontrol\x01",
    "",
};
#define NUM_NASTY (int)(sizeof nasty / sizeof nasty[0])

START_TEST(test_html_escape_script_json) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < NUM_NASTY; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(nasty[i]));
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddItemToObject(obj, "labels", arr);
    cJSON_AddStringToObject(obj, "</script>", "key too");
    char *json = cJSON_PrintUnformatted(obj);
    size_t n;
    char *safe = html_escape_script_json(json, &n);
    ck_assert_uint_eq(n, strlen(safe));
    /* nothing that can end or alter a <script> element, an attribute or a comment */
    for (const char *bad = "<>&'"; *bad; bad++)
        ck_assert_msg(strchr(safe, *bad) == NULL, "'%c' left in %s", *bad, safe);
    ck_assert_ptr_null(strstr(safe, "\xE2\x80\xA8"));
    ck_assert_ptr_null(strstr(safe, "\xE2\x80\xA9"));
    ck_assert_ptr_nonnull(strstr(safe, "\\u003c/script\\u003e"));
    ck_assert_ptr_nonnull(strstr(safe, "\\u2028"));
    /* and it is still JSON with the same value */
    cJSON *back = cJSON_Parse(safe);
    ck_assert_ptr_nonnull(back);
    const cJSON *ba = cJSON_GetObjectItemCaseSensitive(back, "labels");
    ck_assert_int_eq(cJSON_GetArraySize(ba), NUM_NASTY);
    for (int i = 0; i < NUM_NASTY; i++) ck_assert_str_eq(cJSON_GetArrayItem(ba, i)->valuestring, nasty[i]);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(back, "</script>")->valuestring, "key too");
    /* text without those characters is unchanged */
    char *plain = html_escape_script_json("{\"a\":[1,2.5,\"x y\"]}", NULL);
    ck_assert_str_eq(plain, "{\"a\":[1,2.5,\"x y\"]}");
    free(plain);
    cJSON_Delete(back);
    free(safe);
    free(json);
    cJSON_Delete(obj);
}
END_TEST

/* ---- attention weights ------------------------------------------------------ */

static void tiny_model(GPT *m, const char *pe) {
    GPTConfig c;
    gpt_config_default(&c);
    c.V = task_vocab(10), c.C = 16, c.L = 2, c.NH = 2, c.F = 32, c.P = 32;
    snprintf(c.pe, sizeof c.pe, "%s", pe);
    ck_assert_int_eq(gpt_build(m, &c), 0);
    gpt_init_params(m, 7);
}

/* The maps are the forward pass's softmax(q.k / sqrt(hs)) of every layer and
 * head, recomputed here from the q and k the pass stored (after RoPE's
 * rotation); the rows sum to 1 with nothing above the diagonal; and reading
 * them leaves the model's outputs bitwise unchanged. */
START_TEST(test_attention_maps) {
    GPT m;
    tiny_model(&m, "rope");
    const int T = 9, L = 2, NH = 2, C = 16, hs = 8;
    int seq[9] = {task_bos(10), 3, 1, 4, 1, task_sep(10), 3, 1, 4}, pos[9];
    for (int i = 0; i < T; i++) pos[i] = i;
    /* the maps (the inference path), then a full forward pass: the same
     * outputs and the same attention probabilities, bitwise */
    float *att = calloc((size_t)L * NH * T * T, sizeof(float));
    ck_assert_int_eq(attention_maps(&m, seq, T, -1, -1, att), 0);
    float *probs0 = malloc(sizeof(float) * T * m.cfg.V);
    memcpy(probs0, m.acts.probs, sizeof(float) * T * m.cfg.V);
    gpt_reserve(&m, 1, T, 0);
    gpt_forward(&m, seq, NULL, pos, 1, T);
    ck_assert_int_eq(memcmp(probs0, m.acts.probs, sizeof(float) * T * m.cfg.V), 0);
    ck_assert_int_eq(memcmp(att, m.acts.att, sizeof(float) * L * NH * T * T), 0);
    /* one layer and head alone: that slice */
    float *one = calloc((size_t)T * T, sizeof(float));
    ck_assert_int_eq(attention_maps(&m, seq, T, 1, 0, one), 0);
    ck_assert_int_eq(memcmp(one, att + (size_t)1 * NH * T * T, sizeof(float) * T * T), 0);
    free(one);
    gpt_forward(&m, seq, NULL, pos, 1, T); /* the q, k below are the full pass's */
    for (int l = 0; l < L; l++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < T; i++) {
                const float *row = att + (((size_t)l * NH + h) * T + i) * T;
                const float *q = m.acts.qkv + ((size_t)l * T + i) * 3 * C + h * hs;
                double s[9], mx = -1e30, z = 0, sum = 0;
                for (int j = 0; j <= i; j++) {
                    const float *k = m.acts.qkv + ((size_t)l * T + j) * 3 * C + C + h * hs;
                    s[j] = 0;
                    for (int d = 0; d < hs; d++) s[j] += (double)q[d] * k[d];
                    s[j] /= sqrt((double)hs);
                    if (s[j] > mx) mx = s[j];
                }
                for (int j = 0; j <= i; j++) z += exp(s[j] - mx);
                for (int j = 0; j < T; j++) {
                    if (j > i) {
                        ck_assert_float_eq(row[j], 0.0f);
                        continue;
                    }
                    const double want = exp(s[j] - mx) / z;
                    ck_assert_msg(fabs(row[j] - want) < 1e-5, "layer %d head %d [%d,%d]: %g, recomputed %g", l, h,
                                  i, j, row[j], want);
                    sum += row[j];
                }
                ck_assert_msg(fabs(sum - 1.0) < 1e-5, "row %d sums to %g", i, sum);
            }
    /* positions beyond the model: an error, nothing read */
    int *longseq = calloc(40, sizeof(int));
    float *big = calloc((size_t)L * NH * 40 * 40, sizeof(float));
    ck_assert_int_eq(attention_maps(&m, longseq, 40, -1, -1, big), -1);
    ck_assert_ptr_nonnull(strstr(core_error(), "position"));
    free(longseq);
    free(big);
    free(att);
    free(probs0);
    gpt_free(&m);
}
END_TEST

/* attention_eval_input is the first example evaluation scores at n; the
 * teacher-forced input of a given problem is BOS x SEP y. */
START_TEST(test_attention_inputs) {
    const TaskOps *t = task_find("reverse");
    TaskConfig tc = {.alphabet = 10, .min_len = 1, .max_len = 6};
    snprintf(tc.name, sizeof tc.name, "reverse");
    const int n = 5, T = task_input_len(t, &tc, n);
    int seq[64];
    ck_assert_int_eq(attention_eval_input(t, &tc, 1234, n, seq), T);
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 4, T), 0);
    Rng rng;
    rng_seed(&rng, rng_derive(1234, (uint64_t)n));
    ck_assert_int_eq(batch_sample_eval(&b, t, &tc, n, 4, &rng), 0);
    ck_assert_int_eq(memcmp(seq, b.inputs, sizeof(int) * T), 0);
    batch_free(&b);
    int x[3] = {3, 1, 4}, want[8] = {task_bos(10), 3, 1, 4, task_sep(10), 4, 1, 3};
    ck_assert_int_eq(attention_input(t, &tc, x, 3, seq), 8);
    ck_assert_int_eq(memcmp(seq, want, sizeof want), 0);
}
END_TEST

/* ---- the commands -------------------------------------------------------------- */

START_TEST(test_attention_cli) {
    const char *d = test_tmpdir("report-att");
    ck_assert_int_eq(posenc("train configs/smoke.json --set train.steps=20 --out %s/run", d), 0);
    ck_assert_int_eq(posenc("attention %s/run \"3 1 4\" --json", d), 0);
    cJSON *j = cJSON_Parse(posenc_out);
    ck_assert_msg(j != NULL, "not JSON: %s", posenc_out);
    const cJSON *names = cJSON_GetObjectItem(j, "token_names"), *a = cJSON_GetObjectItem(j, "attention");
    ck_assert_int_eq(cJSON_GetArraySize(names), 8); /* BOS 3 1 4 SEP 3 1 4 */
    ck_assert_str_eq(cJSON_GetArrayItem(names, 0)->valuestring, "BOS");
    ck_assert_str_eq(cJSON_GetArrayItem(names, 4)->valuestring, "SEP");
    ck_assert_int_eq(cJSON_GetArraySize(a), 1);                        /* smoke: 1 layer */
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(a, 0)), 2); /* 2 heads */
    const cJSON *rows = cJSON_GetArrayItem(cJSON_GetArrayItem(a, 0), 1);
    ck_assert_int_eq(cJSON_GetArraySize(rows), 8);
    for (int i = 0; i < 8; i++) {
        double sum = 0;
        const cJSON *row = cJSON_GetArrayItem(rows, i);
        for (int k = 0; k < 8; k++) {
            double v = cJSON_GetArrayItem(row, k)->valuedouble;
            if (k > i) ck_assert(v == 0.0);
            sum += v;
        }
        ck_assert_msg(fabs(sum - 1) < 1e-5, "row %d sums to %g", i, sum);
    }
    cJSON_Delete(j);
    ck_assert_int_eq(posenc("attention %s/run \"3 1 4\" --layer 0 --head 1", d), 0);
    EXPECT_OUT("layer 0, head 1");
    ck_assert_ptr_null(strstr(posenc_out, "head 0\n"));
    /* bad input: exit 2 with a message; a missing run too, as in eval and predict */
    ck_assert_int_eq(posenc("attention %s/run", d), 2);
    EXPECT_OUT("give RUN and a problem");
    ck_assert_int_eq(posenc("attention %s/run \"3 x 4\"", d), 2);
    EXPECT_OUT("\"x\" is not a symbol");
    ck_assert_int_eq(posenc("attention %s/run \"3 1\" --head 2", d), 2);
    EXPECT_OUT("the model has 2 heads");
    ck_assert_int_eq(posenc("attention %s/run \"3 1\" --layer -1", d), 2);
    ck_assert_int_eq(posenc("attention %s/nope \"3 1\"", d), 2);
    EXPECT_OUT("no such run directory");
    ck_assert_int_eq(posenc("attention --help"), 0);
    EXPECT_OUT("usage: posenc attention");
}
END_TEST

/* The JSON document of a report page (between the data script's tags). */
static cJSON *report_data(const char *path) {
    char *page = file_read_all(path, NULL);
    ck_assert_ptr_nonnull(page);
    const char *open = "<script type=\"application/json\" id=\"posenc-data\">";
    char *a = strstr(page, open);
    ck_assert_ptr_nonnull(a);
    a += strlen(open);
    char *b = strstr(a, "</script>");
    ck_assert_ptr_nonnull(b);
    *b = '\0';
    cJSON *j = cJSON_Parse(a);
    ck_assert_msg(j != NULL, "the page's data is not JSON");
    free(page);
    return j;
}

static int count_substr(const char *s, const char *sub) {
    int n = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub)) n++;
    return n;
}

START_TEST(test_report_cli) {
    const char *d = test_tmpdir("report-sweep");
    char dir[512];
    snprintf(dir, sizeof dir, "%s", d);
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --out %s/s", dir), 0);
    /* hostile strings: the sweep's description, a run directory's name */
    char p[1024];
    snprintf(p, sizeof p, "%s/s/sweep.json", dir);
    char *text = file_read_all(p, NULL);
    cJSON *spec = cJSON_Parse(text);
    free(text);
    cJSON_ReplaceItemInObject(spec, "description", cJSON_CreateString("</script><script>alert(1)</script>\xE2\x80\xA8"));
    char *out = cJSON_Print(spec);
    ck_assert_int_eq(file_write_atomic(p, out, strlen(out)), 0);
    free(out);
    cJSON_Delete(spec);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mv '%s/s/runs/reverse.rope.s3' '%s/s/runs/<img src=x onerror=alert(2)>'", dir, dir);
    ck_assert_int_eq(run_captured(cmd), 0);
    /* a run that failed: no results */
    snprintf(cmd, sizeof cmd, "rm '%s/s/runs/copy.alibi.s4/eval.json' '%s/s/runs/copy.alibi.s4/model.safetensors'", dir,
             dir);
    ck_assert_int_eq(run_captured(cmd), 0);
    snprintf(p, sizeof p, "%s/s/logs/copy.alibi.s4.log", dir);
    const char *log = "step 10 ...\nposenc run: training stopped: non-finite loss at step 12\n\n";
    ck_assert_int_eq(file_write_atomic(p, log, strlen(log)), 0);

    ck_assert_int_eq(posenc("report %s/s", dir), 0);
    EXPECT_OUT("report.html");
    EXPECT_OUT("8 runs, 7 with results");
    snprintf(p, sizeof p, "%s/s/report.html", dir);
    text = file_read_all(p, NULL);
    /* the page's own two scripts and nothing else; no hostile markup as such */
    ck_assert_int_eq(count_substr(text, "</script>"), 2);
    ck_assert_ptr_null(strstr(text, "<img src=x"));
    ck_assert_ptr_null(strstr(text, "\xE2\x80\xA8"));
    free(text);
    cJSON *j = report_data(p);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "kind")->valuestring, "sweep");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "description")->valuestring, "</script><script>alert(1)</script>\xE2\x80\xA8");
    const cJSON *runs = cJSON_GetObjectItem(j, "runs"), *r;
    ck_assert_int_eq(cJSON_GetArraySize(runs), 8);
    int failed = 0, nasty_seen = 0;
    cJSON_ArrayForEach(r, runs) {
        const char *st = cJSON_GetObjectItem(r, "status")->valuestring;
        if (strcmp(st, "failed") == 0) {
            failed++;
            ck_assert_str_eq(cJSON_GetObjectItem(r, "id")->valuestring, "copy.alibi.s4");
            const char *err = cJSON_GetObjectItem(r, "error")->valuestring;
            ck_assert_ptr_nonnull(strstr(err, "training did not finish"));
            ck_assert_msg(strstr(err, "ends: posenc run: training stopped: non-finite loss at step 12"), "%s", err);
        }
        nasty_seen += strcmp(cJSON_GetObjectItem(r, "id")->valuestring, "<img src=x onerror=alert(2)>") == 0;
    }
    ck_assert_int_eq(failed, 1);
    ck_assert_int_eq(nasty_seen, 1);
    /* attention: every run with results (7), at 1x, 2x, 4x the training length */
    const cJSON *att = cJSON_GetObjectItem(j, "attention");
    ck_assert_int_eq(cJSON_GetArraySize(att), 7);
    const cJSON *a0 = cJSON_GetArrayItem(att, 0);
    const cJSON *ex = cJSON_GetObjectItem(a0, "examples");
    ck_assert_int_eq(cJSON_GetArraySize(ex), 3);
    const cJSON *e4 = cJSON_GetArrayItem(ex, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(e4, "n")->valueint, 24); /* max_len 6 x 4 */
    const int T = cJSON_GetArraySize(cJSON_GetObjectItem(e4, "tokens"));
    ck_assert_int_eq(T, 2 * 24 + 2);
    /* 1 layer x 2 heads, the causal part of each map; each row sums to 1000 (+- rounding) */
    const cJSON *w = cJSON_GetObjectItem(e4, "weights_milli");
    ck_assert_int_eq(cJSON_GetArraySize(w), 1 * 2 * T * (T + 1) / 2);
    for (int m = 0, k = 0; m < 2; m++)
        for (int i = 0; i < T; i++) {
            int sum = 0;
            for (int jj = 0; jj <= i; jj++) sum += cJSON_GetArrayItem(w, k++)->valueint;
            ck_assert_msg(abs(sum - 1000) <= (i + 2) / 2 + 1, "map %d row %d sums to %d", m, i, sum);
        }
    /* learned-bias encodings (alibi here) have their bias against distance, rope none */
    cJSON_ArrayForEach(r, att) {
        const int alibi = strcmp(cJSON_GetObjectItem(r, "pe")->valuestring, "alibi") == 0;
        ck_assert_int_eq(cJSON_GetObjectItem(r, "bias") != NULL, alibi);
    }
    /* a card for every view with a card hook, each with its verdicts as posenc show prints them and as data */
    const cJSON *sc = cJSON_GetObjectItem(j, "schemes");
    int cards = 0;
    for (int i = 0; i < show_num_views; i++) {
        const ShowView *view = show_views[i];
        const cJSON *o = cJSON_GetObjectItem(sc, view->enc);
        ck_assert_msg((o != NULL) == (view->card != NULL), "scheme %s: card %s", view->enc, o ? "without a hook" : "missing");
        if (!o) continue;
        cards++;
        ck_assert_msg(!cJSON_GetObjectItem(o, "error"), "%s: %s", view->enc, cJSON_GetObjectItem(o, "error")->valuestring);
        const cJSON *v = cJSON_GetObjectItem(o, "verdicts"), *vd = cJSON_GetObjectItem(o, "verdict_data");
        ck_assert_msg(cJSON_GetArraySize(v) > 0, "%s: no verdict", view->enc);
        ck_assert_int_eq(cJSON_GetArraySize(vd), cJSON_GetArraySize(v));
        for (int k = 0; k < cJSON_GetArraySize(v); k++) {
            const char *line = cJSON_GetArrayItem(v, k)->valuestring;
            const cJSON *x = cJSON_GetArrayItem(vd, k);
            ck_assert_ptr_nonnull(strstr(line, "docs/SPEC.md §5 prediction"));
            ck_assert_ptr_nonnull(strstr(line, cJSON_GetObjectItem(x, "prediction")->valuestring));
            ck_assert_ptr_nonnull(strstr(line, cJSON_GetObjectItem(x, "outcome")->valuestring));
        }
        /* the command that prints the same verdicts */
        const char *cmd = cJSON_GetObjectItem(o, "command")->valuestring;
        ck_assert_int_eq(strncmp(cmd, "posenc ", 7), 0);
        ck_assert_msg(posenc("%s --no-plot", cmd + 7) == 0, "%s:\n%s", cmd, posenc_out);
        for (int k = 0; k < cJSON_GetArraySize(v); k++) EXPECT_OUT(cJSON_GetArrayItem(v, k)->valuestring);
    }
    ck_assert_int_eq(cJSON_GetArraySize(sc), cards);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(sc, "alibi"), "by_heads")), 16);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(sc, "sinusoidal"), "table")), 128 * 64);
    cJSON_Delete(j);

    /* above --max-weights: the first seed of each group and encoding only, said in the page */
    ck_assert_int_eq(posenc("report %s/s --max-weights 1000 --out %s/small.html", dir, dir), 0);
    snprintf(p, sizeof p, "%s/small.html", dir);
    j = report_data(p);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "attention")), 4);
    ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(j, "attention_note")->valuestring, "first seed"));
    cJSON_Delete(j);
    ck_assert_int_eq(posenc("report %s/s --max-weights x", dir), 2);

    /* a single run, --out anywhere */
    ck_assert_int_eq(posenc("report %s/s/runs/copy.rope.s3 --out %s/one.html", dir, dir), 0);
    snprintf(p, sizeof p, "%s/one.html", dir);
    j = report_data(p);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "kind")->valuestring, "run");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "runs")), 1);
    cJSON_Delete(j);
    /* errors */
    ck_assert_int_eq(posenc("report %s/nothing-here", dir), 2);
    EXPECT_OUT("neither a sweep folder");
    ck_assert_int_eq(posenc("report"), 2);
    ck_assert_int_eq(posenc("report %s/s --bogus", dir), 2);
    ck_assert_int_eq(posenc("report %s/s --out %s/no/such/dir/r.html", dir, dir), 1);
    ck_assert_int_eq(posenc("report --help"), 0);
    EXPECT_OUT("usage: posenc report");
}
END_TEST

/* show --no-plot: the verdicts without a picture (what report collects) */
START_TEST(test_show_no_plot) {
    const char *d = test_tmpdir("report-show");
    ck_assert_int_eq(posenc("show alibi --heads 8 --dim 128 --len 32 --no-plot --out %s/pics", d), 0);
    EXPECT_OUT("docs/SPEC.md §5 prediction: \"ALiBi heads get geometrically spaced slopes");
    char p[512];
    snprintf(p, sizeof p, "%s/pics", d);
    ck_assert_msg(!path_exists(p), "--no-plot wrote %s", p);
}
END_TEST

static Suite *report_suite(void) {
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_html_escape_script_json);
    tcase_add_test(tc, test_attention_maps);
    tcase_add_test(tc, test_attention_inputs);
    tcase_add_test(tc, test_attention_cli);
    tcase_add_test(tc, test_report_cli);
    tcase_add_test(tc, test_show_no_plot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(report_suite()); }
