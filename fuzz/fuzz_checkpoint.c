// fuzz_checkpoint.c — the checkpoint loader (nn/checkpoint.c): checkpoint_info
// (every check but kind and shapes), checkpoint_read_hparams, and
// checkpoint_load into a small fixed layout (two tensors, kind "fuzz"), the
// layout fuzz/make_seeds.c saves its seed with.
#include "fuzz/fuzz.h"
#include "nn/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(data, size);
    CkptInfo ci;
    checkpoint_info(path, &ci);
    Hparams hp;
    checkpoint_read_hparams(path, "fuzz", &hp);
    ParamSet p;
    params_init(&p);
    params_add(&p, "w", 1, 3, 4, 0, 0);
    params_add(&p, "b", 0, 4, 0, 0, 0);
    params_alloc(&p);
    checkpoint_load(path, "fuzz", NULL, &p, NULL);
    checkpoint_load_ema(path, "fuzz", NULL, &p);
    params_free(&p);
    return 0;
}
