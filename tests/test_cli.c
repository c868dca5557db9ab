/*
 * test_cli.c — the `posenc` program end to end on the tiny smoke config:
 * train -> eval -> predict, resume == uninterrupted (bitwise), Ctrl-C, and
 * every class of bad input answered with a clear message and exit status.
 * The program under test is $POSENC_BIN (set by `make test`), else ./posenc.
 */
#include <check.h>
#include <cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "model/pe.h"
#include "run/config.h"
#include "tests/testutil.h"


static int files_equal(const char *a, const char *b) {
    size_t na, nb;
    char *x = file_read_all(a, &na), *y = file_read_all(b, &nb);
    int eq = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return eq;
}

/* `posenc predict RUN ARGS` with the key/value cache and with --recompute (a
 * full forward pass per token): the same lines, except that a probability
 * (the last number of a line) may differ by one in its 4th decimal, the
 * rounding the two paths differ by (tests/test_decode.c). Returns the number
 * of lines compared. */
static int predict_paths_agree(const char *run, const char *args) {
    ck_assert_int_eq(posenc("predict %s %s", run, args), 0);
    char *a = strdup(posenc_out);
    ck_assert_int_eq(posenc("predict %s %s --recompute", run, args), 0);
    char *b = strdup(posenc_out);
    int lines = 0;
    char *sa, *sb, *la = strtok_r(a, "\n", &sa), *lb = strtok_r(b, "\n", &sb);
    for (; la && lb; la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb), lines++) {
        if (strcmp(la, lb) == 0) continue;
        /* the same up to a number x.xxxx that differs by at most 1e-4 */
        size_t k = 0;
        while (la[k] && la[k] == lb[k]) k++;
        while (k > 0 && (la[k - 1] == '.' || (la[k - 1] >= '0' && la[k - 1] <= '9'))) k--;
        char *ea, *eb;
        double x = strtod(la + k, &ea), y = strtod(lb + k, &eb);
        ck_assert_msg(ea > la + k && eb > lb + k && fabs(x - y) <= 1.00001e-4 && strcmp(ea, eb) == 0,
                      "predict %s: cache and --recompute differ:\n%s\n%s", args, la, lb);
    }
    ck_assert_msg(!la && !lb, "predict %s: cache and --recompute print different numbers of lines", args);
    free(a);
    free(b);
    return lines;
}

START_TEST(test_train_eval_predict) {
    const char *d = test_tmpdir("cli-tep");
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s/run", d), 0);
    EXPECT_OUT("done:");
    char p[512];
    const char *files[] = {"config.json", "metrics.jsonl", "model.safetensors", "optim.safetensors"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/run/%s", d, files[i]);
        ck_assert_msg(path_exists(p), "missing %s", p);
    }
    /* evaluation at 4x the training length, table with the training range marked */
    ck_assert_int_eq(posenc("eval %s/run --lengths 3,6,12:24:6 --samples 16", d), 0);
    EXPECT_OUT("training range");
    EXPECT_OUT("accuracy by absolute position");
    EXPECT_OUT("an ad-hoc evaluation (--lengths 3,6,12,18,24, the config's eval.lengths are 4,8,12)");
    snprintf(p, sizeof p, "%s/run/eval.adhoc.json", d);
    char *text = file_read_all(p, NULL);
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    cJSON *res = cJSON_GetObjectItem(j, "results");
    ck_assert_int_eq(cJSON_GetArraySize(res), 5);
    cJSON *last = cJSON_GetArrayItem(res, 4);
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(last, "n")), 24);
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(last, "examples")), 16);
    /* each example of length 24 has 25 answer tokens */
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(last, "tokens")), 16 * 25);
    double acc = cJSON_GetNumberValue(cJSON_GetObjectItem(last, "token_acc"));
    ck_assert(acc >= 0.0 && acc <= 1.0);
    ck_assert(cJSON_GetArraySize(cJSON_GetObjectItem(j, "by_position")) > 24);
    cJSON_Delete(j);
    free(text);
    snprintf(p, sizeof p, "%s/run/eval.adhoc.csv", d);
    text = file_read_all(p, NULL);
    ck_assert(strncmp(text, "n,examples,tokens,token_acc,exact_match,loss,in_training_range\n3,16,", 68) == 0);
    free(text);
    /* predict: greedy answer against the true one; --logits as JSON */
    ck_assert_int_eq(posenc("predict %s/run \"3 1 4\"", d), 0);
    EXPECT_OUT("expected");
    EXPECT_OUT("answer tokens (with EOS) correct");
    /* the key/value cache decodes as the full recompute does, also beyond the
     * model's trained positions (83 > 64: the encoding's tables rebuilt) */
    snprintf(p, sizeof p, "%s/run", d);
    predict_paths_agree(p, "\"3 1 4\"");
    predict_paths_agree(p, "\"3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3 2 3 8 4 6 2 6 4 3 3 8 3 2 7 9 5 0 2 8 8 4 1 9 7\"");
    ck_assert_int_eq(posenc("predict %s/run --logits \"BOS 3 1 4 SEP\"", d), 0);
    j = cJSON_Parse(posenc_out);
    ck_assert_msg(j != NULL, "not JSON: %s", posenc_out);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "logits")), 5);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "logits"), 0)), 14);
    cJSON_Delete(j);
    /* --logits beyond model.max_positions: rope has no trained position table,
     * so the tables are rebuilt (as posenc eval does); positions 0..69 */
    char toks[1024] = "BOS";
    for (int t = 1; t < 70; t++) snprintf(toks + strlen(toks), sizeof toks - strlen(toks), " %d", t % 10);
    ck_assert_int_eq(posenc("predict %s/run --logits \"%s\"", d, toks), 0);
    j = cJSON_Parse(posenc_out);
    ck_assert_msg(j != NULL, "not JSON: %.200s", posenc_out);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "logits")), 70);
    cJSON *ps = cJSON_GetObjectItem(j, "positions");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetArrayItem(ps, 69)), 69);
    cJSON_Delete(j);
}
END_TEST

