/*
 * test_sweep.c — experiment specs, grid expansion, aggregation arithmetic,
 * skip/resume, a failing job, plots, and the demo spec.
 */
#include <check.h>
#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsutil.h"
#include "model/gpt.h"
#include "data/task.h"
#include "model/pe.h"
#include "run/checkpoint.h"
#include "run/provenance.h"
#include "study/aggregate.h"
#include "study/aggregate_internal.h"
#include "study/plot.h"
#include "study/compare.h"
#include "study/literature.h"
#include "study/style.h"
#include "study/sweep.h"
#include "tests/testutil.h"


static void write_text(const char *path, const char *text) {
    ck_assert_msg(file_write_atomic(path, text, strlen(text)) == 0, "%s", core_error());
}

START_TEST(test_grid_expansion) {
    Sweep s;
    ck_assert_msg(sweep_load(&s, "tests/data/sweep_tiny.json") == 0, "%s", core_error());
    ck_assert_int_eq(s.num_jobs, 8);
    ck_assert_int_eq(s.num_keys, 2);
    ck_assert_str_eq(s.keys[0], "task.name");
    /* first key slowest, seeds innermost */
    const char *ids[8] = {"copy.rope.s3",    "copy.rope.s4",    "copy.alibi.s3",    "copy.alibi.s4",
                          "reverse.rope.s3", "reverse.rope.s4", "reverse.alibi.s3", "reverse.alibi.s4"};
    for (int i = 0; i < 8; i++) {
        const SweepJob *j = &s.jobs[i];
        ck_assert_str_eq(j->id, ids[i]);
        ck_assert_str_eq(j->cfg.task.name, i < 4 ? "copy" : "reverse");
        ck_assert_str_eq(j->cfg.model.pe, (i / 2) % 2 ? "alibi" : "rope");
        ck_assert_int_eq((int)j->cfg.seed, 3 + i % 2);
        ck_assert_int_eq(j->cfg.train.steps, 30);           /* "set" */
        ck_assert_int_eq(j->cfg.model.C, 32);                /* from the base config */
        ck_assert_int_eq(j->cfg.eval.num_lengths, 3);        /* "eval" */
        ck_assert_int_eq(j->cfg.eval.lengths[2], 12);
        ck_assert_int_eq(j->cfg.train.threads, 1);
    }
    sweep_free(&s);
}
END_TEST

/* posenc sweep --set: every job gets the override after the spec's "set" and
 * "eval" (as train --set), the plan's sweep.json records it ("overrides", and
 * a spec's own overrides come first); a grid key, seed or a malformed one is
 * refused naming it, and nothing is written */
START_TEST(test_sweep_set) {
    const char *d = test_tmpdir("sweep-set");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --set train.steps=40 --set eval.lengths=2,6 --plan %s/p", d),
                     0);
    EXPECT_OUT("every job with --set train.steps=40");
    char p[600];
    snprintf(p, sizeof p, "%s/p/configs/reverse.alibi.s4.json", d);
    RunConfig c;
    ck_assert_msg(config_load(&c, p, NULL, 0) == 0, "%s", core_error());
    ck_assert_int_eq(c.train.steps, 40);
    ck_assert_int_eq(c.eval.num_lengths, 2); /* after the spec's "eval" */
    ck_assert_int_eq(c.train.checkpoint_every, 10); /* the spec's "set" kept */
    snprintf(p, sizeof p, "%s/p/sweep.json", d);
    char *sj = file_read_all(p, NULL);
    ck_assert_msg(sj && strstr(sj, "\"overrides\":\t[\"train.steps=40\", \"eval.lengths=2,6\"]"), "%s", sj ? sj : "");
    free(sj);
    /* the recorded sweep.json is a spec that gives the same jobs */
    Sweep s;
    ck_assert_msg(sweep_load(&s, p) == 0, "%s", core_error());
    ck_assert_int_eq(s.jobs[0].cfg.train.steps, 40);
    sweep_free(&s);
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --set model.pe=none --plan %s/q", d), 2);
    EXPECT_OUT("model.pe (--set or \"overrides\"): a grid key of the sweep");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --set seed=9 --plan %s/q", d), 2);
    EXPECT_OUT("use the spec's \"seeds\"");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --set train.steps --plan %s/q", d), 2);
    EXPECT_OUT("--set needs KEY=VALUE");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --set train.lr=-1 --plan %s/q", d), 2);
    EXPECT_OUT("train.lr");
    snprintf(p, sizeof p, "%s/q", d);
    ck_assert(!path_exists(p));
}
END_TEST

START_TEST(test_spec_errors) {
    const char *d = test_tmpdir("sweep-err");
    char p[512];
    struct {
        const char *spec, *want;
    } cases[] = {
        {"{\"grid\": {\"model.pe\": [\"rope\"]}, \"seedz\": [1]}", "seedz: unknown key"},
        {"{\"grid\": {\"model.pee\": [\"rope\"]}}", "did you mean"},
        {"{\"grid\": {\"model.pe\": [\"rope\", \"rotary\"]}}", "none, sinusoidal, learned, rope, alibi"},
        {"{\"grid\": {\"model.pe\": []}}", "non-empty array"},
        {"{\"base\": \"nope.json\"}", "nope.json"},
        {"{\"seeds\": [1, -2]}", "seeds[1]"},
        {"{\"grid\": {\"model.pe\": [\"rope\"]},}", "line 1"},
        {"{\"set\": {\"train.lr\": -1}}", "train.lr"},
        {"{\"overrides\": [\"train.lr\"]}", "overrides[0]: expected a \"key=value\" string"},
        {"{\"overrides\": \"train.lr=1\"}", "overrides: expected an array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(p, sizeof p, "%s/spec%zu.json", d, i);
        write_text(p, cases[i].spec);
        Sweep s;
        ck_assert_msg(sweep_load(&s, p) != 0, "spec %zu accepted", i);
        ck_assert_msg(strstr(core_error(), cases[i].want) && strstr(core_error(), p), "spec %zu: message \"%s\"", i,
                      core_error());
    }
}
END_TEST

/* A spec's RoPE scaling variants apply to the encodings with RoPE; the others
 * are evaluated without (a spec that asked for pi on a grid of learned alone
 * still fails: the scaling applies to no job, and learned cannot be rescaled). */
START_TEST(test_spec_rope_scaling_per_encoding) {
    const char *d = test_tmpdir("sweep-scaling");
    char p[512];
    snprintf(p, sizeof p, "%s/spec.json", d);
    write_text(p, "{\"grid\": {\"model.pe\": [\"alibi\", \"rope\", \"xpos\"]}, "
                  "\"eval\": {\"lengths\": [8, 16], \"rope_scaling\": [\"none\", \"ntk\", \"yarn\"]}}");
    Sweep s;
    ck_assert_msg(sweep_load(&s, p) == 0, "%s", core_error());
    ck_assert_int_eq(s.num_jobs, 3);
    const unsigned all = 1u << PE_ROPE_SCALING_NONE | 1u << PE_ROPE_SCALING_NTK | 1u << PE_ROPE_SCALING_YARN;
    for (int i = 0; i < s.num_jobs; i++)
        ck_assert_msg(s.jobs[i].cfg.eval.rope_scaling == (pe_has(s.jobs[i].cfg.model.pe, PE_SCALABLE) ? all
                                                          : 1u << PE_ROPE_SCALING_NONE),
                      "%s: rope_scaling %#x", s.jobs[i].id, s.jobs[i].cfg.eval.rope_scaling);
    ck_assert_uint_eq(s.jobs[1].cfg.eval.rope_scaling, all); /* rope */
    ck_assert_uint_eq(s.jobs[0].cfg.eval.rope_scaling, 1u << PE_ROPE_SCALING_NONE); /* alibi */
    sweep_free(&s);
}
END_TEST

START_TEST(test_stat_of) {
    double x[4] = {0.5, 1.0, 0.25, 0.25};
    Stat s = stat_of(x, 4);
    ck_assert_double_eq_tol(s.mean, 0.5, 1e-12);
    ck_assert_double_eq_tol(s.std, sqrt((0 + 0.25 + 0.0625 + 0.0625) / 3.0), 1e-12);
    ck_assert_double_eq(s.min, 0.25);
    ck_assert_double_eq(s.max, 1.0);
    Stat one = stat_of(x + 1, 1);
    ck_assert_double_eq(one.std, 0.0);
}
END_TEST

/* the "examples" field the fake evaluation files record (0: none, as files
 * of older posenc versions) */
static long fake_examples = 0;
/* a RoPE scaling evaluated beside the plain one (eval-<name>.json, values fake_scaled_acc) when set */
static const char *fake_scaling = NULL;
static double fake_scaled_acc[2];
static const char *fake_extra_set = NULL; /* one more --set of the fake run's config, e.g. "model.rope_fraction=0.25" */

/* hand-made runs: the aggregate of known numbers (task "copy", or another
 * with its loss floors when floor != NULL) */
static void fake_task_run(const char *out, const char *id, const char *task, const char *pe, int seed, int steps,
                          int eval_step, const double *acc, const double *em, const double *loss,
                          const double *floor) {
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/runs/%s", out, id);
    ck_assert(dir_create(dir) == 0);
    RunConfig c;
    char set_pe[64], set_seed[64], set_steps[64];
    snprintf(set_pe, sizeof set_pe, "model.pe=%s", pe);
    snprintf(set_seed, sizeof set_seed, "seed=%d", seed);
    snprintf(set_steps, sizeof set_steps, "train.steps=%d", steps);
    char set_task[64];
    snprintf(set_task, sizeof set_task, "task.name=%s", task);
    char set_scaling[96];
    snprintf(set_scaling, sizeof set_scaling, "eval.rope_scaling=[\"none\", \"%s\"]", fake_scaling ? fake_scaling : "");
    /* the lengths its eval.json holds: the run's canonical evaluation (docs/SPEC.md §2.0) */
    const char *sets[9] = {set_pe, set_seed, set_steps, "task.max_len=4", "train.warmup=1", set_task, "eval.lengths=4,8"};
    int nsets = 7;
    if (fake_scaling) sets[nsets++] = set_scaling;
    if (fake_extra_set) sets[nsets++] = fake_extra_set;
    ck_assert_msg(config_from_string(&c, NULL, "test", sets, nsets) == 0, "%s", core_error());
    char *json = config_to_json(&c);
    snprintf(p, sizeof p, "%s/config.json", dir);
    write_text(p, json);
    /* a checkpoint at the evaluated step (a run is what its files agree on: run/inspect.h) */
    GPT m;
    ck_assert_msg(gpt_build(&m, &c.model) == 0, "%s", core_error());
    gpt_init_params(&m, c.seed);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    ck_assert_msg(checkpoint_save(p, &m, json, eval_step) == 0, "%s", core_error());
    gpt_free(&m);
    free(json);
    cJSON *e = cJSON_CreateObject(), *res = cJSON_AddArrayToObject(e, "results");
    cJSON_AddNumberToObject(e, "step", eval_step);
    const int ns[2] = {4, 8};
    for (int k = 0; k < 2; k++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "n", ns[k]);
        cJSON_AddNumberToObject(r, "token_acc", acc[k]);
        cJSON_AddNumberToObject(r, "exact_match", em[k]);
        cJSON_AddNumberToObject(r, "loss", loss[k]);
        if (floor) cJSON_AddNumberToObject(r, "loss_floor", floor[k]);
        if (fake_examples) cJSON_AddNumberToObject(r, "examples", (double)fake_examples);
        cJSON_AddItemToArray(res, r);
    }
    /* by position: positions 1..4 at the loss of n = 4, 5..8 at that of n = 8, two tokens each, one right */
    cJSON *bp = cJSON_AddArrayToObject(e, "by_position");
    for (int q = 1; q <= 8; q++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "pos", q);
        cJSON_AddNumberToObject(r, "correct", 1);
        cJSON_AddNumberToObject(r, "total", 2);
        cJSON_AddNumberToObject(r, "acc", 0.5);
        cJSON_AddNumberToObject(r, "loss", loss[q <= 4 ? 0 : 1]);
        cJSON_AddItemToArray(bp, r);
    }
    char *text = cJSON_Print(e);
    snprintf(p, sizeof p, "%s/eval.json", dir);
    write_text(p, text);
    free(text);
    if (fake_scaling) { /* the same file for the scaled evaluation, its token_acc fake_scaled_acc */
        cJSON_AddStringToObject(e, "rope_scaling", fake_scaling);
        for (int k = 0; k < 2; k++)
            cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(res, k), "token_acc",
                                                   cJSON_CreateNumber(fake_scaled_acc[k]));
        text = cJSON_Print(e);
        snprintf(p, sizeof p, "%s/eval-%s.json", dir, fake_scaling);
        write_text(p, text);
        free(text);
    }
    cJSON_Delete(e);
    ProvSession ps; /* what a real run records: this process's build and kernel */
    ck_assert_msg(prov_begin(&ps, dir, "train", 1, 0) == 0, "%s", core_error());
    ck_assert_msg(prov_end(&ps, dir, steps) == 0, "%s", core_error());
}

