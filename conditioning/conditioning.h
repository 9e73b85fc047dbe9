// conditioning — what the denoiser is told about each section: the label
// vocabulary, and the form-string parser that turns what a user types into a
// SongForm (design.md, "Data flow"), refrain's song-structure type (sections
// with label, occurrence, span and descriptors), which with its timeline JSON
// is util/song.h's so that audio/ and data/ share it. Later sections of this
// header: the section conditioning vectors and the memory compressor.
// It owns no audio, no model weights and no file I/O; the CLI prints and exits.
// Functions return 0 / -1 with err_set() (util/util.h), one line, never print.
#ifndef REFRAIN_CONDITIONING_H
#define REFRAIN_CONDITIONING_H

#include <stddef.h>

#include "util/song.h"

// The descriptor targets the denoiser is conditioned on: a section's
// SectionDescriptors less rms_db, which a form cannot ask for.
typedef struct {
    float loudness_lufs;   // BS.1770 integrated loudness of the section, LUFS
    float brightness_hz;   // mean spectral centroid, Hz
    float onset_density;   // onsets per second
} SectionTargets;          // a field that is NAN = not given / unknown

// ---- label vocabulary (conditioning/form.c) -------------------------------------
// Fixed ids, in this order (a trained model's label embedding depends on it):
//   0 "none"   unknown, or dropped for guidance
//   1..7       the MMA section names the corpus uses (data/mmagen.c TYPE_NAME):
//              "intro" "verse" "prechorus" "chorus" "bridge" "solo" "outro"
//   8..33      the repeat letters "A".."Z" of tracker modules and analysed
//              recordings; a module's labels past Z ("A1", "B2": pattern 26 + ...,
//              data/modules.c) map to their letter
#define COND_N_LABELS 34
#define COND_LABEL_FIRST_LETTER 8   // id of "A"
// Id of a label, or -1 if unknown. Named labels match case-insensitively
// ("Chorus"); letters are uppercase only, alone or followed by 1-4 digits ("A1").
int cond_label_id(const char *label);
// Name of an id ("chorus", "A"); "none" for an id out of range.
const char *cond_label_name(int id);
// Built-in typical section lengths in seconds: 16 s (8 bars at 120 bpm) for
// verse, prechorus, chorus, bridge and solo, 8 s for intro and outro, 12 s for
// the letters and for "none". Only the fallback when no model is at hand: a
// trained model carries the corpus's measured median length per label and
// passes that in FormOpts.default_seconds instead.
void cond_default_seconds(float sec[COND_N_LABELS]);

// ---- form strings (conditioning/form.c) -----------------------------------------
// A form is a sequence of sections, laid end to end from 0 s. Notations:
//
// 1. Section words separated by whitespace; each lasts its label's default:
//        intro verse prechorus chorus verse prechorus chorus bridge chorus outro
// 2. A length per word, in seconds (':16', ':7.5', ':16s') or bars (':8b', at
//    FormOpts.bpm and beats_per_bar); 1 and 2 mix freely:
//        intro:8 verse:16 chorus:8b outro
// 3. The compact notation of Wang et al. 2024 (whole-song hierarchical
//    generation): ONE word of items, each a letter and a bar count, with
//    lowercase i = intro, o = outro, b = bridge and uppercase A..Z the letters:
//        i4A4A4B8b4A4B8o4
//    It is recognised when the whole form is a single word of letters and
//    digits whose second character is a digit, and the word is not itself a
//    label (so a lone "A4" is the corpus-style label A4, not one 4-bar A).
// 4. Descriptor targets after a word (after its length, if any), in brackets,
//    comma-separated key=value, each key optional, at most once:
//        chorus:8b[loud=-12,bright=2400,onsets=3.5]   verse[loud=-20]
//    loud    loudness_lufs, LUFS        -70..0
//    bright  brightness_hz, Hz          50..11025
//    onsets  onset_density, per second  0..30
//    Spaces inside the brackets are allowed ("[loud=-12, onsets=3]").
//
// Labels are the vocabulary above: named ones in any case (stored in lower
// case), letters in upper case, "none" for a section with no label. Occurrences
// count each label as written: "A" and "A1" are different sections of letter A.
#define FORM_MAX_SECTIONS 64
#define FORM_BPM_MIN 20.0     // FormOpts.bpm's range (also the CLI's --bpm range)
#define FORM_BPM_MAX 400.0
typedef struct {
    double bpm;                           // bars -> seconds (default 120)
    int beats_per_bar;                    // default 4
    float default_seconds[COND_N_LABELS]; // length of a section given without one (label's median in the corpus)
    int max_sections;                     // default FORM_MAX_SECTIONS (64)
    double min_seconds, max_seconds;      // allowed section length (defaults 1 and 600)
} FormOpts;
void form_opts_default(FormOpts *o);   // bpm 120, 4/4, cond_default_seconds, 64, 1, 600
// Parses a form string into f (sections laid end to end from 0, occurrences
// numbered, targets in desc with rms_db and confidence NAN); o == NULL:
// defaults. f->bpm = o->bpm, f->duration the sum of the lengths. Returns 0, or -1 with f
// zeroed and err_set() giving ONE line that names the word, its 1-based
// position and what is allowed, e.g.
//   form: word 3 'chrous': unknown label (did you mean 'chorus'?); labels are intro, verse, ...
//   form: word 2 'verse:0': length must be between 1 and 600 seconds
//   form: item 3 'B' of 'i4A4B': a letter needs a bar count after it ('B4')
//   form: empty (give section words such as "intro verse chorus outro")
//   form: 80 sections; at most 64
int form_parse(SongForm *f, const char *text, const FormOpts *o);
// The form as a one-line summary "intro 8.0s | verse 16.0s | ..." into buf
// (truncated to cap, always terminated when cap > 0).
void form_describe(const SongForm *f, char *buf, size_t cap);

