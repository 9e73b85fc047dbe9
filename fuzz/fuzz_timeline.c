// fuzz_timeline.c — the timeline JSON reader (util/song.c timeline_read).
#include "fuzz/fuzz.h"
#include "util/song.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    SongForm f = {0};
    if (timeline_read(fuzz_path(data, size), &f) == 0) song_form_free(&f);
    return 0;
}
