// fuzz_midi.c — the Standard MIDI File marker reader (data/mmagen.c midi_read_markers).
#include "fuzz/fuzz.h"
#include "data/corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    MidiMarker *mk = NULL;
    int n = 0;
    double end;
    if (midi_read_markers(fuzz_path(data, size), &mk, &n, &end) == 0) free(mk);
    return 0;
}
