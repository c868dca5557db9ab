/*
 * test_literature.c — published numbers as data (study/literature.h): the
 * files of experiments/literature/ load; malformed and hostile files are
 * refused with errors that name the file and the key; Kendall's tau-b on
 * cases computed by hand; the verdict of a claim on constructed seeds.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "study/literature.h"
#include "tests/testutil.h"

static Literature lit; /* large: not on the stack */

START_TEST(test_published_files_load) {
    ck_assert_msg(literature_load(&lit, "experiments/literature/kazemnejad2023.json") == 0, "%s", core_error());
    ck_assert_str_eq(lit.arxiv, "2305.19466");
    ck_assert_str_eq(lit.metric, "exact_match");
    ck_assert_int_eq(lit.train_lo, 4);
    ck_assert_int_eq(lit.train_hi, 20);
    ck_assert_int_eq(lit.test_lo, 21);
    ck_assert_int_eq(lit.test_hi, 40);
    ck_assert_int_eq(lit.ncells, 40); /* 8 tasks x 5 encodings */
    ck_assert_int_eq(lit.ntasks, 8);
    ck_assert_int_eq(lit.nencodings, 5);
    /* the authors' rsc, NoPE: seeds 146317, 234054, 256788 (their results file) */
    const LitCell *c = &lit.cells[0];
    ck_assert_str_eq(lit.tasks[c->task].name, "rsc");
    ck_assert_str_eq(lit.encodings[c->encoding].name, "none");
    ck_assert_int_eq(c->k, 3);
    ck_assert(c->seed[0] == 146317);
    ck_assert_double_eq_tol(c->beyond[0], 0.9835, 1e-12);
    ck_assert(c->examples == 10000);
    /* their RoPE is posenc's rope rotating a quarter of each head */
    int rq = -1;
    for (int e = 0; e < lit.nencodings; e++)
        if (strcmp(lit.encodings[e].name, "rope_quarter") == 0) rq = e;
    ck_assert_int_ge(rq, 0);
    ck_assert_int_eq(lit.encodings[rq].nkeys, 2);
    ck_assert_str_eq(lit.encodings[rq].key[1], "model.rope_fraction");
    ck_assert_str_eq(lit.encodings[rq].value[1], "0.25");
    ck_assert_msg(literature_load(&lit, "experiments/literature/ruoss2023.json") == 0, "%s", core_error());
    ck_assert_int_eq(lit.ncells, 0);
    ck_assert_int_eq(lit.nstatements, 1);
    ck_assert_msg(literature_load(&lit, "experiments/literature/press2022.json") == 0, "%s", core_error());
    ck_assert_int_eq(lit.nstatements, 3);
}
END_TEST

/* a valid file with one replacement (old -> new); its load's error must contain want */
static const char *base_file =
    "{\"format\": \"posenc-literature-1\", \"id\": \"x\", \"title\": \"T\", \"authors\": \"A\", \"arxiv\": \"1\",\n"
    " \"source\": {\"repository\": \"r\", \"commit\": \"c\", \"path\": \"p\"},\n"
    " \"protocol\": {\"metric\": \"exact_match\", \"train_lengths\": [4, 20], \"test_lengths\": [21, 22]},\n"
    " \"encodings\": {\"none\": {\"posenc\": {\"model.pe\": \"none\"}}, \"rope\": {\"posenc\": {\"model.pe\": \"rope\"}}},\n"
    " \"tasks\": {\"copy\": {\"posenc\": {\"task.name\": \"copy\"}}},\n"
    " \"cells\": [{\"task\": \"copy\", \"encoding\": \"none\", \"seeds\": [{\"seed\": 1, \"beyond\": 0.9, \"by_length\": "
    "[0.9, 0.9]}, {\"seed\": 2, \"beyond\": 0.8}]},\n"
    "           {\"task\": \"copy\", \"encoding\": \"rope\", \"seeds\": [{\"seed\": 1, \"beyond\": 0.1}]}]}\n";

