// spectrogram.c — log-mel (T, M) to a PNG: viridis colours, low frequencies
// at the bottom, a frequency axis on the left, a time axis strip below, and
// when a form is given a white line at every section start and end with
// the section's label. It owns no feature computation (mel.c) and no JSON
// (util/song.c).
//
// Layout (pixels): SPEC_LEFT margin | plot W wide | SPEC_RIGHT margin, and
// SPEC_TOP margin, M * SPEC_ROW rows of plot, SPEC_AXIS strip below.
// Width: W = T for 600 <= T <= 2000 (one column a frame); shorter clips repeat
// each frame floor(600 / T) times; longer ones average frames into 2000 columns.
// A time t lands in plot column floor(t * fps * W / T + 0.5), fps = SR / HOP.
#include "audio/audio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/draw.h"
#include "util/util.h"

#define SPEC_LEFT 40
#define SPEC_RIGHT 14
#define SPEC_TOP 6
#define SPEC_ROW 3        // pixel rows per mel band
#define SPEC_AXIS 26
#define SPEC_MIN_W 600
#define SPEC_MAX_W 2000
#define SPEC_RANGE 9.2103f   // shown dynamic range: ln(1e4), 80 dB of magnitude
#define BOUNDARY RGB(255, 255, 255)   // never produced by the colour map

// Viridis at nine evenly spaced points (0, 1/8, ..., 1), from the published
// palette's anchor colours; between them we interpolate linearly in RGB.
static const uint8_t VIRIDIS[9][3] = {
    {68, 1, 84},    {71, 45, 123},  {59, 82, 139},  {44, 114, 142}, {33, 145, 140},
    {40, 174, 128}, {94, 201, 98},  {173, 220, 48}, {253, 231, 37},
};

static uint32_t colormap(float v) {   // v in [0, 1]
    if (!(v > 0)) v = 0;
    if (v > 1) v = 1;
    float f = v * 8;
    int i = (int)f;
    if (i > 7) i = 7;
    float a = f - i;
    int rgb[3];
    for (int k = 0; k < 3; k++) rgb[k] = (int)lrintf(VIRIDIS[i][k] + a * (VIRIDIS[i + 1][k] - VIRIDIS[i][k]));
    return RGB(rgb[0], rgb[1], rgb[2]);
}

static int plot_width(long T) {
    if (T > SPEC_MAX_W) return SPEC_MAX_W;
    if (T < SPEC_MIN_W) return (int)(T * (SPEC_MIN_W / T));
    return (int)T;
}

// Slaney mel scale: linear below 1 kHz, logarithmic above.
static double hz_to_mel(double f) {
    return f < 1000 ? 3 * f / 200 : 15 + 27 * log(f / 1000) / log(6.4);
}

// Pixel row (from the plot top) of the centre of frequency f.
static int freq_row(double f, int M) {
    double m0 = hz_to_mel(MEL_FMIN), m1 = hz_to_mel(MEL_FMAX);
    double band = (hz_to_mel(f) - m0) / (m1 - m0) * (M + 1) - 1;   // fractional band index
    return (int)lrint((M - 0.5 - band) * SPEC_ROW);
}

static void format_time(char *buf, size_t cap, double t, double step, double total) {
    if (total >= 60) snprintf(buf, cap, "%d:%02d", (int)(t / 60), (int)fmod(t + 1e-9, 60));
    else if (step < 1) snprintf(buf, cap, "%.1fs", t);
    else snprintf(buf, cap, "%gs", t);
}

