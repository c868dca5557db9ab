/*
 * test_reliability.c — runs that survive kill -9, a full disk and NaNs, and
 * run directories that cannot be shared by two processes.
 *
 * The kill tests kill for real: `posenc train` is started as a child
 * process and sent SIGKILL, either at a random moment (a fixed-seed RNG
 * chooses the delays, so a failure reproduces) or at a chosen point inside a
 * checkpoint write (the POSENC_TEST_KILL hook, core/fsutil.h, raises SIGKILL
 * there). After every kill the run directory is checked: every checkpoint
 * file on disk loads completely, metrics.jsonl has only whole JSON lines with
 * strictly increasing steps. Then the run is resumed (or restarted with
 * --force if no checkpoint was written yet), and at the end the model, the
 * optimizer state and the metrics (everything but timing) must be bitwise
 * identical to an uninterrupted run.
 */
#include <check.h>
#include <cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "run/checkpoint.h"
#include "run/config.h"
#include "tests/testutil.h"

#define KILL_STEPS 150
#define KILL_SETS                                                                                      \
    "--set train.steps=150 --set train.checkpoint_every=5 --set train.log_every=1 "                  \
    "--set train.eval_every=20"

/* Run a shell command line (printf-formatted; "$P" is the posenc program),
 * output captured in posenc_out. Returns the exit status, 128+signal if
 * killed. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
    char body[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "P='%s'; (%s)", posenc_bin(), body);
    return run_captured(cmd);
}

/* Start `sh -c "exec CMD"` as a child (in its own session if own_group, so
 * that it and its children can be killed together); output to /dev/null.
 * CMD runs the test build of the program, whose crash-test hooks env may set
 * (POSENC_TEST_KILL, POSENC_TEST_STOP). */
static pid_t spawn(int own_group, const char *env, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static pid_t spawn(int own_group, const char *env, const char *fmt, ...) {
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "exec '%s' %s >/dev/null 2>&1", posenc_fault_bin(), args);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (own_group) setsid();
        if (env) putenv((char *)env);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Wait for pid up to `delay_us`, then SIGKILL it.
 * Returns 1 if it was killed, 0 if it had exited by itself with status 0
 * (fails the test on any other exit). */
static int kill_after(pid_t pid, long delay_us) {
    int st;
    for (long waited = 0; waited < delay_us; waited += 1000) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            ck_assert_msg(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 137),
                          "posenc exited with status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
            return WIFSIGNALED(st) || WEXITSTATUS(st) != 0;
        }
        usleep(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    if (WIFEXITED(st)) ck_assert_msg(WEXITSTATUS(st) == 0, "posenc exited with status %d", WEXITSTATUS(st));
    return WIFSIGNALED(st);
}

/* ---- invariants of a run directory ------------------------------------ */

/* Every line of metrics.jsonl is a whole JSON object; per type, steps
 * strictly increase (eval lines: (step, n) increase). */
static void check_metrics(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    if (!path_exists(path)) return;
    size_t n;
    char *text = file_read_all(path, &n);
    ck_assert_msg(text != NULL, "%s", core_error());
    ck_assert_msg(n == 0 || text[n - 1] == '\n', "%s: torn last line", path);
    double last_train = 0, last_eval = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        ck_assert_msg(j != NULL, "%s: torn line: %s", path, line);
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(j, "type"));
        double step = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "step"));
        ck_assert_msg(type && step >= 1, "%s: line without type or step: %s", path, line);
        if (strcmp(type, "train") == 0) {
            ck_assert_msg(step > last_train, "%s: train step %.0f after %.0f (duplicate?)", path, step, last_train);
            last_train = step;
        } else {
            double key = step * 1000 + cJSON_GetNumberValue(cJSON_GetObjectItem(j, "n"));
            ck_assert_msg(key > last_eval, "%s: eval line out of order or duplicated: %s", path, line);
            last_eval = key;
        }
        cJSON_Delete(j);
    }
    free(text);
}

