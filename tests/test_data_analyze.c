// test_data_analyze.c — structure analysis and section descriptors on audio
// the test makes itself: a song A B A C B of distinct chord/timbre textures,
// quiet vs loud, dark vs bright and sparse vs dense click sections; plus the
// chunked STFT walker, the evaluation measures and the JSON timeline.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "data/analyze.h"
#include "tests/check.h"
#include <stb_image.h>
#include "util/rng.h"
#include "util/util.h"

#define SR SAMPLE_RATE

static double midi_hz(double m) { return 440.0 * pow(2.0, (m - 69.0) / 12.0); }

// Adds a plucked chord: notes retriggered every `beat` s with decay `dec` s,
// `H` harmonics with amplitude 1/h^tilt, over [t0, t1).
static void add_chord(float *x, double t0, double t1, const int *notes, int nn, double beat, double dec,
                      int H, double tilt, float amp) {
    for (long i = (long)(t0 * SR); i < (long)(t1 * SR); i++) {
        double t = (double)i / SR, tb = fmod(t - t0, beat);
        double env = exp(-tb / dec) * (1.0 - exp(-tb / 0.005));
        double s = 0;
        for (int k = 0; k < nn; k++) {
            double f = midi_hz(notes[k]);
            for (int h = 1; h <= H && f * h < 10000; h++) s += sin(2 * M_PI * f * h * t + k + h) / pow(h, tilt);
        }
        x[i] += (float)(amp * env * s / nn);
    }
}

// Noise bursts (hi-hat-like: white noise, 30 ms decay) every `beat` s.
static void add_hats(float *x, double t0, double t1, double beat, float amp, Rng *r) {
    for (long i = (long)(t0 * SR); i < (long)(t1 * SR); i++) {
        double tb = fmod((double)i / SR - t0, beat);
        x[i] += amp * (float)exp(-tb / 0.03) * (2 * rng_uniform(r) - 1);
    }
}

// Section textures: A = C / G plucked, bright; B = Dm / Am slow mellow pad;
// C = E major pad with hi-hats. Chords change every 2 s inside a section.
static void add_section(float *x, char kind, double t0, double len, Rng *r) {
    static const int C[] = {48, 52, 55, 60}, G[] = {43, 50, 55, 59};
    static const int Dm[] = {50, 53, 57, 62}, Am[] = {45, 52, 57, 60};
    static const int E[] = {52, 56, 59, 64}, Bm[] = {47, 54, 59, 62};
    for (double t = t0; t < t0 + len - 1e-9; t += 2.0) {
        int odd = (int)lround((t - t0) / 2.0) % 2;
        double e = t + 2.0 < t0 + len ? t + 2.0 : t0 + len;
        if (kind == 'A') add_chord(x, t, e, odd ? G : C, 4, 0.5, 0.25, 8, 1.0, 0.5f);
        if (kind == 'B') add_chord(x, t, e, odd ? Am : Dm, 4, 2.0, 1.5, 2, 2.0, 0.5f);
        if (kind == 'C') add_chord(x, t, e, odd ? Bm : E, 4, 1.0, 0.8, 4, 1.5, 0.35f);
    }
    if (kind == 'C') add_hats(x, t0, t0 + len, 0.25, 0.15f, r);
}

