// test_edit — refrain.h's editing (sampler/edit.c, song.c's song_generate_edit)
// with tiny random models written here (test_generate.c's sizes: Z 4, context 6
// frames, crop 40), so the sound is noise but every rule can be checked:
//   - re-roll: the re-rolled section differs, every other frame is bit-identical
//     except the seam (the next section's first 6 frames, which do change), the
//     seeds say which section is new; by label, every occurrence; the seed the
//     song was made with reproduces it bit for bit (no seam is made when nothing
//     changed); what was sampled is counted;
//   - repeat strength: 1 is plain generation bit for bit; below 1 the repeat is
//     closer to its earlier occurrence (tiled when shorter, its first frames when
//     longer) than at 1, the closer the lower, and what comes before the repeat
//     is untouched;
//   - prime: a recording changes the song, twice gives the same bytes;
//     continue: the recording's samples come first unchanged up to the
//     crossfade, the recording's sections lead, loudness matched;
//   - form-from: a synthetic A B A C B song of 10 s sections gives its labels
//     and lengths (within 1.5 s, the analyzer test's tolerance).
#include "tests/check.h"
#include "tests/tiny_models.h"
#include "refrain.h"
#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "conditioning/conditioning.h"
#include "sampler/sampler.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[128], g_den[256], g_ae[256];

static int write_models(void) { return tiny_models_write(g_den, g_ae); }

#define CTX TINY_CTX   // the tiny denoiser's context frames: the seam

static refrain_generate_params params(const char *form, uint64_t seed) {
    refrain_generate_params p = refrain_generate_default_params();
    p.form = form;
    p.seed = seed;
    p.steps = 3;
    p.vocoder_iters = 4;
    return p;
}

static long frame_of(double seconds) { return lround(seconds * COND_FRAME_RATE); }

// Frames [a, b) of two songs' latents: bit-identical?
static int same_frames(const refrain_song *x, const refrain_song *y, long a, long b) {
    if (b <= a) return 1;
    return !memcmp(x->latents + a * x->z, y->latents + a * x->z, sizeof(float) * (b - a) * x->z);
}
// Every frame of [a, b) differs somewhere?
static int every_frame_differs(const refrain_song *x, const refrain_song *y, long a, long b) {
    for (long t = a; t < b; t++)
        if (!memcmp(x->latents + t * x->z, y->latents + t * x->z, sizeof(float) * x->z)) return 0;
    return b > a;
}

