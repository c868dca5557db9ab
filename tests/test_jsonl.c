/* test_jsonl.c — the jsonl task: its file reader (data/jsonl.h), the task
 * over it (data/task_jsonl.c), its config keys, and train / eval / predict on
 * a small file written by the tests (reverse over 6 symbols). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/jsonl.h"
#include "data/task.h"
#include "run/config.h"
#include "tests/testutil.h"

static const JsonlRules RULES = {10, 1, 0, TASK_MAX_EVAL_LEN}; /* A = 10, m = n */

/* jsonl_parse of a literal with `rules`: 0 or -1; on -1 the message must hold `want`. */
static int parse_with(const char *data, const JsonlRules *rules, const char *want) {
    JsonlSet s;
    int rc = jsonl_parse(&s, data, strlen(data), "t.jsonl", rules);
    if (rc == 0) {
        ck_assert_msg(!want, "accepted, expected an error with \"%s\"", want ? want : "");
        jsonl_free(&s);
    } else {
        ck_assert_msg(want && strstr(core_error(), want), "error \"%s\", expected \"%s\"", core_error(),
                      want ? want : "(none)");
        ck_assert_ptr_null(s.ex);
        ck_assert_ptr_null(s.tokens);
    }
    return rc;
}

static int parse_lit(const char *data, const char *want) { return parse_with(data, &RULES, want); }

/* ---- the reader ----------------------------------------------------------- */

START_TEST(test_reader_accepts) {
    JsonlSet s;
    const char *text = "{\"input\": [3, 1, 4], \"target\": [4, 1, 3]}\n"
                       "{\"target\": [2.0], \"input\": [2]}\r\n" /* keys in any order; 2.0 is 2; CRLF */
                       "{\"input\": [3, 1, 4], \"target\": [4, 1, 3]}\n" /* a repeated line: kept */
                       "  {\"input\":[9,9,0],\"target\":[0,9,9]}  \n"
                       "{\"input\": [5], \"target\": [5]}"; /* no final newline */
    ck_assert_msg(jsonl_parse(&s, text, strlen(text), "t.jsonl", &RULES) == 0, "%s", core_error());
    ck_assert_int_eq(s.count, 5);
    ck_assert_int_eq(s.max_n, 3);
    ck_assert_int_eq(jsonl_count(&s, 1), 2);
    ck_assert_int_eq(jsonl_count(&s, 2), 0);
    ck_assert_int_eq(jsonl_count(&s, 3), 3);
    ck_assert_int_eq(jsonl_count(&s, 4), 0);
    /* by length, file order within a length: lines 1, 3, 4 */
    ck_assert_int_eq(s.ex[s.by_len[s.len_start[3]]].line, 1);
    ck_assert_int_eq(s.ex[s.by_len[s.len_start[3] + 1]].line, 3);
    ck_assert_int_eq(s.ex[s.by_len[s.len_start[3] + 2]].line, 4);
    const int k = jsonl_find(&s, (const int[]){9, 9, 0}, 3);
    ck_assert_int_ge(k, 0);
    ck_assert_int_eq(s.ex[k].line, 4);
    ck_assert_int_eq(s.tokens[s.ex[k].y], 0);
    ck_assert_int_eq(s.tokens[s.ex[k].y + 2], 9);
    ck_assert_int_eq(s.tokens[s.ex[jsonl_find(&s, (const int[]){2}, 1)].y], 2);
    ck_assert_int_eq(jsonl_find(&s, (const int[]){9, 9, 1}, 3), -1);
    ck_assert_int_eq(jsonl_find(&s, (const int[]){9, 9}, 2), -1);
    char buf[64];
    jsonl_lengths_text(&s, buf, sizeof buf);
    ck_assert_str_eq(buf, "1 (2), 3 (3)");
    jsonl_free(&s);
    /* the length rule: m = 2n + 1 (copy_twice-like), and a class label: m = 1 */
    parse_with("{\"input\": [1, 2], \"target\": [1, 2, 0, 1, 2]}", &(JsonlRules){3, 2, 1, 100}, NULL);
    parse_with("{\"input\": [1, 2, 2], \"target\": [1]}\n{\"input\": [1], \"target\": [0]}", &(JsonlRules){3, 0, 1, 100},
               NULL);
}
END_TEST

