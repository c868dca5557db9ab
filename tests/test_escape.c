/*
 * test_escape.c — core/escape.h: every string that leaves posenc for gnuplot,
 * the shell or sbatch, fed the nastiest strings we could find, and checked
 * by the target program itself: sh and gnuplot must read back exactly the
 * string (control characters aside for gnuplot), and nothing may run (each
 * string that tries to execute would create a file PWN* in the test folder).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/escape.h"
#include "core/fsutil.h"
#include "tests/testutil.h"

static const char *const nasty[] = {
    "",
    "plain",
    "'",
    "''",
    "\"",
    "\\",
    "a\\",
    "\\'",
    "'\\''",
    "it's",
    "x'.system('touch PWN1').'",
    "x'; system 'touch PWN2'; '",
    "`touch PWN3`",
    "$(touch PWN4)",
    "${HOME}$HOME$$$?$0",
    "\"; touch PWN5; \"",
    "a\nsystem('touch PWN6')\nb",
    "line\r\nsh -c 'touch PWN7'",
    "@macro @ARG0 @@",
    "{}^_&~ \\_ \\\\",
    "%A %a %% %j %",
    "\t tab and  spaces ",
    "λ ∑ 中文 emoji \xf0\x9f\x98\x80",
    "-n",
    "--out 'x' --force",
    ";rm -rf /nonexistent-posenc-test;",
    "| touch PWN8 &",
    "*?[a-z]~",
    "#comment",
    "'\"'\"'\"",
};
#define NNASTY ((int)(sizeof nasty / sizeof nasty[0]))

/* no PWN* file appeared in the current folder */
static void assert_nothing_ran(void) {
    int rc = run_captured("ls PWN* 2>/dev/null | wc -l");
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(atoi(posenc_out) == 0, "a string was executed: %s", posenc_out);
}

static char *read_back(const char *path) {
    char *t = file_read_all(path, NULL);
    ck_assert_msg(t != NULL, "%s", core_error());
    return t;
}

/* esc_sh: sh reads back exactly the string; esc_sh_unquote inverts it */
START_TEST(test_sh_word) {
    const char *d = test_tmpdir("esc-sh");
    ck_assert_int_eq(chdir(d), 0);
    for (int i = 0; i < NNASTY; i++) {
        char *q = esc_sh(nasty[i]);
        FILE *f = fopen("script.sh", "w");
        fprintf(f, "printf '%%s' %s > out.txt\n", q);
        fclose(f);
        ck_assert_int_eq(system("sh script.sh"), 0);
        char *back = read_back("out.txt");
        ck_assert_msg(strcmp(back, nasty[i]) == 0, "sh read back \"%s\" for \"%s\" (quoted %s)", back, nasty[i], q);
        free(back);
        const char *p = q;
        char un[512];
        ck_assert_int_eq(esc_sh_unquote(&p, un, sizeof un), 0);
        ck_assert_str_eq(un, nasty[i]);
        ck_assert(*p == '\0');
        free(q);
    }
    assert_nothing_ran();
    ck_assert_int_eq(chdir("../../.."), 0);
}
END_TEST

/* esc_sh_dq: inside "${UNSET:-...}" sh reads back exactly the string; a newline is refused */
START_TEST(test_sh_double_quoted) {
    const char *d = test_tmpdir("esc-shdq");
    ck_assert_int_eq(chdir(d), 0);
    int refused = 0;
    for (int i = 0; i < NNASTY; i++) {
        char *q = esc_sh_dq(nasty[i], "the test string");
        if (strchr(nasty[i], '\n')) {
            ck_assert_msg(q == NULL, "a newline was accepted: %s", nasty[i]);
            ck_assert(strstr(core_error(), "newline") != NULL);
            refused++;
            continue;
        }
        ck_assert(q != NULL);
        FILE *f = fopen("script.sh", "w");
        fprintf(f, "unset POSENC_TEST_UNSET\nprintf '%%s' \"${POSENC_TEST_UNSET:-%s}\" > out.txt\n", q);
        fclose(f);
        ck_assert_int_eq(system("sh script.sh"), 0);
        char *back = read_back("out.txt");
        ck_assert_msg(strcmp(back, nasty[i]) == 0, "sh read back \"%s\" for \"%s\" (escaped %s)", back, nasty[i], q);
        free(back);
        free(q);
    }
    ck_assert_int_ge(refused, 2);
    assert_nothing_ran();
    ck_assert_int_eq(chdir("../../.."), 0);
}
END_TEST

