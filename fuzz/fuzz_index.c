// fuzz_index.c — the corpus index reader (data/shards.c index_read).
#include "fuzz/fuzz.h"
#include "data/corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    CorpusIndex ix;
    if (index_read(fuzz_path(data, size), &ix) == 0) index_free(&ix);
    return 0;
}
