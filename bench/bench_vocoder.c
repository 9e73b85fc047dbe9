// bench_vocoder — refrain's griffin_lim on a real three-minute excerpt, and the
// report comparing it with torchaudio's GriffinLim (bench/vocoder.sh drives it).
//
//   bench_vocoder prep TRACK START_S DUR_S DIR
//       reads DUR_S seconds of TRACK from START_S, writes DIR/mag.f32, the
//       magnitude (T, F) float32 both systems start from, and DIR/shape.txt ("T n").
//   bench_vocoder time DIR THREADS INIT ITERS,ITERS,...  [REPEATS]
//       times griffin_lim (best of REPEATS, default 2; wall and process CPU
//       seconds), prints one TSV line per iteration count:
//       refrain THREADS INIT ITERS WALL_S CPU_S SC
//   bench_vocoder sc DIR WAV.f32
//       prints the spectral convergence of a raw float32 waveform (n samples)
//       against DIR/mag.f32, with refrain's STFT: the one measure for both systems.
//   bench_vocoder report DIR RESULTS.tsv OUT.md OUT.png
//       writes the Markdown table and the SC-against-time plot.
// RESULTS.tsv lines: SYSTEM THREADS VARIANT ITERS WALL_S CPU_S SC
#include "audio/audio.h"
#include "bench/bench_io.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static void die(const char *what) {
    fprintf(stderr, "bench_vocoder: %s%s%s\n", what, err_msg()[0] ? ": " : "", err_msg());
    exit(1);
}

static float *load_mag(const char *dir, long *T, long *n) {
    char p[4096];
    snprintf(p, sizeof p, "%s/shape.txt", dir);
    FILE *f = fopen(p, "r");
    if (!f || fscanf(f, "%ld %ld", T, n) != 2) { fprintf(stderr, "bench_vocoder: run prep first (%s)\n", p); exit(1); }
    fclose(f);
    snprintf(p, sizeof p, "%s/mag.f32", dir);
    long count;
    float *mag = read_f32(p, &count);
    if (count != *T * N_BINS) { fprintf(stderr, "bench_vocoder: %s has %ld values, want %ld\n", p, count, *T * N_BINS); exit(1); }
    return mag;
}

static int cmd_prep(const char *track, double start, double dur, const char *dir) {
    float *x;
    long nx;
    if (audio_read(track, SAMPLE_RATE, &x, &nx) != 0) die("audio_read");
    long off = (long)(start * SAMPLE_RATE), n = (long)(dur * SAMPLE_RATE) / HOP * HOP;
    if (off + n > nx) { fprintf(stderr, "bench_vocoder: %s is %.1f s, shorter than %.0f + %.0f s\n", track, (double)nx / SAMPLE_RATE, start, dur); exit(1); }
    long T = stft_frames(n);
    float *mag = mallocCheck(sizeof(float) * T * N_BINS);
    Stft *s = stft_create();
    if (!s) die("stft_create");
    stft_magnitude(s, mag, x + off, n);
    char p[4096];
    snprintf(p, sizeof p, "%s/mag.f32", dir);
    write_f32(p, mag, T * N_BINS);
    snprintf(p, sizeof p, "%s/shape.txt", dir);
    FILE *f = fopen(p, "w");
    fprintf(f, "%ld %ld\n", T, n);
    fclose(f);
    fprintf(stderr, "prep: %s from %.0f s, %ld samples, %ld frames\n", track, start, n, T);
    stft_free(s);
    free(mag);
    free(x);
    return 0;
}

