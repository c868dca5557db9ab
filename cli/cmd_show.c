/*
 * cmd_show.c — `posenc show ENCODING`: pictures of what a position encoding
 * computes, as PNG + SVG, with the numbers printed beside them and a verdict
 * on the encoding's prediction of docs/SPEC.md §5.
 *
 * Every number comes from the model's own modules (model/pe.h), never from a
 * re-derivation of the formulas: the sinusoidal and learned tables are what
 * embed_forward adds to an all-zero embedding; RoPE angles are read off
 * qk_forward applied to unit vectors, and cos(angle) vs distance is the dot
 * product of a rotated query and key; ALiBi, T5, FIRE and KERPLE biases are
 * bias_forward's rows (after bias_prepare), KERPLE's p, a and FIRE's c, L
 * the module's scalars hook; xPos decays and scores come from qk_forward on
 * unit vectors.
 *
 * This file holds the options and the table of views; each view is a file
 * cli/show_<view>.c (cli/show.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/show.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "data/task.h"
#include "model/gpt.h"
#include "model/pe.h"
#include "run/rundir.h"

/* An encoding that adds nothing anywhere (no embed, q/k or bias hook). */
static int adds_nothing(const PEOps *ops) { return !ops->embed_forward && !ops->qk_forward && !ops->bias_forward; }

static void show_usage(FILE *f) {
    fprintf(f,
            "usage: posenc show ENCODING [--len N] [--dim C] [--heads H] [--seed S] [--out DIR]\n"
            "       posenc show ENCODING --run RUN [--len N] [--out DIR]\n"
            "       posenc show rope [--run RUN] --rope-scaling pi|ntk|yarn [--rope-scale S] [--orig-len L]\n"
            "\n"
            "Draw what a position encoding computes, print the figures that confirm or refute\n"
            "its prediction in docs/SPEC.md §5, and write DIR/ENCODING.png and DIR/ENCODING.svg:\n"
            "  sinusoidal  the table PE[p, d], position x dimension, and a fast, a middle and a\n"
            "              slow column; printed: wavelength, change per position and\n"
            "              neighbour correlation of each column pair\n"
            "  learned     the table W[p, d] (a fresh initialisation, or with --run a trained\n"
            "              run's, the rows never reached in training marked) and its row norms;\n"
            "              printed: row norm, |cos| between neighbouring rows and distance from\n"
            "              the initial values, trained vs never-trained rows vs N(0, 0.02) noise\n"
            "  rope        angle p*w_i of each dimension pair vs position, and cos(angle) =\n"
            "              <rope(e_i, d), rope(e_i, 0)> vs distance d; printed per pair. With\n"
            "              --rope-scaling, first a table of each pair's frequency and wavelength\n"
            "              before and after the evaluation-time scaling (posenc eval --rope-scaling),\n"
            "              its rotations over the original context and YaRN's attention factor\n"
            "  alibi       the bias matrix -m_h*(i-j) of every head, and bias vs distance;\n"
            "              printed: slopes, their ratios, distances to bias -1 and -10\n"
            "  t5          the bucket map (distance -> bucket) and the bias of every head vs\n"
            "              distance; with --run: the trained bias and the buckets beyond every\n"
            "              training distance (bitwise their initial values?)\n"
            "  fire        the bias of every layer and head vs distance, for a query at len-1\n"
            "              and one at the longest training input (or len/4); printed: c and L\n"
            "  kerple      the bias -p*log(1 + a*d) of every layer and head; printed: p and a\n"
            "  xpos        each pair's decay zeta_i^(d/gamma) and score cos(d w_i) zeta_i^(d/gamma)\n"
            "              vs distance; printed: zeta_i, w_i, half-life\n"
            "  none        nothing to draw (NoPE adds nothing)\n"
            "\n"
            "options:\n"
            "  --len N      positions 0..N-1 (default 64; with --run: the run's max_positions), 2..4096\n"
            "  --dim C      d_model (default 64), 2..2048\n"
            "  --heads H    attention heads (default 4; must divide C), 1..64\n"
            "  --seed S     initialisation seed of fresh parameters (learned, t5, fire, kerple; default 1)\n"
            "  --run RUN    take d_model, heads, max_positions and the encoding's settings from a\n"
            "               trained run (its model.pe must be ENCODING); marks the longest training\n"
            "               input; for learned, t5, fire and kerple, shows the run's trained parameters\n"
            "  --out DIR    output directory (default: show, or RUN with --run)\n"
            "  --rope-scaling M  rope only: none, pi, ntk or yarn (see posenc eval --help)\n"
            "  --rope-scale S    the factor s >= 1 (default with --run: N / the run's longest\n"
            "               training input, N = --len or max_positions; without --run: required)\n"
            "  --no-plot    print the figures and verdicts only; write no picture (no gnuplot, no DIR)\n"
            "  --orig-len L the original context YaRN's ramp counts rotations over (default: the\n"
            "               run's longest training input; without --run: N / s)\n");
}

