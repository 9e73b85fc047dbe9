// test_audio_io — sound files: write/read round trips (WAV 16-bit, WAV float,
// FLAC, OGG Vorbis, MP3 when libsndfile can encode it), downmixing and
// resampling, the analysis numbers of audio_info (peak, RMS, BS.1770-4
// loudness with its gates), and refusal of bad input and bad output paths
// with a message and no file left behind.
#include "audio/audio.h"
#include "tests/check.h"
#include "util/util.h"

#include <dirent.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[256];

static const char *tpath(const char *name) { return check_in_dir(g_dir, name); }

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

// Number of entries in the test folder whose name contains ".tmp." (leftovers).
static int tmp_leftovers(void) {
    DIR *d = opendir(g_dir);
    int c = 0;
    struct dirent *e;
    while ((e = readdir(d))) c += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return c;
}

static float *sines(long n, int sr, const double *freq, const double *amp, int k) {
    float *x = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < k; j++) s += amp[j] * sin(2 * M_PI * freq[j] * i / sr);
        x[i] = (float)s;
    }
    return x;
}

// Writes interleaved float frames with libsndfile directly (stereo, any rate).
static int write_raw(const char *path, const float *x, long frames, int ch, int sr, int format) {
    SF_INFO info = {0};
    info.samplerate = sr;
    info.channels = ch;
    info.format = format;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) return -1;
    sf_count_t w = frames ? sf_writef_float(sf, x, frames) : 0;
    sf_close(sf);
    return w == frames ? 0 : -1;
}

static double snr_db(const float *got, const float *want, long n) {
    double e = 0, s = 0;
    for (long i = 0; i < n; i++) {
        e += (double)(got[i] - want[i]) * (got[i] - want[i]);
        s += (double)want[i] * want[i];
    }
    return 10 * log10(s / e);
}

// Amplitude and frequency of a sine by least squares on [a, b): frequency by
// a fine search over the peak of |sum x e^{-iwt}|, amplitude from that sum.
static void sine_fit(const float *x, long a, long b, int sr, double f_guess, double *freq, double *amp) {
    double best = -1, bf = f_guess;
    for (double f = f_guess - 5; f <= f_guess + 5; f += 0.01) {
        double re = 0, im = 0;
        for (long i = a; i < b; i += 1) {
            double w = 2 * M_PI * f * i / sr;
            re += x[i] * cos(w);
            im += x[i] * sin(w);
        }
        double m = re * re + im * im;
        if (m > best) { best = m; bf = f; }
    }
    *freq = bf;
    *amp = 2 * sqrt(best) / (b - a);
}