START_TEST(test_reader_rejects) {
    /* each names the file, the line and what is wrong */
    parse_lit("", "t.jsonl: empty");
    parse_lit("{\"input\": [1], \"target\": [1]}\n\n", "t.jsonl: line 2: blank");
    parse_lit("{\"input\": [1], \"target\": [1]}\n  \r\n{}", "t.jsonl: line 2: blank");
    {
        const char nul[] = "{\"input\": [1], \"target\": [1]}\n{\"input\": [1\0], \"target\": [1]}";
        JsonlSet s;
        ck_assert_int_eq(jsonl_parse(&s, nul, sizeof nul - 1, "t.jsonl", &RULES), -1);
        ck_assert_msg(strstr(core_error(), "t.jsonl: line 2: a NUL byte at column 13"), "%s", core_error());
    }
    parse_lit("{\"input\": [1, ], \"target\": [1]}", "t.jsonl: line 1: invalid JSON at column");
    parse_lit("{\"input\": [1], \"target\": [1]}\n{\"input\": [1], \"target\": [1]", "line 2: invalid JSON");
    parse_lit("{\"input\": [1], \"target\": [1]} {}", "line 1: invalid JSON"); /* two values on a line */
    parse_lit("[1, 2]", "line 1: expected an object {\"input\": [...], \"target\": [...]}, got an array");
    parse_lit("{\"input\": [1], \"target\": [1], \"note\": 1}", "line 1: unknown key \"note\"");
    parse_lit("{\"input\": [1], \"input\": [2], \"target\": [1]}", "line 1: key \"input\" given twice");
    parse_lit("{\"input\": [1]}", "line 1: no \"target\" key");
    parse_lit("{\"target\": [1]}", "line 1: no \"input\" key");
    parse_lit("{\"input\": \"abc\", \"target\": [1]}", "line 1: \"input\" must be an array of token ids, got a string");
    parse_lit("{\"input\": [1], \"target\": 1}", "line 1: \"target\" must be an array of token ids, got a number");
    parse_lit("{\"input\": [], \"target\": []}", "line 1: \"input\" is empty");
    parse_with("{\"input\": [1], \"target\": []}", &(JsonlRules){10, 0, 0, 100}, "line 1: \"target\" is empty");
    parse_lit("{\"input\": [1, 10], \"target\": [1, 1]}",
              "line 1: \"input\"[1]: a token id must be an integer in 0..9 (task.alphabet 10), got 10");
    parse_lit("{\"input\": [1], \"target\": [-1]}", "\"target\"[0]: a token id must be an integer in 0..9");
    parse_lit("{\"input\": [1.5], \"target\": [1]}", "\"input\"[0]: a token id must be an integer in 0..9 (task.alphabet "
                                                   "10), got 1.5");
    parse_lit("{\"input\": [[1]], \"target\": [1]}", "\"input\"[0]: a token must be an integer id in 0..9 "
                                                   "(task.alphabet 10) or a symbol as a string, got an array");
    parse_lit("{\"input\": [1, 2], \"target\": [1]}",
              "line 1: \"target\" has 1 tokens, but an input of 2 tokens needs 2 (task.target_slope 1 * 2 + "
              "task.target_offset 0)");
    parse_with("{\"input\": [1, 2, 3], \"target\": [1, 2, 3]}", &(JsonlRules){10, 1, 0, 2},
               "line 1: \"input\" has 3 tokens, more than 2");
    parse_lit("{\"input\": [1, 2], \"target\": [2, 1]}\n{\"input\": [3], \"target\": [3]}\n"
              "{\"input\": [1, 2], \"target\": [1, 2]}",
              "t.jsonl: line 3: the same \"input\" as line 1 with another \"target\"");
    /* a line over the cap */
    const size_t big = JSONL_MAX_LINE_BYTES + 16;
    char *line = malloc(big + 1);
    memset(line, ' ', big);
    line[big] = '\0';
    parse_lit(line, "t.jsonl: line 1: longer than the 1048576 bytes a line may have");
    free(line);
}
END_TEST

