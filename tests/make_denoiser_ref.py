#!/usr/bin/python3
"""make_denoiser_ref.py — the whole section denoiser of diffusion/denoiser.c in
PyTorch 1.13 (float64), and the golden reference file tests/data/denoiser_ref.bin
that tests/test_denoiser_ref.c checks refrain against: v_hat, the flow loss and
every parameter gradient, for a tiny configuration; and a second reference,
tests/data/denoiser_ref_pool.bin, for the learned-query attention pooling
memory (DenoiserConfig.mem_pool 1).

Run with Debian's python (torch 1.13):  /usr/bin/python3 tests/make_denoiser_ref.py
bench/denoiser_peer.py imports Denoiser from here, so the benchmark peer is the
network this file checks.

The wiring (diffusion/diffusion.h):
  cond  = c2(SiLU(c1(cf)))                       cf (B, Fc)  -> (B, E)
  mem   = mw(mf)                                 mf (B, S, Fm) -> (B, S, C)
  v_hat = DiT(x, cond, mem, mem_mask, self_mask) x (B, T, Ci) -> (B, T, Z)
  loss  = sum_{b,t} w (v_hat - v)^2 / (Z sum w)
With mem_pool 1 the memory is pooled from each remembered section's frames:
  a     = Attn(q, wk(fr), wv(fr), fr_mask)      q (K, C), fr (B, Ns, Lm, Fp) -> (B, Ns, K, C)
  mem   = a + ws([sec | place of token k]) + bs sec (B, Ns, Fs)    -> (B, Ns*K, C)
with H heads (the DiT's), no bias on wk, wv, and the place of token k
(frac, sin pi frac, cos pi frac) at frac = (k + 0.5) / K. Its names:
"memory.q" (K, C), "memory.k.w" (C, Fp), "memory.v.w", "memory.s.w" (C, Fk), "memory.s.b".
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
from make_dit_ref import DiT, Lin, attention, write_ref  # noqa: E402

# conditioning/conditioning.h
COND_SEC_DIM = 55     # COND_N_LABELS 34 + COND_N_OCC 5 + COND_N_STYLES 4 + 12
COND_MEM_EXTRA = 41   # COND_N_LABELS 34 + 7
COND_FRAME_DIM = 3
COND_MEM_POS = 3      # a place in a section: frac, sin(pi frac), cos(pi frac)
COND_MEM_SEC_DIM = COND_MEM_EXTRA - COND_MEM_POS


class CondMlp(nn.Module):
    def __init__(self, Fc, E):
        super().__init__()
        self.fc1 = Lin(Fc, E)
        self.fc2 = Lin(E, E)

    def forward(self, cf):
        return self.fc2(F.silu(self.fc1(cf)))


class MemPool(nn.Module):
    """mem_pool 1: K learned queries attend to each remembered section's frames, plus a section map."""

    def __init__(self, z, width, heads, K):
        super().__init__()
        self.H, self.K = heads, K
        self.q = nn.Parameter(torch.empty(K, width))
        self.k = Lin(z + COND_MEM_POS, width, bias=False)
        self.v = Lin(z + COND_MEM_POS, width, bias=False)
        self.s = Lin(COND_MEM_EXTRA, width)

    def forward(self, fr, fr_mask, sec):
        """fr (B, Ns, Lm, Fp), fr_mask (B, Ns, Lm) bool, sec (B, Ns, Fs) -> (B, Ns*K, C)."""
        B, Ns, Lm, Fp = fr.shape
        K, C = self.K, self.q.shape[1]
        flat = fr.reshape(B * Ns, Lm, Fp)
        q = self.q[None].expand(B * Ns, K, C)
        a = attention(q, self.k(flat), self.v(flat), self.H, fr_mask.reshape(B * Ns, Lm))   # (B*Ns, K, C)
        # the token's place as conditioning/features.c computes it, in float32
        frac = (torch.arange(K, dtype=torch.float32) + 0.5) / K
        ang = torch.tensor(3.14159265, dtype=torch.float32) * frac
        pos = torch.stack([frac, torch.sin(ang), torch.cos(ang)], dim=-1).to(fr.dtype)     # (K, 3)
        sin_ = torch.cat([sec[:, :, None, :].expand(B, Ns, K, sec.shape[-1]), pos.expand(B, Ns, K, 3)], dim=-1)
        return (a.reshape(B, Ns, K, C) + self.s(sin_)).reshape(B, Ns * K, C)


class Denoiser(nn.Module):
    """diffusion/denoiser.c's network; the arguments are DenoiserConfig's fields of the same names.
    mem_pool 1 (K = mem_k tokens per section) takes mf as the tuple (fr, fr_mask, sec)."""

    def __init__(self, z, width, depth, heads, cond_dim, t_dim, mlp_ratio=4, mem_pool=0, mem_k=0):
        super().__init__()
        self.z = z
        self.cond = CondMlp(t_dim + COND_SEC_DIM, cond_dim)
        if mem_pool == 0:
            self.memory = Lin(z + COND_MEM_EXTRA, width)
        else:
            self.memory = MemPool(z, width, heads, mem_k)
        self.dit = DiT(C=width, L=depth, H=heads, mlp_ratio=mlp_ratio, E=cond_dim, Cin=z + COND_FRAME_DIM,
                       Cout=z, Cm=width)

    def forward(self, x, cf, mf, mem_mask, self_mask):
        """x (B, T, Ci), cf (B, Fc), mf (B, S, Fm), mem_mask (B, S) bool, self_mask (B, T) bool -> (B, T, Z)."""
        if isinstance(self.memory, MemPool):
            mem = self.memory(*mf) if mem_mask.shape[1] > 0 else x.new_zeros(x.shape[0], 0, self.memory.q.shape[1])
        else:
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


