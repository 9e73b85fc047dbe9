// draw.c — RGB canvas, lines, text and PNG output for spectrogram.c and plot.c.
// Text uses stb_easy_font (libstb-dev, header-only, all static): it turns
// characters into axis-aligned unit quads, which we fill as rectangles.
#include "audio/draw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push   // third-party header: keep its warnings out of our build
#pragma GCC diagnostic ignored "-Wmissing-braces"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop
#include <stb_image_write.h>   // implementation lives in libstb.so

#include "util/util.h"

void canvas_init(Canvas *c, int w, int h, uint32_t bg) {
    c->w = w;
    c->h = h;
    c->px = mallocCheck((size_t)w * h * 3);
    canvas_rect(c, 0, 0, w, h, bg);
}

void canvas_free(Canvas *c) {
    free(c->px);
    c->px = NULL;
}

void canvas_pixel(Canvas *c, int x, int y, uint32_t rgb) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    uint8_t *p = c->px + ((size_t)y * c->w + x) * 3;
    p[0] = (uint8_t)(rgb >> 16);
    p[1] = (uint8_t)(rgb >> 8);
    p[2] = (uint8_t)rgb;
}

void canvas_rect(Canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) canvas_pixel(c, x, y, rgb);
}

// Bresenham, with a square brush of side `thick` centred on the path.
void canvas_line(Canvas *c, int x0, int y0, int x1, int y1, int thick, uint32_t rgb) {
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy, lo = -(thick - 1) / 2, hi = thick / 2;
    for (;;) {
        canvas_rect(c, x0 + lo, y0 + lo, x0 + hi + 1, y0 + hi + 1, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; x0 += sx; }
        if (e2 <= dx) { e += dx; y0 += sy; }
    }
}

static char printable(char ch) { return (ch >= 32 && ch < 127) ? ch : '?'; }

int text_width(const char *s, int scale) {
    int w = 0;
    for (; *s; s++) {
        char one[2] = {printable(*s), 0};
        w += stb_easy_font_width(one);
    }
    return w * scale;
}

void canvas_text(Canvas *c, int x, int y, const char *s, int scale, uint32_t rgb) {
    static _Thread_local char vbuf[64 * 64];   // 64 bytes a quad; one glyph has < 40 quads
    for (; *s; s++) {
        char one[2] = {printable(*s), 0};
        int nq = stb_easy_font_print(0, 0, one, NULL, vbuf, sizeof vbuf);
        for (int q = 0; q < nq; q++) {
            const float *v0 = (const float *)(vbuf + q * 64);        // top-left corner
            const float *v2 = (const float *)(vbuf + q * 64 + 32);   // bottom-right corner
            canvas_rect(c, x + (int)v0[0] * scale, y + (int)v0[1] * scale,
                        x + (int)v2[0] * scale, y + (int)v2[1] * scale, rgb);
        }
        x += stb_easy_font_width(one) * scale;
    }
}

// stb_image_write's own file writer ignores fwrite and fclose errors (a PNG cut
// short by a full disk came back as success), so the encoder writes through
// this sink and every error is checked here.
typedef struct { FILE *f; int err; } PngSink;

static void png_sink(void *ctx, void *data, int size) {
    PngSink *s = ctx;
    if (!s->err && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->err = errno ? errno : EIO;
}

int canvas_write_png(const Canvas *c, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) return err_set("cannot write %s: %s", path, strerror(errno));
    PngSink s = {f, 0};
    errno = 0;
    int ok = stbi_write_png_to_func(png_sink, &s, c->w, c->h, 3, c->px, c->w * 3);
    if (!s.err && fflush(f) != 0) s.err = errno ? errno : EIO;
    if (fclose(f) != 0 && !s.err) s.err = errno ? errno : EIO;
    if (ok && !s.err) return 0;
    remove(path);
    if (!ok) return err_set("cannot write %s: the PNG encoder failed (%d x %d pixels; out of memory?)", path, c->w, c->h);
    return err_set("cannot write %s: %s", path, s.err == ENOSPC ? "disk full" : strerror(s.err));
}
