// fft_lock — the one lock around FFTW's planner, which is not thread-safe.
// Private to audio/: stft.c and vocoder.c both plan through it.
#ifndef REFRAIN_FFT_LOCK_H
#define REFRAIN_FFT_LOCK_H
void fft_plan_lock(void);
void fft_plan_unlock(void);
#endif
