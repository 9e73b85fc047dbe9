// test_generate_eval — the generation report (sampler/eval.c, generate_eval)
// end to end on tiny models (a random denoiser and autoencoder, as
// test_generate makes them) and a tiny corpus written here (3 validation and 3
// training songs of random log-mel):
//   - it writes every table: the reference's windows as the sections say, the
//     four compared rows, one sweep row per steps x sampler, the songs' forms,
//     and the PNGs beside it;
//   - the same options give the same distances (the timings aside);
//   - a sweep cell at the headline setting repeats the headline's numbers;
//   - bad options and a missing corpus are refused with a message.
#include "tests/check.h"
#include "tests/tiny_models.h"
#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "data/corpus.h"
#include "sampler/sampler.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[128], g_den[256], g_ae[256], g_data[256];

static int write_models(void) { return tiny_models_write(g_den, g_ae); }

// Song k of a split: sections of 2.5, 1.5 and 0.6 s worth of mel frames (2 + 1 + 0
// whole seconds), labels verse chorus verse, random log-mel.
static int write_song(int k, int split, Rng *r) {
    static const int32_t fr[4] = {0, 215, 344, 396};   // frames: 2.50, 4.00, 4.60 s
    static const char *lab[3] = {"verse", "chorus", "verse"};
    CorpusSong s;
    memset(&s, 0, sizeof s);
    snprintf(s.song, sizeof s.song, "test/%s_%d.wav", split ? "valid" : "train", k);
    snprintf(s.package, sizeof s.package, "test");
    s.source = k % SRC_COUNT;
    s.split = split;
    s.n_frames = fr[3];
    s.n_mels = N_MELS;
    s.duration = corpus_seconds(fr[3]);
    s.n_sections = 3;
    SongSection sec[3];
    for (int i = 0; i < 3; i++) {
        memset(&sec[i], 0, sizeof sec[i]);
        snprintf(sec[i].label, sizeof sec[i].label, "%s", lab[i]);
        sec[i].occurrence = i == 2 ? 2 : 1;
        sec[i].start = corpus_seconds(fr[i]);
        sec[i].end = corpus_seconds(fr[i + 1]);
        sec[i].confidence = 1;
        sec[i].desc = SECTION_DESCRIPTORS_NONE;
    }
    s.sections = sec;
    float *mel = mallocCheck(sizeof(float) * fr[3] * N_MELS);
    for (long i = 0; i < (long)fr[3] * N_MELS; i++) mel[i] = -6 + 2 * rng_normal(r);
    char path[512];
    snprintf(path, sizeof path, "%s/shards/%s_%d.rfs", g_data, split ? "v" : "t", k);
    int rc = shard_write(path, &s, mel);
    free(mel);
    return rc;
}

// The lines of the report holding distances (the set rows; the sweep rows less
// their two timing columns), for comparing two runs.
static void distance_lines(const char *rep, char *out, size_t cap) {
    size_t L = 0;
    out[0] = 0;
    for (const char *p = rep; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 2 && p[0] == '|' && memchr(p, '[', n)) {
            char line[1024];
            snprintf(line, sizeof line, "%.*s", (int)(n < 1000 ? n : 1000), p);
            int bars = 0;
            for (char *q = line; *q; q++) bars += *q == '|';
            if (bars == 10) {   // a sweep row: drop its 4th and 5th cells (the timings)
                char *c = line;
                for (int k = 0; k < 3 && c; k++) c = strchr(c + 1, '|');   // the 4th bar
                char *d = c;
                for (int k = 0; k < 2 && d; k++) d = strchr(d + 1, '|');
                if (c && d) memmove(c, d, strlen(d) + 1);
            }
            L += (size_t)snprintf(out + L, cap - L, "%s\n", line);
            if (L >= cap) break;
        }
        p += n + (e ? 1 : 0);
    }
}

static int run(const GenEvalOpts *o, const char *path) {
    AtomicFile af;
    if (atomic_open(&af, path)) return -1;
    if (generate_eval(af.f, o)) { atomic_abort(&af); return -1; }
    return atomic_commit(&af);
}

