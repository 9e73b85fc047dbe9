// test_data_structure — the structure measures (data/structure.h) on songs
// whose answer is known:
//  - synthetic songs made here of sections that are bit-identical when they
//    repeat (each section a whole number of 0.186 s feature frames, 4096
//    samples, with silent edges wider than the STFT window, so a repeat's
//    log-mel frames are the same bits): an exact repeat scores exactly 1;
//    unrelated sections score near 0 (features centred on the song put
//    unrelated frames at 0 on average; the best of 23 lags lifts them a
//    little) and none comes near a repeat;
//    A B A B labelled so gives AUC 1; A B A B A B with the last B labelled A
//    gives AUC 37/56 and gap 9 (1 - L) / 28 (L the A-B similarity), counted
//    by hand below; the alignment finds a repeat that starts 6 frames late;
//  - MusDr's fitness on hand-made SSMs (two and three exact repeats: 1/2 and
//    2/3), the MusDr SSM's form, and SI higher for a repeating song than for
//    one with no repeats;
//  - a real MMA song rendered here (mma + fluidsynth, ~70 s): its true labels
//    score clearly higher than shuffled ones.
#include "audio/audio.h"
#include "data/corpus.h"
#include "data/structure.h"
#include "tests/check.h"
#include "util/rng.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SR SAMPLE_RATE
#define FRAME 4096           // samples per feature frame (STRUCT_HOP_MELS * HOP)
#define SEC_FRAMES 32        // feature frames per synthetic section (5.94 s)
#define EDGE 1024            // silent samples at each end of a section (> N_FFT / 2)

// Content `kind` (a seed) into x (n samples): a sequence of notes of 2
// feature frames each, pitch, partials and a noise share drawn from the seed,
// so two kinds differ in harmony and in timbre; the first and last EDGE
// samples are silent. The same kind gives the same bits.
static void content(float *x, long n, int kind) {
    Rng r;
    rng_seed(&r, 1000 + (uint64_t)kind);
    float bright = 0.2f + 0.8f * rng_uniform(&r);   // weight of the upper partials
    float noise = 0.3f * rng_uniform(&r);
    long note = 2 * FRAME;
    for (long s = 0; s < n; s += note) {
        double f0 = 110.0 * pow(2.0, (int)(rng_uniform(&r) * 36) / 12.0);
        double f1 = f0 * pow(2.0, (3 + (int)(rng_uniform(&r) * 5)) / 12.0);
        for (long i = s; i < s + note && i < n; i++) {
            double t = (double)(i - s) / SR, v = 0;
            for (int h = 1; h <= 6; h++) {
                double w = pow(bright, h - 1) / h;
                v += w * (sin(2 * M_PI * f0 * h * t) + 0.7 * sin(2 * M_PI * f1 * h * t));
            }
            v += noise * (2.0 * rng_uniform(&r) - 1.0);
            x[i] = (float)(0.15 * v);
        }
    }
    for (long i = 0; i < EDGE && i < n; i++) x[i] = x[n - 1 - i] = 0.0f;
}

// A song of sections with the given contents (letters: kind = letter), each
// SEC_FRAMES frames long; form: the same sections labelled by `labels`.
static float *make_song(long *n, SongForm *form, const char *contents, const char *labels) {
    int ns = (int)strlen(contents);
    long len = (long)SEC_FRAMES * FRAME;
    *n = ns * len;
    float *x = callocCheck(*n, sizeof(float));
    form->n = ns;
    form->sections = callocCheck(ns, sizeof(SongSection));
    form->bpm = 0;
    form->duration = (double)*n / SR;
    for (int i = 0; i < ns; i++) {
        content(x + i * len, len, contents[i]);
        SongSection *s = &form->sections[i];
        snprintf(s->label, sizeof s->label, "%c", labels[i]);
        s->start = (double)(i * len) / SR;
        s->end = (double)((i + 1) * len) / SR;
    }
    song_number_occurrences(form->sections, ns);
    return x;
}

static void relabel(SongForm *form, const char *labels) {
    for (int i = 0; i < form->n; i++) snprintf(form->sections[i].label, SONG_LABEL_MAX, "%c", labels[i]);
}

static const StructurePair *find_pair(const StructureResult *r, int a, int b) {
    for (int k = 0; k < r->n_pairs; k++) if (r->pairs[k].a == a && r->pairs[k].b == b) return &r->pairs[k];
    return NULL;
}