/* Symbols as strings: the distinct ones in byte order are the ids. */
START_TEST(test_reader_strings) {
    JsonlSet s;
    const char *text = "{\"input\": [\"b\", \"a\"], \"target\": [\"a\", \"b\"]}\n"
                       "{\"input\": [\"(\", \"\u00e9t\u00e9\"], \"target\": [\"\u00e9t\u00e9\", \"(\"]}\n";
    ck_assert_msg(jsonl_parse(&s, text, strlen(text), "t.jsonl", &(JsonlRules){4, 1, 0, 100}) == 0, "%s", core_error());
    ck_assert_int_eq(s.num_symbols, 4);
    ck_assert_str_eq(s.symbols[0], "(");
    ck_assert_str_eq(s.symbols[1], "a");
    ck_assert_str_eq(s.symbols[2], "b");
    ck_assert_str_eq(s.symbols[3], "\xc3\xa9t\xc3\xa9"); /* UTF-8 sorts after ASCII */
    ck_assert_int_eq(s.tokens[s.ex[0].x], 2);              /* "b" */
    ck_assert_int_eq(s.tokens[s.ex[0].x + 1], 1);          /* "a" */
    ck_assert_int_ge(jsonl_find(&s, (const int[]){0, 3}, 2), 0);
    jsonl_free(&s);
    const JsonlRules r3 = {3, 1, 0, 100};
    parse_with("{\"input\": [\"a\"], \"target\": [\"b\"]}\n{\"input\": [\"c\"], \"target\": [\"d\"]}", &r3,
               "line 2: \"target\"[0]: \"d\" is symbol 4 of the file, more than task.alphabet 3: raise it");
    parse_with("{\"input\": [\"a\"], \"target\": [1]}", &r3,
               "line 1: \"target\"[0]: a token id, but line 1 gives symbols as strings: a file gives all its tokens one way");
    parse_with("{\"input\": [1], \"target\": [1]}\n{\"input\": [\"a\"], \"target\": [\"a\"]}", &r3,
               "line 2: \"input\"[0]: a string, but line 1 gives token ids");
    parse_with("{\"input\": [\"a b\"], \"target\": [\"a\"]}", &r3,
               "line 1: \"input\"[0]: \"a b\" is not a symbol: 1..32 bytes of UTF-8, no space or control character");
    parse_with("{\"input\": [\"\"], \"target\": [\"a\"]}", &r3, "\"\" is not a symbol");
    parse_with("{\"input\": [\"a\\u0000b\"], \"target\": [\"a\"]}", &r3,
               "line 1: a NUL character (\\u0000) at column 14"); /* cJSON would read "a" */
    parse_with("{\"input\": [\"a\\\\u0000b\"], \"target\": [\"a\"]}", &r3, NULL); /* a backslash, then text */
    parse_with("{\"input\": [\"a\\u001b[2J\"], \"target\": [\"a\"]}", &r3, "\"a\\x1b[2J\" is not a symbol");
    parse_with("{\"input\": [\"\xff\"], \"target\": [\"a\"]}", &r3, "\"\\xff\" is not a symbol");
    parse_with("{\"input\": [\"0123456789012345678901234567890123\"], \"target\": [\"a\"]}", &r3,
               "\"01234567890123456789012345678901...\" is not a symbol");
    parse_with("{\"input\": [true], \"target\": [\"a\"]}", &r3,
               "\"input\"[0]: a token must be an integer id in 0..2 (task.alphabet 3) or a symbol as a string, got a "
               "boolean");
}
END_TEST

