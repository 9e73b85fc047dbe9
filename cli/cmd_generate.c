// cmd_generate.c — `refrain generate --form "..." -o song.wav`: a whole song
// from a form string through refrain.h (sampler/generate.c), written as audio,
// and on request its spectrogram with the section boundaries, its timeline
// (with each section's seed) and its latents. This file parses options, calls
// the library once and writes files.
// Editing (sampler/edit.c): --from TIMELINE --latents-in FILE --reroll N|LABEL
// re-rolls sections of a song made earlier; --repeat-strength starts repeats
// from their earlier occurrence; --prime / --continue remember / continue a
// recording; --form-from borrows a recording's form.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refrain.h"
#include "audio/audio.h"
#include "cli/cli.h"
#include "conditioning/conditioning.h"
#include "util/util.h"

static const char *g_form = NULL, *g_out = NULL, *g_png = NULL, *g_tl = NULL, *g_lat = NULL, *g_model = NULL,
                  *g_ae = NULL, *g_from = NULL, *g_latin = NULL, *g_reroll = NULL, *g_prime = NULL, *g_cont = NULL,
                  *g_formfrom = NULL;
static int g_seed, g_steps, g_sampler, g_sched, g_nomem = 0, g_style = 0, g_iters;
static double g_cfg, g_mg, g_bpm, g_repeat, g_seam;
static const Opt OPTS[] = {
    {"form", 'f', OPT_STRING, &g_form, 0, 0, NULL, "FORM", "the song's sections: \"intro verse chorus:8b outro\", \"i4A4B8o4\" (see refrain form); or --form-from, or --from", 0},
    {"form-from", 0, OPT_STRING, &g_formfrom, 0, 0, NULL, "AUDIO", "take the form (labels A, B, ... and lengths) of a recording, as refrain analyze finds it, instead of --form", 0},
    {"output", 'o', OPT_STRING, &g_out, 0, 0, NULL, "FILE", "the song: .wav, .flac or .ogg", 1},
    {"png", 0, OPT_STRING, &g_png, 0, 0, NULL, "FILE", "its spectrogram with the section boundaries and labels", 0},
    {"timeline", 0, OPT_STRING, &g_tl, 0, 0, NULL, "FILE", "its timeline JSON: sections, spans, seeds, targets", 0},
    {"latents", 0, OPT_STRING, &g_lat, 0, 0, NULL, "FILE", "its latents (for editing later)", 0},
    {"seed", 0, OPT_INT, &g_seed, 0, 2147483647, NULL, "N", "seed of every section's noise", 0},
    OPT_STEPS(g_steps),
    OPT_SAMPLER(g_sampler),
    OPT_SCHEDULE(g_sched),
    OPT_CFG(g_cfg),
    OPT_MEMORY_GUIDANCE(g_mg, "extra push toward what the memory of earlier sections suggests (0 = none; the memory is used either way, --no-memory drops it)"),
    {"no-memory", 0, OPT_FLAG, &g_nomem, 0, 0, NULL, NULL, "no section remembers the ones before (the ablation)", 0},
    OPT_BPM(g_bpm),
    OPT_STYLE(g_style),
    OPT_VOCODER_ITERS(g_iters),
    {"model", 'm', OPT_STRING, &g_model, 0, 0, NULL, "FILE", "denoiser model (default: the shipped one, found beside the binary)", 0},
    {"ae", 0, OPT_STRING, &g_ae, 0, 0, NULL, "FILE", "autoencoder model (default: the shipped one)", 0},
    OPT_REPEAT_STRENGTH(g_repeat, "a repeated section starts from its label's previous occurrence re-noised to t = X (1 = from pure noise, a new take each time; lower = closer to a copy)"),
    {"from", 0, OPT_STRING, &g_from, 0, 0, NULL, "JSON", "re-roll: the timeline of a song made earlier (with --latents-in and --reroll)", 0},
    {"latents-in", 0, OPT_STRING, &g_latin, 0, 0, NULL, "FILE", "re-roll: the --latents file written with that timeline", 0},
    {"reroll", 0, OPT_STRING, &g_reroll, 0, 0, NULL, "N|LABEL", "re-roll section N (1 = the timeline's first) or every section with LABEL; --seed gives the new noise, every other section is kept but for the seam after each re-rolled one", 0},
    {"seam-strength", 0, OPT_FLOAT, &g_seam, 0.05, 1, NULL, "T", "re-roll: the seam (the next section's first context-length frames) is re-noised to t = T and denoised again", 0},
    {"prime", 0, OPT_STRING, &g_prime, 0, 0, NULL, "AUDIO", "remember a recording: its sections (refrain analyze) come before the form's in the memory", 0},
    {"continue", 0, OPT_STRING, &g_cont, 0, 0, NULL, "AUDIO", "continue a recording: as --prime, its tail the first section's context; writes the recording unchanged, then the new sections (0.1 s crossfade, loudness matched)", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"generate", "", 0, "write a whole song from a form string, or re-roll sections of one, or continue a recording (WAV/FLAC/OGG, spectrogram, timeline)", OPTS};

static void show_progress(void *user, const char *stage, int section, int n, int step, int steps) {
    if (strcmp(stage, "denoiser") == 0) progress("generate: section %d/%d, step %d/%d", section + 1, n, step, steps);
    else progress("generate: %s", stage);
}

// Every output, or none (cli.h commit_outputs).
static int write_outputs(const refrain_song *s) {
    refrain_timeline t = refrain_song_timeline(s);
    refrain_audio audio = {s->audio, s->n_samples, s->sample_rate};
    refrain_logmel mel = {s->logmel, s->n_frames, s->n_mels};
    refrain_latents lat = {s->latents, s->n_latent, s->z, s->n_frames};
    CliOutput out[] = {{.path = g_out, .audio = &audio}, {.path = g_png, .mel_png = &mel, .timeline = &t},
                       {.path = g_tl, .json = &t}, {.path = g_lat, .latents = &lat}};
    return commit_outputs(out, 4);
}

// The refusals that need no file: one line, exit 2.
static int usage(void) {
    const char *why = NULL;
    if (g_reroll && !g_from) why = "--reroll needs --from (the timeline of the song to edit)";
    else if (g_from && !g_reroll) why = "--from needs --reroll N or --reroll LABEL";
    else if (g_from && !g_latin) why = "--from needs --latents-in (the --latents file written with the timeline)";
    else if (g_latin && !g_from) why = "--latents-in needs --from";
    else if (g_from && (g_form || g_formfrom)) why = "--from takes the song's form from its timeline; drop --form / --form-from";
    else if (g_from && (g_prime || g_cont)) why = "--prime and --continue make a new song; they do not go with --from";
    else if (g_form && g_formfrom) why = "give --form or --form-from, not both";
    else if (g_prime && g_cont) why = "give --prime or --continue, not both";
    else if (!g_form && !g_formfrom && !g_from) why = "--form is required (or --form-from AUDIO, or --from with --reroll)";
    if (why) fprintf(stderr, "refrain: generate: %s\n", why);
    return why ? 2 : 0;
}

static int read_mono(const char *path, float **x, long *n) {
    return audio_read(path, SAMPLE_RATE, x, n);
}

static int run(int argc, char **argv) {
    refrain_generate_params gp = refrain_generate_default_params();
    g_seed = (int)(gp.seed & 0x7fffffff); g_steps = gp.steps; g_sampler = gp.sampler; g_sched = gp.schedule;
    g_cfg = gp.cfg; g_mg = gp.memory_guidance; g_bpm = gp.bpm; g_iters = gp.vocoder_iters;
    g_repeat = gp.repeat_strength; g_seam = gp.seam_strength;
    int st = opts_parse(&SPEC, argc, argv, NULL);
    if (st != OPTS_OK) return st;
    if ((st = usage())) return st;
    // the cheap refusals first: the form (a usage error), the outputs' folders and kinds
    FormOpts fo;
    form_opts_default(&fo);
    fo.bpm = g_bpm;
    SongForm check;
    if (g_form && form_parse(&check, g_form, &fo)) { fprintf(stderr, "refrain: %s\n", err_msg()); return 2; }
    if (g_form) song_form_free(&check);
    if (check_output(g_out, "wav,flac,ogg") || (g_png && check_output(g_png, "png")) ||
        (g_tl && check_output(g_tl, "json")) || (g_lat && check_output(g_lat, "bin,lat")))
        return fail();
    char err[1024];
    refrain_song from;
    memset(&from, 0, sizeof from);
    if (g_from) {   // the song to edit, and which sections (a bad N or label is a usage error)
        if (refrain_song_load(&from, g_from, g_latin, err, sizeof err)) { fprintf(stderr, "refrain: %s\n", err); return 1; }
        int *idx = mallocCheck(sizeof(int) * from.n_sections);
        int k = refrain_reroll_sections(&from, g_reroll, idx, err, sizeof err);
        free(idx);
        if (k < 0) { fprintf(stderr, "refrain: %s\n", err); refrain_song_free(&from); return 2; }
    }
    // the recordings are read here; the library takes their samples (a form, a prime, a continuation)
    float *rec = NULL, *fromrec = NULL;
    long nrec = 0, nfromrec = 0;
    if ((g_formfrom && read_mono(g_formfrom, &fromrec, &nfromrec)) ||
        ((g_prime || g_cont) && read_mono(g_prime ? g_prime : g_cont, &rec, &nrec))) {
        free(fromrec);
        refrain_song_free(&from);
        return fail();
    }
    refrain_model_params mp = refrain_model_default_params();
    static char found[2][4096];   // the shipped models, found as every command finds them (cli_model)
    if (!(mp.denoiser = cli_model(g_model, "denoiser.rfc", found[0], sizeof found[0])) ||
        !(mp.autoencoder = cli_model(g_ae, "ae.rfc", found[1], sizeof found[1]))) {
        free(rec); free(fromrec); refrain_song_free(&from);
        return fail();
    }
    refrain_model *m = refrain_model_load(&mp, err, sizeof err);
    if (!m) { fprintf(stderr, "refrain: %s\n", err); free(rec); free(fromrec); refrain_song_free(&from); return 1; }
    gp.form = g_form; gp.bpm = g_bpm; gp.style = g_style; gp.seed = (uint64_t)g_seed; gp.steps = g_steps;
    gp.sampler = g_sampler; gp.schedule = g_sched; gp.cfg = (float)g_cfg; gp.memory_guidance = (float)g_mg;
    gp.no_memory = g_nomem; gp.vocoder_iters = g_iters;
    gp.repeat_strength = (float)g_repeat; gp.seam_strength = (float)g_seam;
    gp.prime = rec; gp.prime_samples = nrec; gp.prime_rate = SAMPLE_RATE; gp.prime_continue = g_cont != NULL;
    gp.form_from = fromrec; gp.form_from_samples = nfromrec; gp.form_from_rate = SAMPLE_RATE;
    gp.reroll_from = g_from ? &from : NULL; gp.reroll = g_reroll;
    gp.progress = show_progress;
    refrain_song song;
    int rc = refrain_generate(m, &gp, &song, err, sizeof err);
    progress_done();
    refrain_model_free(m);
    free(rec);
    free(fromrec);
    refrain_song_free(&from);
    if (rc) { fprintf(stderr, "refrain: %s\n", err); return rc == REFRAIN_ERR_INPUT ? 2 : 1; }
    if (song.form && !g_quiet) fprintf(stderr, "generate: the form of %s: %s\n", g_formfrom, song.form);
    double sec = (double)song.n_samples / song.sample_rate;
    rc = write_outputs(&song) ? fail() : 0;
    double total = song.seconds_denoiser + song.seconds_decoder + song.seconds_vocoder;
    if (!rc && !g_quiet && g_from) {
        char list[256] = "";
        for (int k = 0; k < song.n_rerolled; k++) {
            size_t L = strlen(list);
            if (L < sizeof list - 48) snprintf(list + L, sizeof list - L, "%s%d (%s)", k ? ", " : "", song.rerolled[k] + 1,
                                               song.sections[song.rerolled[k]].label);
        }
        int n = song.n_rerolled;
        fprintf(stderr, "reroll: section%s %s of %d (counted from 1) re-rolled: %d section%s and %ld of %ld latent frames "
                "sampled, seams included (%.1f of %.1f s), in %.1f s (denoiser %.1f s, decoder %.2f s, vocoder %.2f s) -> %s\n",
                n == 1 ? "" : "s", list, song.n_sections, song.sections_sampled,
                song.sections_sampled == 1 ? "" : "s", song.frames_sampled, song.n_latent,
                song.n_latent ? sec * song.frames_sampled / song.n_latent : 0.0, sec, total, song.seconds_denoiser,
                song.seconds_decoder, song.seconds_vocoder, g_out);
    } else if (!rc && !g_quiet)
        fprintf(stderr, "generate: %d sections, %.1f s of audio in %.1f s (denoiser %.1f s, decoder %.2f s, vocoder %.2f s) -> %s\n",
                song.n_sections, sec, total, song.seconds_denoiser, song.seconds_decoder, song.seconds_vocoder, g_out);
    refrain_song_free(&song);
    return rc;
}

const Command cmd_generate = {&SPEC, run};
