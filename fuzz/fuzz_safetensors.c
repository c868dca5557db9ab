/*
 * fuzz_safetensors.c — libFuzzer target for the safetensors reader
 * (checkpoint_read_meta, checkpoint_load, optim_load).
 *
 * The reader takes a path, so each input is written to a private temporary
 * file first. The model it is loaded into is a fixed tiny configuration
 * (FUZZ_ST_CONFIG), the one the seed checkpoints in
 * tests/fuzz-corpus/safetensors/ were trained with, so that mutations of a
 * valid file reach the tensor validation and data reads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "model/gpt.h"
#include "run/checkpoint.h"
#include "run/config.h"

#define FUZZ_ST_CONFIG                                                                                      \
    "{\"task\": {\"alphabet\": 2, \"max_len\": 3}, \"model\": {\"d_model\": 8, \"n_layers\": 1, "            \
    "\"n_heads\": 2, \"pe\": \"learned\"}, \"eval\": {\"lengths\": [3]}}"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static GPT fuzz_st_model;
static AdamW fuzz_st_opt;
static char fuzz_st_path[64];

static void fuzz_st_cleanup(void) {
    unlink(fuzz_st_path);
    adamw_free(&fuzz_st_opt);
    gpt_free(&fuzz_st_model);
}

static int fuzz_st_init(void) {
    RunConfig c;
    if (config_from_string(&c, FUZZ_ST_CONFIG, "fuzz", NULL, 0) != 0 || gpt_build(&fuzz_st_model, &c.model) != 0) {
        fprintf(stderr, "fuzz_safetensors: %s\n", core_error());
        abort();
    }
    adamw_init(&fuzz_st_opt, fuzz_st_model.num_params, 0.0f);
    snprintf(fuzz_st_path, sizeof fuzz_st_path, "/tmp/posenc-fuzz-st.%ld", (long)getpid());
    atexit(fuzz_st_cleanup);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready = 0;
    if (!ready) ready = fuzz_st_init();
    FILE *f = fopen(fuzz_st_path, "wb");
    if (!f) return 0;
    size_t w = fwrite(data, 1, size, f);
    fclose(f);
    if (w != size) return 0;

    char *cfg = NULL;
    long step;
    if (checkpoint_read_meta(fuzz_st_path, &cfg, &step) == 0) free(cfg);
    checkpoint_load(fuzz_st_path, &fuzz_st_model);
    uint64_t rng;
    optim_load(fuzz_st_path, &fuzz_st_opt, &fuzz_st_model, &step, &rng);
    return 0;
}
