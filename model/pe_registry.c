/*
 * pe_registry.c — the table of position encodings, chosen by name, and the
 * table of their settings (the union of the encodings' PESetting rows, one
 * slot per distinct row, in registry order).
 * To add an encoding: write pe_<name>.c defining `const PEOps pe_<name>_ops`
 * and add one line to the table below, and its colour to the colour table.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/pe.h"

extern const PEOps pe_none_ops, pe_sinusoidal_ops, pe_learned_ops, pe_rope_ops, pe_alibi_ops;
extern const PEOps pe_t5_ops, pe_fire_ops, pe_kerple_ops, pe_xpos_ops;

static const PEOps *const registry[] = {
    &pe_none_ops, &pe_sinusoidal_ops, &pe_learned_ops, &pe_rope_ops, &pe_alibi_ops,
    &pe_t5_ops,   &pe_fire_ops,       &pe_kerple_ops,  &pe_xpos_ops,
};
#define NUM_PE ((int)(sizeof registry / sizeof registry[0]))

/* Each encoding's colour, in registry order: the one table every figure
 * (study/style.c, posenc show) and the report page take it from. Okabe & Ito's
 * colour-blind-safe hues (their yellow, too pale on white, and black, the
 * reference lines' colour, left out) and, for the last three, Paul Tol's
 * wine, olive and indigo. A new encoding adds its colour here. */
static const char *const colours[] = {
    "#E69F00", /* none: orange */
    "#56B4E9", /* sinusoidal: sky blue */
    "#009E73", /* learned: bluish green */
    "#0072B2", /* rope: blue */
    "#D55E00", /* alibi: vermillion */
    "#CC79A7", /* t5: reddish purple */
    "#882255", /* fire: wine */
    "#999933", /* kerple: olive */
    "#332288", /* xpos: indigo */
};
_Static_assert(sizeof colours / sizeof colours[0] == sizeof registry / sizeof registry[0],
               "one colour per encoding of the registry");

const char *pe_colour(const char *name) {
    for (int i = 0; name && i < NUM_PE; i++)
        if (strcmp(registry[i]->name, name) == 0) return colours[i];
    return PE_COLOUR_OTHER;
}

int pe_count(void) { return NUM_PE; }
const PEOps *pe_at(int i) { return (i >= 0 && i < NUM_PE) ? registry[i] : NULL; }

int pe_has(const char *name, unsigned flag) {
    const PEOps *ops = pe_find(name);
    return ops && (ops->flags & flag) == flag;
}

void pe_names_with(unsigned flag, char *buf, size_t n) {
    size_t used = 0;
    if (n) buf[0] = '\0';
    for (int i = 0; i < NUM_PE; i++)
        if ((registry[i]->flags & flag) == flag && used < n)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "", registry[i]->name);
}

/* ---- settings ------------------------------------------------------------ */

static const PESetting *slots[PE_MAX_SETTINGS];
static int num_slots;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void build_slots(void) {
    for (int i = 0; i < NUM_PE; i++) {
        for (const PESetting *const *s = registry[i]->settings; s && *s; s++) {
            int k = 0;
            while (k < num_slots && slots[k] != *s) k++;
            if (k < num_slots) continue; /* listed by an earlier encoding */
            for (int j = 0; j < num_slots; j++)
                if (strcmp(slots[j]->name, (*s)->name) == 0) {
                    fprintf(stderr, "posenc: two settings called %s (pe_%s.c): one row, listed by both\n",
                            (*s)->name, registry[i]->name);
                    abort();
                }
            if (num_slots == PE_MAX_SETTINGS) {
                fprintf(stderr, "posenc: more than PE_MAX_SETTINGS (%d) encoding settings\n", PE_MAX_SETTINGS);
                abort();
            }
            slots[num_slots++] = *s;
        }
    }
}

static void slots_init(void) { pthread_once(&slots_once, build_slots); }

