/* test_config.c — run configs: defaults, round trip, every error class, --set. */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "data/markov.h"
#include "model/pe.h"
#include "run/config.h"
#include "tests/testutil.h"

/* Load JSON text (origin "x.json") with overrides; the return code. */
static int load(RunConfig *c, const char *json, const char *const *sets, int nsets) {
    return config_from_string(c, json, "x.json", sets, nsets);
}

/* Loading must fail with a message containing every one of the strings. */
static void expect_error(const char *json, const char *set, const char *want1, const char *want2) {
    RunConfig c;
    const char *sets[1] = {set};
    int rc = load(&c, json, sets, set ? 1 : 0);
    ck_assert_msg(rc != 0, "accepted: %s %s", json ? json : "", set ? set : "");
    ck_assert_msg(strstr(core_error(), want1), "message \"%s\" lacks \"%s\"", core_error(), want1);
    if (want2)
        ck_assert_msg(strstr(core_error(), want2), "message \"%s\" lacks \"%s\"", core_error(), want2);
}

static void expect_exact(const char *json, const char *set, const char *want) {
    expect_error(json, set, want, NULL);
    ck_assert_str_eq(core_error(), want);
}

/* Every field, one by one, so that a failure names the field. */
static void expect_same(const RunConfig *a, const RunConfig *b) {
    ck_assert_str_eq(a->name, b->name);
    ck_assert_uint_eq(a->seed, b->seed);
    ck_assert_str_eq(a->task.name, b->task.name);
    ck_assert_int_eq(a->task.alphabet, b->task.alphabet);
    ck_assert_int_eq(a->task.min_len, b->task.min_len);
    ck_assert_int_eq(a->task.max_len, b->task.max_len);
    for (int k = 0; k < task_num_settings(); k++) {
        const TaskSetting *s = task_setting_at(k);
        if (s->type == TASK_SETTING_TEXT)
            ck_assert_str_eq(task_setting_text(&a->task, s), task_setting_text(&b->task, s));
        else
            ck_assert_msg(task_setting(&a->task, s) == task_setting(&b->task, s), "task.%s", s->name);
    }
    ck_assert_int_eq(a->model.V, b->model.V);
    ck_assert_int_eq(a->model.C, b->model.C);
    ck_assert_int_eq(a->model.L, b->model.L);
    ck_assert_int_eq(a->model.NH, b->model.NH);
    ck_assert_int_eq(a->model.F, b->model.F);
    ck_assert_int_eq(a->model.P, b->model.P);
    ck_assert_str_eq(a->model.pe, b->model.pe);
    ck_assert(a->model.emb_scale == b->model.emb_scale);
    for (int k = 0; k < pe_num_settings(); k++) /* every encoding's settings */
        ck_assert_msg(a->model.pe_set.v[k] == b->model.pe_set.v[k], "model.%s", pe_setting_at(k)->name);
    ck_assert_int_eq(a->train.steps, b->train.steps);
    ck_assert_int_eq(a->train.batch_size, b->train.batch_size);
    ck_assert(a->train.lr == b->train.lr);
    ck_assert_int_eq(a->train.warmup, b->train.warmup);
    ck_assert(a->train.weight_decay == b->train.weight_decay);
    ck_assert(a->train.grad_clip == b->train.grad_clip);
    ck_assert_int_eq(a->train.log_every, b->train.log_every);
    ck_assert_int_eq(a->train.eval_every, b->train.eval_every);
    ck_assert_int_eq(a->train.checkpoint_every, b->train.checkpoint_every);
    ck_assert_int_eq(a->eval.num_lengths, b->eval.num_lengths);
    for (int i = 0; i < a->eval.num_lengths; i++)
        ck_assert_int_eq(a->eval.lengths[i], b->eval.lengths[i]);
    ck_assert_int_eq(a->eval.samples, b->eval.samples);
    ck_assert_int_eq(a->eval.batch_size, b->eval.batch_size);
    ck_assert_uint_eq(a->eval.seed, b->eval.seed);
    ck_assert_int_eq(a->train.random_positions, b->train.random_positions);
    ck_assert_uint_eq(a->eval.positions, b->eval.positions);
    ck_assert_uint_eq(a->eval.rope_scaling, b->eval.rope_scaling);
    ck_assert(a->eval.rope_scale == b->eval.rope_scale);
    ck_assert_msg(memcmp(a, b, sizeof *a) == 0, "structs differ bytewise");
}

/* to_json, then load that text: the identical struct, but for train.threads
 * (a speed setting, not part of the resolved config: back to 1); the plan
 * form (a sweep job's config) keeps it too. */
static void expect_round_trip(const RunConfig *c) {
    char *json = config_to_json(c);
    ck_assert_ptr_nonnull(json);
    ck_assert_msg(strstr(json, "threads") == NULL, "train.threads in the resolved config:\n%s", json);
    RunConfig back, want = *c;
    want.train.threads = 1;
    ck_assert_msg(config_from_string(&back, json, "resolved", NULL, 0) == 0, "%s\n%s", core_error(),
                  json);
    expect_same(&want, &back);
    char *again = config_to_json(&back);
    ck_assert_str_eq(json, again);
    free(again);
    free(json);
    json = config_to_json_plan(c);
    ck_assert_msg(config_from_string(&back, json, "plan", NULL, 0) == 0, "%s\n%s", core_error(), json);
    expect_same(c, &back);
    free(json);
}


/* ---- randomized positions and RoPE scaling keys ------------------------ */

