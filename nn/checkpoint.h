// checkpoint — refrain's model files: a ParamSet's tensors, the model's
// hyperparameters, and optionally the TrainState (step, RNG, AdamW config,
// Adam m and v, EMA), so that training resumes bit-exactly. It owns the file
// format and its checks; it does not know any particular model (the caller
// passes the kind string, the hyperparameters and the ParamSet).
//
// File format, version 1, all integers and floats little-endian:
//
//   offset  size  field
//   0       4     magic "RFRN"
//   4       4     u32 format version (CKPT_VERSION)
//   8       4     u32 header bytes (4096)
//   12      4     u32 number of key/value entries used (<= 64)
//   16      4     u32 number of tensors
//   20      4     u32 flags (bit 0: training state present)
//   24      8     u64 file bytes, checksum included
//   32      16    kind, NUL-padded ("dit", "autoencoder", ...)
//   48      64x48 key/value entries: char key[32], u32 type (1 int64, 2 float64),
//                 u32 0, 8-byte value; the model's hyperparameters, then the
//                 training fields ("train.step", "train.rng0", ..., "train.lr", ...)
//   ...     ...   zeros up to 4096
//   4096    Nx136 tensor table: char name[96], u32 dtype (0 = float32, 1 = float16),
//                 u32 ndim, u32 shape[4] (unused dims 0), u64 byte size, u64 file offset
//   ...           payload: each tensor's data at a 64-byte aligned offset (float16:
//                 IEEE binary16, rounded to nearest even; weights-only files only,
//                 converted to float32 on loading)
//   end-8   8     u64 CRC-32 (zlib's crc32, zero-extended) of every byte before it
//
// Tensor names: the ParamSet's own names for the weights; with training
// state also "adam.m/<name>", "adam.v/<name>" and "ema/<name>".
//
// Files are written to a temporary name and renamed into place (util.h
// atomic_open), so a crash or a full disk never leaves a partial checkpoint.
// Loading reads the whole file into one buffer, checks magic, version, size,
// checksum, kind, hyperparameters and every tensor's name, shape and byte size
// before it copies anything: on any error the destination is left untouched
// and err_msg() says which check failed, expected vs found, and a hint.
#ifndef REFRAIN_NN_CHECKPOINT_H
#define REFRAIN_NN_CHECKPOINT_H

#include <stdint.h>

#include "nn/optim.h"
#include "nn/params.h"

#define CKPT_VERSION 1
#define CKPT_KIND_MAX 16     // kind string, NUL included
#define HP_KEY_MAX 32        // hyperparameter key, NUL included
#define HP_MAX 40            // model hyperparameters per checkpoint

// ---- hyperparameters: named integers and floats ------------------------------------
// A model describes its configuration here; checkpoint_load compares it with
// the file's, key by key, and names the first one that differs.
typedef struct {
    char key[HP_KEY_MAX];
    int is_float;
    int64_t i;
    double f;
} HparamEntry;

typedef struct {
    int n;
    char bad[96];            // first set_* misuse (table full, key too long); save refuses
    HparamEntry e[HP_MAX];
} Hparams;

void hparams_init(Hparams *h);
// Set or overwrite. Keys starting with "train." are reserved for the training state.
void hparams_set_int(Hparams *h, const char *key, int64_t v);
void hparams_set_float(Hparams *h, const char *key, double v);
// 0 and *out on success; -1 (err_set naming the key) if absent or of the other type.
int hparams_get_int(const Hparams *h, const char *key, int64_t *out);
int hparams_get_float(const Hparams *h, const char *key, double *out);

// ---- save and load ------------------------------------------------------------------
// Writes params (and st's training state unless st is NULL) to path.
int checkpoint_save(const char *path, const char *kind, const Hparams *hp,
                    const ParamSet *params, const TrainState *st);

// Loads the weights into params (declared and allocated by the caller with the
// model's layout). kind must match; hp (NULL: not checked) must equal the
// file's hyperparameters. With st non-NULL (made by train_state_init for this
// params) the file must hold training state, and st gets its step, RNG,
// OptimConfig, m, v and EMA, so the next optim_step continues the saved run.
// (To change the plan on resume, e.g. train longer, set st->cfg.total_steps
// after loading; the run is then no longer the uninterrupted one.)
int checkpoint_load(const char *path, const char *kind, const Hparams *hp,
                    ParamSet *params, TrainState *st);

// Tensor storage types (the table's dtype field).
enum { CKPT_F32 = 0, CKPT_F16 = 1 };

// Writes st's EMA weights as the plain weights of a weights-only checkpoint
// (what ships for sampling: smaller, and checkpoint_load reads it directly).
int checkpoint_save_ema(const char *path, const char *kind, const Hparams *hp,
                        const ParamSet *params, const TrainState *st);
// The same with a storage type: CKPT_F16 halves the file; each weight then
// loads as the float16 nearest to it (relative error at most 2^-11, absolute
// at most 2^-25 below 2^-14). A weight of magnitude above 65504 is refused.
int checkpoint_save_ema_as(const char *path, const char *kind, const Hparams *hp,
                           const ParamSet *params, const TrainState *st, int dtype);
// A weights-only file of params' own weights in dtype (CKPT_F32 or CKPT_F16).
int checkpoint_save_weights(const char *path, const char *kind, const Hparams *hp, const ParamSet *params, int dtype);
// float16 conversions (round to nearest even; exposed for the tests).
uint16_t ckpt_f32_to_f16(float f);
float ckpt_f16_to_f32(uint16_t h);

// Loads the EMA weights (saved with the training state) into params, for
// sampling from a training checkpoint.
int checkpoint_load_ema(const char *path, const char *kind, const Hparams *hp, ParamSet *params);

// Reads only the hyperparameters (the model's, not "train.*"), so a program
// can build the right model before loading it. kind must match.
int checkpoint_read_hparams(const char *path, const char *kind, Hparams *out);

// What a file holds, for `refrain info` and scripts: its kind, the model's
// hyperparameters, the tensor count and, for a training checkpoint, the step
// and the planned total. Every check of checkpoint_load but kind and shapes.
typedef struct {
    char kind[CKPT_KIND_MAX];
    Hparams hp;
    int n_tensors;
    int has_train;
    int64_t step, total_steps;   // -1 without training state
} CkptInfo;
int checkpoint_info(const char *path, CkptInfo *out);

#endif