static void test_roundtrips(void) {
    int sr = SAMPLE_RATE;
    long n = sr;   // 1 s
    const double f[] = {220, 277.18, 329.63, 1760}, a[] = {0.3, 0.2, 0.2, 0.05};
    float *x = sines(n, sr, f, a, 4);
    struct { const char *name; int float32; double tol; double min_snr; const char *fmt; } cases[] = {
        // 16-bit: libsndfile writes round(x * 32767) and reads back k / 32768, so
        // the read value is x * 32767/32768 within half a step.
        {"rt16.wav", 0, 0.5 / 32768 + 1e-7, 0, "WAV (Signed 16 bit PCM)"},
        {"rtf.wav", 1, 0, 0, "WAV (32 bit float)"},
        {"rt.flac", 0, 0.5 / 32768 + 1e-7, 0, "FLAC (Signed 16 bit PCM)"},
        {"rt.ogg", 0, -1, 25, "OGG (Vorbis)"},
    };
    for (int c = 0; c < 4; c++) {
        const char *p = tpath(cases[c].name);
        CHECK(audio_write(p, x, n, sr, cases[c].float32) == 0, "write %s (%s)", cases[c].name, err_msg());
        AudioInfo ai;
        CHECK(audio_info(p, &ai) == 0, "audio_info %s", cases[c].name);
        CHECK(ai.sample_rate == sr && ai.channels == 1 && ai.frames == n,
              "%s: %d Hz, %d channel, %ld frames", cases[c].name, ai.sample_rate, ai.channels, ai.frames);
        CHECK(strcmp(ai.format, cases[c].fmt) == 0, "%s: format \"%s\"", cases[c].name, ai.format);
        float *y;
        long m;
        int rc = audio_read(p, sr, &y, &m);
        CHECK(rc == 0 && m == n, "read %s back: %ld samples", cases[c].name, m);
        if (rc != 0 || m != n) continue;
        if (cases[c].tol > 0) {
            float *want = malloc(sizeof(float) * n);
            for (long i = 0; i < n; i++) want[i] = x[i] * (32767.0f / 32768.0f);
            check_max_diff(cases[c].name, y, want, n, cases[c].tol);
            free(want);
        } else if (cases[c].tol == 0) {
            check_max_diff(cases[c].name, y, x, n, 0);
        } else {
            double s = snr_db(y, x, n);
            CHECK(s > cases[c].min_snr, "%s: lossy round trip SNR %.1f dB > %.0f dB", cases[c].name, s, cases[c].min_snr);
        }
        free(y);
    }
    // Clipping: PCM is clipped to [-1, 1], not wrapped; float WAV keeps the value.
    float loud[4] = {1.5f, -2.0f, 0.5f, NAN};
    float *y;
    long m;
    CHECK(audio_write(tpath("clip.wav"), loud, 4, sr, 0) == 0 && audio_read(tpath("clip.wav"), sr, &y, &m) == 0,
          "write/read clipped wav16");
    CHECK(m == 4 && y[0] > 0.999f && y[1] <= -0.999f && fabsf(y[2] - 0.5f) < 1e-4f && y[3] == 0,
          "wav16 clips 1.5 -> %.4f, -2 -> %.4f, NaN -> %.4f", y[0], y[1], y[3]);
    free(y);
    CHECK(audio_write(tpath("big.wav"), loud, 3, sr, 1) == 0 && audio_read(tpath("big.wav"), sr, &y, &m) == 0
          && y[0] == 1.5f && y[1] == -2.0f, "float wav keeps 1.5 and -2");
    free(y);
    // Samples that are not finite, or absurd, are refused where they enter,
    // naming the file and the first bad sample (issue 17: they became silence).
    float poison[3][5] = {{0.1f, 0.2f, 0.3f, INFINITY, 0.5f}, {0.1f, -INFINITY, 0, 0, 0}, {0, 0, 0, 0, 2e6f}};
    const char *kind[3] = {"sample 3 (channel 1, 0.000 s in) is infinite", "sample 1 (channel 1", "sample 4 (channel 1"};
    for (int k = 0; k < 3; k++) {
        y = NULL;
        int rc = audio_write(tpath("poison.wav"), poison[k], 5, sr, 1) == 0 ? audio_read(tpath("poison.wav"), sr, &y, &m) : 0;
        CHECK(rc == -1 && !y && strstr(err_msg(), "poison.wav") && strstr(err_msg(), kind[k]),
              "a float WAV with a bad sample is refused: %s", err_msg());
        AudioInfo ai;
        CHECK(audio_info(tpath("poison.wav"), &ai) == -1 && strstr(err_msg(), kind[k]), "and by audio_info: %s", err_msg());
    }
    // Replacing an existing file works (rename over it).
    CHECK(audio_write(tpath("rt16.wav"), loud + 2, 1, sr, 0) == 0 && audio_read(tpath("rt16.wav"), sr, &y, &m) == 0
          && m == 1, "overwrite an existing file: %ld sample", m);
    free(y);
    // MP3: only when this libsndfile can encode it (1.1+ with LAME).
    SF_INFO mi = {.samplerate = sr, .channels = 1, .format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III};
    if (sf_format_check(&mi) && write_raw(tpath("rt.mp3"), x, n, 1, sr, mi.format) == 0) {
        CHECK(audio_read(tpath("rt.mp3"), sr, &y, &m) == 0, "read MP3 (%s)", err_msg());
        CHECK(labs(m - n) < 3000, "MP3 length %ld ~ %ld (encoder padding)", m, n);
        double rms = 0;
        for (long i = 0; i < m; i++) rms += (double)y[i] * y[i];
        rms = sqrt(rms / m);
        CHECK(rms > 0.2 && rms < 0.35, "MP3 decodes the chord (RMS %.3f, written 0.29)", rms);
        free(y);
    } else {
        printf("  (this libsndfile cannot encode MP3; MP3 read not tested)\n");
    }
    CHECK(tmp_leftovers() == 0, "no temporary files left behind");
    free(x);
}