START_TEST(test_variant_keys) {
    RunConfig c;
    ck_assert_msg(load(&c, NULL, NULL, 0) == 0, "%s", core_error());
    ck_assert_int_eq(c.train.random_positions, 0);
    ck_assert_uint_eq(c.eval.positions, 1u << EVAL_POS_PLAIN);
    ck_assert_uint_eq(c.eval.rope_scaling, 1u << PE_ROPE_SCALING_NONE);
    ck_assert(c.eval.rope_scale == 0.0f);
    const char *sets[] = {"train.random_positions=true", "eval.positions=random,plain",
                          "eval.rope_scaling=[\"yarn\", \"none\", \"pi\"]", "eval.rope_scale=4"};
    ck_assert_msg(load(&c, NULL, sets, 4) == 0, "%s", core_error());
    ck_assert_int_eq(c.train.random_positions, 1);
    ck_assert_uint_eq(c.eval.positions, 3u);
    ck_assert_uint_eq(c.eval.rope_scaling, (1u << PE_ROPE_SCALING_NONE) | (1u << PE_ROPE_SCALING_PI) |
                                               (1u << PE_ROPE_SCALING_YARN));
    ck_assert(c.eval.rope_scale == 4.0f);
    expect_round_trip(&c);
    char *json = config_to_json(&c);
    ck_assert_msg(strstr(json, "\"rope_scaling\": [\"none\", \"pi\", \"yarn\"]"), "%s", json);
    ck_assert_msg(strstr(json, "\"random_positions\": true"), "%s", json);
    free(json);
    /* errors name the key and the valid values */
    expect_exact("{\"train\": {\"random_positions\": 1}}", NULL,
                 "x.json: train.random_positions: expected true or false, got 1");
    expect_exact(NULL, "eval.positions=plain,shuffled",
                 "--set: eval.positions: unknown value \"shuffled\" (valid: plain, random)");
    expect_exact("{\"eval\": {\"rope_scaling\": [\"pi\", 2]}}", NULL,
                 "x.json: eval.rope_scaling: expected names (none, pi, ntk, yarn), got 2");
    expect_exact("{\"eval\": {\"rope_scaling\": []}}", NULL,
                 "x.json: eval.rope_scaling: needs at least one of: none, pi, ntk, yarn");
    expect_error("{\"model\": {\"pe\": \"alibi\"}, \"eval\": {\"rope_scaling\": [\"none\", \"ntk\"]}}", NULL,
                 "eval.rope_scaling: ntk rescales RoPE and needs model.pe rope, but the encoding is alibi", NULL);
    expect_exact(NULL, "eval.rope_scale=0.5",
                 "--set: eval.rope_scale: must be 0 (derived: longest evaluation input / longest training input) "
                 "or >= 1, got 0.5");
    expect_error("{\"model\": {\"max_positions\": 40}, \"eval\": {\"positions\": \"random\", \"lengths\": [64]}}",
                 NULL, "eval.positions: random positions draw from [0, model.max_positions = 40)", "(130 tokens)");
}
END_TEST

/* ---- defaults --------------------------------------------------------- */

START_TEST(test_defaults) {
    RunConfig c;
    ck_assert_msg(config_load(&c, NULL, NULL, 0) == 0, "%s", core_error());
    ck_assert_str_eq(c.name, "run");
    ck_assert_uint_eq(c.seed, 1);
    ck_assert_str_eq(c.task.name, "copy");
    ck_assert_int_eq(c.task.alphabet, 10);
    ck_assert_int_eq(c.task.min_len, 1);
    ck_assert_int_eq(c.task.max_len, 16);
    ck_assert_int_eq(c.model.V, 14);
    ck_assert_int_eq(c.model.C, 64);
    ck_assert_int_eq(c.model.L, 2);
    ck_assert_int_eq(c.model.NH, 4);
    ck_assert_int_eq(c.model.F, 256);       /* auto: 4*d_model */
    ck_assert_str_eq(c.model.pe, "rope");
    ck_assert_int_eq(c.model.P, 64 + 64 + 2); /* copy at the longest eval length, 4*16 */
    ck_assert(c.model.emb_scale == 1.0f);
    ck_assert(c.model.pe_set.v[pe_setting_find("rope_base")] == 10000.0);
    ck_assert(c.model.pe_set.v[pe_setting_find("rope_fraction")] == 1.0);
    for (int k = 0; k < pe_num_settings(); k++) { /* each setting's default is its row's (a float's value) */
        const PESetting *s = pe_setting_at(k);
        ck_assert(c.model.pe_set.v[k] == (s->type == PE_SETTING_FLOAT ? (double)(float)s->def : s->def));
    }
    ck_assert_int_eq(c.train.steps, 2000);
    ck_assert_int_eq(c.train.batch_size, 64);
    ck_assert(c.train.lr == 1e-3f);
    ck_assert_int_eq(c.train.warmup, 100);
    ck_assert(c.train.weight_decay == 0.1f);
    ck_assert(c.train.grad_clip == 1.0f);
    ck_assert_int_eq(c.train.log_every, 50);
    ck_assert_int_eq(c.train.eval_every, 500);
    ck_assert_int_eq(c.train.checkpoint_every, 500);
    ck_assert_int_eq(c.train.threads, 1);
    ck_assert_int_eq(c.eval.num_lengths, 5);
    const int want[5] = {8, 16, 32, 48, 64};
    for (int i = 0; i < 5; i++) ck_assert_int_eq(c.eval.lengths[i], want[i]);
    ck_assert_int_eq(c.eval.samples, 256);
    ck_assert_int_eq(c.eval.batch_size, 64);
    ck_assert_uint_eq(c.eval.seed, 1234);

    /* "{}" is the same as no file */
    RunConfig d;
    ck_assert_int_eq(load(&d, "{}", NULL, 0), 0);
    expect_same(&c, &d);
    /* unresolved defaults mark the automatic values with 0 */
    config_default(&d);
    ck_assert_int_eq(d.model.F, 0);
    ck_assert_int_eq(d.model.P, 0);
    ck_assert_int_eq(d.eval.num_lengths, 0);
}
END_TEST

START_TEST(test_auto_lengths) {
    int l[8];
    ck_assert_int_eq(config_auto_eval_lengths(1, l), 4);
    ck_assert(l[0] == 1 && l[1] == 2 && l[2] == 3 && l[3] == 4);
    ck_assert_int_eq(config_auto_eval_lengths(3, l), 5);
    ck_assert(l[0] == 1 && l[1] == 3 && l[2] == 6 && l[3] == 9 && l[4] == 12);
    ck_assert_int_eq(config_auto_eval_lengths(2, l), 5);
    ck_assert(l[0] == 1 && l[1] == 2 && l[2] == 4 && l[3] == 6 && l[4] == 8);

    /* the automatic table size follows the task and the lengths */
    RunConfig c;
    ck_assert_int_eq(load(&c, "{\"task\": {\"max_len\": 5}, \"model\": {\"d_model\": 32}}", NULL, 0), 0);
    ck_assert_int_eq(c.eval.num_lengths, 5); /* 2 5 10 15 20 */
    ck_assert_int_eq(c.eval.lengths[0], 2);
    ck_assert_int_eq(c.eval.lengths[4], 20);
    ck_assert_int_eq(c.model.P, 42);
    ck_assert_int_eq(c.model.F, 128);
    /* explicit lengths: P covers the longest of training and evaluation */
    ck_assert_int_eq(load(&c, "{\"task\": {\"max_len\": 20}, \"eval\": {\"lengths\": [3]}}", NULL, 0), 0);
    ck_assert_int_eq(c.model.P, 42);
    ck_assert_int_eq(c.eval.num_lengths, 1);
}
END_TEST

/* ---- round trip --------------------------------------------------------- */

