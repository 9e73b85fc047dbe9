// plot.c — line plots for benchmark and evaluation reports: axes with "nice"
// ticks (1, 2, 5 x 10^k) or log10 decades, light grid, title, axis labels,
// one colour per series, markers at the data points, and a legend.
// Points that are not finite (or not positive on a log axis) break the line.
// It owns no statistics: callers pass the numbers to draw.
#include "audio/audio.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "audio/draw.h"
#include "util/util.h"

#define PW 800
#define PH 500
#define PL 76     // margins around the plot area
#define PR 20
#define PT 36
#define PB 52

// A qualitative palette: twelve hues far apart, mid lightness, readable on white
// (the ablation's pair plot draws ten series: no two may share a colour).
#define N_PALETTE 12
static const uint32_t PALETTE[N_PALETTE] = {
    RGB(31, 100, 190), RGB(230, 110, 20), RGB(40, 150, 60),  RGB(200, 40, 50),
    RGB(130, 80, 180), RGB(120, 80, 60),  RGB(210, 90, 170), RGB(90, 90, 90),
    RGB(20, 165, 175), RGB(175, 160, 20), RGB(20, 30, 110),  RGB(245, 140, 130),
};

typedef struct {
    int log;
    double lo, hi;     // axis range (log10 units when log)
    double step;       // tick step (decades when log)
} Axis;

static int usable(double v, int log) { return isfinite(v) && (!log || v > 0); }
static double axis_value(double v, int log) { return log ? log10(v) : v; }

static double nice_step(double span, int nticks) {
    double raw = span / nticks, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void axis_fit(Axis *a, double lo, double hi, int log) {
    a->log = log;
    if (log) {
        a->lo = floor(lo);
        a->hi = ceil(hi);
        if (a->hi <= a->lo) a->hi = a->lo + 1;
        a->step = ceil((a->hi - a->lo) / 8);   // at most ~8 labelled decades
        return;
    }
    if (hi <= lo) {
        double d = lo == 0 ? 1 : fabs(lo) * 0.1;
        lo -= d;
        hi += d;
    }
    a->step = nice_step(hi - lo, 6);
    a->lo = floor(lo / a->step) * a->step;
    a->hi = ceil(hi / a->step) * a->step;
}

static void format_tick(char *buf, size_t cap, double v, const Axis *a) {
    if (a->log) {
        double x = pow(10, v);
        if (v >= -3 && v <= 5) snprintf(buf, cap, "%g", x);
        else snprintf(buf, cap, "1e%d", (int)lrint(v));
    } else {
        if (fabs(v) < a->step * 1e-6) v = 0;
        snprintf(buf, cap, "%g", v);
    }
}

int plot_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
             const PlotSeries *series, int nseries, int logx, int logy) {
    if (nseries <= 0) return err_set("plot %s: no series to draw", path);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int s = 0; s < nseries; s++)
        for (int i = 0; i < series[s].n; i++) {
            double x = series[s].x[i], y = series[s].y[i];
            if (!usable(x, logx) || !usable(y, logy)) continue;
            x = axis_value(x, logx);
            y = axis_value(y, logy);
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            if (y > y1) y1 = y;
        }
    if (!(x0 <= x1)) return err_set("plot %s: no finite data to draw%s", path, logx || logy ? " (log axes need positive values)" : "");
    if (dir_exists_for(path)) return -1;
    Axis ax, ay;
    axis_fit(&ax, x0, x1, logx);
    axis_fit(&ay, y0, y1, logy);

    const uint32_t ink = RGB(40, 40, 40), grid = RGB(225, 225, 225), minor = RGB(242, 242, 242);
    const int L = PL, R = PW - PR, T = PT, B = PH - PB;   // plot area [L, R] x [T, B]
