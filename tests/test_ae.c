// test_ae.c — the mel autoencoder (autoencoder/): the gradient of the whole
// loss against central finite differences, shapes for any length, locality of
// the windowed encoder, model files (round trip, wrong kind, wrong
// configuration), latent files, exact resume of training steps, the Jacobi
// eigensolver, and the shipped model (assets/ae.rfc) on a synthetic signal.
//
// Gradient method (tests/gradcheck.h, as tests/test_nn_grad.c): for a sample
// of coordinates of every parameter tensor, numeric = (L(w+h) - L(w-h)) /
// (w+h - (w-h)) with L summed in double from the float forward; error measure
//     nerr = sum (a - n)^2 / (sum a^2 + sum n^2)
// over the sampled coordinates (scale free, robust near zero). A self-test
// shows the measure rejects an analytic gradient that is 5% off.
#include "tests/check.h"
#include "tests/gradcheck.h"
#include "tests/tiny_models.h"
#include "autoencoder/autoencoder.h"
#include "audio/audio.h"
#include "data/corpus.h"
#include "util/stats.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static AeConfig tiny_config(void) {
    AeConfig c = ae_config_default();
    c.n_mels = 8; c.z = 4;
    c.ch[0] = 8; c.ch[1] = 8; c.ch[2] = 12;
    c.enc_res = 1; c.dec_res = 1; c.groups = 4;
    c.in_shift = 0; c.in_scale = 1;
    c.kl_weight = 0.05f;   // large enough that the KL path matters in the check
    return c;
}

// A model of configuration c, initialised from rng seeded with seed (rng
// stays usable by the caller).
static void seeded_model(Ae *m, const AeConfig *c, Rng *rng, uint64_t seed) {
    ae_create(m, c);
    rng_seed(rng, seed);
    ae_init(m, rng);
}

// The whole loss (no gradient) of the model's current weights.
typedef struct {
    const Ae *m;
    AeActs *a;
    const float *eps;
    int B, T, mse;
} AeLossCtx;
static double ae_loss_of(void *p) {
    AeLossCtx *c = p;
    AeLoss L;
    ae_loss(c->m, &c->m->params, c->a, c->eps, c->B, c->T, NULL, c->mse, &L);
    return L.loss;
}