START_TEST(test_round_trip) {
    RunConfig c;
    ck_assert_int_eq(load(&c, NULL, NULL, 0), 0);
    expect_round_trip(&c);

    const char *sets[] = {"name=exp-1_b.2",          "seed=9007199254740991",
                          "task.name=sort",          "task.alphabet=7",
                          "task.min_len=3",          "task.max_len=9",
                          "model.d_model=48",        "model.n_layers=3",
                          "model.n_heads=3",         "model.d_ff=100",
                          "model.pe=rope",           "model.max_positions=500",
                          "model.emb_scale=6.9282",  "model.rope_base=500000",
                          "model.rope_fraction=0.25", "train.steps=123",
                          "train.batch_size=5",      "train.lr=3e-4",
                          "train.warmup=0",          "train.weight_decay=0",
                          "train.grad_clip=0.5",     "train.log_every=1",
                          "train.eval_every=0",      "train.checkpoint_every=7",
                          "train.threads=4",         "eval.lengths=40,10,20",
                          "eval.samples=3",          "eval.batch_size=2",
                          "eval.seed=0"};
    int n = (int)(sizeof sets / sizeof sets[0]);
    ck_assert_msg(load(&c, NULL, sets, n) == 0, "%s", core_error());
    ck_assert_uint_eq(c.seed, 9007199254740991ull);
    ck_assert_int_eq(c.model.F, 100);
    ck_assert_int_eq(c.model.P, 500);
    ck_assert_int_eq(c.model.V, 11);
    ck_assert(c.train.lr == 3e-4f);
    ck_assert(c.model.emb_scale == 6.9282f);
    ck_assert_int_eq(c.eval.lengths[0], 40); /* the order given */
    expect_round_trip(&c);

    /* the resolved JSON holds concrete values, and short decimals */
    char *json = config_to_json(&c);
    ck_assert_msg(strstr(json, "\"d_ff\": 100") && strstr(json, "\"max_positions\": 500") &&
                      strstr(json, "\"lengths\": [40, 10, 20]") && strstr(json, "\"lr\": 0.0003") &&
                      strstr(json, "\"seed\": 9007199254740991") &&
                      strstr(json, "\"rope_fraction\": 0.25"),
                  "%s", json);
    free(json);
    ck_assert_int_eq(load(&c, NULL, NULL, 0), 0);
    json = config_to_json(&c);
    ck_assert_msg(strstr(json, "\"d_ff\": 256") && strstr(json, "\"max_positions\": 130") &&
                      strstr(json, "\"lengths\": [8, 16, 32, 48, 64]") &&
                      strstr(json, "\"lr\": 0.001,") && strstr(json, "\"weight_decay\": 0.1,"),
                  "%s", json);
    free(json);
}
END_TEST

/* The new tasks: markov's keys round-trip and appear only in markov's
 * resolved config; they are refused for another task, with the key named;
 * positions (auto and checked) follow each task's input length, m = 2n for
 * duplicate, n for markov. */
START_TEST(test_new_tasks) {
    RunConfig c;
    const char *mk[] = {"task.name=markov", "task.markov_order=3", "task.markov_branch=2",
                        "task.markov_seed=9007199254740991", "eval.lengths=5,64"};
    ck_assert_msg(load(&c, NULL, mk, 5) == 0, "%s", core_error());
    ck_assert_int_eq(markov_params(&c.task).order, 3);
    ck_assert_int_eq(markov_params(&c.task).branch, 2);
    ck_assert_uint_eq(markov_params(&c.task).seed, 9007199254740991ULL);
    ck_assert_int_eq(c.model.P, 64); /* BOS x1..x63: the longest input */
    expect_round_trip(&c);
    char *json = config_to_json(&c);
    ck_assert_msg(strstr(json, "\"markov_order\": 3") && strstr(json, "\"markov_seed\": 9007199254740991"), "%s",
                  json);
    free(json);
    ck_assert_int_eq(load(&c, NULL, NULL, 0), 0);
    json = config_to_json(&c);
    ck_assert_msg(!strstr(json, "markov"), "copy's config lists markov keys:\n%s", json);
    free(json);

    expect_exact("{\"task\": {\"markov_order\": 3}}", NULL,
                 "x.json: task.markov_order: applies only to task.name \"markov\" (task.name is \"copy\")");
    expect_exact("{\"task\": {\"name\": \"markov\"}}", "task.markov_branch=0",
                 "--set: task.markov_branch: must be in 1..8, got 0");
    expect_exact("{\"task\": {\"name\": \"markov\", \"markov_order\": 9}}", NULL,
                 "x.json: task.markov_order: must be in 1..8, got 9");
    expect_exact("{\"task\": {\"name\": \"markov\", \"alphabet\": 100}}", "task.markov_order=3",
                 "--set: task.markov_order: (task.alphabet + 1)^3 = 1030301 contexts exceed 65536; lower the "
                 "order or the alphabet");
    expect_exact("{\"task\": {\"name\": \"markov\", \"alphabet\": 2, \"markov_branch\": 3}}", NULL,
                 "x.json: task.markov_branch: 3 successors need task.alphabet >= 3, got 2");
    expect_error("{\"task\": {\"markov_seed\": -1}}", NULL, "task.markov_seed", NULL);
    /* also through config_apply_set + config_resolve_check (no ranks): a
     * non-default value is refused, the default accepted */
    config_default(&c);
    ck_assert_int_eq(config_apply_set(&c, "task.markov_seed=5"), 0);
    ck_assert_int_ne(config_resolve_check(&c, "spec"), 0);
    ck_assert_str_eq(core_error(), "spec: task.markov_seed: applies only to task.name \"markov\" (task.name is \"copy\")");
    config_default(&c);
    ck_assert_int_eq(config_apply_set(&c, "task.markov_order=2"), 0);
    ck_assert_int_eq(config_resolve_check(&c, "spec"), 0);

    /* duplicate: the longest input is 3n+2 (auto 4x16 = 64: 194); a table
     * shorter than the training input is refused */
    const char *dup[] = {"task.name=duplicate"};
    ck_assert_msg(load(&c, NULL, dup, 1) == 0, "%s", core_error());
    ck_assert_int_eq(c.model.P, 3 * 64 + 2);
    expect_exact("{\"task\": {\"name\": \"duplicate\", \"max_len\": 8}, \"model\": {\"max_positions\": 25}}",
                 NULL, "x.json: model.max_positions: 25 is shorter than the longest training input (26 tokens at "
                       "task.max_len 8)");
    const char *odd[] = {"task.name=odds_first", "task.max_len=8", "eval.lengths=8"};
    ck_assert_msg(load(&c, NULL, odd, 3) == 0, "%s", core_error());
    ck_assert_int_eq(c.model.P, 18);
}
END_TEST

