/*
 * test_trust.c — run folders are untrusted input: each class of hostile
 * run folder and spec, end to end through the posenc program
 * ($POSENC_BIN). Every case must give a named error with the documented exit
 * status (2 for a usage or config problem, files that disagree or values out
 * of range; 1 for a runtime failure), execute nothing, lose nothing and
 * leave nothing half-written.
 *
 *   test_collect_runs_nothing      strings from run and spec files reach gnuplot quoted
 *   test_run_identity              config.json, checkpoint and eval files must agree
 *   test_stale_evaluations         resumed or extended runs: old evaluations do not count
 *   test_own_files_only            --force and collect touch posenc's own file names only
 *   test_bad_numbers               out-of-range or missing values in eval files; NaN weights
 *   test_untrusted_file_types      FIFOs, devices, links, ".." where run files belong
 *   test_truthful_errors           stdout failures, config errors, --resume of a non-run
 *   test_collect_adhoc_runs        collect of posenc train runs without a sweep
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsutil.h"
#include "tests/testutil.h"

/* a finished and evaluated smoke run at DIR */
static void smoke_run(const char *dir, const char *extra) {
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s --quiet %s", dir, extra), 0);
    ck_assert_int_eq(posenc("eval %s", dir), 0);
}

/* a finished two-job sweep (rope, alibi; 10 steps) at D/SW; spec at D/sw.json */
static void small_sweep(const char *d) {
    char p[600];
    snprintf(p, sizeof p, "%s/sw.json", d);
    FILE *f = fopen(p, "w");
    fprintf(f, "{\"name\": \"sw\", \"base\": \"../../../configs/smoke.json\", \"set\": {\"train.steps\": 10}, "
               "\"grid\": {\"model.pe\": [\"rope\", \"alibi\"]}, \"eval\": {\"lengths\": [4, 8], \"samples\": 16}}\n");
    fclose(f);
    ck_assert_int_eq(posenc("sweep %s/sw.json --out %s/SW --jobs 2 --no-plots", d, d), 0);
}

/* ---- 1. code execution from a run folder ------------------------------- */

START_TEST(test_collect_runs_nothing) {
    const char *d = test_tmpdir("trust-exec");
    small_sweep(d);
    /* the sweep's name reaches the plots' titles: a quote and a newline must not end the gnuplot string */
    ck_assert_int_eq(shell_run("cd %s && sed -i 's/\"name\":[[:space:]]*\"sw\"/\"name\": \"x'\"'\"'.system('\"'\"'touch PWN1'\"'\"').'\"'\"'\\\\nsystem('\"'\"'touch PWN2'\"'\"')\"/' SW/sweep.json && grep -c PWN SW/sweep.json",
                        d),
                     0);
    ck_assert_int_eq(posenc("collect %s/SW", d), 0);
    ck_assert(path_present("%s/SW/copy_accuracy.svg", d));
    ck_assert_msg(!path_present("PWN1") && !path_present("PWN2") && !path_present("%s/PWN1", d), "collect executed a run file's string");
    /* a label from a run's config: an unknown encoding is a config error naming the file, nothing runs */
    ck_assert_int_eq(shell_run("cd %s && sed -i 's/\"pe\": *\"rope\"/\"pe\": \"x'\"'\"'.system('\"'\"'touch PWN3'\"'\"').'\"'\"'\"/' "
                        "SW/runs/rope.s1/config.json",
                        d),
                     0);
    ck_assert_int_eq(posenc("collect %s/SW", d), 2);
    EXPECT_OUT("rope.s1/config.json: model.pe: unknown position encoding");
    ck_assert(!path_present("PWN3") && !path_present("%s/PWN3", d));
}
END_TEST

/* ---- 2. a run is what its files agree on ---------------------------------- */