// The half-band 2:1 decimator audio_resample uses for 44.1 -> 22.05 kHz:
// passband flat, -6 dB band edge region, stopband rejected.
static void test_decimate(void) {
    const long n = 44100;
    float *x = malloc(sizeof(float) * n), *y = NULL;
    long m = 0;
    const double freqs[4] = {1000, 5000, 9000, 15000}, lo[4] = {-0.05, -0.05, -0.2, -200}, hi[4] = {0.05, 0.05, 0.2, -60};
    for (int f = 0; f < 4; f++) {
        for (long i = 0; i < n; i++) x[i] = (float)sin(2 * M_PI * freqs[f] * i / 44100.0);
        audio_decimate2(&y, &m, x, n);
        double e = 0;
        long cnt = 0;
        for (long k = 2000; k < m - 2000; k++, cnt++) e += (double)y[k] * y[k];
        double gain_db = 10 * log10(e / cnt / 0.5 + 1e-30);
        CHECK(m == (n + 1) / 2 && gain_db >= lo[f] && gain_db <= hi[f], "decimate 2:1: %.0f Hz -> %.2f dB (want %.2f..%.2f)",
              freqs[f], gain_db, lo[f], hi[f]);
        free(y);
    }
    free(x);
}

// One rate conversion of a 1 kHz sine to 22.05 kHz: length, frequency,
// amplitude, and no delay against the ideal sine.
static void check_resample(int sr) {
    long n = 2L * sr, m, want = (long)((double)n * 22050 / sr);
    const double f[] = {1000.0}, a[] = {0.8};
    float *x = sines(n, sr, f, a, 1), *y;
    CHECK(audio_resample(&y, &m, x, n, sr, 22050) == 0, "resample %d -> 22050 Hz", sr);
    CHECK(labs(m - want) <= 1, "length %ld ~ %ld", m, want);
    double fr, am;
    sine_fit(y, 2000, m - 2000, 22050, 1000, &fr, &am);
    CHECK(fabs(fr - 1000) < 0.05, "frequency kept: %.3f Hz", fr);
    CHECK(fabs(am - 0.8) < 0.8 * 1e-3, "amplitude kept: %.5f (0.8)", am);
    float *ideal = sines(m, 22050, f, a, 1);
    double s = snr_db(y + 1000, ideal + 1000, m - 2000);
    CHECK(s > 60, "resampled sine matches the ideal one (SNR %.1f dB, so no delay)", s);
    free(ideal);
    free(y);
    free(x);
}

static void test_resample(void) {
    check_resample(44100);   // exact 2:1: the half-band FIR
    check_resample(48000);   // libsamplerate
    int sr = 44100;
    long n = 2 * sr;
    const double f[] = {1000.0}, a[] = {0.8};
    float *x = sines(n, sr, f, a, 1);
    float *y;
    long m;
    double fr, am;

    // Through a file: stereo 44.1 kHz -> mono 22.05 kHz, mono = (L + R) / 2.
    float *st = malloc(sizeof(float) * 2 * n);
    for (long i = 0; i < n; i++) { st[2 * i] = x[i]; st[2 * i + 1] = 0.5f * x[i]; }
    CHECK(write_raw(tpath("stereo.wav"), st, n, 2, sr, SF_FORMAT_WAV | SF_FORMAT_FLOAT) == 0, "write stereo wav");
    CHECK(audio_read(tpath("stereo.wav"), 22050, &y, &m) == 0, "audio_read stereo 44.1 kHz at 22.05 kHz");
    sine_fit(y, 2000, m - 2000, 22050, 1000, &fr, &am);
    CHECK(fabs(fr - 1000) < 0.05 && fabs(am - 0.6) < 0.6e-3, "downmix + resample: %.3f Hz, amplitude %.5f (0.6)", fr, am);
    free(y);
    free(st);
    free(x);
}

// Writes a float WAV mono file of x and returns its integrated loudness.
static double loudness_of(const char *name, const float *x, long n, int sr) {
    AudioInfo ai;
    if (audio_write(tpath(name), x, n, sr, 1) != 0 || audio_info(tpath(name), &ai) != 0) return NAN;
    return ai.loudness_lufs;
}