#define PER_TENSOR 6
static void test_gradient(int mse) {
    AeConfig c = tiny_config();
    Ae m;
    Rng rng;
    seeded_model(&m, &c, &rng, 11);
    ParamSet *p = &m.params;
    // perturb every tensor (biases and norm gains too) so no gradient is trivially zero
    for (int i = 0; i < p->n; i++) {
        if (i == m.lat_mean || i == m.lat_std) continue;
        float *w = params_get(p, i);
        for (long j = 0; j < p->specs[i].size; j++) w[j] += 0.1f * rng_normal(&rng);
    }
    int B = 2, T = 24;
    AeActs a;
    ae_acts_alloc(&a, &m, B, T, 1);
    float *x = mallocCheck(sizeof(float) * B * c.n_mels * T);
    rng_fill_normal(&rng, x, (long)B * c.n_mels * T, 1.0f);
    float *eps = mallocCheck(sizeof(float) * B * c.z * (T / 4));
    rng_fill_normal(&rng, eps, (long)B * c.z * (T / 4), 1.0f);
    float *grad = optim_arena_alloc(p);
    memcpy(a.x, x, sizeof(float) * B * c.n_mels * T);
    AeLoss L;
    ae_loss(&m, p, &a, eps, B, T, grad, mse, &L);
    CHECK(isfinite(L.loss) && L.kl > 0, "%s loss finite (%.4f, rec %.4f, kl %.4f)", mse ? "MSE" : "L1", L.loss, L.rec, L.kl);

    double ana[2048], num[2048];
    int ns = 0, worst_t = -1;
    double worst = 0;
    float h = 1e-2f;
    AeLossCtx lc = {&m, &a, eps, B, T, mse};
    for (int i = 0; i < p->n && ns + PER_TENSOR <= 2048; i++) {
        if (i == m.lat_mean || i == m.lat_std) continue;
        int k = gradcheck_sample(params_get(p, i), grad + p->specs[i].offset, p->specs[i].size, PER_TENSOR,
                                 h, ae_loss_of, &lc, &rng, ana + ns, num + ns);
        double e = gradcheck_nerr(ana + ns, num + ns, k);
        if (e > worst) { worst = e; worst_t = i; }
        ns += k;
    }
    double tol = mse ? 1e-4 : 2e-3;   // L1: a few residuals cross their kink within +-h
    double e = gradcheck_nerr(ana, num, ns);
    CHECK(e < tol, "%s: whole-loss gradient, %d coordinates over %d tensors: nerr %.2e (tol %.0e); "
          "worst tensor %s %.2e", mse ? "MSE+KL" : "L1+KL", ns, p->n - 2, e, tol,
          worst_t >= 0 ? p->specs[worst_t].name : "-", worst);
    CHECK(worst < 50 * tol, "%s: every tensor's own nerr below %.0e (worst %.2e)", mse ? "MSE+KL" : "L1+KL", 50 * tol, worst);
    if (mse) {   // the measure must reject a 5% error
        double bad[2048];
        for (int i = 0; i < ns; i++) bad[i] = ana[i] * (i % 2 ? 1.05 : 0.95);
        double eb = gradcheck_nerr(bad, num, ns);
        CHECK(eb > tol, "self-test: a gradient 5%% off gives nerr %.2e > tol", eb);
    }
    free(grad); free(x); free(eps);
    ae_acts_free(&a);
    ae_free(&m);
}

static float *synth_logmel(long T, int M, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    float *lm = mallocCheck(sizeof(float) * T * M);
    for (long t = 0; t < T; t++)
        for (int k = 0; k < M; k++)
            lm[t * M + k] = -5.0f + 2.0f * sinf(0.05f * t + 0.3f * k) + 0.3f * rng_normal(&r);
    return lm;
}

// n songs of synthetic log-mel held as the corpus loader holds them (no
// sections): song i has T0 + dT * i frames of M bands, seed seed0 + i.
static SongSet synth_songs(int n, long T0, long dT, int M, uint64_t seed0) {
    SongSet s = {callocCheck(n, sizeof(LoadedSong)), n, 0};
    for (int i = 0; i < n; i++) {
        s.songs[i].meta.n_frames = (int32_t)(T0 + dT * i);
        s.songs[i].mel = synth_logmel(T0 + dT * i, M, seed0 + i);
    }
    return s;
}

