/*
 * test_variants.c — randomized positions in training and evaluation, and
 * RoPE scaling at evaluation, end to end through the `posenc` program:
 * default training bitwise unchanged (a golden loss from the code before
 * these options), random-position training resumes bitwise, every evaluation
 * variant writes its own file and records what it did, errors for misuse,
 * and sweeps that compare variants in one table and plot.
 */
#include <check.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsutil.h"
#include "tests/testutil.h"

static cJSON *read_json(const char *dir, const char *file) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    char *text = file_read_all(p, NULL);
    ck_assert_msg(text != NULL, "%s: %s", p, core_error());
    cJSON *j = cJSON_Parse(text);
    free(text);
    ck_assert_msg(j != NULL, "%s: not JSON", p);
    return j;
}

static char *read_text(const char *dir, const char *file) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    char *text = file_read_all(p, NULL);
    ck_assert_msg(text != NULL, "%s: %s", p, core_error());
    return text;
}

/* the loss of the last result row of an evaluation file */
static double first_loss(const cJSON *j) {
    return cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "loss"));
}

static double last_loss(const cJSON *j) {
    const cJSON *res = cJSON_GetObjectItem(j, "results");
    return cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(res, cJSON_GetArraySize(res) - 1), "loss"));
}

START_TEST(test_default_unchanged_and_random_resume) {
    const char *d = test_tmpdir("var-train");
    char dir[512];
    /* with the options off, training is bitwise what it was before they existed: the loss
     * at step 50 of configs/smoke.json as the code before this feature logged it */
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --out %s/plain --set train.random_positions=false", d), 0);
    snprintf(dir, sizeof dir, "%s/plain", d);
    char *m = metrics_without_timing(dir);
    ck_assert_msg(strstr(m, "\"step\":50,\"loss\":2.13971209526062,"), "golden loss changed:\n%s", m);
    free(m);
    /* random positions: a different loss curve, and resuming is bitwise (a generator per step) */
    const char *rnd = "--set train.random_positions=true --set model.max_positions=40";
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --out %s/full %s", d, rnd), 0);
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --out %s/part %s --stop-after 30", d, rnd), 130);
    ck_assert_int_eq(posenc("train --resume %s/part --quiet", d), 0);
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/full", d);
    snprintf(pb, sizeof pb, "%s/part", d);
    char *a = metrics_without_timing(pa), *b = metrics_without_timing(pb);
    ck_assert_msg(strcmp(a, b) == 0, "metrics differ after resume:\n%s\nvs\n%s", a, b);
    ck_assert_msg(!strstr(a, "\"step\":50,\"loss\":2.13971209526062,"), "random positions changed nothing");
    free(a);
    free(b);
    /* random evaluation positions: reproducible, recorded, and different from plain */
    ck_assert_int_eq(posenc("eval %s/full --positions plain,random --lengths 2,6,12 --samples 16", d), 0);
    EXPECT_OUT("wrote");
    EXPECT_OUT("variant random (rope+rand (eval random)): random position ids from [0, 40)");
    char *r1 = read_text(pa, "eval-random.adhoc.json");
    ck_assert_int_eq(posenc("eval %s/full --positions random --lengths 2,6,12 --samples 16", d), 0);
    char *r2 = read_text(pa, "eval-random.adhoc.json");
    ck_assert_str_eq(r1, r2);
    free(r1);
    free(r2);
    cJSON *jp = read_json(pa, "eval.adhoc.json"), *jr = read_json(pa, "eval-random.adhoc.json");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(jr, "positions")), "random");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(jr, "label")), "rope+rand (eval random)");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(jp, "label")), "rope+rand");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(jr, "positions_range")), 40);
    ck_assert(last_loss(jp) != last_loss(jr));
    /* ids past the plain range (0..25 at n = 12) were used */
    const cJSON *bp = cJSON_GetObjectItem(jr, "by_position");
    int maxpos = 0;
    for (const cJSON *it = bp->child; it; it = it->next) {
        int p = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "pos"));
        maxpos = p > maxpos ? p : maxpos;
    }
    ck_assert_msg(maxpos > 26 && maxpos <= 40, "largest position id %d", maxpos);
    cJSON_Delete(jp);
    cJSON_Delete(jr);
    /* too long for [0, P) */
    ck_assert_int_eq(posenc("eval %s/full --positions random --lengths 30 --samples 4", d), 2);
    EXPECT_OUT("does not fit in the 40 positions");
    ck_assert_int_eq(posenc("eval %s/full --positions shuffled", d), 2);
    EXPECT_OUT("--positions: unknown value \"shuffled\" (valid: plain, random)");
}
END_TEST