START_TEST(test_load_bad_files) {
    const char *d = test_tmpdir("jsonl_files");
    char p[512];
    JsonlSet s;
    snprintf(p, sizeof p, "%s/missing.jsonl", d);
    ck_assert_int_eq(jsonl_load(&s, p, 1000, &RULES), -1);
    ck_assert_msg(strstr(core_error(), "missing.jsonl: cannot open: No such file"), "%s", core_error());
    snprintf(p, sizeof p, "%s/fifo.jsonl", d);
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    ck_assert_int_eq(jsonl_load(&s, p, 1000, &RULES), -1); /* does not hang on a FIFO without a writer */
    ck_assert_msg(strstr(core_error(), "fifo.jsonl: is a FIFO"), "%s", core_error());
    ck_assert_int_eq(jsonl_load(&s, "/dev/zero", 1000, &RULES), -1);
    ck_assert_msg(strstr(core_error(), "/dev/zero: is a character device"), "%s", core_error());
    ck_assert_int_eq(jsonl_load(&s, d, 1000, &RULES), -1);
    ck_assert_msg(strstr(core_error(), "is a directory"), "%s", core_error());
    ck_assert_int_eq(jsonl_load(&s, "examples/cumsum.jsonl", 1000, &RULES), -1); /* over the cap */
    ck_assert_msg(strstr(core_error(), "more than the 1000 bytes"), "%s", core_error());
    ck_assert_int_eq(shell_run(": > %s/empty.jsonl", d), 0);
    snprintf(p, sizeof p, "%s/empty.jsonl", d);
    ck_assert_int_eq(jsonl_load(&s, p, 1000, &RULES), -1);
    ck_assert_msg(strstr(core_error(), "empty.jsonl: empty"), "%s", core_error());
    /* the example file: running sums mod 10 */
    ck_assert_msg(jsonl_load(&s, "examples/cumsum.jsonl", 1 << 20, &RULES) == 0, "%s", core_error());
    ck_assert_int_eq(s.count, 410);
    ck_assert_int_eq(jsonl_count(&s, 1), 10);
    ck_assert_int_eq(jsonl_count(&s, 32), 32);
    for (int k = 0; k < s.count; k++) {
        int sum = 0;
        for (int i = 0; i < s.ex[k].n; i++) {
            sum = (sum + s.tokens[s.ex[k].x + (size_t)i]) % 10;
            ck_assert_int_eq(s.tokens[s.ex[k].y + (size_t)i], sum);
        }
    }
    jsonl_free(&s);
}
END_TEST

/* ---- the task ------------------------------------------------------------- */

static const TaskSetting *setting(const char *name) { return task_setting_at(task_setting_find(name)); }

/* A reverse task over 6 symbols: every input of lengths 1..3 (6 + 36 + 216
 * lines), 4 inputs of length 6 and 2 of length 8, into dir/name. */
static void write_reverse(const char *dir, const char *name, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int n = 1; n <= 3; n++) {
        int total = 1;
        for (int i = 0; i < n; i++) total *= 6;
        for (int code = 0; code < total; code++) {
            int x[3];
            for (int i = 0, c = code; i < n; i++, c /= 6) x[i] = c % 6;
            fprintf(f, "{\"input\": [");
            for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", x[i]);
            fprintf(f, "], \"target\": [");
            for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", x[n - 1 - i]);
            fprintf(f, "]}\n");
        }
    }
    fprintf(f, "{\"input\": [0, 1, 2, 3, 4, 5], \"target\": [5, 4, 3, 2, 1, 0]}\n"
               "{\"input\": [5, 5, 0, 0, 1, 2], \"target\": [2, 1, 0, 0, 5, 5]}\n"
               "{\"input\": [1, 1, 1, 1, 1, 2], \"target\": [2, 1, 1, 1, 1, 1]}\n"
               "{\"input\": [3, 0, 3, 0, 3, 0], \"target\": [0, 3, 0, 3, 0, 3]}\n"
               "{\"input\": [0, 1, 2, 3, 4, 5, 0, 1], \"target\": [1, 0, 5, 4, 3, 2, 1, 0]}\n"
               "{\"input\": [2, 2, 2, 2, 4, 4, 4, 4], \"target\": [4, 4, 4, 4, 2, 2, 2, 2]}\n");
    ck_assert_int_eq(fclose(f), 0);
}

static TaskConfig jsonl_cfg(const char *file, int A, int min_len, int max_len) {
    TaskConfig c;
    task_config_default(&c);
    strcpy(c.name, "jsonl");
    c.alphabet = A;
    c.min_len = min_len;
    c.max_len = max_len;
    task_setting_set_text(&c, setting("file"), file);
    return c;
}

