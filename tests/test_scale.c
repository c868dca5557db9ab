/*
 * test_scale.c — a sweep plan run by other engines: `posenc sweep --plan`, its
 * lines run unchanged from anywhere (and with POSENC), GNU parallel with
 * --joblog/--resume-failed giving the local sweep's aggregate byte for byte,
 * and the Slurm scripts (submit.sh against a stand-in sbatch; the array script
 * run task by task). A real Slurm runs in tests/slurm.sh (make test-slurm).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsutil.h"
#include "tests/testutil.h"

static void write_text(const char *path, const char *text) {
    ck_assert_msg(file_write_atomic(path, text, strlen(text)) == 0, "%s", core_error());
}

static char *read_text(const char *dir, const char *name) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *t = file_read_all(p, NULL);
    ck_assert_msg(t != NULL, "%s", core_error());
    return t;
}

static int count_lines(const char *t) {
    int n = 0;
    for (; *t; t++) n += *t == '\n';
    return n;
}

static void abs_path(const char *p, char *out) {
    ck_assert_msg(realpath(p, out) != NULL, "realpath %s", p);
}

static const char *tiny_ids[8] = {"copy.rope.s3",    "copy.rope.s4",    "copy.alibi.s3",    "copy.alibi.s4",
                                  "reverse.rope.s3", "reverse.rope.s4", "reverse.alibi.s3", "reverse.alibi.s4"};

START_TEST(test_plan_lines_run_anywhere) {
    const char *t = test_tmpdir("scale-plan");
    char d[600], abs[4096], bin[4096], p[20000];
    snprintf(d, sizeof d, "%s/plan", t);
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --plan %s", d), 0);
    EXPECT_OUT("8 jobs");
    const long cores = sysconf(_SC_NPROCESSORS_ONLN); /* the default --jobs: cores / 1 thread */
    char want[256];
    snprintf(want, sizeof want, "parallel --jobs %ld --joblog", cores);
    EXPECT_OUT(want);
    EXPECT_OUT("posenc collect");
    abs_path(d, abs);
    abs_path(posenc_bin(), bin);
    snprintf(p, sizeof p, "%s/runs", d);
    ck_assert_msg(!path_exists(p), "--plan ran something");
    char *plan = read_text(d, "plan.txt");
    ck_assert_int_eq(count_lines(plan), 8);
    /* every path absolute; the program replaceable by POSENC */
    snprintf(p, sizeof p, "\"${POSENC:-%s}\" run '%s/configs/copy.rope.s3.json' --out '%s/runs/copy.rope.s3'\n", bin,
             abs, abs);
    ck_assert_msg(strncmp(plan, p, strlen(p)) == 0, "line 1:\n%s\nexpected:\n%s", plan, p);
    for (int i = 0; i < 8; i++) {
        snprintf(p, sizeof p, "%s/configs/%s.json", d, tiny_ids[i]);
        ck_assert_msg(path_exists(p), "%s missing", p);
    }
    free(plan);
    /* line 1 from another folder: trains and evaluates; again: nothing to do */
    snprintf(p, sizeof p, "cd / && sed -n 1p '%s/plan.txt' > '%s/one.sh' && sh '%s/one.sh'", abs, abs, abs);
    ck_assert_int_eq(run_captured(p), 0);
    snprintf(p, sizeof p, "%s/runs/copy.rope.s3/eval.json", d);
    ck_assert(path_exists(p));
    snprintf(p, sizeof p, "cd / && sh '%s/one.sh'", abs);
    ck_assert_int_eq(run_captured(p), 0);
    EXPECT_OUT("complete, nothing to do");
    /* POSENC replaces the program: a wrapper that leaves a mark */
    snprintf(p, sizeof p, "%s/wrap.sh", d);
    char wrap[20000];
    snprintf(wrap, sizeof wrap, "#!/bin/sh\necho \"wrapped $2\" >> '%s/wrap.log'\nexec '%s' \"$@\"\n", abs, bin);
    write_text(p, wrap);
    ck_assert(chmod(p, 0755) == 0);
    snprintf(p, sizeof p, "sed -n 2p '%s/plan.txt' > '%s/two.sh' && POSENC='%s/wrap.sh' sh '%s/two.sh'", abs, abs, abs,
             abs);
    ck_assert_int_eq(run_captured(p), 0);
    char *mark = read_text(d, "wrap.log");
    snprintf(p, sizeof p, "wrapped %s/configs/copy.rope.s4.json\n", abs);
    ck_assert_str_eq(mark, p);
    free(mark);
    /* the local sweep runs the same plan: the two runs are skipped */
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --out %s --no-plots", d), 0);
    snprintf(want, sizeof want, "8 jobs (2 already complete), %ld at a time", cores);
    EXPECT_OUT(want);
    EXPECT_OUT("6 jobs run in");
    snprintf(want, sizeof want, "runs/hour), %ld at a time x 1 thread(s), CPU", cores);
    EXPECT_OUT(want);
}
END_TEST

