/*
 * test_show.c — `posenc show ENCODING`: a PNG and an SVG for every encoding,
 * the printed figures (ALiBi slopes, RoPE cos(angle), sinusoidal wavelength,
 * a trained learned table's never-trained rows; T5's bucket map and its
 * never-trained buckets, KERPLE and FIRE curves, xPos decays), the error cases, and the
 * gnuplot runner (study/plot.h) on its own: atomic outputs, failures reported.
 * The program under test is $POSENC_BIN (set by `make test`), else ./posenc.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli/show.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "model/pe.h"
#include "study/plot.h"
#include "tests/testutil.h"


/* base.png is a non-empty PNG and base.svg a non-empty SVG. */
static void expect_pictures(const char *base) {
    char path[1024];
    size_t n;
    snprintf(path, sizeof path, "%s.png", base);
    char *png = file_read_all(path, &n);
    ck_assert_msg(png != NULL, "%s", core_error());
    ck_assert_msg(n > 1000, "%s: only %zu bytes", path, n);
    ck_assert_msg(memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0, "%s: no PNG signature", path);
    free(png);
    snprintf(path, sizeof path, "%s.svg", base);
    char *svg = file_read_all(path, &n);
    ck_assert_msg(svg != NULL, "%s", core_error());
    ck_assert_msg(n > 1000, "%s: only %zu bytes", path, n);
    ck_assert_msg(strstr(svg, "<svg") != NULL, "%s: no <svg element", path);
    free(svg);
}

/* Number of entries in dir (without . and ..) whose name contains `part`. */
static int count_files(const char *dir, const char *part) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c -- '%s'", dir, part);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

/* Every view of the table (cli/show.h): its pictures, and the verdicts of
 * its judge hook printed as show_verdict_text writes them. */
START_TEST(test_every_view) {
    const ShowView *view = show_views[_i];
    const char *d = test_tmpdir("show-all");
    char base[1024];
    ck_assert_msg(posenc("show %s --out %s/pics", view->enc, d) == 0, "show %s:\n%s", view->enc, posenc_out);
    snprintf(base, sizeof base, "%s/pics/%s", d, view->enc);
    expect_pictures(base);
    /* nothing but the pictures: no temporary script or output left behind */
    snprintf(base, sizeof base, "%s/pics", d);
    ck_assert_int_eq(count_files(base, "tmp"), 0);
    ck_assert_int_eq(count_files(base, view->enc), 2);
    if (!view->judge) return;
    Show s;
    show_defaults(&s);
    s.enc = view->enc;
    ck_assert_int_eq(show_prepare(&s), 0);
    ShowVerdicts v = {0};
    ck_assert_msg(view->judge(&s, view, &v) == 0, "%s: %s", view->enc, core_error());
    show_release(&s);
    ck_assert_msg(v.n > 0, "%s: a judge hook without a verdict", view->enc);
    for (int i = 0; i < v.n; i++) {
        char line[1400];
        show_verdict_text(&v.v[i], line, sizeof line);
        ck_assert_msg(strncmp(line, "docs/SPEC.md §5 prediction: \"", strlen("docs/SPEC.md §5 prediction: \"")) == 0, "%s", line);
        EXPECT_OUT(line); /* `posenc show` prints the same verdict */
    }
}
END_TEST

/* Every registered encoding without a view: one that adds nothing says so
 * and succeeds, another is refused with the list of views; neither writes. */
START_TEST(test_every_encoding) {
    const char *d = test_tmpdir("show-none");
    for (int i = 0; i < pe_count(); i++) {
        const PEOps *ops = pe_at(i);
        if (show_view_find(ops->name)) continue;
        const int nothing = !ops->embed_forward && !ops->qk_forward && !ops->bias_forward;
        ck_assert_int_eq(posenc("show %s --out %s/%s", ops->name, d, ops->name), nothing ? 0 : 2);
        EXPECT_OUT(nothing ? "Nothing to draw" : "no picture for position encoding");
        char base[1024];
        snprintf(base, sizeof base, "%s/%s", d, ops->name);
        ck_assert(!path_exists(base));
    }
}
END_TEST