/* Every checkpoint file present loads completely into a model of the run's
 * config (the model, the optimizer state, and a pending optim.next). */
static void check_checkpoints(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!path_exists(path)) return;
    char *json = NULL;
    long step = -1;
    ck_assert_msg(checkpoint_read_meta(path, &json, &step) == 0, "%s", core_error());
    ck_assert_int_ge(step, 1);
    RunConfig cfg;
    ck_assert_msg(config_from_string(&cfg, json, path, NULL, 0) == 0, "%s", core_error());
    free(json);
    GPT m;
    AdamW opt = {0};
    ck_assert_msg(gpt_build(&m, &cfg.model) == 0, "%s", core_error());
    ck_assert_msg(checkpoint_load(path, &m) == 0, "%s", core_error());
    adamw_init(&opt, m.num_params, 0.0f);
    const char *optims[] = {"optim.safetensors", "optim.next.safetensors"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, optims[i]);
        if (!path_exists(path)) continue;
        long ostep;
        uint64_t rng;
        ck_assert_msg(optim_load(path, &opt, &m, &ostep, &rng) == 0, "%s", core_error());
    }
    adamw_free(&opt);
    gpt_free(&m);
}

static void check_run_dir(const char *dir) {
    check_metrics(dir);
    check_checkpoints(dir);
}

static void expect_same_file(const char *a, const char *b, const char *name) {
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/%s", a, name);
    snprintf(pb, sizeof pb, "%s/%s", b, name);
    size_t na, nb;
    char *x = file_read_all(pa, &na), *y = file_read_all(pb, &nb);
    ck_assert_msg(x && y, "%s", core_error());
    ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "%s and %s differ", pa, pb);
    free(x);
    free(y);
}

static void expect_same_as_reference(const char *ref, const char *dir) {
    expect_same_file(ref, dir, "model.safetensors");
    expect_same_file(ref, dir, "optim.safetensors");
    char *a = metrics_without_timing(ref), *b = metrics_without_timing(dir);
    ck_assert_msg(strcmp(a, b) == 0, "metrics differ from the uninterrupted run:\n--- reference\n%s--- killed\n%s", a,
                  b);
    free(a);
    free(b);
    char path[512];
    snprintf(path, sizeof path, "%s/optim.next.safetensors", dir);
    ck_assert_msg(!path_exists(path), "%s left behind", path);
}

/* One more attempt at the run: resume it if it has a checkpoint, else start
 * it over. Returns the pid. */
static pid_t continue_run(const char *dir, const char *env) {
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (path_exists(path)) return spawn(0, env, "train --resume %s --quiet", dir);
    return spawn(0, env, "train configs/smoke.json " KILL_SETS " --out %s --force --quiet", dir);
}

static void reference_run(const char *dir) {
    ck_assert_int_eq(posenc("train configs/smoke.json " KILL_SETS " --out %s --quiet", dir), 0);
}

/* ---- kill -9 ---------------------------------------------------------- */

/* The program itself has no crash-test hook (both hooks are one #ifdef):
 * with POSENC_TEST_KILL set it trains to the end; the test build dies there. */
START_TEST(test_hooks_only_in_test_build) {
    const char *d = test_tmpdir("no-hooks");
    ck_assert_msg(sh("POSENC_TEST_KILL=ckpt.model@1 \"$P\" train configs/smoke.json "
                     KILL_SETS " --out %s/run --quiet", d) == 0, "%s", posenc_out);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "POSENC_TEST_KILL=ckpt.model@1 '%s' train configs/smoke.json " KILL_SETS
             " --out %s/test-build --quiet", posenc_fault_bin(), d);
    ck_assert_int_eq(run_captured(cmd), 128 + SIGKILL);
}
END_TEST

/* SIGKILL at chosen points inside checkpoint writes: after the optimizer
 * state is written but before the model, after the model but before the
 * optimizer state is renamed into place, with a half-written temporary file,
 * with a complete temporary file not yet renamed; the first of these before
 * any checkpoint exists. */