static int cmd_time(const char *dir, int threads, const char *init, const char *list, int repeats) {
    long T, n;
    float *mag = load_mag(dir, &T, &n);
    float *x = mallocCheck(sizeof(float) * n);
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    VocoderOpts o;
    vocoder_defaults(&o);
    if (!strcmp(init, "pghi")) o.init = PHASE_PGHI;
    else if (!strcmp(init, "random")) o.init = PHASE_RANDOM;
    else if (!strcmp(init, "zero")) o.init = PHASE_ZERO;
    else { fprintf(stderr, "bench_vocoder: init %s: want pghi, random or zero\n", init); return 1; }
    // Warm up: FFTW plans (FFTW_MEASURE, once per process) and page faults.
    double tp = now_seconds();
    o.iters = 1;
    if (griffin_lim(x, n, mag, T, &o) != 0) die("griffin_lim");
    fprintf(stderr, "time: warm-up (plans + 1 iteration) %.2f s\n", now_seconds() - tp);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        o.iters = atoi(tok);
        double best_w = 1e30, best_c = 1e30;
        for (int r = 0; r < repeats; r++) {
            double w0 = now_seconds(), c0 = cpu_seconds();
            if (griffin_lim(x, n, mag, T, &o) != 0) die("griffin_lim");
            double w = now_seconds() - w0, c = cpu_seconds() - c0;
            if (w < best_w) best_w = w;
            if (c < best_c) best_c = c;
        }
        double sc = spectral_convergence(mag, T, x, n);
        printf("refrain\t%d\t%s\t%d\t%.4f\t%.4f\t%.6f\n", threads, init, o.iters, best_w, best_c, sc);
        fflush(stdout);
    }
    free(x);
    free(mag);
    return 0;
}

static int cmd_sc(const char *dir, const char *wav) {
    long T, n, nw;
    float *mag = load_mag(dir, &T, &n);
    float *x = read_f32(wav, &nw);
    if (nw != n) { fprintf(stderr, "bench_vocoder: %s has %ld samples, want %ld\n", wav, nw, n); return 1; }
    printf("%.6f\n", spectral_convergence(mag, T, x, n));
    free(x);
    free(mag);
    return 0;
}

// ---- report -------------------------------------------------------------------------
typedef struct {
    char sys[16], variant[32];
    int threads, iters;
    double wall, cpu, sc;
} Row;

static Row *find(Row *r, int nr, const char *sys, int threads, const char *variant, int iters) {
    for (int i = 0; i < nr; i++)
        if (!strcmp(r[i].sys, sys) && r[i].threads == threads && !strcmp(r[i].variant, variant) &&
            r[i].iters == iters)
            return &r[i];
    return NULL;
}

// Lowest SC a series reaches within wall time t (NAN if none).
static double sc_within(Row *r, int nr, const char *sys, int threads, const char *variant, double t, int *iters) {
    double best = NAN;
    for (int i = 0; i < nr; i++)
        if (!strcmp(r[i].sys, sys) && r[i].threads == threads && !strcmp(r[i].variant, variant) &&
            r[i].wall <= t && !(r[i].sc >= best)) {
            best = r[i].sc;
            *iters = r[i].iters;
        }
    return best;
}

