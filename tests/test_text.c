/* test_text.c — the text task: its file reader (data/corpus.h), the task
 * over it (data/task_text.c), its config keys, and train / eval / predict on
 * a small corpus (tests/data/text_tiny.txt, written for these tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/corpus.h"
#include "data/task.h"
#include "run/config.h"
#include "run/inspect.h"
#include "tests/testutil.h"

#define TINY "tests/data/text_tiny.txt"

/* corpus_parse of a literal: 0 or -1; on -1 the message must hold `want`. */
static int parse_lit(const char *data, size_t n, const char *want) {
    Corpus c;
    int rc = corpus_parse(&c, (const unsigned char *)data, n, "t.txt");
    if (rc == 0) {
        ck_assert_msg(!want, "accepted, expected an error with \"%s\"", want ? want : "");
        corpus_free(&c);
    } else {
        ck_assert_msg(want && strstr(core_error(), want), "error \"%s\", expected \"%s\"", core_error(),
                      want ? want : "(none)");
        ck_assert_ptr_null(c.bytes);
    }
    return rc;
}

/* 1 if ints a[0..n) equal bytes b[0..n) */
static int memcmp_ints(const int *a, const unsigned char *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* ---- the reader ----------------------------------------------------------- */

START_TEST(test_utf8_accepts) {
    parse_lit("ab", 2, NULL);
    parse_lit("caf\xc3\xa9\n", 6, NULL);                 /* U+00E9 */
    parse_lit("\xe2\x82\xac euro", 8, NULL);             /* U+20AC */
    parse_lit("\xf0\x9f\x98\x80!", 5, NULL);             /* U+1F600 */
    parse_lit("\xef\xbf\xbd\xf4\x8f\xbf\xbf", 7, NULL);  /* U+FFFD, U+10FFFF */
    parse_lit("\xed\x9f\xbf.", 4, NULL);                 /* U+D7FF, just below the surrogates */
    parse_lit("\t\r\n\x1b\x7f", 5, NULL);                /* controls other than NUL are text */
}
END_TEST

START_TEST(test_utf8_rejects) {
    /* each names the first bad byte, its offset, line and column */
    parse_lit("ab\xff", 3, "byte 0xff at offset 2 (line 1, column 3)");
    parse_lit("a\nb\x80", 4, "byte 0x80 at offset 3 (line 2, column 2)");     /* lone continuation */
    parse_lit("\xc3\xa9\xc0\xaf", 4, "byte 0xc0 at offset 2 (line 1, column 2)"); /* overlong '/' */
    parse_lit("x\xe0\x80\xaf", 4, "byte 0xe0 at offset 1");                    /* overlong 3-byte */
    parse_lit("x\xf0\x8f\xbf\xbf", 5, "byte 0xf0 at offset 1");                 /* overlong 4-byte */
    parse_lit("x\xed\xa0\x80", 4, "byte 0xed at offset 1");                     /* surrogate U+D800 */
    parse_lit("x\xf4\x90\x80\x80", 5, "byte 0xf4 at offset 1");                 /* above U+10FFFF */
    parse_lit("x\xf5\x80\x80\x80", 5, "byte 0xf5 at offset 1");
    parse_lit("abc\xe2\x82", 5, "byte 0xe2 at offset 3");                       /* cut at the end */
    parse_lit("a\xc3(", 3, "byte 0xc3 at offset 1");                            /* bad continuation */
    parse_lit("latin1 caf\xe9\n", 12, "not UTF-8");
    /* binary, empty, too short */
    parse_lit("ab\0cd", 5, "a binary file, not text: a NUL byte at offset 2 (line 1, column 3)");
    parse_lit("", 0, "t.txt: empty");
    parse_lit("a", 1, "1 byte");
}
END_TEST

START_TEST(test_split_and_hash) {
    Corpus c;
    const char *s = "0123456789abcdefghij"; /* 20 bytes: 2 held out */
    ck_assert_int_eq(corpus_parse(&c, (const unsigned char *)s, 20, "s"), 0);
    ck_assert_uint_eq(c.n, 20);
    ck_assert_uint_eq(c.train_n, 18);
    ck_assert_int_eq(memcmp(c.bytes, s, 20), 0);
    /* FNV-1a 64: the published test vectors ("" and "a") */
    ck_assert(corpus_hash((const unsigned char *)"", 0) == 0xcbf29ce484222325ull);
    ck_assert(corpus_hash((const unsigned char *)"a", 1) == 0xaf63dc4c8601ec8cull);
    char h[17];
    corpus_hash_text(0xaf63dc4c8601ec8cull, h);
    ck_assert_str_eq(h, "af63dc4c8601ec8c");
    corpus_free(&c);
    ck_assert_int_eq(corpus_parse(&c, (const unsigned char *)"ab", 2, "s"), 0); /* at least one held out */
    ck_assert_uint_eq(c.train_n, 1);
    corpus_free(&c);
}
END_TEST

START_TEST(test_load_bad_files) {
    const char *d = test_tmpdir("text_files");
    char p[512], cmd[1024];
    Corpus c;
    snprintf(p, sizeof p, "%s/missing.txt", d);
    ck_assert_int_eq(corpus_load(&c, p, 1000), -1);
    ck_assert_msg(strstr(core_error(), "missing.txt: cannot open: No such file"), "%s", core_error());
    snprintf(p, sizeof p, "%s/fifo.txt", d);
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    ck_assert_int_eq(corpus_load(&c, p, 1000), -1); /* does not hang on a FIFO without a writer */
    ck_assert_msg(strstr(core_error(), "fifo.txt: is a FIFO"), "%s", core_error());
    ck_assert_int_eq(corpus_load(&c, "/dev/zero", 1000), -1);
    ck_assert_msg(strstr(core_error(), "/dev/zero: is a character device"), "%s", core_error());
    ck_assert_int_eq(corpus_load(&c, d, 1000), -1);
    ck_assert_msg(strstr(core_error(), "is a directory"), "%s", core_error());
    ck_assert_int_eq(corpus_load(&c, TINY, 1000), -1); /* over the cap */
    ck_assert_msg(strstr(core_error(), "more than the 1000 bytes"), "%s", core_error());
    snprintf(p, sizeof p, "%s/empty.txt", d);
    snprintf(cmd, sizeof cmd, ": > %s", p);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(corpus_load(&c, p, 1000), -1);
    ck_assert_msg(strstr(core_error(), "empty.txt: empty"), "%s", core_error());
    ck_assert_int_eq(corpus_load(&c, TINY, 1 << 20), 0);
    ck_assert_uint_eq(c.n, 3707);
    corpus_free(&c);
}
END_TEST

/* ---- the task ------------------------------------------------------------- */

static const TaskSetting *setting(const char *name) { return task_setting_at(task_setting_find(name)); }

static TaskConfig text_cfg(const char *file, int min_len, int max_len) {
    TaskConfig c;
    task_config_default(&c);
    strcpy(c.name, "text");
    c.alphabet = 256;
    c.min_len = min_len;
    c.max_len = max_len;
    task_setting_set_text(&c, setting("file"), file);
    return c;
}

START_TEST(test_task_open) {
    const TaskOps *t = task_find("text");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->frame, TASK_FRAME_LM);
    TaskConfig c = text_cfg(TINY, 8, 64);
    ck_assert_int_eq(task_config_check(&c), 0);
    ck_assert_int_eq(t->room(&c, 0), 0); /* nothing open for this config yet */
    ck_assert_msg(task_open(t, &c, (const int[]){300}, 1) == 0, "%s", core_error());
    ck_assert_str_eq(task_setting_text(&c, setting("file_hash")), "918b31a7f0ef71b9"); /* recorded */
    ck_assert_int_eq(t->room(&c, 0), 3707 - 370);
    ck_assert_int_eq(t->room(&c, 1), 370);
    /* longer than a part */
    ck_assert_int_eq(task_open(t, &c, (const int[]){371}, 1), -1);
    ck_assert_msg(strstr(core_error(), "eval.lengths: 371 is longer than the held-out part of task.file "
                                       TINY " (370 tokens)"), "%s", core_error());
    TaskConfig big = c;
    big.max_len = 3338;
    ck_assert_int_eq(task_open(t, &big, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "task.max_len: 3338 is longer than the training part"), "%s", core_error());
    /* a recorded hash that differs: the file changed */
    TaskConfig other = c;
    task_setting_set_text(&other, setting("file_hash"), "0123456789abcdef");
    ck_assert_int_eq(task_open(t, &other, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "task.file_hash: " TINY " now has hash 918b31a7f0ef71b9, but the run "
                                       "recorded 0123456789abcdef"), "%s", core_error());
    ck_assert_int_eq(t->room(&other, 0), 0);
    /* errors name the key */
    TaskConfig missing = text_cfg("tests/data/no-such-file.txt", 8, 64);
    ck_assert_int_eq(task_open(t, &missing, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "task.file: tests/data/no-such-file.txt: cannot open"), "%s", core_error());
    TaskConfig capped = text_cfg(TINY, 8, 64);
    ck_assert_int_eq(task_setting_set(&capped, "max_bytes", 100), 0);
    ck_assert_int_eq(task_open(t, &capped, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "task.max_bytes = 100; raise it"), "%s", core_error());
}
END_TEST

