// fuzz_shard.c — the corpus feature-shard reader (data/shards.c shard_read),
// metadata only and with the features.
#include "fuzz/fuzz.h"
#include "data/corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(data, size);
    CorpusSong s;
    if (shard_read(path, &s, NULL) == 0) corpus_song_free(&s);
    float *mel = NULL;
    if (shard_read(path, &s, &mel) == 0) { corpus_song_free(&s); free(mel); }
    return 0;
}
