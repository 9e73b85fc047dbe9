// refrain.h — refrain as a library: load the models once, generate songs.
// (In the style of whisper.h and stable-diffusion.h: an opaque model, params
// structs with defaults functions, a progress callback instead of a global,
// errors returned with a message.) Installed (make install): build with
// `pkg-config --cflags --libs refrain` (librefrain.so), or link librefrain.a with
// `pkg-config --static --libs refrain`'s libraries; examples/generate.c is a whole program.
//
//   refrain_model_params mp = refrain_model_default_params();
//   char err[256];
//   refrain_model *m = refrain_model_load(&mp, err, sizeof err);   // NULL: err says why
//   refrain_generate_params gp = refrain_generate_default_params();
//   gp.form = "intro verse chorus verse chorus outro";
//   refrain_song song;
//   if (refrain_generate(m, &gp, &song, err, sizeof err)) { ... }
//   ... song.audio (n_samples at sample_rate), song.logmel, song.sections ...
//   refrain_song_free(&song);
//   refrain_model_free(m);
//
// Same seed, same models: the same samples, bit for bit, at any thread count (every
// parallel loop splits by output element; tests/test_generate.c checks 1 against 2
// threads, and a shipped-size checkpoint gave identical WAV bytes at 1 and 2 threads).
#ifndef REFRAIN_H
#define REFRAIN_H

#include <stddef.h>
#include <stdint.h>

// The one version: `refrain --version` prints it, and the Makefile reads it from
// this line for the shared library's file name (librefrain.so.MAJOR -> .so.VERSION).
#define REFRAIN_VERSION "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif
// The shared library exports exactly what this header declares (the library is
// built with -fvisibility=hidden; see the Makefile).
#pragma GCC visibility push(default)

// ---- models ---------------------------------------------------------------------------
typedef struct refrain_model refrain_model;   // the denoiser and the autoencoder

typedef struct {
    const char *denoiser;   // model files; NULL: found by refrain_find_model
    const char *autoencoder;
} refrain_model_params;
refrain_model_params refrain_model_default_params(void);

// A shipped model file by name ("denoiser.rfc", "ae.rfc"), never relative to the
// current folder: $REFRAIN_MODEL_DIR, then assets/ beside the running binary (a
// build tree), then ../share/refrain beside it (an installed binary). Returns 0
// with the path in buf, or -1 with a message naming the places looked in.
int refrain_find_model(const char *name, char *buf, size_t cap, char *err, size_t err_cap);

refrain_model *refrain_model_load(const refrain_model_params *p, char *err, size_t err_cap);
void refrain_model_free(refrain_model *m);

// ---- generation -------------------------------------------------------------------------
// stage: "denoiser" (section of n_sections, step of steps), "decoder", "vocoder".
typedef void (*refrain_progress_fn)(void *user, const char *stage, int section, int n_sections, int step,
                                    int steps);

typedef struct refrain_song refrain_song;   // below

typedef struct {
    const char *form;          // "intro verse chorus:8b outro", "i4A4B8o4", ... (conditioning.h)
    double bpm;                // bars -> seconds (default 120)
    int style;                 // 0 none, 1 mma, 2 module, 3 recording
    uint64_t seed;
    int steps;                 // sampling steps per section chunk
    int sampler;               // 0 euler, 1 heun, 2 ab2, 3 pingpong
    int schedule;              // 0 linear, 1 logsnr, 2 sao
    float cfg;                 // guidance on the section conditioning (1 = none)
    float memory_guidance;     // how strongly a section follows the memory (0 = none)
    int no_memory;             // 1: no section remembers the ones before (the ablation)
    const refrain_song *memory_from;   // the control "another song's memory" (NULL: none): section i remembers
                               // this song's sections 0 .. i - 1 (its labels and latents; a song made earlier,
                               // e.g. by refrain_generate or refrain_song_load) instead of its own. Passing the
                               // song this call makes with memory_from NULL reproduces it bit for bit. Not with prime
    int vocoder_iters;         // Griffin-Lim iterations
    refrain_progress_fn progress;
    void *progress_user;
    // Editing (sampler/edit.c):
    float repeat_strength;     // 0 < X <= 1: each repeated section (its label, as written, came earlier)
                               // starts from that label's previous occurrence re-noised to t = X,
                               // x_t = (1 - X) x0 + X e, then the ODE from X to 0 on the schedule's times
                               // below X (fewer steps); an earlier occurrence shorter than the new one is
                               // tiled (frame f takes its frame f mod length), a longer one cropped to its
                               // first frames. 1 = from pure noise (the default: plain generation, bit for bit).
                               // The occurrence is in the song the section remembers: memory_from's when given;
                               // with no_memory there is none and every section starts from pure noise
    float seam_strength;       // refrain_reroll: the seam after a re-rolled section is re-noised to this t
                               // and denoised again (SDEdit); 0 < t <= 1, default 0.6
    const float *prime;        // a recording (mono, prime_samples at prime_rate Hz), NULL for none: the
    long prime_samples;        // analyzer's sections of it (refrain analyze, labels A, B, ...), encoded by the
    int prime_rate;            // autoencoder, are the song's first sections, never sampled: every section
                               // of the form remembers them (occurrences count them too). The output is the
                               // form's sections only, and the first has no context frames.
    int prime_continue;        // with prime: the song continues the recording: its last frames are the
                               // first section's context, and the output is the recording's own samples
                               // unchanged, then the new sections, joined by an equal-power crossfade of
                               // REFRAIN_CROSSFADE_SECONDS over the recording's last samples (against its
                               // rendering through the autoencoder and vocoder), the new part's gain set so
                               // its BS.1770 loudness matches the recording's (at most +-24 dB); the
                               // recording's sections (seed 0) lead the output's sections
} refrain_generate_params;
#define REFRAIN_CROSSFADE_SECONDS 0.1
refrain_generate_params refrain_generate_default_params(void);

