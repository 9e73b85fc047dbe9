#!/usr/bin/python3
"""make_dit_ref.py — the DiT block stack of nn/dit.c written from scratch in
PyTorch 1.13, and the golden reference file tests/data/dit_ref.bin that
tests/test_nn_dit.c checks refrain against (forward, loss and every gradient).

Run with Debian's python (torch 1.13):  /usr/bin/python3 tests/make_dit_ref.py
bench/bench_nn_torch.py imports DiT from here, so the benchmark peer is the
same architecture.

Conventions mirrored from nn/layers.h and nn/dit.c:
  * Linear: y = x @ w.T + b, w (out, in); names "...w" / "...b".
  * LayerNorm without affine, eps LN_EPS, over the last dim.
  * Rotary: pairs (2i, 2i+1) of each head rotate by t * base^(-2i/D),
    (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos); on q and k of the
    self-attention only.
  * Attention: softmax(q k^T / sqrt(D)) v, key mask 1 = valid; a query with no
    valid key gets output 0.
  * GELU tanh approximation; SiLU on the conditioning; AdaLN-Zero chunks in the
    order shift1 scale1 gate1 shift2 scale2 gate2 shift3 scale3 gate3;
    modulate(x) = x * (1 + scale) + shift.
  * Cross-attention output projection has no bias.

File format (little-endian): magic b"DITREF01", uint32 count, then per tensor
uint32 name length, name bytes, uint32 ndim, uint32 dims[ndim], float32 data.
"""
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-5   # must match layernorm_forward in nn/norm.c


class Lin(nn.Module):
    def __init__(self, cin, cout, bias=True):
        super().__init__()
        self.w = nn.Parameter(torch.empty(cout, cin))
        self.b = nn.Parameter(torch.empty(cout)) if bias else None

    def forward(self, x):
        return F.linear(x, self.w, self.b)


def rope(x, base):
    """x (B, T, H, D) -> rotated copy; pairs (2i, 2i+1), angle t * base^(-2i/D)."""
    B, T, H, D = x.shape
    i = torch.arange(D // 2, dtype=torch.float64)
    freq = base ** (-2.0 * i / D)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * freq[None, :]   # (T, D/2)
    cos = ang.cos().to(x.dtype)[None, :, None, :]
    sin = ang.sin().to(x.dtype)[None, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).reshape(B, T, H, D)


def attention(q, k, v, H, mask=None):
    """q (B, Tq, C), k, v (B, Tk, C), mask (B, Tk) bool or None -> (B, Tq, C)."""
    B, Tq, C = q.shape
    Tk = k.shape[1]
    D = C // H
    q = q.view(B, Tq, H, D).transpose(1, 2)          # (B, H, Tq, D)
    k = k.view(B, Tk, H, D).transpose(1, 2)          # (B, H, Tk, D)
    v = v.view(B, Tk, H, D).transpose(1, 2)
    s = q @ k.transpose(-1, -2) / math.sqrt(D)       # (B, H, Tq, Tk)
    if mask is not None:
        m = mask[:, None, None, :]
        s = s.masked_fill(~m, -1e30)                 # finite: no NaN for all-masked rows
        p = torch.softmax(s, dim=-1) * m.to(s.dtype)  # all-masked rows -> 0
    else:
        p = torch.softmax(s, dim=-1)
    return (p @ v).transpose(1, 2).reshape(B, Tq, C)


def modulate(x, shift, scale):
    return x * (1 + scale[:, None, :]) + shift[:, None, :]


class Attn(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.qkv = Lin(C, 3 * C)
        self.proj = Lin(C, C)


class Cross(nn.Module):
    def __init__(self, C, Cm):
        super().__init__()
        self.q = Lin(C, C)
        self.kv = Lin(Cm, 2 * C)
        self.proj = Lin(C, C, bias=False)


class Mlp(nn.Module):
    def __init__(self, C, M):
        super().__init__()
        self.fc1 = Lin(C, M)
        self.fc2 = Lin(M, C)


class Block(nn.Module):
    def __init__(self, C, H, M, E, Cm, base):
        super().__init__()
        self.H, self.base = H, base
        self.ada = Lin(E, 9 * C)
        self.attn = Attn(C)
        self.cross = Cross(C, Cm)
        self.mlp = Mlp(C, M)

    def forward(self, h, c, mem, mask, self_mask=None):
        B, T, C = h.shape
        H, D = self.H, C // self.H
        sh1, sc1, g1, sh2, sc2, g2, sh3, sc3, g3 = self.ada(c).chunk(9, dim=-1)
        x = modulate(F.layer_norm(h, (C,), eps=LN_EPS), sh1, sc1)
        q, k, v = self.attn.qkv(x).chunk(3, dim=-1)
        q = rope(q.reshape(B, T, H, D), self.base).reshape(B, T, C)
        k = rope(k.reshape(B, T, H, D), self.base).reshape(B, T, C)
        h = h + g1[:, None, :] * self.attn.proj(attention(q, k, v, H, self_mask))
        if mem is not None and mem.shape[1] > 0:
            x = modulate(F.layer_norm(h, (C,), eps=LN_EPS), sh2, sc2)
            kk, vv = self.cross.kv(mem).chunk(2, dim=-1)
            h = h + g2[:, None, :] * self.cross.proj(attention(self.cross.q(x), kk, vv, H, mask))
        x = modulate(F.layer_norm(h, (C,), eps=LN_EPS), sh3, sc3)
        h = h + g3[:, None, :] * self.mlp.fc2(F.gelu(self.mlp.fc1(x), approximate="tanh"))
        return h


class Final(nn.Module):
    def __init__(self, C, E, Cout):
        super().__init__()
        self.ada = Lin(E, 2 * C)
        self.w = nn.Parameter(torch.empty(Cout, C))
        self.b = nn.Parameter(torch.empty(Cout))


class DiT(nn.Module):
    def __init__(self, C, L, H, mlp_ratio, E, Cin, Cout, Cm, rope_base=10000.0):
        super().__init__()
        self.add_module("in", Lin(Cin, C))
        self.blocks = nn.ModuleList([Block(C, H, mlp_ratio * C, E, Cm, rope_base) for _ in range(L)])
        self.final = Final(C, E, Cout)

    def forward(self, x, cond, mem, mask, self_mask=None):
        """self_mask (B, T) bool or None: the self-attention's key mask (padding frames)."""
        C = self.final.w.shape[1]
        c = F.silu(cond)
        h = getattr(self, "in")(x)
        for blk in self.blocks:
            h = blk(h, c, mem, mask, self_mask)
        shf, scf = self.final.ada(c).chunk(2, dim=-1)
        x = modulate(F.layer_norm(h, (C,), eps=LN_EPS), shf, scf)
        return F.linear(x, self.final.w, self.final.b)


def write_ref(path, tensors):
    with open(path, "wb") as f:
        f.write(b"DITREF01")
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors:
            t = t.detach().to(torch.float32).contiguous()
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)) + nb)
            f.write(struct.pack("<I", t.dim()))
            f.write(struct.pack("<%dI" % t.dim(), *t.shape))
            f.write(t.numpy().astype("<f4").tobytes())


