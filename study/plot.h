/*
 * plot.h — rendering gnuplot scripts to PNG and SVG files.
 *
 * posenc draws its figures with gnuplot (Debian package gnuplot-nox, which
 * `make deps` installs). The caller writes a complete gnuplot script —
 * data (inline `$name << EOD` blocks, or files it wrote itself), title, axis
 * labels, legend, `set multiplot` — but no `set terminal` / `set output`:
 * plot_render adds those and runs the script twice, once per format.
 *
 *   PlotScript s;
 *   plot_script_init(&s);
 *   plot_printf(&s, "$d << EOD\n");
 *   for (int p = 0; p < n; p++) plot_printf(&s, "%d %g\n", p, y[p]);
 *   plot_printf(&s, "EOD\nset title 'y'\nset xlabel 'p'\nplot $d using 1:2 with lines\n");
 *   if (plot_render(s.text, "out/y", 900, 600) != 0) ... core_error() ...
 *   plot_script_free(&s);
 *
 * writes out/y.png (pngcairo if this gnuplot has it, else libgd png) and
 * out/y.svg, each atomically: to a temporary name first, renamed into place
 * only after gnuplot exited 0 and the file is non-empty, so a failed render
 * never leaves a truncated or stale-looking picture behind.
 *
 * The gnuplot program is `gnuplot` on PATH, or $POSENC_GNUPLOT if set.
 * Errors follow core/error.h's convention (0, or -1 after core_errorf): a missing
 * gnuplot says how to install it; a failing script reports gnuplot's own
 * message (the first lines of its stderr). On success, gnuplot's warnings
 * (if any) are copied to stderr so that a figure that reads badly is noticed.
 */
#ifndef POSENC_PLOT_H
#define POSENC_PLOT_H

#include <stddef.h>

/* A growing script text. plot_printf aborts on out-of-memory (core_calloc's
 * policy): a script is never silently truncated. */
typedef struct {
    char *text;  /* NUL-terminated */
    size_t len, cap;
} PlotScript;

void plot_script_init(PlotScript *s);
void plot_printf(PlotScript *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void plot_script_free(PlotScript *s);
/* Append `text` as a gnuplot single-quoted string that prints literally in
 * enhanced-text mode: ' doubled, _ ^ @ & ~ { } and \ escaped with a
 * backslash, a newline made a space. Every string taken from a run's files
 * (labels, names, titles) goes into a script through this. */
void plot_quoted(PlotScript *s, const char *text);
/* A logarithmic y axis from lo to hi (the data's extremes; 15 % margin added)
 * with labelled tics at 1, 2 and 5 x 10^k, or at every digit when the range
 * is less than a decade (gnuplot's own would label whole decades only).
 * Returns the axis' lower end: where a value of 0, which a log axis cannot
 * show, is drawn instead (and marked as such by the caller). */
double plot_log_y(PlotScript *s, double lo, double hi);

/* Render `script` to out_base.png and out_base.svg, width x height pixels
 * (the SVG gets the same size in its units). The directory of out_base must
 * exist. 0 or an error. */
int plot_render(const char *script, const char *out_base, int width, int height);

#endif