static void test_song(const char *form, int write_files) {
    const double len = 10.0;
    int ns = (int)strlen(form);
    long n = (long)(ns * len * SR);
    float *x = callocCheck(n, sizeof(float));
    Rng r;
    rng_seed(&r, 7);
    for (int i = 0; i < ns; i++) add_section(x, form[i], i * len, len, &r);

    Analysis a;
    AnalyzeOpts o;
    analyze_defaults(&o);
    int rc = analyze_audio(&a, x, n, &o);
    CHECK(rc == 0, "analyze_audio on a 50 s %s song: %s", form, rc ? err_msg() : "ok");
    if (rc) { free(x); return; }
    analysis_print(stdout, &a);
    CHECK(a.form.n == ns, "found %d sections, want %d", a.form.n, ns);
    // every true boundary has an estimate within 1 s, and vice versa
    double ref[4], est[64];
    for (int i = 1; i < ns; i++) ref[i - 1] = i * len;
    int ne = 0;
    for (int i = 1; i < a.form.n && ne < 64; i++) est[ne++] = a.form.sections[i].start;
    double p, rr, f;
    // Between two sections of one texture only a phase irregularity marks the
    // seam (the 4 s chord loop restarts), so that boundary gets 1.5 s, others 1 s.
    double tol[4];
    for (int i = 1; i < ns; i++) tol[i - 1] = form[i] == form[i - 1] ? 1.5 : 1.0;
    int hits = 0;
    for (int i = 0; i < ns - 1; i++)
        for (int k = 0; k < ne; k++) if (fabs(est[k] - ref[i]) <= tol[i]) { hits++; break; }
    boundary_prf(&p, &rr, &f, ref, ns - 1, est, ne, 1.5);
    CHECK(hits == ns - 1 && ne == ns - 1 && f == 1.0, "boundaries: %d of %d found within tolerance, %d estimated", hits,
          ns - 1, ne);
    // repeat labels: compare the estimated label at each true section's middle
    char lab[8];
    for (int i = 0; i < ns; i++) {
        double mid = (i + 0.5) * len;
        lab[i] = '?';
        for (int k = 0; k < a.form.n; k++)
            if (a.form.sections[k].start <= mid && mid < a.form.sections[k].end) lab[i] = a.form.sections[k].label[0];
    }
    int pairs_ok = 1;
    for (int i = 0; i < ns; i++)
        for (int j = i + 1; j < ns; j++)
            if ((form[i] == form[j]) != (lab[i] == lab[j])) pairs_ok = 0;
    CHECK(pairs_ok, "repeat labels: true %s, found %.5s", form, lab);
    CHECK(lab[0] == 'A' && a.form.sections[0].occurrence == 1, "first section is A, occurrence 1");
    int occ_ok = a.form.n == ns;
    for (int i = 0; i < ns && occ_ok; i++) {
        int want = 1;
        for (int j = 0; j < i; j++) want += form[j] == form[i];
        occ_ok = a.form.sections[i].occurrence == want;
    }
    CHECK(occ_ok, "occurrences count the repeats");
    int conf_ok = 1;
    for (int k = 0; k < a.form.n; k++) conf_ok &= a.form.sections[k].confidence >= 0 && a.form.sections[k].confidence <= 1;
    CHECK(conf_ok, "confidences in [0, 1]");

    if (!write_files) { analysis_free(&a); free(x); return; }
    // JSON readable as a timeline
    char path[] = "/tmp/refrain_test_analyze_XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    rc = fp ? timeline_write(fp, &a.form) : -1;
    if (fp) fclose(fp);
    SongForm tl = {0};
    int rt = rc == 0 ? timeline_read(path, &tl) : -1;
    CHECK(rt == 0 && tl.n == a.form.n, "JSON reads back as a timeline with %d sections (%s)", tl.n, rt ? err_msg() : "ok");
    if (rt == 0 && tl.n == a.form.n)
        check_close("timeline second start", tl.sections[1].start, a.form.sections[1].start, 1e-3, 0);
    if (rt == 0) song_form_free(&tl);
    remove(path);

    // PNG of the self-similarity matrix
    char png[] = "/tmp/refrain_test_analyze_ssm.png";
    rc = analysis_ssm_png(png, &a);
    int pw = 0, ph = 0, pc = 0;
    unsigned char *im = rc == 0 ? stbi_load(png, &pw, &ph, &pc, 3) : NULL;
    int side = SSM_BAND + SSM_PAD + (a.T < SSM_MAX ? a.T : SSM_MAX);
    CHECK(im && pw == side && ph == side, "SSM PNG decodes to %dx%d (want %dx%d)", pw, ph, side, side);
    if (im && a.form.n > 1) {
        // the second section's start: a line-coloured column through the matrix,
        // and the column two pixels before it is not the line colour
        int N = side - SSM_BAND - SSM_PAD, org = SSM_BAND + SSM_PAD;
        double px_per_s = N / (a.T * a.frame_s);   // as analysis_ssm_png maps seconds to pixels
        int p0 = (int)((a.form.sections[1].start - a.t0) * px_per_s);
        int y = org + N / 2, on = 1, off = 1;
        const unsigned char *q = im + 3 * ((size_t)y * pw + org + p0);
        on = q[0] == 0 && q[1] == 230 && q[2] == 255;
        q = im + 3 * ((size_t)y * pw + org + p0 - 2);
        off = !(q[0] == 0 && q[1] == 230 && q[2] == 255);
        CHECK(on && off, "SSM PNG: boundary line at column %d, not beside it", org + p0);
    }
    stbi_image_free(im);
    if (getenv("KEEP_PNG") == NULL) remove(png);
    analysis_free(&a);
    free(x);
}

