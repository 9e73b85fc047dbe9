// bench_ae — the shipped autoencoder on a real three-minute excerpt: encode
// and decode times, and the arrays its PyTorch peer (bench_ae_torch.py) is
// checked against. bench/ae.sh drives it and writes the report.
//
//   bench_ae prep TRACK START_S DUR_S DIR
//       log-mel of DUR_S seconds of TRACK from START_S: DIR/logmel.f32 (T, M)
//       and DIR/shape.txt ("T M").
//   bench_ae time DIR MODEL THREADS REPEATS
//       ae_encode then ae_decode of DIR/logmel.f32 (unit-scale latents), best
//       of REPEATS by the sum; prints one TSV line
//           refrain THREADS ENCODE_S DECODE_S CPU_S GFLOP
//       (GFLOP: convolutions of every window, context included) and writes
//       DIR/refrain_lat.f32 (Tl, Z) and DIR/refrain_out.f32 (T, M).
//   bench_ae diff A.f32 B.f32
//       prints "max_abs X mean_abs Y n N" over two arrays of the same length.
#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "bench/bench_io.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what) {
    fprintf(stderr, "bench_ae: %s%s%s\n", what, err_msg()[0] ? ": " : "", err_msg());
    exit(1);
}

static int prep(const char *track, double start, double dur, const char *dir) {
    float *x, *lm;
    long n, T;
    if (audio_read_range(track, SAMPLE_RATE, start, dur, &x, &n)) die("cannot read the track");
    if (logmel_from_audio(&lm, &T, x, n)) die("log-mel");
    char p[4096];
    snprintf(p, sizeof p, "%s/logmel.f32", dir);
    write_f32(p, lm, T * N_MELS);
    snprintf(p, sizeof p, "%s/shape.txt", dir);
    FILE *f = fopen(p, "w");
    if (!f || fprintf(f, "%ld %d\n", T, N_MELS) < 0 || fclose(f)) die("cannot write shape.txt");
    free(x); free(lm);
    return 0;
}

static int time_ae(const char *dir, const char *model, int threads, int reps) {
    nn_set_threads(threads);
    Ae m;
    if (ae_load(&m, model, NULL)) die("cannot load the model");
    char p[4096];
    snprintf(p, sizeof p, "%s/logmel.f32", dir);
    long count;
    float *lm = read_f32(p, &count);
    int M = m.cfg.n_mels, Z = m.cfg.z;
    long T = count / M, Tl = ae_latent_frames(T);
    float *lat = mallocCheck(sizeof(float) * Tl * Z), *y = mallocCheck(sizeof(float) * T * M);
    double best_e = 1e30, best_d = 1e30, best_c = 0;
    for (int r = 0; r < reps; r++) {
        double c0 = cpu_seconds(), w0 = now_seconds();
        if (ae_encode(&m, lm, T, lat, 1)) die("encode");
        double w1 = now_seconds();
        if (ae_decode(&m, lat, Tl, y, T, 1)) die("decode");
        double w2 = now_seconds();
        if (w2 - w0 < best_e + best_d) { best_e = w1 - w0; best_d = w2 - w1; best_c = cpu_seconds() - c0; }
    }
    // windows as ae_encode plans them (autoencoder.h): AE_WIN core + AE_CTX each side
    long Tp = Tl * AE_DOWN, nwin = Tp <= AE_WIN + 2 * AE_CTX ? 1 : (Tp + AE_WIN - 1) / AE_WIN;
    int Tw = nwin == 1 ? (int)Tp : AE_WIN + 2 * AE_CTX;
    double gflop = 1e-9 * (double)nwin * (double)ae_flops_forward(&m, Tw);
    printf("refrain\t%d\t%.4f\t%.4f\t%.4f\t%.3f\n", threads, best_e, best_d, best_c, gflop);
    snprintf(p, sizeof p, "%s/refrain_lat.f32", dir);
    write_f32(p, lat, Tl * Z);
    snprintf(p, sizeof p, "%s/refrain_out.f32", dir);
    write_f32(p, y, T * M);
    free(lm); free(lat); free(y);
    ae_free(&m);
    return 0;
}

static int diff(const char *a, const char *b) {
    long na, nb;
    float *x = read_f32(a, &na), *y = read_f32(b, &nb);
    if (na != nb || na == 0) { fprintf(stderr, "bench_ae: %s has %ld floats, %s %ld\n", a, na, b, nb); return 1; }
    double mx = 0, sum = 0;
    for (long i = 0; i < na; i++) {
        double d = fabs((double)x[i] - y[i]);
        if (!(d <= mx)) mx = d;   // NaN propagates
        sum += d;
    }
    printf("max_abs %.3g mean_abs %.3g n %ld\n", mx, sum / na, na);
    free(x); free(y);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "prep") == 0) return prep(argv[2], atof(argv[3]), atof(argv[4]), argv[5]);
    if (argc == 6 && strcmp(argv[1], "time") == 0) return time_ae(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    if (argc == 4 && strcmp(argv[1], "diff") == 0) return diff(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_ae prep TRACK START_S DUR_S DIR | time DIR MODEL THREADS REPEATS | diff A.f32 B.f32\n");
    return 2;
}
