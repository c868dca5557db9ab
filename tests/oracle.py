#!/usr/bin/python3
"""The PyTorch oracle (`make test-oracle`): posenc's model and its nine position
encodings written again in PyTorch, from docs/SPEC.md alone (§1 the sequence
format, §3 the model, §4 the encodings, §4.11 RoPE scaling), and set against
posenc's own forward and backward pass on checkpoints trained by `posenc train`.

For each case (an encoding with its settings) this script
  1. trains a tiny model for a few steps with `posenc train` (copy, n <= 6);
  2. builds one batch by docs/SPEC.md §1 (BOS x SEP y EOS, answer predictions
     counted, right padding): lengths inside the training range and up to 16
     (inputs 2.4x the longest training input), with plain position ids and
     with sorted random ones (§4.10); the learned table only to its size;
  3. runs tests/oracle_dump.c (posenc's library: the checkpoint loaded as
     `posenc eval` loads it; one forward and backward pass as training runs
     them, the batch again through the inference path `posenc eval` runs, and
     each row token by token through the key/value cache as `posenc predict`
     decodes) -> logits three ways, loss and every checkpoint tensor's gradient;
  4. loads the same checkpoint with its own safetensors reader, recomputes all
     of it in float64 with autograd, and compares.

Tolerances. The oracle computes in float64 from the float32 weights, so the
difference is posenc's own float32 rounding (sums of up to d_ff = 128 products
through two layers, OpenBLAS's pinned kernel, posenc's exp and tanh): a few
float32 units in the last place of the values' scale. Worst seen over all
cases: logits 3.5e-7 of the largest logit (4.0e-7 by incremental decoding),
loss 1.4e-7 (6e-8 of the loss), gradients 1.7e-6 of the tensor's scale. The
test allows
  logits  max |posenc - oracle| over real tokens <= 2e-5 * max(1, max |logit|),
          for each of the three paths
  loss    |posenc - oracle| <= 1e-6 * max(1, loss)
  grads   per tensor: max |posenc - oracle| <= 5e-5 * (max |oracle grad of the
          tensor| + 1e-3 * max |oracle grad of any tensor|); the second term
          judges a tensor whose gradient is all but zero (FIRE's output bias:
          a constant per head, which the softmax ignores) at the model's scale
i.e. 17 to 50 times the worst error seen: the checkpoints, the batch and
posenc's pinned kernels are the same bits on every machine, so these errors do
not vary between machines, while a wrong formula or constant moves them by
orders of magnitude (ALiBi's slope exponent 3 -> 2.9 in get_slopes, i.e. a base
of 7.46 for 8: logits 7.6e-3 and 8.4e-3, gradients 2.9e-2 and 6.3e-2 for 6 and
4 heads; YaRN's attention factor 0.1 -> 0.11: logits 7.6e-4; the decoding
attention's 1/sqrt(hs) -> 1.05/sqrt(hs): decoded logits 2.6e-3 and more; the
same in the inference path's attention: its logits 2.4e-3 and more).

Exit status 0 when every case agrees, 1 otherwise (each disagreement named).
"""
import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time

import numpy as np
import torch

DT = torch.float64
TOL_LOGITS = 2e-5
TOL_LOSS = 1e-6
TOL_GRAD = 5e-5
GRAD_FLOOR = 1e-3  # of the largest gradient element of all tensors

# ---- safetensors (https://huggingface.co/docs/safetensors), read here ------
# u64 header length N (little-endian), N bytes of JSON, then the data section.


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name}: dtype {e['dtype']}, expected F32")
        b, end = e["data_offsets"]
        arr = np.frombuffer(raw[base + b : base + end], dtype="<f4").reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return meta, out


# ---- the encodings (docs/SPEC.md §4) ---------------------------------------


def sinusoidal_table(pos, C):
    """§4.2: PE[p, 2i] = sin(p / 10000^(2i/C)), PE[p, 2i+1] = cos(same),
    computed in double and rounded to float."""
    i2 = torch.arange(0, C, 2, dtype=DT)
    ang = pos.to(DT)[..., None] / torch.pow(torch.tensor(10000.0, dtype=DT), i2 / C)
    pe = torch.empty(*pos.shape, C, dtype=DT)
    pe[..., 0::2] = torch.sin(ang)
    pe[..., 1::2] = torch.cos(ang)
    return pe.float().to(DT)