// A long song of few long sections (the over-segmentation case): six 50 s
// sections A B A C B A (5 minutes), each with a layer that comes and goes inside
// it (hi-hats on for 8.3 s, off for 8.3 s, in every section alike), the kind of
// arrangement change a real section holds. The sections must come out as
// few: at most half again as many as there are (a fixed 6 s scale found 35),
// every true boundary among them, and no label joining different sections.
static void test_long_song(void) {
    const char *form = "ABACBA";
    const double len = 50.0, sub = len / 6;
    int ns = (int)strlen(form);
    long n = (long)(ns * len * SR);
    float *x = callocCheck(n, sizeof(float));
    Rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < ns; i++) {
        add_section(x, form[i], i * len, len, &r);
        for (int k = 0; k < 6; k += 2) add_hats(x, i * len + k * sub, i * len + (k + 1) * sub, 0.125, 0.2f, &r);
    }
    Analysis a;
    int rc = analyze_audio(&a, x, n, NULL);
    CHECK(rc == 0, "analyze_audio on a 300 s song: %s", rc ? err_msg() : "ok");
    if (rc) { free(x); return; }
    analysis_print(stdout, &a);
    double ref[8], est[256], p, rr, f3;
    for (int i = 1; i < ns; i++) ref[i - 1] = i * len;
    int ne = 0;
    for (int i = 1; i < a.form.n && ne < 256; i++) est[ne++] = a.form.sections[i].start;
    boundary_prf(&p, &rr, &f3, ref, ns - 1, est, ne, 3.0);
    CHECK(a.form.n >= ns && a.form.n <= ns + ns / 2, "long song: %d sections found for %d true ones (%d sub-phrases)",
          a.form.n, ns, 6 * ns);
    CHECK(rr == 1.0, "long song: every true boundary found within 3 s (P %.2f R %.2f)", p, rr);
    double rs[8], es[256], pp, pr, pf;
    int rl[8], el[256];
    for (int i = 0; i < ns; i++) { rs[i] = i * len; rl[i] = form[i] - 'A'; }
    for (int i = 0; i < a.form.n && i < 256; i++) { es[i] = a.form.sections[i].start; el[i] = a.form.sections[i].label[0] - 'A'; }
    pairwise_prf(&pp, &pr, &pf, rs, rl, ns, es, el, a.form.n < 256 ? a.form.n : 256, ns * len, 0.1);
    CHECK(pp >= 0.95, "long song: frames labelled alike belong to one true label (pairwise P %.3f, R %.3f)", pp, pr);
    analysis_free(&a);
    free(x);
}

