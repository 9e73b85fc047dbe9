// fuzz_form.c — the form-string parser (conditioning/form.c form_parse) on any bytes.
#include "fuzz/fuzz.h"
#include "conditioning/conditioning.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);   // form_parse takes a C string: the bytes up to the first NUL
    memcpy(text, data, size);
    text[size] = 0;
    FormOpts o;
    form_opts_default(&o);
    SongForm f;
    if (form_parse(&f, text, &o) == 0) song_form_free(&f);
    free(text);
    return 0;
}
