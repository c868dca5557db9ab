/* pe_none.c — NoPE: no position information beyond the causal mask. */
#include "model/pe.h"

const PEOps pe_none_ops = {
    .name = "none",
    .summary = "NoPE: no position encoding; order comes from the causal mask alone",
};