def alibi_slopes(n):
    """§4.5: Press et al.'s get_slopes: 2^(-8h/n), h = 1..n, for n a power of
    two; else those of the largest power of two below n, then every other
    slope of the next power of two, from its first."""

    def pow2(k):
        return [2.0 ** (-8.0 * h / k) for h in range(1, k + 1)]

    if n & (n - 1) == 0:
        return pow2(n)
    c = 1 << (n.bit_length() - 1)
    return pow2(c) + pow2(2 * c)[0::2][: n - c]


def t5_bucket(d, buckets, max_distance):
    """§4.6: HF _relative_position_bucket(bidirectional=False), float32 logs."""
    max_exact = buckets // 2
    d = d.long()
    large = max_exact + (
        torch.log(d.float() / max_exact) / math.log(max_distance / max_exact) * (buckets - max_exact)
    ).to(torch.long)
    large = torch.minimum(large, torch.full_like(large, buckets - 1))
    return torch.where(d < max_exact, d, large)


def rope_frequencies(R, base, scaling=None, s=1.0, orig_len=0):
    """§4.4 and §4.11: w_i = base^(-2i/R), i = 0..R/2-1, under an evaluation
    scaling; returns (w', factor on cos and sin)."""
    i = torch.arange(R // 2, dtype=DT)
    w = base ** (-2.0 * i / R)
    if scaling in (None, "none"):
        return w, 1.0
    if scaling == "pi":
        return w / s, 1.0
    if scaling == "ntk":
        base2 = base * s ** (R / (R - 2))
        return base2 ** (-2.0 * i / R), 1.0
    if scaling == "yarn":

        def d(r):  # the pair index that turns r times over the original context
            return R * math.log(orig_len / (2 * math.pi * r)) / (2 * math.log(base))

        lo = max(math.floor(d(32)), 0)
        hi = min(math.ceil(d(1)), R - 1)
        if hi == lo:
            hi += 0.001
        ramp = torch.clamp((i - lo) / (hi - lo), 0, 1)
        g = 1 - ramp  # 1: keep w_i (fast pairs), 0: interpolate w_i / s (slow pairs)
        wy = (w / s) * (1 - g) + w * g
        return wy, (0.1 * math.log(s) + 1.0) if s > 1 else 1.0
    raise ValueError(scaling)


def rotate_half(x, pos, w, mscale, R):
    """§4.4: dimension i pairs with i + R/2 (rotate-half), rotated by
    pos * w_i; dimensions R.. pass unchanged. x (B, NH, T, hs), pos (B, T)."""
    ang = pos.to(DT)[:, None, :, None] * w  # (B, 1, T, R/2)
    cos, sin = torch.cos(ang) * mscale, torch.sin(ang) * mscale
    h = R // 2
    x1, x2, rest = x[..., :h], x[..., h:R], x[..., R:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], dim=-1)


# ---- the model (docs/SPEC.md §3) --------------------------------------------