/* Floats are written as the shortest decimal that reads back as the same
 * float, whatever their magnitude. */
START_TEST(test_round_trip_floats) {
    Rng r;
    rng_seed(&r, 11);
    RunConfig c;
    ck_assert_int_eq(load(&c, NULL, NULL, 0), 0);
    for (int i = 0; i < 300; i++) {
        c.train.lr = ldexpf(1.0f + rng_uniform(&r), -(int)rng_below(&r, 40));
        c.model.emb_scale = ldexpf(1.0f + rng_uniform(&r), (int)rng_below(&r, 100) - 30);
        /* an encoding's setting only on an encoding that reads it (the loader refuses it elsewhere) */
        const int fire = i % 2;
        snprintf(c.model.pe, sizeof c.model.pe, "%s", fire ? "fire" : "rope");
        pe_settings_default(&c.model.pe_set);
        if (fire)
            c.model.pe_set.v[pe_setting_find("fire_init_L")] = ldexpf(1.0f + rng_uniform(&r), (int)rng_below(&r, 40) - 20);
        else
            c.model.pe_set.v[pe_setting_find("rope_base")] = (float)(2 + rng_below(&r, 1000000));
        c.seed = rng_u64(&r) >> 11; /* up to 2^53 */
        expect_round_trip(&c);
    }
}
END_TEST

/* The keys of section model: the model's own, then every encoding's settings
 * in registry order. */
static const char *model_keys(void) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "d_model, n_layers, n_heads, d_ff, pe, max_positions, emb_scale");
    for (int k = 0; k < pe_num_settings(); k++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", %s", pe_setting_at(k)->name);
    return buf;
}

/* ---- errors ------------------------------------------------------------- */

START_TEST(test_error_file) {
    RunConfig c;
    const char *dir = test_tmpdir("config");
    char path[600];
    snprintf(path, sizeof path, "%s/missing.json", dir);
    ck_assert_int_ne(config_load(&c, path, NULL, 0), 0);
    ck_assert_msg(strstr(core_error(), path) && strstr(core_error(), "No such file"), "%s",
                  core_error());
    ck_assert_int_ne(config_load(&c, dir, NULL, 0), 0); /* a directory */
    ck_assert_msg(strstr(core_error(), dir), "%s", core_error());

    /* a file with an error: its name and the line and column */
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\n \"seed\": 1\n \"task\": {}\n}\n", f); /* missing comma */
    fclose(f);
    ck_assert_int_ne(config_load(&c, path, NULL, 0), 0);
    ck_assert_msg(strstr(core_error(), path) && strstr(core_error(), "invalid JSON at line 3, column 2"),
                  "%s", core_error());
}
END_TEST

START_TEST(test_error_json_syntax) {
    expect_error("{\n  \"seed\": 1,\n  \"task\": {\"name\": \"copy\",}\n}", NULL, "x.json: invalid JSON at line 3, column",
                 "\"copy\",}");
    expect_error("{\"a\": tru}", NULL, "invalid JSON at line 1, column 7", NULL);
    expect_error("{\"seed\": 1", NULL, "invalid JSON at line 1", NULL);
    expect_error("{} {}", NULL, "invalid JSON at line 1, column 4", NULL);
    expect_error("", NULL, "x.json: empty", NULL);
    expect_error(" \n ", NULL, "x.json: empty", NULL);
    expect_error("[1, 2]", NULL, "x.json: expected a JSON object at the top level, got array",
                 NULL);
    expect_exact("{\"model\": 3}", NULL, "x.json: model: expected an object, got 3");
    char want[1024];
    snprintf(want, sizeof want, "x.json: model.C: unknown key (valid keys of model: %s)", model_keys());
    expect_exact("{\"model\": {\"C\": 1, \"C\": 2}}", NULL, want);
    expect_exact("{\"model\": {\"d_model\": 32, \"d_model\": 64}}", NULL,
                 "x.json: model.d_model: duplicate key");
}
END_TEST

START_TEST(test_error_types) {
    expect_exact("{\"train\": {\"steps\": \"100\"}}", NULL,
                 "x.json: train.steps: expected an integer, got string \"100\"");
    expect_exact("{\"train\": {\"steps\": 2.5}}", NULL,
                 "x.json: train.steps: expected an integer, got 2.5");
    expect_exact("{\"train\": {\"lr\": \"fast\"}}", NULL,
                 "x.json: train.lr: expected a number, got string \"fast\"");
    expect_exact("{\"train\": {\"lr\": 1e300}}", NULL,
                 "x.json: train.lr: 1e+300 is out of range for a 32-bit float");
    expect_exact("{\"model\": {\"pe\": 3}}", NULL, "x.json: model.pe: expected a string, got 3");
    expect_exact("{\"name\": null}", NULL, "x.json: name: expected a string, got null");
    expect_exact("{\"train\": {\"threads\": true}}", NULL,
                 "x.json: train.threads: expected an integer, got boolean");
    expect_exact("{\"eval\": {\"lengths\": 8}}", NULL,
                 "x.json: eval.lengths: expected an array of integers, got 8");
    expect_exact("{\"eval\": {\"lengths\": [8, \"16\"]}}", NULL,
                 "x.json: eval.lengths[1]: expected an integer, got string \"16\"");
    expect_error("{\"seed\": -1}", NULL, "x.json: seed: out of range", NULL);
    expect_error("{\"seed\": 1e17}", NULL, "x.json: seed: out of range", NULL);
    expect_error("{\"train\": {\"steps\": 1e12}}", NULL, "x.json: train.steps: out of range",
                 NULL);
    expect_error("{\"task\": {\"name\": \"a_name_that_is_far_too_long_to_fit\"}}", NULL,
                 "x.json: task.name:", "too long");
    /* integral floats are integers */
    RunConfig c;
    ck_assert_int_eq(load(&c, "{\"train\": {\"steps\": 20.0, \"warmup\": 1e1}}", NULL, 0), 0);
    ck_assert_int_eq(c.train.steps, 20);
    ck_assert_int_eq(c.train.warmup, 10);
}
END_TEST

