// test_ablate — the memory ablation (sampler/ablate.c) and its control, on tiny
// random models (tests/tiny_models.h) and a tiny corpus written here (3
// validation songs, MMA and module, verse chorus verse chorus of random log-mel):
//   - another song's memory (refrain_generate_params.memory_from): section 1 is
//     the same as with and without memory (it has no memory), the song differs
//     from both, and the song itself as its memory reproduces it bit for bit;
//   - other songs' memory, one per section (memory_from_each): every entry the
//     same song is memory_from bit for bit; a NULL entry is the song's own memory
//     (the song agrees with memory_from up to that section and differs after);
//   - ablate_run writes every table and figure; a rerun reuses every song (the
//     library's counts: none generated) and writes the same tables; changed
//     settings make the songs again;
//   - the paired difference and the ratios on hand-made numbers;
//   - refusals (too few songs, no form, a missing corpus).
#include "tests/check.h"
#include "tests/tiny_models.h"
#include "refrain.h"
#include "audio/audio.h"
#include "data/corpus.h"
#include "sampler/sampler.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[128], g_den[256], g_den2[256], g_ae[256], g_data[256];

// Validation song k: verse chorus verse chorus, 129 mel frames (1.5 s) each, random log-mel; MMA or module.
static int write_song(int k, Rng *r) {
    const int L = 129, n = 4;
    static const char *lab[4] = {"verse", "chorus", "verse", "chorus"};
    CorpusSong s;
    memset(&s, 0, sizeof s);
    snprintf(s.song, sizeof s.song, "test/valid_%d.wav", k);
    snprintf(s.package, sizeof s.package, "test");
    s.source = k % 2 ? SRC_MODULE : SRC_MMA;
    s.split = SPLIT_VALID;
    s.n_frames = n * L;
    s.n_mels = N_MELS;
    s.duration = corpus_seconds(n * L);
    s.n_sections = n;
    SongSection sec[4];
    for (int i = 0; i < n; i++) {
        memset(&sec[i], 0, sizeof sec[i]);
        snprintf(sec[i].label, sizeof sec[i].label, "%s", lab[i]);
        sec[i].occurrence = i / 2 + 1;
        sec[i].start = corpus_seconds(i * L);
        sec[i].end = corpus_seconds((i + 1) * L);
        sec[i].confidence = 1;
        sec[i].desc = SECTION_DESCRIPTORS_NONE;
    }
    s.sections = sec;
    float *mel = mallocCheck(sizeof(float) * n * L * N_MELS);
    for (long i = 0; i < (long)L * N_MELS; i++) mel[i] = -6 + 2 * rng_normal(r);   // verse
    for (long i = 0; i < (long)L * N_MELS; i++) mel[L * N_MELS + i] = -6 + 2 * rng_normal(r);   // chorus
    memcpy(mel + 2L * L * N_MELS, mel, sizeof(float) * 2 * L * N_MELS);   // repeated
    char path[512];
    snprintf(path, sizeof path, "%s/shards/v_%d.rfs", g_data, k);
    int rc = shard_write(path, &s, mel);
    free(mel);
    return rc;
}

// A second denoiser: the tiny one with one weight changed (another hash, the same K).
static int write_second_model(void) {
    Denoiser d;
    if (denoiser_load(&d, g_den)) return -1;
    params_get(&d.params, 0)[0] += 0.5f;
    int rc = denoiser_save(&d, g_den2);
    denoiser_free(&d);
    return rc;
}

// The report's table rows (lines starting with '|').
static void table_lines(const char *rep, char *out, size_t cap) {
    size_t L = 0;
    out[0] = 0;
    for (const char *p = rep; *p && L < cap;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (p[0] == '|') L += (size_t)snprintf(out + L, cap - L, "%.*s\n", (int)n, p);
        p += n + (e ? 1 : 0);
    }
}

static int exists(const char *p) { struct stat sb; return stat(p, &sb) == 0 && sb.st_size > 0; }

static int run(const AblateOpts *o, const char *path, AblateCounts *n) {
    AtomicFile af;
    if (atomic_open(&af, path)) return -1;
    if (ablate_run(af.f, o, n)) { atomic_abort(&af); return -1; }
    return atomic_commit(&af);
}