START_TEST(test_run_identity) {
    const char *d = test_tmpdir("trust-identity");
    small_sweep(d);
    /* a changed spec into the same --out: refused before anything is written, naming both values */
    char *csv0 = file_text("%s/SW/results.csv", d), *cfg0 = file_text("%s/SW/configs/rope.s1.json", d),
         *spec0 = file_text("%s/SW/sweep.json", d);
    ck_assert_int_eq(shell_run("sed 's/\"train.steps\": 10/\"train.steps\": 12/' %s/sw.json > %s/sw12.json", d, d), 0);
    ck_assert_int_eq(posenc("sweep %s/sw12.json --out %s/SW --no-plots", d, d), 2);
    EXPECT_OUT("train.steps = 10");
    EXPECT_OUT("train.steps = 12");
    char *csv1 = file_text("%s/SW/results.csv", d), *cfg1 = file_text("%s/SW/configs/rope.s1.json", d),
         *spec1 = file_text("%s/SW/sweep.json", d);
    ck_assert_str_eq(csv0, csv1);
    ck_assert_str_eq(cfg0, cfg1);
    ck_assert_str_eq(spec0, spec1);
    free(csv0), free(csv1), free(cfg0), free(cfg1), free(spec0), free(spec1);

    /* config.json edited to another encoding: resume, eval, run and collect refuse, naming both values */
    char r[600];
    snprintf(r, sizeof r, "%s/R", d);
    smoke_run(r, "");
    ck_assert_int_eq(shell_run("cp %s/model.safetensors %s/saved && sed -i 's/\"pe\":\\([[:space:]]*\\)\"rope\"/\"pe\":\\1\"alibi\"/' "
                        "%s/config.json",
                        r, d, r),
                     0);
    ck_assert_int_eq(posenc("train --resume %s --set train.steps=60 --quiet", r), 2);
    EXPECT_OUT("model.pe is \"alibi\" in config.json but \"rope\" in the checkpoint");
    ck_assert_int_eq(shell_run("cmp %s/model.safetensors %s/saved", r, d), 0);
    ck_assert_int_eq(posenc("eval %s", r), 2);
    EXPECT_OUT("model.pe");
    ck_assert_int_eq(posenc("collect %s --out %s/C --no-plots", r, d), 2);
    EXPECT_OUT("model.pe");
    ck_assert(!path_present("%s/C/results.csv", d));
    ck_assert_int_eq(shell_run("sed -i 's/\"pe\":\\([[:space:]]*\\)\"alibi\"/\"pe\":\\1\"rope\"/' %s/config.json", r), 0);

    /* train.steps below the checkpoint's step: refused, config.json untouched */
    char *c0 = file_text("%s/config.json", r);
    ck_assert_int_eq(posenc("train --resume %s --set train.steps=10 --quiet", r), 2);
    EXPECT_OUT("train.steps = 10 is below the checkpoint's step 50");
    char *c1 = file_text("%s/config.json", r);
    ck_assert_str_eq(c0, c1);
    free(c0), free(c1);
    /* an evaluation from a later step than the checkpoint: not of this run */
    ck_assert_int_eq(shell_run("sed -i 's/\"step\":[[:space:]]*50/\"step\": 70/' %s/eval.json", r), 0);
    ck_assert_int_eq(posenc("collect %s --out %s/C --no-plots", r, d), 2);
    EXPECT_OUT("evaluated at step 70, but the checkpoint is at step 50");
}
END_TEST

/* ---- stale evaluations ---------------------------- */

START_TEST(test_stale_evaluations) {
    const char *d = test_tmpdir("trust-stale");
    char r[600];
    snprintf(r, sizeof r, "%s/E", d);
    /* stopped early, evaluated, resumed: `posenc run` evaluates again, collect counts it */
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s --quiet --stop-after 25", r), 130);
    ck_assert_int_eq(posenc("eval %s", r), 0);
    ck_assert_int_eq(posenc("train --resume %s --quiet", r), 0);
    ck_assert_int_eq(posenc("collect %s --out %s/C --no-plots", r, d), 1);
    EXPECT_OUT("eval.json is from step 25 but the checkpoint is at step 50");
    ck_assert_int_eq(posenc("run configs/smoke.json --out %s", r), 0);
    EXPECT_OUT("wrote");
    ck_assert_int_eq(posenc("run configs/smoke.json --out %s", r), 0);
    EXPECT_OUT("complete, nothing to do");
    ck_assert_int_eq(posenc("collect %s --out %s/C --no-plots", r, d), 0);
    EXPECT_OUT("(1 run, 1 cell)");

    /* a finished run extended: said so; its evaluation is stale until evaluated again */
    ck_assert_int_eq(posenc("train --resume %s --set train.steps=60 --quiet", r), 0);
    EXPECT_OUT("train.steps changes from 50 to 60 at step 50");
    EXPECT_OUT("schedule");
    EXPECT_OUT("had finished at step 50");
    ck_assert_int_eq(posenc("collect %s --out %s/C --no-plots", r, d), 1);
    EXPECT_OUT("stale");
    ck_assert_int_eq(posenc("eval %s", r), 0);
    ck_assert_int_eq(posenc("collect %s --out %s/C --no-plots", r, d), 0);
}
END_TEST