START_TEST(test_printed_figures) {
    const char *d = test_tmpdir("show-fig");
    /* ALiBi: Press et al.'s slopes (docs/SPEC.md §4 test vectors), geometric with ratio 1/4 */
    ck_assert_int_eq(posenc("show alibi --heads 4 --out %s", d), 0);
    EXPECT_OUT("slopes: 0.25 0.0625 0.015625 0.00390625\n");
    EXPECT_OUT("— confirmed: sorted from steep to gentle, consecutive slopes have ratio 0.25 throughout");
    ck_assert_int_eq(posenc("show alibi --heads 8 --out %s", d), 0);
    EXPECT_OUT("slopes: 0.5 0.25 0.125 0.0625 0.03125 0.015625 0.0078125 0.00390625\n");
    /* 6 heads: the interleaved set, not one geometric sequence */
    ck_assert_int_eq(posenc("show alibi --heads 6 --dim 48 --out %s", d), 0);
    EXPECT_OUT("slopes: 0.25 0.0625 0.015625 0.00390625 0.5 0.125\n");
    EXPECT_OUT("— refuted");
    /* RoPE: pair 0 turns by 1 rad per position, cos(1) = 0.5403; the slowest pair of
     * hs = 16 has w = 10000^(-14/16) */
    ck_assert_int_eq(posenc("show rope --out %s", d), 0);
    EXPECT_OUT("     0           1        6.283         0.5403");
    EXPECT_OUT("     7   0.0003162    1.987e+04         1.0000");
    EXPECT_OUT("\"... and stays near 1 for slow ones\" — confirmed");
    /* sinusoidal: column 0 has wavelength 2 pi, the slowest pair of C = 64 10000^(62/64) * 2 pi */
    ck_assert_int_eq(posenc("show sinusoidal --out %s", d), 0);
    EXPECT_OUT("     0    0           1        6.283");
    EXPECT_OUT("wavelength of 4.71e+04 positions");
    EXPECT_OUT("\"sinusoidal low-frequency columns vary slowly\" — confirmed");
    {
        /* the heatmap's rows: the sin block, then the cos block (interleaved, they read as stripes) */
        char p[600];
        snprintf(p, sizeof p, "%s/sinusoidal.svg", d);
        char *svg = file_read_all(p, NULL);
        ck_assert_msg(svg, "%s", core_error());
        const char *sin0 = strstr(svg, ">sin d=0<"), *sin16 = strstr(svg, ">sin d=16<"), *cos1 = strstr(svg, ">cos d=1<");
        ck_assert_msg(sin0 && sin16 && cos1, "no sin/cos row labels in %s", p);
        free(svg);
    }
    /* a fresh learned table cannot test the prediction */
    ck_assert_int_eq(posenc("show learned --out %s", d), 0);
    EXPECT_OUT("fresh initialisation");
    EXPECT_OUT("— not tested");
}
END_TEST

START_TEST(test_learned_run) {
    const char *d = test_tmpdir("show-run");
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.pe=learned --quiet --out %s/run", d), 0);
    /* copy, n <= 6: inputs are at most 6 + 6 + 2 = 14 tokens, so positions 14..25 of the
     * P = 26 table (eval length 12) are never trained and keep their initial values */
    ck_assert_msg(posenc("show learned --run %s/run", d) == 0, "%s", posenc_out);
    EXPECT_OUT("rows 14..25 never occur in training");
    EXPECT_OUT("never trained                           12");
    EXPECT_OUT("— confirmed: the 12 rows at positions 14..25 are bitwise their initial noise (max |W - W_init| = 0)");
    char base[1024];
    snprintf(base, sizeof base, "%s/run/learned", d);
    expect_pictures(base);
    /* the picture marks the boundary */
    snprintf(base, sizeof base, "%s/run/learned.svg", d);
    char *svg = file_read_all(base, NULL);
    ck_assert_ptr_nonnull(svg);
    ck_assert_msg(strstr(svg, "never trained") != NULL, "no never-trained marker in %s", base);
    free(svg);
    /* --run of another encoding: settings from the run, training length marked */
    ck_assert_int_eq(posenc("train configs/smoke.json --quiet --out %s/rope", d), 0);
    ck_assert_int_eq(posenc("show rope --run %s/rope --out %s/rp", d, d), 0);
    EXPECT_OUT("head size hs = 16 (2 heads of C = 32)");
    EXPECT_OUT("longest training input spans distances up to 13");
    snprintf(base, sizeof base, "%s/rp/rope", d);
    expect_pictures(base);
    /* a run of another encoding for `show learned`: a clear error */
    ck_assert_int_eq(posenc("show learned --run %s/rope", d), 2);
    EXPECT_OUT("was trained with model.pe = rope, not learned");
    /* the learned table has only P rows */
    ck_assert_int_eq(posenc("show learned --run %s/run --len 27", d), 2);
    EXPECT_OUT("has only model.max_positions = 26 rows");
    ck_assert_int_eq(posenc("show learned --run %s/run --dim 8", d), 2);
    EXPECT_OUT("taken from the run");
}
END_TEST