static void fake_run(const char *out, const char *id, const char *pe, int seed, int steps, int eval_step,
                     const double *acc, const double *em, const double *loss) {
    fake_task_run(out, id, "copy", pe, seed, steps, eval_step, acc, em, loss, NULL);
}

START_TEST(test_aggregate_arithmetic) {
    const char *d = test_tmpdir("sweep-agg");
    char p[512];
    snprintf(p, sizeof p, "%s/sweep.json", d);
    write_text(p, "{\"name\": \"agg\", \"grid\": {\"model.pe\": [\"rope\", \"alibi\"]}, \"seeds\": [1, 2, 3]}");
    const double a1[2] = {1.0, 0.5}, a2[2] = {0.8, 0.3}, a3[2] = {0.9, 0.1};
    const double e1[2] = {1.0, 0.0}, e2[2] = {0.5, 0.0}, e3[2] = {0.0, 0.0};
    const double l1[2] = {0.1, 2.0}, l2[2] = {0.3, 3.0}, l3[2] = {0.2, 4.0};
    fake_run(d, "rope.s1", "rope", 1, 10, 10, a1, e1, l1);
    fake_run(d, "rope.s2", "rope", 2, 10, 10, a2, e2, l2);
    fake_run(d, "rope.s3", "rope", 3, 10, 10, a3, e3, l3);
    fake_run(d, "alibi.s1", "alibi", 1, 10, 10, a1, e2, l1);
    fake_run(d, "alibi.s2", "alibi", 2, 10, 5, a2, e2, l2); /* unfinished: left out */
    ck_assert_int_eq(aggregate_sweep(d, NULL, &(AggOptions){0}), 4);
    snprintf(p, sizeof p, "%s/results.csv", d);
    char *csv = file_read_all(p, NULL);
    ck_assert_ptr_nonnull(csv);
    /* rope first (the spec's order), n=4: acc mean 0.9, std 0.1, min 0.8, max 1.0;
     * em mean 0.5, std 0.5; loss mean 0.2, std 0.1 */
    const char *want_header =
        "model.pe,label,variant,n,seeds,in_training_range,train_max_len,token_acc_mean,token_acc_std,token_acc_min,token_acc_max,"
        "exact_match_mean,exact_match_std,exact_match_min,exact_match_max,loss_mean,loss_std,loss_min,loss_max,examples,"
        "token_acc_lo,token_acc_hi,token_acc_hw_seed,token_acc_hw_sample,exact_match_lo,exact_match_hi,"
        "exact_match_hw_seed,exact_match_hw_sample,seed_ids,token_acc_per_seed,exact_match_per_seed,"
        "ppl_mean,ppl_std,ppl_min,ppl_max,loss_lo,loss_hi,ppl_lo,ppl_hi,loss_per_seed\n";
    ck_assert_msg(strncmp(csv, want_header, strlen(want_header)) == 0, "%s", csv);
    ck_assert_msg(strstr(csv, "\nrope,rope,default,4,3,1,4,0.900000,0.100000,0.800000,1.000000,0.500000,0.500000,0.000000,1.000000,"
                              "0.200000,0.100000,0.100000,0.300000,,,,,,,,,,1 2 3,1.000000 0.800000 0.900000,"
                              "1.000000 0.500000 0.000000,"),
                  "%s", csv);
    ck_assert_msg(strstr(csv, "\nrope,rope,default,8,3,0,4,0.300000,0.200000,0.100000,0.500000,0.000000,0.000000,0.000000,0.000000,"
                              "3.000000,1.000000,2.000000,4.000000,"),
                  "%s", csv);
    /* one seed: no sample std, an empty field (NaN to pandas), not 0 */
    ck_assert_msg(strstr(csv, "\nalibi,alibi,default,4,1,1,4,1.000000,,1.000000,1.000000,0.500000,,0.500000,0.500000,"), "%s", csv);
    ck_assert(strstr(csv, "rope,default,4") < strstr(csv, "alibi,default,4"));
    free(csv);
    /* and n/a in the markdown tables */
    snprintf(p, sizeof p, "%s/results.md", d);
    char *md = file_read_all(p, NULL);
    ck_assert_ptr_nonnull(md);
    ck_assert_msg(strstr(md, "mean ± std over 1 to 3 seeds (std n/a for one seed)"), "%s", md);
    ck_assert_msg(strstr(md, "| **4** | 0.500 ± 0.500 | 0.500 ± n/a |"), "%s", md);
    free(md);
    /* the plots: one legend per figure (each label once, not once per panel), the
     * chance line, bands named in the title only when some cell has two seeds */
    ck_assert_int_eq(aggregate_sweep(d, NULL, &(AggOptions){.plots = 1}), 4);
    snprintf(p, sizeof p, "%s/copy_accuracy.svg", d);
    char *svg = file_read_all(p, NULL);
    ck_assert_ptr_nonnull(svg);
    int labels = 0;
    for (const char *q = svg; (q = strstr(q, ">alibi</tspan>")); q++) labels++;
    ck_assert_msg(labels == 1, "label alibi drawn %d times in %s", labels, p);
    ck_assert_msg(strstr(svg, "chance: 1/alphabet") && strstr(svg, "bands: min..max over seeds"), "%s", p);
    /* each encoding in its colour (model/pe_registry.c, as in every figure and the report) */
    for (int k = 0; k < 2; k++) {
        const char *hex = pe_colour(k ? "alibi" : "rope");
        unsigned v = (unsigned)strtoul(hex + 1, NULL, 16);
        char rgb[64];
        snprintf(rgb, sizeof rgb, "stroke=\"rgb(%3u, %3u, %3u)\"", v >> 16 & 255, v >> 8 & 255, v & 255);
        ck_assert_msg(strstr(svg, rgb), "%s (%s) not drawn in %s", hex, k ? "alibi" : "rope", p);
    }
    /* the training length said under the axis, not as a label over the data */
    ck_assert_msg(strstr(svg, "the longest training length, n = ") && !strstr(svg, ">longest training length</tspan>"),
                  "%s", p);
    free(svg);
    const char *d1 = test_tmpdir("sweep-agg-1seed");
    snprintf(p, sizeof p, "%s/sweep.json", d1);
    write_text(p, "{\"name\": \"one\", \"grid\": {\"model.pe\": [\"rope\"]}, \"seeds\": [1]}");
    fake_run(d1, "rope.s1", "rope", 1, 10, 10, a1, e1, l1);
    ck_assert_int_eq(aggregate_sweep(d1, NULL, &(AggOptions){.plots = 1}), 1);
    snprintf(p, sizeof p, "%s/copy_loss.svg", d1);
    svg = file_read_all(p, NULL);
    ck_assert_msg(svg && strstr(svg, "one seed: no band") && !strstr(svg, "min..max over seeds"), "%s", p);
    free(svg);
}
END_TEST

/* A language-model task: the tables show the loss per token (mean ± std
 * over seeds) with the task's floor beside it, then token_acc; exact match
 * stays in results.csv; the loss plot draws the floor. */