static void test_reroll(refrain_model *m) {
    const char *form = "intro:3 verse:4 chorus:4 verse:4 chorus:4";
    refrain_generate_params p = params(form, 11);
    refrain_song a, b, c;
    char err[512];
    int rc = refrain_generate(m, &p, &a, err, sizeof err);
    if (!CHECK(rc == 0, "the song to edit (%s)", rc ? err : "ok")) return;
    long s[6];
    for (int i = 0; i < 5; i++) s[i] = frame_of(a.sections[i].start);
    s[5] = a.n_latent;
    // section 2 (verse, 1-based) anew with another seed
    p.seed = 12;
    rc = refrain_reroll(m, &p, &a, "2", &b, err, sizeof err);
    if (!CHECK(rc == 0, "re-roll section 2 (%s)", rc ? err : "ok")) { refrain_song_free(&a); return; }
    CHECK(b.n_latent == a.n_latent && b.n_samples == a.n_samples && b.n_sections == 5, "the same length and sections");
    CHECK(same_frames(&a, &b, 0, s[1]), "the intro (frames 0..%ld) is bit-identical", s[1]);
    CHECK(every_frame_differs(&a, &b, s[1], s[2]), "every frame of the re-rolled verse (%ld..%ld) differs", s[1], s[2]);
    CHECK(every_frame_differs(&a, &b, s[2], s[2] + CTX), "the seam, the chorus's first %d frames, is re-joined (differs)", CTX);
    CHECK(same_frames(&a, &b, s[2] + CTX, s[5]), "everything after the seam (frames %ld..%ld) is bit-identical", s[2] + CTX, s[5]);
    int seeds = b.sections[1].seed != a.sections[1].seed;
    for (int i = 0; i < 5; i++) if (i != 1) seeds &= b.sections[i].seed == a.sections[i].seed;
    CHECK(seeds, "only the re-rolled section has a new seed (%llu -> %llu)", (unsigned long long)a.sections[1].seed,
          (unsigned long long)b.sections[1].seed);
    CHECK(b.sections_sampled == 1 && b.frames_sampled == (s[2] - s[1]) + CTX,
          "sampled: 1 section and %ld frames (the verse's %ld and the seam's %d)", b.frames_sampled, s[2] - s[1], CTX);
    // the seam is a join, not a jump: the step into the seam's first frame against the
    // step a hard cut (the old chorus after the new verse) would make
    double cut = 0, seam = 0;
    for (int z = 0; z < a.z; z++) {
        double last = b.latents[(s[2] - 1) * a.z + z];
        cut += pow(a.latents[s[2] * a.z + z] - last, 2);
        seam += pow(b.latents[s[2] * a.z + z] - last, 2);
    }
    printf("    step into the chorus: hard cut %.3f, re-joined seam %.3f\n", sqrt(cut), sqrt(seam));
    refrain_song_free(&b);

    // by label: both choruses; the seam after the first (the second verse's start)
    rc = refrain_reroll(m, &p, &a, "chorus", &c, err, sizeof err);
    CHECK(rc == 0 && every_frame_differs(&a, &c, s[2], s[3]) && every_frame_differs(&a, &c, s[4], s[5]) &&
          every_frame_differs(&a, &c, s[3], s[3] + CTX) && same_frames(&a, &c, 0, s[2]) &&
          same_frames(&a, &c, s[3] + CTX, s[4]) && c.sections_sampled == 2,
          "--reroll chorus: both choruses anew, the second verse kept but its first %d frames, the rest identical", CTX);
    if (!rc) refrain_song_free(&c);

    // the seed the song was made with: the same song, bit for bit (nothing changed, so no seam)
    p.seed = 11;
    rc = refrain_reroll(m, &p, &a, "chorus", &c, err, sizeof err);
    CHECK(rc == 0 && same_frames(&a, &c, 0, a.n_latent) && c.n_samples == a.n_samples &&
          !memcmp(a.audio, c.audio, sizeof(float) * a.n_samples) && c.frames_sampled == 2 * (s[3] - s[2]),
          "a re-roll with the song's own seed reproduces it bit for bit (latents and samples; %ld frames sampled, no seam)",
          rc ? 0 : c.frames_sampled);
    if (!rc) refrain_song_free(&c);

    // refusals
    rc = refrain_reroll(m, &p, &a, "6", &c, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "1..5"), "section 6 of 5 refused: %s", err);
    rc = refrain_reroll(m, &p, &a, "bridge", &c, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "intro, verse, chorus"), "a label the song lacks refused: %s", err);
    refrain_song_free(&a);
}

// RMS distance of section i's latents from section j's tiled over it.
static double repeat_distance(const refrain_song *x, int i, int j) {
    long a = frame_of(x->sections[i].start), b = frame_of(x->sections[i].end);
    long ja = frame_of(x->sections[j].start), jl = frame_of(x->sections[j].end) - ja;
    if (i == x->n_sections - 1) b = x->n_latent;
    double s = 0;
    for (long t = a; t < b; t++)
        for (int z = 0; z < x->z; z++) s += pow(x->latents[t * x->z + z] - x->latents[(ja + (t - a) % jl) * x->z + z], 2);
    return sqrt(s / ((b - a) * x->z));
}

