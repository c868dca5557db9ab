/*
 * cmd_eval.c — `posenc eval RUN`: docs/SPEC.md §2 metrics per evaluation length,
 * written to RUN/eval.json and RUN/eval.csv and printed as a table, plus
 * accuracy by absolute position. The options, then eval_run (run/evaluation.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "run/evaluation.h"
#include "run/score.h"

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: posenc eval RUN [--lengths LIST] [--samples N] [--batch-size N] [--threads N]\n"
            "                      [--positions plain|random[,...]] [--rope-scaling none|pi|ntk|yarn[,...]]\n"
            "                      [--rope-scale S] [--rope-scale-past-training]\n"
            "\n"
            "Evaluate the trained model in run directory RUN at each length n of LIST under\n"
            "teacher forcing: token_acc, exact_match, loss, examples. Writes RUN/eval.json and\n"
            "RUN/eval.csv and prints a table with the training range marked, then accuracy by\n"
            "absolute position. The examples at each n are fixed by the config's eval.seed, so\n"
            "every run of every encoding sees the same ones.\n"
            "\n"
            "The run's own evaluation is the one its config.json describes (eval.lengths,\n"
            "eval.samples, eval.positions x eval.rope_scaling, eval.rope_scale). With options\n"
            "that differ from it the evaluation is ad hoc: written beside the run's files as\n"
            "RUN/eval.adhoc.json/.csv (eval-<variant>.adhoc.json ...) and never counted as the\n"
            "run's result by run, sweep, collect or report (docs/SPEC.md section 2.0).\n"
            "\n"
            "Variants: each combination of --positions and --rope-scaling is one evaluation with\n"
            "its own files: RUN/eval.json/.csv for plain positions without scaling, else\n"
            "RUN/eval-<variant>.json/.csv, variant = random, pi, ntk, yarn or random+<method>.\n"
            "  --positions random   each example's position ids are a sorted random subset of\n"
            "                   [0, model.max_positions), as in training with train.random_positions\n"
            "                   (Ruoss et al. 2023); reproducible: drawn from eval.seed and n\n"
            "  --rope-scaling M     rescale RoPE's angles (the run must be trained with rope):\n"
            "                   pi   positions divided by s (Chen et al. 2023)\n"
            "                   ntk  base * s^(R/(R-2)), R = rotated dims (NTK-aware, bloc97)\n"
            "                   yarn per-pair ramp between w and w/s (beta_fast 32, beta_slow 1 rotations\n"
            "                        over the original context) and q.k scaled by (0.1 ln s + 1)^2\n"
            "                        (Peng et al. 2023)\n"
            "                   the original context is the run's longest training input\n"
            "  --rope-scale S   the factor s >= 1 (default: the config's eval.rope_scale; 0 there means\n"
            "                   derived = longest evaluation input / longest training input, at least 1)\n"
            "  A scaling applies at every length by default, inside the training range too (what a\n"
            "  model scaled for a long context sees on short inputs).\n"
            "  --rope-scale-past-training  apply it only at lengths whose input is longer than the\n"
            "                   original context (as dynamic scaling does); shorter ones are evaluated\n"
            "                   unscaled. Recorded in the file (\"rope_scaling_applies\"); an ad-hoc\n"
            "                   evaluation, written beside the run's own\n"
            "Two scalings or more are printed side by side: one table, a column per scaling (each\n"
            "still gets its own files).\n"
            "\n"
            "Language-model tasks (markov) count every token x1..xn: loss is the loss per\n"
            "token, printed beside its floor (the source's exact conditional entropy, the\n"
            "lowest mean loss any model can reach at that n), followed by the loss by\n"
            "absolute position.\n"
            "\n"
            "options:\n"
            "  --lengths LIST   n, a:b or a:b:step, comma-separated, e.g. 8,16,24:64:8\n"
            "                   (default: the config's eval.lengths); each n in 1..262144. Memory grows\n"
            "                   linearly with n (no T x T matrix is held; about 60 MB per 16,384 tokens\n"
            "                   at d_model 64), time quadratically; learned cannot go past the run's\n"
            "                   model.max_positions (its table has no more rows)\n"
            "  --samples N      examples per length (default: the config's eval.samples)\n"
            "  --batch-size N   evaluation batch size (default: the config's eval.batch_size)\n"
            "  --threads N      threads of posenc's pool, OpenBLAS on one (default: the config's train.threads)\n"
            "  --positions L    plain, random or both, comma-separated (default: the config's eval.positions)\n"
            "  --rope-scaling L none, pi, ntk, yarn, comma-separated (default: the config's eval.rope_scaling)\n"
            "  --rope-scale S   see above\n");
}

/* A comma-separated list of names into a bit set: positions (plain, random)
 * or RoPE scalings (none, pi, ntk, yarn). */