#define PX(v) (L + (int)lrint(((v) - ax.lo) / (ax.hi - ax.lo) * (R - L)))
#define PY(v) (B - (int)lrint(((v) - ay.lo) / (ay.hi - ay.lo) * (B - T)))
    Canvas c;
    canvas_init(&c, PW, PH, RGB(255, 255, 255));

    // minor grid on log axes: 2..9 within each decade
    for (int k = 0; k < 2; k++) {
        const Axis *a = k ? &ay : &ax;
        if (!a->log || a->hi - a->lo > 6) continue;
        for (double d = a->lo; d < a->hi; d++)
            for (int m = 2; m <= 9; m++) {
                double v = d + log10(m);
                if (k) canvas_rect(&c, L, PY(v), R, PY(v) + 1, minor);
                else canvas_rect(&c, PX(v), T, PX(v) + 1, B, minor);
                if ((m == 2 || m == 5) && a->hi - a->lo <= 2) {   // few decades: label 2 and 5 too
                    char ml[32];
                    snprintf(ml, sizeof ml, "%g", pow(10, v));
                    if (k) canvas_text(&c, L - 8 - text_width(ml, 1), PY(v) - 3, ml, 1, RGB(110, 110, 110));
                    else canvas_text(&c, PX(v) - text_width(ml, 1) / 2, B + 9, ml, 1, RGB(110, 110, 110));
                }
            }
    }
    // major grid, ticks and tick labels
    char lab[64];
    for (double v = ax.lo; v <= ax.hi + ax.step * 1e-6; v += ax.step) {
        int x = PX(v);
        canvas_rect(&c, x, T, x + 1, B, grid);
        canvas_rect(&c, x, B, x + 1, B + 5, ink);
        format_tick(lab, sizeof lab, v, &ax);
        canvas_text(&c, x - text_width(lab, 1) / 2, B + 9, lab, 1, ink);
    }
    for (double v = ay.lo; v <= ay.hi + ay.step * 1e-6; v += ay.step) {
        int y = PY(v);
        canvas_rect(&c, L, y, R, y + 1, grid);
        canvas_rect(&c, L - 5, y, L, y + 1, ink);
        format_tick(lab, sizeof lab, v, &ay);
        canvas_text(&c, L - 8 - text_width(lab, 1), y - 3, lab, 1, ink);
    }
    // frame, title, axis labels
    canvas_rect(&c, L, T, R + 1, T + 1, ink);
    canvas_rect(&c, L, B, R + 1, B + 1, ink);
    canvas_rect(&c, L, T, L + 1, B + 1, ink);
    canvas_rect(&c, R, T, R + 1, B + 1, ink);
    if (title) canvas_text(&c, (PW - text_width(title, 2)) / 2, 8, title, 2, ink);
    if (xlabel) canvas_text(&c, (L + R - text_width(xlabel, 1)) / 2, PH - 20, xlabel, 1, ink);
    if (ylabel) canvas_text(&c, 8, T - 14, ylabel, 1, ink);

    // series: lines between consecutive usable points, a square at each point
    for (int s = 0; s < nseries; s++) {
        uint32_t col = PALETTE[s % N_PALETTE];
        int have = 0, px = 0, py = 0;
        for (int i = 0; i < series[s].n; i++) {
            double x = series[s].x[i], y = series[s].y[i];
            if (!usable(x, logx) || !usable(y, logy)) { have = 0; continue; }
            int qx = PX(axis_value(x, logx)), qy = PY(axis_value(y, logy));
            if (have) canvas_line(&c, px, py, qx, qy, 2, col);
            canvas_rect(&c, qx - 2, qy - 2, qx + 3, qy + 3, col);
            px = qx;
            py = qy;
            have = 1;
        }
    }
#undef PX
#undef PY
    // legend, top-left inside the plot
    int lw = 0;
    for (int s = 0; s < nseries; s++) {
        int w = text_width(series[s].name ? series[s].name : "", 1);
        if (w > lw) lw = w;
    }
    int bx = L + 10, by = T + 10, bw = lw + 40, bh = 14 * nseries + 8;
    canvas_rect(&c, bx, by, bx + bw, by + bh, ink);
    canvas_rect(&c, bx + 1, by + 1, bx + bw - 1, by + bh - 1, RGB(255, 255, 255));
    for (int s = 0; s < nseries; s++) {
        int y = by + 6 + 14 * s;
        canvas_rect(&c, bx + 6, y + 3, bx + 26, y + 5, PALETTE[s % N_PALETTE]);
        canvas_text(&c, bx + 32, y, series[s].name ? series[s].name : "", 1, ink);
    }
    int rc = canvas_write_png(&c, path);
    canvas_free(&c);
    return rc;
}