START_TEST(test_rope_scaling_eval) {
    const char *d = test_tmpdir("var-rope");
    char run[512];
    snprintf(run, sizeof run, "%s/rope", d);
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --out %s", run), 0);
    ck_assert_int_eq(posenc("eval %s --lengths 4,12 --samples 16", run), 0);
    char *plain = read_text(run, "eval.adhoc.json");
    ck_assert_int_eq(posenc("eval %s --lengths 4,12 --samples 16 --rope-scaling none,pi,ntk,yarn", run), 0);
    /* the scalings side by side: one table, a column per scaling, and what the default does */
    EXPECT_OUT("RoPE scalings side by side: s = 1.857 (derived), original context 14");
    EXPECT_OUT("scaled at every length, inside the training range too");
    EXPECT_OUT("     n  examples       none        pi       ntk      yarn       none        pi       ntk      yarn");
    EXPECT_OUT("positions      none        pi       ntk      yarn");
    ck_assert_msg(!strstr(posenc_out, "variant yarn (rope+yarn)"), "%s", posenc_out);
    /* the default variant's file is what a plain evaluation writes */
    char *again = read_text(run, "eval.adhoc.json");
    ck_assert_str_eq(plain, again);
    free(plain);
    free(again);
    /* other lengths and samples than the config's: ad-hoc evaluations, beside the run's own files */
    const char *files[] = {"eval.adhoc.json", "eval-pi.adhoc.json", "eval-ntk.adhoc.json", "eval-yarn.adhoc.json"};
    const char *labels[] = {NULL, "rope+pi", "rope+ntk", "rope+yarn"};
    double loss[4];
    for (int i = 0; i < 4; i++) {
        cJSON *j = read_json(run, files[i]);
        loss[i] = last_loss(j);
        if (labels[i]) {
            ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "label")), labels[i]);
            /* s = longest eval input (26 at n = 12) / longest training input (14 at n = 6) */
            ck_assert_double_eq_tol(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "rope_scale")), 26.0 / 14, 1e-6);
            ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "rope_scale_derived")));
            ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "rope_original_context")), 14);
        } else {
            ck_assert_ptr_null(cJSON_GetObjectItem(j, "label"));
        }
        cJSON_Delete(j);
        for (int k = 0; k < i; k++) ck_assert_msg(loss[k] != loss[i], "%s and %s give the same loss", files[k], files[i]);
    }
    /* scaling only past the original context: n = 4 (input 10 <= 14) is the unscaled model's, n = 12
     * (input 26) pi's at the same s; by default pi changes n = 4 too */
    {
        cJSON *jp = read_json(run, "eval.adhoc.json"), *jpi = read_json(run, "eval-pi.adhoc.json");
        const double plain4 = first_loss(jp), pi4 = first_loss(jpi), pi12 = last_loss(jpi);
        cJSON_Delete(jp);
        cJSON_Delete(jpi);
        ck_assert_msg(pi4 != plain4, "pi does not change n = 4 by default");
        ck_assert_int_eq(posenc("eval %s --lengths 4,12 --samples 16 --rope-scaling pi --rope-scale-past-training", run),
                         0);
        jpi = read_json(run, "eval-pi.adhoc.json");
        ck_assert_double_eq(first_loss(jpi), plain4);
        ck_assert_double_eq(last_loss(jpi), pi12);
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(jpi, "rope_scaling_applies")),
                         "past the original context only");
        ck_assert_msg(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(jpi, "adhoc_reason")), "--rope-scale-past-training"),
                      "no ad-hoc reason");
        cJSON_Delete(jpi);
        ck_assert_int_eq(posenc("eval %s --lengths 4 --rope-scale-past-training", run), 2);
        EXPECT_OUT("no RoPE scaling to apply");
    }
    ck_assert_int_eq(posenc("eval %s --lengths 4 --samples 8 --rope-scaling pi --rope-scale 3", run), 0);
    cJSON *j = read_json(run, "eval-pi.adhoc.json");
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "rope_scale")), 3.0);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "rope_scale_derived")));
    cJSON_Delete(j);
    /* misuse */
    ck_assert_int_eq(posenc("eval %s --rope-scaling pi --rope-scale 0.5", run), 2);
    EXPECT_OUT("--rope-scale: expected a number in [1, 1e6], got \"0.5\"");
    ck_assert_int_eq(posenc("eval %s --rope-scaling longrope", run), 2);
    EXPECT_OUT("--rope-scaling: unknown value \"longrope\" (valid: none, pi, ntk, yarn)");
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --out %s/alibi --set model.pe=alibi --set train.steps=5", d), 0);
    ck_assert_int_eq(posenc("eval %s/alibi --rope-scaling yarn", d), 2);
    EXPECT_OUT("was trained with alibi; RoPE scaling (pi, ntk, yarn) needs a run trained with rope");
    /* posenc show: the frequencies before and after */
    ck_assert_int_eq(posenc("show rope --dim 64 --heads 4 --rope-scaling ntk --rope-scale 2 --out %s/show", d), 0);
    EXPECT_OUT("base' = base * s^(R/(R-2)) = 10000 * 2^(16/14) = 22081.8");
    ck_assert_int_eq(posenc("show rope --run %s --rope-scaling yarn --len 26 --out %s/show", run, d), 0);
    EXPECT_OUT("RoPE scaling yarn, s = 1.857 (derived");
    EXPECT_OUT("original context L = 14 positions (the run's longest training input)");
    EXPECT_OUT("attention factor on cos/sin 1.0619: every attention logit q.k is multiplied by 1.1276");
    ck_assert_int_eq(posenc("show rope --rope-scaling pi --out %s/show", d), 2);
    EXPECT_OUT("give --rope-scale S");
}
END_TEST