/* One out-of-range value per key: the message names the key path. */
START_TEST(test_error_ranges) {
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"name\": \"\"}", "x.json: name: must not be empty"},
        {"{\"name\": \"a/b\"}", "x.json: name: \"a/b\": only letters, digits, '.', '_' and '-' are allowed"},
        {"{\"name\": \".hidden\"}", "x.json: name: \".hidden\" must not start with '.'"},
        {"{\"task\": {\"alphabet\": 1}}", "x.json: task.alphabet: must be in 2..1000, got 1"},
        {"{\"task\": {\"alphabet\": 1001}}", "x.json: task.alphabet: must be in 2..1000, got 1001"},
        {"{\"task\": {\"min_len\": 0}}", "x.json: task.min_len: must be in 1..1024, got 0"},
        {"{\"task\": {\"max_len\": 0}}", "x.json: task.max_len: must be in 1..1024, got 0"},
        {"{\"task\": {\"max_len\": 1025}}", "x.json: task.max_len: must be in 1..1024, got 1025"},
        {"{\"task\": {\"min_len\": 5, \"max_len\": 4}}",
         "x.json: task.max_len: must be >= task.min_len (5), got 4"},
        {"{\"model\": {\"d_model\": 0}}", "x.json: model.d_model: must be in 1..8192, got 0"},
        {"{\"model\": {\"n_layers\": 0}}", "x.json: model.n_layers: must be in 1..256, got 0"},
        {"{\"model\": {\"n_heads\": 0}}", "x.json: model.n_heads: must be in 1..8192, got 0"},
        {"{\"model\": {\"n_heads\": 3}}",
         "x.json: model.n_heads: 3 does not divide model.d_model (64)"},
        {"{\"model\": {\"d_ff\": -1}}", "x.json: model.d_ff: must be in 0..65536, got -1"},
        {"{\"model\": {\"max_positions\": -5}}",
         "x.json: model.max_positions: must be in 0..1048576, got -5"},
        {"{\"model\": {\"max_positions\": 33}}",
         "x.json: model.max_positions: 33 is shorter than the longest training input (34 tokens "
         "at task.max_len 16)"},
        {"{\"model\": {\"emb_scale\": 0}}", "x.json: model.emb_scale: must be > 0, got 0"},
        {"{\"model\": {\"rope_base\": -2}}", "x.json: model.rope_base: must be > 1, got -2"},
        {"{\"model\": {\"rope_base\": 0.5}}", "x.json: model.rope_base: must be > 1, got 0.5"},
        {"{\"model\": {\"rope_fraction\": 0}}",
         "x.json: model.rope_fraction: must be > 0 and <= 1, got 0"},
        {"{\"model\": {\"rope_fraction\": 1.5}}",
         "x.json: model.rope_fraction: must be > 0 and <= 1, got 1.5"},
        {"{\"model\": {\"rope_fraction\": 0.3}}",
         "x.json: model.rope_fraction: 0.3 of head size 16 rotates 4.8 dimensions; RoPE needs "
         "an even whole number >= 2"},
        {"{\"model\": {\"rope_fraction\": 0.0625}}",
         "x.json: model.rope_fraction: 0.0625 of head size 16 rotates 1 dimensions; RoPE needs "
         "an even whole number >= 2"},
        {"{\"model\": {\"t5_buckets\": 1}}", "x.json: model.t5_buckets: must be in 2..1024, got 1"},
        {"{\"model\": {\"t5_max_distance\": 1}}",
         "x.json: model.t5_max_distance: must be in 2..1048576, got 1"},
        {"{\"model\": {\"pe\": \"t5\", \"t5_buckets\": 64, \"t5_max_distance\": 32}}",
         "x.json: model.t5_max_distance: 32 must exceed model.t5_buckets / 2 (32): the buckets below "
         "it are one per distance, the rest log-spaced up to it"},
        {"{\"model\": {\"fire_hidden\": 0}}", "x.json: model.fire_hidden: must be in 1..4096, got 0"},
        {"{\"model\": {\"fire_init_L\": 0}}", "x.json: model.fire_init_L: must be > 0, got 0"},
        {"{\"model\": {\"xpos_scale_base\": -1}}", "x.json: model.xpos_scale_base: must be > 0, got -1"},
        {"{\"model\": {\"pe\": \"xpos\", \"xpos_scale_base\": 1}}",
         "x.json: model.xpos_scale_base: 1 is too small for 130 positions: the key scale "
         "zeta^(-p/gamma) would leave float range; use at least 3"},
        {"{\"model\": {\"pe\": \"xpos\", \"d_model\": 12, \"n_heads\": 4}}",
         "x.json: model.pe: xpos rotates dimension pairs and needs an even head size, got 3 "
         "(model.d_model 12 / model.n_heads 4)"},
        /* an encoding's own check (pe_check) at load time, not only when the model is built */
        {"{\"model\": {\"pe\": \"sinusoidal\", \"d_model\": 33, \"n_heads\": 1}}",
         "x.json: model.d_model: the sinusoidal encoding needs an even d_model, got 33"},
        {"{\"train\": {\"steps\": 0}}", "x.json: train.steps: must be >= 1, got 0"},
        {"{\"train\": {\"batch_size\": 0}}", "x.json: train.batch_size: must be in 1..65536, got 0"},
        {"{\"train\": {\"lr\": -1}}", "x.json: train.lr: must be > 0, got -1"},
        {"{\"train\": {\"warmup\": -1}}", "x.json: train.warmup: must be >= 0, got -1"},
        {"{\"train\": {\"warmup\": 3000}}", "x.json: train.warmup: 3000 is more than train.steps (2000)"},
        {"{\"train\": {\"weight_decay\": -0.1}}",
         "x.json: train.weight_decay: must be >= 0 and <= 10, got -0.1"},
        {"{\"train\": {\"grad_clip\": -1}}", "x.json: train.grad_clip: must be >= 0, got -1"},
        {"{\"train\": {\"log_every\": 0}}", "x.json: train.log_every: must be >= 1, got 0"},
        {"{\"train\": {\"eval_every\": -1}}", "x.json: train.eval_every: must be >= 0, got -1"},
        {"{\"train\": {\"checkpoint_every\": -1}}",
         "x.json: train.checkpoint_every: must be >= 0, got -1"},
        {"{\"train\": {\"threads\": 0}}", "x.json: train.threads: must be in 1..1024, got 0"},
        {"{\"eval\": {\"lengths\": [8, 0]}}", "x.json: eval.lengths[1]: must be in 1..262144, got 0"},
        {"{\"eval\": {\"lengths\": [262145]}}",
         "x.json: eval.lengths[0]: must be in 1..262144, got 262145"},
        {"{\"eval\": {\"lengths\": [8, 16, 8]}}", "x.json: eval.lengths[2]: 8 is listed twice"},
        {"{\"eval\": {\"samples\": 0}}", "x.json: eval.samples: must be in 1..10000000, got 0"},
        {"{\"eval\": {\"batch_size\": 0}}", "x.json: eval.batch_size: must be in 1..65536, got 0"},
        {"{\"eval\": {\"seed\": 2.5}}", "x.json: eval.seed: expected an integer, got 2.5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_exact(cases[i].json, NULL, cases[i].want);

    /* too many lengths */
    char json[1024] = "{\"eval\": {\"lengths\": [";
    for (int i = 1; i <= EVAL_MAX_LENGTHS + 1; i++) {
        char num[16];
        snprintf(num, sizeof num, "%s%d", i > 1 ? ", " : "", i);
        strcat(json, num);
    }
    strcat(json, "]}}");
    expect_exact(json, NULL, "x.json: eval.lengths: at most 64 lengths, got 65");

    /* an encoding's setting belongs to the encodings that read it: elsewhere only its default passes */
    expect_exact("{\"model\": {\"pe\": \"alibi\", \"rope_fraction\": 0.3}}", NULL,
                 "x.json: model.rope_fraction: applies only to model.pe \"rope\" (model.pe is \"alibi\")");
    RunConfig c;
    const char *t5_on_rope[] = {"model.pe=rope", "model.t5_buckets=64"};
    ck_assert_int_ne(load(&c, "{}", t5_on_rope, 2), 0);
    ck_assert_str_eq(core_error(), "--set: model.t5_buckets: applies only to model.pe \"t5\" (model.pe is \"rope\")");
    ck_assert_int_eq(load(&c, "{\"model\": {\"pe\": \"alibi\", \"rope_fraction\": 1}}", NULL, 0), 0);
    /* a sweep's job: the setting goes back to its default instead */
    const char *job[] = {"model.pe=alibi", "model.rope_fraction=0.25", "model.t5_buckets=64"};
    ck_assert_msg(config_for_job(&c, NULL, NULL, job, 3) == 0, "%s", core_error());
    ck_assert(c.model.pe_set.v[pe_setting_find("rope_fraction")] == 1.0);
    ck_assert(c.model.pe_set.v[pe_setting_find("t5_buckets")] == pe_setting_at(pe_setting_find("t5_buckets"))->def);
    const char *job_t5[] = {"model.pe=t5", "model.t5_buckets=64"};
    ck_assert_msg(config_for_job(&c, NULL, NULL, job_t5, 2) == 0, "%s", core_error());
    ck_assert(c.model.pe_set.v[pe_setting_find("t5_buckets")] == 64);
    /* the rope dimension rule applies to rope only; the boundary values pass */
    ck_assert_int_eq(load(&c, "{\"model\": {\"rope_fraction\": 0.125}}", NULL, 0), 0);
    ck_assert_int_eq(load(&c, "{\"model\": {\"max_positions\": 34}}", NULL, 0), 0);
    ck_assert_int_eq(c.model.P, 34);
    ck_assert_int_eq(load(&c, "{\"task\": {\"alphabet\": 1000, \"min_len\": 16}, \"train\": {\"warmup\": 2000}}", NULL, 0), 0);
    ck_assert_int_eq(c.model.V, 1004);
}
END_TEST