static void test_synthetic(void) {
    StructureOpts o;
    structure_defaults(&o);
    o.structureness = 0;   // tested below on its own
    long n;
    SongForm form = {0};
    float *x = make_song(&n, &form, "ABABAB", "ABABAB");
    StructureResult r;
    int rc = structure_measure_audio(&r, x, n, &form, &o);
    if (!CHECK(rc == 0, "structure_measure_audio on A B A B A B: %s", rc ? err_msg() : "ok")) return;
    CHECK(r.n_pairs == 15 && r.n_same == 6 && r.n_diff == 9, "15 pairs: %d, 6 same-label: %d, 9 different: %d",
          r.n_pairs, r.n_same, r.n_diff);
    // exact repeats: 1 exactly, at lag 0; every A-B pair the same value L
    int ones = 0, lag0 = 0, same_L = 0;
    float L = find_pair(&r, 0, 1)->sim[SIM_COMBINED];
    for (int k = 0; k < r.n_pairs; k++) {
        const StructurePair *p = &r.pairs[k];
        int rep = (p->b - p->a) % 2 == 0;
        if (rep) {
            ones += p->sim[0] == 1.0f && p->sim[1] == 1.0f && p->sim[2] == 1.0f;
            lag0 += p->lag_s == 0.0f;
        } else same_L += p->sim[SIM_COMBINED] == L;
    }
    CHECK(ones == 6 && lag0 == 6, "exact repeats score exactly 1 (chroma, timbre, combined): %d of 6, at lag 0: %d", ones, lag0);
    CHECK(same_L == 9, "all 9 A-B pairs score one value L = %.4f (A-B and B-A alike): %d", L, same_L);
    CHECK(fabsf(L) < 0.2f, "two unrelated textures: A-B similarity L = %.3f is near 0 (|L| < 0.2)", L);
    check_close("true labels: AUC", r.auc[SIM_COMBINED], 1.0, 0, 0);
    check_close("true labels: chroma AUC", r.auc[SIM_CHROMA], 1.0, 0, 0);
    check_close("true labels: timbre AUC", r.auc[SIM_TIMBRE], 1.0, 0, 0);
    check_close("true labels: gap = 1 - L", r.gap[SIM_COMBINED], 1.0 - L, 1e-6, 0);
    structure_result_free(&r);

    // The last B labelled A. Pairs (same-label, content): same = (0,2)(0,4)(1,3)(2,4)
    // repeats [4 x 1] and (0,5)(2,5)(4,5) A-B [3 x L]; different = (1,5)(3,5)
    // repeats [2 x 1] and 6 A-B [6 x L]. Mann-Whitney: 1 > L 4*6 = 24, 1 = 1
    // 4*2 ties = 4, L = L 3*6 ties = 9: AUC = 37 / 56. Gap = (4 + 3L)/7 - (2 + 6L)/8 = 9 (1 - L) / 28.
    relabel(&form, "ABABAA");
    rc = structure_measure_audio(&r, x, n, &form, &o);
    if (CHECK(rc == 0, "A B A B A B labelled A B A B A A")) {
        CHECK(r.n_same == 7 && r.n_diff == 8, "7 same-label pairs (%d), 8 different (%d)", r.n_same, r.n_diff);
        check_close("one label swapped: AUC = 37/56", r.auc[SIM_COMBINED], 37.0 / 56.0, 1e-12, 0);
        check_close("one label swapped: gap = 9 (1 - L) / 28", r.gap[SIM_COMBINED], 9.0 * (1.0 - L) / 28.0, 1e-6, 0);
        structure_result_free(&r);
    }
    // A B A B as A B B B: same {L, 1, L} against different {L, 1, L}: AUC 1/2, gap 0.
    song_form_free(&form);
    free(x);
    x = make_song(&n, &form, "ABAB", "ABBB");
    rc = structure_measure_audio(&r, x, n, &form, &o);
    if (CHECK(rc == 0, "A B A B labelled A B B B")) {
        check_close("A B B B: AUC = 1/2", r.auc[SIM_COMBINED], 0.5, 1e-12, 0);
        check_close("A B B B: gap = 0", r.gap[SIM_COMBINED], 0.0, 1e-12, 0);
        structure_result_free(&r);
    }
    song_form_free(&form);
    free(x);

    // Eight unrelated sections: near 0 on average (the best lag lifts them a
    // little), none near a repeat.
    x = make_song(&n, &form, "CDEFGHIJ", "CDEFGHIJ");
    rc = structure_measure_audio(&r, x, n, &form, &o);
    if (CHECK(rc == 0, "eight unrelated sections")) {
        double mx = -1;
        for (int k = 0; k < r.n_pairs; k++) if (r.pairs[k].sim[SIM_COMBINED] > mx) mx = r.pairs[k].sim[SIM_COMBINED];
        CHECK(r.n_same == 0 && isnan(r.gap[SIM_COMBINED]) && isnan(r.auc[SIM_COMBINED]),
              "no same-label pair: gap and AUC are NAN");
        CHECK(fabs(r.diff_mean[SIM_COMBINED]) < 0.2, "unrelated: mean similarity %.3f near 0 (|.| < 0.2)",
              r.diff_mean[SIM_COMBINED]);
        CHECK(mx < 0.3, "unrelated: the most similar pair %.3f is below 0.3", mx);
        structure_result_free(&r);
    }
    song_form_free(&form);
    free(x);

    // Alignment: section 2 is 6 frames of other content, then A from its start.
    x = make_song(&n, &form, "ABK", "ABA");
    long len = (long)SEC_FRAMES * FRAME;
    float *a = callocCheck(len, sizeof(float));
    content(a, len, 'A');
    memcpy(x + 2 * len + 6 * FRAME, a, sizeof(float) * (len - 6 * FRAME));
    free(a);
    rc = structure_measure_audio(&r, x, n, &form, &o);
    if (CHECK(rc == 0, "a repeat 6 frames late")) {
        const StructurePair *p = find_pair(&r, 0, 2);
        double rate = (double)SR / FRAME;
        CHECK(p && lround(p->lag_s * rate) == 6 && fabs(p->lag_s - 6 / rate) < 1e-4,
              "best lag %.3f s = 6 frames (%.3f s)", p ? p->lag_s : NAN, 6 / rate);
        CHECK(p && p->sim[SIM_COMBINED] > 0.9, "aligned, the late repeat scores %.3f > 0.9", p ? p->sim[SIM_COMBINED] : NAN);
        o.max_lag_s = 0.5;   // 3 frames: the repeat can no longer be aligned
        StructureResult r2;
        if (structure_measure_audio(&r2, x, n, &form, &o) == 0) {
            const StructurePair *q = find_pair(&r2, 0, 2);
            CHECK(q && p && q->sim[SIM_COMBINED] < p->sim[SIM_COMBINED] - 0.3,
                  "with +-0.5 s it scores %.3f, well below", q ? q->sim[SIM_COMBINED] : NAN);
            structure_result_free(&r2);
        }
        o.max_lag_s = 2.0;
        structure_result_free(&r);
    }
    song_form_free(&form);
    free(x);
}

