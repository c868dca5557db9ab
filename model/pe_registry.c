/*
 * pe_registry.c — the table of position encodings, chosen by name.
 * To add an encoding: write pe_<name>.c defining `const PEOps pe_<name>_ops`
 * and add one line to the table below.
 */
#include <stdlib.h>
#include <string.h>

#include "pe.h"

extern const PEOps pe_none_ops, pe_sinusoidal_ops, pe_learned_ops, pe_rope_ops, pe_alibi_ops;

static const PEOps *const registry[] = {
    &pe_none_ops, &pe_sinusoidal_ops, &pe_learned_ops, &pe_rope_ops, &pe_alibi_ops,
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

void pe_free(PE *pe) {
    if (pe->ops && pe->ops->teardown)
        pe->ops->teardown(pe);
    else
        free(pe->state);
    pe->state = NULL;
}