int pe_num_settings(void) {
    slots_init();
    return num_slots;
}

const PESetting *pe_setting_at(int slot) {
    slots_init();
    return slot >= 0 && slot < num_slots ? slots[slot] : NULL;
}

int pe_setting_find(const char *name) {
    slots_init();
    for (int k = 0; k < num_slots; k++)
        if (strcmp(slots[k]->name, name) == 0) return k;
    return -1;
}

int pe_uses_setting(const PEOps *ops, int slot) {
    const PESetting *row = pe_setting_at(slot);
    for (const PESetting *const *s = ops->settings; row && s && *s; s++)
        if (*s == row) return 1;
    return 0;
}

double pe_setting(const PEConfig *cfg, const PESetting *s) {
    slots_init();
    for (int k = 0; k < num_slots; k++)
        if (slots[k] == s) return cfg->set.v[k];
    fprintf(stderr, "posenc: setting %s belongs to no registered encoding\n", s->name);
    abort();
}

void pe_settings_default(PESettings *set) {
    slots_init();
    memset(set, 0, sizeof *set);
    for (int k = 0; k < num_slots; k++) /* a float setting holds a float's value, as if read from a config */
        set->v[k] = slots[k]->type == PE_SETTING_FLOAT ? (double)(float)slots[k]->def : slots[k]->def;
}

void pe_setting_readers(int slot, char *buf, size_t n) {
    size_t used = 0;
    if (n) buf[0] = '\0';
    for (int i = 0; i < pe_count() && used < n; i++)
        if (pe_uses_setting(pe_at(i), slot))
            used += (size_t)snprintf(buf + used, n - used, "%s\"%s\"", used ? ", " : "", pe_at(i)->name);
}

int pe_check(const PEOps *ops, const PEConfig *cfg) {
    for (const PESetting *const *s = ops->settings; s && *s; s++) {
        const PESetting *r = *s;
        const double v = pe_setting(cfg, r);
        if ((r->lo_open ? v > r->lo : v >= r->lo) && v <= r->hi) continue;
        if (r->type == PE_SETTING_INT)
            return core_errorf("model.%s: must be in %.0f..%.0f, got %.0f", r->name, r->lo, r->hi, v);
        if (isinf(r->hi)) return core_errorf("model.%s: must be %s %g, got %g", r->name, r->lo_open ? ">" : ">=", r->lo, v);
        return core_errorf("model.%s: must be %s %g and <= %g, got %g", r->name, r->lo_open ? ">" : ">=", r->lo, r->hi, v);
    }
    return ops->check ? ops->check(cfg) : 0;
}

const PEOps *pe_find(const char *name) {
    for (int i = 0; i < NUM_PE; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

void pe_names(char *buf, size_t n) { pe_names_with(0, buf, n); }

int pe_init(PE *pe, const char *name, const PEConfig *cfg) {
    memset(pe, 0, sizeof *pe);
    const PEOps *ops = pe_find(name);
    if (!ops) {
        char names[PE_NAMES_MAX];
        pe_names(names, sizeof names);
        return core_errorf("unknown position encoding \"%s\" (valid: %s)", name, names);
    }
    if (pe_check(ops, cfg) != 0) return -1;
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
    out[0] = (PETensor){"", 0, n, 0};
    snprintf(out[0].name, sizeof out[0].name, "pe.%s", pe->ops->name);
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

int pe_full_setup(PE *pe) { return (pe->ops && pe->ops->full_setup) ? pe->ops->full_setup(pe) : 0; }

size_t pe_full_bytes(const PE *pe) {
    return (pe->ops && pe->ops->full_bytes) ? pe->ops->full_bytes(&pe->cfg) : 0;
}

void pe_config_default(PEConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    pe_settings_default(&cfg->set);
}

void pe_free(PE *pe) {
    if (pe->ops && pe->ops->teardown)
        pe->ops->teardown(pe);
    else
        free(pe->state);
    pe->state = NULL;
}