START_TEST(test_kill_inside_checkpoint_writes) {
    const char *d = test_tmpdir("kill-points");
    char ref[512], dir[512];
    snprintf(ref, sizeof ref, "%s/ref", d);
    snprintf(dir, sizeof dir, "%s/run", d);
    reference_run(ref);
    /* the K-th hit of a point counts within one process; each entry kills once */
    static char *const points[] = {
        "POSENC_TEST_KILL=st.partial@1", /* the first checkpoint's optim file, half written */
        "POSENC_TEST_KILL=ckpt.optim@2",  "POSENC_TEST_KILL=ckpt.model@1", "POSENC_TEST_KILL=st.rename@3",
        "POSENC_TEST_KILL=st.partial@4",  "POSENC_TEST_KILL=ckpt.model@3", "POSENC_TEST_KILL=st.rename@2",
        "POSENC_TEST_KILL=ckpt.optim@1",  "POSENC_TEST_KILL=st.partial@2",
    };
    int kills = 0;
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        pid_t pid = continue_run(dir, points[i]);
        int st;
        waitpid(pid, &st, 0);
        ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%s: the run was not killed (status %d)",
                      points[i], st);
        kills++;
        check_run_dir(dir);
    }
    pid_t pid = continue_run(dir, NULL);
    int st;
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "final resume failed (status %d)", st);
    check_run_dir(dir);
    expect_same_as_reference(ref, dir);
    fprintf(stderr, "kill test: %d kills at checkpoint-write points, result identical\n", kills);
}
END_TEST

/* Every file posenc writes goes through one atomic writer (core/fsutil.h):
 * SIGKILL with each file's temporary copy half written ("file.partial") and
 * complete but not renamed ("file.rename"), at every write of an evaluation
 * (provenance.json, eval.json, eval.csv, provenance.json again), must leave
 * each of eval.json and eval.csv either the old file, byte for byte, or the
 * complete new one: never a torn or empty file. The old files come from an
 * evaluation with another eval.seed in config.json, so old and new differ. */
START_TEST(test_kill_inside_file_writes) {
    const char *d = test_tmpdir("kill-files");
    char r[512];
    snprintf(r, sizeof r, "%s/run", d);
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s --quiet", r), 0);
    /* the new files: an uninterrupted evaluation; then the old ones back in place */
    ck_assert_int_eq(posenc("eval %s", r), 0);
    ck_assert_int_eq(sh("cd %s && cp eval.json ../new.json && cp eval.csv ../new.csv", r), 0);
    ck_assert_int_eq(sh("cd %s && cp config.json ../config.json && sed -i 's/\"seed\": 1234/\"seed\": 4321/' config.json",
                        r), 0);
    ck_assert_int_eq(posenc("eval %s", r), 0);
    ck_assert_int_eq(sh("cd %s && cp eval.json ../old.json && cp eval.csv ../old.csv && cp ../config.json .", r), 0);
    ck_assert_int_eq(sh("cmp -s %s/old.json %s/new.json", d, d), 1); /* they differ */
    int torn_seen = 0, kills = 0;
    static const char *const points[] = {"file.partial", "file.rename"};
    for (int p = 0; p < 2; p++)
        for (int k = 1; k <= 4; k++) {
            char env[64];
            snprintf(env, sizeof env, "POSENC_TEST_KILL=%s@%d", points[p], k);
            pid_t pid = spawn(0, env, "eval %s", r);
            int st;
            waitpid(pid, &st, 0);
            ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%s: eval was not killed (status %d)", env, st);
            kills++;
            static const char *const files[2] = {"json", "csv"};
            for (int f = 0; f < 2; f++) {
                int old = sh("cmp -s %s/eval.%s %s/old.%s", r, files[f], d, files[f]) == 0;
                int neu = sh("cmp -s %s/eval.%s %s/new.%s", r, files[f], d, files[f]) == 0;
                ck_assert_msg(old || neu, "%s: eval.%s is neither the old file nor the new one", env, files[f]);
            }
            /* a temporary copy of an evaluation file left by the kill: killed inside its write */
            torn_seen |= sh("ls %s | grep -q '^eval\\.\\(json\\|csv\\)\\.tmp\\.'", r) == 0;
            /* back to the old files for the next kill */
            ck_assert_int_eq(sh("cd %s && rm -f *.tmp.* && cp ../old.json eval.json && cp ../old.csv eval.csv", r), 0);
        }
    ck_assert_msg(torn_seen, "no kill landed inside the write of eval.json or eval.csv");
    ck_assert_int_eq(posenc("eval %s", r), 0);
    ck_assert_int_eq(sh("cmp %s/eval.json %s/new.json && cmp %s/eval.csv %s/new.csv", r, d, r, d), 0);
    fprintf(stderr, "file-write kill test: %d kills, every evaluation file old or new, never torn\n", kills);
}
END_TEST