/* The markov LM end to end: a tiny model (300 steps, 0.5 s) learns the chain
 * far below the uniform loss log 10 = 2.303 (it reaches about 1.17 at n = 6,
 * floor 0.86); eval prints and writes the floor, the entropy rate and the
 * loss by position; every token counts; predict scores a sequence. */
START_TEST(test_markov_lm) {
    const char *d = test_tmpdir("cli-markov");
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --set task.name=markov --set train.steps=300 "
                            "--set train.batch_size=32 --set eval.lengths=6 --out %s/run",
                            d),
                     0);
    ck_assert_int_eq(posenc("eval %s/run --lengths 6,12 --samples 64", d), 0);
    EXPECT_OUT("entropy rate 0.8104 nats/token");
    EXPECT_OUT("floor");
    EXPECT_OUT("loss by absolute position");
    char p[512];
    snprintf(p, sizeof p, "%s/run/eval.adhoc.json", d);
    char *text = file_read_all(p, NULL);
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    ck_assert_double_eq_tol(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "entropy_rate")), 0.8104, 1e-4);
    cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0);
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r0, "tokens")), 64 * 6); /* every x_t */
    const double loss = cJSON_GetNumberValue(cJSON_GetObjectItem(r0, "loss"));
    const double floor = cJSON_GetNumberValue(cJSON_GetObjectItem(r0, "loss_floor"));
    ck_assert_msg(loss < 1.5 && loss > floor - 0.1, "loss %.4f at n = 6 (floor %.4f, uniform 2.303)", loss, floor);
    /* by position: positions 1..12, each with a loss; position 7..12 only from n = 12 */
    cJSON *bp = cJSON_GetObjectItem(j, "by_position");
    ck_assert_int_eq(cJSON_GetArraySize(bp), 12);
    cJSON *first = cJSON_GetArrayItem(bp, 0), *last = cJSON_GetArrayItem(bp, 11);
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(first, "pos")), 1);
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(first, "total")), 128);
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(last, "total")), 64);
    ck_assert(cJSON_GetNumberValue(cJSON_GetObjectItem(last, "loss")) > 0.0);
    cJSON_Delete(j);
    free(text);
    snprintf(p, sizeof p, "%s/run/eval.adhoc.csv", d);
    text = file_read_all(p, NULL);
    ck_assert_msg(strncmp(text, "n,examples,tokens,token_acc,exact_match,loss,in_training_range,loss_floor\n6,64,384,",
                          82) == 0,
                  "%s", text);
    free(text);
    /* predict scores the sequence against the source; 3 never follows start, 3 */
    ck_assert_int_eq(posenc("predict %s/run \"6 7 8 0\"", d), 0);
    EXPECT_OUT("p_true");
    EXPECT_OUT("loss per token: model");
    EXPECT_OUT("model argmax = source argmax at");
    ck_assert_int_eq(posenc("predict %s/run \"3 3\"", d), 0);
    EXPECT_OUT("impossible under the source");
    snprintf(p, sizeof p, "%s/run", d);
    ck_assert_int_ge(predict_paths_agree(p, "\"6 7 8 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6\""), 24);
    ck_assert_int_eq(posenc("predict %s/run --logits \"BOS 6 7\"", d), 0);
    EXPECT_OUT("\"logits\"");
    /* a markov key on another task is a config error naming the key */
    ck_assert_int_eq(posenc("train configs/smoke.json --set task.markov_order=3 --out %s/bad", d), 2);
    EXPECT_OUT("task.markov_order: applies only to task.name \"markov\"");
}
END_TEST

