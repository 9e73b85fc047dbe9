#!/usr/bin/python3
"""make_denoiser_ref.py — the whole section denoiser of diffusion/denoiser.c in
PyTorch 1.13 (float64), and the golden reference file tests/data/denoiser_ref.bin
that tests/test_denoiser_ref.c checks refrain against: v_hat, the flow loss and
every parameter gradient, for a tiny configuration.

Run with Debian's python (torch 1.13):  /usr/bin/python3 tests/make_denoiser_ref.py
bench/denoiser_peer.py imports Denoiser from here, so the benchmark peer is the
network this file checks.

The wiring (diffusion/diffusion.h):
  cond  = c2(SiLU(c1(cf)))                       cf (B, Fc)  -> (B, E)
  mem   = mw(mf)                                 mf (B, S, Fm) -> (B, S, C)
  v_hat = DiT(x, cond, mem, mem_mask, self_mask) x (B, T, Ci) -> (B, T, Z)
  loss  = sum_{b,t} w (v_hat - v)^2 / (Z sum w)
The DiT is make_dit_ref.py's (the module test_nn_dit checks nn/dit.c against),
with the self-attention key mask self_mask: padding frames are no key of any
query. Parameter names are the C ones: "cond.fc1.w" (E, Fc), "cond.fc1.b",
"cond.fc2.w", "cond.fc2.b", "memory.w" (C, Fm), "memory.b", "dit.in.w", ...
(the untrained "form.median_seconds" is not part of the network).

The feature widths are conditioning/conditioning.h's macros, copied here:
test_denoiser_ref.c compares them with the build's and fails, naming this file,
when they differ (then update the three numbers and rerun this script).

File format: make_dit_ref.py's (magic b"DITREF01", named float32 tensors).
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_dit_ref import DiT, Lin, write_ref  # noqa: E402

# conditioning/conditioning.h
COND_SEC_DIM = 55     # COND_N_LABELS 34 + COND_N_OCC 5 + COND_N_STYLES 4 + 12
COND_MEM_EXTRA = 41   # COND_N_LABELS 34 + 7
COND_FRAME_DIM = 3


class CondMlp(nn.Module):
    def __init__(self, Fc, E):
        super().__init__()
        self.fc1 = Lin(Fc, E)
        self.fc2 = Lin(E, E)

    def forward(self, cf):
        return self.fc2(F.silu(self.fc1(cf)))


class Denoiser(nn.Module):
    """diffusion/denoiser.c's network; the arguments are DenoiserConfig's fields of the same names."""

    def __init__(self, z, width, depth, heads, cond_dim, t_dim, mlp_ratio=4):
        super().__init__()
        self.z = z
        self.cond = CondMlp(t_dim + COND_SEC_DIM, cond_dim)
        self.memory = Lin(z + COND_MEM_EXTRA, width)
        self.dit = DiT(C=width, L=depth, H=heads, mlp_ratio=mlp_ratio, E=cond_dim, Cin=z + COND_FRAME_DIM,
                       Cout=z, Cm=width)

    def forward(self, x, cf, mf, mem_mask, self_mask):
        """x (B, T, Ci), cf (B, Fc), mf (B, S, Fm), mem_mask (B, S) bool, self_mask (B, T) bool -> (B, T, Z)."""
        mem = self.memory(mf) if mf.shape[1] > 0 else mf
        return self.dit(x, self.cond(cf), mem, mem_mask, self_mask)


def flow_loss(v_hat, v, w):
    """Mean of (v_hat - v)^2 over the frames with w = 1 and every channel."""
    return (w[..., None] * (v_hat - v) ** 2).sum() / (w.sum() * v.shape[-1])


def run(model, inp):
    model.zero_grad()
    v_hat = model(inp["x"], inp["cf"], inp["mf"], inp["mem_mask"], inp["self_mask"])
    loss = flow_loss(v_hat, inp["v"], inp["w"])
    loss.backward()
    return v_hat, loss, {n: p.grad.clone() for n, p in model.named_parameters()}


def main():
    # tiny sizes; Ci != Z, Fc != E, Fm != C so no transposition can hide
    cfg = dict(z=4, width=8, depth=2, heads=2, cond_dim=8, t_dim=4)
    K, n_sec, P, N, B = 2, 3, 3, 6, 2            # tokens/section, sections, context, crop frames, batch
    S, T = K * n_sec, P + N
    Ci, Fc, Fm, Z = cfg["z"] + COND_FRAME_DIM, cfg["t_dim"] + COND_SEC_DIM, cfg["z"] + COND_MEM_EXTRA, cfg["z"]
    torch.manual_seed(4321)
    model = Denoiser(**cfg).double()
    with torch.no_grad():   # random non-zero weights everywhere so every gradient is exercised
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, (0.5 if ".ada." in name else 1.0) / math.sqrt(p.shape[1]))
            else:
                p.normal_(0.0, 0.1)
    d = torch.float64
    x = torch.randn(B, T, Ci, dtype=d)
    cf = torch.randn(B, Fc, dtype=d)
    mf = torch.randn(B, S, Fm, dtype=d)
    # item 0: two remembered sections and a gap; item 1: memory dropped (all masked)
    mem_mask = torch.tensor([[1, 1, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]], dtype=torch.bool)
    # item 0: a short section, its last 2 frames padding; item 1: every frame valid
    self_mask = torch.ones(B, T, dtype=torch.bool)
    self_mask[0, T - 2:] = False
    v = torch.randn(B, T, Z, dtype=d)
    w = self_mask.to(d).clone()
    w[:, :P] = 0                                 # context frames carry no loss
    inp = dict(x=x, cf=cf, mf=mf, mem_mask=mem_mask, self_mask=self_mask, v=v, w=w)

    v_hat, loss, grads = run(model, inp)

    # double check: the same computation in float32 must agree with float64
    m32 = Denoiser(**cfg)
    m32.load_state_dict({k: t.float() for k, t in model.state_dict().items()})
    inp32 = {k: (t.float() if t.dtype == d else t) for k, t in inp.items()}
    o32, l32, g32 = run(m32, inp32)
    worst = max((g32[n].double() - g).abs().max().item() / max(g.abs().max().item(), 1e-12)
                for n, g in grads.items())
    valid = self_mask[..., None].expand_as(v_hat)
    worst = max(worst, (o32.double() - v_hat)[valid].abs().max().item() / v_hat[valid].abs().max().item())
    print("float32 vs float64 torch: worst relative max-diff %.2e, loss %.9g vs %.9g" % (worst, l32.item(), loss.item()))
    if worst > 1e-4:
        sys.exit("float32 and float64 disagree: the reference is not trustworthy")
    with torch.no_grad():
        # item 1 (all memory masked) equals running it with no memory at all
        alone = model(x[1:], cf[1:], mf[1:, :0], mem_mask[1:, :0], self_mask[1:])
        dm = (alone - v_hat[1:]).abs().max().item()
        # item 0's valid frames equal running it cut to its valid length (padding is no key)
        n0 = int(self_mask[0].sum())
        cut = model(x[:1, :n0], cf[:1], mf[:1], mem_mask[:1], self_mask[:1, :n0])
        dp = (cut - v_hat[:1, :n0]).abs().max().item()
    print("all-masked memory vs no memory: max diff %.2e; padded item vs cut to its length: %.2e" % (dm, dp))
    assert dm < 1e-12 and dp < 1e-12

    c = cfg
    config = [c["z"], c["width"], c["depth"], c["heads"], c["cond_dim"], c["t_dim"], K, n_sec, S, P, N,
              B, T, S, COND_SEC_DIM, COND_MEM_EXTRA, COND_FRAME_DIM]
    tensors = [("config", torch.tensor(config, dtype=d)),
               ("x", x), ("cf", cf), ("mf", mf), ("mem_mask", mem_mask.to(d)), ("self_mask", self_mask.to(d)),
               ("v", v), ("w", w), ("v_hat", v_hat), ("loss", loss.reshape(1))]
    for name, p in model.named_parameters():
        tensors.append(("param:" + name, p))
    for name, g in grads.items():
        tensors.append(("grad:" + name, g))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "denoiser_ref.bin")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_ref(path, tensors)
    print("wrote %s (%d tensors, %d bytes), loss %.9g" % (path, len(tensors), os.path.getsize(path), loss.item()))


if __name__ == "__main__":
    main()
