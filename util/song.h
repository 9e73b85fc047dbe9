// song — refrain's one song-structure type: a song's form as sections, each
// with a label, an occurrence, a span in seconds, a confidence and
// descriptors, and the timeline JSON that stores it (util/song.c). The form
// parser (conditioning/), the analyzer and the corpus (data/) and the
// spectrogram's boundary lines (audio/) all hold their sections in it.
//
// It lives in util/ because every module builds on util and every module's
// tests link it (test_audio_* link only audio and util), so the one type and
// its one reader and writer can be shared without a module depending on one
// above it. It owns no label vocabulary (conditioning/form.c: cond_label_id
// maps a label to its id), no audio and no frame rates (the corpus lays its
// sections on mel frames: data/corpus.h corpus_frame).
// Functions return 0 / -1 with err_set() (util/util.h).
#ifndef REFRAIN_SONG_H
#define REFRAIN_SONG_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define SONG_LABEL_MAX 32   // label bytes with the terminator

// What a section sounds like: measured (data/descriptors.c) or asked for (a
// form's targets, conditioning.h). A field that is NAN is unknown / not given.
typedef struct {
    float loudness_lufs;   // BS.1770 integrated loudness (K-weighted, gated), LUFS
    float rms_db;          // plain RMS level, dBFS
    float brightness_hz;   // mean spectral centroid, Hz
    float onset_density;   // onsets per second (spectral-flux peaks)
} SectionDescriptors;
#define SECTION_DESCRIPTORS_NONE ((SectionDescriptors){NAN, NAN, NAN, NAN})

typedef struct {
    char label[SONG_LABEL_MAX];  // "verse", "chorus", "A", "A1", ...
    int occurrence;              // 1 the first time the label appears in the song, 2 the second, ...
    double start, end;           // seconds, start < end
    float confidence;            // 0..1, how sure the label and start are (1 exact); NAN = not given
    SectionDescriptors desc;     // NAN where unknown
    uint64_t seed;               // the noise seed a generated section was made from; 0 = none
} SongSection;
#define SONG_SEED_MAX 999999999ull   // seeds are 1..SONG_SEED_MAX: exact as JSON numbers, readable by any tool

typedef struct {
    SongSection *sections;  // (n), malloc'd; in time order, except as a timeline file lists them
    int n;
    double bpm;             // tempo that bar lengths were given in; 0 = none
    double duration;        // seconds of the song; 0 = not given
} SongForm;

void song_form_free(SongForm *f);   // frees and zeroes; safe on a zeroed or freed form
// Numbers occurrences: 1 + the sections before s[i] (in array order) with its label.
void song_number_occurrences(SongSection *s, int n);

// ---- timeline JSON (util/song.c) ---------------------------------------------------
//   {"bpm": 90, "duration": 132.016, "sections": [
//     {"label": "A", "start": 0.000, "end": 32.322, "occurrence": 1, "confidence": 1.000,
//      "loudness_lufs": -19.55, "rms_db": -17.39, "brightness_hz": 722.9, "onset_density": 2.289},
//     ...
//   ]}
// bpm and duration only when known (> 0); confidence and each descriptor only
// when not NAN; occurrence when >= 1; seed when not 0 (1..SONG_SEED_MAX); one section a line.

// Reads a timeline: "sections" and each one's "start" and "end" are required,
// the rest optional (NAN / 0 when absent; a missing occurrence is numbered
// over the sections before it), unknown keys ignored. Strict JSON syntax
// (RFC 8259), any key order, a UTF-8 byte-order mark allowed. Refuses
// negative, reversed and overlapping sections with a message naming them:
//   timeline t.json: sections[1] (b, 4-8 s) overlaps sections[0] (a, 0-5 s)
// f is zeroed on failure.
int timeline_read(const char *path, SongForm *f);
// Writes f as a timeline (above) that timeline_read reads back: times to the
// millisecond, LUFS and dB to 0.01, Hz to 0.1, confidence and onsets to 0.001.
int timeline_write(FILE *fp, const SongForm *f);
// A table (refrain analyze's output): "form: ABAB   (4 sections, 60.0 s)", then
// a row per section: number, label and occurrence, span, confidence, LUFS,
// brightness and onsets per second.
void timeline_print(FILE *fp, const SongForm *f);

#endif
