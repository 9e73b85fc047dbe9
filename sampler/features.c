// features.c — the features the generation report (eval.c) measures songs by,
// one row per 1-second window of a section: (a) the autoencoder's unit-scale
// latents, (b) log-mel band statistics of the audio analysed again from the
// waveform by audio/'s front end. Each row is a channel's mean then its
// standard deviation over the window's frames.
// Why here: the features exist to judge generated songs, and they sit above
// both audio/ (the log-mel front end) and the latent layout the autoencoder
// makes; sampler/ is the module that links both and the only one that needs
// them. The distances over them are util/stats.h's. It owns no models.
#include "sampler/sampler.h"
#include "audio/audio.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>

long window_features(FeatureSet *fs, int group, const float *x, long T, int C, double rate, const SongForm *form) {
    if (fs->d != 2 * C) return err_set("window features: a set of %d numbers per row, %d channels give %d", fs->d, C, 2 * C);
    long added = 0;
    for (int s = 0; s < form->n; s++) {
        const SongSection *sec = &form->sections[s];
        long wins = (long)floor(sec->end - sec->start + 1e-9);
        for (long k = 0; k < wins; k++) {
            long a = lround((sec->start + k) * rate), b = lround((sec->start + k + 1) * rate);
            if (a < 0) a = 0;
            if (b > T) b = T;
            if (b <= a) continue;
            double *row = featset_add(fs, group), n = (double)(b - a);
            for (long t = a; t < b; t++)
                for (int c = 0; c < C; c++) row[c] += x[t * C + c];
            for (int c = 0; c < C; c++) row[c] /= n;
            for (long t = a; t < b; t++)
                for (int c = 0; c < C; c++) { double e = x[t * C + c] - row[c]; row[C + c] += e * e; }
            for (int c = 0; c < C; c++) row[C + c] = sqrt(row[C + c] / n);
            added++;
        }
    }
    return added;
}

int latent_window_features(FeatureSet *fs, int group, const float *lat, long T, int Z, const SongForm *form) {
    return window_features(fs, group, lat, T, Z, COND_FRAME_RATE, form) < 0 ? -1 : 0;
}

int mel_window_features(FeatureSet *fs, int group, const float *audio, long n, const SongForm *form) {
    float *mel;
    long T;
    if (logmel_from_audio(&mel, &T, audio, n)) return -1;
    long rc = window_features(fs, group, mel, T, N_MELS, (double)SAMPLE_RATE / HOP, form);
    free(mel);
    return rc < 0 ? -1 : 0;
}
