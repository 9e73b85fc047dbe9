#!/usr/bin/python3
"""make_layers_ref.py — PyTorch 1.13 references for the single layers of
nn/layers.h, written to tests/data/layers_ref.bin for tests/test_nn_layers_ref.c:
inputs, forward outputs and every gradient (autograd of sum(out * dout)).

It pins down the conventions a finite-difference test cannot: conv1d is
torch's cross-correlation with weight (OC, C, K), stride, zero padding and
dilation; GroupNorm groups consecutive channels; upsampling is
F.interpolate(mode="nearest"); GELU is approximate="tanh"; norms use eps 1e-5;
L1's gradient at 0 is 0; the timestep embedding is [cos | sin] of t * f_i,
f_i = max_period^(-i/(E/2)); rope rotates pairs (2i, 2i+1) by t * base^(-2i/D).
(The DiT block as a whole is checked by make_dit_ref.py / test_nn_dit.c.)

Run with Debian's python (torch 1.13):  /usr/bin/python3 tests/make_layers_ref.py

File format (little-endian), as dit_ref.bin: magic b"LAYREF01", uint32 count,
then per tensor uint32 name length, name bytes, uint32 ndim, uint32 dims[ndim],
float32 data.
"""
import math
import os
import struct

import torch
import torch.nn.functional as F

EPS = 1e-5
tensors = []


def put(name, t):
    tensors.append((name, t.detach().to(torch.float32).contiguous()))


def grads(prefix, out, inputs, g):
    """Puts out, dout and d<name> for each (name, tensor) input, loss sum(out*dout)."""
    dout = torch.randn(out.shape, generator=g)
    put(prefix + ".out", out)
    put(prefix + ".dout", dout)
    (out * dout).sum().backward()
    for name, t in inputs:
        put(prefix + ".d" + name, t.grad)


def leaf(name, prefix, shape, g, scale=1.0, shift=0.0):
    t = (torch.randn(shape, generator=g) * scale + shift).requires_grad_(True)
    put(prefix + "." + name, t)
    return t