START_TEST(test_task_batches) {
    const TaskOps *t = task_find("text");
    Corpus corpus;
    ck_assert_int_eq(corpus_load(&corpus, TINY, 1 << 20), 0);
    TaskConfig c = text_cfg(TINY, 5, 40);
    ck_assert_int_eq(task_open(t, &c, NULL, 0), 0);
    Batch b, b2;
    ck_assert_int_eq(batch_alloc(&b, 16, 400), 0);
    ck_assert_int_eq(batch_alloc(&b2, 16, 400), 0);
    Rng r, r2;
    rng_seed(&r, 3);
    r2 = r;
    for (int rep = 0; rep < 20; rep++) {
        ck_assert_int_eq(batch_sample_train(&b, t, &c, 16, &r), 0);
        ck_assert_int_eq(batch_sample_train(&b2, t, &c, 16, &r2), 0); /* same state, same batch */
        ck_assert_int_eq(memcmp(b.inputs, b2.inputs, sizeof(int) * 16 * (size_t)b.T), 0);
        for (int row = 0; row < 16; row++) {
            const int n = b.ns[row], *in = b.inputs + (size_t)row * b.T, *tg = b.targets + (size_t)row * b.T;
            ck_assert(n >= 5 && n <= 40);
            ck_assert_int_eq(in[0], task_bos(256));
            /* the targets are n consecutive bytes of the training part */
            int found = 0;
            for (size_t off = 0; off + (size_t)n <= corpus.train_n && !found; off++) {
                int ok = 1;
                for (int i = 0; i < n && ok; i++) ok = tg[i] == corpus.bytes[off + (size_t)i];
                found = ok;
            }
            ck_assert_msg(found, "training row %d is not a slice of the training part", row);
            for (int i = 1; i < n; i++) ck_assert_int_eq(in[i], tg[i - 1]);
        }
        /* evaluation rows: slices of the held-out part */
        ck_assert_int_eq(batch_sample_eval(&b, t, &c, 300, 4, &r), 0);
        ck_assert_int_eq(batch_sample_eval(&b2, t, &c, 300, 4, &r2), 0);
        ck_assert_int_eq(memcmp(b.inputs, b2.inputs, sizeof(int) * 4 * (size_t)b.T), 0);
        for (int row = 0; row < 4; row++) {
            const int *tg = b.targets + (size_t)row * b.T;
            int found = 0;
            for (size_t off = corpus.train_n; off + 300 <= corpus.n && !found; off++)
                found = memcmp_ints(tg, corpus.bytes + off, 300);
            ck_assert_msg(found, "evaluation row %d is not a slice of the held-out part", row);
        }
    }
    ck_assert_int_eq(batch_sample_eval(&b, t, &c, 371, 1, &r), -1);
    ck_assert_msg(strstr(core_error(), "371 exceeds the 370 tokens of the held-out part"), "%s", core_error());
    TaskConfig closed = c;
    task_setting_set_text(&closed, setting("file"), "tests/data/other.txt");
    ck_assert_int_eq(batch_sample_train(&b, t, &closed, 4, &r), -1);
    ck_assert_msg(strstr(core_error(), "is not open"), "%s", core_error());
    batch_free(&b);
    batch_free(&b2);
    corpus_free(&corpus);
}
END_TEST