// ---- another song's memory ----------------------------------------------------------------------
static void test_memory_from(void) {
    refrain_model_params mp = refrain_model_default_params();
    mp.denoiser = g_den;
    mp.autoencoder = g_ae;
    char err[512];
    refrain_model *m = refrain_model_load(&mp, err, sizeof err);
    if (!CHECK(m != NULL, "tiny models load: %s", m ? "ok" : err)) return;
    refrain_generate_params gp = refrain_generate_default_params();
    gp.form = "verse:1.5 chorus:1.5 verse:1.5 chorus:1.5";
    gp.steps = 3;
    gp.sampler = 0;
    gp.vocoder_iters = 2;
    refrain_song a, none, b, x, self;
    gp.seed = 1;
    int rc = refrain_generate(m, &gp, &a, err, sizeof err);
    gp.no_memory = 1;
    rc |= refrain_generate(m, &gp, &none, err, sizeof err);
    gp.no_memory = 0;
    gp.seed = 2;
    rc |= refrain_generate(m, &gp, &b, err, sizeof err);
    gp.seed = 1;
    gp.memory_from = &b;
    rc |= refrain_generate(m, &gp, &x, err, sizeof err);
    gp.memory_from = &a;
    rc |= refrain_generate(m, &gp, &self, err, sizeof err);
    if (!CHECK(rc == 0, "five songs generated: %s", rc ? err : "ok")) { refrain_model_free(m); return; }
    long T = a.n_latent, Z = a.z;
    long s1 = lround(a.sections[1].start * SAMPLE_RATE / (4.0 * HOP));   // section 2's first latent frame
    CHECK(T == x.n_latent && s1 > 0 && s1 < T, "the same %ld latent frames; section 2 starts at frame %ld", T, s1);
    CHECK(!memcmp(x.latents, a.latents, sizeof(float) * s1 * Z) && !memcmp(x.latents, none.latents, sizeof(float) * s1 * Z),
          "section 1 (no memory in any condition) is the same bits with memory, without, and with another song's");
    double dxa = 0, dxn = 0, dan = 0;
    for (long i = s1 * Z; i < T * Z; i++) {
        dxa += fabs(x.latents[i] - a.latents[i]);
        dxn += fabs(x.latents[i] - none.latents[i]);
        dan += fabs(a.latents[i] - none.latents[i]);
    }
    long cnt = (T - s1) * Z;
    CHECK(dxa / cnt > 1e-3 && dxn / cnt > 1e-3 && dan / cnt > 1e-3,
          "after section 1 another song's memory differs from the song's own (mean |d| %.4f) and from none (%.4f); "
          "own against none %.4f", dxa / cnt, dxn / cnt, dan / cnt);
    CHECK(self.n_latent == T && !memcmp(self.latents, a.latents, sizeof(float) * T * Z) &&
              self.n_samples == a.n_samples && !memcmp(self.audio, a.audio, sizeof(float) * a.n_samples),
          "the song itself as its memory reproduces the memory condition bit for bit (latents and audio)");
    CHECK(a.memory_tokens > 0 && none.memory_tokens == 0 && x.memory_tokens == a.memory_tokens,
          "memory tokens: %ld with memory, %ld without, %ld with another song's (same form, same plan)",
          a.memory_tokens, none.memory_tokens, x.memory_tokens);
    // a memory song whose latents do not fit its sections is refused as input
    refrain_song bad = b;
    bad.n_latent = b.n_latent - 3;
    gp.memory_from = &bad;
    refrain_song y;
    rc = refrain_generate(m, &gp, &y, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "memory's song"), "a memory song with the wrong latent length: %s", err);
    // one memory per section: all b is memory_from b; section 3 (index 2) on its own memory differs from there
    const refrain_song *each[4] = {&b, &b, &b, &b};
    gp.memory_from = NULL;
    gp.memory_from_each = each;
    refrain_song e1, e2;
    rc = refrain_generate(m, &gp, &e1, err, sizeof err);
    each[0] = NULL; each[2] = NULL;   // section 1 has no memory either way; section 3 remembers its own song
    rc |= refrain_generate(m, &gp, &e2, err, sizeof err);
    if (CHECK(rc == 0, "songs with one memory per section: %s", rc ? err : "ok")) {
        CHECK(e1.n_latent == T && !memcmp(e1.latents, x.latents, sizeof(float) * T * Z) &&
                  !memcmp(e1.audio, x.audio, sizeof(float) * x.n_samples),
              "every section remembering b is memory_from b bit for bit");
        long s2 = lround(a.sections[2].start * SAMPLE_RATE / (4.0 * HOP));
        double d = 0;
        for (long i = s2 * Z; i < T * Z; i++) d += fabs(e2.latents[i] - x.latents[i]);
        CHECK(e2.n_latent == T && !memcmp(e2.latents, x.latents, sizeof(float) * s2 * Z) && d / ((T - s2) * Z) > 1e-3,
              "a NULL entry: the same as memory_from b before section 3 (frame %ld), its own memory after (mean |d| %.4f)",
              s2, d / ((T - s2) * Z));
        refrain_song_free(&e1); refrain_song_free(&e2);
    }
    each[2] = &bad;
    rc = refrain_generate(m, &gp, &y, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "section 3"), "a bad memory song for section 3 is named: %s", err);
    gp.memory_from = &b;
    rc = refrain_generate(m, &gp, &y, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "both"), "memory_from with memory_from_each refused: %s", err);
    refrain_song_free(&a); refrain_song_free(&none); refrain_song_free(&b); refrain_song_free(&x); refrain_song_free(&self);
    refrain_model_free(m);
}

