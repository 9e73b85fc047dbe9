// test_dist — util/dist's serial build and the rank-independent data plan:
//   - one rank: rank 0 of 1, sums and the broadcast leave their input alone,
//     the share of n items is all of them;
//   - the plan: every way of cutting a global batch into N contiguous shares
//     (N = 1..8, what dist_share computes for each rank) covers each example
//     once, sizes within one; example seeds differ by example and by step key.
// That N ranks train as one does is tests/cli_mpi.sh's (mpirun, the MPI build).
// `test_dist --write-corpus DIR` writes the tiny corpus (8 songs of synthetic
// log-mel with verse/chorus sections, 6 training and 2 validation) and a tiny
// autoencoder DIR/ae.rfc (widths 8, z 32 as train-diffusion expects), for
// tests/cli_mpi.sh and bench/mpi.sh; `test_dist --compare A B TOL` prints the
// largest difference between two checkpoints' weights, and fails above TOL.
#include "tests/check.h"
#include "tests/tiny_models.h"
#include "autoencoder/autoencoder.h"
#include "data/corpus.h"
#include "diffusion/diffusion.h"
#include "audio/audio.h"
#include "util/dist.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---- the tiny corpus (tests/tiny_models.h) ----------------------------------------------------
static int write_corpus(const char *dir) {
    if (tiny_corpus_write(dir, 6, 2, tiny_verse_chorus_song)) return -1;
    // z: train-diffusion's default latent width (its command line takes the denoiser's z from there)
    AeConfig c = tiny_ae_config(denoiser_config_default().z);
    Ae m;
    if (ae_create(&m, &c)) return -1;
    Rng r;
    rng_seed(&r, 5);
    ae_init(&m, &r);
    char path[512];
    snprintf(path, sizeof path, "%s/ae.rfc", dir);
    int rc = ae_save(&m, path);
    ae_free(&m);
    return rc;
}

// ---- the serial build and the plan ----------------------------------------------------------
static void test_serial(void) {
    CHECK(dist_init() == 0 && dist_init() == 0, "dist_init, twice");
    CHECK(dist_rank() == 0 && dist_size() == 1 && !strcmp(dist_backend(), "serial"),
          "one rank: rank %d of %d, backend %s", dist_rank(), dist_size(), dist_backend());
    float x[3] = {1.5f, -2.f, 1e-30f}, x0[3];
    double d[2] = {0.1, 3}, d0[2];
    memcpy(x0, x, sizeof x); memcpy(d0, d, sizeof d);
    int rc = dist_allreduce_sum_float(x, 3) | dist_allreduce_sum_double(d, 2) | dist_bcast_float(x, 3);
    dist_barrier();
    CHECK(rc == 0 && !memcmp(x, x0, sizeof x) && !memcmp(d, d0, sizeof d), "sums and broadcast of one rank change nothing");
    long lo, hi;
    dist_share(13, &lo, &hi);
    CHECK(lo == 0 && hi == 13, "one rank's share of 13 items: [%ld, %ld)", lo, hi);
}

// dist_share's formula for rank r of N (the same expression, outside the one-rank build).
static void share_of(long n, int r, int N, long *lo, long *hi) { *lo = n * r / N; *hi = n * (r + 1) / N; }

static void test_plan(void) {
    int ok = 1;
    for (int N = 1; N <= 8 && ok; N++)
        for (long B = N; B <= 40 && ok; B++) {
            long next = 0, mn = B, mx = 0;
            for (int r = 0; r < N; r++) {
                long lo, hi;
                share_of(B, r, N, &lo, &hi);
                ok &= lo == next;
                next = hi;
                if (hi - lo < mn) mn = hi - lo;
                if (hi - lo > mx) mx = hi - lo;
            }
            ok &= next == B && mx - mn <= 1 && mn >= 1;
        }
    CHECK(ok, "N = 1..8 ranks, global batch N..40: contiguous shares cover every example once, sizes within one");
    int distinct = 1;
    uint64_t seen[64];
    for (int k = 0; k < 2; k++)
        for (int g = 0; g < 32; g++) {
            seen[k * 32 + g] = dist_example_seed(k ? 0x1234 : 0x1235, g);
            for (int j = 0; j < k * 32 + g; j++) distinct &= seen[j] != seen[k * 32 + g];
        }
    CHECK(distinct, "64 example seeds (2 step keys x 32 examples) all differ");
}

// ---- two checkpoints' weights ------------------------------------------------------------
static uint8_t *slurp_file(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = mallocCheck(*n > 0 ? *n : 1);
    if ((long)fread(b, 1, *n, f) != *n) { free(b); b = NULL; }
    fclose(f);
    return b;
}

// The largest difference between the model weights (tensors not named adam.* or ema/*)
// of two checkpoints of one layout (nn/checkpoint.h's table); prints it and the
// tensor it is in; exit status 1 above tol (absolute).
static int compare(const char *pa, const char *pb, double tol) {
    long na, nb;
    uint8_t *a = slurp_file(pa, &na), *b = slurp_file(pb, &nb);
    if (!a || !b || na != nb || na < 4096) { printf("cannot compare %s and %s\n", pa, pb); return 1; }
    uint32_t nt;
    memcpy(&nt, a + 16, 4);
    double dmax = 0, wmax = 0;
    char where[97] = "-";
    long nval = 0, ntens = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const uint8_t *e = a + 4096 + 136L * i, *eb = b + 4096 + 136L * i;
        uint64_t bytes, off;
        memcpy(&bytes, e + 120, 8);
        memcpy(&off, e + 128, 8);
        if (memcmp(e, eb, 136) || off + bytes > (uint64_t)na) { printf("tensor %u differs in layout\n", i); return 1; }
        if (!strncmp((const char *)e, "adam.", 5) || !strncmp((const char *)e, "ema/", 4)) continue;
        ntens++;
        for (uint64_t k = 0; k < bytes / 4; k++) {
            float x, y;
            memcpy(&x, a + off + 4 * k, 4);
            memcpy(&y, b + off + 4 * k, 4);
            double d = isnan(x) || isnan(y) ? INFINITY : fabs((double)x - y);
            if (d > dmax) { dmax = d; snprintf(where, sizeof where, "%.96s", (const char *)e); }
            if (fabs(x) > wmax) wmax = fabs(x);
            nval++;
        }
    }
    printf("%ld weights in %ld tensors: max |difference| %.3g (in %s; largest |weight| %.3g), tolerance %.3g\n", nval,
           ntens, dmax, where, wmax, tol);
    free(a); free(b);
    return dmax <= tol ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-corpus")) {
        if (write_corpus(argv[2])) { fprintf(stderr, "test_dist: %s\n", err_msg()); return 1; }
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "--compare")) return compare(argv[2], argv[3], atof(argv[4]));
    test_serial();
    test_plan();
    return check_summary("test_dist");
}
