// examples/generate.c — a song from a form string through refrain.h alone: what
// a C program that uses refrain as a library looks like. It loads the models
// (found as the command finds them: $REFRAIN_MODEL_DIR, then beside the
// program; or given with -d and -a), generates with a progress callback, prints
// the sections, and writes the song as a 16-bit WAV (written here with stdio:
// the library hands back samples, not files).
//
//   cc generate.c $(pkg-config --cflags --libs refrain) -o generate
//   ./generate [-f FORM] [-s STEPS] [-d denoiser.rfc] [-a ae.rfc] [-q] [OUT.wav]
//
// Exit status: 0, 1 when refrain reports an error (its message on stderr), 2 bad usage.
// make test builds it against the build tree's librefrain.so and runs it
// (tests/cli_install.sh), then again against an installed copy through pkg-config.
#include <refrain.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Progress on stderr: a line when the denoiser starts a section (section counts
// from 0; a long section is sampled in chunks, each its own run of steps), then
// "decoder" and "vocoder". user is the program's own state, passed back as given.
typedef struct {
    int quiet, section;   // the section last reported
} Progress;
static void on_progress(void *user, const char *stage, int section, int n_sections, int step, int steps) {
    Progress *pr = user;
    (void)step;   // step of steps: for a progress bar
    if (pr->quiet) return;
    if (strcmp(stage, "denoiser") != 0) fprintf(stderr, "generate: %s\n", stage);
    else if (section != pr->section) {
        fprintf(stderr, "generate: section %d/%d (%d steps)\n", section + 1, n_sections, steps);
        pr->section = section;
    }
}

static void put_le(FILE *f, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; i++) fputc((int)((v >> (8 * i)) & 255), f);
}

// 16-bit PCM mono WAV. Returns 0, or -1 with errno set by stdio.
static int write_wav(const char *path, const float *x, long n, int rate) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    uint32_t bytes = (uint32_t)n * 2;
    fputs("RIFF", f); put_le(f, 36 + bytes, 4); fputs("WAVEfmt ", f); put_le(f, 16, 4);
    put_le(f, 1, 2); put_le(f, 1, 2); put_le(f, (uint32_t)rate, 4); put_le(f, (uint32_t)rate * 2, 4);
    put_le(f, 2, 2); put_le(f, 16, 2); fputs("data", f); put_le(f, bytes, 4);
    for (long i = 0; i < n; i++) {
        float v = x[i] > 1 ? 1 : x[i] < -1 ? -1 : x[i];
        put_le(f, (uint32_t)(uint16_t)(int16_t)(v * 32767.0f), 2);
    }
    int bad = ferror(f);
    return fclose(f) || bad ? -1 : 0;
}

int main(int argc, char **argv) {
    refrain_model_params mp = refrain_model_default_params();
    refrain_generate_params gp = refrain_generate_default_params();
    gp.form = "intro:2 verse:3 chorus:3 verse:3 chorus:3";
    gp.steps = 4;           // tiny settings: a quick example, not a good song
    gp.vocoder_iters = 4;
    const char *out = NULL;
    Progress pr = {0, -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "-f") && has_value) gp.form = argv[++i];
        else if (!strcmp(a, "-s") && has_value) gp.steps = atoi(argv[++i]);
        else if (!strcmp(a, "-d") && has_value) mp.denoiser = argv[++i];
        else if (!strcmp(a, "-a") && has_value) mp.autoencoder = argv[++i];
        else if (!strcmp(a, "-q")) pr.quiet = 1;
        else if (a[0] != '-' && !out) out = a;
        else {
            fprintf(stderr, "usage: %s [-f FORM] [-s STEPS] [-d denoiser.rfc] [-a ae.rfc] [-q] [OUT.wav]\n", argv[0]);
            return 2;
        }
    }
    gp.progress = on_progress;
    gp.progress_user = &pr;

    char err[512];
    refrain_model *m = refrain_model_load(&mp, err, sizeof err);
    if (!m) { fprintf(stderr, "generate: %s\n", err); return 1; }
    refrain_song song;
    int rc = refrain_generate(m, &gp, &song, err, sizeof err);
    refrain_model_free(m);
    if (rc != 0) {   // REFRAIN_ERR_INPUT: the form or a parameter is wrong; REFRAIN_ERR: anything else
        fprintf(stderr, "generate: %s\n", err);
        return rc == REFRAIN_ERR_INPUT ? 2 : 1;
    }
    printf("refrain %s: %d sections, %.2f s at %d Hz\n", REFRAIN_VERSION, song.n_sections,
           (double)song.n_samples / song.sample_rate, song.sample_rate);
    for (int i = 0; i < song.n_sections; i++)
        printf("  %-10s %d  %6.2f - %6.2f s\n", song.sections[i].label, song.sections[i].occurrence,
               song.sections[i].start, song.sections[i].end);
    if (out && write_wav(out, song.audio, song.n_samples, song.sample_rate)) {
        perror(out);
        rc = 1;
    }
    refrain_song_free(&song);
    return rc;
}