static void test_shapes(void) {
    AeConfig c = tiny_config();
    Ae m;
    Rng rng;
    seeded_model(&m, &c, &rng, 5);
    long lens[] = {1, 2, 5, 37, 321, 330, 1001};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        long T = lens[i], Tl = ae_latent_frames(T);
        float *lm = synth_logmel(T, c.n_mels, 100 + i);
        float *lat = mallocCheck(sizeof(float) * (Tl + 1) * c.z);
        float *out = mallocCheck(sizeof(float) * (T + 1) * c.n_mels);
        lat[Tl * c.z] = 12345.f; out[T * c.n_mels] = 12345.f;   // guards past the end
        int rc = ae_encode(&m, lm, T, lat, 1) | ae_decode(&m, lat, Tl, out, T, 1);
        int finite = 1;
        for (long j = 0; j < T * c.n_mels; j++) finite &= isfinite(out[j]) != 0;
        CHECK(rc == 0 && finite && lat[Tl * c.z] == 12345.f && out[T * c.n_mels] == 12345.f,
              "T %ld -> %ld latent frames -> %ld mel frames, all finite, nothing written past the end", T, Tl, T);
        free(lm); free(lat); free(out);
    }
    CHECK(ae_decode(&m, NULL, 3, NULL, 20, 1) != 0, "decode refuses 3 latent frames for 20 mel frames: %s", err_msg());

    // locality: the first windows' latents do not depend on audio far after them
    long T1 = 1100, T2 = 700;
    float *lm = synth_logmel(T1, c.n_mels, 7);
    float *l1 = mallocCheck(sizeof(float) * ae_latent_frames(T1) * c.z);
    float *l2 = mallocCheck(sizeof(float) * ae_latent_frames(T2) * c.z);
    ae_encode(&m, lm, T1, l1, 1);
    ae_encode(&m, lm, T2, l2, 1);
    check_max_diff("windowed encode: latents of frames [0, 512) equal for a 1100- and a 700-frame song",
                   l1, l2, (2 * AE_WIN / 4) * c.z, 1e-5);
    float *d1 = mallocCheck(sizeof(float) * T1 * c.n_mels), *d2 = mallocCheck(sizeof(float) * T2 * c.n_mels);
    ae_decode(&m, l1, ae_latent_frames(T1), d1, T1, 1);
    ae_decode(&m, l1, ae_latent_frames(T2), d2, T2, 1);
    check_max_diff("windowed decode: frames [0, 512) equal when decoding a prefix of the latents",
                   d1, d2, 2 * AE_WIN * c.n_mels, 1e-4);
    free(lm); free(l1); free(l2); free(d1); free(d2);
    ae_free(&m);
}