/* ---- 2c and 4: posenc's own files only ------------------------------------ */

START_TEST(test_own_files_only) {
    const char *d = test_tmpdir("trust-own");
    char r[600];
    snprintf(r, sizeof r, "%s/F", d);
    smoke_run(r, "");
    ck_assert_int_eq(posenc("eval %s --positions random", r), 0); /* ad hoc: eval-random.adhoc.json */
    /* a user's backup copy and notes; a stale temporary of posenc's and one of the user's */
    ck_assert_int_eq(shell_run("cd %s && cp eval.json eval-backup.json && echo notes > notes.tmp.123 && echo x > "
                        "config.json.tmp.999",
                        r),
                     0);
    /* a backup copy is not a seed, an ad-hoc evaluation not a cell: one result (eval.json) */
    ck_assert_int_eq(posenc("collect %s --out %s/C --no-plots", r, d), 0);
    EXPECT_OUT("(1 run, 1 cell)");
    /* --force replaces the run: every eval-<variant> file of the old run goes, the user's files stay */
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s --force --quiet --set train.steps=5", r), 0);
    ck_assert(!path_present("%s/eval-random.adhoc.json", r) && !path_present("%s/eval-random.adhoc.csv", r) &&
              !path_present("%s/eval.json", r));
    ck_assert(path_present("%s/eval-backup.json", r) && path_present("%s/notes.tmp.123", r));
    ck_assert(!path_present("%s/config.json.tmp.999", r));
}
END_TEST

/* ---- 3. bad numbers --------------------------------------------------------- */

