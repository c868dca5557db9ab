/*
 * test_fuzz_corpus.c — every input in tests/fuzz-corpus/NAME/ (the seeds of
 * `make fuzz` and each input that once crashed a fuzz target) replayed
 * through that target's entry point, in the normal build (and under ASan +
 * UBSan with `make SAN=1 test`), so a fixed crash stays fixed without clang.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/fsutil.h"
#include "tests/testutil.h"

#define LLVMFuzzerTestOneInput fuzz_config_one
#include "fuzz/fuzz_config.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_safetensors_one
#include "fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_rundir_one
#define check fuzz_rundir_check
#include "core/error.h"
#include "fuzz/fuzz_rundir.c"
#undef check
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_data_one
#define check fuzz_data_check
#include "fuzz/fuzz_data.c"
#undef check
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_jsonl_one
#define check fuzz_jsonl_check
#define one fuzz_jsonl_file
#include "fuzz/fuzz_jsonl.c"
#undef one
#undef check
#undef LLVMFuzzerTestOneInput

/* Run every file of tests/fuzz-corpus/<name>/ through fn; returns the count. */
static int replay(const char *name, int (*fn)(const uint8_t *, size_t)) {
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz-corpus/%s", name);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "%s: missing", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size;
        char *data = file_read_all(path, &size);
        ck_assert_msg(data != NULL, "%s", core_error());
        fn((const uint8_t *)data, size);
        free(data);
        n++;
    }
    closedir(d);
    return n;
}

START_TEST(test_config_corpus) { ck_assert_int_ge(replay("config", fuzz_config_one), 4); }
END_TEST

START_TEST(test_safetensors_corpus) { ck_assert_int_ge(replay("safetensors", fuzz_safetensors_one), 2); }
END_TEST

START_TEST(test_rundir_corpus) { ck_assert_int_ge(replay("rundir", fuzz_rundir_one), 10); }
END_TEST

START_TEST(test_data_corpus) { ck_assert_int_ge(replay("data", fuzz_data_one), 6); }
END_TEST

START_TEST(test_jsonl_corpus) { ck_assert_int_ge(replay("jsonl", fuzz_jsonl_one), 7); }
END_TEST

static Suite *fuzz_corpus_suite(void) {
    Suite *s = suite_create("fuzz corpus");
    TCase *tc = tcase_create("replay");
    tcase_add_test(tc, test_config_corpus);
    tcase_add_test(tc, test_safetensors_corpus);
    tcase_add_test(tc, test_rundir_corpus);
    tcase_add_test(tc, test_data_corpus);
    tcase_add_test(tc, test_jsonl_corpus);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(fuzz_corpus_suite()); }