static void expect_refused(const char *old, const char *new_, const char *want) {
    char text[4096];
    const char *at = strstr(base_file, old);
    ck_assert_msg(at != NULL, "test setup: \"%s\" not in the base file", old);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - base_file), base_file, new_, at + strlen(old));
    char path[512];
    snprintf(path, sizeof path, "%s/lit.json", test_tmpdir("literature"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_msg(literature_load(&lit, path) != 0, "accepted: %s -> %s", old, new_);
    ck_assert_msg(strstr(core_error(), path) != NULL, "the error does not name the file: %s", core_error());
    ck_assert_msg(strstr(core_error(), want) != NULL, "wanted \"%s\" in: %s", want, core_error());
}

START_TEST(test_malformed_files) {
    /* the base file itself loads */
    char path[512];
    snprintf(path, sizeof path, "%s/ok.json", test_tmpdir("literature"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(base_file, f);
    fclose(f);
    ck_assert_msg(literature_load(&lit, path) == 0, "%s", core_error());
    ck_assert_int_eq(lit.ncells, 2);

    expect_refused("\"format\": \"posenc-literature-1\"", "\"format\": \"posenc-literature-2\"", "format");
    expect_refused("\"title\": \"T\", ", "", "title");
    expect_refused("\"commit\": \"c\", ", "", "source");
    expect_refused("\"metric\": \"exact_match\"", "\"metric\": \"perplexity\"", "protocol.metric");
    expect_refused("\"test_lengths\": [21, 22]", "\"test_lengths\": [20, 22]", "protocol.test_lengths");
    expect_refused("\"train_lengths\": [4, 20]", "\"train_lengths\": [4]", "protocol.train_lengths");
    expect_refused("\"beyond\": 0.8", "\"beyond\": 1.5", "cells[0].seeds[1].beyond");
    expect_refused("\"beyond\": 0.8", "\"beyond\": \"0.8\"", "cells[0].seeds[1].beyond");
    expect_refused("{\"seed\": 2, \"beyond\": 0.8}", "{\"seed\": 2}", "cells[0].seeds[1].beyond");
    expect_refused("\"seed\": 2,", "\"seed\": 1,", "cells[0].seeds[1].seed");
    expect_refused("\"seed\": 2,", "\"seed\": -2,", "cells[0].seeds[1].seed");
    expect_refused("[0.9, 0.9]", "[0.9]", "cells[0].seeds[0].by_length");
    expect_refused("\"encoding\": \"rope\"", "\"encoding\": \"alibi\"", "cells[1].encoding");
    expect_refused("\"task\": \"copy\", \"encoding\": \"rope\"", "\"task\": \"copy\", \"encoding\": \"none\"",
                   "cells[1]");
    expect_refused("\"seeds\": [{\"seed\": 1, \"beyond\": 0.1}]", "\"seeds\": []", "cells[1].seeds");
    /* hostile names: nothing that a markdown table or a shell would read as syntax */
    expect_refused("\"rope\": {\"posenc\"", "\"ro|pe\": {\"posenc\"", "encodings");
    expect_refused("\"model.pe\": \"rope\"", "\"model.pe\": {\"x\": 1}", "encodings.rope.posenc.model.pe");
    expect_refused("{\"model.pe\": \"none\"}", "{\"pe\": \"none\"}", "encodings.none.posenc");
    expect_refused("\"cells\": [", "\"cells\": {}, \"more\": [", "cells: expected an array");
    expect_refused("\"id\": \"x\",", "\"id\": \"x\" \"x\",", "not valid JSON");
}
END_TEST

START_TEST(test_kendall) {
    const double a[4] = {1, 2, 3, 4};
    ck_assert_double_eq_tol(kendall_tau_b(a, a, 4), 1.0, 1e-12);
    const double rev[4] = {4, 3, 2, 1};
    ck_assert_double_eq_tol(kendall_tau_b(a, rev, 4), -1.0, 1e-12);
    /* one swapped pair of 6: (5 - 1) / 6 */
    const double sw[4] = {1, 3, 2, 4};
    ck_assert_double_eq_tol(kendall_tau_b(a, sw, 4), 4.0 / 6.0, 1e-12);
    /* a tie in y: 5 concordant, 0 discordant, 6 pairs, 1 tied in y: 5 / sqrt(6 * 5) */
    const double ty[4] = {1, 1, 2, 3};
    ck_assert_double_eq_tol(kendall_tau_b(a, ty, 4), 5.0 / sqrt(30.0), 1e-12);
    /* ties on both sides: x = 1 1 2 2, y = 1 2 2 3: pairs 6, tx 2, ty 1; (0,2) (0,3) (1,3) concordant,
     * (1,2) tied in y, (0,1) and (2,3) tied in x: 3 / sqrt(4 * 5) */
    const double bx[4] = {1, 1, 2, 2}, by[4] = {1, 2, 2, 3};
    ck_assert_double_eq_tol(kendall_tau_b(bx, by, 4), 3.0 / sqrt(20.0), 1e-12);
    /* undefined: one pair, or one side all ties */
    ck_assert(isnan(kendall_tau_b(a, a, 1)));
    const double flat[4] = {0, 0, 0, 0};
    ck_assert(isnan(kendall_tau_b(a, flat, 4)));
}
END_TEST

START_TEST(test_verdicts) {
    const char *why = NULL;
    /* A clearly above B on three seeds: the claim A > B is reproduced, A < B contradicted */
    const double a[3] = {0.90, 0.95, 0.92}, b[3] = {0.10, 0.12, 0.08};
    Paired p = paired_of(a, b, 3, 1000);
    ck_assert_int_eq(p.verdict, 1);
    ck_assert_int_eq(literature_verdict(+1, &p, &why), LIT_REPRODUCED);
    ck_assert_ptr_null(why);
    ck_assert_int_eq(literature_verdict(-1, &p, &why), LIT_CONTRADICTED);
    ck_assert_ptr_null(why);
    /* the seeds disagree: not resolved, because the interval includes 0 */
    const double c[3] = {0.9, 0.1, 0.5}, d[3] = {0.1, 0.9, 0.5};
    p = paired_of(c, d, 3, 1000);
    ck_assert_int_eq(p.verdict, 0);
    ck_assert_int_eq(literature_verdict(+1, &p, &why), LIT_UNRESOLVED);
    ck_assert_str_eq(why, "interval includes 0");
    /* one seed never resolves a difference, however large */
    p = paired_of(a, b, 1, 1000);
    ck_assert_int_eq(literature_verdict(+1, &p, &why), LIT_UNRESOLVED);
    ck_assert_str_eq(why, "one seed");
    /* no posenc cell: not run */
    ck_assert_int_eq(literature_verdict(+1, NULL, &why), LIT_NOT_RUN);
}
END_TEST

int main(void) {
    Suite *s = suite_create("literature");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_published_files_load);
    tcase_add_test(tc, test_malformed_files);
    tcase_add_test(tc, test_kendall);
    tcase_add_test(tc, test_verdicts);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
