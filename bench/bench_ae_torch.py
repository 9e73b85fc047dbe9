#!/usr/bin/python3
"""bench_ae_torch.py — the PyTorch 1.13 peer for bench/bench_ae.c: the mel
autoencoder of autoencoder/autoencoder.c rebuilt from torch.nn.functional ops
(conv1d, group_norm, silu, nearest 2x upsampling) with the weights read from
the refrain model file, run with the same windows (256 frames + 32 of context
each side, edge frames repeated) on the same log-mel, encode then decode.

It reads the checkpoint format of nn/checkpoint.h itself (header, key/value
entries, tensor table), so it also checks that format from outside.

Usage: /usr/bin/python3 bench/bench_ae_torch.py DIR MODEL --threads N [--repeats R] [--batch B]
Reads DIR/logmel.f32 and DIR/shape.txt (bench_ae prep), writes
DIR/torch_lat.f32 and DIR/torch_out.f32, prints one TSV line:
    torch THREADS ENCODE_S DECODE_S CPU_S
--batch: windows per forward call (0 = all windows in one call, the default).
"""
import argparse
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

WIN, CTX, DOWN = 256, 32, 4  # autoencoder.h: AE_WIN, AE_CTX, AE_DOWN


def read_rfc(path):
    b = open(path, "rb").read()
    assert b[:4] == b"RFRN", "not a refrain checkpoint"
    nkv, ntensor = struct.unpack_from("<II", b, 12)
    hp = {}
    for i in range(nkv):
        off = 48 + 48 * i
        key = b[off:off + 32].split(b"\0")[0].decode()
        typ = struct.unpack_from("<I", b, off + 32)[0]
        hp[key] = struct.unpack_from("<q" if typ == 1 else "<d", b, off + 40)[0]
    w = {}
    for t in range(ntensor):
        off = 4096 + 136 * t
        name = b[off:off + 96].split(b"\0")[0].decode()
        ndim = struct.unpack_from("<I", b, off + 100)[0]
        shape = struct.unpack_from("<4I", b, off + 104)[:ndim]
        nbytes, at = struct.unpack_from("<QQ", b, off + 120)
        w[name] = torch.from_numpy(np.frombuffer(b, np.float32, nbytes // 4, at).reshape(shape).copy())
    return hp, w


def build_ops(hp):
    """The op lists of ae_create: (kind, index, stride) in order."""
    enc, dec = [], []
    enc.append(("conv", 1))
    for lv in range(3):
        enc += [("res", 1)] * hp["enc_res"]
        if lv < 2:
            enc.append(("conv", 2))
    enc += [("normact", 1), ("conv", 1)]
    dec.append(("conv", 1))
    for lv in (2, 1, 0):
        dec += [("res", 1)] * hp["dec_res"]
        if lv > 0:
            dec += [("up", 1), ("conv", 1)]
    dec += [("normact", 1), ("conv", 1)]
    return enc, dec


def run_ops(ops, side, w, x, G):
    for i, (kind, stride) in enumerate(ops):
        p = "%s.%d." % (side, i)
        if kind == "conv":
            x = F.conv1d(x, w[p + "conv.w"], w[p + "conv.b"], stride=stride, padding=1)
        elif kind == "up":
            x = x.repeat_interleave(2, dim=2)
        elif kind == "normact":
            x = F.silu(F.group_norm(x, G, w[p + "norm.w"], w[p + "norm.b"], eps=1e-5))
        else:
            h = F.silu(F.group_norm(x, G, w[p + "norm1.w"], w[p + "norm1.b"], eps=1e-5))
            h = F.conv1d(h, w[p + "conv1.w"], w[p + "conv1.b"], padding=1)
            h = F.silu(F.group_norm(h, G, w[p + "norm2.w"], w[p + "norm2.b"], eps=1e-5))
            x = x + F.conv1d(h, w[p + "conv2.w"], w[p + "conv2.b"], padding=1)
    return x


class Ae:
    def __init__(self, path):
        self.hp, self.w = read_rfc(path)
        self.enc, self.dec = build_ops(self.hp)
        self.Z, self.M, self.G = self.hp["z"], self.hp["n_mels"], self.hp["groups"]

    def encode(self, x):  # (B, M, T) normalized -> mu (B, Z, T/4)
        mom = run_ops(self.enc, "enc", self.w, x, self.G)
        mu = mom[:, :self.Z]
        if self.hp["linear_path"]:
            mu = mu + F.conv1d(x, self.w["enc.lin.w"], self.w["enc.lin.b"], stride=DOWN)
        return mu

    def decode(self, z):  # (B, Z, Tl) -> (B, M, 4 Tl) normalized
        y = run_ops(self.dec, "dec", self.w, z, self.G)
        if self.hp["linear_path"]:
            B, _, Tl = z.shape
            lin = F.conv1d(z, self.w["dec.lin.w"], self.w["dec.lin.b"])          # (B, 4M, Tl), row k*M + j
            y = y + lin.view(B, DOWN, self.M, Tl).permute(0, 2, 3, 1).reshape(B, self.M, DOWN * Tl)
        return y


def plan(T):
    Tp = (T + DOWN - 1) // DOWN * DOWN
    if Tp <= WIN + 2 * CTX:
        return Tp, Tp, 0, 1
    return Tp, WIN + 2 * CTX, CTX, (Tp + WIN - 1) // WIN


def windows(n, nwin, core, ctx, tw):
    """(nwin, tw) source indices: core*w - ctx + j, clamped to [0, n-1]."""
    idx = torch.arange(nwin)[:, None] * core - ctx + torch.arange(tw)[None, :]
    return idx.clamp(0, n - 1)


def encode_song(ae, lm, batch):  # lm (T, M) -> unit latents (Tl, Z)
    T = lm.shape[0]
    Tp, Tw, ctx, nwin = plan(T)
    core = WIN if ctx else Tw
    x = (lm - ae.hp["in_shift"]) * ae.hp["in_scale"]
    xw = x[windows(T, nwin, core, ctx, Tw)].permute(0, 2, 1).contiguous()     # (nwin, M, Tw)
    step = batch or nwin
    mu = torch.cat([ae.encode(xw[i:i + step]) for i in range(0, nwin, step)])  # (nwin, Z, Tw/4)
    c0 = ctx // DOWN
    lat = mu[:, :, c0:c0 + core // DOWN].permute(0, 2, 1).reshape(-1, ae.Z)[:Tp // DOWN]
    return (lat - ae.w["latent.mean"]) / ae.w["latent.std"]


def decode_song(ae, lat, T, batch):  # unit latents (Tl, Z) -> log-mel (T, M)
    Tl = lat.shape[0]
    Tp, Tw, ctx, nwin = plan(T)
    core = WIN if ctx else Tw
    z = lat * ae.w["latent.std"] + ae.w["latent.mean"]
    zw = z[windows(Tl, nwin, core // DOWN, ctx // DOWN, Tw // DOWN)].permute(0, 2, 1).contiguous()
    step = batch or nwin
    y = torch.cat([ae.decode(zw[i:i + step]) for i in range(0, nwin, step)])  # (nwin, M, Tw)
    out = y[:, :, ctx:ctx + core].permute(0, 2, 1).reshape(-1, ae.M)[:T]
    return out / ae.hp["in_scale"] + ae.hp["in_shift"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    T, M = map(int, open(a.dir + "/shape.txt").read().split())
    lm = torch.from_numpy(np.fromfile(a.dir + "/logmel.f32", np.float32).reshape(T, M))
    ae = Ae(a.model)
    best = None
    with torch.inference_mode():
        for _ in range(a.repeats):
            c0, w0 = time.process_time(), time.perf_counter()
            lat = encode_song(ae, lm, a.batch)
            w1 = time.perf_counter()
            out = decode_song(ae, lat, T, a.batch)
            w2, c1 = time.perf_counter(), time.process_time()
            if best is None or w2 - w0 < best[0] + best[1]:
                best = (w1 - w0, w2 - w1, c1 - c0)
    lat.numpy().astype(np.float32).tofile(a.dir + "/torch_lat.f32")
    out.numpy().astype(np.float32).tofile(a.dir + "/torch_out.f32")
    print("torch\t%d\t%.4f\t%.4f\t%.4f" % (a.threads, best[0], best[1], best[2]))


if __name__ == "__main__":
    main()