static void test_files(void) {
    AeConfig c = tiny_config();
    Ae m, m2, m3;
    Rng rng;
    seeded_model(&m, &c, &rng, 9);
    float *mean = params_get(&m.params, m.lat_mean), *sd = params_get(&m.params, m.lat_std);
    for (int i = 0; i < c.z; i++) { mean[i] = 0.1f * i; sd[i] = 1.0f + i; }
    m.has_stats = 1;
    char path[64], path2[64], lpath[64];
    snprintf(path, sizeof path, "/tmp/test_ae_%d.rfc", (int)getpid());
    snprintf(path2, sizeof path2, "/tmp/test_ae_%d_dit.rfc", (int)getpid());
    snprintf(lpath, sizeof lpath, "/tmp/test_ae_%d.lat", (int)getpid());
    CHECK(ae_save(&m, path) == 0, "save a model");
    CHECK(ae_load(&m2, path, NULL) == 0, "load it back: %s", err_msg());
    CHECK(m2.has_stats && m2.params.total == m.params.total &&
          memcmp(m2.params.data, m.params.data, sizeof(float) * m.params.total) == 0,
          "loaded weights and latent statistics are identical");
    ae_free(&m2);

    AeConfig other = c;
    other.z = 6;
    err_clear();
    int rc = ae_load(&m3, path, &other);
    CHECK(rc != 0 && strstr(err_msg(), "'z'") != NULL,
          "a checkpoint of another configuration (z 4, expected 6) is refused: %s", err_msg());
    other = c;
    other.ch[2] = 16;
    rc = ae_load(&m3, path, &other);
    CHECK(rc != 0 && strstr(err_msg(), "ch2") != NULL, "another width is refused: %s", err_msg());

    Hparams hp;
    ae_config_to_hparams(&c, &hp);
    checkpoint_save(path2, "dit", &hp, &m.params, NULL);
    rc = ae_load(&m3, path2, NULL);
    CHECK(rc != 0 && strstr(err_msg(), "autoencoder") != NULL, "a checkpoint of another kind is refused: %s", err_msg());
    rc = ae_load(&m3, "/tmp/no/such/ae.rfc", NULL);
    CHECK(rc != 0, "a missing file is refused: %s", err_msg());

    float lat[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, *back = NULL;
    long Tl = 0, T = 0;
    int Z = 0;
    CHECK(latents_write(lpath, lat, 3, 4, 11) == 0 && latents_read(lpath, &back, &Tl, &Z, &T) == 0 &&
          Tl == 3 && Z == 4 && T == 11 && memcmp(back, lat, sizeof lat) == 0, "latent file round trip (3 x 4, T 11)");
    free(back);
    CHECK(latents_read(path, &back, &Tl, &Z, &T) != 0, "a model file is not a latent file: %s", err_msg());
    unlink(path); unlink(path2); unlink(lpath);
    ae_free(&m);
}

// Three steps, save, three more == six uninterrupted (bit-identical losses).
static void test_resume(void) {
    AeConfig c = tiny_config();
    SongSet s = synth_songs(2, 200, 50, c.n_mels, 40);
    double la[6], lb[6];
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_ae_resume_%d.rfc", (int)getpid());
    for (int run = 0; run < 2; run++) {
        Ae m;
        Rng init;
        seeded_model(&m, &c, &init, 3);
        OptimConfig oc = optim_config_default();
        oc.lr = 1e-3f; oc.warmup_steps = 2; oc.total_steps = 6;
        TrainState st;
        train_state_init(&st, &m.params, &oc, 77);
        AeActs a;
        ae_acts_alloc(&a, &m, 3, 32, 1);
        float *grad = optim_arena_alloc(&m.params);
        Hparams hp;
        ae_config_to_hparams(&c, &hp);
        hparams_set_int(&hp, "latent_stats", 0);
        for (int step = 0; step < 6; step++) {
            if (run == 1 && step == 3) {   // reload everything from the file, as --resume does
                train_state_free(&st);
                ae_free(&m);
                ae_create(&m, &c);
                train_state_init(&st, &m.params, &oc, 1);
                if (checkpoint_load(path, AE_KIND, &hp, &m.params, &st)) printf("%s\n", err_msg());
            }
            AeAugment aug = {6, 0.5f, 0};
            ae_sample_batch(&m, &a, &s, &st.rng, 3, 32, &aug);
            rng_fill_normal(&st.rng, a.eps, 3L * c.z * 8, 1.0f);
            memset(grad, 0, sizeof(float) * m.params.total);
            AeLoss L;
            ae_loss(&m, &m.params, &a, a.eps, 3, 32, grad, 0, &L);
            optim_step(&m.params, grad, &st, (float)L.loss, NULL);
            (run ? lb : la)[step] = L.loss;
            if (run == 1 && step == 2) checkpoint_save(path, AE_KIND, &hp, &m.params, &st);
        }
        free(grad);
        ae_acts_free(&a);
        train_state_free(&st);
        ae_free(&m);
    }
    CHECK(memcmp(la, lb, sizeof la) == 0, "resume after 3 steps: losses of steps 4-6 bit-identical "
          "(%.9f %.9f %.9f vs %.9f %.9f %.9f)", la[3], la[4], la[5], lb[3], lb[4], lb[5]);
    CHECK(la[5] < la[0], "six steps lower the loss (%.4f -> %.4f)", la[0], la[5]);
    unlink(path);
    songset_free(&s);
}

// train-ae end to end on a tiny corpus written here (3 training and 2
// validation songs of noise-plus-pattern log-mel): it trains, resumes, and
// refuses a resume whose augmentation differs from the checkpoint's record.
// Song i: 300 + 20 i frames of synth_logmel (seed 500 + i), no sections.
static int write_song_shard(const char *dir, const char *id, int i) {
    long T = 300 + 20 * i;
    float *mel = synth_logmel(T, N_MELS, 500 + (uint64_t)i);
    int rc = tiny_shard_write(dir, id, T, mel, NULL, 0);
    free(mel);
    return rc;
}

// The step column of a train-ae log (<out>.tsv), header skipped; -1 when unreadable.
static int log_steps(const char *path, long *steps, int cap) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    if (fgets(line, sizeof line, f))
        while (n < cap && fgets(line, sizeof line, f)) steps[n++] = strtol(line, NULL, 10);
    fclose(f);
    return n;
}