static void test_descriptors(void) {
    long n = 10L * SR;
    float *x = callocCheck(n, sizeof(float));
    SectionDescriptors d1, d2;
    int rc;
    // BS.1770: a 997 Hz sine at amplitude A reads 20 log10(A) - 3.01 LUFS
    for (long i = 0; i < n; i++) x[i] = 0.5f * (float)sin(2 * M_PI * 997.0 * i / SR);
    CHECK(section_descriptors(&d1, x, n, 0.0, 10.0) == 0, "descriptors of a loud sine");
    for (long i = 0; i < n; i++) x[i] *= 0.05f;
    CHECK(section_descriptors(&d2, x, n, 0.0, 10.0) == 0, "descriptors of a quiet sine");
    check_close("loud sine LUFS", d1.loudness_lufs, 20 * log10(0.5) - 3.01, 0.15, 0);
    check_close("quiet sine LUFS", d2.loudness_lufs, 20 * log10(0.025) - 3.01, 0.15, 0);
    check_close("loud sine RMS dB", d1.rms_db, 20 * log10(0.5 / sqrt(2)), 0.05, 0);
    CHECK(d1.loudness_lufs > d2.loudness_lufs + 19.9, "loud > quiet by 20 dB");
    check_close("sine centroid Hz", d1.brightness_hz, 997.0, 0, 0.03);

    // dark (500 Hz sine) vs bright (white noise: centroid half of Nyquist)
    Rng r;
    rng_seed(&r, 11);
    for (long i = 0; i < n; i++) x[i] = i < n / 2 ? 0.3f * (float)sin(2 * M_PI * 500.0 * i / SR) : 0.3f * (2 * rng_uniform(&r) - 1);
    CHECK(section_descriptors(&d1, x, n, 0.0, 5.0) == 0 && section_descriptors(&d2, x, n, 5.0, 10.0) == 0,
          "descriptors of a dark and a bright half");
    check_close("dark centroid Hz", d1.brightness_hz, 500.0, 0, 0.05);
    check_close("bright (white noise) centroid Hz", d2.brightness_hz, SR / 4.0, 0, 0.05);

    // sparse (2/s) vs dense (8/s) clicks, one section each
    memset(x, 0, sizeof(float) * n);
    for (int half = 0; half < 2; half++) {
        double rate = half ? 8.0 : 2.0;
        for (double t = half * 5.0 + 0.1; t < half * 5.0 + 5.0 - 0.05; t += 1.0 / rate)
            for (long i = 0; i < (long)(0.01 * SR); i++)
                x[(long)(t * SR) + i] += 0.8f * (float)exp(-(double)i / (0.002 * SR)) * (2 * rng_uniform(&r) - 1);
    }
    CHECK(section_descriptors(&d1, x, n, 0.0, 5.0) == 0 && section_descriptors(&d2, x, n, 5.0, 10.0) == 0,
          "descriptors of sparse and dense clicks");
    check_close("sparse clicks onsets/s", d1.onset_density, 2.0, 0.25, 0);
    check_close("dense clicks onsets/s", d2.onset_density, 8.0, 0.25, 0);
    // steady white noise: loud and bright, but no onsets
    for (long i = 0; i < n; i++) x[i] = 0.3f * (2 * rng_uniform(&r) - 1);
    rc = section_descriptors(&d1, x, n, 0.0, 10.0);
    CHECK(rc == 0 && d1.onset_density < 0.3f, "steady noise: %.2f onsets/s (want < 0.3)", d1.onset_density);
    // silence: no onsets, floor loudness
    memset(x, 0, sizeof(float) * n);
    rc = section_descriptors(&d1, x, n, 1.0, 3.0);
    CHECK(rc == 0 && d1.onset_density == 0 && d1.loudness_lufs <= -70,
          "silence: 0 onsets/s, %.1f LUFS", d1.loudness_lufs);
    CHECK(section_descriptors(&d1, x, n, 3.0, 3.05) == -1, "a 50 ms span is refused: %s", err_msg());
    free(x);
}

typedef struct { float *mag; long T, calls, order_ok; } WalkCtx;
static void walk_copy(void *vctx, long t, const float *mag) {
    WalkCtx *c = vctx;
    if (t != c->calls) c->order_ok = 0;
    c->calls++;
    if (t < c->T) memcpy(c->mag + t * N_BINS, mag, sizeof(float) * N_BINS);
}

static void test_stft_walk(void) {
    long n = 30L * SR + 123;   // spans two chunks, ragged end
    float *x = mallocCheck(sizeof(float) * n);
    Rng r;
    rng_seed(&r, 3);
    for (long i = 0; i < n; i++) x[i] = rng_normal(&r) * 0.1f;
    long T = stft_frames(n);
    float *want = mallocCheck(sizeof(float) * T * N_BINS);
    Stft *s = stft_create();
    stft_magnitude(s, want, x, n);
    stft_free(s);
    WalkCtx c = {callocCheck(T * N_BINS, sizeof(float)), T, 0, 1};
    CHECK(stft_walk(x, n, walk_copy, &c) == 0, "stft_walk runs");
    CHECK(c.calls == T && c.order_ok, "stft_walk visits %ld frames in order (want %ld)", c.calls, T);
    check_max_diff("stft_walk vs stft_magnitude", c.mag, want, T * N_BINS, 1e-4);
    free(c.mag); free(want); free(x);
}

