/*
 * plot.c — run gnuplot on a script, once per output format (see plot.h).
 */
#include "study/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/escape.h"
#include "core/fsutil.h"

/* ---- script buffer ----------------------------------------------------- */

void plot_script_init(PlotScript *s) {
    s->cap = 4096;
    s->len = 0;
    s->text = core_calloc(s->cap, 1);
}

void plot_printf(PlotScript *s, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->text + s->len, s->cap - s->len, fmt, ap);
        va_end(ap);
        if (n < 0) n = 0; /* encoding error: append nothing */
        if ((size_t)n < s->cap - s->len) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = s->cap * 2 + (size_t)n;
        char *t = core_calloc(cap, 1);
        memcpy(t, s->text, s->len + 1);
        free(s->text);
        s->text = t;
        s->cap = cap;
    }
}

void plot_quoted(PlotScript *s, const char *text) {
    char *q = esc_gnuplot(text, 1); /* the one gnuplot quoting (core/escape.h): nothing can end the string */
    plot_printf(s, "%s", q);
    free(q);
}

double plot_log_y(PlotScript *s, double lo, double hi) {
    if (!(lo > 0) || !(lo < hi)) {
        lo = hi > 0 ? hi / 2 : 0.01;
        hi = hi > 0 ? hi * 2 : 1.0;
    }
    lo /= 1.15, hi *= 1.15;
    /* labelled tics at 1, 2, 5 x 10^k (every digit when the range spans less than a decade) */
    const int dense = hi / lo < 10.0;
    plot_printf(s, "set logscale y\nset format y '%%g'\nset mytics 10\nset yrange [%g:%g]\nset ytics (", lo, hi);
    int nt = 0;
    for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)); e++)
        for (int d = 1; d <= 9; d++) {
            const double t = d * pow(10.0, e);
            if ((dense || d == 1 || d == 2 || d == 5) && t >= lo && t <= hi) plot_printf(s, "%s%g", nt++ ? ", " : "", t);
        }
    plot_printf(s, ")\n");
    return lo;
}

void plot_script_free(PlotScript *s) {
    free(s->text);
    s->text = NULL;
    s->len = s->cap = 0;
}

/* ---- running gnuplot --------------------------------------------------- */

static const char *gnuplot_program(void) {
    const char *g = getenv("POSENC_GNUPLOT");
    return g && *g ? g : "gnuplot";
}

#define EXEC_FAILED_MARK "posenc-plot: exec failed: "

/* Append `path` to buf as a gnuplot string (esc_gnuplot); a path with a
 * control character cannot be one (esc_gnuplot would change it): -1. */
static int quote_path(char *buf, size_t cap, const char *path) {
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return -1;
    char *q = esc_gnuplot(path, 0);
    size_t n = strlen(buf), k = strlen(q);
    int rc = n + k < cap ? 0 : -1;
    if (rc == 0) memcpy(buf + n, q, k + 1);
    free(q);
    return rc;
}

/* Run `gnuplot -e setup script_path`; its stderr is collected into err
 * (cap bytes, NUL-terminated). Returns the exit status, 127 with
 * *not_found = 1 if the program could not be started, -1 on a system error. */
