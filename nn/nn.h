// nn — refrain's neural-network core, one public header for the folder:
// layers with hand-written backward, parameter and activation arenas, AdamW/EMA/schedules,
// checkpoints, and the DiT-style block stack the denoiser is built from.
#ifndef REFRAIN_NN_H
#define REFRAIN_NN_H
#include "util/rng.h"
#include "nn/layers.h"
#include "nn/params.h"
#include "nn/arena.h"
#include "nn/optim.h"
#include "nn/checkpoint.h"
#include "nn/dit.h"
#endif