/* t5, fire, kerple, xpos: their figures and pictures, fresh and from a run. */
START_TEST(test_new_encodings) {
    const char *d = test_tmpdir("show-new");
    char base[1024];
    ck_assert_msg(posenc("show t5 --out %s", d) == 0, "%s", posenc_out);
    EXPECT_OUT("buckets 0..15: distances 0..15, one each\n"); /* docs/SPEC.md §4: 8 -> 8, 16 -> 16, 32 -> 21 */
    EXPECT_OUT("bucket 16: distances 16..18\n");
    EXPECT_OUT("bucket 21: distances 31..34\n");
    EXPECT_OUT("one table for all 2 layers");
    ck_assert_msg(posenc("show kerple --out %s", d) == 0, "%s", posenc_out);
    EXPECT_OUT("score[i, j] += -p_lh * log(1 + a_lh * (i - j))");
    EXPECT_OUT("reading: 8 of 8 (layer, head) pairs add a lower bias at distance 63 than at distance 0");
    ck_assert_msg(posenc("show fire --out %s", d) == 0, "%s", posenc_out);
    EXPECT_OUT("layer 1: c = 0.1, L = |1| x 512 = 512");
    EXPECT_OUT("bias at distance d for a query at position 16:");
    ck_assert_msg(posenc("show xpos --dim 64 --heads 4 --out %s", d) == 0, "%s", posenc_out);
    EXPECT_OUT("     0    0.285714             1          283.29         0.85714");
    EXPECT_OUT("     7    0.910714     0.0003162          3794.6         0.98856");
    const char *enc[] = {"t5", "fire", "kerple", "xpos"};
    for (int i = 0; i < 4; i++) {
        snprintf(base, sizeof base, "%s/%s", d, enc[i]);
        expect_pictures(base);
    }
    /* a trained T5 run: copy n <= 6 spans distances 0..13, so buckets 14..31 never get a gradient */
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.pe=t5 --quiet --out %s/t5run", d), 0);
    ck_assert_msg(posenc("show t5 --run %s/t5run", d) == 0, "%s", posenc_out);
    EXPECT_OUT("parameters of the trained run");
    EXPECT_OUT("buckets 14..31 hold distances the training inputs never span (>= 14): bitwise their initial values");
    snprintf(base, sizeof base, "%s/t5run/t5", d);
    expect_pictures(base);
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.pe=fire --quiet --out %s/firerun", d), 0);
    ck_assert_msg(posenc("show fire --run %s/firerun --len 40", d) == 0, "%s", posenc_out);
    EXPECT_OUT("fire, 1 layers x 2 heads, MLP 1 -> 32 -> 2, positions 0..39");
    EXPECT_OUT("bias at distance d for a query at position 13:"); /* the longest training input */
    /* no FIRE or T5 parameter depends on max_positions (26 here): evaluation beyond it works */
    ck_assert_msg(posenc("eval %s/firerun --lengths 6,40 --samples 8", d) == 0, "%s", posenc_out);
    EXPECT_OUT("    40         8");
    ck_assert_msg(posenc("eval %s/t5run --lengths 40 --samples 8", d) == 0, "%s", posenc_out);
    EXPECT_OUT("    40         8");
    ck_assert_int_eq(posenc("show kerple --run %s/firerun", d), 2);
    EXPECT_OUT("was trained with model.pe = fire, not kerple");
}
END_TEST