static void test_repeat(refrain_model *m) {
    // the second chorus (6 s) is longer than the first (3 s): tiled
    refrain_generate_params p = params("chorus:3 verse:3 chorus:6", 21);
    refrain_song a, b;
    char err[512];
    CHECK(p.repeat_strength == 0.6f, "generate's default repeat strength is 0.6 (%g)", p.repeat_strength);
    p.repeat_strength = 1.0f;
    int rc = refrain_generate(m, &p, &a, err, sizeof err);
    if (!CHECK(rc == 0, "plain generation, repeat strength 1 (%s)", rc ? err : "ok")) return;
    refrain_generate_params pn = p;   // repeat strength 1 and no memory: nothing of the first chorus either way
    pn.no_memory = 1;
    refrain_song c1, c2;
    rc = refrain_generate(m, &pn, &c1, err, sizeof err);
    pn.repeat_strength = 0.6f;
    if (!rc) rc = refrain_generate(m, &pn, &c2, err, sizeof err);
    CHECK(rc == 0 && same_frames(&c1, &c2, 0, c1.n_latent), "without memory repeat strength 1 and 0.6 are the same song");
    if (!rc) { refrain_song_free(&c1); refrain_song_free(&c2); }
    p.repeat_strength = 1.0f;
    rc = refrain_generate(m, &p, &b, err, sizeof err);
    CHECK(rc == 0 && same_frames(&a, &b, 0, a.n_latent) && !memcmp(a.audio, b.audio, sizeof(float) * a.n_samples),
          "repeat strength 1 is plain generation, bit for bit (the same call twice)");
    if (!rc) refrain_song_free(&b);
    double d1 = repeat_distance(&a, 2, 0), prev = d1;
    long s2 = frame_of(a.sections[2].start);
    int closer = 1, before = 1;
    const float xs[3] = {0.7f, 0.4f, 0.1f};
    for (int k = 0; k < 3; k++) {
        p.repeat_strength = xs[k];
        rc = refrain_generate(m, &p, &b, err, sizeof err);
        if (rc) { CHECK(0, "repeat strength %.1f: %s", xs[k], err); break; }
        double d = repeat_distance(&b, 2, 0);
        printf("    repeat strength %.1f: the second chorus's RMS distance from the first (tiled) %.3f (at 1: %.3f)\n",
               xs[k], d, d1);
        closer &= d < prev;
        prev = d;
        before &= same_frames(&a, &b, 0, s2);
        refrain_song_free(&b);
    }
    CHECK(!rc && closer, "lower repeat strength, closer repeat: 0.7, 0.4, 0.1 each closer than the one before and than 1");
    CHECK(!rc && before, "the sections before the repeat are untouched");
    refrain_song_free(&a);
    // the second chorus (3 s) shorter than the first (6 s): its first frames, cropped
    p = params("chorus:6 verse:3 chorus:3", 22);
    double dc[2] = {0, 0};
    for (int k = 0; k < 2 && rc == 0; k++) {
        p.repeat_strength = k ? 0.1f : 1.0f;
        rc = refrain_generate(m, &p, &a, err, sizeof err);
        if (!rc) { dc[k] = repeat_distance(&a, 2, 0); refrain_song_free(&a); }
    }
    CHECK(rc == 0 && dc[1] < 0.5 * dc[0], "a repeat shorter than its earlier occurrence starts from its first frames: "
          "distance %.3f at 0.1 against %.3f at 1", dc[1], dc[0]);
    p.repeat_strength = 0;
    rc = refrain_generate(m, &p, &b, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "repeat strength"), "repeat strength 0 refused: %s", err);
}