// ---- what the denoiser is told (conditioning/features.c) ----------------------------
#define COND_N_OCC 5            // occurrence: none, 1, 2, 3, 4 or later
#define COND_N_STYLES 4         // style: none, mma, module, recording (= corpus source + 1)
#define COND_SEC_DIM (COND_N_LABELS + COND_N_OCC + COND_N_STYLES + 12)
#define COND_FRAME_DIM 3
#define COND_MEM_POS 3          // a place in a section: frac, sin(pi frac), cos(pi frac)
#define COND_MEM_SEC_DIM (COND_N_LABELS + 4)   // a remembered section: label, distance, same-label, occurrence
#define COND_MEM_EXTRA (COND_MEM_SEC_DIM + COND_MEM_POS)   // a memory token's features past its latents
#define COND_FRAME_RATE (22050.0 / 1024.0)   // latent frames per second (hop 256, 4x down)

// One section as the conditioning sees it.
typedef struct {
    int label_id, occurrence;   // cond_label_id; 1, 2, ...
    int style;                  // 0 none, 1 mma, 2 module, 3 recording
    int index, n_sections;      // position in the form
    double start_seconds, seconds, song_seconds;
    SectionTargets targets;     // NAN where not given
} SectionInfo;
// f (COND_SEC_DIM); drop != 0: label, occurrence, style and targets as "none".
void cond_section_features(float *f, const SectionInfo *s, int drop);
// f (COND_FRAME_DIM) for one latent frame: frame_in_section counts from the
// section's first frame (negative for the previous section's context frames).
void cond_frame_features(float *f, int is_context, long frame_in_section, long section_frames);

// One earlier section as the memory sees it.
typedef struct {
    int label_id, occurrence;
    int sections_back;          // current index - its index (1 = the previous section)
    double seconds_back;        // from its start to the current section's start
    int same_label;             // its label is the current section's
} MemorySource;
// Tokens one section of `frames` latent frames becomes: K, or every frame when K == 0.
int cond_mem_tokens(int K, long frames);
// out (cond_mem_tokens(K, frames), z + COND_MEM_EXTRA): the section's latents lat
// (frames, z) pooled over K equal spans (K = 0: every frame), with its label,
// distance, same-label flag and occurrence, and the span's place in the section.
void cond_memory_features(float *out, const float *lat, long frames, int z, int K, const MemorySource *m,
                          int drop);
// The section-level part of a memory token, f (COND_MEM_SEC_DIM): label one-hot,
// sections back / 8, seconds back / 60, same-label flag, occurrence / 4; drop != 0:
// label none, same-label 0, occurrence 0 (distance kept).
void cond_memory_section_features(float *f, const MemorySource *m, int drop);
// f (COND_MEM_POS): a place frac in [0, 1] of a section as frac, sin(pi frac), cos(pi frac).
void cond_memory_position(float *f, float frac);
// The learned-query pooling's keys: out (n, z + COND_MEM_POS), one row per frame
// [latents | its place (t + 0.5) / frames] of the section's latents lat (frames, z),
// n = min(frames, cap): every frame, or cap frames subsampled uniformly (frame
// floor((i + 0.5) frames / cap)) when the section is longer. Returns n.
int cond_memory_frames(float *out, const float *lat, long frames, int z, int cap);
// Earlier sections to remember for section `current` (label_ids of the whole
// form): all of them when current <= cap, else same-label ones first and then
// the most recent, at most cap, in song order. Returns how many (into chosen).
int cond_memory_select(int *chosen, const int *label_ids, int current, int cap);

#endif