def run(model, x, cond, mem, mask, target):
    model.zero_grad()
    x, cond, mem = [t.detach().clone().requires_grad_(True) for t in (x, cond, mem)]
    out = model(x, cond, mem, mask)
    loss = F.mse_loss(out, target)
    loss.backward()
    return out, loss, x.grad, cond.grad, mem.grad, {n: p.grad.clone() for n, p in model.named_parameters()}


def main():
    # small sizes; Cm != C and Cin != Cout so no transposition can hide
    B, T, S = 2, 12, 5
    cfg = dict(C=32, L=2, H=4, mlp_ratio=4, E=16, Cin=8, Cout=6, Cm=24, rope_base=10000.0)
    torch.manual_seed(1234)
    model = DiT(**cfg).double()
    with torch.no_grad():   # random non-zero weights everywhere so every gradient is exercised
        for name, p in model.named_parameters():
            fan_in = p.shape[1] if p.dim() == 2 else 1
            sd = (0.5 if ".ada." in name else 1.0) / math.sqrt(fan_in) if p.dim() == 2 else 0.1
            p.normal_(0.0, sd)
    x = torch.randn(B, T, cfg["Cin"], dtype=torch.float64)
    cond = torch.randn(B, cfg["E"], dtype=torch.float64)
    mem = torch.randn(B, S, cfg["Cm"], dtype=torch.float64)
    mask = torch.tensor([[1, 0, 1, 1, 0],       # item 0: slots 1 and 4 masked
                         [0, 0, 0, 0, 0]],      # item 1: all memory masked
                        dtype=torch.bool)
    target = torch.randn(B, T, cfg["Cout"], dtype=torch.float64)

    out, loss, dx, dcond, dmem, grads = run(model, x, cond, mem, mask, target)

    # double check: the same computation in float32 must agree with float64
    m32 = DiT(**cfg)
    m32.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    o32, l32, dx32, _, _, g32 = run(m32, x.float(), cond.float(), mem.float(), mask, target.float())
    worst = 0.0
    for name, g in list(grads.items()) + [("out", out), ("dx", dx)]:
        ref = g32[name] if name in g32 else (o32 if name == "out" else dx32)
        rel = (ref.double() - g).abs().max().item() / max(g.abs().max().item(), 1e-12)
        worst = max(worst, rel)
    print("float32 vs float64 torch: worst relative max-diff %.2e, loss %.9g vs %.9g" % (worst, l32.item(), loss.item()))
    if worst > 1e-4:
        sys.exit("float32 and float64 disagree: the reference is not trustworthy")
    # item 1 (all memory masked) must equal running it with no memory at all
    with torch.no_grad():
        alone = model(x[1:], cond[1:], mem[1:, :0], mask[1:, :0])
    d = (alone - out[1:]).abs().max().item()
    print("all-masked item vs empty memory: max diff %.2e" % d)
    assert d < 1e-12

    tensors = [("config", torch.tensor([B, T, S, cfg["C"], cfg["L"], cfg["H"], cfg["mlp_ratio"], cfg["E"],
                                        cfg["Cin"], cfg["Cout"], cfg["Cm"], cfg["rope_base"]], dtype=torch.float64)),
               ("x", x), ("cond", cond), ("mem", mem), ("mask", mask.double()), ("target", target),
               ("out", out), ("loss", loss.reshape(1)), ("dx", dx), ("dcond", dcond), ("dmem", dmem)]
    for name, p in model.named_parameters():
        tensors.append(("param:" + name, p))
    for name, g in grads.items():
        tensors.append(("grad:" + name, g))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "dit_ref.bin")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_ref(path, tensors)
    print("wrote %s (%d tensors, %d bytes), loss %.9g" % (path, len(tensors), os.path.getsize(path), loss.item()))


if __name__ == "__main__":
    main()