/* SIGKILL at random moments (delays from a fixed-seed RNG), resume, repeat
 * until the run finishes. */
START_TEST(test_kill_at_random_moments) {
    const char *d = test_tmpdir("kill-random");
    char ref[512], dir[512];
    snprintf(ref, sizeof ref, "%s/ref", d);
    snprintf(dir, sizeof dir, "%s/run", d);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    reference_run(ref);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* delays up to a fifth of an uninterrupted run, plus 20 ms (past start-up) */
    long run_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    long span = run_us / 5 > 40000 ? run_us / 5 : 40000;
    Rng rng;
    rng_seed(&rng, 20261128);
    int kills = 0, attempts = 0;
    for (;; attempts++) {
        ck_assert_msg(attempts < 200, "the run did not finish after %d attempts", attempts);
        long delay = 20000 + (long)(rng_uniform(&rng) * span);
        if (kills >= 12) delay = 600L * 1000000L; /* enough: let it finish */
        pid_t pid = continue_run(dir, NULL);
        int killed = kill_after(pid, delay);
        check_run_dir(dir);
        if (!killed) break;
        kills++;
    }
    ck_assert_msg(kills > 0, "the run finished before the first kill: the test killed nothing");
    expect_same_as_reference(ref, dir);
    fprintf(stderr, "kill test: %d random kills (delays 20..%ld ms), result identical\n", kills,
            (20000 + span) / 1000);
}
END_TEST

/* The processes of session sid (pid, state) from /proc, zombies left out. */
static int session_procs(pid_t sid, pid_t *pids, char *states, int cap) {
    DIR *d = opendir("/proc");
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < cap;) {
        long pid = strtol(e->d_name, NULL, 10);
        if (pid <= 0) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *close_paren = strrchr(buf, ')');
        char state;
        long ppid, pgrp, session;
        if (close_paren && sscanf(close_paren + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &session) == 4 &&
            session == sid && state != 'Z' && state != 'X') {
            pids[n] = (pid_t)pid;
            states[n++] = state;
        }
    }
    closedir(d);
    return n;
}

/* The sweep `pid` leads its own session (spawn(1, ...)) and its jobs run with
 * POSENC_TEST_STOP set: the first job to reach that point freezes there. Wait
 * for it (up to 120 s), then SIGKILL the sweep and every process of its
 * session, as a power cut would, and wait until none is left. Returns 1 after
 * such a kill, 0 if the sweep finished (status 0) without any job reaching
 * the point; fails the test on any other exit. */
