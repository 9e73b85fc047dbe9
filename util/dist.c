// dist.c — the ranks of a data-parallel run (dist.h): the serial build's
// one rank, or (REFRAIN_MPI, `make MPI=1`) MPI's, started only when mpirun
// launched the process. Why a build option and not dlopen: dist.h.
// It owns no training logic: what is summed and when is the trainers'.
#include "util/dist.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#ifdef REFRAIN_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_started = 0;
static double g_reduce_s = 0, g_wait_s = 0;
static long g_calls = 0;

// The part of the plan that needs no MPI.
void dist_share(long n, long *lo, long *hi) {
    *lo = n * g_rank / g_size;
    *hi = n * (g_rank + 1) / g_size;
}

uint64_t dist_example_seed(uint64_t key, long g) {
    uint64_t z = key + 0x9e3779b97f4a7c15ull * (uint64_t)(g + 1);   // splitmix64's finalizer
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }

void dist_timing(double *reduce_s, double *wait_s, long *calls) {
    if (reduce_s) *reduce_s = g_reduce_s;
    if (wait_s) *wait_s = g_wait_s;
    if (calls) *calls = g_calls;
}

#ifndef REFRAIN_MPI
// ---- serial: one rank, nothing to sum -------------------------------------------------
int dist_init(void) { g_started = 1; return 0; }
const char *dist_backend(void) { return "serial"; }
int dist_allreduce_sum_float(float *x, long n) { (void)x; (void)n; return 0; }
int dist_allreduce_sum_double(double *x, long n) { (void)x; (void)n; return 0; }
int dist_bcast_float(float *x, long n) { (void)x; (void)n; return 0; }
void dist_barrier(void) {}
void dist_abort(int code) { exit(code); }
#else
// ---- MPI -------------------------------------------------------------------------------
static int g_mpi = 0, g_profile = 0;   // MPI started; REFRAIN_DIST_PROFILE set
static char g_version[MPI_MAX_LIBRARY_VERSION_STRING + 8] = "MPI";

static void finalize(void) {
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
}

// Launched by mpirun (OpenMPI, MPICH's hydra, PMIx launchers)?
static int launched(void) { return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK"); }

int dist_init(void) {
    if (g_started) return 0;
    g_started = 1;
    if (!launched()) return 0;   // a single process: no MPI runtime at all
    int provided = 0;
    // FUNNELED: OpenMP threads compute, only the main thread calls MPI.
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return err_set("dist: MPI_Init_thread failed");
    atexit(finalize);
    g_mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(v, &len);
    v[strcspn(v, ",\n")] = 0;   // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
    snprintf(g_version, sizeof g_version, "MPI (%s)", v);
    const char *p = getenv("REFRAIN_DIST_PROFILE");
    g_profile = p && *p && strcmp(p, "0") != 0;
    return 0;
}

const char *dist_backend(void) { return g_mpi ? g_version : "serial"; }

void dist_barrier(void) {
    if (g_mpi && g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
}

void dist_abort(int code) {
    if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

// x (n values of `elem` bytes) summed over the ranks: each rank sums one slice of
// c = ceil(n / size) values (MPI_Reduce_scatter_block), then every rank gathers
// every slice (MPI_Allgather): one rank computes each sum, so all get its bits.
static int allreduce(void *x, long n, size_t elem, MPI_Datatype type) {
    if (!g_mpi || g_size < 2 || n <= 0) return 0;
    static char *full = NULL, *part = NULL;   // scratch, kept between calls (the gradient's size each step)
    static size_t cap = 0;
    long c = (n + g_size - 1) / g_size;
    if (c > 0x7fffffffL) return err_set("dist: %ld values per rank is more than one MPI call carries", c);
    size_t bytes = (size_t)c * g_size * elem;
    if (bytes > cap) {
        free(full); free(part);
        full = mallocCheck(bytes);
        part = mallocCheck((size_t)c * elem);
        cap = bytes;
    }
    double t0 = now_seconds();
    if (g_profile && n > 1024) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t1 = now_seconds();
        g_wait_s += t1 - t0;
        t0 = t1;
    }
    memcpy(full, x, (size_t)n * elem);
    memset(full + (size_t)n * elem, 0, bytes - (size_t)n * elem);
    if (MPI_Reduce_scatter_block(full, part, (int)c, type, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allgather(part, (int)c, type, full, (int)c, type, MPI_COMM_WORLD) != MPI_SUCCESS)
        return err_set("dist: the sum over %d ranks failed", g_size);
    memcpy(x, full, (size_t)n * elem);
    g_reduce_s += now_seconds() - t0;
    g_calls++;
    return 0;
}

int dist_allreduce_sum_float(float *x, long n) { return allreduce(x, n, sizeof(float), MPI_FLOAT); }
int dist_allreduce_sum_double(double *x, long n) { return allreduce(x, n, sizeof(double), MPI_DOUBLE); }

int dist_bcast_float(float *x, long n) {
    if (!g_mpi || g_size < 2) return 0;
    for (long i = 0; i < n; i += 0x40000000L) {
        int k = (int)(n - i < 0x40000000L ? n - i : 0x40000000L);
        if (MPI_Bcast(x + i, k, MPI_FLOAT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return err_set("dist: the broadcast from rank 0 failed");
    }
    return 0;
}
#endif