// ---- intervals on hand-made numbers ---------------------------------------------------------------
static void test_intervals(void) {
    const double a[5] = {1, 2, 3, NAN, 5}, b[5] = {0.5, 1, 2, 4, NAN};
    StructureInterval d = ablate_paired_difference(a, b, 5, 400, 7);
    CHECK(d.n == 3 && fabs(d.mean - 2.5 / 3) < 1e-12, "paired difference over the 3 songs with both: %.6f (want 0.833333), n %d", d.mean, d.n);
    CHECK(d.lo >= 0.5 && d.hi <= 1.0 && d.lo <= d.mean && d.mean <= d.hi,
          "its interval [%.3f, %.3f] lies within the differences 0.5..1", d.lo, d.hi);
    StructureInterval d0 = ablate_paired_difference(a, b, 5, 0, 7);
    CHECK(d0.mean == d.mean && isnan(d0.lo) && isnan(d0.hi), "no resamples: the same mean, no interval");
    const double c[4] = {0.3, 0.1, 0.4, 0.2}, e[4] = {0.1, 0.3, 0.2, 0.4};
    StructureInterval z = ablate_paired_difference(c, e, 4, 400, 7);
    CHECK(fabs(z.mean) < 1e-12 && z.lo < 0 && z.hi > 0, "equal means: difference %.3g with an interval [%.3f, %.3f] around 0", z.mean, z.lo, z.hi);
    StructureInterval r = ablate_paired_ratio(a, b, 5, 400, 7);
    CHECK(fabs(r.mean - 6.0 / 3.5) < 1e-12 && r.n == 3, "paired ratio of means: %.6f (want 6 / 3.5)", r.mean);
    const double p[3] = {1, 2, 3}, q[3] = {2, 2, NAN};
    StructureInterval t = ablate_ratio(p, 3, q, 3, 400, 7);
    CHECK(fabs(t.mean - 1.0) < 1e-12 && t.lo >= 0.5 && t.hi <= 1.5 && t.lo < t.hi,
          "independent ratio 2 / 2 = %.3f, interval [%.3f, %.3f] within 0.5..1.5 (b's resamples are all 2)", t.mean, t.lo, t.hi);
}

