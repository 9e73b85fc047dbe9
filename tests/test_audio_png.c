// test_audio_png — spectrogram PNGs, timelines and line plots:
// the PNG decodes to the size the layout promises, low bands sit at the
// bottom, timeline boundaries are white lines exactly where the timeline puts
// them (and nowhere else), and bad timelines are refused naming the section.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image.h>   // stbi_load lives in libstb.so

#include "audio/audio.h"
#include "tests/check.h"
#include "util/util.h"

// Layout constants from audio/spectrogram.c's header comment.
#define LEFT 40
#define TOP 6
#define ROW 3
#define AXIS 26
#define RIGHT 14
static const double FPS = (double)SAMPLE_RATE / HOP;

static char dir[] = "/tmp/refrain-test-png-XXXXXX";

static void path_in(char *out, const char *name) { snprintf(out, 4096, "%s/%s", dir, name); }

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static int is_white(const unsigned char *img, int w, int x, int y) {
    const unsigned char *p = img + ((size_t)y * w + x) * 3;
    return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

// logmel (T, M): louder at low bands, slowly varying in time
static float *make_logmel(long T) {
    float *lm = malloc(sizeof(float) * T * N_MELS);
    for (long t = 0; t < T; t++)
        for (int m = 0; m < N_MELS; m++) lm[t * N_MELS + m] = -0.1f * m + 0.5f * sinf(0.01f * t);
    return lm;
}

// Timeline JSON that should be refused, with a fragment the message must hold.
static void refuse(const char *json, const char *fragment) {
    char p[4096];
    path_in(p, "bad.json");
    write_text(p, json);
    SongForm tl = {(SongSection *)1, 7, 0, 0};
    int rc = timeline_read(p, &tl);
    CHECK(rc == -1 && strstr(err_msg(), fragment) && tl.sections == NULL && tl.n == 0,
          "refused (%s): %s", fragment, err_msg());
}

static void test_timeline(void) {
    char p[4096];
    path_in(p, "ok.json");
    // byte-order mark, unknown keys, key order, escapes, exponent numbers
    write_text(p, "\xEF\xBB\xBF{ \"title\": \"x\", \"sections\" : [\n"
                  "  {\"start\": 0, \"end\": 3.0, \"label\": \"in\\u00e9 \\\"A\\\"\", \"extra\": [1, {\"a\": null}]},\n"
                  "  {\"end\": 6.5e0, \"start\": 3, \"label\": \"verse\"},\n"
                  "  {\"label\": \"chorus\", \"start\": 6.5, \"end\": 9.5}\n"
                  "], \"more\": true}\n");
    SongForm tl;
    int rc = timeline_read(p, &tl);
    CHECK(rc == 0 && tl.n == 3, "valid timeline read (%s)", rc ? err_msg() : "3 sections");
    if (rc == 0) {
        CHECK(strcmp(tl.sections[0].label, "in\xC3\xA9 \"A\"") == 0, "escapes decoded: %s", tl.sections[0].label);
        CHECK(tl.sections[1].start == 3 && tl.sections[1].end == 6.5, "keys in any order");
        CHECK(strcmp(tl.sections[2].label, "chorus") == 0 && tl.sections[2].end == 9.5, "third section");
        song_form_free(&tl);
    }
    path_in(p, "empty.json");
    write_text(p, "{\"sections\": []}");
    CHECK(timeline_read(p, &tl) == 0 && tl.n == 0, "empty sections list is fine");
    song_form_free(&tl);

    refuse("{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":5},{\"label\":\"b\",\"start\":4,\"end\":8}]}",
           "sections[1] (b, 4-8 s) overlaps sections[0]");
    refuse("{\"sections\":[{\"label\":\"b\",\"start\":4,\"end\":8},{\"label\":\"a\",\"start\":0,\"end\":5}]}",
           "overlaps sections[1]");
    refuse("{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":5},{\"label\":\"b\",\"start\":-1,\"end\":8}]}",
           "sections[1] (b) starts at a negative time");
    refuse("{\"sections\":[{\"label\":\"a\",\"start\":5,\"end\":5}]}", "sections[0] (a) ends at 5, not after");
    refuse("{\"sections\":[{\"label\":\"a\",\"start\":0}]}", "sections[0] has no \"end\"");
    refuse("{\"sections\":[{\"label\":\"a\",\"start\":\"0\",\"end\":1}]}", "sections[0].start is not a number");
    refuse("{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":1},]}", "malformed JSON");
    refuse("{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":1}]", "malformed JSON");
    refuse("{\"sections\":[{\"label\":\"a\",\"start\":0,\n\"end\":1.}]}", "line 2");
    refuse("{\"sections\":[]} x", "unexpected text");
    refuse("", "malformed JSON");
    refuse("[1,2]", "expected a JSON object");
    refuse("{\"parts\":[]}", "expected a \"sections\" array");
    refuse("{\"sections\":[{\"label\":\"a label that is much too long for us\",\"start\":0,\"end\":1}]}",
           "longer than 31");
    // every proper prefix of a valid document is malformed; the tokenizer must
    // refuse each one cleanly (under `make debug` this also checks memory safety)
    const char *doc = "{\"sections\":[{\"label\":\"a\\u0041\",\"start\":0,\"end\":1.5e0},{\"start\":2,\"end\":3}]}";
    int n = (int)strlen(doc), refused = 0;
    for (int len = 0; len < n; len++) {
        char frag[256];
        snprintf(frag, sizeof frag, "%.*s", len, doc);
        path_in(p, "prefix.json");
        write_text(p, frag);
        refused += timeline_read(p, &tl) == -1 && strstr(err_msg(), "malformed JSON");
    }
    CHECK(refused == n, "all %d proper prefixes of a document refused as malformed (%d were)", n, refused);
    write_text(p, doc);
    CHECK(timeline_read(p, &tl) == 0 && tl.n == 2 && strcmp(tl.sections[0].label, "aA") == 0, "the whole document reads");
    song_form_free(&tl);
    path_in(p, "missing.json");
    CHECK(timeline_read(p, &tl) == -1 && strstr(err_msg(), "cannot open timeline"), "missing file: %s", err_msg());
}

