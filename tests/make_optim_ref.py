#!/usr/bin/python3
# make_optim_ref.py — writes tests/data/optim_ref.bin, the reference that
# tests/test_nn_optim.c compares refrain's AdamW and gradient clipping with:
# torch.optim.AdamW (two parameter groups: a matrix with weight decay, a bias
# without) and torch.nn.utils.clip_grad_norm_ over a few steps with given
# gradients and a different learning rate each step.
#
# Run: /usr/bin/python3 tests/make_optim_ref.py   (Debian's torch 1.13)
#
# File layout, little-endian:
#   char[4] "OPTR"; int32 nsteps, rows, cols, nb
#   float32 beta1, beta2, eps, weight_decay, max_norm
#   float32 w0[rows*cols], b0[nb]
#   per step: float32 lr, gw[rows*cols], gb[nb], norm,
#             w[rows*cols], b[nb], m_w, m_b, v_w, v_b   (after the step)
import struct
import sys

import torch

torch.manual_seed(1234)
rows, cols, nb = 5, 7, 6
# eps large enough that putting it inside the sqrt would show
beta1, beta2, eps, wd, max_norm = 0.9, 0.95, 1e-3, 0.1, 1.0
lrs = [1e-2, 2e-2, 1.5e-2, 1e-2, 5e-3, 2e-3]
# gradient scales: some steps are clipped (norm > 1), some are not
scales = [0.05, 3.0, 0.1, 5.0, 0.2, 0.02]

w = torch.randn(rows, cols, dtype=torch.float32, requires_grad=True)
b = torch.randn(nb, dtype=torch.float32, requires_grad=True)
opt = torch.optim.AdamW([{"params": [w], "weight_decay": wd},
                         {"params": [b], "weight_decay": 0.0}],
                        lr=lrs[0], betas=(beta1, beta2), eps=eps, foreach=False)

out = bytearray()
f32 = lambda t: t.detach().contiguous().numpy().astype("<f4").tobytes()
out += b"OPTR" + struct.pack("<4i", len(lrs), rows, cols, nb)
out += struct.pack("<5f", beta1, beta2, eps, wd, max_norm)
out += f32(w) + f32(b)
for lr, sc in zip(lrs, scales):
    gw = torch.randn(rows, cols) * sc
    gb = torch.randn(nb) * sc
    w.grad = gw.clone()
    b.grad = gb.clone()
    norm = torch.nn.utils.clip_grad_norm_([w, b], max_norm)
    for g in opt.param_groups:
        g["lr"] = lr
    opt.step()
    sw, sb = opt.state[w], opt.state[b]
    out += struct.pack("<f", lr) + f32(gw) + f32(gb) + struct.pack("<f", float(norm))
    out += f32(w) + f32(b)
    out += f32(sw["exp_avg"]) + f32(sb["exp_avg"]) + f32(sw["exp_avg_sq"]) + f32(sb["exp_avg_sq"])

path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/optim_ref.bin"
with open(path, "wb") as fh:
    fh.write(out)
print(f"wrote {path} ({len(out)} bytes, {len(lrs)} steps)")