START_TEST(test_error_unknown) {
    expect_exact("{\"model\": {\"d_modle\": 64}}", NULL,
                 "x.json: model.d_modle: unknown key (did you mean \"d_model\"?)");
    expect_exact("{\"sed\": 3}", NULL, "x.json: sed: unknown key (did you mean \"seed\"?)");
    expect_exact("{\"Model\": {}}", NULL, "x.json: Model: unknown key (did you mean \"model\"?)");
    expect_exact("{\"train\": {\"learnig_rate\": 1, \"lr\": 1}}", NULL,
                 "x.json: train.learnig_rate: unknown key (valid keys of train: steps, "
                 "batch_size, lr, warmup, weight_decay, grad_clip, log_every, eval_every, "
                 "checkpoint_every, threads, random_positions)");
    expect_exact("{\"model\": {\"lr\": 1}}", NULL,
                 "x.json: model.lr: unknown key (did you mean \"train.lr\"?)");
    expect_exact("{\"eval\": {\"length\": [1]}}", NULL,
                 "x.json: eval.length: unknown key (did you mean \"lengths\"?)");
    char want[1024];
    snprintf(want, sizeof want, "x.json: model.task: unknown key (valid keys of model: %s)", model_keys());
    expect_exact("{\"model\": {\"task\": {}}}", NULL, want);
    expect_error("{\"zzzzzzzzzz\": 1}", NULL, "x.json: zzzzzzzzzz: unknown key (valid keys: name, seed, task, model, train, eval)", NULL);

    /* names checked against the registries */
    expect_exact("{\"task\": {\"name\": \"srot\"}}", NULL,
                 "x.json: task.name: unknown task \"srot\" (valid: copy, reverse, sort, duplicate, odds_first, markov, "
                 "text, repeat, repeat_map, copy_twice, reverse_twice, reverse_copy, jsonl)");
    expect_error("{\"model\": {\"pe\": \"rotary\"}}", NULL,
                 "x.json: model.pe: unknown position encoding \"rotary\"", "sinusoidal");
    ck_assert_msg(strstr(core_error(), "alibi") && strstr(core_error(), "rope") &&
                      strstr(core_error(), "learned") && strstr(core_error(), "none"),
                  "%s", core_error());
}
END_TEST

/* ---- --set ---------------------------------------------------------------- */