static void test_spectrogram(void) {
    char json[4096], png[4096];
    path_in(json, "tl.json");
    write_text(json, "{\"sections\":[{\"label\":\"intro\",\"start\":0,\"end\":3},"
                     "{\"label\":\"verse\",\"start\":3,\"end\":6.5},{\"label\":\"chorus\",\"start\":6.5,\"end\":9.5}]}");
    SongForm tl;
    CHECK(timeline_read(json, &tl) == 0, "timeline for the picture");

    long T = 861;   // 10 s: one column per frame
    float *lm = make_logmel(T);
    path_in(png, "spec.png");
    int rc = spectrogram_png(png, lm, T, &tl);
    CHECK(rc == 0, "spectrogram with timeline written (%s)", rc ? err_msg() : png);
    int w = 0, h = 0, ch = 0;
    unsigned char *img = stbi_load(png, &w, &h, &ch, 3);
    CHECK(img != NULL, "PNG decodes");
    CHECK(w == LEFT + T + RIGHT && h == TOP + N_MELS * ROW + AXIS, "size %dx%d (want %ldx%d)", w, h,
          LEFT + T + RIGHT, TOP + N_MELS * ROW + AXIS);
    if (img && w == LEFT + T + RIGHT) {
        int mid = TOP + N_MELS * ROW / 2, low = TOP + N_MELS * ROW - 2, high = TOP + 20;
        const double bounds[] = {3, 6.5, 9.5};   // 0 is at the left edge; check it too
        for (int i = 0; i < 3; i++) {
            int x = LEFT + (int)floor(bounds[i] * FPS + 0.5);
            CHECK(is_white(img, w, x, mid) && is_white(img, w, x, low) && is_white(img, w, x, high),
                  "boundary at %.1f s is a white line at column %d", bounds[i], x);
            CHECK(!is_white(img, w, x - 2, mid) && !is_white(img, w, x + 2, mid),
                  "no line two columns either side of %.1f s", bounds[i]);
        }
        CHECK(is_white(img, w, LEFT, mid), "boundary at 0 s at the plot's left column");
        // time axis: a dark tick every second (86 px apart here), background between
        int ticks = 0, gaps = 0, ty = TOP + N_MELS * ROW + 3;
        for (int k = 1; k < 10; k++) {
            const unsigned char *pt = img + ((size_t)ty * w + LEFT + (int)floor(k * FPS + 0.5)) * 3;
            const unsigned char *pg = img + ((size_t)ty * w + LEFT + (int)floor((k + 0.5) * FPS + 0.5)) * 3;
            ticks += pt[0] < 100 && pt[1] < 100 && pt[2] < 100;
            gaps += is_white(img, w, LEFT + (int)floor((k + 0.5) * FPS + 0.5), ty) && pg[0] == 255;
        }
        CHECK(ticks == 9 && gaps == 9, "time ticks at 1..9 s (%d of 9) with background between (%d of 9)", ticks, gaps);
        int lines = 0;
        for (int x = LEFT; x < LEFT + T; x++) lines += is_white(img, w, x, mid);
        CHECK(lines == 4, "exactly 4 boundary columns in the plot (found %d)", lines);
        // louder low bands are at the bottom: viridis gets brighter (more green)
        const unsigned char *pl = img + ((size_t)low * w + LEFT + 100) * 3, *ph = img + ((size_t)high * w + LEFT + 100) * 3;
        CHECK(pl[1] > ph[1] + 60, "low bands at the bottom (green %d at bottom, %d at top)", pl[1], ph[1]);
        // a label's dark box sits just right of the verse boundary, near the top
        int xv = LEFT + (int)floor(3 * FPS + 0.5);
        const unsigned char *pb = img + ((size_t)(TOP + 3) * w + xv + 4) * 3;
        CHECK(pb[0] == 0 && pb[1] == 0 && pb[2] == 0, "label box drawn at the section start");
    }
    stbi_image_free(img);

    // without a timeline: no white columns in the plot
    CHECK(spectrogram_png(png, lm, T, NULL) == 0, "spectrogram without timeline");
    img = stbi_load(png, &w, &h, &ch, 3);
    int white = 0;
    for (int x = LEFT; img && x < LEFT + T; x++) white += is_white(img, w, x, TOP + 60);
    CHECK(img && white == 0, "no boundary lines without a timeline (%d white)", white);
    stbi_image_free(img);
    free(lm);

    // short clips widen, long ones are squeezed to 2000 columns
    lm = make_logmel(20000);
    w = 0;
    if (spectrogram_png(png, lm, 50, &tl) == 0 && (img = stbi_load(png, &w, &h, &ch, 3))) stbi_image_free(img);
    CHECK(w == LEFT + 600 + RIGHT, "50 frames -> 600 columns (w %d)", w);
    w = 0;
    img = NULL;
    if (spectrogram_png(png, lm, 20000, &tl) == 0) img = stbi_load(png, &w, &h, &ch, 3);
    CHECK(w == LEFT + 2000 + RIGHT, "20000 frames -> 2000 columns (w %d)", w);
    if (img) {   // 3 s lands at column 3 * fps * 2000 / 20000
        int x = LEFT + (int)floor(3 * FPS * 2000 / 20000 + 0.5);
        CHECK(is_white(img, w, x, TOP + 100), "long song: boundary at column %d", x);
    }
    stbi_image_free(img);

    // errors: missing folder, zero frames; nothing left behind
    CHECK(spectrogram_png("/tmp/refrain-no-such-folder/x.png", lm, 100, NULL) == -1 &&
              strstr(err_msg(), "does not exist"), "missing output folder refused: %s", err_msg());
    path_in(png, "zero.png");
    CHECK(spectrogram_png(png, lm, 0, NULL) == -1 && access(png, F_OK) != 0, "zero frames refused: %s", err_msg());
    free(lm);
    song_form_free(&tl);
}