START_TEST(test_plan_errors) {
    const char *t = test_tmpdir("scale-err");
    char p[600];
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --plan %s/a --out %s/b", t, t), 2);
    EXPECT_OUT("not both");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --out %s/a --slurm", t), 2);
    EXPECT_OUT("use it with --plan DIR");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --plan %s/a --time 10", t), 2);
    EXPECT_OUT("--time is a Slurm option; add --slurm");
    struct {
        const char *args, *want;
    } bad[] = {
        {"--time 1:2:3:4", "--time: time \"1:2:3:4\": expected a Slurm time limit: M, M:S, H:M:S, D-H"},
        {"--time 2-x", "expected a Slurm time limit"},
        {"--mem 2X", "--mem: mem \"2X\": expected a whole number of megabytes, or with a K, M, G or T suffix"},
        {"--partition 'a b'", "--partition: partition \"a b\": expected a partition name"},
        {"--max-running 0", "--max-running: max_running \"0\": expected a whole number in 1..100000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --plan %s/a --slurm %s", t, bad[i].args), 2);
        EXPECT_OUT(bad[i].want);
    }
    /* the spec's "slurm" object is checked for every sweep, local too */
    struct {
        const char *slurm, *want;
    } spec[] = {
        {"{\"mem\": 5}", "slurm: mem: expected a string (e.g. \"2G\")"},
        {"{\"nodes\": 2}", "slurm: nodes: unknown key (valid: partition, time, mem, max_running)"},
        {"{\"time\": \"soon\"}", "slurm: time \"soon\": expected a Slurm time limit"},
        {"{\"max_running\": 1.5}", "slurm: max_running: expected a whole number in 1..100000"},
        {"[1]", "slurm: expected an object"},
    };
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        snprintf(p, sizeof p, "%s/spec%zu.json", t, i);
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"base\": \"../../../configs/smoke.json\", \"grid\": {\"model.pe\": [\"rope\"]}, \"slurm\": %s}",
                 spec[i].slurm);
        write_text(p, text);
        ck_assert_int_eq(posenc("sweep %s --out %s/x --no-plots", p, t), 2);
        EXPECT_OUT(spec[i].want);
        EXPECT_OUT(p);
    }
    /* a quote in the sweep folder is quoted in plan.txt (core/escape.h), not refused */
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --plan \"%s/it's\"", t), 0);
    snprintf(p, sizeof p, "%s/it's/plan.txt", t);
    char *plan = file_read_all(p, NULL);
    ck_assert_msg(plan && strstr(plan, "/it'\\''s/runs/copy.rope.s3'\n"), "%s", plan ? plan : core_error());
    free(plan);
    /* what an #SBATCH line cannot carry is refused, naming it, before anything is written */
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --plan '%s/a b' --slurm", t), 2);
    EXPECT_OUT("sbatch cannot take whitespace");
    snprintf(p, sizeof p, "%s/a b", t);
    ck_assert(!path_exists(p));
}
END_TEST

/* a stand-in sbatch on PATH records its arguments and answers job ids, so the
 * submit helper's order and dependency are checked without a cluster; then the
 * array script runs task by task as Slurm would run it */