static void test_train_cli_resume(void) {
    char dir[128], cmd[300], out[256];
    snprintf(dir, sizeof dir, "/tmp/test_ae_train_%d", (int)getpid());
    if (tiny_corpus_write(dir, 3, 2, write_song_shard)) { CHECK(0, "shard: %s", err_msg()); return; }
    AeConfig c = tiny_ae_config(4);
    AeTrainOpts o;
    ae_train_defaults(&o);
    snprintf(out, sizeof out, "%s/ck.rfc", dir);
    o.data = dir; o.out = out; o.export_path = NULL;
    o.steps = 4; o.batch = 2; o.crop = 32; o.warmup = 1; o.val_every = 2;
    int rc = ae_train(&o, &c);
    CHECK(rc == 0, "train-ae runs 4 steps on a tiny corpus of 3 training and 2 validation songs (%s)", rc ? err_msg() : "ok");
    Hparams hp;
    double g = -1, mx = -1;
    rc = checkpoint_read_hparams(out, AE_KIND, &hp) || hparams_get_float(&hp, "aug_gain_db", &g) ||
         hparams_get_float(&hp, "aug_mix", &mx);
    CHECK(rc == 0 && (float)g == o.aug.gain_db && (float)mx == o.aug.mix,
          "the checkpoint records the augmentation (gain %g dB, mix %g)", g, mx);
    o.resume = 1; o.steps = 6;
    float gain = o.aug.gain_db;
    o.aug.gain_db = gain + 3;
    rc = ae_train(&o, &c);
    CHECK(rc != 0 && strstr(err_msg(), "--gain-db") && strstr(err_msg(), "ck.rfc"),
          "a resume with another --gain-db is refused: %s", rc ? err_msg() : "it ran");
    o.aug.gain_db = gain;
    o.aug.tilt_db = 2;
    rc = ae_train(&o, &c);
    CHECK(rc != 0 && strstr(err_msg(), "--tilt-db"), "a resume with another --tilt-db is refused: %s", rc ? err_msg() : "it ran");
    o.aug.tilt_db = 0;
    // as if the first run had gone on past its last checkpoint (step 4) before it was killed
    char tsv[300];
    snprintf(tsv, sizeof tsv, "%s.tsv", out);
    FILE *f = fopen(tsv, "a");
    if (f) { fputs("5\t1.0\t0.5\t0.5\t1.0\t1e-4\t0.1\n6\t1.1\t0.5\t0.5\t1.0\t1e-4\t0.1\n", f); fclose(f); }
    rc = ae_train(&o, &c);
    long steps[16];
    int nrows = log_steps(tsv, steps, 16), in_order = nrows == 6;
    for (int i = 0; i < nrows && in_order; i++) in_order = steps[i] == i + 1;
    CHECK(in_order, "the resumed run's log holds steps 1..6 once each, the rows past the checkpoint dropped "
          "(%d rows, last %ld)", nrows, nrows > 0 ? steps[nrows - 1] : -1L);
    Ae m;
    ae_create(&m, &c);
    OptimConfig oc = optim_config_default();
    TrainState st;
    train_state_init(&st, &m.params, &oc, 1);
    int loaded = rc == 0 && checkpoint_load(out, AE_KIND, NULL, &m.params, &st) == 0;
    CHECK(loaded && st.step == 6, "the same settings resume it to step 6 (%s, step %ld)", loaded ? "ok" : err_msg(), st.step);
    train_state_free(&st);
    ae_free(&m);
    rc = ae_load(&m, out, NULL);
    CHECK(rc == 0, "a training checkpoint with the record still loads as a model (%s)", rc ? err_msg() : "ok");
    if (!rc) ae_free(&m);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) printf("note: could not remove %s\n", dir);
}