static int kill_sweep_at_stop_point(pid_t pid) {
    pid_t pids[256];
    char states[256];
    for (long waited = 0;; waited += 1000) {
        ck_assert_msg(waited < 120L * 1000000L, "no sweep job reached its stop point in 120 s");
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the sweep exited with status %d",
                          WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
            return 0;
        }
        int n = session_procs(pid, pids, states, 256), frozen = 0;
        for (int i = 0; i < n; i++) frozen |= states[i] == 'T' && pids[i] != pid;
        if (frozen) break;
        usleep(1000);
    }
    /* the sweep first stopped (no new jobs), its jobs killed while it is alive,
     * then the sweep: a stopped job whose parent died first would get SIGCONT
     * (its process group orphaned) and run on */
    kill(pid, SIGSTOP);
    for (int round = 0; round < 2000; round++) {
        int n = session_procs(pid, pids, states, 256), others = 0;
        for (int i = 0; i < n; i++)
            if (pids[i] != pid) kill(pids[i], SIGKILL), others++;
        if (others == 0) break;
        usleep(1000);
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the sweep was not killed (status %d)", st);
    ck_assert_msg(session_procs(pid, pids, states, 256) == 0, "processes of the killed sweep are still alive");
    return 1;
}

/* A sweep killed with all its jobs, re-run until it finishes: the same
 * results.csv as a sweep never interrupted, and every job's run directory
 * identical. Each kill lands at a chosen point of a job (POSENC_TEST_STOP
 * freezes the job there; then the sweep and all its jobs get SIGKILL), so
 * every attempt listed below kills, on any machine, however fast: the test
 * asserts it. The other job running at the time is killed wherever it is. */
START_TEST(test_kill_sweep) {
    const char *d = test_tmpdir("kill-sweep");
    ck_assert_int_eq(posenc("sweep tests/data/sweep_tiny.json --out %s/ref --jobs 2 --no-plots", d), 0);
    char out[512];
    snprintf(out, sizeof out, "%s/killed", d);
    /* 8 jobs x 3 checkpoints (steps 10, 20, 30); each checkpoint writes two
     * safetensors files. K counts within one job process. */
    static char *const points[] = {
        "POSENC_TEST_STOP=ckpt.model@1", /* the first checkpoint: model written, optimizer state not renamed */
        "POSENC_TEST_STOP=st.partial@3", /* the second checkpoint's optimizer file, half written */
        "POSENC_TEST_STOP=ckpt.optim@1", /* optimizer state written, model not yet */
        "POSENC_TEST_STOP=st.rename@2",  /* the first model file complete, not yet renamed */
        "POSENC_TEST_STOP=ckpt.model@2",
        "POSENC_TEST_STOP=st.partial@1",
    };
    const int npoints = (int)(sizeof points / sizeof points[0]);
    int kills = 0;
    for (int attempt = 0;; attempt++) {
        ck_assert_msg(attempt <= npoints, "the sweep did not finish after %d attempts", attempt);
        pid_t pid = spawn(1, attempt < npoints ? points[attempt] : NULL,
                          "sweep tests/data/sweep_tiny.json --out %s --jobs 2 --no-plots", out);
        int killed = kill_sweep_at_stop_point(pid);
        if (attempt < npoints)
            ck_assert_msg(killed, "attempt %d (%s): the sweep finished without being killed", attempt, points[attempt]);
        else
            ck_assert_msg(!killed, "the last, uninterrupted sweep was killed");
        if (!killed) break;
        kills++;
        for (int i = 0; i < 8; i++) {
            static const char *const all[] = {"copy.rope.s3",     "copy.rope.s4",     "copy.alibi.s3",
                                              "copy.alibi.s4",    "reverse.rope.s3",  "reverse.rope.s4",
                                              "reverse.alibi.s3", "reverse.alibi.s4"};
            char b[1024];
            snprintf(b, sizeof b, "%s/runs/%s", out, all[i]);
            check_run_dir(b);
        }
    }
    ck_assert_int_eq(kills, npoints);
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/ref", d);
    expect_same_file(a, out, "results.csv");
    const char *ids[] = {"copy.rope.s3", "reverse.alibi.s4"};
    for (int i = 0; i < 2; i++) {
        snprintf(a, sizeof a, "%s/ref/runs/%s", d, ids[i]);
        snprintf(b, sizeof b, "%s/runs/%s", out, ids[i]);
        check_run_dir(b);
        expect_same_as_reference(a, b);
    }
    fprintf(stderr, "kill test: sweep killed %d times (each at a chosen point of a job), results.csv identical\n",
            kills);
}
END_TEST