START_TEST(test_slurm_scripts) {
    const char *t = test_tmpdir("scale-slurm");
    char d[600], abs[4096], spec[700], p[20000];
    snprintf(spec, sizeof spec, "%s/spec.json", t);
    write_text(spec, "{\"name\": \"sl\", \"base\": \"../../../configs/smoke.json\", \"threads\": 2,"
                     " \"set\": {\"train.steps\": 12, \"train.checkpoint_every\": 0, \"train.eval_every\": 0},"
                     " \"grid\": {\"model.pe\": [\"none\", \"rope\"]}, \"eval\": {\"lengths\": [2, 4], \"samples\": 8},"
                     " \"slurm\": {\"partition\": \"short,long\", \"time\": \"1:00:00\", \"mem\": \"2G\","
                     " \"max_running\": 4}}");
    snprintf(d, sizeof d, "%s/plan", t);
    ck_assert_int_eq(posenc("sweep %s --plan %s --slurm --time 2-0:30", spec, d), 0);
    EXPECT_OUT("slurm/submit.sh");
    abs_path(d, abs);
    snprintf(p, sizeof p, "%s/slurm", d);
    char *arr = read_text(p, "array.sbatch");
    const char *want[] = {"#SBATCH --array=1-2%4\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --partition=short,long\n",
                          "#SBATCH --time=2-0:30\n" /* the flag wins over the spec */, "#SBATCH --mem=2G\n",
                          "#SBATCH --job-name=posenc-sl\n"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(arr, want[i]), "array.sbatch lacks %s:\n%s", want[i], arr);
    snprintf(p, sizeof p, "#SBATCH --output=%s/logs/slurm-%%A_%%a.log\n", abs);
    ck_assert_msg(strstr(arr, p), "array.sbatch lacks %s:\n%s", p, arr);
    free(arr);
    snprintf(p, sizeof p, "%s/slurm", d);
    char *col = read_text(p, "collect.sbatch");
    snprintf(p, sizeof p, "collect '%s'\n", abs);
    ck_assert_msg(strstr(col, p) && strstr(col, "#SBATCH --partition=short,long\n"), "%s", col);
    free(col);

    /* submit.sh: the array first (extra arguments to it), then collect after it */
    snprintf(p, sizeof p, "%s/bin", d);
    ck_assert(dir_create(p) == 0);
    snprintf(p, sizeof p, "%s/bin/sbatch", d);
    write_text(p, "#!/bin/sh\n"
                  "n=$(cat \"$(dirname \"$0\")/n\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > \"$(dirname \"$0\")/n\"\n"
                  "echo \"$*\" >> \"$(dirname \"$0\")/calls\"\n"
                  "if [ $n = 1 ]; then echo '4242;testcluster'; else echo 4243; fi\n");
    ck_assert(chmod(p, 0755) == 0);
    snprintf(p, sizeof p, "PATH='%s/bin':\"$PATH\" '%s/slurm/submit.sh' --qos=test", abs, abs);
    ck_assert_int_eq(run_captured(p), 0);
    EXPECT_OUT("submitted job array 4242 (2 tasks) and collect job 4243");
    snprintf(p, sizeof p, "%s/bin", d);
    char *calls = read_text(p, "calls");
    char want_calls[20000];
    snprintf(want_calls, sizeof want_calls,
             "--parsable --qos=test %s/slurm/array.sbatch\n--parsable --dependency=afterany:4242 "
             "%s/slurm/collect.sbatch\n",
             abs, abs);
    ck_assert_str_eq(calls, want_calls);
    free(calls);

    /* the array script as Slurm runs it: task k runs line k, from any folder */
    for (int k = 1; k <= 2; k++) {
        snprintf(p, sizeof p, "cd / && SLURM_ARRAY_TASK_ID=%d sh '%s/slurm/array.sbatch'", k, abs);
        ck_assert_msg(run_captured(p) == 0, "task %d:\n%s", k, posenc_out);
        snprintf(p, sizeof p, "posenc: plan line %d on ", k);
        EXPECT_OUT(p);
    }
    snprintf(p, sizeof p, "%s/runs/rope.s1/eval.json", d);
    ck_assert(path_exists(p));
    snprintf(p, sizeof p, "SLURM_ARRAY_TASK_ID=3 sh '%s/slurm/array.sbatch'", abs);
    ck_assert_int_eq(run_captured(p), 2);
    EXPECT_OUT("plan.txt has no line 3");
    snprintf(p, sizeof p, "env -u SLURM_ARRAY_TASK_ID sh '%s/slurm/array.sbatch'", abs);
    ck_assert_int_ne(run_captured(p), 0);
    EXPECT_OUT("run this script with sbatch");
    snprintf(p, sizeof p, "cd / && sh '%s/slurm/collect.sbatch'", abs);
    ck_assert_msg(run_captured(p) == 0, "%s", posenc_out);
    EXPECT_OUT("results:");
    EXPECT_OUT("2 runs, 2 cells");
}
END_TEST