// The distinct colours a linear plot of the n series uses on more than 30 pixels (-1: not drawn).
static int plot_colours(const char *png, const PlotSeries *s, int n) {
    int w, h, ch;
    if (plot_png(png, "colours", "x", "y", s, n, 0, 0)) return -1;
    unsigned char *img = stbi_load(png, &w, &h, &ch, 3);
    if (!img) return -1;
    int nc = 0, cnt[64] = {0};
    uint32_t col[64];
    for (long i = 0; i < (long)w * h; i++) {
        uint32_t c = (uint32_t)img[3 * i] << 16 | (uint32_t)img[3 * i + 1] << 8 | img[3 * i + 2];
        int k = 0;
        while (k < nc && col[k] != c) k++;
        if (k == nc && nc < 64) col[nc++] = c;
        if (k < 64) cnt[k]++;
    }
    stbi_image_free(img);
    int used = 0;
    for (int k = 0; k < nc; k++) used += cnt[k] > 30;
    return used;
}

static void test_plot(void) {
    char png[4096];
    path_in(png, "plot.png");
    double x[5] = {1, 10, 100, 1000, 10000}, y1[5] = {1, 2, 4, 8, 16}, y2[5] = {0.5, 0.7, NAN, 30, 40};
    PlotSeries s[2] = {{"refrain", x, y1, 5}, {"torch", x, y2, 5}};
    int rc = plot_png(png, "speed", "frames", "seconds", s, 2, 1, 1);
    CHECK(rc == 0, "log-log plot written (%s)", rc ? err_msg() : png);
    int w, h, ch;
    unsigned char *img = stbi_load(png, &w, &h, &ch, 3);
    CHECK(img && w > 300 && h > 200, "plot decodes (%dx%d)", w, h);
    // the two series have different colours: count distinct saturated colours
    int coloured = 0;
    for (long i = 0; img && i < (long)w * h; i++) {
        int r = img[3 * i], g = img[3 * i + 1], b = img[3 * i + 2];
        int mx = r > g ? (r > b ? r : b) : (g > b ? g : b), mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        coloured += mx - mn > 80;
    }
    CHECK(coloured > 200, "series drawn in colour (%d pixels)", coloured);
    // log axes: x spans decades 0..4 over columns 76..780, y decades -1..2 over
    // rows 448..36 (layout from plot.c); the first series' points sit there
    if (img && w == 800) {
        const unsigned char *p0 = img + ((size_t)311 * w + 78) * 3;    // (1, 1)
        const unsigned char *p1 = img + ((size_t)145 * w + 778) * 3;   // (10000, 16)
        CHECK(p0[2] > 150 && p0[0] < 80 && p1[2] > 150 && p1[0] < 80, "log-log points at their pixels (%d,%d,%d) (%d,%d,%d)",
              p0[0], p0[1], p0[2], p1[0], p1[1], p1[2]);
    }
    stbi_image_free(img);
    // twelve series, twelve colours: the colours used by more than 30 pixels, against one series' plot
    double lx[2] = {0, 1}, ly[12][2];
    PlotSeries many[12];
    for (int k = 0; k < 12; k++) {
        ly[k][0] = ly[k][1] = k;
        many[k] = (PlotSeries){"series", lx, ly[k], 2};
    }
    int c1 = plot_colours(png, many, 1), c12 = plot_colours(png, many, 12);
    CHECK(c1 > 0 && c12 - c1 >= 11, "12 series draw 11 more colours than 1 (%d against %d)", c12, c1);
    CHECK(plot_png(png, "lin", "x", "y", s, 2, 0, 0) == 0, "linear plot written");
    double neg[2] = {-1, 0};
    PlotSeries bad = {"neg", neg, neg, 2};
    CHECK(plot_png(png, "t", "x", "y", &bad, 1, 1, 1) == -1, "log axes with no positive data refused: %s", err_msg());
    CHECK(plot_png("/tmp/refrain-no-such-folder/p.png", "t", "x", "y", s, 1, 0, 0) == -1, "missing folder refused");
}

int main(void) {
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_timeline();
    test_spectrogram();
    test_plot();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_audio_png");
}