// A repeat starts from what its section remembers: nothing without memory (the
// song is plain generation's without memory), the other song's occurrence with
// memory_from (closer to that song's chorus than to its own first chorus).
static void test_repeat_source(refrain_model *m) {
    refrain_generate_params p = params("chorus:3 verse:3 chorus:3", 23);
    refrain_song plain, rs, other, ctl;
    char err[512];
    p.no_memory = 1;
    int rc = refrain_generate(m, &p, &plain, err, sizeof err);
    p.repeat_strength = 0.1f;
    if (!rc) rc = refrain_generate(m, &p, &rs, err, sizeof err);
    if (!CHECK(rc == 0, "generation without memory (%s)", rc ? err : "ok")) return;
    CHECK(same_frames(&plain, &rs, 0, plain.n_latent) && !memcmp(plain.audio, rs.audio, sizeof(float) * rs.n_samples),
          "without memory the repeat strength changes nothing: every section from pure noise");
    refrain_song_free(&rs);
    p = params("chorus:3 verse:3 chorus:3", 24);   // the other song: another seed
    rc = refrain_generate(m, &p, &other, err, sizeof err);
    p = params("chorus:3 verse:3 chorus:3", 23);
    p.repeat_strength = 0.1f;
    p.memory_from = &other;
    if (!rc) rc = refrain_generate(m, &p, &ctl, err, sizeof err);
    if (!CHECK(rc == 0, "generation with another song's memory (%s)", rc ? err : "ok")) { refrain_song_free(&plain); return; }
    // ctl's second chorus against other's first chorus, and against its own first
    long a = frame_of(ctl.sections[2].start), oa = frame_of(other.sections[0].start), ia = frame_of(ctl.sections[0].start);
    long n = ctl.n_latent - a, ol = frame_of(other.sections[0].end) - oa;
    double d_other = 0, d_own = 0;
    for (long t = 0; t < n; t++)
        for (int z = 0; z < ctl.z; z++) {
            float v = ctl.latents[(a + t) * ctl.z + z];
            d_other += pow(v - other.latents[(oa + t % ol) * ctl.z + z], 2);
            d_own += pow(v - ctl.latents[(ia + t % ol) * ctl.z + z], 2);
        }
    d_other = sqrt(d_other / (n * ctl.z)); d_own = sqrt(d_own / (n * ctl.z));
    printf("    control's repeat at 0.1: RMS distance %.3f from the other song's chorus, %.3f from its own\n", d_other, d_own);
    CHECK(d_other < 0.5 * d_own, "with another song's memory a repeat starts from that song's occurrence: %.3f against %.3f",
          d_other, d_own);
    refrain_song_free(&plain); refrain_song_free(&other); refrain_song_free(&ctl);
}

// ---- a recording with a known form ---------------------------------------------------------
static double midi_hz(double mn) { return 440.0 * pow(2.0, (mn - 69.0) / 12.0); }
// test_data_analyze.c's section textures: A plucked C / G, bright; B a slow Dm / Am
// pad; C an E / Bm pad with hi-hats; chords change every 2 s.
static void add_chord(float *x, double t0, double t1, const int *notes, double beat, double dec, int H, double tilt,
                      float amp) {
    for (long i = (long)(t0 * SAMPLE_RATE); i < (long)(t1 * SAMPLE_RATE); i++) {
        double t = (double)i / SAMPLE_RATE, tb = fmod(t - t0, beat);
        double env = exp(-tb / dec) * (1.0 - exp(-tb / 0.005)), s = 0;
        for (int k = 0; k < 4; k++) {
            double f = midi_hz(notes[k]);
            for (int h = 1; h <= H && f * h < 10000; h++) s += sin(2 * M_PI * f * h * t + k + h) / pow(h, tilt);
        }
        x[i] += (float)(amp * env * s / 4);
    }
}
static void add_section(float *x, char kind, double t0, double len, Rng *r) {
    static const int C[] = {48, 52, 55, 60}, G[] = {43, 50, 55, 59}, Dm[] = {50, 53, 57, 62}, Am[] = {45, 52, 57, 60};
    static const int E[] = {52, 56, 59, 64}, Bm[] = {47, 54, 59, 62};
    for (double t = t0; t < t0 + len - 1e-9; t += 2.0) {
        int odd = (int)lround((t - t0) / 2.0) % 2;
        double e = t + 2.0 < t0 + len ? t + 2.0 : t0 + len;
        if (kind == 'A') add_chord(x, t, e, odd ? G : C, 0.5, 0.25, 8, 1.0, 0.5f);
        if (kind == 'B') add_chord(x, t, e, odd ? Am : Dm, 2.0, 1.5, 2, 2.0, 0.5f);
        if (kind == 'C') add_chord(x, t, e, odd ? Bm : E, 1.0, 0.8, 4, 1.5, 0.35f);
    }
    if (kind == 'C')
        for (long i = (long)(t0 * SAMPLE_RATE); i < (long)((t0 + len) * SAMPLE_RATE); i++)
            x[i] += 0.15f * (float)exp(-fmod((double)i / SAMPLE_RATE - t0, 0.25) / 0.03) * (2 * rng_uniform(r) - 1);
}
// form "ABACB": 10 s a section.
static float *recording(const char *form, long *n) {
    int ns = (int)strlen(form);
    *n = (long)(ns * 10.0 * SAMPLE_RATE);
    float *x = callocCheck(*n, sizeof(float));
    Rng r;
    rng_seed(&r, 7);
    for (int i = 0; i < ns; i++) add_section(x, form[i], i * 10.0, 10.0, &r);
    return x;
}

