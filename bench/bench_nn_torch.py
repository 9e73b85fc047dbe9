#!/usr/bin/python3
"""bench_nn_torch.py — the PyTorch 1.13 peer for bench/bench_nn.c: the same
DiT stack (the module in tests/make_dit_ref.py, the one the golden test checks
refrain against), same sizes, same step (forward, MSE, backward,
torch.optim.AdamW), same batch-1 forward (under torch.inference_mode).

Usage: /usr/bin/python3 bench/bench_nn_torch.py --threads N [--iters N] [--warmup N]
Prints "key value" lines like bench_nn. bench/nn.sh runs it at 1 and 2 threads,
with and without OPENBLAS_NUM_THREADS=1 in the environment.
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from make_dit_ref import DiT  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print("threads", torch.get_num_threads())
    print("openblas_num_threads", os.environ.get("OPENBLAS_NUM_THREADS", "unset"))

    B, T, S = 8, 256, 64
    cfg = dict(C=256, L=6, H=4, mlp_ratio=4, E=256, Cin=32, Cout=32, Cm=256)
    model = DiT(**cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                torch.nn.init.xavier_uniform_(p)
            else:
                p.zero_()
            if ".ada." in name and p.dim() == 2 or name == "final.w":
                p.normal_(0, 0.02)
    print("params", sum(p.numel() for p in model.parameters()))
    x = torch.randn(B, T, cfg["Cin"])
    cond = torch.randn(B, cfg["E"])
    mem = torch.randn(B, S, cfg["Cm"])
    mask = torch.ones(B, S, dtype=torch.bool)
    mask[1::2, S - 16:] = False
    target = torch.randn(B, T, cfg["Cout"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

    times, cpu = [], []
    for it in range(a.warmup + a.iters):
        c0, t0 = time.process_time(), time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(x, cond, mem, mask), target)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if it >= a.warmup:
            times.append(dt)
            cpu.append(time.process_time() - c0)
    print("loss", loss.item())
    print("train_step_s", statistics.median(times))
    print("train_step_cpu_s", statistics.median(cpu))

    times, cpu = [], []
    with torch.inference_mode():
        for it in range(a.warmup + 3 * a.iters):
            c0, t0 = time.process_time(), time.perf_counter()
            model(x[:1], cond[:1], mem[:1], mask[:1])
            dt = time.perf_counter() - t0
            if it >= a.warmup:
                times.append(dt)
                cpu.append(time.process_time() - c0)
    print("fwd1_s", statistics.median(times))
    print("fwd1_cpu_s", statistics.median(cpu))


if __name__ == "__main__":
    main()