/* ---- the command -------------------------------------------------------- */

int cmd_show(int argc, char **argv) {
    Show s;
    show_defaults(&s);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        if (is_help(a)) {
            show_usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-plot") == 0) {
            s.no_plot = 1;
        } else if (strcmp(a, "--len") == 0) {
            if ((x = parse_count(a, v, 4096)) < 0) goto usage_error;
            if (x < 2) {
                core_errorf("--len: needs at least 2 positions, got %ld", x);
                goto usage_error;
            }
            s.len = (int)x, i++;
        } else if (strcmp(a, "--dim") == 0) {
            if ((x = parse_count(a, v, 2048)) < 0) goto usage_error;
            s.dim = (int)x, i++;
        } else if (strcmp(a, "--heads") == 0) {
            if ((x = parse_count(a, v, 64)) < 0) goto usage_error;
            s.heads = (int)x, i++;
        } else if (strcmp(a, "--seed") == 0) {
            if ((x = parse_count(a, v, 1L << 53)) < 0) goto usage_error;
            s.seed = (uint64_t)x, i++;
        } else if (strcmp(a, "--rope-scaling") == 0) {
            if (!v || pe_rope_scaling_find(v) < 0) {
                core_errorf("--rope-scaling: expected none, pi, ntk or yarn, got \"%s\"", v ? v : "");
                goto usage_error;
            }
            s.rope_scaling = pe_rope_scaling_find(v), i++;
        } else if (strcmp(a, "--rope-scale") == 0) {
            char *end = NULL;
            s.rope_scale = v ? strtod(v, &end) : 0;
            if (!v || end == v || *end || !(s.rope_scale >= 1 && s.rope_scale <= 1e6)) {
                core_errorf("--rope-scale: expected a number in [1, 1e6], got \"%s\"", v ? v : "");
                goto usage_error;
            }
            i++;
        } else if (strcmp(a, "--orig-len") == 0) {
            if ((x = parse_count(a, v, 1 << 20)) < 0) goto usage_error;
            s.orig_len = (int)x, i++;
        } else if (strcmp(a, "--run") == 0 || strcmp(a, "--out") == 0) {
            if (!v) {
                core_errorf("%s needs a value", a);
                goto usage_error;
            }
            if (strcmp(a, "--run") == 0)
                s.run = v;
            else
                s.out = v;
            i++;
        } else if (a[0] == '-') {
            core_errorf("unknown option \"%s\" (see posenc show --help)", a);
            goto usage_error;
        } else if (!s.enc) {
            s.enc = a;
        } else {
            core_errorf("more than one ENCODING (\"%s\", \"%s\")", s.enc, a);
            goto usage_error;
        }
    }
    char names[PE_NAMES_MAX];
    pe_names(names, sizeof names);
    if (!s.enc) {
        core_errorf("missing ENCODING (one of: %s; see posenc show --help)", names);
        goto usage_error;
    }
    if (!pe_find(s.enc)) {
        core_errorf("unknown position encoding \"%s\" (valid: %s)", s.enc, names);
        goto usage_error;
    }
    if ((s.rope_scaling != PE_ROPE_SCALING_NONE || s.rope_scale > 0 || s.orig_len) && !pe_has(s.enc, PE_SCALABLE)) {
        char with[256];
        pe_names_with(PE_SCALABLE, with, sizeof with);
        core_errorf("--rope-scaling, --rope-scale and --orig-len apply to %s only, not %s", with, s.enc);
        goto usage_error;
    }
    if (adds_nothing(pe_find(s.enc))) {
        printf("%s: %s — no table is added, q and k are not rotated, scores get no bias. Nothing to draw.\n", s.enc,
               pe_find(s.enc)->summary);
        return 0;
    }
    const ShowView *view = show_view_find(s.enc);
    if (!view) {
        char list[512] = "";
        for (int i = 0; i < show_num_views; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", show_views[i]->enc);
        core_errorf("no picture for position encoding \"%s\" yet (views: %s)", s.enc, list);
        goto usage_error;
    }

    int rc = show_prepare(&s);
    if (rc != 0) {
        fprintf(stderr, "posenc show: %s\n", core_error());
        return rc;
    }
    char outdir[4096];
    snprintf(outdir, sizeof outdir, "%s", s.out ? s.out : s.run ? s.run : "show");
    s.out = outdir;
    if (!s.no_plot && dir_create(s.out) != 0) {
        rc = EXIT_RUNTIME;
    } else {
        rc = view->draw(&s, view);
    }
    show_release(&s);
    if (rc != 0) fprintf(stderr, "posenc show: %s\n", core_error());
    return rc;

usage_error:
    fprintf(stderr, "posenc show: %s\n", core_error());
    return EXIT_USAGE;
}
