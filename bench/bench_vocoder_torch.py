#!/usr/bin/python3
"""The peer for bench/vocoder.sh: torchaudio 0.13's Griffin-Lim on the same
magnitude refrain starts from (DIR/mag.f32, frames x bins, float32).

  bench_vocoder_torch.py probe DIR THREADS ITERS
      times torchaudio.transforms.GriffinLim(n_iter=ITERS) once on the first
      minute (after a warm-up) and prints "wall cpu": picks the environment.
  bench_vocoder_torch.py sweep DIR THREADS VARIANT ITERS,ITERS,...
      one run of torchaudio's own loop (functional.griffinlim, copied step for
      step, so the intermediate results are the ones GriffinLim(n_iter=k) would
      return) with the waveform taken at each k; the time at k is the loop's time
      to k plus the closing istft, i.e. what GriffinLim(n_iter=k) costs.
      First checks the copy against torchaudio.transforms.GriffinLim on 20 s
      (same seed: identical output), then warms up at full size.
      Writes DIR/torch_tTHREADS_iK.f32 and prints TSV lines:
      torch THREADS VARIANT K WALL CPU SC_TORCH FILE
Threads: torch.set_num_threads(THREADS); the environment (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS) is set by the caller.
"""
import sys
import time

import numpy as np
import torch
import torchaudio

N_FFT, HOP = 1024, 256
MOMENTUM = 0.99
SEED = 0


def load(d):
    T, n = (int(v) for v in open(f"{d}/shape.txt").read().split())
    mag = np.fromfile(f"{d}/mag.f32", dtype=np.float32).reshape(T, N_FFT // 2 + 1)
    return torch.from_numpy(np.ascontiguousarray(mag.T)), n   # (F, T), torch's layout


def clocks():
    return time.perf_counter(), time.process_time()


def transform(n_iter):
    return torchaudio.transforms.GriffinLim(n_fft=N_FFT, hop_length=HOP, power=1.0,
                                            momentum=MOMENTUM, n_iter=n_iter, rand_init=True)


def sc(mag, x, window):
    S = torch.stft(x, N_FFT, HOP, window=window, center=True, pad_mode="reflect",
                   return_complex=True).abs()
    return float(torch.linalg.norm(S - mag) / torch.linalg.norm(mag))


def griffinlim_copy(mag, window, iters, checkpoint):
    """torchaudio 0.13 functional.griffinlim, step for step (rand_init=True,
    power=1); calls checkpoint(k, angles) after update k for each k in iters."""
    momentum = MOMENTUM / (1 + MOMENTUM)
    specgram = mag.pow(1 / 1.0)
    angles = torch.rand(specgram.size(), dtype=torch.complex64)
    tprev = torch.tensor(0.0, dtype=specgram.dtype)
    for k in range(1, max(iters) + 1):
        inverse = torch.istft(specgram * angles, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT,
                              window=window, length=None)
        rebuilt = torch.stft(input=inverse, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT,
                             window=window, center=True, pad_mode="reflect", normalized=False,
                             onesided=True, return_complex=True)
        angles = rebuilt
        if momentum:
            angles = angles - tprev.mul_(momentum)
        angles = angles.div(angles.abs().add(1e-16))
        tprev = rebuilt
        if k in iters:
            checkpoint(k, specgram, angles)


def closing_istft(specgram, angles, window):
    return torch.istft(specgram * angles, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT,
                       window=window, length=None)


def sweep(d, threads, variant, iters):
    torch.set_num_threads(threads)
    mag, n = load(d)
    window = torch.hann_window(N_FFT)

    # The copy must be torchaudio's GriffinLim: same seed, same output (on 20 s).
    part = mag[:, :20 * 22050 // HOP]
    got = []
    torch.manual_seed(SEED)
    griffinlim_copy(part, window, [4], lambda k, s, a: got.append(closing_istft(s, a, window)))
    torch.manual_seed(SEED)
    ref = transform(4)(part)
    diff = float((ref - got[0]).abs().max())
    print(f"  check: loop copy vs GriffinLim(n_iter=4) on 20 s: max |diff| {diff:.3g}", file=sys.stderr)
    if diff > 1e-5 * float(ref.abs().max()):
        sys.exit(f"bench_vocoder_torch: the loop copy differs from torchaudio's GriffinLim by {diff}")

    # Warm-up at full size (allocator, page faults), so the sweep sees torch at its best.
    transform(1)(mag)

    out = []
    paused = [0.0, 0.0]
    torch.manual_seed(SEED)
    w0, c0 = clocks()

    def checkpoint(k, specgram, angles):
        ws, cs = clocks()
        wave = closing_istft(specgram, angles, window)
        we, ce = clocks()
        wall = (ws - w0 - paused[0]) + (we - ws)
        cpu = (cs - c0 - paused[1]) + (ce - cs)
        path = f"{d}/torch_t{threads}_i{k}.f32"
        wave.numpy().astype(np.float32).tofile(path)
        out.append((k, wall, cpu, sc(mag, wave, window), path))
        print(f"  torch {threads} thread(s) {variant}: {k} iters {wall:.2f} s wall, {cpu:.2f} s CPU",
              file=sys.stderr)
        we2, ce2 = clocks()
        paused[0] += we2 - we                        # saving and measuring are not GL's time
        paused[1] += ce2 - ce

    griffinlim_copy(mag, window, iters, checkpoint)
    for k, wall, cpu, s, path in out:
        print(f"torch\t{threads}\t{variant}\t{k}\t{wall:.4f}\t{cpu:.4f}\t{s:.6f}\t{path}")
    sys.stdout.flush()


def probe(d, threads, iters):
    """Time GriffinLim(n_iter=iters) on the first minute, to pick the environment."""
    torch.set_num_threads(threads)
    mag, _ = load(d)
    mag = mag[:, :60 * 22050 // HOP].contiguous()
    transform(1)(mag)                                # warm-up
    torch.manual_seed(SEED)
    w0, c0 = clocks()
    transform(iters)(mag)
    w1, c1 = clocks()
    print(f"{w1 - w0:.4f} {c1 - c0:.4f}")


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "probe":
        probe(a[1], int(a[2]), int(a[3]))
    elif len(a) == 5 and a[0] == "sweep":
        sweep(a[1], int(a[2]), a[3], [int(v) for v in a[4].split(",")])
    else:
        sys.exit(__doc__)