static void test_auc(void) {
    double p[3] = {3, 2, 1}, q[4] = {1, 0, 0, 2};
    // 3 beats all 4; 2 beats 3, ties 1; 1 beats 2, ties 1: (4 + 3.5 + 2.5) / 12
    check_close("Mann-Whitney AUC with ties", structure_auc(p, 3, q, 4), 10.0 / 12.0, 1e-15, 0);
    CHECK(isnan(structure_auc(p, 3, q, 0)), "AUC with no negatives is NAN");
}

// An SSM of k exact repeats of a part of length m (N = k m): 1 where j - i is a
// multiple of m, -2 elsewhere (MusDr's penalty).
static double *repeat_ssm(int k, int m) {
    int N = k * m;
    double *S = mallocCheck(sizeof(double) * N * N);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) S[i * N + j] = (j - i) % m == 0 ? 1.0 : -2.0;
    return S;
}

static void test_fitness(void) {
    // Segment = one part: the path family is the k copies, k m cells of score 1:
    // score_n = (k m - m) / (k m), coverage_n = (k m - m) / (k m) -> fitness (k-1)/k.
    for (int k = 2; k <= 3; k++) {
        int m = 5, N = k * m;
        double *S = repeat_ssm(k, m), sn, cn;
        double fit = structure_segment_fitness(S, N, 0, m, &sn, &cn);
        char what[96];
        snprintf(what, sizeof what, "%d repeats: fitness of one part = %d/%d", k, k - 1, k);
        check_close(what, fit, (k - 1.0) / k, 1e-12, 0);
        check_close("... normalised score", sn, (k - 1.0) / k, 1e-12, 0);
        check_close("... normalised coverage", cn, (k - 1.0) / k, 1e-12, 0);
        check_close("... the whole song covers nothing new: fitness 0", structure_segment_fitness(S, N, 0, N, NULL, NULL),
                    0.0, 1e-12, 0);
        double rowmax[16];
        structure_fitness_rowmax(rowmax, S, N, 1, N);
        int best = 0;
        for (int l = 1; l <= N; l++) if (rowmax[l - 1] > rowmax[best]) best = l - 1;
        CHECK(best + 1 == m, "%d repeats: the fittest length is the part's, %d (got %d)", k, m, best + 1);
        free(S);
    }
}

