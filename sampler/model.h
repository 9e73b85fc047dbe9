// model.h — sampler-internal: what refrain.h's opaque refrain_model holds, shared by
// generate.c (loading, plain generation) and edit.c (re-roll, prime, continue).
// Not part of the public API.
#ifndef REFRAIN_SAMPLER_MODEL_H
#define REFRAIN_SAMPLER_MODEL_H

#include "refrain.h"
#include "autoencoder/autoencoder.h"
#include "sampler/sampler.h"

struct refrain_model {
    Denoiser den;
    Ae ae;
};

// p's ranges (generate.c): 0, or -1 with err_set() naming the parameter.
int generate_check_params(const refrain_generate_params *p);
// refrain_generate with p->prime set (edit.c): the recording's sections primed
// into the song loop, and for prime_continue the recording then the new part.
int edit_generate_primed(refrain_model *m, const refrain_generate_params *p, refrain_song *out, char *err,
                         size_t err_cap);
// refrain_generate with p->form_from set (edit.c): the recording's form
// (refrain_form_from_audio's), then refrain_generate with it; out->form holds it.
int edit_generate_form_from(refrain_model *m, const refrain_generate_params *p, refrain_song *out, char *err,
                            size_t err_cap);

// The song type's section as the public one (library.c): every field, NAN where unknown.
void public_section(refrain_section *r, const SongSection *x);
// x (n) at rate Hz as model-rate samples (library.c): x itself (*owned 0) or a
// resampled copy (*owned 1, the caller frees *y). 0, or -1 with err_set().
int at_model_rate(const float *x, long n, int rate, float **y, long *ny, int *owned);

#endif