static void test_loudness(void) {
    int sr = 48000;
    long n = 10 * sr;
    const double f1[] = {1000.0}, a1[] = {1.0};
    float *x = sines(n, sr, f1, a1, 1);
    AudioInfo ai;
    CHECK(audio_write(tpath("k1000.wav"), x, n, sr, 1) == 0 && audio_info(tpath("k1000.wav"), &ai) == 0, "info of a 1 kHz sine");
    // BS.1770-4: a 0 dBFS 1 kHz sine in one channel reads -3.01 LKFS.
    check_close("0 dBFS 1 kHz sine at 48 kHz, LUFS", ai.loudness_lufs, -3.01, 0.02, 0);
    check_close("peak", ai.peak, 1.0, 1e-4, 0);
    check_close("RMS dBFS of a full-scale sine", ai.rms_dbfs, -3.0103, 1e-3, 0);
    check_close("duration", ai.duration, 10.0, 1e-9, 0);
    free(x);
    // 997 Hz at -20 dBFS (the usual digital test tone): -20 - 3.01 LUFS,
    // at 48 and 44.1 kHz (the K filter is redesigned for each rate).
    const double f2[] = {997.0}, a2[] = {0.1};
    x = sines(n, sr, f2, a2, 1);
    check_close("-20 dBFS 997 Hz at 48 kHz, LUFS", loudness_of("k997.wav", x, n, sr), -23.01, 0.02, 0);
    free(x);
    x = sines(10 * 44100, 44100, f2, a2, 1);
    check_close("-20 dBFS 997 Hz at 44.1 kHz, LUFS", loudness_of("k997b.wav", x, 10 * 44100, 44100), -23.01, 0.02, 0);
    free(x);
    // K-weighting against the coefficients printed in BS.1770-4 (48 kHz,
    // tables 1 and 2): a -20 dBFS sine at f must read
    // -0.691 - 23.0103 + 20 log10 |H_shelf(f) H_hp(f)|.
    const double fs[] = {100.0, 4000.0, 10000.0};
    for (int k = 0; k < 3; k++) {
        const double fk[] = {fs[k]}, ak[] = {0.1};
        double w = 2 * M_PI * fs[k] / sr, h = 1;
        const double B[2][3] = {{1.53512485958697, -2.69169618940638, 1.19839281085285}, {1, -2, 1}};
        const double A[2][3] = {{1, -1.69065929318241, 0.73248077421585}, {1, -1.99004745483398, 0.99007225036621}};
        for (int st = 0; st < 2; st++) {   // |H(e^jw)| of each biquad
            double nr = B[st][0] + B[st][1] * cos(w) + B[st][2] * cos(2 * w);
            double ni = -B[st][1] * sin(w) - B[st][2] * sin(2 * w);
            double dr = A[st][0] + A[st][1] * cos(w) + A[st][2] * cos(2 * w);
            double di = -A[st][1] * sin(w) - A[st][2] * sin(2 * w);
            h *= sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
        }
        double want = -0.691 - 23.0103 + 20 * log10(h);
        x = sines(n, sr, fk, ak, 1);
        char what[96];
        snprintf(what, sizeof what, "-20 dBFS %.0f Hz at 48 kHz vs BS.1770-4 K filter, LUFS", fs[k]);
        check_close(what, loudness_of("kf.wav", x, n, sr), want, 0.005, 0);
        free(x);
        if (fs[k] < 5000) {   // the same analog filter redesigned for 44.1 kHz
            x = sines(10 * 44100, 44100, fk, ak, 1);
            snprintf(what, sizeof what, "-20 dBFS %.0f Hz at 44.1 kHz, LUFS", fs[k]);
            check_close(what, loudness_of("kf.wav", x, 10 * 44100, 44100), want, 0.03, 0);
            free(x);
        }
    }
    // Gates: 5 s tone at -20 dBFS (mean square z) then 5 s at -40 dBFS (z/100).
    // 97 blocks of 400 ms: 47 all loud, 3 straddling the change (3/4, 2/4, 1/4
    // loud), 47 quiet. The quiet ones are 20 LU down, below the relative gate
    // (about -10 LU under the mean of ~z/2), the straddling ones pass, so
    // L = -23.0103 + 10 log10((47 + .7525 + .505 + .2575) / 50) = -23.1412.
    // Without the relative gate it would read -25.98.
    const double l20 = -20.0 - 3.0103;   // -20 dBFS 997 Hz at 48 kHz, measured above
    x = sines(n, sr, f2, a2, 1);
    for (long i = n / 2; i < n; i++) x[i] *= 0.1f;
    double lg = loudness_of("gate.wav", x, n, sr);
    check_close("relative gate drops a -40 dBFS half", lg, l20 + 10 * log10(48.515 / 50), 0.01, 0);
    // Silence is below the absolute gate: blocks as above, the quiet ones empty:
    // L = -23.0103 + 10 log10(48.5 / 50).
    for (long i = n / 2; i < n; i++) x[i] = 0;
    check_close("absolute gate drops silence", loudness_of("gate2.wav", x, n, sr), l20 + 10 * log10(48.5 / 50), 0.01, 0);
    for (long i = 0; i < n; i++) x[i] = 0;
    double ls = loudness_of("silent.wav", x, n, sr);
    CHECK(isinf(ls) && ls < 0, "silence reads -inf LUFS (%g)", ls);
    // A clip under one 400 ms block is measured as one block of all of it
    // (section descriptors use this): 0.3 s of the same tone reads the same
    // level, give or take the filters' start-up over the first milliseconds.
    float *shortx = sines(lround(0.3 * sr), sr, f2, a2, 1);
    check_close("0.3 s clip: one block of all of it", loudness_lufs(shortx, lround(0.3 * sr), sr), l20, 0.05, 0);
    free(shortx);
    free(x);
}

