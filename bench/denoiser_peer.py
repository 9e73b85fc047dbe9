#!/usr/bin/python3
"""denoiser_peer.py — the PyTorch 1.13 peer for bench/bench_denoiser.c's training
step: the same section denoiser (the module in tests/make_denoiser_ref.py, the
one test_denoiser_ref checks refrain against), float32, at the shipped
configuration (diffusion/denoiser.c's denoiser_config_default()), the same batch
and masks, the same step: zero the gradients, the flow loss and its backward,
torch.optim.AdamW.

Usage: /usr/bin/python3 bench/denoiser_peer.py --threads N [--iters N] [--warmup N]
Prints "key value" lines like bench_denoiser. bench/denoiser.sh runs it at 1 and
2 threads, with and without OPENBLAS_NUM_THREADS=1 in the environment.
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from make_denoiser_ref import COND_FRAME_DIM, COND_MEM_EXTRA, COND_SEC_DIM, Denoiser, flow_loss  # noqa: E402

# denoiser_config_default() in diffusion/denoiser.c
CFG = dict(z=32, width=256, depth=6, heads=8, cond_dim=256, t_dim=64)
MEM_K, MEM_SECTIONS, CTX_FRAMES, CROP_FRAMES = 8, 16, 48, 208
BATCH, SHORT_PAD = 16, 40   # bench_denoiser.c's TRAIN_BATCH, SHORT_PAD


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print("threads", torch.get_num_threads())
    print("openblas_num_threads", os.environ.get("OPENBLAS_NUM_THREADS", "unset"))

    model = Denoiser(**CFG)
    with torch.no_grad():   # denoiser_init, then non-zero AdaLN and output weights (as bench_denoiser)
        for name, p in model.named_parameters():
            if p.dim() == 2:
                torch.nn.init.xavier_uniform_(p)
            else:
                p.zero_()
            if ".ada." in name and p.dim() == 2 or name == "dit.final.w":
                p.normal_(0, 0.02)
    print("params", sum(p.numel() for p in model.parameters()))

    B, T, S, P, Z = BATCH, CTX_FRAMES + CROP_FRAMES, MEM_K * MEM_SECTIONS, CTX_FRAMES, CFG["z"]
    x = torch.randn(B, T, Z + COND_FRAME_DIM)
    cf = torch.randn(B, CFG["t_dim"] + COND_SEC_DIM)
    mf = torch.randn(B, S, Z + COND_MEM_EXTRA)
    v = torch.randn(B, T, Z)
    self_mask = torch.ones(B, T, dtype=torch.bool)
    mem_mask = torch.zeros(B, S, dtype=torch.bool)
    for e in range(B):   # bench_denoiser.c's batch: e % 17 remembered sections, every fourth example short
        if e % 4 == 3:
            self_mask[e, T - SHORT_PAD:] = False
        mem_mask[e, :(e % 17) * MEM_K] = True
    w = self_mask.float()
    w[:, :P] = 0
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

    times, cpu = [], []
    for it in range(a.warmup + a.iters):
        c0, t0 = time.process_time(), time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = flow_loss(model(x, cf, mf, mem_mask, self_mask), v, w)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if it >= a.warmup:
            times.append(dt)
            cpu.append(time.process_time() - c0)
    print("loss", loss.item())
    print("train_step_s", statistics.median(times))
    print("train_step_cpu_s", statistics.median(cpu))


if __name__ == "__main__":
    main()