START_TEST(test_bad_inputs) {
    const char *d = test_tmpdir("show-bad");
    ck_assert_int_eq(posenc("show positional --out %s", d), 2);
    EXPECT_OUT("unknown position encoding \"positional\" (valid: ");
    char names[PE_NAMES_MAX];
    pe_names(names, sizeof names);
    EXPECT_OUT(names); /* every registered encoding */
    ck_assert_int_eq(posenc("show --out %s", d), 2);
    EXPECT_OUT("missing ENCODING");
    ck_assert_int_eq(posenc("show rope --len 0 --out %s", d), 2);
    EXPECT_OUT("--len");
    ck_assert_int_eq(posenc("show rope --len 1 --out %s", d), 2);
    EXPECT_OUT("at least 2 positions");
    ck_assert_int_eq(posenc("show rope --len 5000 --out %s", d), 2);
    ck_assert_int_eq(posenc("show alibi --heads 3 --out %s", d), 2);
    EXPECT_OUT("--heads 3 does not divide --dim 64");
    ck_assert_int_eq(posenc("show sinusoidal --dim 7 --heads 1 --out %s", d), 2);
    EXPECT_OUT("even d_model");
    ck_assert_int_eq(posenc("show rope --bogus --out %s", d), 2);
    EXPECT_OUT("unknown option \"--bogus\"");
    /* not a run: exit 2, as eval, predict and attention say it */
    ck_assert_int_eq(posenc("show learned --run %s/nothing", d), 2);
    EXPECT_OUT("no such run directory");
    /* gnuplot missing: the figures are printed, then a clear error */
    setenv("POSENC_GNUPLOT", "/no/such/gnuplot", 1);
    int rc = posenc("show alibi --out %s", d);
    unsetenv("POSENC_GNUPLOT");
    ck_assert_int_eq(rc, 1);
    EXPECT_OUT("slopes: 0.25");
    EXPECT_OUT("`make deps` installs it");
    ck_assert_int_eq(posenc("show --help"), 0);
    EXPECT_OUT("usage: posenc show ENCODING");
    EXPECT_OUT("--run RUN");
}
END_TEST

/* The runner itself: a good script gives both files; a failing one reports
 * gnuplot's message and leaves the previous pictures untouched. */
START_TEST(test_plot_render) {
    const char *d = test_tmpdir("show-plot");
    char base[1024];
    snprintf(base, sizeof base, "%s/fig", d);
    PlotScript s;
    plot_script_init(&s);
    plot_printf(&s, "$d << EOD\n");
    for (int i = 0; i < 2000; i++) plot_printf(&s, "%d %d\n", i, i * i); /* grows the buffer */
    plot_printf(&s, "EOD\nset title 'squares'\nplot $d using 1:2 with lines title 'x^2'\n");
    ck_assert_msg(plot_render(s.text, base, 640, 480) == 0, "%s", core_error());
    plot_script_free(&s);
    expect_pictures(base);
    char path[1100];
    snprintf(path, sizeof path, "%s.png", base);
    size_t n0;
    char *before = file_read_all(path, &n0);

    ck_assert_int_eq(plot_render("plot $no_such_block using 1:2\n", base, 640, 480), -1);
    ck_assert_msg(strstr(core_error(), "gnuplot failed") && strstr(core_error(), "no_such_block"), "%s", core_error());
    size_t n1;
    char *after = file_read_all(path, &n1);
    ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    ck_assert_int_eq(count_files(d, "tmp"), 0);

    /* a script that draws nothing writes nothing */
    snprintf(base, sizeof base, "%s/empty", d);
    ck_assert_int_eq(plot_render("print 'no plot'\n", base, 640, 480), -1);
    ck_assert_msg(strstr(core_error(), "empty output"), "%s", core_error());
    snprintf(path, sizeof path, "%s.png", base);
    ck_assert(!path_exists(path));
    ck_assert_int_eq(count_files(d, "tmp"), 0);
}
END_TEST

static Suite *show_suite(void) {
    Suite *s = suite_create("show");
    TCase *tc = tcase_create("show");
    tcase_add_loop_test(tc, test_every_view, 0, show_num_views);
    tcase_add_test(tc, test_every_encoding);
    tcase_add_test(tc, test_printed_figures);
    tcase_add_test(tc, test_learned_run);
    tcase_add_test(tc, test_new_encodings);
    tcase_add_test(tc, test_bad_inputs);
    tcase_add_test(tc, test_plot_render);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(show_suite()); }