START_TEST(test_sweep_variants) {
    const char *d = test_tmpdir("var-sweep");
    char spec[512], out[512];
    snprintf(spec, sizeof spec, "%s/spec.json", d);
    snprintf(out, sizeof out, "%s/out", d);
    FILE *f = fopen(spec, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"name\": \"vars\", \"base\": \"%s/configs/smoke.json\",\n"
               " \"set\": {\"train.steps\": 20, \"model.max_positions\": 40},\n"
               " \"grid\": {\"model.pe\": [\"learned\", \"rope\"], \"train.random_positions\": [false, true]},\n"
               " \"eval\": {\"lengths\": [3, 9], \"samples\": 8, \"positions\": [\"plain\", \"random\"]}}\n",
            getcwd((char[4096]){0}, 4096));
    fclose(f);
    ck_assert_int_eq(posenc("sweep %s --out %s --jobs 2", spec, out), 0);
    char *csv = read_text(out, "results.csv");
    ck_assert_msg(strncmp(csv, "model.pe,train.random_positions,label,variant,n,", 48) == 0, "%s", csv);
    const char *rows[] = {"\nlearned,false,learned,default,3,", "\nlearned,true,learned+rand,default,9,",
                          "\nrope,true,rope+rand (eval random),random,3,", "\nlearned,false,learned (eval random),random,9,"};
    for (int i = 0; i < 4; i++) ck_assert_msg(strstr(csv, rows[i]), "no row %s in\n%s", rows[i] + 1, csv);
    free(csv);
    /* one table per evaluation-position mode, each with the four trained models as columns */
    char *md = read_text(out, "results.md");
    ck_assert_msg(strstr(md, "| n | learned | learned+rand | rope | rope+rand |"), "%s", md);
    ck_assert_msg(strstr(md, "| n | learned (eval random) | learned+rand (eval random) | rope (eval random) | "
                             "rope+rand (eval random) |"), "%s", md);
    free(md);
    char p[600];
    snprintf(p, sizeof p, "%s/copy_evalrandom_accuracy.svg", out);
    ck_assert_msg(path_exists(p), "missing %s", p);
    /* a run is complete only with every variant's file */
    snprintf(p, sizeof p, "%s/runs/rope.true.s1/eval-random.json", out);
    ck_assert(unlink(p) == 0);
    ck_assert_int_eq(posenc("sweep %s --out %s --jobs 2 --no-plots", spec, out), 0);
    EXPECT_OUT("4 jobs (3 already complete)");
    ck_assert(path_exists(p));

    /* RoPE scalings of one run: one table, one curve each */
    f = fopen(spec, "w");
    fprintf(f, "{\"name\": \"scal\", \"base\": \"%s/configs/smoke.json\", \"set\": {\"train.steps\": 20},\n"
               " \"grid\": {\"model.pe\": [\"rope\"]},\n"
               " \"eval\": {\"lengths\": [3, 12], \"samples\": 8, \"rope_scaling\": [\"none\", \"pi\", \"yarn\"]}}\n",
            getcwd((char[4096]){0}, 4096));
    fclose(f);
    snprintf(out, sizeof out, "%s/out2", d);
    ck_assert_int_eq(posenc("sweep %s --out %s", spec, out), 0);
    md = read_text(out, "results.md");
    ck_assert_msg(strstr(md, "| n | rope | rope+pi | rope+yarn |"), "%s", md);
    free(md);
    char *svg = read_text(out, "copy_accuracy.svg");
    ck_assert_msg(strstr(svg, "rope+yarn"), "the plot has no rope+yarn curve");
    free(svg);
    /* a scaling list without "none" for a non-rope grid cell is refused before anything runs (with
     * "none", the other encodings are evaluated with it alone: test_sweep) */
    f = fopen(spec, "w");
    fprintf(f, "{\"name\": \"bad\", \"grid\": {\"model.pe\": [\"rope\", \"alibi\"]}, \"eval\": {\"rope_scaling\": [\"pi\"]}}\n");
    fclose(f);
    ck_assert_int_eq(posenc("sweep %s --out %s/out3 --plan-only", spec, d), 2);
    EXPECT_OUT("job alibi.s1");
    EXPECT_OUT("eval.rope_scaling: pi rescales RoPE and needs model.pe rope, but the encoding is alibi");
}
END_TEST

static Suite *variants_suite(void) {
    Suite *s = suite_create("variants");
    TCase *tc = tcase_create("variants");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_default_unchanged_and_random_resume);
    tcase_add_test(tc, test_rope_scaling_eval);
    tcase_add_test(tc, test_sweep_variants);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(variants_suite()); }
