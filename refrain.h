// refrain.h — refrain as a library: load the models once, generate songs.
// (In the style of whisper.h and stable-diffusion.h: an opaque model, params
// structs with defaults functions, a progress callback instead of a global,
// errors returned with a message.) Link with librefrain.a and its Debian
// libraries (see the Makefile's LDLIBS).
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

#ifdef __cplusplus
extern "C" {
#endif

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
    int vocoder_iters;         // Griffin-Lim iterations
    refrain_progress_fn progress;
    void *progress_user;
} refrain_generate_params;
refrain_generate_params refrain_generate_default_params(void);

typedef struct {
    char label[32];
    int occurrence;
    double start, end;         // seconds
    uint64_t seed;             // the section's noise seed
    float loudness_lufs, brightness_hz, onset_density;   // targets asked for; NAN = none
} refrain_section;

typedef struct {
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
} refrain_song;

#define REFRAIN_ERR (-1)         // a failure: err says what
#define REFRAIN_ERR_INPUT (-2)   // the caller's input is wrong (a bad form or parameter): err says which

// Parses the form, generates every section, decodes and vocodes. Returns 0,
// REFRAIN_ERR_INPUT (a bad form or parameter: err names the word and what is
// allowed) or REFRAIN_ERR, with err set.
int refrain_generate(refrain_model *m, const refrain_generate_params *p, refrain_song *out, char *err,
                     size_t err_cap);
void refrain_song_free(refrain_song *s);

#ifdef __cplusplus
}
#endif
#endif