START_TEST(test_aggregate_lm) {
    const char *d = test_tmpdir("sweep-agg-lm");
    char p[512];
    snprintf(p, sizeof p, "%s/sweep.json", d);
    write_text(p, "{\"name\": \"lm\", \"grid\": {\"model.pe\": [\"rope\", \"alibi\"]}, \"seeds\": [1, 2]}");
    const double a[2] = {0.6, 0.5}, e[2] = {0.0, 0.0}, f[2] = {0.868, 0.846};
    const double l1[2] = {1.0, 2.0}, l2[2] = {0.8, 3.0}, l3[2] = {0.9, 1.0};
    fake_task_run(d, "rope.s1", "markov", "rope", 1, 10, 10, a, e, l1, f);
    fake_task_run(d, "rope.s2", "markov", "rope", 2, 10, 10, a, e, l2, f);
    fake_task_run(d, "alibi.s1", "markov", "alibi", 1, 10, 10, a, e, l3, f);
    ck_assert_int_eq(aggregate_sweep(d, NULL, &(AggOptions){.plots = 1}), 3);
    snprintf(p, sizeof p, "%s/results.md", d);
    char *md = file_read_all(p, NULL);
    ck_assert_ptr_nonnull(md);
    ck_assert_msg(strstr(md, "loss (per token; floor = lowest possible)\n\n| n | rope | alibi | floor |\n"
                             "| ---: | ---: | ---: | ---: |\n"
                             "| **4** | 0.900 ± 0.141 | 0.900 ± n/a | 0.868 |\n"
                             "| 8 | 2.500 ± 0.707 | 1.000 ± n/a | 0.846 |\n"),
                  "%s", md);
    ck_assert_msg(strstr(md, "token_acc\n\n| n | rope | alibi |\n"), "%s", md);
    ck_assert_msg(!strstr(md, "exact_match"), "%s", md);
    free(md);
    snprintf(p, sizeof p, "%s/markov_loss.svg", d);
    char *svg = file_read_all(p, NULL);
    ck_assert_msg(svg && strstr(svg, "floor") && strstr(svg, "per token, nats"), "no floor in %s", p);
    /* chance, a uniform guess over the alphabet: log(10) nats */
    ck_assert_msg(strstr(svg, "chance: log(alphabet)"), "no chance line in %s", p);
    free(svg);
    /* loss by position: per cell and bin, the mean, min and max of the seeds' losses; position 8 is
     * beyond the training positions 1..4 */
    snprintf(p, sizeof p, "%s/by_position.csv", d);
    char *csv = file_read_all(p, NULL);
    ck_assert_ptr_nonnull(csv);
    ck_assert_msg(strstr(csv, "model.pe,label,variant,pos_lo,pos_hi,in_training_range,seeds,tokens,loss_mean,loss_min,"
                              "loss_max,ppl_mean,token_acc_mean\n"
                              "rope,rope,default,1,1,1,2,4,0.900000,0.800000,1.000000,2.471911,0.500000\n"),
                  "%s", csv);
    ck_assert_msg(strstr(csv, "rope,rope,default,4,4,1,2,4,0.900000,0.800000,1.000000,"), "%s", csv);
    ck_assert_msg(strstr(csv, "rope,rope,default,5,5,0,2,4,2.500000,2.000000,3.000000,"), "%s", csv);
    ck_assert_msg(strstr(csv, "rope,rope,default,8,9,0,2,4,2.500000,2.000000,3.000000,"), "%s", csv);
    ck_assert_msg(strstr(csv, "alibi,alibi,default,8,9,0,1,2,1.000000,1.000000,1.000000,2.718282,0.500000\n"), "%s", csv);
    free(csv);
    snprintf(p, sizeof p, "%s/markov_loss_by_position.svg", d);
    svg = file_read_all(p, NULL);
    ck_assert_msg(svg && strstr(svg, "training positions"), "no loss-by-position plot %s", p);
    free(svg);

    /* the length axis: linear for lengths 4..8; log, base 2, once they span a factor of 16 (4..64) */
    AggTable t;
    ck_assert_int_eq(aggregate_load_sweep(d, &(AggOptions){0}, &t), 3);
    const int members[2] = {0, 1};
    for (int stretch = 0; stretch < 2; stretch++) {
        if (stretch)
            for (int c = 0; c < t.ncells; c++) t.cells[c].lengths[1] = 64, t.cells[c].n_max = 64;
        PlotScript ps;
        plot_script_init(&ps);
        group_script(&ps, &t, members, 2, "lm", 1, 500);
        ck_assert_msg(stretch ? strstr(ps.text, "set logscale x 2\nset xrange [3.2:80]\nset xtics (4, 8, 16, 32, 64)\n") &&
                                    strstr(ps.text, "evaluation length n, log scale")
                              : strstr(ps.text, "set xrange [0:9]\n") && !strstr(ps.text, "logscale x"),
                      "%s", ps.text);
        ck_assert_msg(strstr(ps.text, "unset logscale\n"), "the legend keeps a log axis: %s", ps.text);
        plot_script_free(&ps);
    }
    aggregate_free(&t);
}
END_TEST