def make_fixed():
    """tests/data/denoiser_ref.bin: the fixed-span memory map (mem_pool 0)."""
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


def randomize(model):
    with torch.no_grad():   # random non-zero weights everywhere so every gradient is exercised
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, (0.5 if ".ada." in name else 1.0) / math.sqrt(p.shape[1]))
            else:
                p.normal_(0.0, 0.1)


def run_pool(model, inp):
    model.zero_grad()
    mf = (inp["mem_fr"], inp["mem_fr_mask"], inp["mem_sec"])
    v_hat = model(inp["x"], inp["cf"], mf, inp["mem_mask"], inp["self_mask"])
    loss = flow_loss(v_hat, inp["v"], inp["w"])
    loss.backward()
    return v_hat, loss, {n: p.grad.clone() for n, p in model.named_parameters()}


def make_pool():
    """tests/data/denoiser_ref_pool.bin: learned-query attention pooling (mem_pool 1)."""
    cfg = dict(z=4, width=8, depth=2, heads=2, cond_dim=8, t_dim=4, mem_pool=1, mem_k=2)
    K, n_sec, P, N, B = 2, 3, 3, 6, 2            # tokens/section, section slots, context, crop frames, batch
    Lm = N                                       # frames per remembered section (crop_frames)
    S, T = K * n_sec, P + N
    Z = cfg["z"]
    Ci, Fc, Fp = Z + COND_FRAME_DIM, cfg["t_dim"] + COND_SEC_DIM, Z + COND_MEM_POS
    torch.manual_seed(8765)
    model = Denoiser(**cfg).double()
    randomize(model)
    d = torch.float64
    x = torch.randn(B, T, Ci, dtype=d)
    cf = torch.randn(B, Fc, dtype=d)
    mem_fr = torch.randn(B, n_sec, Lm, Fp, dtype=d)
    mem_sec = torch.randn(B, n_sec, COND_MEM_SEC_DIM, dtype=d)
    fm = torch.zeros(B, n_sec, Lm, dtype=torch.bool)
    fm[0, 0, :] = True                           # item 0: a whole section,
    fm[0, 1, :4] = True                          # a short one with a masked frame inside,
    fm[0, 1, 1] = False                          # and an empty slot (its tokens masked)
    fm[1, 0, :3] = True                          # item 1: a short section, one whose tokens are
    fm[1, 1, :] = True                           # masked (it must change nothing), a whole one
    fm[1, 2, :] = True
    mem_mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 1]], dtype=torch.bool)
    self_mask = torch.ones(B, T, dtype=torch.bool)
    self_mask[0, T - 2:] = False
    v = torch.randn(B, T, Z, dtype=d)
    w = self_mask.to(d).clone()
    w[:, :P] = 0
    inp = dict(x=x, cf=cf, mem_fr=mem_fr, mem_fr_mask=fm, mem_sec=mem_sec, mem_mask=mem_mask,
               self_mask=self_mask, v=v, w=w)

    v_hat, loss, grads = run_pool(model, inp)

    m32 = Denoiser(**cfg)
    m32.load_state_dict({k: t.float() for k, t in model.state_dict().items()})
    inp32 = {k: (t.float() if t.dtype == d else t) for k, t in inp.items()}
    o32, l32, g32 = run_pool(m32, inp32)
    worst = max((g32[n].double() - g).abs().max().item() / max(g.abs().max().item(), 1e-12)
                for n, g in grads.items())
    valid = self_mask[..., None].expand_as(v_hat)
    worst = max(worst, (o32.double() - v_hat)[valid].abs().max().item() / v_hat[valid].abs().max().item())
    print("pool: float32 vs float64 torch: worst relative max-diff %.2e, loss %.9g vs %.9g"
          % (worst, l32.item(), loss.item()))
    if worst > 1e-4:
        sys.exit("float32 and float64 disagree: the reference is not trustworthy")
    with torch.no_grad():
        # a masked frame is no key: other values there change nothing
        fr2 = mem_fr.clone()
        fr2[0, 1, 1] += 100.0
        fr2[1, 1] += 100.0                       # the section whose tokens are masked
        alt = model(x, cf, (fr2, fm, mem_sec), mem_mask, self_mask)
        df = (alt - v_hat)[valid].abs().max().item()
    print("pool: masked frames and masked tokens' sections changed: max diff %.2e" % df)
    assert df < 1e-12

    c = cfg
    config = [c["z"], c["width"], c["depth"], c["heads"], c["cond_dim"], c["t_dim"], K, n_sec, S, P, N,
              B, T, S, COND_SEC_DIM, COND_MEM_EXTRA, COND_FRAME_DIM, c["mem_pool"], COND_MEM_POS]
    tensors = [("config", torch.tensor(config, dtype=d)),
               ("x", x), ("cf", cf), ("mem_fr", mem_fr), ("mem_fr_mask", fm.to(d)), ("mem_sec", mem_sec),
               ("mem_mask", mem_mask.to(d)), ("self_mask", self_mask.to(d)),
               ("v", v), ("w", w), ("v_hat", v_hat), ("loss", loss.reshape(1))]
    for name, p in model.named_parameters():
        tensors.append(("param:" + name, p))
    for name, g in grads.items():
        tensors.append(("grad:" + name, g))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "denoiser_ref_pool.bin")
    write_ref(path, tensors)
    print("wrote %s (%d tensors, %d bytes), loss %.9g" % (path, len(tensors), os.path.getsize(path), loss.item()))


def main():
    make_fixed()
    make_pool()


if __name__ == "__main__":
    main()