static void test_measures(void) {
    double p, r, f;
    double ref[] = {10, 20, 30}, est[] = {10.4, 21.0, 29.9, 40};
    boundary_prf(&p, &r, &f, ref, 3, est, 4, 0.5);
    CHECK(fabs(p - 0.5) < 1e-12 && fabs(r - 2.0 / 3) < 1e-12, "boundary P/R at 0.5 s: %.3f %.3f", p, r);
    boundary_prf(&p, &r, &f, ref, 3, est, 4, 3.0);
    CHECK(fabs(p - 0.75) < 1e-12 && fabs(r - 1.0) < 1e-12, "boundary P/R at 3 s: %.3f %.3f", p, r);
    // two estimates near one reference: only one may match
    double est2[] = {10.1, 10.2};
    boundary_prf(&p, &r, &f, ref, 1, est2, 2, 0.5);
    CHECK(fabs(p - 0.5) < 1e-12 && fabs(r - 1.0) < 1e-12, "one-to-one matching: P %.2f R %.2f", p, r);

    // pairwise: renamed labels score 1; a hand-counted case
    double rs[] = {0, 10, 20}, es[] = {0, 10, 20};
    int rl[] = {0, 1, 0}, el[] = {5, 2, 5};
    pairwise_prf(&p, &r, &f, rs, rl, 3, es, el, 3, 30, 1.0);
    CHECK(fabs(f - 1) < 1e-12, "pairwise F of a relabelling is 1 (%.3f)", f);
    // ref A(10) B(10) A(10) vs est all one label: est pairs C(30,2)=435,
    // ref pairs C(20,2)+C(10,2)=190+45=235, both = 235
    int one[] = {0};
    double s0[] = {0};
    pairwise_prf(&p, &r, &f, rs, rl, 3, s0, one, 1, 30, 1.0);
    CHECK(fabs(p - 235.0 / 435) < 1e-12 && fabs(r - 1) < 1e-12, "pairwise P/R of one label: %.4f %.4f", p, r);
}

static void test_errors(void) {
    Analysis a;
    float z[100] = {0};
    CHECK(analyze_audio(&a, z, 100, NULL) == -1, "100 samples refused: %s", err_msg());
    float *x = callocCheck(3 * SR, sizeof(float));
    x[5] = NAN;
    CHECK(analyze_audio(&a, x, 3 * SR, NULL) == -1, "NaN refused: %s", err_msg());
    x[5] = 0;
    int rc = analyze_audio(&a, x, 3 * SR, NULL);
    CHECK(rc == 0 && a.form.n == 1, "3 s of silence is one section");
    if (rc == 0) analysis_free(&a);
    free(x);
}

// The pattern level on a song made like a tracker module: patterns of 6.4 s
// (64 rows at 125 bpm, speed 5), each a loop of four 1.6 s chords in its own
// key and timbre, played in the order A B C C D A B E (51.2 s, a back-to-back
// repeat among them). The period must come out as 6.4 s (within 2 %), every
// order entry as one section (boundaries within 0.5 s, none extra, the "C C"
// seam too) and the labels as the order list's (pairwise F 1).
static void test_patterns(void) {
    const char *order = "ABCCDABE";
    const double len = 6.4;
    static const int root[5] = {48, 53, 45, 50, 55};        // C, F, A, D, G
    static const int H[5] = {8, 2, 5, 3, 10};
    static const double tilt[5] = {1.0, 2.0, 1.5, 0.8, 1.2}, beat[5] = {0.4, 0.8, 0.2, 0.4, 0.2};
    static const int prog[4][3] = {{0, 4, 7}, {5, 9, 12}, {7, 11, 14}, {-3, 0, 4}};   // I IV V vi
    int ns = (int)strlen(order);
    long n = (long)(ns * len * SR);
    float *x = callocCheck(n, sizeof(float));
    for (int i = 0; i < ns; i++) {
        int k = order[i] - 'A';
        for (int c = 0; c < 4; c++) {
            int notes[3];
            for (int q = 0; q < 3; q++) notes[q] = root[k] + prog[c][q];
            double t0 = i * len + c * len / 4;
            add_chord(x, t0, t0 + len / 4, notes, 3, beat[k], 0.3, H[k], tilt[k], 0.5f);
        }
    }
    AnalyzeOpts o;
    analyze_defaults(&o);
    o.level = ANALYZE_PATTERNS;
    Analysis a;
    int rc = analyze_audio(&a, x, n, &o);
    CHECK(rc == 0, "pattern level on a 51 s song: %s", rc ? err_msg() : "ok");
    if (rc) { free(x); return; }
    analysis_print(stdout, &a);
    CHECK(fabs(a.period_s - len) < 0.02 * len, "period %.3f s, want %.1f s", a.period_s, len);
    double ref[16], est[64], rs[16], es[64], p, r, f, pp, pr, pf;
    int rl[16], el[64], ne = 0;
    for (int i = 0; i < ns; i++) { rs[i] = i * len; rl[i] = order[i] - 'A'; if (i) ref[i - 1] = i * len; }
    for (int i = 0; i < a.form.n && i < 64; i++) {
        es[i] = a.form.sections[i].start;
        el[i] = analysis_label_index(a.form.sections[i].label);
        if (i) est[ne++] = es[i];
    }
    boundary_prf(&p, &r, &f, ref, ns - 1, est, ne, 0.5);
    CHECK(f == 1.0, "pattern boundaries within 0.5 s: P %.2f R %.2f (%d found for %d)", p, r, ne, ns - 1);
    // labels: the found label at each order entry's middle pairs up as the order list does
    char lab[16];
    for (int i = 0; i < ns; i++) {
        double mid = (i + 0.5) * len;
        lab[i] = '?';
        for (int k = 0; k < a.form.n; k++)
            if (a.form.sections[k].start <= mid && mid < a.form.sections[k].end) lab[i] = a.form.sections[k].label[0];
    }
    int pairs_ok = 1;
    for (int i = 0; i < ns; i++)
        for (int j = i + 1; j < ns; j++) pairs_ok &= (order[i] == order[j]) == (lab[i] == lab[j]);
    CHECK(pairs_ok, "pattern labels: true %s, found %.8s", order, lab);
    // the boundaries sit within a frame or so (0.19 s) of the truth: pairwise F near 1
    pairwise_prf(&pp, &pr, &pf, rs, rl, ns, es, el, a.form.n < 64 ? a.form.n : 64, ns * len, 0.1);
    CHECK(pf > 0.95, "pattern labels: pairwise F %.3f (P %.3f R %.3f)", pf, pp, pr);
    analysis_free(&a);
    free(x);
}

