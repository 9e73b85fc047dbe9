#!/usr/bin/python3
"""The peer for bench/vocoder.sh: torchaudio 0.13's Griffin-Lim on the same
magnitude refrain starts from (DIR/mag.f32, frames x bins, float32).

  bench_vocoder_torch.py probe DIR THREADS ITERS
      times torchaudio.transforms.GriffinLim(n_iter=ITERS) once (after a
      warm-up on a short slice) and prints "wall cpu".
  bench_vocoder_torch.py sweep DIR THREADS VARIANT ITERS,ITERS,...
      one run of torchaudio's own loop (functional.griffinlim, copied step for
      step, so the intermediate results are the ones GriffinLim(n_iter=k) would
      return) with the waveform taken at each k; the time at k is the loop's time
      to k plus the closing istft, i.e. what GriffinLim(n_iter=k) costs.
      Checks the loop against torchaudio.transforms.GriffinLim at the first k
      (same seed: identical output) and reports that call's own time too.
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


def probe(d, threads, iters):
    torch.set_num_threads(threads)
    mag, _ = load(d)
    transform(2)(mag[:, :200])                       # warm-up
    torch.manual_seed(SEED)
    w0, c0 = clocks()
    transform(iters)(mag)
    w1, c1 = clocks()
    print(f"{w1 - w0:.4f} {c1 - c0:.4f}")


def sweep(d, threads, variant, iters):
    torch.set_num_threads(threads)
    mag, n = load(d)
    window = torch.hann_window(N_FFT)
    transform(2)(mag[:, :200])                       # warm-up

    # torchaudio 0.13 functional.griffinlim, step for step (rand_init=True, power=1).
    torch.manual_seed(SEED)
    w0, c0 = clocks()
    momentum = MOMENTUM / (1 + MOMENTUM)
    specgram = mag.pow(1 / 1.0)
    angles = torch.rand(specgram.size(), dtype=torch.complex64)
    tprev = torch.tensor(0.0, dtype=specgram.dtype)
    paused_w = paused_c = 0.0
    out = []
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
            ws, cs = clocks()
            wave = torch.istft(specgram * angles, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT,
                               window=window, length=None)
            we, ce = clocks()
            wall = (ws - w0 - paused_w) + (we - ws)
            cpu = (cs - c0 - paused_c) + (ce - cs)
            path = f"{d}/torch_t{threads}_i{k}.f32"
            wave.numpy().astype(np.float32).tofile(path)
            out.append((k, wall, cpu, sc(mag, wave, window), path, wave))
            we2, ce2 = clocks()
            paused_w += we2 - ws                     # the checkpoint itself is not GL's time
            paused_c += ce2 - cs
            print(f"  torch {threads} thread(s) {variant}: {k} iters {wall:.2f} s", file=sys.stderr)

    # The copy must be torchaudio's GriffinLim: same seed, same output.
    k0, wave0 = out[0][0], out[0][5]
    torch.manual_seed(SEED)
    ws, cs = clocks()
    ref = transform(k0)(mag)
    we, ce = clocks()
    diff = float((ref - wave0).abs().max())
    print(f"  check: GriffinLim(n_iter={k0}) {we - ws:.2f} s wall (loop copy {out[0][1]:.2f} s), "
          f"max |diff| {diff:.3g}", file=sys.stderr)
    if diff > 1e-5 * float(ref.abs().max()):
        sys.exit(f"bench_vocoder_torch: the loop copy differs from torchaudio's GriffinLim by {diff}")
    print(f"torch\t{threads}\t{variant}-check\t{k0}\t{we - ws:.4f}\t{ce - cs:.4f}\t{sc(mag, ref, window):.6f}\t-")
    for k, wall, cpu, s, path, _ in out:
        print(f"torch\t{threads}\t{variant}\t{k}\t{wall:.4f}\t{cpu:.4f}\t{s:.6f}\t{path}")
    sys.stdout.flush()


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "probe":
        probe(a[1], int(a[2]), int(a[3]))
    elif len(a) == 5 and a[0] == "sweep":
        sweep(a[1], int(a[2]), a[3], [int(v) for v in a[4].split(",")])
    else:
        sys.exit(__doc__)