static int exists(const char *p) { struct stat sb; return stat(p, &sb) == 0 && sb.st_size > 0; }

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/refrain-test-geneval-%d", (int)getpid());
    snprintf(g_den, sizeof g_den, "%s/den.rfc", g_dir);
    snprintf(g_ae, sizeof g_ae, "%s/ae.rfc", g_dir);
    snprintf(g_data, sizeof g_data, "%s/corpus", g_dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/shards %s/figs", g_data, g_dir);
    Rng r;
    rng_seed(&r, 5);
    int setup = system(cmd) == 0 && write_models() == 0;
    for (int k = 0; k < 3 && setup; k++) setup = write_song(k, SPLIT_VALID, &r) == 0 && write_song(k, SPLIT_TRAIN, &r) == 0;
    if (!CHECK(setup, "tiny models and corpus: %s", err_msg())) return check_summary("test_generate_eval");

    GenEvalOpts o;
    gen_eval_defaults(&o);
    o.model = g_den; o.ae = g_ae; o.data = g_data;
    char figs[256], rep1[256], rep2[256];
    snprintf(figs, sizeof figs, "%s/figs", g_dir);
    snprintf(rep1, sizeof rep1, "%s/figs/generate.md", g_dir);
    snprintf(rep2, sizeof rep2, "%s/again.md", g_dir);
    o.figs = figs;
    o.songs = 3;
    o.max_seconds = 4;          // cuts the last section (4.0-4.6 s) away
    o.steps[0] = 2; o.steps[1] = 3; o.n_steps = 2;
    o.samplers[0] = SAMPLER_EULER; o.samplers[1] = SAMPLER_AB2; o.n_samplers = 2;
    o.main_sampler = SAMPLER_EULER; o.main_steps = 3;   // also a sweep cell
    o.vocoder_iters = 2;
    o.boot = 5;                 // each resample's FD is a 160 x 160 Jacobi: few keep the test short
    g_quiet = 1;
    int rc = run(&o, rep1);
    CHECK(rc == 0, "generate_eval on tiny models: %s", rc ? err_msg() : "ok");
    char *a = slurp(rep1);
    if (!CHECK(a != NULL, "the report is written")) return check_summary("test_generate_eval");
    // 3 validation songs x (2 + 1) windows; each compared set 3 songs x 3 windows
    CHECK(strstr(a, "(3 songs, 9 windows)") != NULL, "the reference: 3 songs, 9 windows (2 + 1 whole seconds each)");
    const char *rows[4] = {"| training songs (floor) | 3 | 9 |", "| validation through autoencoder + vocoder (floor) | 3 | 9 |",
                           "| **generated: euler, 3 steps** | 3 | 9 |", "| Gaussian latents, decoded + vocoded (ceiling) | 3 | 9 |"};
    for (int i = 0; i < 4; i++) CHECK(strstr(a, rows[i]) != NULL, "row '%s'", rows[i]);
    const char *sw[4] = {"| euler | 2 | 2 |", "| euler | 3 | 3 |", "| ab2 | 2 | 2 |", "| ab2 | 3 | 3 |"};
    for (int i = 0; i < 4; i++) CHECK(strstr(a, sw[i]) != NULL, "sweep row '%s'", sw[i]);
    CHECK(strstr(a, "`verse:2.496 chorus:1.498`") != NULL, "the borrowed form, cut at 4 s: verse:2.496 chorus:1.498 (215 and 129 mel frames)");
    CHECK(strstr(a, "FNV-1a-64") && strstr(a, "--songs 3 --max-seconds 4 --steps 2,3 --samplers euler,ab2"),
          "the model's hash and the settings to reproduce it");
    const char *png[5] = {"generate-1.png", "generate-2.png", "generate-3.png", "generate-sweep-latent.png", "generate-sweep-mel.png"};
    for (int i = 0; i < 5; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", figs, png[i]);
        CHECK(exists(p) && strstr(a, png[i]), "%s written and shown", png[i]);
    }
    // the headline setting's sweep cell repeats its numbers
    char d1[8192], d2[8192];
    distance_lines(a, d1, sizeof d1);
    const char *h = strstr(d1, "| **generated: euler, 3 steps** | 3 | 9 |"), *s3 = strstr(d1, "| euler | 3 | 3 |");
    if (h) h += strlen("| **generated: euler, 3 steps** | 3 | 9 |");
    if (s3) s3 += strlen("| euler | 3 | 3 |");
    size_t hl = h ? strcspn(h, "\n") : 0;
    CHECK(h && s3 && hl > 20 && hl == strcspn(s3, "\n") && !strncmp(h, s3, hl),
          "the sweep's euler 3 steps cell repeats the headline's distances: %.*s", (int)hl, h ? h : "");
    // the same options: the same distances
    rc = run(&o, rep2);
    char *b = slurp(rep2);
    distance_lines(b ? b : "", d2, sizeof d2);
    if (!CHECK(rc == 0 && d1[0] && !strcmp(d1, d2), "a second run gives the same distances (%zu bytes of table rows)", strlen(d1)))
        printf("first:\n%ssecond:\n%s", d1, d2);
    free(b);
    // the bootstrap gives intervals; boot 0 gives none
    CHECK(strstr(a, "(5 resamples") != NULL, "intervals from 5 resamples");
    o.boot = 0; o.n_steps = 0; o.figs = NULL;
    rc = run(&o, rep2);
    b = slurp(rep2);
    CHECK(rc == 0 && b && !strstr(b, " [") && !strstr(b, "## Steps and samplers"), "boot 0 and no sweep: no intervals, no sweep table");
    free(b);
    free(a);
    // refusals
    GenEvalOpts bad = o;
    bad.songs = -1;
    CHECK(run(&bad, rep2) == -1 && strstr(err_msg(), "songs -1"), "songs -1 refused: %s", err_msg());
    bad = o;
    bad.steps[0] = 0; bad.n_steps = 1; bad.n_samplers = 1;
    CHECK(run(&bad, rep2) == -1 && strstr(err_msg(), "steps 0"), "steps 0 refused: %s", err_msg());
    bad = o;
    char nodata[256];
    snprintf(nodata, sizeof nodata, "%s/none", g_dir);
    bad.data = nodata;
    CHECK(run(&bad, rep2) == -1 && strstr(err_msg(), "no corpus in"), "a missing corpus: %s", err_msg());
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_generate_eval");
}
