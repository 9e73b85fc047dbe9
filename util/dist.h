// dist — data-parallel training across processes (issue 16), the one place
// refrain touches MPI: rank and size, the sums the trainers need, and the
// rank-independent data plan (which examples of a step's global batch a rank
// takes, and each example's own random stream).
//
// How a run splits (llm.c's scheme, on CPUs): every rank holds the whole model
// and the same optimizer state; at each step the global batch of B examples is
// cut into contiguous shares (dist_share), each rank computes the loss and the
// gradient of its share, the gradients are summed (dist_allreduce_sum_float,
// weighted so the sum is the global batch's mean), and every rank then takes
// the same AdamW step. Example g of step s draws from its own stream
// (dist_example_seed(key_s, g), key_s one draw of the run's Rng per step), so
// the global batch at step s is the same set of examples for any number of
// ranks, and a checkpoint (step + Rng) resumes under any other number of ranks.
// N ranks equal one rank up to the order of float sums.
//
// Build option, not dlopen: the default build compiles this file's serial
// branch (rank 0 of 1, sums are no-ops, no MPI at build or run time);
// `make MPI=1` (or the $(BUILD)/refrain-mpi target) compiles it with
// -DREFRAIN_MPI against Debian's OpenMPI and links libmpi. Not dlopen,
// because MPI's ABI is not standard: MPI_Comm, MPI_FLOAT and MPI_SUM are
// OpenMPI's pointers to its own global objects (ompi_mpi_comm_world, ...) but
// MPICH's integer constants, so loading libmpi at run time means copying one
// implementation's handle layout into refrain and trusting it across versions;
// mpi.h at build time is the interface MPI actually promises. Even the MPI
// build calls no MPI function (and starts no MPI runtime) unless it was
// launched by mpirun (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK set).
//
// Sums are reduce-scatter + all-gather (the ring all-reduce's two halves):
// each slice is summed once, on one rank, and copied to the others, so every
// rank gets the same bits and the replicas never drift apart (MPI_Allreduce
// does not promise identical results on every rank).
#ifndef REFRAIN_DIST_H
#define REFRAIN_DIST_H

#include <stdint.h>

// Starts MPI when launched by mpirun (MPI build), once; later calls return at
// once. MPI is finalized at exit. Returns 0, or -1 with err_set().
int dist_init(void);
int dist_rank(void);             // 0 .. size-1 (0 before dist_init)
int dist_size(void);             // ranks (1 before dist_init, and always in the serial build)
const char *dist_backend(void);  // "serial", or "MPI (<library version>)"

// In-place sums over all ranks; every rank gets the same bits. No-ops with one rank.
// Return 0, or -1 with err_set().
int dist_allreduce_sum_float(float *x, long n);
int dist_allreduce_sum_double(double *x, long n);
// Rank 0's x to every rank.
int dist_bcast_float(float *x, long n);
void dist_barrier(void);
// Ends every rank at once (MPI_Abort) after a failure only this rank saw; exit(code) with one rank.
void dist_abort(int code) __attribute__((noreturn));

// Time spent in the sums above since dist_init (seconds), and calls. With
// REFRAIN_DIST_PROFILE=1 in the environment each sum of more than 1,024 values
// first waits at a barrier, and that wait (the other ranks still computing) is
// counted in *wait_s instead, so *reduce_s is the transfer alone.
void dist_timing(double *reduce_s, double *wait_s, long *calls);

// ---- the rank-independent data plan ----------------------------------------------------
// This rank's share [*lo, *hi) of n items: contiguous, sizes differing by at most one.
void dist_share(long n, long *lo, long *hi);
// The seed of example g's own Rng at the step whose key is key (rng_seed it).
uint64_t dist_example_seed(uint64_t key, long g);

#endif
