// features.c — what the denoiser is told about a section and about the
// sections before it, as plain float vectors (no learned weights here: the
// denoiser's linear maps turn these into its conditioning and its memory
// tokens, diffusion/denoiser.c).
//
//   section features (COND_SEC_DIM): label one-hot | occurrence one-hot |
//       style one-hot | position in the song | length | descriptor targets
//       with a present flag each
//   frame features (COND_FRAME_DIM) per latent frame: context flag, position
//       in the section (0 at its start, 1 at its end, negative before it),
//       seconds from the section's start / 32
//   memory token features (z + COND_MEM_EXTRA): the section's latents pooled
//       over one of K equal spans | its label one-hot | how far back it lies
//       (sections, seconds) | same label as the section being made | its
//       occurrence | where in its section the span lies
//   learned-query pooling (diffusion/denoiser.c, mem_pool 1) takes the parts
//       apart: per frame [latents | place in its section] (the keys, at most
//       a cap of frames, subsampled uniformly beyond it), and per section the
//       label, distance, same-label and occurrence (COND_MEM_SEC_DIM)
//
// Dropping for guidance: `drop` sets label, occurrence, style and descriptors
// to "none" (the same vector the model sees with labels removed); the memory
// features then also lose the same-label flag. The scales below bring each
// scalar to about unit range over the corpus.
// It owns no parsing (form.c) and no network (diffusion/).
#include "conditioning/conditioning.h"

#include <math.h>
#include <string.h>

static void one_hot(float *f, int n, int i) {
    memset(f, 0, sizeof(float) * n);
    if (i >= 0 && i < n) f[i] = 1.0f;
}

static int occ_index(int occurrence) {   // 0 none, 1, 2, 3, 4 = fourth or later
    if (occurrence <= 0) return 0;
    return occurrence < COND_N_OCC ? occurrence : COND_N_OCC - 1;
}

void cond_section_features(float *f, const SectionInfo *s, int drop) {
    float *p = f;
    one_hot(p, COND_N_LABELS, drop ? 0 : s->label_id);        p += COND_N_LABELS;
    one_hot(p, COND_N_OCC, drop ? 0 : occ_index(s->occurrence)); p += COND_N_OCC;
    one_hot(p, COND_N_STYLES, drop ? 0 : s->style);            p += COND_N_STYLES;
    double song = s->song_seconds > 1e-3 ? s->song_seconds : 1e-3;
    *p++ = s->n_sections > 1 ? (float)s->index / (float)(s->n_sections - 1) : 0.0f;
    *p++ = (float)(s->start_seconds / song);
    *p++ = s->index == 0 ? 1.0f : 0.0f;
    *p++ = s->index == s->n_sections - 1 ? 1.0f : 0.0f;
    *p++ = logf((float)(s->seconds > 0.1 ? s->seconds : 0.1) / 16.0f);
    *p++ = logf((float)(song > 1 ? song : 1) / 180.0f);
    const SectionTargets *t = &s->targets;
    int hl = !drop && isfinite(t->loudness_lufs), hb = !drop && isfinite(t->brightness_hz) && t->brightness_hz > 0,
        ho = !drop && isfinite(t->onset_density);
    *p++ = hl ? (t->loudness_lufs + 23.0f) / 10.0f : 0.0f;  *p++ = (float)hl;
    *p++ = hb ? logf(t->brightness_hz / 1500.0f) : 0.0f;   *p++ = (float)hb;
    *p++ = ho ? (t->onset_density - 3.0f) / 3.0f : 0.0f;   *p++ = (float)ho;
}

void cond_frame_features(float *f, int is_context, long frame_in_section, long section_frames) {
    double L = section_frames > 0 ? (double)section_frames : 1.0;
    f[0] = (float)is_context;
    f[1] = (float)(frame_in_section / L);
    f[2] = (float)(frame_in_section / COND_FRAME_RATE / 32.0);
}

int cond_mem_tokens(int K, long frames) { return K > 0 ? K : (int)frames; }

void cond_memory_features(float *out, const float *lat, long frames, int z, int K, const MemorySource *m,
                          int drop) {
    int n = cond_mem_tokens(K, frames);
    int Fm = z + COND_MEM_EXTRA;
    for (int k = 0; k < n; k++) {
        float *f = out + (long)k * Fm;
        // pooled latents over [a, b): K equal spans (a frame repeats when frames < K)
        long a = K > 0 ? (long)((double)k * frames / K) : k;
        long b = K > 0 ? (long)((double)(k + 1) * frames / K) : k + 1;
        if (b <= a) b = a + 1;
        if (a >= frames) { a = frames - 1; b = frames; }
        for (int c = 0; c < z; c++) {
            double s = 0;
            for (long t = a; t < b; t++) s += lat[t * z + c];
            f[c] = (float)(s / (double)(b - a));
        }
        cond_memory_section_features(f + z, m, drop);
        cond_memory_position(f + z + COND_MEM_SEC_DIM, ((float)k + 0.5f) / (float)n);
    }
}

void cond_memory_section_features(float *f, const MemorySource *m, int drop) {
    float *p = f;
    one_hot(p, COND_N_LABELS, drop ? 0 : m->label_id); p += COND_N_LABELS;
    *p++ = (float)m->sections_back / 8.0f;
    *p++ = (float)(m->seconds_back / 60.0);
    *p++ = !drop && m->same_label ? 1.0f : 0.0f;
    *p++ = drop ? 0.0f : (float)m->occurrence / 4.0f;
}

void cond_memory_position(float *f, float frac) {
    f[0] = frac;
    f[1] = sinf(3.14159265f * frac);
    f[2] = cosf(3.14159265f * frac);
}

int cond_memory_frames(float *out, const float *lat, long frames, int z, int cap) {
    int n = frames <= 0 || cap <= 0 ? 0 : frames < cap ? (int)frames : cap;
    for (int i = 0; i < n; i++) {
        long t = frames <= cap ? i : (long)(((double)i + 0.5) * (double)frames / (double)cap);
        float *f = out + (long)i * (z + COND_MEM_POS);
        memcpy(f, lat + t * z, sizeof(float) * z);
        cond_memory_position(f + z, ((float)t + 0.5f) / (float)frames);
    }
    return n;
}

// Which earlier sections to remember when there are more than `cap`: every
// same-label one first (most recent first), then the most recent others;
// returned in song order.
int cond_memory_select(int *chosen, const int *label_ids, int current, int cap) {
    if (current <= cap) {
        for (int j = 0; j < current; j++) chosen[j] = j;
        return current;
    }
    int n = 0;
    for (int pass = 0; pass < 2 && n < cap; pass++)
        for (int j = current - 1; j >= 0 && n < cap; j--) {
            int same = label_ids[j] != 0 && label_ids[j] == label_ids[current];
            if (same == (pass == 0)) chosen[n++] = j;
        }
    for (int i = 1; i < n; i++)   // insertion sort into song order
        for (int j = i; j > 0 && chosen[j - 1] > chosen[j]; j--) {
            int t = chosen[j]; chosen[j] = chosen[j - 1]; chosen[j - 1] = t;
        }
    return n;
}