START_TEST(test_bad_numbers) {
    const char *d = test_tmpdir("trust-numbers");
    char r[600];
    snprintf(r, sizeof r, "%s/H", d);
    smoke_run(r, "");
    ck_assert_int_eq(shell_run("cp %s/eval.json %s/good.json", r, d), 0);
    static const struct {
        const char *sed, *want;
    } bad[] = {
        {"s/\"results\":[[:space:]]*\\[/\"results\": [{}, /", "results[0].n: expected a length"},
        {"0,/\"token_acc\":[^,]*,/s//\"token_acc\": 5,/", "results[0].token_acc: expected a fraction in [0, 1], got 5"},
        {"0,/\"exact_match\":[^,]*,/s//\"exact_match\": -3,/", "results[0].exact_match: expected a fraction in [0, 1], got -3"},
        {"/\"step\":/d", "step: expected a whole number >= 0, got (missing)"},
        {"s/\"step\":[^,]*,/\"step\": 1e300,/", "step: expected a whole number >= 0"},
        {"0,/\"loss\":[^,]*,/s//\"loss\": -1,/", "results[0].loss: expected a finite number >= 0"},
        {"0,/\"n\":[^,]*,/s//\"n\": 2.5,/", "results[0].n: expected a length"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(shell_run("cp %s/good.json %s/eval.json && sed -i '%s' %s/eval.json", d, r, bad[i].sed, r), 0);
        ck_assert_int_eq(posenc("collect %s --out %s/C%zu --no-plots", r, d, i), 2);
        EXPECT_OUT(bad[i].want);
        ck_assert_msg(!path_present("%s/C%zu/results.csv", d, i), "results.csv written for %s", bad[i].sed);
        /* `posenc run` refuses the same run the same way */
        ck_assert_int_eq(posenc("run %s/config.json --out %s", r, r), 2);
    }
    /* non-finite weights: eval reports it and writes nothing */
    char n[600];
    snprintf(n, sizeof n, "%s/N", d);
    smoke_run(n, "");
    /* 64 NaN floats at the start of the tensor data (after the 8-byte length and the header) */
    ck_assert_int_eq(shell_run("cd %s && rm eval.json eval.csv && h=$(od -An -t u8 -N8 model.safetensors | tr -d ' ') && "
                        "for i in $(seq 64); do printf '\\000\\000\\300\\177'; done | "
                        "dd of=model.safetensors bs=1 seek=$((8 + h)) conv=notrunc 2>/dev/null",
                        n),
                     0);
    ck_assert_int_eq(posenc("eval %s", n), 1);
    EXPECT_OUT("is NaN");
    ck_assert(!path_present("%s/eval.json", n) && !path_present("%s/eval.csv", n));
}
END_TEST

/* ---- 4. files posenc should not touch --------------------------------------- */

START_TEST(test_untrusted_file_types) {
    const char *d = test_tmpdir("trust-files");
    /* devices and FIFOs where a spec, a base config or a run file belongs: refused at once, no hang */
    ck_assert_int_eq(posenc("sweep /dev/zero"), 2);
    EXPECT_OUT("character device, not a regular file");
    ck_assert_int_eq(shell_run("cd %s && echo '{\"base\": \"/dev/zero\"}' > z.json && mkfifo fifo.json", d), 0);
    ck_assert_int_eq(posenc("sweep %s/z.json", d), 2);
    EXPECT_OUT("character device");
    ck_assert_int_eq(posenc("sweep %s/fifo.json", d), 2);
    EXPECT_OUT("FIFO");
    ck_assert_int_eq(posenc("train %s/fifo.json --out %s/never", d, d), 2);
    EXPECT_OUT("FIFO");
    char r[600];
    snprintf(r, sizeof r, "%s/Q", d);
    smoke_run(r, "");
    ck_assert_int_eq(shell_run("cd %s && mv eval.json ../eval.saved && mkfifo eval.json", r), 0);
    ck_assert_int_eq(posenc("collect %s --out %s/C --no-plots", r, d), 1);
    EXPECT_OUT("eval.json: an evaluation file is a FIFO");
    ck_assert_int_eq(posenc("run configs/smoke.json --out %s", r), 1);
    ck_assert_int_eq(shell_run("cd %s && rm eval.json && mv ../eval.saved eval.json", r), 0);
    /* a dangling link where the checkpoint belongs: reported as a link, not as "no checkpoint" */
    ck_assert_int_eq(shell_run("cd %s && mv model.safetensors ../model.saved && ln -s /nonexistent/x model.safetensors", r),
                     0);
    ck_assert_int_eq(posenc("eval %s", r), 1);
    EXPECT_OUT("model.safetensors: the checkpoint is a symbolic link that cannot be followed");
    ck_assert_int_eq(shell_run("cd %s && rm model.safetensors && mv ../model.saved model.safetensors", r), 0);
    /* a link planted at a run file does not redirect posenc's writes */
    ck_assert_int_eq(shell_run("cd %s && echo precious > ../target && cp metrics.jsonl ../m && rm metrics.jsonl && "
                        "ln -s ../target metrics.jsonl",
                        r),
                     0);
    ck_assert_int_eq(posenc("train --resume %s --set train.steps=60 --quiet", r), 0);
    char *t = file_text("%s/target", d);
    ck_assert_str_eq(t, "precious\n");
    free(t);
    /* a spec named ".." would write into the parent folder */
    ck_assert_int_eq(shell_run("echo '{\"name\": \"..\", \"base\": \"../../../configs/smoke.json\"}' > %s/dd.json", d), 0);
    ck_assert_int_eq(posenc("sweep %s/dd.json --plan-only", d), 2);
    EXPECT_OUT("name: \"..\" is not a folder name of its own");
    ck_assert(!path_present("runs/plan.txt") && !path_present("runs/sweep.json"));
    /* a sweep's run folder that is a link is not written through */
    small_sweep(d);
    ck_assert_int_eq(shell_run("cd %s/SW/runs && mkdir ../../elsewhere && rm -r alibi.s1 && ln -s ../../elsewhere alibi.s1", d),
                     0);
    ck_assert_int_eq(posenc("sweep %s/sw.json --out %s/SW --no-plots", d, d), 2);
    EXPECT_OUT("alibi.s1: a symbolic link");
    ck_assert_int_eq(shell_run("ls -A %s/elsewhere | wc -l", d), 0);
    ck_assert_int_eq(atoi(posenc_out), 0);
}
END_TEST

/* ---- 5. errors that tell the truth ------------------------------------------ */

START_TEST(test_truthful_errors) {
    const char *d = test_tmpdir("trust-errors");
    char r[600];
    snprintf(r, sizeof r, "%s/R", d);
    smoke_run(r, "");
    /* output that cannot be written is a failure */
    ck_assert_int_eq(shell_run("{ %s eval %s > /dev/full; }", posenc_bin(), r), 1);
    EXPECT_OUT("cannot write to standard output");
    ck_assert_int_eq(shell_run("{ %s eval %s >&-; }", posenc_bin(), r), 1);
    ck_assert_int_eq(shell_run("{ %s help >&-; }", posenc_bin()), 1);
    EXPECT_OUT("cannot write to standard output");
    /* config errors found by the encoding: exit 2, nothing written */
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.rope_base=0.5 --out %s/x1", d), 2);
    EXPECT_OUT("model.rope_base");
    ck_assert(!path_present("%s/x1", d));
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.pe=sinusoidal --set model.d_model=33 --set "
                            "model.n_heads=1 --out %s/x2",
                            d),
                     2);
    EXPECT_OUT("even d_model");
    ck_assert(!path_present("%s/x2", d));
    /* a NaN before the first checkpoint: nothing to resume, --force suggested */
    ck_assert_int_eq(posenc("train configs/smoke.json --set train.lr=1e30 --set train.steps=20 --out %s/nan --quiet", d),
                     3);
    EXPECT_OUT("--force");
    EXPECT_OUT("nothing to resume");
    ck_assert_int_eq(posenc("train --resume %s/nan --quiet", d), 2);
    EXPECT_OUT("--force");
    /* --resume of a missing or non-run folder: exit 2, nothing created */
    ck_assert_int_eq(posenc("train --resume %s/missing", d), 2);
    EXPECT_OUT("no such run directory");
    ck_assert(!path_present("%s/missing", d));
    ck_assert_int_eq(shell_run("mkdir %s/empty", d), 0);
    ck_assert_int_eq(posenc("train --resume %s/empty", d), 2);
    EXPECT_OUT("not a posenc run directory");
    ck_assert_int_eq(shell_run("ls -A %s/empty | wc -l", d), 0);
    ck_assert_int_eq(atoi(posenc_out), 0);
    /* learned beyond its table: a length error like the others (exit 2) */
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.pe=learned --set train.steps=5 --out %s/L --quiet", d),
                     0);
    ck_assert_int_eq(posenc("eval %s/L --lengths 64", d), 2);
    EXPECT_OUT("model.max_positions");
}
END_TEST