static void test_jacobi(void) {
    // A = Q diag(5, 2, 1, 0.5) Q^T for a rotation Q: the eigenvalues come back
    int n = 4;
    double want[4] = {5, 2, 1, 0.5}, Q[16], A[16], ev[4], V[16];
    Rng r;
    rng_seed(&r, 4);
    for (int i = 0; i < 16; i++) Q[i] = rng_normal(&r);
    for (int i = 0; i < n; i++) {   // Gram-Schmidt on rows
        for (int j = 0; j < i; j++) {
            double d = 0;
            for (int k = 0; k < n; k++) d += Q[i * n + k] * Q[j * n + k];
            for (int k = 0; k < n; k++) Q[i * n + k] -= d * Q[j * n + k];
        }
        double nn = 0;
        for (int k = 0; k < n; k++) nn += Q[i * n + k] * Q[i * n + k];
        for (int k = 0; k < n; k++) Q[i * n + k] /= sqrt(nn);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += Q[k * n + i] * want[k] * Q[k * n + j];
            A[i * n + j] = s;
        }
    jacobi_eigen(A, n, ev, V);
    double e = 0, align = 0;
    for (int i = 0; i < n; i++) {
        e = fmax(e, fabs(ev[i] - want[i]));
        double d = 0;
        for (int k = 0; k < n; k++) d += V[i * n + k] * Q[i * n + k];
        align = fmax(align, 1 - fabs(d));
    }
    CHECK(e < 1e-10 && align < 1e-10, "Jacobi eigen: eigenvalues within %.1e, eigenvectors aligned within %.1e", e, align);
}

// With the linear paths started at a stacked PCA, the untrained model
// reconstructs exactly what that PCA reconstructs (the convolutional paths
// start silent), for a crop aligned to the 4-frame grid.
static void test_pca_init(void) {
    AeConfig c = ae_config_default();
    c.z = 6; c.ch[0] = 8; c.ch[1] = 8; c.ch[2] = 8; c.groups = 4;
    SongSet s = synth_songs(2, 300, 41, N_MELS, 60);
    PcaBaseline pca;
    int rc = pca_fit(&pca, &s, c.z, 1, 1);
    CHECK(rc == 0 && pca.D == 4 * N_MELS, "stacked PCA fit (%d of %d components)", c.z, pca.D);
    Ae m;
    Rng rng;
    seeded_model(&m, &c, &rng, 2);
    CHECK(ae_init_pca(&m, &pca) == 0, "ae_init_pca");
    int T = 64;
    AeActs a;
    ae_acts_alloc(&a, &m, 1, T, 1);
    const float *crop = s.songs[1].mel + 40L * N_MELS;   // frames [40, 104) of song 1
    ae_load_input(&m, &a, 0, crop, T);
    AeLoss L;
    ae_loss(&m, &m.params, &a, NULL, 1, T, NULL, 0, &L);
    float *want = mallocCheck(sizeof(float) * T * N_MELS), *got = mallocCheck(sizeof(float) * T * N_MELS);
    pca_reconstruct(&pca, crop, T, want);
    const float *y = ae_output(&m, &a);                           // (1, M, T), normalized
    for (int t = 0; t < T; t++)
        for (int k = 0; k < N_MELS; k++) got[t * N_MELS + k] = y[(long)k * T + t] / c.in_scale + c.in_shift;
    check_max_diff("untrained model with PCA-initialised linear paths == stacked PCA reconstruction", got, want,
                   (long)T * N_MELS, 2e-3);
    double mae = 0;
    for (long i = 0; i < (long)T * N_MELS; i++) mae += fabs((double)want[i] - crop[i]);
    CHECK(mae / (T * N_MELS) < 0.3, "the PCA reconstruction itself is close to the input (MAE %.3f)", mae / (T * N_MELS));
    free(want); free(got);
    ae_acts_free(&a);
    ae_free(&m);
    pca_free(&pca);
    songset_free(&s);
}

