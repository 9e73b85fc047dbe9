// draw — a tiny RGB canvas shared by the image writers (spectrogram and plot
// in audio/, the self-similarity matrix in data/analyze.c):
// filled rectangles, lines, text (stb_easy_font's segment font, rasterized
// here), and PNG output (stb_image_write) to the path given, every write error
// reported; atomic output is the caller's (util.h OutTx).
// Internal to the library: not part of a public header. It owns no audio logic.
#ifndef REFRAIN_AUDIO_DRAW_H
#define REFRAIN_AUDIO_DRAW_H
#include <stdint.h>

typedef struct {
    int w, h;
    uint8_t *px;          // (h, w, 3) RGB, row 0 at the top
} Canvas;

#define RGB(r, g, b) ((uint32_t)(((r) << 16) | ((g) << 8) | (b)))

void canvas_init(Canvas *c, int w, int h, uint32_t bg);
void canvas_free(Canvas *c);
void canvas_pixel(Canvas *c, int x, int y, uint32_t rgb);            // clipped
void canvas_rect(Canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb); // fills [x0,x1) x [y0,y1), clipped
void canvas_line(Canvas *c, int x0, int y0, int x1, int y1, int thick, uint32_t rgb);
// Text with its top-left at (x, y); scale 1 gives glyphs 7 px tall on a 12 px
// line. Characters outside printable ASCII draw as '?'.
void canvas_text(Canvas *c, int x, int y, const char *s, int scale, uint32_t rgb);
int text_width(const char *s, int scale);
#define TEXT_HEIGHT(scale) (8 * (scale))   // cap height plus one, without descenders
// Writes the PNG to exactly path; on failure removes it and says why (disk full, ...).
int canvas_write_png(const Canvas *c, const char *path);

#endif
