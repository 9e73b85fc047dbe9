// fuzz_latents.c — the latent file reader (autoencoder/autoencoder.c latents_read).
#include "fuzz/fuzz.h"
#include "autoencoder/autoencoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    float *lat = NULL;
    long Tl, T;
    int Z;
    if (latents_read(fuzz_path(data, size), &lat, &Tl, &Z, &T) == 0) free(lat);
    return 0;
}