// The shipped model on a synthetic test signal, 3 s: three harmonic notes
// (220, 262, 330 Hz; 6 partials; 5 Hz vibrato), one a second, and a 0.2 s
// noise burst. Out of the training distribution on purpose (no instrument).
// Measured: 0.339 with the shipped assets/ae.rfc (50,000 steps), 0.369 with
// the 8,000-step model it replaced, 0.452 with the first (z 24).
#define SHIPPED_MAE_TOL 0.40
static void test_shipped(void) {
    const char *path = "assets/ae.rfc";
    if (access(path, R_OK) != 0) {
        CHECK(0, "shipped model %s is missing (train with 'refrain train-ae --export %s')", path, path);
        return;
    }
    Ae m;
    CHECK(ae_load(&m, path, NULL) == 0, "assets/ae.rfc loads: %s", err_msg());
    if (!m.params.data) return;
    AeConfig d = ae_config_default();
    CHECK(m.cfg.n_mels == N_MELS && m.cfg.z == d.z && m.has_stats, "shipped model: %d mels, %d latent channels, latent statistics present",
          m.cfg.n_mels, m.cfg.z);
    long n = 3 * SAMPLE_RATE;
    float *x = mallocCheck(sizeof(float) * n);
    Rng r;
    rng_seed(&r, 1);
    const double f0[3] = {220.0, 261.63, 329.63};
    for (long i = 0; i < n; i++) {
        double t = (double)i / SAMPLE_RATE, s = 0;
        int seg = (int)(t / 1.0);
        for (int h = 1; h <= 6; h++)
            s += 0.15 / h * sin(2 * M_PI * f0[seg] * h * t + 0.3 * sin(2 * M_PI * 5 * t));
        if (t > 1.4 && t < 1.6) s += 0.2 * rng_normal(&r);
        x[i] = (float)s;
    }
    float *lm = NULL;
    long T = 0;
    logmel_from_audio(&lm, &T, x, n);
    long Tl = ae_latent_frames(T);
    float *lat = mallocCheck(sizeof(float) * Tl * m.cfg.z), *y = mallocCheck(sizeof(float) * T * N_MELS);
    int rc = ae_encode(&m, lm, T, lat, 1) | ae_decode(&m, lat, Tl, y, T, 1);
    double mae = 0, lsd = 0, lss = 0;
    for (long i = 0; i < T * N_MELS; i++) mae += fabs((double)y[i] - lm[i]);
    mae /= (double)(T * N_MELS);
    for (long i = 0; i < Tl * m.cfg.z; i++) { lsd += lat[i]; lss += (double)lat[i] * lat[i]; }
    double lmean = lsd / (Tl * m.cfg.z), lrms = sqrt(lss / (Tl * m.cfg.z));
    CHECK(rc == 0 && mae < SHIPPED_MAE_TOL, "shipped model reconstructs a 3 s synthetic signal (%ld frames): "
          "log-mel MAE %.3f (tol %.2f)", T, mae, SHIPPED_MAE_TOL);
    CHECK(lrms > 0.2 && lrms < 5, "its unit-scale latents have RMS %.2f (mean %.2f)", lrms, lmean);
    free(x); free(lm); free(lat); free(y);
    ae_free(&m);
}