START_TEST(test_task_open) {
    const TaskOps *t = task_find("jsonl");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->frame, TASK_FRAME_ANSWER);
    char path[512];
    write_reverse(test_tmpdir("jsonl_open"), "rev.jsonl", path, sizeof path);
    TaskConfig c = jsonl_cfg(path, 6, 1, 3);
    ck_assert_msg(task_open(t, &c, (const int[]){2, 6, 8}, 3) == 0, "%s", core_error());
    const char *hash = task_setting_text(&c, setting("file_hash"));
    ck_assert_int_eq(strlen(hash), 16); /* recorded */
    char what[256];
    t->describe(&c, what, sizeof what);
    ck_assert_msg(strstr(what, "264 examples; by input length: 1 (6), 2 (36), 3 (216), 6 (4), 8 (2)"), "%s", what);
    /* an evaluation length without examples, a training length without examples */
    ck_assert_int_eq(task_open(t, &c, (const int[]){6, 7}, 2), -1);
    ck_assert_msg(strstr(core_error(), "eval.lengths: task.file ") && strstr(core_error(), "has no example with an input "
                                                                               "of 7 tokens"), "%s", core_error());
    TaskConfig gap = jsonl_cfg(path, 6, 4, 5);
    ck_assert_int_eq(task_open(t, &gap, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "task.min_len, task.max_len: ") &&
                  strstr(core_error(), "has no example with an input of 4..5 tokens to train on"), "%s", core_error());
    /* another recorded hash: the file changed */
    TaskConfig other = c;
    task_setting_set_text(&other, setting("file_hash"), "0123456789abcdef");
    ck_assert_int_eq(task_open(t, &other, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "task.file_hash: ") && strstr(core_error(), "has changed since the run was trained"),
                  "%s", core_error());
    /* the alphabet is part of the rules: the file's 5 is out of range for A = 5 */
    TaskConfig small = jsonl_cfg(path, 5, 1, 3);
    ck_assert_int_eq(task_open(t, &small, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "task.file: ") && strstr(core_error(), "rev.jsonl: line 6: \"input\"[0]: a token "
                                                                             "id must be an integer in 0..4"),
                  "%s", core_error());
    /* the length rule too: m = n + 1 fits no line */
    TaskConfig longer = jsonl_cfg(path, 6, 1, 3);
    ck_assert_int_eq(task_setting_set(&longer, "target_offset", 1), 0);
    ck_assert_int_eq(task_open(t, &longer, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "rev.jsonl: line 1: \"target\" has 1 tokens, but an input of 1 tokens needs 2"),
                  "%s", core_error());
    /* a user's problem: one of the file's inputs, or refused */
    ck_assert_int_eq(task_open_problem(t, &c, (const int[]){2, 2, 2, 2, 4, 4, 4, 4}, 8), 0);
    ck_assert_int_eq(task_open_problem(t, &c, (const int[]){2, 2, 2, 2, 4, 4, 4, 5}, 8), -1);
    ck_assert_msg(strstr(core_error(), "is not an input of task.file "), "%s", core_error());
    /* a missing file */
    TaskConfig missing = jsonl_cfg("no/such.jsonl", 6, 1, 3);
    ck_assert_int_eq(task_open(t, &missing, NULL, 0), -1);
    ck_assert_msg(strstr(core_error(), "task.file: no/such.jsonl: cannot open"), "%s", core_error());
}
END_TEST

/* The target of input x (n tokens) in the file, found by a plain scan (not
 * the task's hash): 1 and y filled, or 0. */
static int scan_target(const JsonlSet *s, const int *x, int n, int *y) {
    for (int k = 0; k < s->count; k++) {
        const JsonlExample *e = &s->ex[k];
        if (e->n != n || memcmp(s->tokens + e->x, x, (size_t)n * sizeof *x) != 0) continue;
        memcpy(y, s->tokens + e->y, (size_t)e->m * sizeof *y);
        return 1;
    }
    return 0;
}