def rope(x, base):   # x (B, T, H, D)
    B, T, H, D = x.shape
    i = torch.arange(D // 2, dtype=torch.float64)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * base ** (-2.0 * i / D)
    c = torch.cos(ang).float()[None, :, None, :]
    s = torch.sin(ang).float()[None, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).reshape(B, T, H, D)


def attention(q, k, v, H, mask, causal):   # q (B, Tq, C), k, v (B, Tk, C)
    B, Tq, C = q.shape
    Tk, D = k.shape[1], C // H
    qh = q.reshape(B, Tq, H, D).transpose(1, 2)
    kh = k.reshape(B, Tk, H, D).transpose(1, 2)
    vh = v.reshape(B, Tk, H, D).transpose(1, 2)
    s = qh @ kh.transpose(-1, -2) / math.sqrt(D)                   # (B, H, Tq, Tk)
    ok = torch.ones(B, 1, Tq, Tk, dtype=torch.bool)
    if mask is not None:
        ok = ok & mask.bool()[:, None, None, :]
    if causal:
        ok = ok & torch.ones(Tq, Tk, dtype=torch.bool).tril()
    s = s.masked_fill(~ok, float("-inf"))
    p = torch.softmax(s, dim=-1)
    p = torch.where(ok.any(-1, keepdim=True), p, torch.zeros_like(p))  # no valid key -> 0
    return (p @ vh).transpose(1, 2).reshape(B, Tq, C)


def main():
    g = torch.Generator().manual_seed(20261124)

    # conv1d: two shapes covering stride, padding and dilation
    for name, (B, C, T, OC, K, stride, pad, dil) in {
            "conv_a": (2, 3, 17, 4, 3, 2, 1, 2),
            "conv_b": (2, 5, 12, 3, 4, 1, 3, 1)}.items():
        x = leaf("in", name, (B, C, T), g)
        w = leaf("w", name, (OC, C, K), g, 0.5)
        b = leaf("b", name, (OC,), g)
        put(name + ".shape", torch.tensor([B, C, T, OC, K, stride, pad, dil], dtype=torch.float32))
        y = F.conv1d(x, w, b, stride=stride, padding=pad, dilation=dil)
        grads(name, y, [("in", x), ("w", w), ("b", b)], g)

    x = leaf("in", "up", (2, 3, 5), g)
    grads("up", F.interpolate(x, scale_factor=2, mode="nearest"), [("in", x)], g)

    x = leaf("in", "gn", (2, 6, 5), g, 1.0, 0.5)
    w = leaf("w", "gn", (6,), g)
    b = leaf("b", "gn", (6,), g)
    grads("gn", F.group_norm(x, 3, w, b, EPS), [("in", x), ("w", w), ("b", b)], g)

    x = leaf("in", "ln", (6, 9), g, 1.0, -0.7)
    w = leaf("w", "ln", (9,), g)
    b = leaf("b", "ln", (9,), g)
    grads("ln", F.layer_norm(x, (9,), w, b, EPS), [("in", x), ("w", w), ("b", b)], g)

    x = leaf("in", "silu", (40,), g, 3.0)
    grads("silu", F.silu(x), [("in", x)], g)
    x = leaf("in", "gelu", (40,), g, 3.0)
    grads("gelu", F.gelu(x, approximate="tanh"), [("in", x)], g)
    x = leaf("in", "softmax", (4, 7), g, 2.0)
    grads("softmax", torch.softmax(x, dim=-1), [("in", x)], g)

    x = leaf("in", "rope", (2, 5, 2, 6), g)
    grads("rope", rope(x, 100.0), [("in", x)], g)

    # attention: causal self, and cross with a key mask where item 1 has no valid key
    B, H, D = 2, 2, 4
    q = leaf("q", "att_self", (B, 6, H * D), g)
    k = leaf("k", "att_self", (B, 6, H * D), g)
    v = leaf("v", "att_self", (B, 6, H * D), g)
    grads("att_self", attention(q, k, v, H, None, True), [("q", q), ("k", k), ("v", v)], g)
    mask = torch.tensor([[1, 0, 1, 1, 0, 1, 1], [0, 0, 0, 0, 0, 0, 0]], dtype=torch.float32)
    put("att_cross.mask", mask)
    q = leaf("q", "att_cross", (B, 5, H * D), g)
    k = leaf("k", "att_cross", (B, 7, H * D), g)
    v = leaf("v", "att_cross", (B, 7, H * D), g)
    grads("att_cross", attention(q, k, v, H, mask, False), [("q", q), ("k", k), ("v", v)], g)

    x = leaf("x", "mod", (2, 4, 5), g)
    sh = leaf("shift", "mod", (2, 5), g)
    sc = leaf("scale", "mod", (2, 5), g, 0.5)
    grads("mod", x * (1 + sc[:, None, :]) + sh[:, None, :], [("x", x), ("shift", sh), ("scale", sc)], g)

    r = leaf("res", "gres", (2, 4, 5), g)
    y = leaf("y", "gres", (2, 4, 5), g)
    gt = leaf("gate", "gres", (2, 5), g)
    grads("gres", r + gt[:, None, :] * y, [("res", r), ("y", y), ("gate", gt)], g)

    t = torch.tensor([0.0, 1.0, 37.5, 999.0], dtype=torch.float64)
    E, half = 16, 8
    f = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
    a = t[:, None] * f[None, :]
    put("temb.t", t.float())
    put("temb.out", torch.cat([torch.cos(a), torch.sin(a)], dim=1))

    p = leaf("pred", "mse", (30,), g)
    tg = torch.randn(30, generator=g)
    put("mse.target", tg)
    loss = F.mse_loss(p, tg)
    loss.backward()
    put("mse.loss", loss.reshape(1))
    put("mse.dpred", p.grad)

    p = leaf("pred", "l1", (30,), g)
    tg = torch.randn(30, generator=g)
    tg[3] = p[3].detach()   # an exact tie: gradient 0
    put("l1.target", tg)
    loss = F.l1_loss(p, tg)
    loss.backward()
    put("l1.loss", loss.reshape(1))
    put("l1.dpred", p.grad)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "layers_ref.bin")
    with open(path, "wb") as fh:
        fh.write(b"LAYREF01")
        fh.write(struct.pack("<I", len(tensors)))
        for name, t in tensors:
            nb = name.encode()
            fh.write(struct.pack("<I", len(nb)) + nb)
            fh.write(struct.pack("<I", t.dim()))
            fh.write(struct.pack("<%dI" % t.dim(), *t.shape))
            fh.write(t.numpy().astype("<f4").tobytes())
    print("wrote %s (%d tensors)" % (path, len(tensors)))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