/* ---- write failures --------------------------------------------------- */

/* A checkpoint that cannot be written (ulimit -f: the file size limit makes
 * write(2) fail with EFBIG, as a full disk fails with ENOSPC) is an error
 * naming the file, exit status 1, and the previous checkpoint stays. */
START_TEST(test_write_failure_keeps_checkpoint) {
    const char *d = test_tmpdir("diskfull");
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s/run --stop-after 25 --quiet", d), 130);
    char model[512], saved[512];
    snprintf(model, sizeof model, "%s/run/model.safetensors", d);
    snprintf(saved, sizeof saved, "%s/saved.safetensors", d);
    ck_assert_int_eq(sh("cp %s %s", model, saved), 0);
    /* 40 KiB: the config and the metrics fit, a 56 KB model checkpoint does not */
    int rc = sh("ulimit -f 40; exec \"$P\" train --resume %s/run --quiet", d);
    ck_assert_msg(rc == 1, "exit status %d, expected 1; output:\n%s", rc, posenc_out);
    EXPECT_OUT("safetensors");
    EXPECT_OUT("File too large");
    ck_assert_int_eq(sh("cmp %s %s", model, saved), 0);
    char run[512];
    snprintf(run, sizeof run, "%s/run", d);
    check_run_dir(run);
    ck_assert_int_eq(sh("ls %s/run | grep -c tmp || true", d), 0);
    EXPECT_OUT("0");
    /* space again: the run resumes from the kept checkpoint */
    ck_assert_int_eq(posenc("train --resume %s/run --quiet", d), 0);
    check_run_dir(run);
}
END_TEST

/* ---- non-finite numbers ----------------------------------------------- */

/* lr = 1e30 makes the parameters ~1e30 after one AdamW step (its update is
 * ~lr whatever the gradient), so the next forward pass overflows: training
 * stops with status 3, a message naming the step and the quantity, the last
 * good checkpoint stays, and resuming with a sane --set train.lr works. */
START_TEST(test_nonfinite_stops_and_resumes) {
    const char *d = test_tmpdir("nan");
    char run[512];
    snprintf(run, sizeof run, "%s/run", d);
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s --stop-after 10 --quiet", run), 130);
    char model[1024];
    snprintf(model, sizeof model, "%s/model.safetensors", run);
    ck_assert_int_eq(sh("cp %s %s/saved", model, d), 0);
    int rc = posenc("train --resume %s --set train.lr=1e30 --set train.checkpoint_every=100 --quiet", run);
    ck_assert_msg(rc == 3, "exit status %d, expected 3:\n%s", rc, posenc_out);
    EXPECT_OUT("step 12: the loss is NaN");
    EXPECT_OUT("The last good checkpoint is kept");
    EXPECT_OUT("--set train.lr=");
    ck_assert_int_eq(sh("cmp %s %s/saved", model, d), 0);
    check_run_dir(run);
    ck_assert_int_eq(posenc("train --resume %s --set train.lr=3e-3 --quiet", run), 0);
    check_run_dir(run);
    char *json = NULL;
    long step = 0;
    ck_assert_msg(checkpoint_read_meta(model, &json, &step) == 0, "%s", core_error());
    free(json);
    ck_assert_int_eq(step, 50);
}
END_TEST

/* ---- resource limits -------------------------------------------------- */