START_TEST(test_task_batches) {
    const TaskOps *t = task_find("jsonl");
    char path[512];
    write_reverse(test_tmpdir("jsonl_batches"), "rev.jsonl", path, sizeof path);
    TaskConfig c = jsonl_cfg(path, 6, 1, 3);
    ck_assert_int_eq(task_open(t, &c, (const int[]){6, 8}, 2), 0);
    JsonlSet file;
    ck_assert_int_eq(jsonl_load(&file, path, 1 << 20, &(JsonlRules){6, 1, 0, TASK_MAX_EVAL_LEN}), 0);
    Batch b, b2;
    ck_assert_int_eq(batch_alloc(&b, 16, 24), 0);
    ck_assert_int_eq(batch_alloc(&b2, 16, 24), 0);
    Rng r, r2;
    rng_seed(&r, 5);
    r2 = r;
    int seen[4] = {0};
    for (int rep = 0; rep < 30; rep++) {
        ck_assert_int_eq(batch_sample_train(&b, t, &c, 16, &r), 0);
        ck_assert_int_eq(batch_sample_train(&b2, t, &c, 16, &r2), 0); /* same state, same batch */
        ck_assert_int_eq(b.T, b2.T);
        ck_assert_int_eq(memcmp(b.inputs, b2.inputs, sizeof(int) * 16 * (size_t)b.T), 0);
        for (int row = 0; row < 16; row++) {
            const int n = b.ns[row], *in = b.inputs + (size_t)row * b.T, *tg = b.targets + (size_t)row * b.T;
            ck_assert(n >= 1 && n <= 3);
            seen[n]++;
            ck_assert_int_eq(b.lens[row], 2 * n + 2);
            ck_assert_int_eq(in[n + 1], task_sep(6));
            int want[8];
            ck_assert_msg(scan_target(&file, in + 1, n, want), "row %d: its input is not one of the file's", row);
            for (int i = 0; i < n; i++) {
                ck_assert_int_eq(in[n + 2 + i], want[i]);  /* the file's target, teacher-forced */
                ck_assert_int_eq(tg[n + 1 + i], want[i]);  /* and predicted */
            }
            ck_assert_int_eq(tg[2 * n + 1], task_eos(6));
        }
        /* evaluation at 6 and 8: the file's lines of that length */
        for (int k = 0; k < 2; k++) {
            const int n = k ? 8 : 6;
            ck_assert_int_eq(batch_sample_eval(&b, t, &c, n, 5, &r), 0);
            ck_assert_int_eq(batch_sample_eval(&b2, t, &c, n, 5, &r2), 0);
            ck_assert_int_eq(memcmp(b.inputs, b2.inputs, sizeof(int) * 5 * (size_t)b.T), 0);
            for (int row = 0; row < 5; row++) {
                const int *in = b.inputs + (size_t)row * b.T;
                int want[8];
                ck_assert(scan_target(&file, in + 1, n, want));
                ck_assert_int_eq(memcmp(in + n + 2, want, sizeof(int) * (size_t)n), 0);
            }
        }
    }
    ck_assert(seen[1] > 0 && seen[2] > 0 && seen[3] > 0); /* every training length drawn */
    /* a training range with gaps (the file has 1, 2, 3, 6, 8 of 1..8): only the lengths it has, each of them */
    TaskConfig gaps = jsonl_cfg(path, 6, 1, 8);
    ck_assert_int_eq(task_open(t, &gaps, NULL, 0), 0);
    Batch wide;
    ck_assert_int_eq(batch_alloc(&wide, 16, 24), 0);
    int drawn[9] = {0};
    for (int rep = 0; rep < 40; rep++) {
        ck_assert_msg(batch_sample_train(&wide, t, &gaps, 16, &r) == 0, "%s", core_error());
        for (int row = 0; row < 16; row++) drawn[wide.ns[row]]++;
    }
    for (int n = 1; n <= 8; n++)
        ck_assert_msg((drawn[n] > 0) == (n <= 3 || n == 6 || n == 8), "length %d drawn %d times", n, drawn[n]);
    batch_free(&wide);
    /* a length without examples, and a config whose file is not the one open */
    ck_assert_int_eq(batch_sample_eval(&b, t, &c, 5, 2, &r), -1);
    ck_assert_msg(strstr(core_error(), "evaluation length 5: the task's file has no example of that length"), "%s",
                  core_error());
    TaskConfig closed = c;
    task_setting_set_text(&closed, setting("file"), "other.jsonl");
    ck_assert_int_eq(batch_sample_train(&b, t, &closed, 4, &r), -1);
    ck_assert_msg(strstr(core_error(), "is not open"), "%s", core_error());
    batch_free(&b);
    batch_free(&b2);
    jsonl_free(&file);
}
END_TEST

/* ---- config keys ------------------------------------------------------------ */