/* Position bins: contiguous, ascending, four per octave from 8 on. */
START_TEST(test_position_bins) {
    ck_assert_int_eq(eval_pos_bin(0), -1);
    ck_assert_int_eq(eval_pos_bin(1L << 22), -1);
    ck_assert_int_eq(eval_pos_bin(1), 0);
    ck_assert_int_eq(eval_pos_bin(7), 6);
    ck_assert_int_eq(eval_pos_bin(8), 7);
    ck_assert_int_eq(eval_pos_bin(9), 7);
    ck_assert_int_eq(eval_pos_bin(10), 8);
    ck_assert_int_eq(eval_pos_bin(16), 11);
    ck_assert_int_eq(eval_pos_bin(4095), 42);
    ck_assert_int_eq(eval_pos_bin((1L << 22) - 1), RUN_EVAL_POS_BINS - 1);
    ck_assert_int_eq(eval_pos_bin_lo(RUN_EVAL_POS_BINS), 1L << 22);
    int last = 0;
    for (long p = 1; p < 1L << 22; p += p < 70000 ? 1 : 97) {
        const int b = eval_pos_bin(p);
        ck_assert_msg(b >= last && b <= last + 1, "position %ld: bin %d after %d", p, b, last);
        ck_assert_msg(eval_pos_bin_lo(b) <= p && p < eval_pos_bin_lo(b + 1), "position %ld outside bin %d", p, b);
        last = b;
    }
    /* eval_file_parse bins by_position and refuses bad rows */
    RunEval e;
    const char *head = "{\"step\": 1, \"results\": [{\"n\": 4, \"token_acc\": 1, \"exact_match\": 1, \"loss\": 0.5}], ";
    char text[1024];
    snprintf(text, sizeof text, "%s\"by_position\": [{\"pos\": 8, \"correct\": 1, \"total\": 2, \"loss\": 1.5}, "
             "{\"pos\": 9, \"correct\": 2, \"total\": 2, \"loss\": 0.5}]}", head);
    ck_assert_msg(eval_file_parse(text, "e.json", &e) == 0, "%s", core_error());
    ck_assert_int_eq(e.pos_total[7], 4);
    ck_assert_int_eq(e.pos_correct[7], 3);
    ck_assert_double_eq_tol(e.pos_loss[7], 4.0, 1e-12);
    const char *bad[][2] = {
        {"\"by_position\": [{\"pos\": 9, \"correct\": 1, \"total\": 2, \"loss\": 1}, {\"pos\": 8, \"correct\": 1, \"total\": 2, \"loss\": 1}]}", "by_position[1].pos: 8 after 9"},
        {"\"by_position\": [{\"pos\": 1, \"correct\": 3, \"total\": 2, \"loss\": 1}]}", "by_position[0].correct"},
        {"\"by_position\": [{\"pos\": 1, \"correct\": 1, \"total\": 2, \"loss\": -1}]}", "by_position[0].loss"},
        {"\"by_position\": [{\"pos\": -1, \"correct\": 1, \"total\": 2, \"loss\": 1}]}", "by_position[0].pos"},
        {"\"by_position\": {}}", "by_position: expected an array"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s%s", head, bad[i][0]);
        ck_assert_int_eq(eval_file_parse(text, "e.json", &e), -1);
        ck_assert_msg(strstr(core_error(), bad[i][1]), "case %zu: %s", i, core_error());
    }
}
END_TEST

/* Findings (study/findings.h, study/compare.h) on known numbers: trained on
 * n = 1..4, evaluated at 4 and 8 on 200 examples, three seeds. alibi keeps
 * its exact match at 8 (0.9, 0.8, 0.85 against 1.0 in range: no break up to
 * 8); rope loses it (0.1, 0.2, 0.0: breaks at 8 on every seed). */
static const char *findings_sweep(void) {
    const char *d = test_tmpdir("sweep-findings");
    char p[512];
    snprintf(p, sizeof p, "%s/sweep.json", d);
    write_text(p, "{\"name\": \"fnd\", \"grid\": {\"model.pe\": [\"rope\", \"alibi\"]}, \"seeds\": [1, 2, 3]}");
    const double l[2] = {0.1, 1.0};
    const double ea[3][2] = {{1.0, 0.9}, {1.0, 0.8}, {1.0, 0.85}}, er[3][2] = {{1.0, 0.1}, {1.0, 0.2}, {1.0, 0.0}};
    fake_examples = 200;
    for (int s = 0; s < 3; s++) {
        char id[32];
        snprintf(id, sizeof id, "alibi.s%d", s + 1);
        fake_run(d, id, "alibi", s + 1, 10, 10, ea[s], ea[s], l);
        snprintf(id, sizeof id, "rope.s%d", s + 1);
        fake_run(d, id, "rope", s + 1, 10, 10, er[s], er[s], l);
    }
    fake_examples = 0;
    return d;
}

START_TEST(test_findings_aggregate) {
    const char *d = findings_sweep();
    AggTable t;
    ck_assert_int_eq(aggregate_load_sweep(d, &(AggOptions){0}, &t), 6);
    ck_assert_int_eq(t.ncells, 2);
    const AggCell *rope = &t.cells[0], *alibi = &t.cells[1]; /* the grid's order */
    ck_assert_str_eq(rope->label, "rope");
    /* breaks: rope at 8 on every seed; alibi not up to 8 (censored) */
    ck_assert_int_eq(rope->brk[AGG_EM].median, 8);
    ck_assert_int_eq(rope->brk[AGG_EM].min, 8);
    ck_assert_int_eq(rope->brk[AGG_EM].max, 8);
    ck_assert_int_eq(alibi->brk[AGG_EM].median, 0);
    ck_assert_int_eq(alibi->brk[AGG_EM].censored, 3);
    /* the interval of alibi at 8: test_findings' numbers */
    ck_assert_int_eq(alibi->examples[1], 200);
    ck_assert_double_eq_tol(alibi->em_ci[1].lo, 0.713728, 1e-5);
    ck_assert_double_eq_tol(alibi->em_ci[1].hi, 0.981396, 1e-5);
    /* paired: at 8 alibi > rope in 3 of 3 seeds; at 4 equal: not resolved */
    CompareAt c;
    ck_assert_int_eq(compare_at(&t, t.group[0], AGG_EM, 8, &c), 0);
    ck_assert_int_eq(c.num, 2);
    ck_assert_int_eq(c.cell[0], 1); /* alibi ranks first */
    ck_assert_double_eq_tol(c.pair[0][1].mean, 0.75, 1e-12);
    ck_assert_int_eq(c.pair[0][1].verdict, 1);
    ck_assert_int_eq(paired_support(&c.pair[0][1]), 3);
    ck_assert_int_eq(c.pair[1][0].verdict, -1);
    ck_assert_int_eq(compare_at(&t, t.group[0], AGG_EM, 4, &c), 0);
    ck_assert_int_eq(c.pair[0][1].verdict, 0);
    char rk[256];
    compare_ranking_text(&t, &c, rk, sizeof rk);
    ck_assert_str_eq(rk, "rope ~ alibi");
    /* beyond: the mean past the training range (here n = 8 alone) */
    ck_assert_int_eq(compare_at(&t, t.group[0], AGG_EM, COMPARE_BEYOND, &c), 0);
    ck_assert_int_eq(c.beyond_count, 1);
    ck_assert_int_eq(c.pair[0][1].verdict, 1);
    /* a stricter rule: alibi breaks too (0.8 < 0.85 x 1.0 on seed 2) */
    aggregate_free(&t);
    ck_assert_int_eq(aggregate_load_sweep(d, &(AggOptions){.break_fraction = 0.85}, &t), 6);
    ck_assert_int_eq(t.cells[1].brk[AGG_EM].min, 8);
    ck_assert_int_eq(t.cells[1].brk[AGG_EM].censored, 2);
    aggregate_free(&t);
    /* the outputs: intervals, per-seed values and breaks in results.csv, breaks.csv, results.md */
    ck_assert_int_eq(aggregate_sweep(d, NULL, &(AggOptions){0}), 6);
    char p[512];
    snprintf(p, sizeof p, "%s/results.csv", d);
    char *csv = file_read_all(p, NULL);
    ck_assert_msg(strstr(csv, "\nalibi,alibi,default,8,3,0,4,") &&
                      strstr(csv, ",200,0.") && strstr(csv, ",0.713728,0.981396,0.124208,0.056056,1 2 3,"),
                  "%s", csv);
    free(csv);
    snprintf(p, sizeof p, "%s/breaks.csv", d);
    csv = file_read_all(p, NULL);
    ck_assert_msg(csv && strstr(csv, "\nrope,rope,default,exact_match,0.5,4,8,3,3,0,8,8,8,1 2 3,8 8 8,"
                                     "1.000000 1.000000 1.000000,below fraction x,4,1,0,4 4 4\n") &&
                      strstr(csv, "\nalibi,alibi,default,exact_match,0.5,4,8,3,3,3,,,,1 2 3,>8 >8 >8,"),
                  "%s", csv);
    free(csv);
    snprintf(p, sizeof p, "%s/results.md", d);
    char *md = file_read_all(p, NULL);
    ck_assert_msg(md && strstr(md, "mean [95 % interval] over 3 seeds, 200 evaluation examples per length") &&
                      strstr(md, "| 8 | 0.100 [") && strstr(md, " 0.850 [0.714, 0.981] |") &&
                      strstr(md, "<details><summary>per-seed values (seeds 1, 2, 3, in that order)</summary>") &&
                      strstr(md, "| 0.900 / 0.800 / 0.850 |") &&
                      strstr(md, "| rope | 4 to 8 (coarse grid) | 4 to 8 / 4 to 8 / 4 to 8 |") &&
                      strstr(md, "| alibi | > 8 | > 8 / > 8 / > 8 |"),
                  "%s", md);
    free(md);
}
END_TEST

/* Breaks as the grid knows them (findings.h): a RoPE scaling is measured
 * against its run's unscaled evaluation, also inside the training range, so
 * a variant already below the threshold there is reported as such (against
 * its own lower in-range mean it would never break). */
START_TEST(test_break_variant_in_range) {
    const char *d = test_tmpdir("sweep-break-variant");
    char p[512];
    snprintf(p, sizeof p, "%s/sweep.json", d);
    write_text(p, "{\"name\": \"bv\", \"grid\": {\"model.pe\": [\"rope\"]}, \"seeds\": [1]}");
    const double a[2] = {1.0, 0.6}, l[2] = {0.1, 1.0};
    fake_scaling = "pi";
    fake_scaled_acc[0] = 0.4, fake_scaled_acc[1] = 0.35;
    fake_run(d, "rope.s1", "rope", 1, 10, 10, a, a, l);
    fake_scaling = NULL;
    AggTable t;
    ck_assert_int_eq(aggregate_load_sweep(d, &(AggOptions){0}, &t), 1);
    ck_assert_int_eq(t.ncells, 2);
    const AggCell *plain = &t.cells[0], *pi = &t.cells[1];
    ck_assert_str_eq(pi->label, "rope+pi");
    /* plain: 0.6 at n = 8 against 0.5 x 1.0: never below up to 8 */
    ck_assert_int_eq(plain->brk[AGG_ACC].median, 0);
    /* pi: 0.4 at n = 4, inside the training range, below 0.5 x the unscaled 1.0 there */
    ck_assert_int_eq(pi->brk[AGG_ACC].median, 4);
    ck_assert_int_eq(pi->brk[AGG_ACC].in_range, 1);
    ck_assert_double_eq_tol(t.runs[pi->runs[0]].brk[AGG_ACC].ref, 1.0, 1e-12);
    aggregate_free(&t);
    ck_assert_int_eq(posenc("compare %s --metric token_acc", d), 0);
    EXPECT_OUT("rope+pi          already inside the training range (at n = 4) (one seed)");
    EXPECT_OUT("rope             nowhere up to n = 8 (one seed)");
}
END_TEST

/* A language model's metric is perplexity: compare --metric ppl ranks the
 * lowest first ("<" when resolved), its break is perplexity above 2 x its
 * value inside the training range, and the headline is stated in it. */
START_TEST(test_compare_ppl) {
    const char *d = test_tmpdir("sweep-ppl");
    char p[512];
    snprintf(p, sizeof p, "%s/sweep.json", d);
    write_text(p, "{\"name\": \"lm\", \"grid\": {\"model.pe\": [\"rope\", \"alibi\"]}, \"seeds\": [1, 2, 3]}");
    const double a[2] = {0.6, 0.5}, e[2] = {0.0, 0.0}, f[2] = {0.868, 0.846};
    /* in range (n = 4) loss 1.0: the threshold is loss 1 + ln 2 = 1.693 (perplexity 2e) */
    const double lr[3][2] = {{1.0, 2.0}, {1.0, 2.1}, {1.0, 1.9}}, la[3][2] = {{1.0, 1.2}, {1.0, 1.25}, {1.0, 1.1}};
    for (int s = 0; s < 3; s++) {
        char id[32];
        snprintf(id, sizeof id, "rope.s%d", s + 1);
        fake_task_run(d, id, "markov", "rope", s + 1, 10, 10, a, e, lr[s], f);
        snprintf(id, sizeof id, "alibi.s%d", s + 1);
        fake_task_run(d, id, "markov", "alibi", s + 1, 10, 10, a, e, la[s], f);
    }
    AggTable t;
    ck_assert_int_eq(aggregate_load_sweep(d, &(AggOptions){0}, &t), 6);
    /* perplexity per seed is exp(loss); over seeds their mean */
    ck_assert_double_eq_tol(t.cells[0].ppl[1].mean, (exp(2.0) + exp(2.1) + exp(1.9)) / 3, 1e-9);
    ck_assert_int_eq(t.cells[0].brk[AGG_PPL].median, 8);
    ck_assert_int_eq(t.cells[0].brk[AGG_PPL].median_last_ok, 4);
    ck_assert_int_eq(t.cells[0].brk[AGG_LOSS].median, 8);
    ck_assert_int_eq(t.cells[1].brk[AGG_PPL].median, 0);
    CompareAt c;
    ck_assert_int_eq(compare_at(&t, t.group[0], AGG_PPL, 8, &c), 0);
    ck_assert_int_eq(c.cell[0], 1); /* alibi: the lower perplexity ranks first */
    ck_assert_int_eq(c.pair[0][1].verdict, -1);
    char rk[256];
    compare_ranking_text(&t, &c, rk, sizeof rk);
    ck_assert_str_eq(rk, "alibi < rope");
    aggregate_free(&t);
    ck_assert_int_eq(posenc("compare %s --metric ppl", d), 0);
    EXPECT_OUT("perplexity exceeds 2 x its value inside the training range");
    EXPECT_OUT("rope             between n = 4 and 8 on every seed");
    EXPECT_OUT("alibi            nowhere up to n = 8 on every seed");
    EXPECT_OUT("n = 8 (2x)                               alibi < rope");
    /* the default headline of a language model: perplexity */
    ck_assert_int_eq(posenc("compare %s --headline", d), 0);
    EXPECT_OUT("perplexity exceeds 2 x its value inside the training range between n = 4 and 8 on every seed");
    EXPECT_OUT("the ranking is alibi < rope (alibi - rope -");
    EXPECT_OUT("alibi ahead in 3 of 3 seeds");
    ck_assert_msg(!strstr(posenc_out, "token_acc"), "%s", posenc_out);
    ck_assert_int_eq(posenc("compare %s --metric loss --break-factor 1.1", d), 0);
    EXPECT_OUT("alibi            between n = 4 and 8 on every seed");
    ck_assert_int_eq(posenc("compare %s --break-factor 1", d), 2);
    EXPECT_OUT("--break-factor: expected a factor greater than 1");
    /* collect: the perplexity table, and perplexity's break in results.md and breaks.csv */
    ck_assert_int_eq(posenc("collect %s --no-plots", d), 0);
    snprintf(p, sizeof p, "%s/results.md", d);
    char *md = file_read_all(p, NULL);
    ck_assert_msg(md && strstr(md, "perplexity (exp of the loss per token)\n\n| n | rope | alibi |") &&
                      strstr(md, "| rope | 4 to 8 (coarse grid) | 4 to 8 / 4 to 8 / 4 to 8 |"),
                  "%s", md ? md : "(none)");
    free(md);
    snprintf(p, sizeof p, "%s/breaks.csv", d);
    md = file_read_all(p, NULL);
    ck_assert_msg(md && strstr(md, "\nrope,rope,default,ppl,2,4,8,3,3,0,8,8,8,1 2 3,8 8 8,"
                                   "2.718282 2.718282 2.718282,perplexity above factor x,4,1,0,4 4 4\n"),
                  "%s", md ? md : "(none)");
    free(md);
}
END_TEST

/* Runs that are not one sweep's: cells of one task and training range are
 * compared, named by their encoding and the key=value they differ in; a
 * verdict from one seed says why it is not resolved; a run with a RoPE
 * scaling names its plain column and counts as one run. */
START_TEST(test_adhoc_labels) {
    const char *d = test_tmpdir("sweep-adhoc");
    const double a1[2] = {1.0, 0.9}, a2[2] = {1.0, 0.2}, l[2] = {0.1, 1.0};
    fake_examples = 200;
    fake_extra_set = "train.lr=0.001";
    fake_run(d, "a", "rope", 1, 10, 10, a1, a1, l);
    fake_extra_set = "train.lr=0.002";
    fake_run(d, "b", "rope", 1, 10, 10, a2, a2, l);
    fake_extra_set = NULL;
    ck_assert_int_eq(posenc("compare %s/runs/a %s/runs/b --metric exact_match", d, d), 0);
    EXPECT_OUT("rope lr=0.001 - rope lr=0.002");
    EXPECT_OUT("not resolved (one seed: no interval over seeds)");
    ck_assert_msg(!strstr(posenc_out, "copy.0.001"), "%s", posenc_out);
    /* a run evaluated plain and with pi: its two columns named, one run */
    fake_scaling = "pi";
    fake_scaled_acc[0] = 0.9, fake_scaled_acc[1] = 0.5;
    fake_run(d, "c", "rope", 1, 10, 10, a1, a1, l);
    fake_scaling = NULL;
    fake_examples = 0;
    ck_assert_int_eq(posenc("collect %s/runs/c --out %s/C --no-plots", d, d), 0);
    EXPECT_OUT("(1 run with 2 evaluations, 2 cells)");
    char p[600];
    snprintf(p, sizeof p, "%s/C/results.md", d);
    char *md = file_read_all(p, NULL);
    ck_assert_msg(md && strstr(md, "| n | rope | rope+pi |"), "%s", md ? md : "(none)");
    free(md);
}
END_TEST

/* posenc compare: the text, the options, the errors */
START_TEST(test_compare_cli) {
    const char *d = findings_sweep();
    ck_assert_int_eq(posenc("compare %s", d), 0);
    EXPECT_OUT("n = 8 (2x)");
    EXPECT_OUT("alibi > rope");
    EXPECT_OUT("alibi        - rope         +0.750 [+0.405, +1.095]  3/3 seeds  alibi > rope");
    EXPECT_OUT("rope             between n = 4 and 8 on every seed (coarse grid)");
    EXPECT_OUT("(per seed: 4 to 8 / 4 to 8 / 4 to 8;");
    EXPECT_OUT("alibi            nowhere up to n = 8 on every seed");
    ck_assert_int_eq(posenc("compare %s --markdown --at 8", d), 0);
    EXPECT_OUT("| n = 8 (2x) | alibi - rope | +0.750 [+0.405, +1.095] | 3 of 3 seeds | alibi > rope |");
    ck_assert_msg(!strstr(posenc_out, "beyond"), "%s", posenc_out);
    ck_assert_int_eq(posenc("compare %s --headline --metric exact_match", d), 0);
    EXPECT_OUT("At n = 8 (2x) the ranking is alibi > rope (alibi - rope +0.750 [+0.405, +1.095], alibi ahead in 3 of 3 "
               "seeds).");
    /* bad arguments: exit 2, naming what is wrong */
    ck_assert_int_eq(posenc("compare %s --metric bleu", d), 2);
    EXPECT_OUT("--metric: expected exact_match, token_acc, loss or ppl");
    ck_assert_int_eq(posenc("compare %s --at 5", d), 2);
    EXPECT_OUT("no run was evaluated at n = 5");
    ck_assert_int_eq(posenc("compare %s --break-fraction 1.5", d), 2);
    EXPECT_OUT("strictly between 0 and 1");
    ck_assert_int_eq(posenc("collect %s --break-fraction 0", d), 2);
    ck_assert_int_eq(posenc("compare %s --at 8 --beyond", d), 2);
    ck_assert_int_eq(posenc("compare"), 2);
    ck_assert_int_eq(posenc("compare --help"), 0);
    EXPECT_OUT("usage: posenc compare DIR");
}
END_TEST

/* Beside a paper (posenc compare DIR --against FILE), on constructed runs:
 * exact match at n = 8 (past the training range 1..4) per seed
 *   none {0.9, 0.85, 0.95}, rope on a quarter {0.1, 0.2, 0.0}, alibi {0.6, 0.65, 0.7},
 *   t5 {0.2, 0.8, 0.5}, rope on all {0.5 x 3} (not in the paper)
 * and a paper whose three seeds are equal: none 0.9, t5 0.5, rope_quarter 0.3,
 * alibi 0.05, every order resolved by its 10000 examples. By hand (docs/SPEC.md §2.1):
 *   none > rope_quarter  posenc +0.80, interval above 0        reproduced
 *   none > alibi         +0.25 [+0.08, +0.42]                   reproduced
 *   rope_quarter > alibi -0.55 [-0.90, -0.20]                   contradicted
 *   none > t5, t5 > rope_quarter, t5 > alibi: the seeds disagree   not resolved
 * tau-b per seed against the paper's order none > t5 > rope_quarter > alibi:
 * 1/3, 2/3, 1/3 (4, 5, 4 of 6 pairs concordant). */
START_TEST(test_literature_compare) {
    const char *d = test_tmpdir("sweep-literature");
    char p[512];
    snprintf(p, sizeof p, "%s/sweep.json", d);
    write_text(p, "{\"name\": \"lit\", \"grid\": {\"model.pe\": [\"none\", \"t5\", \"alibi\", \"rope\"],"
                  " \"model.rope_fraction\": [1, 0.25]}, \"seeds\": [1, 2, 3]}");
    const double l[2] = {0.1, 1.0};
    const double none[3] = {0.9, 0.85, 0.95}, rq[3] = {0.1, 0.2, 0.0}, alibi[3] = {0.6, 0.65, 0.7},
                 t5[3] = {0.2, 0.8, 0.5}, rfull[3] = {0.5, 0.5, 0.5};
    fake_examples = 200;
    for (int s = 0; s < 3; s++) {
        char id[48];
        double v[2] = {1.0, 0};
        v[1] = none[s], snprintf(id, sizeof id, "none.1.s%d", s + 1), fake_run(d, id, "none", s + 1, 10, 10, v, v, l);
        v[0] = 0.5; /* t5 does not fit the task in range */
        v[1] = t5[s], snprintf(id, sizeof id, "t5.1.s%d", s + 1), fake_run(d, id, "t5", s + 1, 10, 10, v, v, l);
        v[0] = 1.0;
        v[1] = alibi[s], snprintf(id, sizeof id, "alibi.1.s%d", s + 1), fake_run(d, id, "alibi", s + 1, 10, 10, v, v, l);
        v[1] = rfull[s], snprintf(id, sizeof id, "rope.1.s%d", s + 1), fake_run(d, id, "rope", s + 1, 10, 10, v, v, l);
        fake_extra_set = "model.rope_fraction=0.25";
        v[1] = rq[s], snprintf(id, sizeof id, "rope.0.25.s%d", s + 1), fake_run(d, id, "rope", s + 1, 10, 10, v, v, l);
        fake_extra_set = NULL;
    }
    fake_examples = 0;
    char lp[512];
    snprintf(lp, sizeof lp, "%s/paper.json", d);
    char cells[2048] = "";
    const char *names[4] = {"none", "t5", "rope_quarter", "alibi"};
    const double paper[4] = {0.9, 0.5, 0.3, 0.05};
    for (int e = 0; e < 4; e++) {
        char c[400];
        snprintf(c, sizeof c,
                 "%s{\"task\": \"copy\", \"encoding\": \"%s\", \"seeds\": [{\"seed\": 11, \"beyond\": %g, \"test_examples\": 10000}, "
                 "{\"seed\": 12, \"beyond\": %g, \"test_examples\": 10000}, {\"seed\": 13, \"beyond\": %g, \"test_examples\": 10000}]}",
                 e ? ", " : "", names[e], paper[e], paper[e], paper[e]);
        strcat(cells, c);
    }
    char text[4096];
    snprintf(text, sizeof text,
             "{\"format\": \"posenc-literature-1\", \"id\": \"paper\", \"title\": \"A paper\", \"authors\": \"Someone\","
             " \"arxiv\": \"0000.00000\", \"source\": {\"page\": \"made up for the test\"},"
             " \"protocol\": {\"metric\": \"exact_match\", \"train_lengths\": [1, 4], \"test_lengths\": [5, 8]},"
             " \"encodings\": {\"none\": {\"posenc\": {\"model.pe\": \"none\"}}, \"t5\": {\"posenc\": {\"model.pe\": \"t5\"}},"
             " \"rope_quarter\": {\"posenc\": {\"model.pe\": \"rope\", \"model.rope_fraction\": 0.25}},"
             " \"alibi\": {\"posenc\": {\"model.pe\": \"alibi\"}}},"
             " \"tasks\": {\"copy\": {\"posenc\": {\"task.name\": \"copy\"}}, \"other\": {}},"
             " \"cells\": [%s, {\"task\": \"other\", \"encoding\": \"none\", \"seeds\": [{\"seed\": 1, \"beyond\": 0.5}]}]}",
             cells);
    write_text(lp, text);
    static Literature lit;
    ck_assert_msg(literature_load(&lit, lp) == 0, "%s", core_error());
    AggTable t;
    ck_assert_int_eq(aggregate_load_sweep(d, &(AggOptions){0}, &t), 15);
    static LitReport r;
    ck_assert_msg(literature_compare(&lit, &t, 0, &r) == 0, "%s", core_error()); /* fit 0: every encoding */
    ck_assert_int_eq(r.beyond_lo, 8);
    ck_assert_int_eq(r.beyond_count, 1);
    ck_assert_int_eq(r.count[LIT_REPRODUCED], 2);
    ck_assert_int_eq(r.count[LIT_CONTRADICTED], 1);
    ck_assert_int_eq(r.count[LIT_UNRESOLVED], 3);
    ck_assert_int_eq(r.count[LIT_NOT_RUN], 0);
    ck_assert_int_eq(r.ntasks, 2);
    const LitTask *tk = &r.tasks[0];
    ck_assert(tk->run && !r.tasks[1].run);
    ck_assert_int_eq(tk->nrows, 5); /* the paper's four, then posenc's rope on all of each head */
    ck_assert_str_eq(tk->rows[4].name, "rope");
    ck_assert_int_eq(tk->rows[4].lit_cell, -1);
    ck_assert_double_eq_tol(tk->rows[0].iv.mean, 0.9, 1e-12);
    ck_assert_double_eq_tol(tk->rows[2].iv.mean, 0.1, 1e-12); /* rope_quarter: the 0.25 cell, not the full one */
    int seen = 0;
    for (int q = 0; q < tk->nclaims; q++) {
        const LitClaim *c = &tk->claims[q];
        const char *a = tk->rows[c->a].name, *b = tk->rows[c->b].name;
        if (strcmp(a, "rope_quarter") == 0 && strcmp(b, "alibi") == 0) {
            ck_assert_int_eq(c->sign, 1);
            ck_assert_int_eq(c->verdict, LIT_CONTRADICTED);
            ck_assert_double_eq_tol(c->posenc.mean, -0.55, 1e-12);
            seen++;
        }
        if (strcmp(a, "none") == 0 && strcmp(b, "t5") == 0) {
            ck_assert_int_eq(c->verdict, LIT_UNRESOLVED);
            ck_assert_str_eq(c->why, "interval includes 0");
            seen++;
        }
    }
    ck_assert_int_eq(seen, 2);
    ck_assert_int_eq(tk->tau_k, 3);
    ck_assert_double_eq_tol(tk->tau[0], 1.0 / 3, 1e-12);
    ck_assert_double_eq_tol(tk->tau[1], 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(tk->tau[2], 1.0 / 3, 1e-12);
    ck_assert_double_eq_tol(tk->tau_mean, 4.0 / 9, 1e-12);
    ck_assert_int_eq(tk->ranked, 4);

    /* fit 0.9: t5 (0.5 in range) does not fit, so its three claims are not tested and the ranks leave it out */
    ck_assert_msg(literature_compare(&lit, &t, 0.9, &r) == 0, "%s", core_error());
    ck_assert_int_eq(r.count[LIT_UNFIT], 3);
    ck_assert_int_eq(r.count[LIT_REPRODUCED] + r.count[LIT_CONTRADICTED] + r.count[LIT_UNRESOLVED], 3);
    ck_assert_int_eq(r.tasks[0].ranked, 3);
    for (int q = 0; q < r.tasks[0].nclaims; q++) {
        const LitClaim *c = &r.tasks[0].claims[q];
        const int on_t5 = strcmp(r.tasks[0].rows[c->a].name, "t5") == 0 || strcmp(r.tasks[0].rows[c->b].name, "t5") == 0;
        ck_assert_int_eq(c->verdict == LIT_UNFIT, on_t5);
    }
    aggregate_free(&t);

    /* the same through the command line, as markdown */
    ck_assert_int_eq(posenc("compare %s --against %s --fit 0.4", d, lp), 0);
    EXPECT_OUT("2 reproduced, 1 contradicted, 3 not resolved with these seeds.**");
    EXPECT_OUT("| rope\\_quarter > alibi | +0.250 [");
    EXPECT_OUT("contradicted |");
    EXPECT_OUT("not resolved: interval includes 0");
    EXPECT_OUT("Tasks of the paper not run here");
    ck_assert_int_eq(posenc("compare %s --against %s", d, lp), 0); /* --fit 0.9 */
    EXPECT_OUT(", 3 not tested: posenc's model does not fit the task in range (an encoding below 0.90");
    EXPECT_OUT("| none > t5 | +0.400 [");
    EXPECT_OUT("not tested: posenc's t5 scores 0.500 in range, below 0.90 |");
    EXPECT_OUT("Rank agreement over the 3 encodings both ran that posenc fits in range");
    ck_assert_int_eq(posenc("compare %s --fit 0.9", d), 2);
    EXPECT_OUT("--fit: only with --against");
    ck_assert_int_eq(posenc("compare %s --against %s --fit 1", d, lp), 2);
    EXPECT_OUT("--fit: expected a fraction strictly between 0 and 1, got \"1\"");
    /* a file that is not a literature file, and options that do not go with it: exit 2, naming it */
    ck_assert_int_eq(posenc("compare %s --against %s/sweep.json", d, d), 2);
    EXPECT_OUT("sweep.json: format");
    ck_assert_int_eq(posenc("compare %s --against %s --at 8", d, lp), 2);
    EXPECT_OUT("--against");

    /* scripts/report.sh splices it between a document's literature lines */
    char cmd[4096], root[2048], lit_dir[600], doc_path[600];
    ck_assert(getcwd(root, sizeof root) != NULL);
    snprintf(lit_dir, sizeof lit_dir, "%s/experiments/literature", d);
    ck_assert(dir_create(lit_dir) == 0);
    char lp2[700];
    snprintf(lp2, sizeof lp2, "%s/paper.json", lit_dir);
    write_text(lp2, text);
    snprintf(doc_path, sizeof doc_path, "%s/doc.md", d);
    write_text(doc_path, "# doc\n\n<!-- literature:lit:paper:begin -->\nold\n\n");
    snprintf(cmd, sizeof cmd, "cd %s && POSENC=%s bash %s/scripts/report.sh lit doc.md .", d, posenc_bin(), root);
    ck_assert_int_eq(run_captured(cmd), 1);
    EXPECT_OUT("without its end line");
    write_text(doc_path, "# doc\n\n<!-- literature:lit:paper:begin -->\nold\n<!-- literature:lit:paper:end -->\n\nend\n");
    ck_assert_int_eq(run_captured(cmd), 0);
    char *doc = file_read_all(doc_path, NULL);
    ck_assert_msg(doc && !strstr(doc, "\nold\n") && strstr(doc, "2 reproduced, 1 contradicted, 0 not resolved with these seeds, 3 not tested") &&
                      strstr(doc, "\n<!-- literature:lit:paper:end -->\n\nend\n"),
                  "%s", doc ? doc : "");
    free(doc);
}
END_TEST

/* posenc robustness: spec errors name the file and the key; nothing runs */
START_TEST(test_robustness_spec_errors) {
    const char *d = test_tmpdir("robust-spec");
    char p[512];
    snprintf(p, sizeof p, "%s/r.json", d);
    write_text(p, "{\"experiment\": \"../../../tests/data/sweep_tiny.json\", \"perturbations\": [], \"x\": 1}");
    ck_assert_int_eq(posenc("robustness %s --out %s/o", p, d), 2);
    EXPECT_OUT("unknown key \"x\"");
    write_text(p, "{\"experiment\": \"nope.json\", \"perturbations\": [{\"name\": \"a\", \"set\": {\"train.lr\": 0.1}}]}");
    ck_assert_int_eq(posenc("robustness %s --out %s/o", p, d), 2);
    EXPECT_OUT("experiment");
    char tiny[PATH_MAX];
    ck_assert_ptr_nonnull(realpath("tests/data/sweep_tiny.json", tiny));
    snprintf(p, sizeof p, "%s/r.json", d);
    char text[8192];
    snprintf(text, sizeof text,
             "{\"experiment\": \"%s\", \"perturbations\": [{\"name\": \"pe\", \"set\": {\"model.pe\": \"none\"}}]}",
             tiny);
    write_text(p, text);
    ck_assert_int_eq(posenc("robustness %s --out %s/o", p, d), 2);
    EXPECT_OUT("model.pe is a grid key of the experiment");
    snprintf(text, sizeof text,
             "{\"experiment\": \"%s\", \"perturbations\": [{\"name\": \"a b\", \"set\": {\"train.lr\": 0.1}}, "
             "{\"name\": \"a/b\", \"set\": {\"train.lr\": 0.2}}]}",
             tiny);
    write_text(p, text);
    ck_assert_int_eq(posenc("robustness %s --out %s/o", p, d), 2);
    EXPECT_OUT("its folder name a_b is taken by \"a b\"");
    snprintf(text, sizeof text,
             "{\"experiment\": \"%s\", \"metric\": \"bleu\", \"perturbations\": [{\"name\": \"a\", \"set\": {\"train.lr\": 0.1}}]}",
             tiny);
    write_text(p, text);
    ck_assert_int_eq(posenc("robustness %s --out %s/o", p, d), 2);
    EXPECT_OUT("metric: expected \"exact_match\", \"token_acc\", \"loss\", \"ppl\" or \"both\"");
    /* a bad config value is the sweep's error, naming the key */
    snprintf(text, sizeof text,
             "{\"experiment\": \"%s\", \"perturbations\": [{\"name\": \"bad\", \"set\": {\"train.lr\": -1}}]}",
             tiny);
    write_text(p, text);
    ck_assert_int_eq(posenc("robustness %s --out %s/o --collect-only", p, d), 2);
}
END_TEST

/* posenc robustness end to end on the tiny sweep: a baseline and one
 * perturbation, each a sweep folder, then the verdict table */
START_TEST(test_robustness_run) {
    const char *d = test_tmpdir("robust-run");
    char p[512], tiny[PATH_MAX], text[8192];
    ck_assert_ptr_nonnull(realpath("tests/data/sweep_tiny.json", tiny));
    snprintf(p, sizeof p, "%s/r.json", d);
    snprintf(text, sizeof text,
             "{\"name\": \"rb\", \"experiment\": \"%s\", \"metric\": \"token_acc\", \"lengths\": [6, 12], "
             "\"perturbations\": [{\"name\": \"lr x2\", \"set\": {\"train.lr\": 0.02}}]}",
             tiny);
    write_text(p, text);
    ck_assert_int_eq(posenc("robustness %s --out %s/o --jobs 2 --no-plots", p, d), 0);
    EXPECT_OUT("robustness: ");
    snprintf(p, sizeof p, "%s/o/baseline/results.csv", d);
    ck_assert(path_exists(p));
    snprintf(p, sizeof p, "%s/o/lr_x2/sweep.json", d);
    char *sj = file_read_all(p, NULL);
    ck_assert_msg(sj && strstr(sj, "\"train.lr\":\t0.02") , "%s", sj ? sj : "(none)");
    free(sj);
    snprintf(p, sizeof p, "%s/o/robustness.md", d);
    char *md = file_read_all(p, NULL);
    ck_assert_msg(md && strstr(md, "| conclusion | baseline | lr x2 | holds under all |") &&
                      strstr(md, "| recipe | n = 6 | n = 12 |") && strstr(md, "| baseline |") &&
                      strstr(md, "| rope's break: | 6 to 12 (coarse grid) | holds: 6 to 12 (coarse grid) | **yes** |"),
                  "%s", md ? md : "(none)");
    free(md);
    snprintf(p, sizeof p, "%s/o/robustness.csv", d);
    ck_assert(path_exists(p));
    /* again: nothing to train, the same verdicts */
    ck_assert_int_eq(posenc("robustness %s/r.json --out %s/o --collect-only", d, d), 0);
}
END_TEST

START_TEST(test_sweep_skip_resume_fail_plots) {
    const char *d = test_tmpdir("sweep-run");
    char p[600];
    /* one job's run directory is a plain file: that job fails, the others finish */
    snprintf(p, sizeof p, "%s/out/runs", d);
    ck_assert(dir_create(p) == 0);
    snprintf(p, sizeof p, "%s/out/runs/reverse.alibi.s4", d);
    write_text(p, "in the way\n");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --jobs 2 --out %s/out", d), 1);
    EXPECT_OUT("1 job(s) failed");
    EXPECT_OUT("reverse.alibi.s4");
    /* piped: the jobs started are said at once, then a line per finished job with count/total and elapsed */
    EXPECT_OUT("sweep: started copy.rope.s3 copy.rope.s4; a line per finished job follows");
    EXPECT_OUT("[8/8] ");
    EXPECT_OUT("elapsed ");
    EXPECT_OUT("results:"); /* the rest is aggregated */
    EXPECT_OUT("7 runs");
    const char *plots[] = {"copy_accuracy.png", "copy_accuracy.svg", "reverse_loss.png", "reverse_loss.svg"};
    for (int i = 0; i < 4; i++) {
        struct stat st;
        snprintf(p, sizeof p, "%s/out/%s", d, plots[i]);
        ck_assert_msg(stat(p, &st) == 0 && st.st_size > 1000, "%s missing or tiny", p);
    }
    /* remove the obstacle; interrupt another run half-way by hand; re-run: only those two run */
    snprintf(p, sizeof p, "%s/out/runs/reverse.alibi.s4", d);
    ck_assert(unlink(p) == 0);
    ck_assert_int_eq(posenc("train %s/out/configs/copy.rope.s3.json --out %s/out/runs/copy.rope.s3 --force "
                            "--quiet --stop-after 15",
                            d, d),
                     130);
    snprintf(p, sizeof p, "%s/out/runs/copy.rope.s3/eval.json", d);
    unlink(p);
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --jobs 2 --out %s/out --no-plots", d), 0);
    EXPECT_OUT("8 jobs (6 already complete)");
    EXPECT_OUT("8 runs, 4 cells");
    /* the resumed run says from where; runs/hour counts it by the half it trained here */
    EXPECT_OUT("(resumed from step 15 of 30)");
    EXPECT_OUT("2 jobs run (1 of them resumed: 1.50 runs' worth of training steps)");
    snprintf(p, sizeof p, "%s/out/timing.json", d);
    char *timing = file_read_all(p, NULL);
    ck_assert_msg(timing && strstr(timing, "\"jobs_resumed\": 1, \"runs_trained\": 1.500"), "%s", timing ? timing : "");
    free(timing);
    snprintf(p, sizeof p, "%s/out/logs/copy.rope.s3.log", d);
    char *log = file_read_all(p, NULL);
    ck_assert_msg(log && strstr(log, "resuming"), "the interrupted run was not resumed:\n%s", log ? log : "");
    /* posenc run evaluates right after training: no "evaluate with" hint */
    ck_assert_msg(!strstr(log, "evaluate with"), "posenc run suggests what it does next:\n%s", log);
    free(log);
    /* a third time: nothing to do */
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --out %s/out --no-plots", d), 0);
    EXPECT_OUT("8 jobs (8 already complete)");
    /* collect alone gives the same results.csv */
    snprintf(p, sizeof p, "%s/out/results.csv", d);
    char *before = file_read_all(p, NULL);
    ck_assert_int_eq(posenc("collect %s/out --no-plots", d), 0);
    char *after = file_read_all(p, NULL);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    ck_assert_int_eq(posenc("collect %s", d), 2);
    EXPECT_OUT("not a sweep folder");
}
END_TEST

/* Interrupting a sweep (SIGINT to the sweep process alone, as `kill -INT`
 * would) passes one SIGINT to every running job: each checkpoints and exits,
 * the sweep exits 130, and running it again resumes the jobs. */
START_TEST(test_sweep_interrupt) {
    const char *d = test_tmpdir("sweep-int");
    char spec[600], log[700];
    snprintf(spec, sizeof spec, "%s/long.json", d);
    write_text(spec, "{\"name\": \"long\", \"base\": \"../../../configs/smoke.json\", "
                     "\"set\": {\"train.steps\": 200000, \"train.checkpoint_every\": 0, \"train.eval_every\": 0}, "
                     "\"grid\": {\"model.pe\": [\"none\", \"rope\"]}, \"eval\": {\"lengths\": [2], \"samples\": 4}}");
    pid_t pid = fork();
    if (pid == 0) {
        char outdir[600];
        snprintf(outdir, sizeof outdir, "%s/out", d);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(posenc_bin(), posenc_bin(), "sweep", spec, "--out", outdir, (char *)NULL);
        _exit(127);
    }
    /* wait until both jobs are training */
    char m1[700], m2[700];
    snprintf(m1, sizeof m1, "%s/out/runs/none.s1/metrics.jsonl", d);
    snprintf(m2, sizeof m2, "%s/out/runs/rope.s1/metrics.jsonl", d);
    int st = 0;
    ck_assert_msg(wait_for_file(m1, 1, pid, &st) == 0 && wait_for_file(m2, 1, pid, &st) == 0,
                  "the sweep exited (status %d) before both jobs logged a step", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    kill(pid, SIGINT);
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "sweep exit status %d", WEXITSTATUS(st));
    const char *ids[2] = {"none.s1", "rope.s1"};
    for (int k = 0; k < 2; k++) {
        snprintf(log, sizeof log, "%s/out/logs/%s.log", d, ids[k]);
        char *text = file_read_all(log, NULL);
        ck_assert_msg(text && strstr(text, "interrupted: checkpoint saved"), "job %s did not checkpoint:\n%s", ids[k],
                      text ? text : "");
        free(text);
        char run[700];
        snprintf(run, sizeof run, "%s/out/runs/%s/model.safetensors", d, ids[k]);
        ck_assert(path_exists(run));
    }
}
END_TEST

START_TEST(test_demo_spec) {
    Sweep s;
    ck_assert_msg(sweep_load(&s, "experiments/demo.json") == 0, "%s", core_error());
    ck_assert_int_eq(s.num_jobs, 15); /* five encodings, three seeds (findings that survive the seeds) */
    int seeds = 0, pes = 0;
    const char *names[] = {"none", "sinusoidal", "learned", "rope", "alibi"};
    for (int k = 0; k < 5; k++) {
        int found = 0;
        for (int i = 0; i < s.num_jobs; i++) found += strcmp(s.jobs[i].cfg.model.pe, names[k]) == 0;
        pes += found > 0;
        if (k == 0) seeds = found;
    }
    ck_assert_int_eq(pes, 5);
    ck_assert_int_ge(seeds, 3);
    const RunConfig *c = &s.jobs[0].cfg;
    int longest = 0, in_train = 0;
    for (int i = 0; i < c->eval.num_lengths; i++) {
        if (c->eval.lengths[i] > longest) longest = c->eval.lengths[i];
        in_train += c->eval.lengths[i] <= c->task.max_len;
    }
    ck_assert_int_ge(longest, 4 * c->task.max_len);
    ck_assert_int_ge(in_train, 1);
    sweep_free(&s);
}
END_TEST

/* The new experiments: markov (5 encodings x 3 seeds, evaluated to 8x the
 * training length, learned's table covering it) and tasks (2 tasks x 5 x 3 seeds). */
/* A grid key that is an encoding's setting varies only the encodings that
 * read it; the aggregate names the setting in the label and compares the
 * variants in one group. */
START_TEST(test_setting_grid) {
    const char *d = test_tmpdir("sweep-setting");
    char p[512];
    snprintf(p, sizeof p, "%s/spec.json", d);
    write_text(p, "{\"name\": \"st\", \"set\": {\"train.steps\": 200},"
                  " \"grid\": {\"model.pe\": [\"none\", \"rope\", \"alibi\"], \"model.rope_fraction\": [1, 0.25]},"
                  " \"seeds\": [1, 2]}");
    Sweep s;
    ck_assert_msg(sweep_load(&s, p) == 0, "%s", core_error());
    ck_assert_int_eq(s.num_jobs, 8); /* none and alibi once, rope twice; two seeds */
    const char *ids[8] = {"none.1.s1", "none.1.s2", "rope.1.s1", "rope.1.s2",
                          "rope.0.25.s1", "rope.0.25.s2", "alibi.1.s1", "alibi.1.s2"};
    for (int i = 0; i < 8; i++) {
        ck_assert_str_eq(s.jobs[i].id, ids[i]);
        const double f = s.jobs[i].cfg.model.pe_set.v[pe_setting_find("rope_fraction")];
        ck_assert_double_eq(f, i == 4 || i == 5 ? 0.25 : 1);
    }
    sweep_free(&s);

    /* each job gets only the settings its encoding and task read, the rest at their defaults
     * (the loader refuses them elsewhere), and its id names the value it runs with */
    write_text(p, "{\"name\": \"st\", \"set\": {\"train.steps\": 200, \"model.t5_buckets\": 64,"
                  " \"task.markov_order\": 3},"
                  " \"grid\": {\"task.name\": [\"markov\", \"copy\"], \"model.pe\": [\"none\", \"t5\", \"rope\"],"
                  " \"model.rope_fraction\": [0.25, 1]}, \"seeds\": [1]}");
    ck_assert_msg(sweep_load(&s, p) == 0, "%s", core_error());
    const char *ids2[8] = {"markov.none.1.s1", "markov.t5.1.s1", "markov.rope.0.25.s1", "markov.rope.1.s1",
                           "copy.none.1.s1",   "copy.t5.1.s1",   "copy.rope.0.25.s1",   "copy.rope.1.s1"};
    ck_assert_int_eq(s.num_jobs, 8);
    const int t5 = pe_setting_find("t5_buckets"), frac = pe_setting_find("rope_fraction");
    const int order = task_setting_find("markov_order");
    for (int i = 0; i < 8; i++) {
        const RunConfig *c = &s.jobs[i].cfg;
        ck_assert_str_eq(s.jobs[i].id, ids2[i]);
        ck_assert_str_eq(c->name, ids2[i]);
        ck_assert_str_eq(s.jobs[i].values[2], i % 4 == 2 ? "0.25" : "1");
        ck_assert_double_eq(c->model.pe_set.v[t5], i % 4 == 1 ? 64 : pe_setting_at(t5)->def);
        ck_assert_double_eq(c->model.pe_set.v[frac], i % 4 == 2 ? 0.25 : 1);
        ck_assert_double_eq(c->task.set.v[order], i < 4 ? 3 : task_setting_at(order)->def);
    }
    sweep_free(&s);

    /* the aggregate: labels, and one group */
    snprintf(p, sizeof p, "%s/sweep.json", d);
    write_text(p, "{\"name\": \"st\", \"grid\": {\"model.pe\": [\"none\", \"rope\"], \"model.rope_fraction\": [1, 0.25]},"
                  " \"seeds\": [1]}");
    const double l[2] = {0.1, 1.0}, v[2] = {1.0, 0.5};
    fake_run(d, "none.1.s1", "none", 1, 10, 10, v, v, l);
    fake_run(d, "rope.1.s1", "rope", 1, 10, 10, v, v, l);
    fake_extra_set = "model.rope_fraction=0.25";
    fake_run(d, "rope.0.25.s1", "rope", 1, 10, 10, v, v, l);
    fake_extra_set = NULL;
    AggTable t;
    ck_assert_int_eq(aggregate_load_sweep(d, &(AggOptions){0}, &t), 3);
    ck_assert_int_eq(t.ncells, 3);
    ck_assert_str_eq(t.cells[0].label, "none");
    ck_assert_str_eq(t.cells[1].label, "rope");
    ck_assert_str_eq(t.cells[2].label, "rope(rope_fraction=0.25)");
    ck_assert_int_eq(t.group[1], 0);
    ck_assert_int_eq(t.group[2], 0);
    ck_assert(t.enc_key[0] && t.enc_key[1]);
    ck_assert(aggregate_encoding_key("model.rope_fraction") && aggregate_encoding_key("model.pe") &&
              aggregate_encoding_key("train.random_positions"));
    ck_assert(!aggregate_encoding_key("task.name") && !aggregate_encoding_key("model.d_model"));
    aggregate_free(&t);
}
END_TEST

START_TEST(test_new_specs) {
    Sweep s;
    ck_assert_msg(sweep_load(&s, "experiments/markov.json") == 0, "%s", core_error());
    ck_assert_int_eq(s.num_jobs, 15);
    for (int i = 0; i < s.num_jobs; i++) {
        const RunConfig *c = &s.jobs[i].cfg;
        ck_assert_str_eq(c->task.name, "markov");
        ck_assert_int_eq(c->eval.lengths[c->eval.num_lengths - 1], 8 * c->task.max_len);
        ck_assert_int_ge(c->model.P, 8 * c->task.max_len);
    }
    sweep_free(&s);
    ck_assert_msg(sweep_load(&s, "experiments/tasks.json") == 0, "%s", core_error());
    ck_assert_int_eq(s.num_jobs, 30);
    ck_assert_str_eq(s.jobs[0].cfg.task.name, "duplicate");
    ck_assert_str_eq(s.jobs[14].cfg.task.name, "duplicate");
    ck_assert_str_eq(s.jobs[15].cfg.task.name, "odds_first");
    ck_assert_int_eq(s.jobs[0].cfg.model.P, 3 * 32 + 2); /* duplicate at n = 32: m = 2n */
    sweep_free(&s);
    /* text: trained on 64 bytes, evaluated to 64x; learned's table covers it; rope alone rescaled */
    ck_assert_msg(sweep_load(&s, "experiments/text.json") == 0, "%s", core_error());
    for (int i = 0; i < s.num_jobs; i++) {
        const RunConfig *c = &s.jobs[i].cfg;
        ck_assert_str_eq(c->task.name, "text");
        ck_assert_int_ge(c->eval.lengths[c->eval.num_lengths - 1], 64 * c->task.max_len);
        ck_assert_int_ge(c->model.P, 64 * c->task.max_len);
        ck_assert_int_eq(c->eval.rope_scaling != 1u << PE_ROPE_SCALING_NONE, strcmp(c->model.pe, "rope") == 0);
    }
    sweep_free(&s);
    /* Kazemnejad et al.'s protocol: their copy tasks (4) x (5 encodings + RoPE on a quarter of each head)
     * x 3 seeds, and their reverse tasks (3) x 6 x one seed, in the same recipe */
    const char *specs[2] = {"experiments/kazemnejad.json", "experiments/kazemnejad_reverse.json"};
    const int jobs[2] = {72, 18};
    for (int k = 0; k < 2; k++) {
        ck_assert_msg(sweep_load(&s, specs[k]) == 0, "%s", core_error());
        ck_assert_int_eq(s.num_jobs, jobs[k]);
        int quarter = 0;
        for (int i = 0; i < s.num_jobs; i++) {
            const RunConfig *c = &s.jobs[i].cfg;
            const double f = c->model.pe_set.v[pe_setting_find("rope_fraction")];
            quarter += f == 0.25;
            ck_assert(f == 1 || strcmp(c->model.pe, "rope") == 0);
            ck_assert_int_eq(c->task.min_len, 4);
            ck_assert_int_eq(c->task.max_len, 20);
            ck_assert_int_eq(c->task.alphabet, 100);
            ck_assert_int_eq(c->train.steps, 1000);
            ck_assert_int_eq(c->eval.lengths[c->eval.num_lengths - 1], 40);
        }
        ck_assert_int_eq(quarter, jobs[k] / 6);
        sweep_free(&s);
    }
}
END_TEST

/* scripts/report.sh: --help, argument errors, a document without the markers
 * refused unchanged, and the block spliced between them with the new plots
 * (run with a temporary folder as the working directory: the figures go to
 * its experiments/figures/). */
START_TEST(test_report_script) {
    const char *d = test_tmpdir("report");
    char cmd[4096], root[2048], p[2600];
    ck_assert(getcwd(root, sizeof root) != NULL);
    snprintf(cmd, sizeof cmd, "bash %s/scripts/report.sh --help", root);
    ck_assert_int_eq(run_captured(cmd), 0);
    EXPECT_OUT("<!-- results:NAME:begin -->");
    snprintf(cmd, sizeof cmd, "bash %s/scripts/report.sh", root);
    ck_assert_int_eq(run_captured(cmd), 2);
    EXPECT_OUT("expected NAME DOC [SWEEP_DIR], got 0 argument(s)");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --jobs 2 --out %s/tiny", d), 0);
    snprintf(p, sizeof p, "%s/doc.md", d);
    write_text(p, "# doc\n");
    snprintf(cmd, sizeof cmd, "cd %s && POSENC=%s bash %s/scripts/report.sh tiny doc.md tiny", d, posenc_bin(), root);
    ck_assert_int_eq(run_captured(cmd), 1);
    EXPECT_OUT("has no lines <!-- results:tiny:begin --> and <!-- results:tiny:end -->");
    write_text(p, "# doc\n\n<!-- results:tiny:begin -->\nold\n<!-- results:tiny:end -->\n\nend\n");
    ck_assert_int_eq(run_captured(cmd), 0);
    char *doc = file_read_all(p, NULL);
    ck_assert_msg(doc && !strstr(doc, "\nold\n") && strstr(doc, "(experiments/figures/tiny_copy_accuracy.svg)") &&
                      strstr(doc, "\n<!-- results:tiny:end -->\n\nend\n"),
                  "%s", doc ? doc : "");
    free(doc);
    snprintf(p, sizeof p, "%s/experiments/figures/tiny_reverse_loss.svg", d);
    ck_assert_msg(path_exists(p), "%s not copied", p);
    /* a document with the findings lines only (README.md) gets the sentences, no tables */
    snprintf(p, sizeof p, "%s/doc.md", d);
    write_text(p, "# doc\n\n<!-- findings:tiny:begin -->\nold\n<!-- findings:tiny:end -->\n\nend\n");
    ck_assert_int_eq(run_captured(cmd), 0);
    doc = file_read_all(p, NULL);
    ck_assert_msg(doc && !strstr(doc, "\nold\n") && strstr(doc, "<!-- findings:tiny:begin -->\nTrained on ") &&
                      !strstr(doc, "results:tiny") && !strstr(doc, "| n |") &&
                      strstr(doc, "\n<!-- findings:tiny:end -->\n\nend\n"),
                  "%s", doc ? doc : "");
    free(doc);
}
END_TEST

/* study/style.h: a series' colour is its encoding's (one per encoding, all
 * distinct); a variant keeps it, with a dash pattern of its own, the same for
 * the same variant wherever it is drawn. */
START_TEST(test_series_style) {
    for (int i = 0; i < pe_count(); i++) {
        const char *name = pe_at(i)->name, *c = pe_colour(name);
        ck_assert_msg(strlen(c) == 7 && c[0] == '#', "%s: colour %s", name, c);
        ck_assert_str_ne(c, PE_COLOUR_OTHER);
        for (int j = 0; j < i; j++) ck_assert_msg(strcmp(c, pe_colour(pe_at(j)->name)) != 0, "%s and %s share %s", name, pe_at(j)->name, c);
    }
    ck_assert_str_eq(pe_colour("no-such"), PE_COLOUR_OTHER);
    static const char *const labels[] = {"rope", "rope+rand", "rope+pi", "rope+rand+pi", "rope+ntk", "rope+rand+ntk", "rope+yarn", "rope+rand+yarn"};
    for (int v = 0; v < 8; v++) {
        SeriesStyle st;
        series_style(labels[v], &st);
        ck_assert_str_eq(st.colour, pe_colour("rope"));
        ck_assert_str_eq(st.pe, "rope");
        ck_assert_int_eq(st.variant, v);
        ck_assert_int_eq(st.eval_random, 0);
        ck_assert_int_eq(strlen(st.dash_svg) == 0, v == 0);
        for (int w = 0; w < v; w++) ck_assert_str_ne(st.dash_svg, style_dash_svg(w));
        ck_assert_str_eq(style_variant_name(v), labels[v] + 4);
    }
    SeriesStyle a, b;
    series_style("learned+rand (eval random)", &a);
    series_style("learned+rand", &b);
    ck_assert_str_eq(a.colour, pe_colour("learned"));
    ck_assert_int_eq(a.eval_random, 1);
    ck_assert_str_eq(a.dash_svg, b.dash_svg);
    series_style("none (eval random)", &a);
    ck_assert_int_eq(a.variant, 0);
    ck_assert_int_eq(a.eval_random, 1);
    ck_assert_str_eq(a.colour, pe_colour("none"));
}
END_TEST

static Suite *sweep_suite(void) {
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_grid_expansion);
    tcase_add_test(tc, test_spec_errors);
    tcase_add_test(tc, test_spec_rope_scaling_per_encoding);
    tcase_add_test(tc, test_position_bins);
    tcase_add_test(tc, test_stat_of);
    tcase_add_test(tc, test_findings_aggregate);
    tcase_add_test(tc, test_compare_cli);
    tcase_add_test(tc, test_sweep_set);
    tcase_add_test(tc, test_adhoc_labels);
    tcase_add_test(tc, test_break_variant_in_range);
    tcase_add_test(tc, test_compare_ppl);
    tcase_add_test(tc, test_robustness_spec_errors);
    tcase_add_test(tc, test_robustness_run);
    tcase_add_test(tc, test_aggregate_arithmetic);
    tcase_add_test(tc, test_sweep_skip_resume_fail_plots);
    tcase_add_test(tc, test_sweep_interrupt);
    tcase_add_test(tc, test_demo_spec);
    tcase_add_test(tc, test_aggregate_lm);
    tcase_add_test(tc, test_new_specs);
    tcase_add_test(tc, test_setting_grid);
    tcase_add_test(tc, test_literature_compare);
    tcase_add_test(tc, test_report_script);
    tcase_add_test(tc, test_series_style);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(sweep_suite()); }