/* Two processes cannot train into the same run directory. */
START_TEST(test_run_directory_lock) {
    const char *d = test_tmpdir("lock");
    char run[512];
    snprintf(run, sizeof run, "%s/run", d);
    ck_assert_int_eq(posenc("train configs/smoke.json --out %s --stop-after 5 --quiet", run), 130);
    /* a long resume holds the lock while we try: wait until it has taken it
     * (RUN/.lock holds the holder's PID, written once it holds the lock) */
    pid_t pid = spawn(0, NULL, "train --resume %s --set train.steps=100000 --quiet", run);
    char lock[600], want[32];
    snprintf(lock, sizeof lock, "%s/.lock", run);
    snprintf(want, sizeof want, "%d\n", (int)pid);
    for (;;) {
        char *held = file_read_all(lock, NULL);
        const int ours = held && strcmp(held, want) == 0;
        free(held);
        if (ours) break;
        int st;
        ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "the resume exited before taking the lock");
        usleep(2000);
    }
    int rc = posenc("train --resume %s --quiet", run);
    int rc2 = posenc("train configs/smoke.json --out %s --force --quiet", run);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_msg(rc == 1, "exit status %d, expected 1:\n%s", rc, posenc_out);
    ck_assert_int_eq(rc2, 1);
    EXPECT_OUT("is in use by another posenc process (PID");
    char pidtext[32];
    snprintf(pidtext, sizeof pidtext, "PID %d", (int)pid);
    EXPECT_OUT(pidtext);
    /* killed: the kernel released the lock (the resume above stored steps=100000 in config.json; train.steps
     * may not go below the checkpoint's step, so finish a few steps after it) */
    char model[1024], *json = NULL;
    long step = 0;
    snprintf(model, sizeof model, "%s/model.safetensors", run);
    ck_assert_msg(checkpoint_read_meta(model, &json, &step) == 0, "%s", core_error());
    free(json);
    ck_assert_int_eq(posenc("train --resume %s --set train.steps=%ld --quiet", run, step + 3), 0);
}
END_TEST

/* A config that cannot fit in memory is refused before allocating. */
START_TEST(test_memory_estimate_refuses) {
    const char *d = test_tmpdir("mem");
    int rc = posenc("train configs/smoke.json --out %s/run --set model.d_model=8192 --set model.n_layers=64 "
                    "--set model.n_heads=8 --quiet",
                    d);
    ck_assert_msg(rc == 1, "exit status %d, expected 1:\n%s", rc, posenc_out);
    EXPECT_OUT("does not fit in memory");
    EXPECT_OUT("available");
#ifndef __SANITIZE_ADDRESS__ /* ASan reserves terabytes of address space: no ulimit -v */
    /* the same through a memory limit (ulimit -v), with the smoke config's own size */
    rc = sh("ulimit -v 200000; exec \"$P\" train configs/smoke.json --out %s/run2 --set train.batch_size=4096 "
            "--set task.max_len=64 --quiet",
            d);
    ck_assert_msg(rc == 1, "exit status %d, expected 1:\n%s", rc, posenc_out);
    EXPECT_OUT("does not fit in memory");
#endif
}
END_TEST

static Suite *reliability_suite(void) {
    Suite *s = suite_create("reliability");
    TCase *k = tcase_create("kill");
    tcase_set_timeout(k, 600);
    tcase_add_test(k, test_hooks_only_in_test_build);
    tcase_add_test(k, test_kill_inside_checkpoint_writes);
    tcase_add_test(k, test_kill_at_random_moments);
    tcase_add_test(k, test_kill_sweep);
    suite_add_tcase(s, k);
    TCase *w = tcase_create("files");
    tcase_set_timeout(w, 300);
    tcase_add_test(w, test_kill_inside_file_writes);
    suite_add_tcase(s, w);
    TCase *f = tcase_create("failures");
    tcase_set_timeout(f, 300);
    tcase_add_test(f, test_write_failure_keeps_checkpoint);
    tcase_add_test(f, test_nonfinite_stops_and_resumes);
    tcase_add_test(f, test_run_directory_lock);
    tcase_add_test(f, test_memory_estimate_refuses);
    suite_add_tcase(s, f);
    return s;
}

int main(void) { return run_suite(reliability_suite()); }