def layernorm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def forward(cfg, W, inputs, targets, pos, scaling=None, s=1.0, orig_len=0):
    """Logits (B, T, V) and the mean cross-entropy over counted targets."""
    m = cfg["model"]
    C, L, NH, pe = m["d_model"], m["n_layers"], m["n_heads"], m["pe"]
    hs = C // NH
    B, T = inputs.shape
    x = W["transformer.wte.weight"][inputs] * m["emb_scale"]
    if pe == "sinusoidal":
        x = x + sinusoidal_table(pos, C)
    elif pe == "learned":
        x = x + W["transformer.wpe.weight"][pos]

    # query/key position ids and their distance
    pi_, pj = pos[:, :, None], pos[:, None, :]  # (B, T, 1), (B, 1, T)
    dist = torch.clamp(pi_ - pj, min=0)  # (B, T, T)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))

    if pe in ("rope", "xpos"):
        R = hs if pe == "xpos" else int(m["rope_fraction"] * hs) // 2 * 2
        w, mscale = rope_frequencies(R, m["rope_base"], scaling, s, orig_len)
    if pe == "xpos":
        i = torch.arange(hs // 2, dtype=DT)
        zeta = (2 * i + 0.4 * hs) / (1.4 * hs)
        zeta = torch.cat([zeta, zeta])  # pair i = dims i and i + hs/2
        expo = pos.to(DT)[:, None, :, None] / m["xpos_scale_base"]  # (B, 1, T, 1)
    if pe == "alibi":
        slopes = torch.tensor(alibi_slopes(NH), dtype=DT)
    if pe == "t5":
        bk = t5_bucket(dist, m["t5_buckets"], m["t5_max_distance"])  # (B, T, T)
        t5_bias = W["transformer.relative_attention_bias.weight"][bk].permute(0, 3, 1, 2)

    for l in range(L):
        P = f"transformer.h.{l}."
        h = layernorm(x, W[P + "ln_1.weight"], W[P + "ln_1.bias"])
        qkv = h @ W[P + "attn.c_attn.weight"].T + W[P + "attn.c_attn.bias"]
        q, k, v = (t.reshape(B, T, NH, hs).transpose(1, 2) for t in qkv.split(C, dim=-1))
        if pe in ("rope", "xpos"):
            q = rotate_half(q, pos, w, mscale, R)
            k = rotate_half(k, pos, w, mscale, R)
        if pe == "xpos":
            q = q * zeta ** expo
            k = k * zeta ** (-expo)
        att = q @ k.transpose(-1, -2) / math.sqrt(hs)  # (B, NH, T, T)
        if pe == "alibi":
            att = att - slopes[None, :, None, None] * dist[:, None].to(DT)
        elif pe == "t5":
            att = att + t5_bias
        elif pe == "fire":
            c = W[P + "attn.fire.c"][0]
            Lth = torch.abs(W[P + "attn.fire.L_multiplier"][0]) * m["fire_init_L"]

            def psi(z):
                return torch.log(torch.abs(c) * z + 1)

            norm = psi(torch.maximum(Lth, pi_.to(DT))) + 1e-6  # (B, T, 1)
            z = (psi(dist.to(DT)) / norm)[..., None]  # (B, T, T, 1)
            hid = torch.relu(z @ W[P + "attn.fire.mlp.0.weight"].T + W[P + "attn.fire.mlp.0.bias"])
            f = hid @ W[P + "attn.fire.mlp.2.weight"].T + W[P + "attn.fire.mlp.2.bias"]
            att = att + f.permute(0, 3, 1, 2)
        elif pe == "kerple":
            p = torch.nn.functional.softplus(W[P + "attn.kerple.bias_p_raw"])
            a = torch.nn.functional.softplus(W[P + "attn.kerple.bias_a_raw"])
            att = att - p[None, :, None, None] * torch.log(1 + a[None, :, None, None] * dist[:, None].to(DT))
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ W[P + "attn.c_proj.weight"].T + W[P + "attn.c_proj.bias"]
        h = layernorm(x, W[P + "ln_2.weight"], W[P + "ln_2.bias"])
        h = gelu_tanh(h @ W[P + "mlp.c_fc.weight"].T + W[P + "mlp.c_fc.bias"])
        x = x + h @ W[P + "mlp.c_proj.weight"].T + W[P + "mlp.c_proj.bias"]
    x = layernorm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"])
    logits = x @ W["lm_head.weight"].T
    counted = targets >= 0
    loss = torch.nn.functional.cross_entropy(logits[counted], targets[counted])
    return logits, loss


def self_check():
    """docs/SPEC.md §4's test vectors, through the oracle's own functions."""
    assert np.allclose(sinusoidal_table(torch.tensor([3]), 4)[0].numpy(),
                       [0.141120, -0.989992, 0.029996, 0.999550], atol=1e-6)
    assert alibi_slopes(4) == [1 / 4, 1 / 16, 1 / 64, 1 / 256]
    assert alibi_slopes(8) == [2.0**-k for k in range(1, 9)]
    assert alibi_slopes(6) == [0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125]
    assert np.allclose(alibi_slopes(12)[8:], [0.7071068, 0.3535534, 0.1767767, 0.0883883])
    d = torch.tensor([0, 7, 8, 16, 32, 64, 128, 500])
    assert t5_bucket(d, 32, 128).tolist() == [0, 7, 8, 16, 21, 26, 31, 31]
    w, _ = rope_frequencies(4, 1e4)
    x = torch.tensor([1.0, 2, 3, 4], dtype=DT).reshape(1, 1, 1, 4)
    got = rotate_half(x, torch.tensor([[1]]), w, 1.0, 4).flatten().numpy()
    assert np.allclose(got, [-1.984111, 1.959901, 2.462378, 4.019800], atol=1e-6), got
    w, _ = rope_frequencies(16, 1e4, "ntk", 2.0)
    assert abs(w[1].item() ** (-16 / 2) - 22081.79) < 0.01  # §4.11's NTK base'


# ---- batches (docs/SPEC.md §1) ----------------------------------------------


def copy_batch(alphabet, lengths, rng, max_pos=None):
    """Copy examples BOS x SEP x EOS at the given lengths n: inputs (all but
    the last token), targets (the answer and EOS counted at positions
    n+1 .. 2n+1, else -1) and position ids (0..; with max_pos, a sorted random
    subset of [0, max_pos) per row), right-padded with PAD."""
    PAD, BOS, SEP, EOS = alphabet, alphabet + 1, alphabet + 2, alphabet + 3
    T = max(2 * n + 2 for n, _ in lengths)
    inputs = torch.full((len(lengths), T), PAD, dtype=torch.long)
    targets = torch.full((len(lengths), T), -1, dtype=torch.long)
    pos = torch.arange(T).repeat(len(lengths), 1)
    for b, (n, rand) in enumerate(lengths):
        x = rng.integers(0, alphabet, n).tolist()
        seq = [BOS] + x + [SEP] + x + [EOS]
        inputs[b, : len(seq) - 1] = torch.tensor(seq[:-1])
        for t in range(n + 1, 2 * n + 2):
            targets[b, t] = seq[t + 1]
        if rand:
            pos[b] = torch.from_numpy(np.sort(rng.choice(max_pos, T, replace=False)))
    return inputs, targets, pos


# ---- the cases --------------------------------------------------------------

TRAIN = ["--set", "task.max_len=6", "--set", "model.d_model=32", "--set", "model.n_layers=2",
         "--set", "model.n_heads=4", "--set", "train.steps=30", "--set", "train.batch_size=16",
         "--set", "train.lr=3e-3", "--set", "train.warmup=3", "--set", "train.eval_every=0",
         "--set", "eval.lengths=4,16", "--set", "eval.samples=8"]

# name, model settings, evaluation-time RoPE scalings (name, s, original context)
CASES = [
    ("none", {"pe": "none", "d_ff": 40}, []),
    ("sinusoidal", {"pe": "sinusoidal", "emb_scale": 2.0}, []),
    ("learned", {"pe": "learned"}, []),
    ("rope", {"pe": "rope"}, [("pi", 2.5, 14), ("ntk", 2.5, 14), ("yarn", 2.5, 14)]),
    ("rope-half", {"pe": "rope", "rope_fraction": 0.5, "rope_base": 500}, [("ntk", 3, 14)]),
    # head size 16, base 100: YaRN's ramp has a pair between its ends
    ("rope-2heads", {"pe": "rope", "n_heads": 2, "rope_base": 100}, [("yarn", 2, 14)]),
    ("alibi", {"pe": "alibi"}, []),
    ("alibi-6heads", {"pe": "alibi", "n_heads": 6, "d_model": 36}, []),
    ("t5", {"pe": "t5", "t5_buckets": 8, "t5_max_distance": 20}, []),
    ("fire", {"pe": "fire", "fire_hidden": 8, "fire_init_L": 8}, []),
    ("kerple", {"pe": "kerple"}, []),
    ("xpos", {"pe": "xpos", "xpos_scale_base": 32}, []),
]


def write_batch(path, inputs, targets, pos):
    B, T = inputs.shape
    with open(path, "w") as f:
        f.write(f"{B} {T}\n")
        for a in (inputs, targets, pos):
            f.write(" ".join(str(v) for v in a.flatten().tolist()) + "\n")


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit(f"oracle: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}")


def compare(label, cfg, W, dump, inputs, targets, pos, scaling):
    """The oracle's pass on the batch against posenc's dump: (ok, a line of the
    measured errors, the disagreements beyond the tolerances)."""
    Wt = {k: v.to(DT).requires_grad_(True) for k, v in W.items()}
    logits, loss = forward(cfg, Wt, inputs, targets, pos, *scaling)
    loss.backward()
    ok = True
    msgs = []
    # the logits of real tokens (posenc computes no padding rows; their values are not defined)
    real = inputs != cfg["task"]["alphabet"]
    got = dump["logits"].to(DT)[real]
    ref = logits.detach()[real]
    e_log = (got - ref).abs().max().item()
    lim = TOL_LOGITS * max(1.0, ref.abs().max().item())
    if not e_log <= lim:
        ok = False
        msgs.append(f"logits differ by {e_log:.3g} (allowed {lim:.3g})")
    e_dec = (dump["decode_logits"].to(DT)[real] - ref).abs().max().item()
    if not e_dec <= lim:
        ok = False
        msgs.append(f"logits by incremental decoding differ by {e_dec:.3g} (allowed {lim:.3g})")
    e_inf = (dump["infer_logits"].to(DT)[real] - ref).abs().max().item()
    if not e_inf <= lim:
        ok = False
        msgs.append(f"logits by the inference path differ by {e_inf:.3g} (allowed {lim:.3g})")
    e_loss = abs(dump["loss"].item() - loss.item())
    lim = TOL_LOSS * max(1.0, loss.item())
    if not e_loss <= lim:
        ok = False
        msgs.append(f"loss {dump['loss'].item():.7g} vs oracle {loss.item():.7g}")
    gmax = max(t.grad.abs().max().item() for t in Wt.values())
    worst, worst_name = 0.0, "-"
    names = set(W)
    dumped = {k[len("grad."):] for k in dump if k.startswith("grad.")}
    if names != dumped:
        ok = False
        msgs.append(f"tensor names differ: {sorted(names ^ dumped)}")
    for name in sorted(names & dumped):
        g_ref = Wt[name].grad
        g = dump["grad." + name].to(DT)
        err = (g - g_ref).abs().max().item()
        tmax = g_ref.abs().max().item()
        lim = TOL_GRAD * (tmax + GRAD_FLOOR * gmax)
        rel = err / (tmax + GRAD_FLOOR * gmax)  # the error in units of the tensor's scale
        if rel > worst:
            worst, worst_name = rel, name
        if not err <= lim:
            ok = False
            msgs.append(f"grad {name} differs by {err:.3g} (largest element {tmax:.3g}, allowed {lim:.3g})")
    scale = max(1.0, ref.abs().max().item())
    line = (f"{label:<22} logits {e_log / scale:.1e} {e_inf / scale:.1e} {e_dec / scale:.1e}  "
            f"loss {e_loss:.1e}  grads {worst:.1e} ({worst_name})")
    return ok, line, msgs


def main():
    ap = argparse.ArgumentParser(description="PyTorch oracle for posenc's model and encodings")
    ap.add_argument("--posenc", required=True, help="the posenc program")
    ap.add_argument("--dump", required=True, help="tests/oracle_dump.c's program")
    ap.add_argument("--work", required=True, help="a folder for the runs (replaced)")
    ap.add_argument("--only", help="comma-separated case names")
    args = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(1)
    self_check()
    if os.path.isdir(args.work):
        shutil.rmtree(args.work)
    os.makedirs(args.work)
    failed = 0
    cases = [c for c in CASES if not args.only or c[0] in args.only.split(",")]
    unknown = set(args.only.split(",")) - {c[0] for c in CASES} if args.only else set()
    if unknown:
        sys.exit(f"oracle: --only: unknown case(s) {', '.join(sorted(unknown))}; "
                 f"cases: {', '.join(c[0] for c in CASES)}")
    print("posenc against the oracle: largest logit error relative to max(1, largest logit) "
          "(training forward pass, inference path, incremental decoding), loss error, largest gradient error relative "
          "to its tensor's scale (that tensor)")
    for name, settings, scalings in cases:
        run_dir = os.path.join(args.work, name)
        sets = [a for k, v in settings.items() for a in ("--set", f"model.{k}={v}")]
        run([args.posenc, "train", *TRAIN, *sets, "--out", run_dir, "--quiet"])
        meta, W = read_safetensors(os.path.join(run_dir, "model.safetensors"))
        cfg = json.loads(meta["config"])
        # lengths 2..6 (trained) and 9, 16 (longer); plain and random positions
        # (within the learned table's rows, which cover the longest input)
        P = cfg["model"]["max_positions"] if settings["pe"] == "learned" else 48
        spec = [(2, False), (6, False), (9, False), (16, False), (3, True), (6, True), (16, True)]
        rng = np.random.default_rng(list(name.encode()))  # each case's batch, whatever --only says
        inputs, targets, pos = copy_batch(cfg["task"]["alphabet"], spec, rng, max_pos=P)
        batch = os.path.join(run_dir, "oracle_batch.txt")
        write_batch(batch, inputs, targets, pos)
        for scaling in [None] + scalings:
            out = os.path.join(run_dir, f"oracle_{scaling[0] if scaling else 'plain'}.safetensors")
            extra = ([] if not scaling else
                     ["--rope-scaling", scaling[0], "--rope-scale", str(scaling[1]),
                      "--rope-orig-len", str(scaling[2])])
            run([args.dump, run_dir, batch, out, *extra])
            _, dump = read_safetensors(out)
            label = name + (f" {scaling[0]} s={scaling[1]}" if scaling else "")
            ok, line, msgs = compare(label, cfg, W, dump, inputs, targets, pos,
                                     scaling if scaling else (None, 1.0, 0))
            print(("ok    " if ok else "FAIL  ") + line, flush=True)
            for m in msgs[:4]:
                print("        " + m)
            if len(msgs) > 4:
                print(f"        ... and {len(msgs) - 4} more tensors")
            failed += not ok
    print(f"oracle: {len(cases)} encodings/settings, {'all agree' if not failed else f'{failed} FAILED'} "
          f"({time.time() - t0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
