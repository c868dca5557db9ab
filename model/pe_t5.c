/*
 * pe_t5.c — T5 relative position bias (Raffel et al. 2020), causal buckets:
 *
 *   score[i, j] += W[bucket(pos[i] - pos[j]), h]
 *
 * a learned scalar per (bucket, head), one table shared by all layers (as in
 * T5, where the first block owns it and every block reuses it). The bucket of
 * a distance d = max(pos[i] - pos[j], 0) is Hugging Face's
 * `T5Attention._relative_position_bucket(..., bidirectional=False)`:
 *
 *   max_exact = buckets / 2
 *   d < max_exact:  bucket d                               (one bucket per distance)
 *   else:           min(buckets - 1, max_exact + (int)(log(d / max_exact)
 *                        / log(max_distance / max_exact) * (buckets - max_exact)))
 *
 * (log-spaced up to max_distance, then all in the last bucket), computed in
 * float32 like the PyTorch code. With 32 buckets and max distance 128 (T5's
 * defaults, model.t5_buckets / model.t5_max_distance): 0->0, 7->7, 8->8,
 * 16->16, 32->21, 64->26, 128->31, 500->31 (docs/SPEC.md §4, tests/test_pe.c).
 *
 * Layout (nn.Embedding(buckets, NH) of HF T5): W[b * NH + h]. Init as HF's
 * T5PreTrainedModel: N(0, d_model^-1/2). No weight decay (a position
 * parameter, like the learned table). The bucket of every distance 0..P-1 is
 * precomputed in setup, so forward and backward are one table lookup per
 * score.
 */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/error.h"
#include "core/rng.h"
#include "model/pe.h"

static const PESetting buckets_setting = {
    "t5_buckets", PE_SETTING_INT, 32, 2, 1024, 0, "T5 relative-position buckets"};
static const PESetting max_distance_setting = {
    "t5_max_distance", PE_SETTING_INT, 128, 2, 1 << 20, 0,
    "T5: distances from here on share the last bucket; must exceed t5_buckets/2"};
static const PESetting *const t5_settings[] = {&buckets_setting, &max_distance_setting, NULL};

static int buckets_of(const PEConfig *c) { return (int)pe_setting(c, &buckets_setting); }
static int max_distance_of(const PEConfig *c) { return (int)pe_setting(c, &max_distance_setting); }

int pe_t5_bucket(int d, int buckets, int max_distance) {
    if (d < 0) d = 0; /* causal: a key after the query counts as distance 0 */
    const int max_exact = buckets / 2;
    if (d < max_exact) return d;
    float r = dm_logf((float)d / (float)max_exact) / dm_logf((float)max_distance / (float)max_exact) *
              (float)(buckets - max_exact);
    int b = max_exact + (int)r;
    return b < buckets - 1 ? b : buckets - 1;
}

static size_t t5_num_params(const PEConfig *cfg) { return (size_t)buckets_of(cfg) * cfg->NH; }

static int t5_tensors(const PEConfig *cfg, PETensor *out) {
    out[0] = (PETensor){"relative_attention_bias.weight", 0, (size_t)buckets_of(cfg), (size_t)cfg->NH};
    return 1;
}

static int t5_check(const PEConfig *c) {
    if (max_distance_of(c) <= buckets_of(c) / 2)
        return core_errorf("model.t5_max_distance: %d must exceed model.t5_buckets / 2 (%d): the buckets below it "
                         "are one per distance, the rest log-spaced up to it",
                         max_distance_of(c), buckets_of(c) / 2);
    return 0;
}

static void t5_init_params(const PE *pe, float *params, Rng *rng) {
    const float std = 1.0f / sqrtf((float)pe->cfg.C);
    size_t n = t5_num_params(&pe->cfg);
    for (size_t i = 0; i < n; i++) params[i] = std * rng_normal(rng);
}

static int t5_setup(PE *pe) {
    const PEConfig *c = &pe->cfg;
    const int buckets = buckets_of(c), max_distance = max_distance_of(c);
    int *bucket = core_calloc((size_t)c->P, sizeof(int)); /* bucket[d], d = 0..P-1 */
    for (int d = 0; d < c->P; d++) bucket[d] = pe_t5_bucket(d, buckets, max_distance);
    pe->state = bucket;
    return 0;
}

static void t5_bias_forward(const PE *pe, float *row, int l, int h, const int *pos, int i) {
    (void)l; /* shared by all layers */
    const int *bucket = pe->state, NH = pe->cfg.NH, pi = pos[i];
    const float *w = pe->params + h; /* W[b, h] = w[b * NH] */
    for (int j = 0; j <= i; j++) {
        int d = pi - pos[j];
        row[j] += w[(size_t)bucket[d > 0 ? d : 0] * NH];
    }
}

static void t5_bias_backward(const PE *pe, const float *drow, int l, int h, const int *pos, int i) {
    (void)l;
    const int *bucket = pe->state, NH = pe->cfg.NH, pi = pos[i];
    float *g = pe->grads + h;
    for (int j = 0; j <= i; j++) { /* row[j] += W[bucket(pi - pj), h] */
        int d = pi - pos[j];
        g[(size_t)bucket[d > 0 ? d : 0] * NH] += drow[j];
    }
}

const PEOps pe_t5_ops = {
    .name = "t5",
    .summary = "learned bias per (head, log-spaced distance bucket), shared by all layers (Raffel et al. 2020)",
    .settings = t5_settings,
    .check = t5_check,
    .num_params = t5_num_params,
    .tensors = t5_tensors,
    .init_params = t5_init_params,
    .setup = t5_setup,
    .bias_forward = t5_bias_forward,
    .bias_backward = t5_bias_backward,
};