// ---- the report ------------------------------------------------------------------------------------
static void test_report(void) {
    char work[256], figs[256], rep1[256], rep2[256];
    snprintf(work, sizeof work, "%s/work", g_dir);
    snprintf(figs, sizeof figs, "%s/figs", g_dir);
    snprintf(rep1, sizeof rep1, "%s/figs/ablation.md", g_dir);
    snprintf(rep2, sizeof rep2, "%s/again.md", g_dir);
    AblateOpts o;
    ablate_defaults(&o);
    CHECK(o.repeat_strength == refrain_generate_default_params().repeat_strength,
          "ablate's repeat strength defaults to generate's (%g)", o.repeat_strength);
    o.repeat_strength = 1;   // plain generation: the songs below from pure noise
    o.form = "verse:1.5 chorus:1.5 verse:1.5 chorus:1.5";
    o.songs = 2;
    o.model = g_den; o.ae = g_ae; o.data = g_data; o.work = work; o.figs = figs;
    o.models[0] = g_den2; o.n_models = 1;
    o.mg_sweep[0] = 0; o.mg_sweep[1] = 1; o.n_sweep = 2;   // 0 is the default: the memory songs again
    o.steps = 2; o.sampler = SAMPLER_EULER; o.vocoder_iters = 2;
    o.boot = 8;
    AblateCounts n;
    int rc = run(&o, rep1, &n);
    if (!CHECK(rc == 0, "ablate_run on tiny models: %s", rc ? err_msg() : "ok")) return;
    CHECK(n.generated == 12 && n.reused == 0, "first run: %d songs generated (want 2 x memory, none, other, others, "
          "guidance 0, second model = 12), %d reused", n.generated, n.reused);
    char *a = slurp(rep1);
    if (!CHECK(a != NULL, "the report is written")) return;
    const char *want[] = {"## In one paragraph", "## The targets (issue 14)", "| with-memory gap / real songs' gap |",
                          "| no-memory gap / with-memory gap |", "| other song's memory gap - no-memory gap |",
                          "| other songs' memory (one per section) gap - no-memory gap |",
                          "| other songs' memory (one per section) | 2 |",
                          "## Structure", "| real songs (validation MMA + modules) | 3 |", "| memory (K 2) | 2 |",
                          "| no memory | 2 |", "| other song's memory | 2 |", "| memory guidance 0 | 2 |",
                          "| memory guidance 1 | 2 |", "| memory, K 2 (den2.rfc) | 2 |", "## Paired differences",
                          "| memory (K 2) - no memory | 2 |", "| other song's memory - no memory | 2 |",
                          "## Quality and cost", "against every validation song (3 songs, 12 windows)", "FNV-1a-64",
                          "--songs 2 --seed 1", "--memory-guidance-sweep 0,1", "ablation-ssm-memory.png",
                          "ablation-ssm-none.png", "ablation-pairs.png"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) CHECK(strstr(a, want[i]) != NULL, "the report has '%s'", want[i]);
    const char *png[3] = {"ablation-ssm-memory.png", "ablation-ssm-none.png", "ablation-pairs.png"};
    for (int i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", figs, png[i]);
        CHECK(exists(p), "%s written", png[i]);
    }
    // the memory guidance 0 row repeats the memory row's numbers (the same songs)
    CHECK(o.mem_guidance == 0, "ablate's memory guidance defaults to generate's (0)");
    const char *mrow = strstr(a, "| memory (K 2) | 2 |"), *grow = strstr(a, "| memory guidance 0 | 2 |");
    if (mrow && grow) {
        mrow += strlen("| memory (K 2) | 2 |"); grow += strlen("| memory guidance 0 | 2 |");
        size_t l = strcspn(mrow, "\n");
        CHECK(l > 20 && l == strcspn(grow, "\n") && !strncmp(mrow, grow, l), "guidance 0 (the default) repeats the memory condition's structure row");
    }
    // the paragraph's and the targets' memory - none is the paired-differences table's (the same draws)
    const char *drow = strstr(a, "| memory (K 2) - no memory | 2 | ");
    if (CHECK(drow != NULL, "the memory - none row")) {
        drow += strlen("| memory (K 2) - no memory | 2 | ");
        char cellv[64];
        snprintf(cellv, sizeof cellv, "%.*s", (int)strcspn(drow, "|"), drow);
        while (strlen(cellv) && cellv[strlen(cellv) - 1] == ' ') cellv[strlen(cellv) - 1] = 0;
        char phrase[128];
        snprintf(phrase, sizeof phrase, "the gap by %s, paired", cellv);
        CHECK(strstr(a, phrase) != NULL, "the paragraph quotes the table's paired difference '%s'", cellv);
    }
    // with 2 songs each section's other song is the one other song: the two controls are the same songs
    const char *orow = strstr(a, "| other song's memory | 2 |"), *osrow = strstr(a, "| other songs' memory (one per section) | 2 |");
    if (CHECK(orow && osrow, "both controls' structure rows")) {
        orow += strlen("| other song's memory | 2 |"); osrow += strlen("| other songs' memory (one per section) | 2 |");
        size_t l = strcspn(orow, "\n");
        CHECK(l > 20 && !strncmp(orow, osrow, l), "with 2 songs the per-section control measures as the one-song control");
    }
    CHECK(strstr(a, "CPU s per song against") && !strstr(a, " | - | "),
          "the cost is in CPU seconds when every song has them");
    // a rerun reuses every song and writes the same tables
    char t1[32768], t2[32768];
    table_lines(a, t1, sizeof t1);
    rc = run(&o, rep2, &n);
    CHECK(rc == 0 && n.generated == 0 && n.reused == 12, "a rerun: %d generated, %d reused (want 0 and 12)", n.generated, n.reused);
    char *b = slurp(rep2);
    table_lines(b ? b : "", t2, sizeof t2);
    if (!CHECK(t1[0] && !strcmp(t1, t2), "the rerun's tables are the same (%zu bytes)", strlen(t1))) printf("first:\n%ssecond:\n%s", t1, t2);
    free(b);
    // a song stored before CPU seconds were recorded: reused, its condition's CPU cell empty, the cost in wall time
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sed -i '/^cpu_seconds /d' %s/*/memory-seed1.txt", work);
    rc = system(cmd) ? -1 : run(&o, rep2, &n);
    b = slurp(rep2);
    int empty_cell = 0;   // the memory condition's cost row: "| memory (K 2) | 2 | windows | ... | - | tokens |"
    for (const char *l = b; l && (l = strstr(l, "\n| memory (K 2) | 2 |")); l++)
        empty_cell |= strstr(l + 1, " | - | ") && strstr(l + 1, " | - | ") < strchr(l + 1, '\n');
    CHECK(rc == 0 && n.generated == 0 && empty_cell && strstr(b, "s per song against") &&
              !strstr(b, "CPU s per song against") && strstr(b, "wall time when each song was made"),
          "a song without CPU seconds is reused and the cost falls back to wall time");
    free(b);
    // changed settings: the songs are made again (and only the conditions asked for)
    o.steps = 3; o.n_sweep = 0; o.n_models = 0; o.figs = NULL;
    rc = run(&o, rep2, &n);
    CHECK(rc == 0 && n.generated == 8 && n.reused == 0, "3 steps instead of 2, no sweep, one model: %d generated, %d reused (want 8, 0)", n.generated, n.reused);
    free(a);
    // a repeat strength sweep: 0.3 is new songs, 1 (the default) the memory condition's
    o.rs_sweep[0] = 0.3f; o.rs_sweep[1] = 1; o.n_rs_sweep = 2;
    rc = run(&o, rep2, &n);
    CHECK(rc == 0 && n.generated == 2 && n.reused == 8, "repeat strength sweep 0.3,1: %d generated, %d reused (want 2, 8)", n.generated, n.reused);
    a = slurp(rep2);
    CHECK(a && strstr(a, "| repeat strength 0.3 | 2 |") && strstr(a, "| repeat strength 1 | 2 |") &&
          strstr(a, "| repeat strength 0.3 - no memory | 2 |") && strstr(a, "--repeat-strength 1 --repeat-strength-sweep 0.3,1"),
          "the report has the repeat strength rows and says how to reproduce them");
    free(a);
    // the same strength for every condition: the memory songs are the sweep's 0.3 ones, no memory's are plain
    // generation's; only the controls are made again (their repeats start from the other songs)
    o.repeat_strength = 0.3f; o.n_rs_sweep = 0;
    rc = run(&o, rep2, &n);
    CHECK(rc == 0 && n.generated == 4 && n.reused == 4, "repeat strength 0.3 for every condition: %d generated, %d reused (want 4, 4)",
          n.generated, n.reused);
    a = slurp(rep2);
    CHECK(a && strstr(a, "| memory (K 2), repeat strength 0.3 | 2 |") && strstr(a, "repeat strength 0.3 (without memory: 1)"),
          "the memory condition is named with its repeat strength");
    free(a);
    o.repeat_strength = 1;
    // refusals
    AblateOpts bad = o;
    bad.songs = 1;
    CHECK(run(&bad, rep2, &n) == -1 && strstr(err_msg(), "1 songs"), "one song refused: %s", err_msg());
    bad = o;
    bad.form = NULL;
    CHECK(run(&bad, rep2, &n) == -1 && strstr(err_msg(), "no form"), "no form refused: %s", err_msg());
    bad = o;
    char nodata[256];
    snprintf(nodata, sizeof nodata, "%s/none", g_dir);
    bad.data = nodata;
    CHECK(run(&bad, rep2, &n) == -1 && strstr(err_msg(), "no corpus in") && n.generated == 0,
          "a missing corpus is refused before any song is made: %s", err_msg());
}

int main(int argc, char **argv) {
    snprintf(g_dir, sizeof g_dir, "/tmp/refrain-test-ablate-%d", (int)getpid());
    snprintf(g_den, sizeof g_den, "%s/den.rfc", g_dir);
    snprintf(g_den2, sizeof g_den2, "%s/den2.rfc", g_dir);
    snprintf(g_ae, sizeof g_ae, "%s/ae.rfc", g_dir);
    snprintf(g_data, sizeof g_data, "%s/corpus", g_dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/shards %s/figs", g_data, g_dir);
    Rng r;
    rng_seed(&r, 5);
    int setup = system(cmd) == 0 && tiny_models_write(g_den, g_ae) == 0 && write_second_model() == 0;
    for (int k = 0; k < 3 && setup; k++) setup = write_song(k, &r) == 0;
    if (!CHECK(setup, "tiny models and corpus: %s", setup ? "written" : err_msg())) return check_summary("test_ablate");
    g_quiet = 1;
    test_memory_from();
    test_intervals();
    test_report();
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (!(argc > 1 && !strcmp(argv[1], "--keep")) && system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_ablate");
}
