#!/usr/bin/python3
# make_mel_ref.py — writes the torch 1.13 / torchaudio 0.13 references for
# the audio front-end tests: tests/data/mel_ref.bin (tests/test_audio_mel.c)
# and tests/data/stft_ref.bin (tests/test_audio_stft.c). Run with Debian's
# /usr/bin/python3 from the repository root; the C tests only read the files.
#
# stft_ref.bin, little-endian:
#   char magic[8] = "STFTREF1"
#   int32 n, T, F, n_long
#   float32 x[n]                 a random signal
#   float32 re[T][F], im[T][F]   torch.stft(x, 1024, 256, hann periodic, center, reflect)
#   float32 sre[T][F], sim[T][F] a random spectrogram that is no signal's STFT
#   float32 y[n_long]            torch.istft(that spectrogram, length=n_long), n_long > what the frames hold
#
# mel_ref.bin, little-endian:
#   char magic[8] = "MELREF1\0"
#   int32 n, T, M, F
#   float32 signal[n]            deterministic test signal at 22050 Hz
#   float32 fb[M][F]             melscale_fbanks(...) transposed to (M, F)
#   float32 mel[T][M]            MelSpectrogram(power=1) output, frame-major
#   float32 logmel[T][M]         log(clamp(mel, min=1e-5))
import struct
import sys

import numpy as np
import torch
import torchaudio

SR, N_FFT, HOP, N_MELS = 22050, 1024, 256, 80


def test_signal(n):
    """A major chord with vibrato and a swelling envelope, plus a little noise."""
    rng = np.random.default_rng(20261124)
    t = np.arange(n) / SR
    x = np.zeros(n)
    for k, f0 in enumerate([220.0, 277.18, 329.63, 440.0 * 2 ** (7 / 12)]):
        vib = 0.006 * np.sin(2 * np.pi * 5.5 * t + k)        # +-0.6 % vibrato
        phase = 2 * np.pi * np.cumsum(f0 * (1 + vib)) / SR
        for h in range(1, 6):                                 # a few harmonics
            x += 0.12 / h * np.sin(h * phase + 0.3 * k * h)
    env = np.minimum(1.0, t / 0.05) * (0.6 + 0.4 * np.cos(2 * np.pi * 1.3 * t))
    x = x * env + 0.01 * rng.standard_normal(n)
    x[: n // 20] *= np.linspace(0, 1, n // 20)               # a near-silent start
    return x.astype(np.float32)


def main(out):
    n = SR  # one second
    x = torch.from_numpy(test_signal(n))
    fb = torchaudio.functional.melscale_fbanks(
        N_FFT // 2 + 1, 0.0, 11025.0, N_MELS, SR, norm="slaney", mel_scale="slaney")  # (F, M)
    ms = torchaudio.transforms.MelSpectrogram(
        sample_rate=SR, n_fft=N_FFT, hop_length=HOP, f_min=0.0, f_max=11025.0,
        n_mels=N_MELS, power=1.0, center=True, pad_mode="reflect",
        norm="slaney", mel_scale="slaney")
    mel = ms(x)                                  # (M, T)
    logmel = torch.log(torch.clamp(mel, min=1e-5))
    T = mel.shape[1]
    with open(out, "wb") as f:
        f.write(b"MELREF1\0")
        f.write(struct.pack("<4i", n, T, N_MELS, N_FFT // 2 + 1))
        for a in (x, fb.T.contiguous(), mel.T.contiguous(), logmel.T.contiguous()):
            f.write(a.numpy().astype("<f4").tobytes())
    print(f"wrote {out}: n {n}, T {T}, fb {tuple(fb.T.shape)}, torch {torch.__version__}, "
          f"torchaudio {torchaudio.__version__}")


def stft_ref(out):
    g = torch.Generator().manual_seed(20261124)
    n = 3000  # not a multiple of HOP
    x = torch.randn(n, generator=g) * 0.3
    win = torch.hann_window(N_FFT, periodic=True)
    X = torch.stft(x, N_FFT, HOP, window=win, center=True, pad_mode="reflect", return_complex=True).T  # (T, F)
    T, F = X.shape
    S = torch.complex(torch.randn(T, F, generator=g), torch.randn(T, F, generator=g))
    S[:, 0].imag = 0  # a real signal's DC and Nyquist bins are real; irfft ignores their imaginary part
    S[:, -1].imag = 0
    n_long = HOP * (T - 1) + N_FFT // 2 + 300
    y = torch.istft(S.T, N_FFT, HOP, window=win, center=True, length=n_long)
    with open(out, "wb") as f:
        f.write(b"STFTREF1")
        f.write(struct.pack("<4i", n, T, F, n_long))
        for a in (x, X.real, X.imag, S.real, S.imag, y):
            f.write(a.contiguous().numpy().astype("<f4").tobytes())
    print(f"wrote {out}: n {n}, T {T}, F {F}, n_long {n_long}")


if __name__ == "__main__":
    main("tests/data/mel_ref.bin")
    stft_ref("tests/data/stft_ref.bin")