static void test_form_from(refrain_model *m, const float *x, long n) {
    char form[512], err[512];
    int rc = refrain_form_from_audio(x, n, SAMPLE_RATE, form, sizeof form, err, sizeof err);
    if (!CHECK(rc == 0, "form of the A B A C B recording: %s", rc ? err : form)) return;
    SongForm f;
    rc = form_parse(&f, form, NULL);
    if (!CHECK(rc == 0, "it parses as a form (%s)", rc ? err_msg() : "ok")) return;
    const char *want = "ABACB";
    int labels = f.n == 5, lengths = f.n == 5;
    for (int i = 0; i < f.n && i < 5; i++) {
        for (int j = 0; j < i; j++) labels &= (want[i] == want[j]) == !strcmp(f.sections[i].label, f.sections[j].label);
        lengths &= fabs(f.sections[i].end - f.sections[i].start - 10.0) <= 1.5;
    }
    CHECK(labels, "5 sections, same label exactly where the true form repeats (A B A C B): %s", form);
    CHECK(lengths, "every length within 1.5 s of the true 10 s");
    song_form_free(&f);
    // a song with that form: the sections and lengths the form says, 50 s in all
    refrain_generate_params p = params(form, 3);
    refrain_song s;
    rc = refrain_generate(m, &p, &s, err, sizeof err);
    CHECK(rc == 0 && s.n_sections == 5 && fabs((double)s.n_samples / s.sample_rate - 50) < 1.5 &&
          !strcmp(s.sections[0].label, s.sections[2].label),
          "a new song in the borrowed form: 5 sections, %.2f s, the repeat kept", rc ? 0 : (double)s.n_samples / s.sample_rate);
    if (!rc) refrain_song_free(&s);
    float short_x[1000] = {0};
    rc = refrain_form_from_audio(short_x, 1000, SAMPLE_RATE, form, 4, err, sizeof err);
    CHECK(rc == REFRAIN_ERR, "a form that does not fit the buffer is an error: %s", rc ? err : "accepted");
}