/* ---- config keys ------------------------------------------------------------ */

START_TEST(test_config_keys) {
    RunConfig c;
    const char *ok[] = {"task.name=text", "task.file=" TINY};
    ck_assert_msg(config_from_string(&c, NULL, "t", ok, 2) == 0, "%s", core_error());
    ck_assert_int_eq(c.task.alphabet, 256);
    ck_assert_int_eq(c.model.V, 260);
    ck_assert_str_eq(task_setting_text(&c.task, setting("file")), TINY);
    ck_assert_int_eq(task_setting(&c.task, setting("max_bytes")), 64 << 20);
    char *json = config_to_json(&c);
    ck_assert_msg(strstr(json, "\"file\": \"" TINY "\""), "%s", json);
    RunConfig again;
    ck_assert_int_eq(config_from_string(&again, json, "round trip", NULL, 0), 0);
    ck_assert_int_eq(memcmp(&again, &c, sizeof c), 0);
    free(json);
    /* another task's config.json does not list the file keys */
    ck_assert_int_eq(config_from_string(&c, NULL, "t", NULL, 0), 0);
    json = config_to_json(&c);
    ck_assert_ptr_null(strstr(json, "\"file\""));
    ck_assert_ptr_null(strstr(json, "max_bytes"));
    free(json);

    struct {
        const char *sets[3];
        const char *want;
    } bad[] = {
        {{"task.name=text"}, "task.file: task text reads a file: name it"},
        {{"task.name=text", "task.file=x.txt", "task.alphabet=10"}, "task.alphabet: task text has a fixed alphabet of 256"},
        {{"task.file=x.txt"}, "task.file: applies only to task.name \"text\", \"jsonl\" (task.name is \"copy\")"},
        {{"task.max_bytes=5"}, "task.max_bytes: applies only to task.name \"text\""},
        {{"task.name=text", "task.file=x.txt", "task.max_bytes=0"}, "task.max_bytes: must be >= 1, got 0"},
        {{"task.name=text", "task.file=x.txt", "task.file_hash=XYZ"}, "task.file_hash: \"XYZ\" is not 16 lower-case hex"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int n = 0;
        while (n < 3 && bad[i].sets[n]) n++;
        ck_assert_int_eq(config_from_string(&c, NULL, "t", bad[i].sets, n), -1);
        ck_assert_msg(strstr(core_error(), bad[i].want), "case %zu: \"%s\", expected \"%s\"", i, core_error(),
                      bad[i].want);
    }
}
END_TEST

/* A spec's config leaves task.file_hash "" (the hash is recorded when a run is
 * prepared): it matches a run that recorded one, so a sweep re-run skips the run;
 * two recorded hashes that differ do not match. */
START_TEST(test_recorded_hash_matches) {
    RunConfig a, b;
    const char *sets[] = {"task.name=text", "task.file=" TINY};
    ck_assert_int_eq(config_from_string(&a, NULL, "a", sets, 2), 0);
    ck_assert_int_eq(config_from_string(&b, NULL, "b", sets, 2), 0);
    task_setting_set_text(&a.task, setting("file_hash"), "0123456789abcdef");
    char key[256], va[80], vb[80];
    ck_assert_int_eq(run_config_diff(&a, &b, 0, key, sizeof key, va, vb, sizeof va), 0);
    ck_assert_int_eq(run_config_diff(&b, &a, 1, key, sizeof key, va, vb, sizeof va), 0);
    task_setting_set_text(&b.task, setting("file_hash"), "fedcba9876543210");
    ck_assert_int_eq(run_config_diff(&a, &b, 0, key, sizeof key, va, vb, sizeof va), 1);
    ck_assert_str_eq(key, "task.file_hash");
    task_setting_set_text(&b.task, setting("file"), "other.txt"); /* the file itself is never filled in */
    task_setting_set_text(&b.task, setting("file_hash"), "");
    ck_assert_int_eq(run_config_diff(&a, &b, 0, key, sizeof key, va, vb, sizeof va), 1);
    ck_assert_str_eq(key, "task.file");
}
END_TEST

/* ---- the commands ----------------------------------------------------------- */

START_TEST(test_cli_train_eval_predict) {
    const char *d = test_tmpdir("text_cli");
    char corpus[512], run[512];
    snprintf(corpus, sizeof corpus, "%s/corpus.txt", d);
    snprintf(run, sizeof run, "%s/run", d);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp " TINY " %s", corpus);
    ck_assert_int_eq(system(cmd), 0);
    const char *sets = "--set task.name=text --set task.min_len=16 --set task.max_len=16 --set eval.lengths=16,64 "
                       "--set train.steps=4 --set train.warmup=1 --set train.batch_size=4 --set model.d_model=16 "
                       "--set model.n_layers=1 --set model.n_heads=2 --set eval.samples=4 --set train.eval_every=0 "
                       "--set model.pe=alibi --quiet";
    /* bad files: nothing is written */
    ck_assert_int_eq(posenc("train --out %s %s --set task.file=%s/none.txt", run, sets, d), 2);
    EXPECT_OUT("task.file: ");
    EXPECT_OUT("none.txt: cannot open");
    ck_assert_int_eq(posenc("train --out %s %s --set task.file=/dev/null", run, sets), 2);
    EXPECT_OUT("task.file: /dev/null: is a character device");
    struct stat st;
    ck_assert_int_ne(stat(run, &st), 0);
    ck_assert_int_eq(posenc("train --out %s %s --set task.file=%s", run, sets, corpus), 0);
    ck_assert_int_eq(posenc("eval %s", run), 0);
    EXPECT_OUT("task.file ");
    EXPECT_OUT("perplexity = exp(loss)");
    ck_assert_int_eq(posenc("predict %s 'The cat' --generate 5", run), 0);
    EXPECT_OUT("text (7 bytes): \"The cat\"");
    EXPECT_OUT("greedy continuation (");
    ck_assert_int_eq(posenc("predict %s \"$(printf 'a\\033[2J')\" --generate 0", run), 0);
    EXPECT_OUT("\"a\\x1b[2J\""); /* a control byte is shown escaped, never sent to the terminal */
    /* the file changes: eval refuses (exit 2) and names both hashes */
    snprintf(cmd, sizeof cmd, "echo more >> %s", corpus);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(posenc("eval %s", run), 2);
    EXPECT_OUT("task.file_hash: ");
    EXPECT_OUT("has changed since the run was trained");
}
END_TEST

static Suite *text_suite(void) {
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("text");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_utf8_accepts);
    tcase_add_test(tc, test_utf8_rejects);
    tcase_add_test(tc, test_split_and_hash);
    tcase_add_test(tc, test_load_bad_files);
    tcase_add_test(tc, test_task_open);
    tcase_add_test(tc, test_task_batches);
    tcase_add_test(tc, test_config_keys);
    tcase_add_test(tc, test_recorded_hash_matches);
    tcase_add_test(tc, test_cli_train_eval_predict);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(text_suite()); }
