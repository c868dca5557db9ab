/*
 * style.c — a series' colour and dash pattern from its label (see style.h).
 */
#include "study/style.h"

#include <stdio.h>
#include <string.h>

#include "model/pe.h"

/* variant v = 1 * (+rand) + 2 * scaling (none 0, pi 1, ntk 2, yarn 3): its
 * pattern, as SVG px (at stroke width 2) and as a gnuplot dashtype (the same
 * numbers, which gnuplot's terminals scale by the line width). Never dotted
 * alone: dotted is the chance line. */
static const struct {
    const char *name, *svg, *gp;
} patterns[STYLE_VARIANTS] = {
    {"", "", "1"},
    {"+rand", "8 4", "(8,4)"},
    {"+pi", "14 4 3 4", "(14,4,3,4)"},
    {"+rand+pi", "14 4 3 4 3 4", "(14,4,3,4,3,4)"},
    {"+ntk", "4 3", "(5,4)"},
    {"+rand+ntk", "4 3 1 3", "(5,4,1,4)"},
    {"+yarn", "20 6", "(20,6)"},
    {"+rand+yarn", "20 6 4 6", "(20,6,4,6)"},
};

const char *style_dash_svg(int v) { return v >= 0 && v < STYLE_VARIANTS ? patterns[v].svg : ""; }
const char *style_variant_name(int v) { return v >= 0 && v < STYLE_VARIANTS ? patterns[v].name : ""; }

void series_style(const char *label, SeriesStyle *st) {
    memset(st, 0, sizeof *st);
    const size_t len = strcspn(label, "+ ");
    snprintf(st->pe, sizeof st->pe, "%.*s", (int)(len < sizeof st->pe ? len : sizeof st->pe - 1), label);
    snprintf(st->colour, sizeof st->colour, "%s", pe_colour(st->pe));
    const char *rest = label + len;
    const size_t vlen = strcspn(rest, " "); /* "+rand+pi" of "rope+rand+pi (eval random)" */
    int v = 0;
    if (vlen >= 5 && strncmp(rest, "+rand", 5) == 0 && (rest[5] == '+' || rest[5] == ' ' || rest[5] == '\0')) v = 1;
    const char *sc = rest + (v ? 5 : 0);
    for (int k = 1; k < PE_ROPE_SCALING_COUNT && k <= 3; k++) {
        const char *name = pe_rope_scaling_name(k);
        const size_t n = strlen(name);
        if (sc[0] == '+' && strncmp(sc + 1, name, n) == 0 && (sc[1 + n] == ' ' || sc[1 + n] == '\0')) v += 2 * k;
    }
    st->variant = v;
    st->eval_random = strstr(rest, " (eval random)") != NULL;
    st->dash_svg = patterns[v].svg;
    st->dash_gp = patterns[v].gp;
}