START_TEST(test_resume_bitwise) {
    const char *d = test_tmpdir("cli-resume");
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --out %s/full", d), 0);
    /* stop after 30 steps (between the checkpoints at 25 and 50), then resume */
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --out %s/part --stop-after 30", d), 130);
    ck_assert_int_eq(posenc("train --resume %s/part --quiet", d), 0);
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/full", d);
    snprintf(pb, sizeof pb, "%s/part", d);
    char *a = metrics_without_timing(pa);
    char *b = metrics_without_timing(pb);
    ck_assert_msg(strcmp(a, b) == 0, "metrics differ:\n%s\nvs\n%s", a, b);
    ck_assert(strlen(a) > 20);
    free(a);
    free(b);
    snprintf(pa, sizeof pa, "%s/full/model.safetensors", d);
    snprintf(pb, sizeof pb, "%s/part/model.safetensors", d);
    ck_assert_msg(files_equal(pa, pb), "final checkpoints differ");
}
END_TEST

/* A real SIGINT in the middle of training: checkpoint, exit 130, resume, and
 * the result equals an uninterrupted run. */
START_TEST(test_sigint_resume) {
    const char *d = test_tmpdir("cli-sigint");
    const char *sets = "--set train.steps=1500 --set train.log_every=10 --set train.checkpoint_every=0 "
                       "--set train.eval_every=0";
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet %s --out %s/full", sets, d), 0);
    char dir[512], metrics[600];
    snprintf(dir, sizeof dir, "%s/part", d);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl(posenc_bin(), posenc_bin(), "train", "configs/smoke.json", "--quiet", "--set", "train.steps=1500", "--set",
              "train.log_every=10", "--set", "train.checkpoint_every=0", "--set", "train.eval_every=0", "--out",
              dir, (char *)NULL);
        _exit(127);
    }
    /* wait until training is under way (a few metrics lines), then interrupt */
    int st = 0;
    ck_assert_msg(wait_for_file(metrics, 400, pid, &st) == 0,
                  "training exited (status %d) before writing a few metrics lines", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    kill(pid, SIGINT);
    waitpid(pid, &st, 0);
    ck_assert(WIFEXITED(st));
    int code = WEXITSTATUS(st);
    ck_assert_msg(code == 130, "interrupted training exited %d, not 130", code);
    ck_assert_int_eq(posenc("train --resume %s --quiet", dir), 0);
    char pa[512];
    snprintf(pa, sizeof pa, "%s/full", d);
    char *a = metrics_without_timing(pa), *b = metrics_without_timing(dir);
    ck_assert_msg(strcmp(a, b) == 0, "metrics differ after SIGINT + resume");
    free(a);
    free(b);
}
END_TEST

START_TEST(test_bad_config_inputs) {
    const char *d = test_tmpdir("cli-bad");
    char p[512];
    /* missing file */
    ck_assert_int_eq(posenc("train %s/nope.json --out %s/r", d, d), 2);
    EXPECT_OUT("nope.json");
    ck_assert(!path_exists("tests/tmp/never"));
    /* invalid JSON with line and column */
    snprintf(p, sizeof p, "%s/bad.json", d);
    FILE *f = fopen(p, "w");
    fputs("{\n  \"name\": \"x\",\n  \"seed\": 1,,\n}\n", f);
    fclose(f);
    ck_assert_int_eq(posenc("train %s --out %s/r", p, d), 2);
    EXPECT_OUT("bad.json");
    EXPECT_OUT("line 3");
    /* unknown key with a suggestion; wrong type; out of range; n_heads */
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.d_modle=32 --out %s/r", d), 2);
    EXPECT_OUT("did you mean \"d_model\"");
    ck_assert_int_eq(posenc("train configs/smoke.json --set train.steps='\"many\"' --out %s/r", d), 2);
    EXPECT_OUT("train.steps");
    ck_assert_int_eq(posenc("train configs/smoke.json --set train.lr=-1 --out %s/r", d), 2);
    EXPECT_OUT("train.lr");
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.n_heads=3 --out %s/r", d), 2);
    EXPECT_OUT("model.n_heads");
    /* unknown task / encoding names list the valid ones */
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.pe=rotary --out %s/r", d), 2);
    char names[PE_NAMES_MAX];
    pe_names(names, sizeof names);
    EXPECT_OUT(names); /* every registered encoding */
    ck_assert_int_eq(posenc("train configs/smoke.json --set task.name=shuffle --out %s/r", d), 2);
    EXPECT_OUT("copy, reverse, sort, duplicate, odds_first, markov, text, repeat, repeat_map, copy_twice, "
               "reverse_twice, reverse_copy");
    /* nothing was written by any of them */
    snprintf(p, sizeof p, "%s/r", d);
    ck_assert(!path_exists(p));
}
END_TEST