static void test_si(void) {
    long n;
    SongForm form = {0};
    float *x = make_song(&n, &form, "ABABABAB", "ABABABAB");
    float *mel;
    long T;
    double *S;
    int N;
    if (!CHECK(logmel_from_audio(&mel, &T, x, n) == 0, "log-mel of a 48 s song")) return;
    if (CHECK(structure_musdr_ssm(&S, &N, mel, T) == 0, "MusDr SSM")) {
        CHECK(N == (int)((((T - 1) * HOP * 20 / SR + 1) / 2 + 1 + 4) / 5), "2 Hz: %d frames for %.1f s", N, (double)n / SR);
        long kept = 0, bad = 0, diag = 0;
        for (int i = 0; i < N; i++) {
            diag += S[i * N + i] == 1.0;
            for (int j = 0; j < N; j++) {
                double v = S[i * N + j];
                if (v >= 0 && v <= 1) kept++;
                else if (v != -2.0) bad++;
            }
        }
        CHECK(diag == N && bad == 0, "diagonal 1, every cell in [0, 1] or -2 (%ld bad)", bad);
        CHECK(fabs(kept - 0.25 * N * N) <= 0.02 * N * N + N, "the top quarter kept: %ld of %d cells", kept, N * N);
        free(S);
    }
    double si_rep[SI_KINDS], si_none[SI_KINDS];
    int ok = structure_si(si_rep, mel, T) == 0;
    free(mel);
    free(x);
    song_form_free(&form);
    x = make_song(&n, &form, "CDEFGHIJ", "CDEFGHIJ");
    ok = ok && logmel_from_audio(&mel, &T, x, n) == 0 && structure_si(si_none, mel, T) == 0;
    if (CHECK(ok, "SI of A B A B A B A B and of eight unrelated sections")) {
        for (int k = 0; k < SI_KINDS; k++)
            CHECK(si_rep[k] >= 0 && si_rep[k] <= 1 && si_none[k] >= 0 && si_none[k] <= 1, "%s in [0, 1]: %.3f, %.3f",
                  SI_NAME[k], si_rep[k], si_none[k]);
        CHECK(si_rep[SI_MID] > si_none[SI_MID] + 0.2, "%s: repeats %.3f > no repeats %.3f + 0.2", SI_NAME[SI_MID],
              si_rep[SI_MID], si_none[SI_MID]);
        CHECK(si_rep[SI_LONG] > si_none[SI_LONG] + 0.1, "%s: repeats %.3f > no repeats %.3f + 0.1", SI_NAME[SI_LONG],
              si_rep[SI_LONG], si_none[SI_LONG]);
    }
    free(mel);
    free(x);
    song_form_free(&form);
}