static int parse_names(const char *list, const char *opt, int scaling, unsigned *mask) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *mask = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i = scaling ? pe_rope_scaling_find(tok) : eval_positions_find(tok);
        if (i < 0)
            return core_errorf("%s: unknown value \"%s\" (valid: %s)", opt, tok,
                             scaling ? "none, pi, ntk, yarn" : "plain, random");
        *mask |= 1u << i;
    }
    if (!*mask) return core_errorf("%s: expected at least one value", opt);
    return 0;
}

int cmd_eval(int argc, char **argv) {
    const char *run = NULL;
    int lengths[EVAL_MAX_LENGTHS * 4], nl = 0;
    long samples = 0, batch_size = 0, threads = 0;
    const char *positions_opt = NULL, *scaling_opt = NULL;
    double rope_scale = -1.0;
    int past = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (is_help(a)) {
            eval_usage(stdout);
            return 0;
        } else if (strcmp(a, "--lengths") == 0) {
            if (!v || (nl = parse_lengths(v, lengths, EVAL_MAX_LENGTHS * 4)) < 0) goto usage_error;
            i++;
        } else if (strcmp(a, "--samples") == 0) {
            if ((samples = parse_count(a, v, 10000000)) < 0) goto usage_error;
            i++;
        } else if (strcmp(a, "--batch-size") == 0) {
            if ((batch_size = parse_count(a, v, 65536)) < 0) goto usage_error;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if ((threads = parse_count(a, v, 1024)) < 0) goto usage_error;
            i++;
        } else if (strcmp(a, "--positions") == 0 || strcmp(a, "--rope-scaling") == 0) {
            if (!v) {
                core_errorf("%s needs a value", a);
                goto usage_error;
            }
            if (a[2] == 'p') positions_opt = v;
            else scaling_opt = v;
            i++;
        } else if (strcmp(a, "--rope-scale-past-training") == 0) {
            past = 1;
        } else if (strcmp(a, "--rope-scale") == 0) {
            char *end = NULL;
            rope_scale = v ? strtod(v, &end) : -1.0;
            if (!v || *end || end == v || !(rope_scale >= 1.0 && rope_scale <= 1e6)) {
                core_errorf("--rope-scale: expected a number in [1, 1e6], got \"%s\"", v ? v : "");
                goto usage_error;
            }
            i++;
        } else if (a[0] == '-') {
            core_errorf("unknown option \"%s\" (see posenc eval --help)", a);
            goto usage_error;
        } else if (!run) {
            run = a;
        } else {
            core_errorf("more than one RUN (\"%s\", \"%s\")", run, a);
            goto usage_error;
        }
    }
    if (!run) {
        core_errorf("missing RUN directory (see posenc eval --help)");
        goto usage_error;
    }
    EvalOptions opt = {
        .lengths = nl ? lengths : NULL, .num_lengths = nl, .samples = samples, .batch_size = batch_size,
        .threads = threads, .rope_scale = rope_scale, .out = stdout, .scale_past_train = past,
    };
    if ((positions_opt && parse_names(positions_opt, "--positions", 0, &opt.positions) != 0) ||
        (scaling_opt && parse_names(scaling_opt, "--rope-scaling", 1, &opt.scalings) != 0))
        goto usage_error;
    const int rc = eval_run(run, &opt);
    if (rc == EVAL_RUN_INVALID) goto usage_error;
    if (rc != EVAL_RUN_OK) goto runtime_error;
    return 0;

usage_error:
    fprintf(stderr, "posenc eval: %s\n", core_error());
    return EXIT_USAGE;
runtime_error:
    fprintf(stderr, "posenc eval: %s\n", core_error());
    return EXIT_RUNTIME;
}