START_TEST(test_bad_run_inputs) {
    const char *d = test_tmpdir("cli-badrun");
    char p[512];
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --set model.pe=learned --out %s/run", d), 0);
    /* an existing run directory is refused, untouched */
    snprintf(p, sizeof p, "%s/run/model.safetensors", d);
    size_t n0;
    char *before = file_read_all(p, &n0);
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s/run", d), 2);
    EXPECT_OUT("--resume");
    EXPECT_OUT("--force");
    size_t n1;
    char *after = file_read_all(p, &n1);
    ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    /* learned beyond its table: a usage error (exit 2, like the other length errors) naming the setting */
    ck_assert_int_eq(posenc("eval %s/run --lengths 100", d), 2);
    EXPECT_OUT("model.max_positions");
    /* bad option values */
    ck_assert_int_eq(posenc("eval %s/run --lengths 8:4", d), 2);
    EXPECT_OUT("--lengths");
    ck_assert_int_eq(posenc("eval %s/run --samples zero", d), 2);
    ck_assert_int_eq(posenc("predict %s/run \"3 99\"", d), 2);
    EXPECT_OUT("99");
    ck_assert_int_eq(posenc("predict %s/run --logits \"BOS 3\" --recompute", d), 2);
    EXPECT_OUT("--recompute applies to decoding");
    /* --logits beyond the learned table's rows: a usage error naming the setting */
    char toks[1024] = "BOS";
    for (int t = 1; t < 70; t++) snprintf(toks + strlen(toks), sizeof toks - strlen(toks), " %d", t % 10);
    ck_assert_int_eq(posenc("predict %s/run --logits \"%s\"", d, toks), 2);
    EXPECT_OUT("model.max_positions");
    /* a directory that is not a run */
    ck_assert_int_eq(posenc("eval %s", d), 2);
    EXPECT_OUT("not a posenc run directory");
    /* a truncated checkpoint */
    snprintf(p, sizeof p, "%s/run/model.safetensors", d);
    ck_assert_int_eq(truncate(p, 100), 0);
    ck_assert_int_eq(posenc("eval %s/run", d), 1);
    EXPECT_OUT("model.safetensors");
    /* usage */
    ck_assert_int_eq(posenc("frobnicate"), 2);
    EXPECT_OUT("unknown command");
    ck_assert_int_eq(posenc("train --bogus"), 2);
}
END_TEST

START_TEST(test_help) {
    const char *cmds[] = {"--help", "help", "train --help", "eval --help", "predict --help", "config --help"};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(posenc("%s", cmds[i]), 0);
        EXPECT_OUT("usage: posenc");
    }
    ck_assert_int_eq(posenc("--help"), 0);
    for (int i = 0; i < pe_count(); i++) { /* every encoding and its settings, from the registry */
        EXPECT_OUT(pe_at(i)->summary);
        for (const PESetting *const *st = pe_at(i)->settings; st && *st; st++) {
            char key[96];
            snprintf(key, sizeof key, "model.%s (default %g)", (*st)->name, (*st)->def);
            EXPECT_OUT(key);
        }
    }
    /* posenc config --keys --markdown is the key table (docs/CONFIG.md's, test_config.c) */
    ck_assert_int_eq(posenc("config --keys --markdown"), 0);
    char *md = config_keys_markdown();
    ck_assert_msg(strstr(posenc_out, md) != NULL, "config --keys --markdown: %.300s", posenc_out);
    free(md);
    ck_assert_int_eq(posenc("config --keys"), 0);
    for (int i = 0; i < config_key_count(); i++) {
        ConfigKeyDoc kd;
        config_key_doc(i, &kd);
        EXPECT_OUT(kd.path);
    }
    ck_assert_int_eq(posenc("config"), 2);
    ck_assert_int_eq(posenc("config --bogus"), 2);
    EXPECT_OUT("unknown option");
    ck_assert_int_eq(posenc("--help"), 0);
    EXPECT_OUT("alibi");
    EXPECT_OUT("sort");
    EXPECT_OUT("duplicate   y = x x");
    EXPECT_OUT("odds_first  y = x1 x3");
    EXPECT_OUT("markov      language model");
}
END_TEST

static Suite *cli_suite(void) {
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_train_eval_predict);
    tcase_add_test(tc, test_markov_lm);
    tcase_add_test(tc, test_resume_bitwise);
    tcase_add_test(tc, test_sigint_resume);
    tcase_add_test(tc, test_bad_config_inputs);
    tcase_add_test(tc, test_bad_run_inputs);
    tcase_add_test(tc, test_help);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(cli_suite()); }