// A real MMA song, rendered here; true labels against 40 shufflings of them.
static void test_mma(void) {
    char dir[] = "/tmp/refrain_structXXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "scratch folder")) return;
    char mmaf[128], mid[128], wav[128], cmd[1024];
    snprintf(mmaf, sizeof mmaf, "%s/song.mma", dir);
    snprintf(mid, sizeof mid, "%s/song.mid", dir);
    snprintf(wav, sizeof wav, "%s/song.wav", dir);
    MmaLibrary *lib;
    int lrc = mma_library_load(&lib, NULL);
    if (!CHECK(lrc == 0, "MMA groove library%s%s", lrc ? ": " : "", lrc ? err_msg() : "")) return;
    MmaSongInfo info;
    FILE *f = fopen(mmaf, "w");
    int rc = f ? mma_generate(f, &info, lib, 5, "intro verse chorus verse chorus bridge chorus outro", "8beat", 160) : -1;
    if (f) fclose(f);
    mma_library_free(lib);
    if (!CHECK(rc == 0, "MMA song generated (%.0f s)", info.est_seconds)) return;
    snprintf(cmd, sizeof cmd,
             "mma -f '%s' '%s' >/dev/null 2>&1 && fluidsynth -ni -g 0.35 -F '%s' -r 22050 "
             "/usr/share/sounds/sf2/FluidR3_GM.sf2 '%s' >/dev/null 2>&1", mid, mmaf, wav, mid);
    if (!CHECK(system(cmd) == 0, "mma + fluidsynth render it")) return;
    MidiMarker *mk;
    int nm;
    double end;
    float *x = NULL;
    long n = 0;
    if (!CHECK(midi_read_markers(mid, &mk, &nm, &end) == 0 && audio_read(wav, SR, &x, &n) == 0, "markers and audio read"))
        return;
    SongForm form = {callocCheck(nm, sizeof(SongSection)), nm, 0, (double)n / SR};
    for (int i = 0; i < nm; i++) {
        snprintf(form.sections[i].label, SONG_LABEL_MAX, "%s", mk[i].text);
        form.sections[i].start = mk[i].time;
        form.sections[i].end = i + 1 < nm ? mk[i + 1].time : (end < form.duration ? end : form.duration);
    }
    free(mk);
    StructureOpts o;
    structure_defaults(&o);
    float *mel;
    long T;
    StructureResult r;
    rc = logmel_from_audio(&mel, &T, x, n) || structure_measure(&r, mel, T, &form, &o);
    if (CHECK(rc == 0, "measured %d sections, %.1f s: %s", nm, form.duration, rc ? err_msg() : "ok")) {
        structure_print(stdout, NULL, &r, &form);
        o.structureness = 0;
        Rng g;
        rng_seed(&g, 3);
        char (*lab)[SONG_LABEL_MAX] = mallocCheck(sizeof *lab * nm);
        for (int i = 0; i < nm; i++) memcpy(lab[i], form.sections[i].label, SONG_LABEL_MAX);
        int shuffles = 40, below = 0, counted = 0;
        double gsum = 0, asum = 0;
        for (int s = 0; s < shuffles; s++) {
            for (int i = nm - 1; i > 0; i--) {   // Fisher-Yates on the labels
                int j = (int)(rng_u64(&g) % (uint64_t)(i + 1));
                char t[SONG_LABEL_MAX];
                memcpy(t, form.sections[i].label, SONG_LABEL_MAX);
                memcpy(form.sections[i].label, form.sections[j].label, SONG_LABEL_MAX);
                memcpy(form.sections[j].label, t, SONG_LABEL_MAX);
            }
            StructureResult rs;
            if (structure_measure(&rs, mel, T, &form, &o) || isnan(rs.gap[SIM_COMBINED])) continue;
            counted++;
            gsum += rs.gap[SIM_COMBINED];
            asum += rs.auc[SIM_COMBINED];
            below += rs.gap[SIM_COMBINED] < r.gap[SIM_COMBINED];
            structure_result_free(&rs);
        }
        for (int i = 0; i < nm; i++) memcpy(form.sections[i].label, lab[i], SONG_LABEL_MAX);
        free(lab);
        printf("  shuffled labels (%d): mean gap %.3f, mean AUC %.3f; true labels gap %.3f AUC %.3f\n", counted,
               gsum / counted, asum / counted, r.gap[SIM_COMBINED], r.auc[SIM_COMBINED]);
        CHECK(r.auc[SIM_COMBINED] >= 0.9, "true labels: AUC %.3f >= 0.9", r.auc[SIM_COMBINED]);
        CHECK(r.gap[SIM_COMBINED] > 0.2, "true labels: gap %.3f > 0.2", r.gap[SIM_COMBINED]);
        CHECK(counted >= 30 && below >= counted * 9 / 10, "true gap above %d of %d shuffles (want 90%%)", below, counted);
        CHECK(counted && r.gap[SIM_COMBINED] > gsum / counted + 0.2 && r.auc[SIM_COMBINED] > asum / counted + 0.2,
              "true labels clearly above the shuffles' mean (gap +0.2, AUC +0.2)");
        for (int k = 0; k < SI_KINDS; k++) CHECK(r.si[k] > 0 && r.si[k] <= 1, "%s %.3f in (0, 1]", SI_NAME[k], r.si[k]);
        structure_result_free(&r);
    }
    free(mel);
    free(x);
    song_form_free(&form);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("  could not remove %s\n", dir);
}

