#include "rundir.h"

#include <stdlib.h>
#include <string.h>

#include "run/checkpoint.h"
#include "run/fsutil.h"

int rundir_load(const char *dir, int min_P, RunConfig *cfg, GPT *m, long *step) {
    char path[4096];
    if (path_join(path, sizeof path, dir, "model.safetensors") != 0) return -1;
    int has = path_probe(path, "the checkpoint"); /* permission or link errors are reported as such */
    if (has < 0) return -1;
    if (!has)
        return pe_errorf("%s: no checkpoint (model.safetensors) in this directory; is it a posenc run "
                         "directory, and has its training written a checkpoint?", dir);
    char *json = NULL;
    long s = 0;
    if (checkpoint_read_meta(path, &json, &s) != 0) return -1;
    int rc = config_from_string(cfg, json, path, NULL, 0);
    free(json);
    if (rc != 0) return -1;
    GPTConfig mc = cfg->model;
    if (min_P > mc.P) {
        if (pe_has(mc.pe, PE_TRAINED_POSITIONS))
            return pe_errorf("%s: evaluation needs %d positions but the %s position table has only "
                             "model.max_positions = %d rows (trained rows beyond the training length do "
                             "not exist); retrain with --set model.max_positions=%d or more",
                             dir, min_P, mc.pe, mc.P, min_P);
        mc.P = min_P; /* tables are recomputed; no parameters depend on P */
    }
    if (gpt_build(m, &mc) != 0) return -1;
    if (checkpoint_load(path, m) != 0) {
        gpt_free(m);
        return -1;
    }
    cfg->model = mc;
    if (step) *step = s;
    return 0;
}