int spectrogram_png(const char *path, const float *logmel, long T, const SongForm *form) {
    const int M = N_MELS;
    if (T <= 0) return err_set("cannot draw a spectrogram of zero frames (%s)", path);
    if (dir_exists_for(path)) return -1;
    const int W = plot_width(T), H = M * SPEC_ROW;
    const double fps = (double)SAMPLE_RATE / HOP, seconds = T / fps, px_per_s = W / seconds;
    Canvas c;
    canvas_init(&c, SPEC_LEFT + W + SPEC_RIGHT, SPEC_TOP + H + SPEC_AXIS, RGB(255, 255, 255));

    // colour range: the loudest value and SPEC_RANGE below it (or the quietest)
    float vmax = -INFINITY, vmin = INFINITY;
    for (long i = 0; i < T * M; i++) {
        if (logmel[i] > vmax) vmax = logmel[i];
        if (logmel[i] < vmin) vmin = logmel[i];
    }
    if (!isfinite(vmax)) vmax = 0;
    if (!(vmin > vmax - SPEC_RANGE)) vmin = vmax - SPEC_RANGE;
    float scale = vmax > vmin ? 1.0f / (vmax - vmin) : 0;

    float *col = mallocCheck(M * sizeof(float));   // (M)
    for (int x = 0; x < W; x++) {
        long f0 = (long)((double)x * T / W), f1 = (long)((double)(x + 1) * T / W);
        if (f1 <= f0) f1 = f0 + 1;
        for (int m = 0; m < M; m++) col[m] = 0;
        for (long f = f0; f < f1; f++)
            for (int m = 0; m < M; m++) col[m] += isfinite(logmel[f * M + m]) ? logmel[f * M + m] : vmin;
        for (int m = 0; m < M; m++) {
            uint32_t rgb = colormap((col[m] / (f1 - f0) - vmin) * scale);
            int y = SPEC_TOP + (M - 1 - m) * SPEC_ROW;   // band 0 (lowest) at the bottom
            canvas_rect(&c, SPEC_LEFT + x, y, SPEC_LEFT + x + 1, y + SPEC_ROW, rgb);
        }
    }
    free(col);

    // frequency axis
    const uint32_t ink = RGB(40, 40, 40);
    static const struct { double hz; const char *name; } FT[] = {
        {0, "0"}, {500, "500"}, {1000, "1k"}, {2000, "2k"}, {4000, "4k"}, {8000, "8k"}};
    for (size_t i = 0; i < sizeof FT / sizeof FT[0]; i++) {
        int y = SPEC_TOP + freq_row(FT[i].hz, M);
        if (FT[i].hz == 0) y = SPEC_TOP + H - 1;
        canvas_rect(&c, SPEC_LEFT - 4, y, SPEC_LEFT, y + 1, ink);
        int ty = y - 4 < SPEC_TOP ? SPEC_TOP : y - 4;
        if (ty + TEXT_HEIGHT(1) > SPEC_TOP + H) ty = SPEC_TOP + H - TEXT_HEIGHT(1);
        canvas_text(&c, SPEC_LEFT - 6 - text_width(FT[i].name, 1), ty, FT[i].name, 1, ink);
    }
    canvas_text(&c, 4, SPEC_TOP + H + 10, "Hz", 1, ink);

    // time axis: the smallest "nice" step that leaves >= 70 px between ticks
    static const double STEPS[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 3600};
    double step = STEPS[sizeof STEPS / sizeof STEPS[0] - 1];
    for (size_t i = 0; i < sizeof STEPS / sizeof STEPS[0]; i++)
        if (STEPS[i] * px_per_s >= 70) { step = STEPS[i]; break; }
    const int ay = SPEC_TOP + H;
    canvas_rect(&c, SPEC_LEFT, ay, SPEC_LEFT + W, ay + 1, ink);
    for (int k = 0;; k++) {
        double t = k * step;
        int x = (int)floor(t * px_per_s + 0.5);
        if (x >= W) break;
        canvas_rect(&c, SPEC_LEFT + x, ay, SPEC_LEFT + x + 1, ay + 5, ink);
        char lab[32];
        format_time(lab, sizeof lab, t, step, seconds);
        int tw = text_width(lab, 1), tx = SPEC_LEFT + x - tw / 2;
        if (tx + tw > c.w - 1) tx = c.w - 1 - tw;
        canvas_text(&c, tx, ay + 9, lab, 1, ink);
    }

    // section boundaries and labels
    if (form) {
        for (int i = 0; i < form->n; i++) {
            const SongSection *s = &form->sections[i];
            if (s->start >= seconds) continue;
            int x0 = (int)floor(s->start * fps * W / T + 0.5), x1 = (int)floor(s->end * fps * W / T + 0.5);
            if (x1 > W - 1) x1 = W - 1;
            canvas_rect(&c, SPEC_LEFT + x0, SPEC_TOP, SPEC_LEFT + x0 + 1, ay, BOUNDARY);
            if (s->end < seconds) canvas_rect(&c, SPEC_LEFT + x1, SPEC_TOP, SPEC_LEFT + x1 + 1, ay, BOUNDARY);
            // the label, shortened until it fits between the lines, on a dark box
            char lab[sizeof s->label];
            snprintf(lab, sizeof lab, "%s", s->label);
            int room = x1 - x0 - 6;
            for (int len = (int)strlen(lab); len > 0 && text_width(lab, 1) + 4 > room; len--) lab[len - 1] = 0;
            if (lab[0]) {
                int lx = SPEC_LEFT + x0 + 3, tw = text_width(lab, 1);
                canvas_rect(&c, lx, SPEC_TOP + 2, lx + tw + 4, SPEC_TOP + 2 + TEXT_HEIGHT(1) + 4, RGB(0, 0, 0));
                canvas_text(&c, lx + 2, SPEC_TOP + 4, lab, 1, BOUNDARY);
            }
        }
    }
    int rc = canvas_write_png(&c, path);
    canvas_free(&c);
    return rc;
}