// Training augmentation in the mel magnitude domain: a gain g adds log g to
// every value above the floor; summing a crop with itself adds log 2; silence
// (the floor) is neutral in a sum and stays the floor under any gain.
static void test_augment(void) {
    const float fl = logf(LOG_FLOOR);
    const float one[4] = {1, 1, 1, 1};
    float x[4] = {-2.0f, 0.5f, fl, fl}, o[4] = {-2.0f, fl, 1.0f, fl};
    ae_augment_crop(x, o, 1, 4, one, one);
    CHECK(fabsf(x[0] - (-2.0f + logf(2.0f))) < 1e-5f && fabsf(x[1] - 0.5f) < 1e-6f && fabsf(x[2] - 1.0f) < 1e-6f &&
          x[3] == fl, "mix: x+x adds log 2 (%.5f), x+silence = x (%.5f, %.5f), silence+silence = floor (%.3f)",
          x[0], x[1], x[2], x[3]);
    float y[6] = {-3.0f, 2.0f, fl, -3.0f, 2.0f, 1.0f}, g[3] = {0.5f, 0.5f, 2.0f};   // 2 frames x 3 bands
    ae_augment_crop(y, NULL, 2, 3, g, NULL);
    CHECK(fabsf(y[0] - (-3.0f + logf(0.5f))) < 1e-5f && fabsf(y[1] - (2.0f + logf(0.5f))) < 1e-5f && y[2] == fl &&
          fabsf(y[3] - y[0]) < 1e-6f && fabsf(y[5] - (1.0f + logf(2.0f))) < 1e-5f,
          "per-band gains: 0.5 shifts by log 0.5 (%.5f, %.5f) in every frame, 2 by log 2 (%.5f), floor stays (%.3f)",
          y[0], y[1], y[5], y[2]);
    float z[1] = {fl + 1.0f}, tiny[1] = {1e-3f};
    ae_augment_crop(z, NULL, 1, 1, tiny, NULL);
    CHECK(z[0] == fl, "a gain that pushes a value under the floor clamps it to the floor (%.3f)", z[0]);

    // ae_sample_batch with tilt only, on a flat song: each crop's offset is a
    // straight line over the bands, within +-tilt_db at the ends, and the
    // crops do not all share one tilt.
    AeConfig c = tiny_config();   // 8 bands, input x = log-mel (shift 0, scale 1)
    Ae m;
    Rng rng;
    seeded_model(&m, &c, &rng, 9);
    long T = 64;
    float *flat = mallocCheck(sizeof(float) * T * c.n_mels);
    for (long i = 0; i < T * c.n_mels; i++) flat[i] = -2.0f;
    LoadedSong song;
    memset(&song, 0, sizeof song);
    song.meta.n_frames = (int32_t)T;
    song.mel = flat;
    SongSet s = {&song, 1, 0};
    AeActs a;
    ae_acts_alloc(&a, &m, 4, 16, 0);
    AeAugment aug = {0, 0, 6};
    ae_sample_batch(&m, &a, &s, &rng, 4, 16, &aug);
    double worst_line = 0, worst_end = 0, lo = 1e9, hi = -1e9, lim = 6.0 / 20 * log(10.0);
    int M = c.n_mels;
    for (int b = 0; b < 4; b++) {
        const float *xb = a.x + (long)b * M * 16;   // (M, T)
        double bot = xb[0] + 2.0, top = xb[(long)(M - 1) * 16] + 2.0;
        for (int k = 0; k < M; k++) {
            double want = bot + (top - bot) * k / (M - 1);
            for (int t = 0; t < 16; t++) worst_line = fmax(worst_line, fabs(xb[(long)k * 16 + t] + 2.0 - want));
        }
        worst_end = fmax(worst_end, fmax(fabs(bot), fabs(top)));
        if (fabs(top + bot) > 1e-4) worst_line = fmax(worst_line, fabs(top + bot));   // antisymmetric about the middle
        lo = fmin(lo, top); hi = fmax(hi, top);
    }
    CHECK(worst_line < 1e-4 && worst_end <= lim + 1e-5 && hi - lo > 0.05,
          "tilt: a line through the middle band (off by %.1e), ends within +-%.3f (%.3f), differing per crop (top %.3f..%.3f)",
          worst_line, lim, worst_end, lo, hi);
    ae_acts_free(&a);
    free(flat);
    ae_free(&m);
}

int main(int argc, char **argv) {
    nn_set_threads(1);
    test_gradient(1);
    test_gradient(0);
    test_shapes();
    test_files();
    test_resume();
    test_train_cli_resume();
    test_augment();
    test_jacobi();
    test_pca_init();
    if (!(argc > 1 && strcmp(argv[1], "--no-shipped") == 0)) test_shipped();
    return check_summary("test_ae");
}