/* GNU parallel runs the plan (one job failing, then re-run with
 * --resume-failed); `posenc collect` then gives exactly the local sweep's
 * results, and the same models */
START_TEST(test_parallel_matches_sweep) {
    ck_assert_msg(run_captured("command -v parallel") == 0, "GNU parallel is missing: make deps installs it");
    const char *t = test_tmpdir("scale-par");
    char a[600], b[600], absb[4096], p[20000];
    snprintf(a, sizeof a, "%s/local", t);
    snprintf(b, sizeof b, "%s/par", t);
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --out %s --no-plots", a), 0);
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --plan %s", b), 0);
    abs_path(b, absb);
    /* one run directory is a plain file: that line fails */
    snprintf(p, sizeof p, "%s/runs", b);
    ck_assert(dir_create(p) == 0);
    snprintf(p, sizeof p, "%s/runs/reverse.alibi.s4", b);
    write_text(p, "in the way\n");
    char cmd[20000];
    snprintf(cmd, sizeof cmd,
             "cd / && echo 2/: > '%s/hosts' && parallel --will-cite --sshloginfile '%s/hosts' --joblog '%s/joblog' "
             "--resume-failed < '%s/plan.txt'",
             absb, absb, absb, absb);
    ck_assert_int_eq(run_captured(cmd), 1); /* parallel's exit status: the number of failed jobs */
    char *log = read_text(b, "joblog");
    ck_assert_int_eq(count_lines(log), 9);
    free(log);
    snprintf(p, sizeof p, "%s/runs/reverse.alibi.s4", b);
    ck_assert(unlink(p) == 0);
    ck_assert_int_eq(run_captured(cmd), 0); /* only the failed line runs again */
    log = read_text(b, "joblog");
    ck_assert_int_eq(count_lines(log), 10);
    const char *last = log + strlen(log) - 2;
    while (last > log && *last != '\n') last--;
    ck_assert_msg(strstr(last, "runs/reverse.alibi.s4'"), "the re-run line is not the failed one:\n%s", log);
    free(log);
    ck_assert_int_eq(posenc("collect %s --no-plots", b), 0);
    EXPECT_OUT("8 runs, 4 cells");
    const char *same[] = {"results.csv", "results.md"};
    for (int i = 0; i < 2; i++) {
        char *x = read_text(a, same[i]), *y = read_text(b, same[i]);
        ck_assert_msg(strcmp(x, y) == 0, "%s differs:\n%s\n---\n%s", same[i], x, y);
        free(x);
        free(y);
    }
    for (int i = 0; i < 8; i++) {
        snprintf(p, sizeof p, "cmp '%s/runs/%s/model.safetensors' '%s/runs/%s/model.safetensors'", a, tiny_ids[i], b,
                 tiny_ids[i]);
        ck_assert_msg(run_captured(p) == 0, "%s", posenc_out);
    }
}
END_TEST

static Suite *scale_suite(void) {
    Suite *s = suite_create("scale");
    TCase *tc = tcase_create("scale");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_plan_lines_run_anywhere);
    tcase_add_test(tc, test_plan_errors);
    tcase_add_test(tc, test_slurm_scripts);
    tcase_add_test(tc, test_parallel_matches_sweep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(scale_suite()); }