/* ---- collect runs of posenc train ---------------------------- */

START_TEST(test_collect_adhoc_runs) {
    const char *d = test_tmpdir("trust-adhoc");
    char a[600], b[600], c[600];
    snprintf(a, sizeof a, "%s/runs/rope1", d);
    snprintf(b, sizeof b, "%s/runs/rope2", d);
    snprintf(c, sizeof c, "%s/other/alibi1", d);
    smoke_run(a, "--set train.steps=10");
    smoke_run(b, "--set train.steps=10 --set seed=2");
    smoke_run(c, "--set train.steps=10 --set model.pe=alibi");
    /* a folder of runs and a run: the cells are the keys that differ (model.pe); two seeds of rope */
    ck_assert_int_eq(posenc("collect %s/runs %s --out %s/cmp --no-plots", d, c, d), 0);
    EXPECT_OUT("(3 runs, 2 cells; some cells uneven");
    EXPECT_OUT("collect: warning: alibi (default) has 1 seed, the other cells of its group 2");
    char *csv = file_text("%s/cmp/results.csv", d);
    ck_assert_msg(strncmp(csv, "model.pe,label,variant,n,seeds,", 31) == 0, "%s", csv);
    ck_assert_msg(strstr(csv, "rope,rope,default,4,2,") != NULL, "%s", csv);
    ck_assert_msg(strstr(csv, "alibi,alibi,default,4,1,") != NULL, "%s", csv);
    free(csv);
    /* several folders need --out; a folder without runs is named */
    ck_assert_int_eq(posenc("collect %s/runs %s", d, c), 2);
    EXPECT_OUT("--out");
    ck_assert_int_eq(shell_run("mkdir -p %s/nothing", d), 0);
    ck_assert_int_eq(posenc("collect %s/nothing", d), 2);
    EXPECT_OUT("not a sweep folder (no sweep.json), a run directory or a folder of run directories");
    /* one folder of runs: the outputs go into it */
    ck_assert_int_eq(posenc("collect %s/runs --no-plots", d), 0);
    ck_assert(path_present("%s/runs/results.csv", d));
}
END_TEST

static Suite *trust_suite(void) {
    Suite *s = suite_create("trust");
    TCase *tc = tcase_create("run folders");
    tcase_add_test(tc, test_collect_runs_nothing);
    tcase_add_test(tc, test_run_identity);
    tcase_add_test(tc, test_stale_evaluations);
    tcase_add_test(tc, test_own_files_only);
    tcase_add_test(tc, test_bad_numbers);
    tcase_add_test(tc, test_untrusted_file_types);
    tcase_add_test(tc, test_truthful_errors);
    tcase_add_test(tc, test_collect_adhoc_runs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(trust_suite()); }