// Songs made like tracker modules for the period and the labels: each letter of
// `order` a pattern of `len` s in its own key and timbre (as test_patterns'),
// four chords of its progression a pattern; `split` != 0 plays the second half of
// every pattern a fifth up (a change in its middle, weaker than the key and timbre
// change between patterns); `variant` (a letter or 0) marks a pattern whose sixth
// eighth (the second half of its third chord) has another chord, in the same key
// and timbre: a variant of the pattern before it in the alphabet that differs in
// a short part; `twin` (a letter or 0) marks a pattern whose second half repeats
// its first (chords I IV I IV, never a fifth up): its halves sound alike.
static float *pattern_song(const char *order, double len, int split, char variant, char twin, long *n) {
    static const int root[6] = {48, 53, 45, 50, 55, 47};        // C, F, A, D, G, B
    static const int H[6] = {8, 2, 5, 3, 10, 6};
    static const double tilt[6] = {1.0, 2.0, 1.5, 0.8, 1.2, 1.0}, beat[6] = {0.4, 0.8, 0.2, 0.4, 0.2, 0.4};
    static const int prog[4][3] = {{0, 4, 7}, {5, 9, 12}, {7, 11, 14}, {-3, 0, 4}};   // I IV V vi
    static const int other[3] = {2, 5, 9};                                               // ii
    int ns = (int)strlen(order);
    long np = (long)(len * SR);
    *n = ns * np;
    float *x = callocCheck(*n, sizeof(float)), *pat = mallocCheck(sizeof(float) * np);
    for (int i = 0; i < ns; i++) {
        // each pattern rendered from its own start: a repeat is the same samples, as a module's is
        int var = variant && order[i] == variant, tw = twin && order[i] == twin;
        int k = var ? order[i] - 'A' - 1 : order[i] - 'A';
        memset(pat, 0, sizeof(float) * np);
        for (int c = 0; c < 4; c++) {
            int pc = tw ? c % 2 : c, notes[3], up = split && !tw && c >= 2;
            for (int q = 0; q < 3; q++) notes[q] = root[k] + (up ? 7 : 0) + prog[pc][q];
            if (!(var && c == 2)) {
                add_chord(pat, c * len / 4, (c + 1) * len / 4, notes, 3, beat[k], 0.3, H[k], tilt[k], 0.5f);
                continue;
            }
            // the variant: the third chord's second half is another chord
            add_chord(pat, c * len / 4, (c + 0.5) * len / 4, notes, 3, beat[k], 0.3, H[k], tilt[k], 0.5f);
            for (int q = 0; q < 3; q++) notes[q] = root[k] + (up ? 7 : 0) + other[q];
            add_chord(pat, (c + 0.5) * len / 4, (c + 1) * len / 4, notes, 3, beat[k], 0.3, H[k], tilt[k], 0.5f);
        }
        memcpy(x + i * np, pat, sizeof(float) * np);
    }
    free(pat);
    return x;
}