static int run_gnuplot(const char *setup, const char *script_path, char *err, size_t cap, int *not_found) {
    *not_found = 0;
    err[0] = '\0';
    int fds[2];
    if (pipe(fds) != 0) return core_errorf("cannot run gnuplot: pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return core_errorf("cannot run gnuplot: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR); /* writer-exempt: /dev/null */
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        const char *prog = gnuplot_program();
        execlp(prog, prog, "-e", setup, script_path, (char *)NULL);
        dprintf(STDERR_FILENO, EXEC_FAILED_MARK "%s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    char chunk[4096];
    for (;;) {
        ssize_t r = read(fds[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        size_t take = (size_t)r < cap - 1 - len ? (size_t)r : cap - 1 - len; /* keep the first cap-1 bytes */
        memcpy(err + len, chunk, take);
        len += take;
    }
    err[len] = '\0';
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return core_errorf("cannot run gnuplot: waitpid: %s", strerror(errno));
    if (!WIFEXITED(st)) return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (WEXITSTATUS(st) == 127 && strstr(err, EXEC_FAILED_MARK)) *not_found = 1;
    return WEXITSTATUS(st);
}

static long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Trim gnuplot's stderr to a few lines for an error message, in place. */
static const char *first_lines(char *s, int lines) {
    char *p = s;
    for (int i = 0; i < lines && p; i++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (p && *p) *p = '\0';
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = '\0';
    return s;
}

int plot_render(const char *script, const char *out_base, int width, int height) {
    if (width < 16 || height < 16) return core_errorf("plot %s: bad size %dx%d", out_base, width, height);
    char script_path[4096];
    if (snprintf(script_path, sizeof script_path, "%s.gp.tmp.%d", out_base, (int)getpid()) >=
        (int)sizeof script_path)
        return core_errorf("%s: path too long", out_base);
    if (file_write_atomic(script_path, script, strlen(script)) != 0) return -1; /* removed below */

    static const char *const ext[2] = {"png", "svg"};
    char tmp[2][4096] = {"", ""}, final[2][4096];
    int rc = 0;
    char *err = core_calloc(16384, 1);
    for (int k = 0; k < 2 && rc == 0; k++) {
        snprintf(final[k], sizeof final[k], "%s.%s", out_base, ext[k]);
        if (snprintf(tmp[k], sizeof tmp[k], "%s.%s.tmp.%d", out_base, ext[k], (int)getpid()) >=
            (int)sizeof tmp[k]) {
            rc = core_errorf("%s: path too long", out_base);
            break;
        }
        char setup[8192];
        if (k == 0) /* pngcairo (anti-aliased) where this gnuplot has it, else libgd's png */
            snprintf(setup, sizeof setup,
                     "set encoding utf8; "
                     "if (strstrt(GPVAL_TERMINALS, ' pngcairo ') > 0) { "
                     "set terminal pngcairo size %d,%d enhanced font 'Sans,10' background rgb 'white' "
                     "} else { set terminal png size %d,%d enhanced background rgb 'white' }; "
                     "set output ",
                     width, height, width, height);
        else
            snprintf(setup, sizeof setup,
                     "set encoding utf8; "
                     "set terminal svg size %d,%d fixed enhanced font 'Sans,10' background rgb 'white'; "
                     "set output ",
                     width, height);
        if (quote_path(setup, sizeof setup, tmp[k]) != 0) {
            rc = core_errorf("%s: path too long, or it holds a control character", out_base);
            break;
        }
        /* gnuplot writes into a new regular file of ours, never through a link planted at the name */
        int ofd = file_create_new(tmp[k]); /* writer-exempt: gnuplot fills it; file_commit_durable below */
        if (ofd < 0) {
            rc = -1;
            break;
        }
        close(ofd);
        int not_found;
        int st = run_gnuplot(setup, script_path, err, 16384, &not_found);
        if (st < 0) {
            rc = -1;
        } else if (not_found) {
            rc = core_errorf("cannot run %s: not found; `make deps` installs it (Debian package gnuplot-nox), "
                           "or set POSENC_GNUPLOT to the gnuplot program", gnuplot_program());
        } else if (st != 0) {
            rc = core_errorf("gnuplot failed (exit status %d) drawing %s: %s", st, final[k],
                           err[0] ? first_lines(err, 6) : "(no message)");
        } else if (file_size(tmp[k]) <= 0) {
            rc = core_errorf("gnuplot wrote no %s (empty output; its messages: %s)", final[k],
                           err[0] ? first_lines(err, 6) : "none");
        } else if (err[0]) {
            fprintf(stderr, "gnuplot (%s): %s\n", final[k], first_lines(err, 20));
        }
    }
    free(err);
    unlink(script_path);
    for (int k = 0; k < 2; k++) {
        if (rc == 0 && file_commit_durable(tmp[k], final[k]) != 0) rc = -1; /* fsync, rename, fsync the folder */
        if (rc != 0 && tmp[k][0]) unlink(tmp[k]);
    }
    return rc;
}