/* esc_gnuplot: gnuplot prints back the string (control characters as
 * spaces); the enhanced form parses, runs nothing, and escapes every
 * enhanced-text character */
START_TEST(test_gnuplot_string) {
    const char *d = test_tmpdir("esc-gp");
    ck_assert_int_eq(chdir(d), 0);
    for (int i = 0; i < NNASTY; i++) {
        char *q = esc_gnuplot(nasty[i], 0), *qe = esc_gnuplot(nasty[i], 1);
        FILE *f = fopen("t.gp", "w");
        fprintf(f, "set print 'out.txt'\nprint %s\nset title %s\nset label 1 %s\nprint 'END'\n", q, qe, qe);
        fclose(f);
        ck_assert_msg(system("gnuplot t.gp 2>err.txt") == 0, "gnuplot failed on %s", q);
        char *back = read_back("out.txt");
        char want[512];
        snprintf(want, sizeof want, "%s", nasty[i]);
        for (char *p = want; *p; p++)
            if ((unsigned char)*p < 0x20) *p = ' ';
        strcat(want, "\nEND\n");
        ck_assert_msg(strcmp(back, want) == 0, "gnuplot printed \"%s\" for \"%s\" (quoted %s)", back, nasty[i], q);
        free(back);
        for (const char *p = qe + 1; *p; p++)
            if (strchr("^_@&~{}", *p)) ck_assert_msg(p[-1] == '\\', "%s: %c not escaped", qe, *p);
        free(q);
        free(qe);
    }
    assert_nothing_ran();
    ck_assert_int_eq(chdir("../../.."), 0);
}
END_TEST

/* esc_sbatch: what an #SBATCH line cannot carry is refused, naming it; % is doubled in file-name patterns */
START_TEST(test_sbatch_value) {
    for (int i = 0; i < NNASTY; i++) {
        char *q = esc_sbatch(nasty[i], 1, "the sweep folder");
        int bad = 0;
        for (const unsigned char *p = (const unsigned char *)nasty[i]; *p; p++)
            bad |= *p <= ' ' || *p == 0x7f || *p == '\'' || *p == '"' || *p == '\\';
        if (bad) {
            ck_assert_msg(q == NULL, "accepted \"%s\" as %s", nasty[i], q);
            ck_assert(strstr(core_error(), "the sweep folder") != NULL);
            continue;
        }
        ck_assert(q != NULL);
        /* undo the doubling: the original again */
        char un[512];
        size_t n = 0;
        for (const char *p = q; *p; p++) {
            un[n++] = *p;
            if (*p == '%') {
                ck_assert(p[1] == '%');
                p++;
            }
        }
        un[n] = '\0';
        ck_assert_str_eq(un, nasty[i]);
        free(q);
    }
    char *q = esc_sbatch("/a/%j", 0, "x");
    ck_assert_str_eq(q, "/a/%j");
    free(q);
    ck_assert(esc_sbatch("/a b", 0, "x") == NULL);
    ck_assert(strstr(core_error(), "whitespace") != NULL);
}
END_TEST

static Suite *escape_suite(void) {
    Suite *s = suite_create("escape");
    TCase *tc = tcase_create("targets");
    tcase_add_test(tc, test_sh_word);
    tcase_add_test(tc, test_sh_double_quoted);
    tcase_add_test(tc, test_gnuplot_string);
    tcase_add_test(tc, test_sbatch_value);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(escape_suite()); }