// The period of pattern_song's songs, with and without the prior (period_prior_oct 0),
// the locked pairs (pairs 0) and the halving of "x x" pairs (halves 0).
static double pattern_period(const char *order, double len, int split, char twin, double prior_oct, int pairs,
                             int halves, int *nsec) {
    long n;
    float *x = pattern_song(order, len, split, 0, twin, &n);
    AnalyzeOpts o;
    analyze_defaults(&o);
    o.level = ANALYZE_PATTERNS;
    o.period_prior_oct = prior_oct;
    o.pattern_pairs = pairs;
    if (!halves) o.pattern_halves = 0;
    o.descriptors = 0;
    Analysis a;
    double p = -1;
    if (analyze_audio(&a, x, n, &o) == 0) { p = a.period_s; *nsec = a.form.n; analysis_free(&a); }
    else fprintf(stderr, "%s\n", err_msg());
    free(x);
    return p;
}

// The period prior (analyze.h: period_prior_s, period_prior_oct) only weighs
// the comb, which is blind to scale: a song of 6.4 s patterns whose chords change
// every 1.6 s is the same comb as one of 3.2 s patterns with chords every 0.8 s.
// The comb alone halves the first (3.2 s: a change in the middle of every
// pattern); with the prior it is 6.4 s. Without the prior the comb finds the
// second's 3.2 s. Known limit, printed and not asserted: with the default prior
// (6 s, 1.2 octaves) the 3.2 s song comes out at 6.4 s (notebooks_exports/analyzer.md).
static void test_pattern_period(void) {
    int nsec = 0;
    double p = pattern_period("ABCDEABFCDEFABCD", 6.4, 0, 0, 1.2, 1, 1, &nsec);
    CHECK(fabs(p - 6.4) < 0.03 * 6.4, "6.4 s patterns, with the prior: period %.3f s (%d patterns), want 6.4", p, nsec);
    p = pattern_period("ABCDEABFCDEFABCD", 6.4, 0, 0, 0, 1, 1, &nsec);
    CHECK(fabs(p - 3.2) < 0.03 * 3.2, "... the comb alone halves it (its chords change every 1.6 s): %.3f s, 3.2", p);
    p = pattern_period("ABCDEABFCDEFABCD", 3.2, 0, 0, 0, 1, 1, &nsec);
    CHECK(fabs(p - 3.2) < 0.03 * 3.2, "3.2 s patterns, no prior: period %.3f s (%d patterns), want 3.2", p, nsec);
    p = pattern_period("ABCDEABFCDEFABCD", 3.2, 0, 0, 1.2, 1, 1, &nsec);
    printf("3.2 s patterns with the default prior: period %.3f s (%d patterns; a known limit when 6.4)\n", p, nsec);
}

// Locked pairs (AnalyzeOpts.pattern_pairs): 8 s patterns whose second half is a
// fifth up (a change in the middle of each), played A B C D B C E A: the halves
// always come in the same pairs and two pairs come again, so the period is 8 s;
// without the rule 4 s (the default prior on in both; the comb alone finds the
// 2 s chords).
static void test_pattern_pairs(void) {
    int nsec = 0;
    double p = pattern_period("ABCDBCEA", 8.0, 1, 0, 1.2, 1, 1, &nsec);
    CHECK(fabs(p - 8.0) < 0.03 * 8.0, "locked halves: period %.3f s (%d patterns), want 8", p, nsec);
    p = pattern_period("ABCDBCEA", 8.0, 1, 0, 1.2, 0, 1, &nsec);
    CHECK(fabs(p - 4.0) < 0.03 * 4.0, "... without the pairs rule: %.3f s, want 4 (the comb's halves)", p);
}

// The found label at the middle of each of the ns order entries of len s ('?' where none).
static void labels_at_entries(char *lab, const Analysis *a, int ns, double len) {
    for (int i = 0; i < ns; i++) {
        double mid = (i + 0.5) * len;
        lab[i] = '?';
        for (int k = 0; k < a->form.n; k++)
            if (a->form.sections[k].start <= mid && mid < a->form.sections[k].end) lab[i] = a->form.sections[k].label[0];
    }
    lab[ns] = 0;
}

