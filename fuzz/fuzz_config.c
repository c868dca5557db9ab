/*
 * fuzz_config.c — libFuzzer target for the run-config loader: the JSON text
 * of a config and `--set key=value` strings (config_from_string,
 * config_apply_set, config_to_json).
 *
 * Input: the config JSON, then any number of --set strings, separated by
 * NUL bytes ("{...}\0train.lr=3e-4\0model.pe=alibi"). A config that loads
 * must survive a round trip: config_to_json, then loading that text, gives
 * the same JSON again.
 *
 * Built by `make fuzz` (clang, -fsanitize=fuzzer,address,undefined); the
 * seed corpus and every input that once crashed live in
 * tests/fuzz-corpus/config/, and tests/test_fuzz_corpus.c replays them in
 * `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "run/config.h"

#define FUZZ_MAX_SETS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *sets[FUZZ_MAX_SETS] = {0};
    int nsets = 0;
    for (size_t i = 0; i < size && nsets < FUZZ_MAX_SETS; i++)
        if (text[i] == '\0') sets[nsets++] = text + i + 1;

    RunConfig c;
    if (config_from_string(&c, text, "fuzz", sets, nsets) == 0) {
        char *json = config_to_json(&c);
        RunConfig again;
        if (config_from_string(&again, json, "fuzz round trip", NULL, 0) != 0) {
            fprintf(stderr, "round trip failed: %s\n%s\n", core_error(), json);
            abort();
        }
        char *json2 = config_to_json(&again);
        if (strcmp(json, json2) != 0) {
            fprintf(stderr, "round trip changed the config:\n%s\n%s\n", json, json2);
            abort();
        }
        free(json2);
        free(json);
    }
    /* the --set strings alone, on the defaults */
    config_default(&c);
    for (int i = 0; i < nsets; i++) config_apply_set(&c, sets[i]);
    free(text);
    return 0;
}