START_TEST(test_set) {
    RunConfig c;
    const char *s1[] = {"model.pe=alibi", "train.lr=3e-4", "eval.lengths=8,16,32", "name=42",
                        "task={\"name\": \"sort\", \"max_len\": 8}", "seed=7"};
    ck_assert_msg(load(&c, "{\"model\": {\"pe\": \"sinusoidal\"}, \"seed\": 3}", s1, 6) == 0, "%s",
                  core_error());
    ck_assert_str_eq(c.model.pe, "alibi");
    ck_assert(c.train.lr == 3e-4f);
    ck_assert_int_eq(c.eval.num_lengths, 3);
    ck_assert(c.eval.lengths[0] == 8 && c.eval.lengths[1] == 16 && c.eval.lengths[2] == 32);
    ck_assert_str_eq(c.name, "42"); /* string keys take the text as it is */
    ck_assert_str_eq(c.task.name, "sort");
    ck_assert_int_eq(c.task.max_len, 8);
    ck_assert_int_eq(c.task.alphabet, 10); /* a section object sets only its keys */
    ck_assert_uint_eq(c.seed, 7);

    const char *s2[] = {"eval.lengths=[8, 16]", "model.pe=\"learned\"", "train.steps=10",
                        "train.steps=20", "train.warmup=5", "train.warmup = 5"};
    /* "train.warmup " with a space is not a key */
    ck_assert_int_ne(load(&c, NULL, s2, 6), 0);
    ck_assert_str_eq(core_error(), "--set: train.warmup : unknown key (did you mean \"warmup\"?)");
    /* the default warmup (100) is longer than 20 steps */
    ck_assert_int_ne(load(&c, NULL, s2, 4), 0);
    ck_assert_str_eq(core_error(), "--set: train.warmup: 100 is more than train.steps (20)");
    ck_assert_msg(load(&c, NULL, s2, 5) == 0, "%s", core_error());
    ck_assert_int_eq(c.eval.num_lengths, 2);
    ck_assert_str_eq(c.model.pe, "learned");
    ck_assert_int_eq(c.train.steps, 20); /* in order: the last one wins */
    ck_assert_int_eq(c.train.warmup, 5);

    const char *s3[] = {"eval.lengths=12", "eval.lengths=[]", "train.warmup=0"};
    ck_assert_int_eq(load(&c, NULL, s3, 1), 0);
    ck_assert_int_eq(c.eval.num_lengths, 1);
    ck_assert_int_eq(c.eval.lengths[0], 12);
    ck_assert_int_eq(load(&c, NULL, s3, 2), 0); /* [] = auto again */
    ck_assert_int_eq(c.eval.num_lengths, 5);

    /* errors: the source is "--set" */
    expect_exact(NULL, "model.d_modle=64",
                 "--set: model.d_modle: unknown key (did you mean \"d_model\"?)");
    expect_exact(NULL, "mdoel.d_model=64", "--set: mdoel: unknown key (did you mean \"model\"?)");
    expect_exact(NULL, "d_model=64", "--set: d_model: unknown key (did you mean \"model.d_model\"?)");
    expect_error(NULL, "train.lr", "--set: \"train.lr\": expected key=value", NULL);
    expect_error(NULL, "=3", "--set: \"=3\": expected key=value", NULL);
    expect_exact(NULL, "train.steps=abc", "--set: train.steps: expected an integer, got string \"abc\"");
    expect_exact(NULL, "train.steps=", "--set: train.steps: expected an integer, got string \"\"");
    expect_exact(NULL, "train.lr=-1", "--set: train.lr: must be > 0, got -1");
    expect_exact(NULL, "eval.lengths=8,x", "--set: eval.lengths: expected an array of integers, got string \"8,x\"");
    expect_exact(NULL, "model={\"d_model\": 30}", "--set: model.n_heads: 4 does not divide model.d_model (30)");
    expect_exact(NULL, "model=3", "--set: model: expected an object, got 3");
    char valid[600], names[PE_NAMES_MAX];
    pe_names(names, sizeof names);
    snprintf(valid, sizeof valid, "--set: model.pe: unknown position encoding \"rotary\" (valid: %s)", names);
    expect_exact(NULL, "model.pe=rotary", valid);

    /* a consistency error is blamed on the source that set a key last */
    const char *s4[] = {"model.n_heads=3"};
    ck_assert_int_ne(load(&c, "{\"model\": {\"d_model\": 64}}", s4, 1), 0);
    ck_assert_str_eq(core_error(), "--set: model.n_heads: 3 does not divide model.d_model (64)");
    const char *s5[] = {"model.d_model=30"};
    ck_assert_int_ne(load(&c, "{\"model\": {\"n_heads\": 4}}", s5, 1), 0);
    ck_assert_str_eq(core_error(), "--set: model.n_heads: 4 does not divide model.d_model (30)");
    const char *s6[] = {"task.name=sort"};
    ck_assert_int_ne(load(&c, "{\"task\": {\"alphabet\": 1}}", s6, 1), 0);
    ck_assert_str_eq(core_error(), "x.json: task.alphabet: must be in 2..1000, got 1");
    const char *s7[] = {"task.min_len=9"};
    ck_assert_int_ne(load(&c, "{\"task\": {\"max_len\": 8}}", s7, 1), 0);
    ck_assert_str_eq(core_error(), "--set: task.max_len: must be >= task.min_len (9), got 8");

    /* the public pieces */
    config_default(&c);
    ck_assert_int_eq(config_apply_set(&c, "train.steps=770"), 0);
    ck_assert_int_eq(c.train.steps, 770);
    ck_assert_int_ne(config_apply_set(&c, "train.stpes=77"), 0);
    ck_assert_str_eq(core_error(), "--set: train.stpes: unknown key (did you mean \"steps\"?)");
    ck_assert_int_eq(config_apply_set(&c, "model.n_heads=5"), 0); /* not checked yet */
    ck_assert_int_ne(config_resolve_check(&c, "mine"), 0);
    ck_assert_str_eq(core_error(), "mine: model.n_heads: 5 does not divide model.d_model (64)");
    ck_assert_int_eq(config_apply_set(&c, "model.n_heads=8"), 0);
    ck_assert_int_eq(config_resolve_check(&c, NULL), 0);
    ck_assert_int_eq(c.model.F, 256);
}
END_TEST

/* ---- files -------------------------------------------------------------- */

START_TEST(test_load_file) {
    const char *dir = test_tmpdir("config");
    char path[600];
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\n  \"name\": \"filetest\",\n  \"task\": {\"name\": \"reverse\", \"max_len\": 10},\n"
          "  \"model\": {\"pe\": \"learned\", \"n_layers\": 1},\n  \"eval\": {\"lengths\": [5, 10, 20]}\n}\n",
          f);
    fclose(f);
    RunConfig c;
    const char *sets[] = {"train.steps=300"};
    ck_assert_msg(config_load(&c, path, sets, 1) == 0, "%s", core_error());
    ck_assert_str_eq(c.name, "filetest");
    ck_assert_str_eq(c.task.name, "reverse");
    ck_assert_str_eq(c.model.pe, "learned");
    ck_assert_int_eq(c.model.L, 1);
    ck_assert_int_eq(c.model.P, 42);
    ck_assert_int_eq(c.train.steps, 300);

    /* errors name the file */
    const char *bad[] = {"model.n_heads=3"};
    f = fopen(path, "w");
    fputs("{\"model\": {\"n_heads\": 3}}", f);
    fclose(f);
    ck_assert_int_ne(config_load(&c, path, NULL, 0), 0);
    char want[700];
    snprintf(want, sizeof want, "%s: model.n_heads: 3 does not divide model.d_model (64)", path);
    ck_assert_str_eq(core_error(), want);
    ck_assert_int_ne(config_load(&c, NULL, bad, 1), 0);

    /* a resolved config written to a file loads back identically */
    ck_assert_int_eq(config_load(&c, NULL, sets, 1), 0);
    char *json = config_to_json(&c);
    f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    free(json);
    RunConfig back;
    ck_assert_msg(config_load(&back, path, NULL, 0) == 0, "%s", core_error());
    expect_same(&c, &back);
}
END_TEST

