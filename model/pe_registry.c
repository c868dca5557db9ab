/*
 * pe_registry.c — the table of position encodings, chosen by name.
 * To add an encoding: write pe_<name>.c defining `const PEOps pe_<name>_ops`
 * and add one line to the table below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pe.h"

extern const PEOps pe_none_ops, pe_sinusoidal_ops, pe_learned_ops, pe_rope_ops, pe_alibi_ops;
extern const PEOps pe_t5_ops, pe_fire_ops, pe_kerple_ops, pe_xpos_ops;

static const PEOps *const registry[] = {
    &pe_none_ops, &pe_sinusoidal_ops, &pe_learned_ops, &pe_rope_ops, &pe_alibi_ops,
    &pe_t5_ops,   &pe_fire_ops,       &pe_kerple_ops,  &pe_xpos_ops,
};
#define NUM_PE ((int)(sizeof registry / sizeof registry[0]))

int pe_count(void) { return NUM_PE; }
const PEOps *pe_at(int i) { return (i >= 0 && i < NUM_PE) ? registry[i] : NULL; }

const PEOps *pe_find(const char *name) {
    for (int i = 0; i < NUM_PE; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

const char *pe_names(void) {
    static char buf[512];
    if (!buf[0]) {
        for (int i = 0; i < NUM_PE; i++) {
            if (i) strcat(buf, ", ");
            strcat(buf, registry[i]->name);
        }
    }
    return buf;
}

int pe_init(PE *pe, const char *name, const PEConfig *cfg) {
    memset(pe, 0, sizeof *pe);
    const PEOps *ops = pe_find(name);
    if (!ops) return pe_errorf("unknown position encoding \"%s\" (valid: %s)", name, pe_names());
    pe->ops = ops;
    pe->cfg = *cfg;
    if (ops->setup && ops->setup(pe) != 0) {
        pe_free(pe);
        return -1;
    }
    return 0;
}

size_t pe_num_params(const PE *pe) {
    return (pe->ops && pe->ops->num_params) ? pe->ops->num_params(&pe->cfg) : 0;
}

int pe_tensors(const PE *pe, PETensor *out) {
    size_t n = pe_num_params(pe);
    if (n == 0) return 0;
    if (pe->ops->tensors) return pe->ops->tensors(&pe->cfg, out);
    static char name[48];
    snprintf(name, sizeof name, "pe.%s", pe->ops->name);
    out[0] = (PETensor){name, 0, n, 0};
    return 1;
}

static size_t tensor_size(const PEConfig *cfg, const PETensor *t) {
    return (t->per_layer ? (size_t)cfg->L : 1) * t->d0 * (t->d1 ? t->d1 : 1);
}

size_t pe_tensor_offset(const PEConfig *cfg, const PETensor *t, int k, int l) {
    size_t off = 0;
    for (int i = 0; i < k; i++) off += tensor_size(cfg, &t[i]);
    return off + (t[k].per_layer ? (size_t)l * t[k].d0 * (t[k].d1 ? t[k].d1 : 1) : 0);
}

size_t pe_state_bytes(const PE *pe) {
    return (pe->ops && pe->ops->state_bytes) ? pe->ops->state_bytes(&pe->cfg) : 0;
}

void pe_config_default(PEConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->rope_base = 10000.0f;
    cfg->rope_fraction = 1.0f;
    cfg->t5_buckets = 32;
    cfg->t5_max_distance = 128;
    cfg->fire_hidden = 32;
    cfg->fire_init_L = 512.0f;
    cfg->xpos_scale_base = 512.0f;
}

void pe_free(PE *pe) {
    if (pe->ops && pe->ops->teardown)
        pe->ops->teardown(pe);
    else
        free(pe->state);
    pe->state = NULL;
}