START_TEST(test_config_keys) {
    RunConfig c;
    /* sized from the length rule alone: the file is not read (it need not exist yet) */
    const char *ok[] = {"task.name=jsonl", "task.file=nowhere.jsonl", "task.max_len=8", "task.target_slope=2",
                        "task.target_offset=1", "eval.lengths=8,32"};
    ck_assert_msg(config_from_string(&c, NULL, "t", ok, 6) == 0, "%s", core_error());
    ck_assert_int_eq(c.model.P, 32 + 2 * 32 + 1 + 2); /* n + m + 2 at n = 32 */
    ck_assert_int_eq(c.task.alphabet, 10);
    char *json = config_to_json(&c);
    ck_assert_msg(strstr(json, "\"target_slope\": 2") && strstr(json, "\"file\": \"nowhere.jsonl\""), "%s", json);
    RunConfig again;
    ck_assert_int_eq(config_from_string(&again, json, "round trip", NULL, 0), 0);
    ck_assert_int_eq(memcmp(&again, &c, sizeof c), 0);
    free(json);
    ck_assert_int_eq(config_from_string(&c, NULL, "t", NULL, 0), 0); /* another task's config.json leaves them out */
    json = config_to_json(&c);
    ck_assert_ptr_null(strstr(json, "target_slope"));
    free(json);

    struct {
        const char *sets[3];
        const char *want;
    } bad[] = {
        {{"task.name=jsonl"}, "task.file: task jsonl reads a file: name it (a JSON Lines file"},
        {{"task.target_slope=2"}, "task.target_slope: applies only to task.name \"jsonl\" (task.name is \"copy\")"},
        {{"task.name=jsonl", "task.file=x.jsonl", "task.target_offset=-1"},
         "task.target_offset: the target of an input of task.min_len = 1 tokens would have 1 * 1 + -1 = 0 tokens"},
        {{"task.name=jsonl", "task.file=x.jsonl", "task.target_slope=65"}, "task.target_slope: must be in 0..64, got 65"},
        {{"task.name=jsonl", "task.file=x.jsonl", "task.file_hash=XYZ"}, "task.file_hash: \"XYZ\" is not 16 lower-case"},
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

/* ---- the commands ----------------------------------------------------------- */

START_TEST(test_cli_train_eval_predict) {
    const char *d = test_tmpdir("jsonl_cli");
    char file[512], run[600], run2[600];
    write_reverse(d, "rev.jsonl", file, sizeof file);
    snprintf(run, sizeof run, "%s/run", d);
    snprintf(run2, sizeof run2, "%s/run2", d);
    const char *sets = "--set task.name=jsonl --set task.alphabet=6 --set task.min_len=1 --set task.max_len=3 "
                       "--set eval.lengths=3,6,8 --set train.steps=4 --set train.warmup=1 --set train.batch_size=4 "
                       "--set model.d_model=16 --set model.n_layers=1 --set model.n_heads=2 --set eval.samples=4 "
                       "--set train.eval_every=0 --set model.pe=alibi --quiet";
    /* bad files: nothing is written */
    ck_assert_int_eq(posenc("train --out %s %s --set task.file=%s/none.jsonl", run, sets, d), 2);
    EXPECT_OUT("task.file: ");
    EXPECT_OUT("none.jsonl: cannot open");
    ck_assert_int_eq(posenc("train --out %s %s --set task.file=%s --set eval.lengths=3,7", run, sets, file), 2);
    EXPECT_OUT("eval.lengths: task.file ");
    EXPECT_OUT("has no example with an input of 7 tokens");
    ck_assert_int_eq(shell_run("printf '{\"input\": [1], \"target\": [1]}\\n{\"input\": [1, 2]}\\n' > %s/bad.jsonl", d), 0);
    ck_assert_int_eq(posenc("train --out %s %s --set task.file=%s/bad.jsonl", run, sets, d), 2);
    EXPECT_OUT("bad.jsonl: line 2: no \"target\" key");
    ck_assert(!path_present("%s", run));
    /* a tiny file trains and evaluates end to end */
    ck_assert_int_eq(posenc("train --out %s %s --set task.file=%s", run, sets, file), 0);
    char *cfg = file_text("%s/config.json", run);
    ck_assert_msg(strstr(cfg, "\"file_hash\": \""), "%s", cfg); /* recorded */
    free(cfg);
    ck_assert_int_eq(posenc("eval %s", run), 0);
    EXPECT_OUT("264 examples; by input length: 1 (6), 2 (36), 3 (216), 6 (4), 8 (2)");
    EXPECT_OUT("     8         4");
    /* the same seed, the same run: identical metrics */
    ck_assert_int_eq(posenc("train --out %s %s --set task.file=%s", run2, sets, file), 0);
    char *m1 = metrics_without_timing(run), *m2 = metrics_without_timing(run2);
    ck_assert_str_eq(m1, m2);
    free(m1);
    free(m2);
    ck_assert_int_eq(posenc("predict %s '5 5 0 0 1 2'", run), 0);
    EXPECT_OUT("expected");
    ck_assert_int_eq(posenc("predict %s '5 5 0 0 1 3'", run), 2); /* not an input of the file: no true answer */
    EXPECT_OUT("is not an input of task.file ");
    /* the file changes: eval refuses (exit 2) and names both hashes */
    ck_assert_int_eq(shell_run("echo '{\"input\": [1, 1, 1, 1, 1, 1, 1], \"target\": [1, 1, 1, 1, 1, 1, 1]}' >> %s", file), 0);
    ck_assert_int_eq(posenc("eval %s", run), 2);
    EXPECT_OUT("task.file_hash: ");
    EXPECT_OUT("has changed since the run was trained");
}
END_TEST

/* A file of strings: a class label (is the word a palindrome?), m = 1, even lengths only. */
START_TEST(test_cli_strings) {
    const char *d = test_tmpdir("jsonl_strings");
    char file[512], run[600];
    snprintf(file, sizeof file, "%s/pal.jsonl", d);
    snprintf(run, sizeof run, "%s/run", d);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    const char *words[] = {"ab", "aa", "abba", "abab", "baab", "bbbb", "abaaba", "aabbab"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        const char *x = words[w];
        const size_t n = strlen(x);
        int pal = 1;
        for (size_t i = 0; i < n; i++) pal &= x[i] == x[n - 1 - i];
        fprintf(f, "{\"input\": [");
        for (size_t i = 0; i < n; i++) fprintf(f, "%s\"%c\"", i ? ", " : "", x[i]);
        fprintf(f, "], \"target\": [\"%s\"]}\n", pal ? "yes" : "no");
    }
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(posenc("train --out %s --quiet --set task.name=jsonl --set task.file=%s --set task.alphabet=4 "
                            "--set task.target_slope=0 --set task.target_offset=1 --set task.min_len=1 "
                            "--set task.max_len=4 --set eval.lengths=4,6 --set train.steps=3 --set train.warmup=1 "
                            "--set train.batch_size=4 --set model.d_model=16 --set model.n_layers=1 "
                            "--set model.n_heads=2 --set eval.samples=4 --set train.eval_every=0", run, file), 0);
    ck_assert_int_eq(posenc("eval %s", run), 0);
    EXPECT_OUT("8 examples; 4 symbols as strings: a b no yes; by input length: 2 (2), 4 (4), 6 (2)");
    ck_assert_int_eq(posenc("predict %s 'a b b a'", run), 0);
    EXPECT_OUT("input      a b b a");
    EXPECT_OUT("yes"); /* the expected answer, by its name */
    ck_assert_int_eq(posenc("predict %s 'a c'", run), 2);
    EXPECT_OUT("\"c\" is not one of the task's symbols");
    ck_assert_int_eq(posenc("attention %s 'a b b a'", run), 0);
    EXPECT_OUT("  BOS    a    b    b    a  SEP  yes");
}
END_TEST

static Suite *jsonl_suite(void) {
    Suite *s = suite_create("jsonl");
    TCase *tc = tcase_create("jsonl");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_reader_accepts);
    tcase_add_test(tc, test_reader_rejects);
    tcase_add_test(tc, test_reader_strings);
    tcase_add_test(tc, test_load_bad_files);
    tcase_add_test(tc, test_task_open);
    tcase_add_test(tc, test_task_batches);
    tcase_add_test(tc, test_config_keys);
    tcase_add_test(tc, test_cli_train_eval_predict);
    tcase_add_test(tc, test_cli_strings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(jsonl_suite()); }
