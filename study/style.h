/*
 * style.h — how a series is drawn in every figure and page of posenc: its
 * encoding's colour (pe_colour, model/pe.h) and, for a variant of it, a dash
 * pattern of its own, the same for the same variant everywhere.
 *
 * A series is named by its label (run/score.h, eval_variant_label):
 * "ENCODING[+rand][+pi|+ntk|+yarn][ (eval random)]". The encoding picks the
 * colour; plain positions without scaling draw solid; "+rand" (trained with
 * randomized positions) and the RoPE scalings each have a dash pattern; a
 * " (eval random)" series keeps its pattern and gets hollow markers.
 */
#ifndef POSENC_STYLE_H
#define POSENC_STYLE_H

#include <stddef.h>

typedef struct {
    char colour[8];  /* "#rrggbb" */
    char pe[64];     /* the encoding part of the label */
    int variant;     /* 0: the encoding itself (solid); 1..7: its variant's pattern */
    int eval_random; /* " (eval random)" */
    const char *dash_svg; /* SVG stroke-dasharray in px at width 2, "" for solid */
    const char *dash_gp;  /* gnuplot dashtype: "1" (solid) or "(a,b,...)" */
} SeriesStyle;

#define STYLE_VARIANTS 8

void series_style(const char *label, SeriesStyle *st);

/* The dash pattern of variant v (0..STYLE_VARIANTS-1) and what it stands for,
 * for a legend ("+rand", "+pi", "+rand+pi", ...). */
const char *style_dash_svg(int v);
const char *style_variant_name(int v);

#endif