// A variant that differs in a short part gets its own label and its plays one
// label: 6.4 s patterns A B C D C B D A where D is C with another chord for
// 0.8 s (an eighth) in its second half. The variant's change pulls the grid's
// boundaries next to it about a second off the order entries, so the plays line
// up only when slid more than +- 1 s (fine_slack_s), and the eighth that differs
// shows in a low quantile of the frame cosines, not in their mean
// (fine_similarity). Session 10's labels (+- 1 s, every 4th alignment, the mean)
// gave A B C D E B F A. Every pair of entries must pair up as the order list does.
static void test_pattern_variant(void) {
    const char *order = "ABCDCBDA";
    const double len = 6.4;
    int ns = (int)strlen(order);
    long n;
    float *x = pattern_song(order, len, 0, 'D', 0, &n);
    AnalyzeOpts o;
    analyze_defaults(&o);
    o.level = ANALYZE_PATTERNS;
    o.descriptors = 0;
    Analysis a;
    int rc = analyze_audio(&a, x, n, &o);
    free(x);
    CHECK(rc == 0, "variant song: %s", rc ? err_msg() : "ok");
    if (rc) return;
    char lab[16];
    labels_at_entries(lab, &a, ns, len);
    int pairs_ok = 1;
    for (int i = 0; i < ns; i++)
        for (int j = i + 1; j < ns; j++) pairs_ok &= (order[i] == order[j]) == (lab[i] == lab[j]);
    CHECK(fabs(a.period_s - len) < 0.03 * len && pairs_ok,
          "a variant in an eighth of a pattern gets its own label: true %s, found %s (period %.2f s)", order, lab,
          a.period_s);
    analysis_free(&a);
}

// Locked pairs with a pattern whose halves sound alike: 8 s patterns, the second
// half of each a fifth up except E's, which repeats its first half, played
// A B C D B C E E A. At 4 s the labels pair up, E's as "x x" (one label in both
// places, which the rule without the "x x" exception refused), so the period is
// 8 s; without the pairs rule it stays 4 s.
static void test_pattern_twin(void) {
    int nsec = 0;
    double p = pattern_period("ABCDBCEEA", 8.0, 1, 'E', 1.2, 1, 1, &nsec);
    CHECK(fabs(p - 8.0) < 0.03 * 8.0, "locked halves, one pattern's halves alike: period %.3f s (%d patterns), want 8",
          p, nsec);
    p = pattern_period("ABCDBCEEA", 8.0, 1, 'E', 1.2, 0, 1, &nsec);
    CHECK(fabs(p - 4.0) < 0.03 * 4.0, "... without the pairs rule: %.3f s, want 4 (the comb's halves)", p);
}

// Patterns each played twice in a row, as a module's order list often has them
// (A A B B ...; 3.2 s patterns): the repeat's boundary has no novelty, so the comb
// and the prior find 6.4 s; the patterns found at 3.2 s come in "x x" pairs, so
// the period halves to the order entries' 3.2 s. Without the rule the 6.4 s
// patterns found come in locked pairs (A B, C D, E F) and double again: 12.8 s.
static void test_pattern_halves(void) {
    int nsec = 0;
    const char *order = "AABBCCDDEEFFAABBCCDDEEFF";
    double p = pattern_period(order, 3.2, 0, 0, 1.2, 1, 1, &nsec);
    CHECK(fabs(p - 3.2) < 0.03 * 3.2, "patterns played twice in a row: period %.3f s (%d patterns), want 3.2", p,
          nsec);
    p = pattern_period(order, 3.2, 0, 0, 1.2, 1, 0, &nsec);
    CHECK(p > 2 * 0.97 * 3.2, "... without the halving: %.3f s, want twice 3.2 s or more (the comb's pairs)", p);
}

static void test_label_names(void) {
    char b[8];
    int ok = 1;
    for (int k = 0; k < 26 * 27; k++) { analysis_label_name(b, sizeof b, k); ok &= analysis_label_index(b) == k; }
    analysis_label_name(b, sizeof b, 26);
    CHECK(ok && strcmp(b, "AA") == 0, "labels past Z: 26 -> %s, names and indices agree", b);
    CHECK(analysis_label_index("verse") == -1 && analysis_label_index("") == -1, "names not the analyzer's: -1");
}

int main(void) {
    test_measures();
    test_stft_walk();
    test_descriptors();
    test_errors();
    test_song("ABACB", 1);
    test_song("ABBCB", 0);   // back-to-back repeats stay two sections
    test_long_song();
    test_label_names();
    test_patterns();
    test_pattern_period();
    test_pattern_pairs();
    test_pattern_variant();
    test_pattern_twin();
    test_pattern_halves();
    return check_summary("test_data_analyze");
}
