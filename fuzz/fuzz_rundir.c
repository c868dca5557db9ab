/*
 * fuzz_rundir.c — libFuzzer target for the files of run directories and
 * sweep folders, which posenc reads as untrusted input (run/inspect.h):
 *
 *   first byte % 4 == 0   config.json    config_from_string (+ the round trip of fuzz_config)
 *                   1     eval*.json     eval_file_parse: every accepted value in range (the
 *                                        values posenc report draws: it reads runs through
 *                                        run_inspect, this parser and the sweep.json parser)
 *                   2     metrics.jsonl  metrics_keep_until (what a resume keeps)
 *                   3     sweep.json     aggregate_parse_sweep
 *
 * the rest of the input is the file's text. Accepted values are checked
 * against the documented ranges, so a parser that lets a bad number through
 * aborts here, as a sanitizer finding would.
 *
 * Built by `make fuzz` (FUZZ_NAMES); seeds and every input that once crashed
 * are in tests/fuzz-corpus/rundir/, replayed by tests/test_fuzz_corpus.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/config.h"
#include "run/inspect.h"
#include "run/train.h"
#include "study/aggregate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_rundir: accepted an out-of-range value: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const int kind = data[0] % 4;
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (kind == 0) {
        RunConfig c;
        if (config_from_string(&c, text, "config.json", NULL, 0) == 0) {
            char *json = config_to_json(&c);
            RunConfig again;
            check(config_from_string(&again, json, "round trip", NULL, 0) == 0, "config round trip");
            free(json);
        }
    } else if (kind == 1) {
        static RunEval e;
        if (eval_file_parse(text, "eval.json", &e) == 0) {
            check(e.step >= 0, "step");
            check(e.num >= 1 && e.num <= RUN_EVAL_MAX_ROWS, "rows");
            check(e.positions >= 0 && e.positions < EVAL_POS_COUNT, "positions");
            check(e.scaling >= 0 && e.scaling < PE_ROPE_SCALING_COUNT, "rope_scaling");
            for (int i = 0; i < e.num; i++) {
                check(e.n[i] >= 1, "n");
                check(e.token_acc[i] >= 0 && e.token_acc[i] <= 1, "token_acc");
                check(e.exact_match[i] >= 0 && e.exact_match[i] <= 1, "exact_match");
                check(isfinite(e.loss[i]) && e.loss[i] >= 0, "loss");
                check(e.floor[i] == -1.0 || (isfinite(e.floor[i]) && e.floor[i] >= 0), "loss_floor");
            }
            check(e.samples == -1 || (e.samples >= 1 && e.samples <= 10000000), "samples");
            check(e.eval_seed == -1 || (e.eval_seed >= 0 && e.eval_seed <= 9007199254740992.0), "eval_seed");
            check(e.adhoc == 0 || e.adhoc == 1, "adhoc");
            check(e.bp_num >= 0 && e.bp_num <= RUN_EVAL_MAX_BYPOS, "by_position entries");
            check(e.bp_max_pos >= -1 && e.bp_max_pos <= 10000000 && (e.bp_num > 0) == (e.bp_max_pos >= 0),
                  "by_position pos");
            for (int i = 0; i < e.num; i++) {
                check(e.n[i] <= 1000000, "n at most 10^6 (a page's drawing work is bounded)");
                for (int q = 0; q < i; q++) check(e.n[q] != e.n[i], "n unique");
                check(e.examples[i] >= 0 && e.examples[i] <= 1000000000, "examples");
            }
            for (int b = 0; b < RUN_EVAL_POS_BINS; b++) {
                check(e.pos_total[b] >= 0 && e.pos_correct[b] >= 0 && e.pos_correct[b] <= e.pos_total[b], "by_position counts");
                check(isfinite(e.pos_loss[b]) && e.pos_loss[b] >= 0, "by_position loss");
            }
        }
    } else if (kind == 2) {
        size_t len = 0;
        double elapsed = 0;
        char *kept = metrics_keep_until(text, 25, &len, &elapsed);
        if (kept) {
            check(len == strlen(kept) && len <= size, "kept length");
            free(kept);
        }
    } else {
        char keys[8][64], name[128];
        int nkeys = 0;
        cJSON *grid = NULL;
        if (aggregate_parse_sweep(text, "sweep.json", keys, &nkeys, name, sizeof name, &grid) == 0) {
            check(nkeys >= 0 && nkeys <= 8, "grid keys");
            for (int k = 0; k < nkeys; k++) check(strlen(keys[k]) < 64, "key length");
            cJSON_Delete(grid);
        }
    }
    free(text);
    return 0;
}