static void expect_refusal(const char *what, const char *path, const char *needle) {
    float *y = (float *)1;
    long m = 7;
    err_clear();
    int rc = audio_read(path, SAMPLE_RATE, &y, &m);
    const char *msg = err_msg();
    CHECK(rc == -1 && y == NULL && m == 0 && strstr(msg, path) && strstr(msg, needle),
          "%s refused: \"%s\"", what, msg);
    AudioInfo ai;
    err_clear();
    CHECK(audio_info(path, &ai) == -1 && strstr(err_msg(), needle), "%s refused by audio_info too", what);
}

static void test_bad_input(void) {
    expect_refusal("missing file", tpath("nope.wav"), "No such file");
    FILE *f = fopen(tpath("empty.wav"), "wb");
    fclose(f);
    expect_refusal("empty file", tpath("empty.wav"), "empty");
    f = fopen(tpath("text.wav"), "wb");
    fputs("this is not a sound file, just some text that happens to be called .wav\n", f);
    fclose(f);
    expect_refusal("text file named .wav", tpath("text.wav"), "not a sound file");
    CHECK(write_raw(tpath("zero.wav"), NULL, 0, 1, SAMPLE_RATE, SF_FORMAT_WAV | SF_FORMAT_PCM_16) == 0
          && file_exists(tpath("zero.wav")), "made a valid WAV with 0 frames");
    expect_refusal("zero-length audio", tpath("zero.wav"), "no audio");
    expect_refusal("a folder", g_dir, "folder");

    float x[100] = {0};
    err_clear();
    CHECK(audio_write(tpath("out.mp4"), x, 100, SAMPLE_RATE, 0) == -1 && strstr(err_msg(), "unknown extension")
          && !file_exists(tpath("out.mp4")), "unknown extension refused, no file: \"%s\"", err_msg());
    err_clear();
    CHECK(audio_write(tpath("noext"), x, 100, SAMPLE_RATE, 0) == -1 && !file_exists(tpath("noext")),
          "no extension refused: \"%s\"", err_msg());
    err_clear();
    CHECK(audio_write(tpath("missing/dir/out.wav"), x, 100, SAMPLE_RATE, 0) == -1 && strstr(err_msg(), "does not exist")
          && !file_exists(tpath("missing")), "missing output folder refused, nothing made: \"%s\"", err_msg());
    err_clear();
    CHECK(audio_write(tpath("none.wav"), x, 0, SAMPLE_RATE, 0) == -1 && !file_exists(tpath("none.wav")),
          "zero samples refused: \"%s\"", err_msg());
    CHECK(tmp_leftovers() == 0, "no temporary files left behind after refusals");
}

