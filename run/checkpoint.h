/*
 * checkpoint.h — model checkpoints and optimizer state as safetensors files.
 *
 * File format (https://huggingface.co/docs/safetensors), readable by the
 * `safetensors` Python package and loadable without transposes into a
 * PyTorch module of nn.Linear layers (HF's GPT2LMHeadModel keeps c_attn,
 * c_proj, c_fc and mlp.c_proj as Conv1D, (in, out): those four need a
 * transpose; docs/CHECKPOINTS.md):
 *
 *   u64 N (little-endian) | N bytes of JSON header | data section
 *
 *   header = {"__metadata__": {"format": "posenc", "format_version": "1",
 *                              "kind": "model", "config": "<run config JSON>",
 *                              "step": "1200", ...},
 *             "transformer.wte.weight": {"dtype": "F32", "shape": [V, C],
 *                                        "data_offsets": [0, 4*V*C]},
 *             ...}
 *
 * The header is padded with trailing spaces so that the data section starts
 * at an 8-byte aligned file offset. data_offsets are byte offsets relative to
 * the data section; tensors are stored contiguously in table order as
 * little-endian float32, and together they cover the whole data section.
 *
 * Tensor table (checkpoint_tensor_table), HF GPT2LMHeadModel names, nn.Linear
 * weights as (out, in) (HF's Conv1D weights are (in, out)), which is exactly
 * our memory layout; the stacked
 * (L, ...) tensors of gpt.h are split per layer l:
 *
 *   transformer.wte.weight                 (V, C)
 *   transformer.wpe.weight                 (P, C)  only for pe learned
 *   transformer.pe.<pe name>               (n,)    other PE modules with n > 0 params
 *   transformer.h.<l>.ln_1.weight          (C)
 *   transformer.h.<l>.ln_1.bias            (C)
 *   transformer.h.<l>.attn.c_attn.weight   (3C, C)
 *   transformer.h.<l>.attn.c_attn.bias     (3C)
 *   transformer.h.<l>.attn.c_proj.weight   (C, C)
 *   transformer.h.<l>.attn.c_proj.bias     (C)
 *   transformer.h.<l>.ln_2.weight          (C)
 *   transformer.h.<l>.ln_2.bias            (C)
 *   transformer.h.<l>.mlp.c_fc.weight      (F, C)
 *   transformer.h.<l>.mlp.c_fc.bias        (F)
 *   transformer.h.<l>.mlp.c_proj.weight    (C, F)
 *   transformer.h.<l>.mlp.c_proj.bias      (C)
 *   transformer.ln_f.weight                (C)
 *   transformer.ln_f.bias                  (C)
 *   lm_head.weight                         (V, C)
 *
 * The same table, pointed at another buffer of the parameter layout, names
 * the gradients or the AdamW moments: the optimizer state file holds
 * "m.<name>" and "v.<name>" for every entry.
 *
 * Writes are atomic: a save either replaces the file completely or leaves
 * the previous file untouched. Loads validate everything before touching the
 * model. All functions follow core/error.h's convention (0, or -1 after
 * core_errorf with a message that names the file, and the tensor if one is at
 * fault).
 */
#ifndef POSENC_CHECKPOINT_H
#define POSENC_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "model/adamw.h"
#include "model/gpt.h"

/* ---- the tensor table ------------------------------------------------- */

typedef struct {
    char name[96];     /* e.g. "transformer.h.0.attn.c_attn.weight" */
    int ndim;          /* 1 or 2 */
    size_t shape[2];   /* shape[0..ndim-1] */
    size_t size;       /* floats = product of the shape */
    float *data;       /* the tensor inside the buffer given to the table */
} CheckpointTensor;

/* Enumerate m's parameter tensors in file order (see the table above), each
 * pointing into `buf`, a buffer with the layout of m->params_memory (the
 * parameters, the gradients, AdamW's m or v). Names get `prefix` prepended
 * ("" or NULL for none). If `out` is NULL only counts; otherwise fills
 * out[0..count-1], where `max` is out's capacity. Returns the count, or -1
 * after core_errorf if `max` is too small or the table does not cover exactly
 * m->num_params floats (a layout this file does not know). */
int checkpoint_tensor_table(const GPT *m, const char *prefix, float *buf,
                            CheckpointTensor *out, int max);

/* ---- model checkpoints ------------------------------------------------ */

/* Write m's parameters to `path` atomically: write `path.tmp.<pid>`, fflush
 * and fsync it, rename it over `path`, fsync the directory. __metadata__ gets
 * "format": "posenc", "format_version": "1", "kind": "model",
 * "config": config_json (the resolved run config as a JSON string; omitted if
 * NULL) and "step": the decimal step. On any failure (fopen, fwrite, fflush,
 * fsync, fclose, rename) the error names the file and strerror(errno), the
 * temporary file is removed and a previous `path` is left as it was. (Only a
 * failure to fsync the directory is reported after the rename, when the new
 * file is already in place.) */
int checkpoint_save(const char *path, const GPT *m, const char *config_json, long step);

/* checkpoint_save with extra __metadata__ entries: `extra` is NULL or a
 * NULL-terminated list of key, value strings {"k1", "v1", "k2", "v2", NULL}.
 * The keys above are reserved and rejected here. */
int checkpoint_save_ex(const char *path, const GPT *m, const char *config_json, long step,
                       const char *const *extra);

/* Read only the header of a checkpoint written by checkpoint_save, so the
 * caller can rebuild the model before loading: *config_json (malloc'd, the
 * caller frees it) and *step. Fails if the file is not a posenc model
 * checkpoint of a supported format_version, or has no config. Outputs are
 * untouched on failure. */
int checkpoint_read_meta(const char *path, char **config_json, long *step);

/* Load parameters into an already-built model whose config matches the
 * checkpoint's. The header must be sane (length < 100 MB and <= file size
 * - 8, valid JSON object, nothing but whitespace after it); every tensor of
 * the table must be present exactly once with dtype "F32" and exactly the
 * expected shape, no other tensors, data_offsets in bounds with
 * end - begin = 4 * prod(shape), and the tensors must tile the data section
 * with no gap or overlap (in any order, so files written by other safetensors
 * writers load too; __metadata__ is not required here). Everything is
 * validated and read before m is modified: on failure m is unchanged. */
int checkpoint_load(const char *path, GPT *m);

/* ---- optimizer state -------------------------------------------------- */

/* Write AdamW's moments (tensors "m.<name>" and "v.<name>", same table as
 * the model) atomically as checkpoint_save does, with __metadata__
 * "format": "posenc", "format_version": "1", "kind": "optimizer",
 * "t": opt->t, "step": step and "rng": rng_state (the training data
 * generator state), all as decimal strings. opt must have m->num_params
 * entries. */
int optim_save(const char *path, const AdamW *opt, const GPT *m, long step, uint64_t rng_state);

/* Load what optim_save wrote into an AdamW already initialised for m
 * (adamw_init with m->num_params): fills opt->m, opt->v, opt->t, *step and
 * *rng_state. Validation as checkpoint_load, plus the metadata must say
 * kind "optimizer" and hold t, step and rng. On failure nothing is changed. */
int optim_load(const char *path, AdamW *opt, const GPT *m, long *step, uint64_t *rng_state);

#endif