/* Every shipped config is valid, and the smoke config is small. */
START_TEST(test_shipped_configs) {
    glob_t g;
    ck_assert_int_eq(glob("configs/*.json", 0, NULL, &g), 0);
    ck_assert_int_ge((int)g.gl_pathc, 4);
    int smoke = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        RunConfig c;
        ck_assert_msg(config_load(&c, g.gl_pathv[i], NULL, 0) == 0, "%s", core_error());
        expect_round_trip(&c);
        if (strstr(g.gl_pathv[i], "smoke.json")) {
            smoke = 1;
            ck_assert_int_eq(c.model.C, 32);
            ck_assert_int_eq(c.model.L, 1);
            ck_assert_int_eq(c.model.NH, 2);
            ck_assert_int_eq(c.train.steps, 50);
            ck_assert_int_eq(c.task.max_len, 6);
            ck_assert_int_eq(c.eval.num_lengths, 3);
            ck_assert(c.eval.lengths[0] == 4 && c.eval.lengths[1] == 8 && c.eval.lengths[2] == 12);
        }
        /* every encoding works with every shipped config */
        for (int p = 0; p < pe_count(); p++) {
            char set[64];
            snprintf(set, sizeof set, "model.pe=%s", pe_at(p)->name);
            const char *sets[] = {set};
            ck_assert_msg(config_load(&c, g.gl_pathv[i], sets, 1) == 0, "%s: %s", set, core_error());
        }
    }
    ck_assert_msg(smoke, "configs/smoke.json is missing");
    globfree(&g);
}
END_TEST

/* Each encoding's settings are config keys with their row's default and
 * range, checked at load time with the error naming the key and the source
 * that set it; docs/CONFIG.md's table is `posenc config --keys --markdown`. */
START_TEST(test_encoding_settings) {
    RunConfig c;
    for (int k = 0; k < pe_num_settings(); k++) {
        const PESetting *s = pe_setting_at(k);
        ck_assert_msg((s->lo_open ? s->def > s->lo : s->def >= s->lo) && s->def <= s->hi, "%s: default out of range",
                      s->name);
        ck_assert_msg(s->help && *s->help, "%s: no help line", s->name);
        /* the default as a config holds it (a float setting: a float's value), so that it survives config.json */
        config_default(&c);
        if (s->type == PE_SETTING_FLOAT)
            ck_assert_msg(c.model.pe_set.v[k] == (double)(float)s->def, "%s: default not a float", s->name);
        int users = 0;
        for (int i = 0; i < pe_count(); i++) users += pe_uses_setting(pe_at(i), k);
        ck_assert_msg(users > 0, "%s: read by no encoding", s->name);
        /* a key of the config, at its default; a value out of range names the key */
        char set[96];
        snprintf(set, sizeof set, "model.%s=%.17g", s->name, s->lo_open ? s->lo : s->lo - 1);
        const char *sets[] = {set};
        ck_assert_int_ne(load(&c, NULL, sets, 1), 0);
        char want[96];
        snprintf(want, sizeof want, "--set: model.%s: must be", s->name);
        ck_assert_msg(strstr(core_error(), want) == core_error(), "%s: %s", set, core_error());
    }
    /* every encoding loads at its defaults, and pe_check agrees with the loader */
    for (int i = 0; i < pe_count(); i++) {
        char set[64];
        snprintf(set, sizeof set, "model.pe=%s", pe_at(i)->name);
        const char *sets[] = {set};
        ck_assert_msg(load(&c, NULL, sets, 1) == 0, "%s: %s", set, core_error());
        PEConfig pc = gpt_pe_config(&c.model);
        ck_assert_msg(pe_check(pe_at(i), &pc) == 0, "%s: %s", set, core_error());
    }
    /* a typical slip: RoPE's base below 1 fails at the config check, naming the key, its range and --set */
    const char *bad[] = {"model.rope_base=0.5"};
    ck_assert_int_ne(config_load(&c, "configs/smoke.json", bad, 1), 0);
    ck_assert_str_eq(core_error(), "--set: model.rope_base: must be > 1, got 0.5");
    /* a check hook's error is attributed to the source that set the key last */
    const char *frac[] = {"model.rope_fraction=0.3"};
    ck_assert_int_ne(config_load(&c, "configs/smoke.json", frac, 1), 0);
    ck_assert_msg(strncmp(core_error(), "--set: model.rope_fraction: 0.3 of head size 16", 47) == 0, "%s", core_error());
}
END_TEST

START_TEST(test_doc_keys) {
    const char *doc = "docs/CONFIG.md";
    char *text = file_read_all(doc, NULL);
    ck_assert_msg(text != NULL, "%s: %s", doc, core_error());
    const char *open = "<!-- config-keys:", *close = "<!-- /config-keys -->";
    char *a = strstr(text, open), *b = strstr(text, close);
    ck_assert_msg(a && b && a < b, "%s: no %s ... %s block", doc, open, close);
    a = strchr(a, '\n') + 1;
    *b = '\0';
    char *md = config_keys_markdown();
    /* the first line that differs */
    size_t i = 0, line = 0;
    while (a[i] && a[i] == md[i]) i++;
    while (i > 0 && a[i - 1] != '\n') i--;
    for (size_t j = 0; j < i; j++) line += md[j] == '\n';
    ck_assert_msg(strcmp(a, md) == 0,
                  "%s's table of config keys differs from `posenc config --keys --markdown` at its row %zu "
                  "(%s: \"%.150s\", generated: \"%.150s\"); paste that output between the markers",
                  doc, line + 1, doc, a + i, md + i);
    free(md);
    free(text);
    /* one table only: the guide links to it instead of holding a copy that could go stale */
    char *readme = file_read_all("README.md", NULL);
    ck_assert_msg(readme != NULL, "README.md: %s", core_error());
    ck_assert_msg(strstr(readme, open) == NULL, "README.md holds a config-keys block: the table lives in %s", doc);
    free(readme);
}
END_TEST

Suite *config_suite(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_auto_lengths);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_variant_keys);
    tcase_add_test(tc, test_round_trip_floats);
    tcase_add_test(tc, test_new_tasks);
    tcase_add_test(tc, test_error_file);
    tcase_add_test(tc, test_error_json_syntax);
    tcase_add_test(tc, test_error_types);
    tcase_add_test(tc, test_error_ranges);
    tcase_add_test(tc, test_error_unknown);
    tcase_add_test(tc, test_set);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_shipped_configs);
    tcase_add_test(tc, test_encoding_settings);
    tcase_add_test(tc, test_doc_keys);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(config_suite()); }