static void test_prime(refrain_model *m, const float *x, long n) {
    const char *form = "verse:3 chorus:3 verse:3";
    refrain_generate_params p = params(form, 5);
    refrain_song plain, a, b, c;
    char err[512];
    int rc = refrain_generate(m, &p, &plain, err, sizeof err);
    if (!CHECK(rc == 0, "unprimed (%s)", rc ? err : "ok")) return;
    p.prime = x; p.prime_samples = n; p.prime_rate = SAMPLE_RATE;
    rc = refrain_generate(m, &p, &a, err, sizeof err);
    if (!CHECK(rc == 0, "primed with a 50 s recording (%s)", rc ? err : "ok")) { refrain_song_free(&plain); return; }
    CHECK(a.n_sections == 3 && a.n_latent == plain.n_latent && a.n_samples == plain.n_samples && a.n_recording == 0,
          "--prime: the output is the form's 3 sections only, as long as unprimed");
    CHECK(every_frame_differs(&plain, &a, 0, frame_of(3.0)) && memcmp(plain.audio, a.audio, sizeof(float) * a.n_samples),
          "priming changes the song (the first section remembers the recording)");
    rc = refrain_generate(m, &p, &b, err, sizeof err);
    CHECK(rc == 0 && same_frames(&a, &b, 0, a.n_latent) && b.n_samples == a.n_samples &&
          !memcmp(a.audio, b.audio, sizeof(float) * a.n_samples), "primed twice, same seed: identical bytes");
    if (!rc) refrain_song_free(&b);

    p.prime_continue = 1;
    rc = refrain_generate(m, &p, &c, err, sizeof err);
    if (CHECK(rc == 0, "--continue the recording (%s)", rc ? err : "ok")) {
        long xf = lround(REFRAIN_CROSSFADE_SECONDS * SAMPLE_RATE);
        CHECK(c.recording_samples == n && c.n_samples > n && !memcmp(c.audio, x, sizeof(float) * (n - xf)),
              "the output starts with the recording's %ld samples unchanged up to the %ld-sample crossfade", n - xf, xf);
        CHECK(memcmp(c.audio + n - xf, x + n - xf, sizeof(float) * xf) != 0, "the crossfade mixes in the new part");
        CHECK(c.n_recording == 5 && c.n_sections == 8 && !strcmp(c.sections[5].label, "verse") &&
              c.sections[5].start >= (double)n / SAMPLE_RATE - 1e-9 && c.sections[5].start - (double)n / SAMPLE_RATE < 0.1 &&
              c.sections[0].seed == 0 && c.sections[5].seed != 0,
              "sections: the recording's 5 (seed 0), then the form's from the join (%.3f s, audio %.3f s)",
              c.sections[5].start, (double)n / SAMPLE_RATE);
        CHECK(c.n_frames == 4 * c.n_latent && c.n_samples == (c.n_frames - 1) * 256 &&
              fabs(c.sections[7].end - (double)c.n_samples / SAMPLE_RATE) < 1e-9,
              "latents, log-mel frames and samples agree, the timeline ends with the audio");
        double lr = loudness_lufs(x, n, SAMPLE_RATE), lg = loudness_lufs(c.audio + n, c.n_samples - n, SAMPLE_RATE);
        CHECK(fabs(lr - lg) < 0.05, "the new part's loudness matches the recording's (%.2f against %.2f LUFS)", lg, lr);
        long s5 = frame_of(c.sections[5].start), s5a = frame_of(a.sections[0].start);
        CHECK(memcmp(c.latents + s5 * c.z, a.latents + s5a * a.z, sizeof(float) * frame_of(3.0) * a.z) != 0,
              "the continued first section differs from the primed one (it has the recording's tail as context)");
        refrain_song_free(&c);
    }
    refrain_song_free(&a);
    refrain_song_free(&plain);
}

int main(int argc, char **argv) {
    nn_set_threads(1);
    if (argc == 3 && !strcmp(argv[1], "--write-recording")) {   // for tests/cli_edit.sh: A B A C B, 10 s each
        long n;
        float *x = recording("ABACB", &n);
        int rc = audio_write(argv[2], x, n, SAMPLE_RATE, 0);
        free(x);
        if (rc) fprintf(stderr, "test_edit: %s\n", err_msg());
        return rc ? 1 : 0;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/test_edit_%d", (int)getpid());
    snprintf(g_den, sizeof g_den, "%s/den-tiny.rfc", g_dir);
    snprintf(g_ae, sizeof g_ae, "%s/ae-tiny.rfc", g_dir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", g_dir);
    if (system(cmd) || write_models()) { CHECK(0, "tiny models: %s", err_msg()); return check_summary("test_edit"); }
    refrain_model_params mp = {g_den, g_ae};
    char err[512];
    refrain_model *m = refrain_model_load(&mp, err, sizeof err);
    CHECK(m != NULL, "tiny models load (%s)", m ? "ok" : err);
    if (m) {
        test_reroll(m);
        test_repeat(m);
        test_repeat_source(m);
        long n;
        float *x = recording("ABACB", &n);
        test_form_from(m, x, n);
        test_prime(m, x, n);
        free(x);
        refrain_model_free(m);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) printf("note: could not remove %s\n", g_dir);
    return check_summary("test_edit");
}