static int cmd_report(const char *dir, const char *tsv, const char *md, const char *png) {
    long T, n;
    if (1) {
        char p[4096];
        snprintf(p, sizeof p, "%s/shape.txt", dir);
        FILE *f = fopen(p, "r");
        if (!f || fscanf(f, "%ld %ld", &T, &n) != 2) { fprintf(stderr, "bench_vocoder: no %s\n", p); return 1; }
        fclose(f);
    }
    FILE *f = fopen(tsv, "r");
    if (!f) { fprintf(stderr, "bench_vocoder: cannot open %s\n", tsv); return 1; }
    Row rows[256];
    int nr = 0;
    char line[512];
    while (nr < 256 && fgets(line, sizeof line, f)) {
        Row *r = &rows[nr];
        if (sscanf(line, "%15s %d %31s %d %lf %lf %lf", r->sys, &r->threads, r->variant, &r->iters, &r->wall,
                   &r->cpu, &r->sc) == 7)
            nr++;
    }
    fclose(f);

    // The peer at its best: for each thread count, the torch variant with the
    // lowest total wall time over the iteration counts all variants ran.
    const int its[] = {16, 32, 64, 100};
    const char *tbest[3] = {0};
    for (int th = 1; th <= 2; th++) {
        double bt = 1e30;
        for (int i = 0; i < nr; i++) {
            if (strcmp(rows[i].sys, "torch") || rows[i].threads != th || strstr(rows[i].variant, "-probe") ||
                strstr(rows[i].variant, "-check"))
                continue;
            double tot = 0;
            int ok = 1;
            for (int k = 0; k < 4 && ok; k++) {
                Row *r = find(rows, nr, "torch", th, rows[i].variant, its[k]);
                if (!r) ok = 0; else tot += r->wall;
            }
            if (ok && tot < bt) { bt = tot; tbest[th] = rows[i].variant; }
        }
    }
    AtomicFile af;
    if (atomic_open(&af, md) != 0) die("report");
    FILE *o = af.f;
    fprintf(o, "# Vocoder: refrain's Griffin-Lim vs torchaudio 0.13\n\n");
    fprintf(o, "Written by `bash bench/vocoder.sh` (`make bench` runs it) — see the command below.\n\n");
    fprintf(o, "Input: a three-minute excerpt of a real track, %ld samples at %d Hz, %ld frames x %d bins "
               "(n_fft %d, hop %d, Hann). Both systems start from the same magnitude (`mag.f32`) and run fast "
               "Griffin-Lim with momentum 0.99 and torchaudio's update rule; spectral convergence "
               "SC = || |STFT(x)| - S ||_F / ||S||_F is computed for both outputs by the same code "
               "(refrain's STFT, `bench_vocoder sc`). Times are wall seconds of the whole call "
               "(phase initialisation included, best of the repeats), CPU = process CPU seconds.\n\n",
            n, SAMPLE_RATE, T, N_BINS, N_FFT, HOP);
    fprintf(o, "refrain variants: `pghi` (default: Phase Gradient Heuristic Integration init), `random` "
               "(uniform random phase). torchaudio: `GriffinLim(n_fft=1024, hop_length=256, power=1, "
               "momentum=0.99, rand_init=True)`, threads set with `torch.set_num_threads(N)`; `default` = its default "
               "environment, `omp-blas1` = `OMP_NUM_THREADS=N OPENBLAS_NUM_THREADS=1`. Each was probed "
               "(`-probe` rows: n_iter 4 on the first minute only) and the faster one swept. The sweep runs "
               "torchaudio's own loop once (after a full-size warm-up) and takes the waveform at each n_iter: "
               "time = loop to n_iter + the closing istft, which is what `GriffinLim(n_iter=k)` costs; the "
               "copy of the loop is checked identical to `GriffinLim` itself (same seed, 20 s, max diff 0).\n\n");
    fprintf(o, "## All runs\n\n| system | threads | variant | iters | wall s | CPU s | SC |\n|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < nr; i++)
        fprintf(o, "| %s | %d | %s | %d | %.3f | %.3f | %.4f |\n", rows[i].sys, rows[i].threads, rows[i].variant,
                rows[i].iters, rows[i].wall, rows[i].cpu, rows[i].sc);
    fprintf(o, "\n## Equal iterations: refrain time / torchaudio time (torchaudio at its fastest variant)\n\n");
    fprintf(o, "Ratios are refrain / torchaudio (below 1: refrain faster), wall time and, in brackets, process CPU time.\n\n");
    fprintf(o, "| threads | iters | refrain pghi s | refrain random s | torch s (variant) | ratio pghi | ratio random | "
               "speed-up (random, wall) | SC refrain pghi | SC refrain random | SC torch |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int th = 1; th <= 2; th++) {
        if (!tbest[th]) continue;
        for (int k = 0; k < 4; k++) {
            Row *rp = find(rows, nr, "refrain", th, "pghi", its[k]);
            Row *rr = find(rows, nr, "refrain", th, "random", its[k]);
            Row *tt = find(rows, nr, "torch", th, tbest[th], its[k]);
            if (!rp || !rr || !tt) continue;
            fprintf(o, "| %d | %d | %.3f | %.3f | %.2f (%s) | %.4f (%.4f) | %.4f (%.4f) | %.0fx | %.4f | %.4f | %.4f |\n",
                    th, its[k], rp->wall, rr->wall, tt->wall, tbest[th], rp->wall / tt->wall, rp->cpu / tt->cpu,
                    rr->wall / tt->wall, rr->cpu / tt->cpu, tt->wall / rr->wall, rp->sc, rr->sc, tt->sc);
        }
    }
    fprintf(o, "\n## Equal time: the lowest SC each system reaches within torchaudio's time\n\n");
    fprintf(o, "| threads | torch iters | torch s | SC torch | refrain pghi: best SC within that time (iters) |\n|---|---|---|---|---|\n");
    for (int th = 1; th <= 2; th++) {
        if (!tbest[th]) continue;
        for (int k = 0; k < 4; k++) {
            Row *tt = find(rows, nr, "torch", th, tbest[th], its[k]);
            if (!tt) continue;
            int ri = 0;
            double s = sc_within(rows, nr, "refrain", th, "pghi", tt->wall, &ri);
            fprintf(o, "| %d | %d | %.2f | %.4f | %.4f (%d) |\n", th, its[k], tt->wall, tt->sc, s, ri);
        }
    }
    fprintf(o, "\n![SC against wall time](%s)\n", strrchr(png, '/') ? strrchr(png, '/') + 1 : png);
    // Caller appends machine, load and command lines.
    if (atomic_commit(&af) != 0) die("report");

    // Plot: SC against wall time, one series per system/threads/variant.
    PlotSeries ps[8];
    double xs[8][16], ys[8][16];
    char names[8][64];
    int ns = 0;
    const char *sys[2] = {"refrain", "torch"};
    for (int s = 0; s < 2 && ns < 8; s++)
        for (int th = 1; th <= 2 && ns < 8; th++)
            for (int v = 0; v < 2 && ns < 8; v++) {
                const char *var = s == 0 ? (v == 0 ? "pghi" : "random") : tbest[th];
                if (s == 1 && (v == 1 || !var)) continue;
                int m = 0;
                for (int i = 0; i < nr && m < 16; i++)
                    if (!strcmp(rows[i].sys, sys[s]) && rows[i].threads == th && !strcmp(rows[i].variant, var)) {
                        xs[ns][m] = rows[i].wall;
                        ys[ns][m] = rows[i].sc;
                        m++;
                    }
                if (m == 0) continue;
                snprintf(names[ns], sizeof names[ns], "%s %s, %d thread%s", s == 0 ? "refrain" : "torchaudio", var,
                         th, th > 1 ? "s" : "");
                ps[ns] = (PlotSeries){names[ns], xs[ns], ys[ns], m};
                ns++;
            }
    if (plot_png(png, "Griffin-Lim, 3 min of music: spectral convergence vs time", "wall time (s)",
                 "spectral convergence", ps, ns, 1, 1) != 0)
        die("plot_png");
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && !strcmp(argv[1], "prep")) return cmd_prep(argv[2], atof(argv[3]), atof(argv[4]), argv[5]);
    if ((argc == 6 || argc == 7) && !strcmp(argv[1], "time"))
        return cmd_time(argv[2], atoi(argv[3]), argv[4], argv[5], argc == 7 ? atoi(argv[6]) : 2);
    if (argc == 4 && !strcmp(argv[1], "sc")) return cmd_sc(argv[2], argv[3]);
    if (argc == 6 && !strcmp(argv[1], "report")) return cmd_report(argv[2], argv[3], argv[4], argv[5]);
    fprintf(stderr, "usage: bench_vocoder prep TRACK START_S DUR_S DIR | time DIR THREADS INIT ITERS,... [REPEATS]\n"
                    "       | sc DIR WAV.f32 | report DIR RESULTS.tsv OUT.md OUT.png\n");
    return 2;
}
