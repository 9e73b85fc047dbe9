// fuzz_audio.c — the audio loader (audio/io.c audio_read: libsndfile's parsers,
// the cut-short and finite-sample checks, downmix, resampling) on any bytes.
#include "fuzz/fuzz.h"
#include "audio/audio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    float *x = NULL;
    long n = 0;
    if (audio_read(fuzz_path(data, size), SAMPLE_RATE, &x, &n) == 0) free(x);
    return 0;
}