static void test_real_music(void) {
    const char *song = ".cache/pkg/warzone2100-music/usr/share/games/warzone2100/music/menu.opus";
    AudioInfo ai;
    if (audio_info(song, &ai) != 0) {
        CHECK(0, "real music: %s (run scripts/fetch-music.sh)", err_msg());
        return;
    }
    printf("  %s: %s, %d Hz, %d ch, %.2f s, peak %.3f, RMS %.2f dBFS, %.2f LUFS\n", song, ai.format,
           ai.sample_rate, ai.channels, ai.duration, ai.peak, ai.rms_dbfs, ai.loudness_lufs);
    CHECK(strcmp(ai.format, "OGG (Opus)") == 0, "Opus file format \"%s\"", ai.format);
    CHECK(ai.loudness_lufs > -40 && ai.loudness_lufs < -5 && ai.peak > 0.05 && ai.peak <= 1.5,
          "plausible levels for a mastered soundtrack");
    CHECK(ai.loudness_lufs > ai.rms_dbfs - 10 && ai.loudness_lufs < ai.rms_dbfs + 10, "loudness near RMS");
    float *y;
    long m;
    CHECK(audio_read(song, SAMPLE_RATE, &y, &m) == 0, "audio_read Opus at 22.05 kHz");
    CHECK(labs(m - lround(ai.duration * SAMPLE_RATE)) <= 2, "%ld samples for %.3f s", m, ai.duration);
    free(y);
}

// audio_read_range decodes only the window where the format seeks exactly;
// it must give what the whole-file read gives, cut at the same samples, at
// every path: same rate (FLAC 22,050 Hz), the half-band FIR (44.1 kHz WAV),
// libsamplerate (48 kHz stereo Ogg Vorbis).
static void test_range(void) {
    struct { const char *name; int sr, ch, format; } cases[] = {
        {"r22.flac", 22050, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
        {"r44.wav", 44100, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT},
        {"r48.ogg", 48000, 2, SF_FORMAT_OGG | SF_FORMAT_VORBIS},
    };
    for (int c = 0; c < 3; c++) {
        int sr = cases[c].sr, ch = cases[c].ch;
        long frames = 5L * sr;
        const double f[3] = {220, 1234.5, 5000}, a[3] = {0.3, 0.2, 0.1};
        float *mono = sines(frames * ch, sr * ch, f, a, 3);   // any signal; interleaved if stereo
        const char *p = tpath(cases[c].name);
        CHECK(write_raw(p, mono, frames, ch, sr, cases[c].format) == 0, "write %s", cases[c].name);
        free(mono);
        float *all = NULL, *win = NULL, *tail = NULL;
        long n_all = 0, n_win = 0, n_tail = 0;
        int rc = audio_read(p, SAMPLE_RATE, &all, &n_all) | audio_read_range(p, SAMPLE_RATE, 1.7, 1.3, &win, &n_win) |
                 audio_read_range(p, SAMPLE_RATE, 3.25, 0, &tail, &n_tail);
        long a0 = (long)(1.7 * SAMPLE_RATE + 0.5), t0 = (long)(3.25 * SAMPLE_RATE + 0.5);
        long want = (long)(1.3 * SAMPLE_RATE + 0.5);
        CHECK(rc == 0 && n_win == want && n_tail == n_all - t0, "%s: window 1.7 s + 1.3 s is %ld samples (want %ld), "
              "3.25 s to the end %ld (want %ld)", cases[c].name, n_win, want, n_tail, n_all - t0);
        if (rc == 0 && n_win == want && n_tail == n_all - t0) {
            check_max_diff("  window equals the whole read, cut", win, all + a0, n_win, 1e-6);
            check_max_diff("  to-the-end equals the whole read, cut", tail, all + t0, n_tail, 1e-6);
        }
        free(all); free(win); free(tail);
        float *x = NULL;
        long n = 0;
        CHECK(audio_read_range(p, SAMPLE_RATE, 6, 1, &x, &n) == AUDIO_ERR_RANGE && !x && strstr(err_msg(), "past the end"),
              "%s: a start past the end is refused: %s", cases[c].name, err_msg());
    }
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/refrain_io_test.XXXXXX");
    if (!mkdtemp(g_dir)) { CHECK(0, "mkdtemp"); return check_summary("test_audio_io"); }
    test_roundtrips();
    test_resample();
    test_decimate();
    test_range();
    test_loudness();
    test_bad_input();
    test_real_music();
    // clean up the folder
    DIR *d = opendir(g_dir);
    struct dirent *e;
    while ((e = readdir(d))) if (e->d_name[0] != '.') remove(tpath(e->d_name));
    closedir(d);
    rmdir(g_dir);
    return check_summary("test_audio_io");
}