typedef struct {
    char label[32];
    int occurrence;
    double start, end;         // seconds
    uint64_t seed;             // the section's noise seed
    float loudness_lufs, brightness_hz, onset_density;   // targets asked for; NAN = none
} refrain_section;

struct refrain_song {
    float *audio;              // (n_samples) mono at sample_rate
    long n_samples;
    int sample_rate;
    float *logmel;             // (n_frames, n_mels), the decoder's output
    long n_frames;
    int n_mels;
    float *latents;            // (n_latent, z) unit-scale latents
    long n_latent;
    int z;
    refrain_section *sections; // (n_sections)
    int n_sections;
    double bpm;
    double seconds_denoiser, seconds_decoder, seconds_vocoder;
    int sections_sampled;      // sections the denoiser made (a re-roll: the re-rolled ones)
    long frames_sampled;       // latent frames it sampled, a re-roll's seams included
    int n_recording;           // prime_continue: the leading sections that are the recording's; else 0
    long recording_samples;    // prime_continue: audio[0, recording_samples - crossfade) is the recording's
    long memory_tokens;        // memory tokens the sampled sections held, summed (the memory's cost)
};

#define REFRAIN_ERR (-1)         // a failure: err says what
#define REFRAIN_ERR_INPUT (-2)   // the caller's input is wrong (a bad form or parameter): err says which

// Parses the form, generates every section, decodes and vocodes. Returns 0,
// REFRAIN_ERR_INPUT (a bad form or parameter: err names the word and what is
// allowed) or REFRAIN_ERR, with err set.
int refrain_generate(refrain_model *m, const refrain_generate_params *p, refrain_song *out, char *err,
                     size_t err_cap);
void refrain_song_free(refrain_song *s);

// ---- editing a song made earlier (sampler/edit.c) -----------------------------------------
// A song made earlier, from the timeline and the latents file generate wrote
// (--timeline, --latents): sections (labels, spans, seeds, targets) and latents;
// no audio. Refuses a latents file that does not belong to the timeline (its
// frames not the timeline's length, or not 4 mel frames each): REFRAIN_ERR.
int refrain_song_load(refrain_song *s, const char *timeline, const char *latents, char *err, size_t err_cap);
// The sections `which` names in a song of n: "3" (1-based, in the timeline's
// order) or a label ("chorus": every occurrence). Writes their 0-based indices
// (ascending) to idx (n) and returns how many, or REFRAIN_ERR_INPUT (a number out
// of 1..n, a label the song does not have) with err saying what is allowed.
int refrain_reroll_sections(const refrain_song *from, const char *which, int *idx, char *err, size_t err_cap);
// Re-roll: the song `from` again with the sections `which` names sampled anew,
// each with the seed p->seed gives section i in refrain_generate (so the seed the
// song was made with reproduces them, and the song, bit for bit), and every
// other section's latents kept bit for bit, except a seam: when a kept section's
// context (the model's context frames before it) changed, its first frames (as
// many, or the whole section if shorter) are re-noised to p->seam_strength and
// denoised again with the new frames before them as context and the rest of its
// first chunk as known frames (sampler.h, song_generate_edit). p's form and prime
// are ignored (the form is from's); its sampling settings should be the song's.
// The whole song is decoded and vocoded again. out->sections_sampled and
// frames_sampled say what was sampled; out->sections carry the new seeds.
int refrain_reroll(refrain_model *m, const refrain_generate_params *p, const refrain_song *from, const char *which,
                   refrain_song *out, char *err, size_t err_cap);
// A recording's form as a form string for refrain_generate_params.form: its
// sections as the analyzer finds them (refrain analyze's defaults), each label
// and length in seconds to the millisecond: "A:12.306 B:20.015 A:12.353". x is
// mono at rate Hz. Returns 0, or REFRAIN_ERR (too short to analyse, or a form
// longer than cap) with err set.
int refrain_form_from_audio(const float *x, long n, int rate, char *form, size_t cap, char *err, size_t err_cap);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