// The reference run's path: shards written here, read back by structure_corpus
// (split and source filters), then the summary over songs.
static void test_corpus(void) {
    char dir[] = "/tmp/refrain_structcXXXXXX", sub[128];
    if (!CHECK(mkdtemp(dir) != NULL, "scratch folder")) return;
    snprintf(sub, sizeof sub, "%s/shards", dir);
    mkdir(sub, 0755);
    long n, T;
    SongForm form = {0};
    float *x = make_song(&n, &form, "ABAB", "ABAB"), *mel;
    if (!CHECK(logmel_from_audio(&mel, &T, x, n) == 0, "log-mel")) return;
    struct { const char *id, *labels; int source, split; } songs[3] = {
        {"mma/a.wav", "ABAB", SRC_MMA, SPLIT_VALID},
        {"mod/b.mod#0", "ABBB", SRC_MODULE, SPLIT_VALID},
        {"mma/c.wav", "ABAB", SRC_MMA, SPLIT_TRAIN}};
    int wrote = 0;
    for (int k = 0; k < 3; k++) {
        CorpusSong c;
        memset(&c, 0, sizeof c);
        snprintf(c.song, sizeof c.song, "%s", songs[k].id);
        snprintf(c.package, sizeof c.package, "test");
        c.source = songs[k].source;
        c.split = songs[k].split;
        c.n_frames = (int32_t)T;
        c.n_mels = N_MELS;
        c.duration = (double)n / SR;
        relabel(&form, songs[k].labels);
        c.n_sections = form.n;
        c.sections = form.sections;
        char path[256];
        snprintf(path, sizeof path, "%s/song%d.rfs", sub, k);
        wrote += shard_write(path, &c, mel) == 0;
    }
    free(mel);
    free(x);
    song_form_free(&form);
    if (!CHECK(wrote == 3, "three shards written")) return;
    StructureOpts o;
    structure_defaults(&o);
    o.structureness = 0;
    StructureResult *r;
    CorpusSong *meta;
    int ns;
    int rc = structure_corpus(&r, &meta, &ns, dir, SPLIT_VALID, 1u << SRC_MMA, 0, &o);
    if (CHECK(rc == 0 && ns == 1, "valid MMA songs: %d (want 1) %s", rc ? 0 : ns, rc ? err_msg() : "")) {
        CHECK(!strcmp(meta[0].song, "mma/a.wav") && r[0].auc[SIM_COMBINED] == 1.0, "%s: AUC %.3f", meta[0].song,
              r[0].auc[SIM_COMBINED]);
        structure_result_free(&r[0]);
        corpus_song_free(&meta[0]);
        free(r); free(meta);
    }
    rc = structure_corpus(&r, &meta, &ns, dir, SPLIT_VALID, (1u << SRC_MMA) | (1u << SRC_MODULE), 0, &o);
    if (CHECK(rc == 0 && ns == 2, "valid MMA and module songs: %d (want 2)", rc ? 0 : ns)) {
        check_close("the module song labelled A B B B: AUC", r[1].auc[SIM_COMBINED], 0.5, 1e-12, 0);
        StructureSummary sum;
        structure_summarize(&sum, r, ns, 500, 1);
        check_close("summary: mean AUC over the 2 songs", sum.auc[SIM_COMBINED].mean, 0.75, 1e-12, 0);
        CHECK(sum.auc[SIM_COMBINED].n == 2 && sum.auc[SIM_COMBINED].lo >= 0.5 && sum.auc[SIM_COMBINED].hi <= 1.0 &&
              sum.auc[SIM_COMBINED].lo < 0.75 && sum.auc[SIM_COMBINED].hi > 0.75,
              "summary: bootstrap interval [%.3f, %.3f] inside [0.5, 1] around the mean", sum.auc[SIM_COMBINED].lo,
              sum.auc[SIM_COMBINED].hi);
        CHECK(sum.si[SI_MID].n == 0 && isnan(sum.si[SI_MID].mean), "summary: SI not computed -> no songs, NAN");
        structure_summary_print(stdout, &sum);
        structure_summary_free(&sum);
        for (int i = 0; i < ns; i++) { structure_result_free(&r[i]); corpus_song_free(&meta[i]); }
        free(r); free(meta);
    }
    rc = structure_corpus(&r, &meta, &ns, dir, SPLIT_VALID, 1u << SRC_RECORDING, 0, &o);
    CHECK(rc != 0 && strstr(err_msg(), "no valid songs of the sources asked for"), "no recordings: refused: %s", err_msg());
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("  could not remove %s\n", dir);
}

int main(void) {
    test_auc();
    test_fitness();
    test_synthetic();
    test_si();
    test_corpus();
    test_mma();
    return check_summary("test_data_structure");
}
