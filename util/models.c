// models.c — where the shipped model files (ae.rfc, denoiser.rfc) are found:
// the one lookup every caller shares, the CLI's commands (cli_model), refrain.h
// (refrain_find_model, refrain_model_load) and the library's runs whose
// defaults leave a model NULL (ae_eval, diff_train, denoiser_eval,
// generate_eval). It owns no model loading. See util.h.
#define _GNU_SOURCE   // dladdr (glibc): the models are looked for beside the shared library too
#include <dlfcn.h>

#include "util/util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

// The folder of the running program (which 0) or of the object holding this code
// (which 1: a program linked with librefrain.a, or librefrain.so), in dir; 0, or -1.
static int home_folder(int which, char *dir, size_t cap) {
    if (which == 0) {
        ssize_t n = readlink("/proc/self/exe", dir, cap - 1);
        if (n <= 0) return -1;
        dir[n] = 0;
    } else {
        Dl_info info;
        char *real;
        if (!dladdr((void *)model_find, &info) || !info.dli_fname || !(real = realpath(info.dli_fname, NULL)))
            return -1;
        snprintf(dir, cap, "%s", real);
        free(real);
    }
    char *slash = strrchr(dir, '/');
    if (!slash) return -1;
    *slash = 0;
    return 0;
}

int model_find(const char *name, int also_cwd, char *buf, size_t cap) {
    char home[2][PATH_MAX], tried[6 * PATH_MAX + 96] = "";
    const char *env = getenv("REFRAIN_MODEL_DIR");
    if (env && *env) {
        snprintf(buf, cap, "%s/%s", env, name);
        if (is_file(buf)) return 0;
        snprintf(tried, sizeof tried, "%s", buf);
    }
    // the program's folder, then the shared library's (when refrain is a library of another program)
    for (int h = 0; h < 2; h++) {
        if (home_folder(h, home[h], sizeof home[h]) || (h == 1 && !strcmp(home[0], home[1]))) continue;
        const char *rel[2] = {"assets", "../share/refrain"};
        for (int i = 0; i < 2; i++) {
            snprintf(buf, cap, "%s/%s/%s", home[h], rel[i], name);
            if (is_file(buf)) return 0;
            size_t L = strlen(tried);
            snprintf(tried + L, sizeof tried - L, "%s%s", L ? ", " : "", buf);
        }
    }
    if (also_cwd) {   // the CLI's last resort: a binary in a build folder, or a copy, run from the source tree
        snprintf(buf, cap, "assets/%s", name);
        if (is_file(buf)) return 0;
        size_t L = strlen(tried);
        snprintf(tried + L, sizeof tried - L, "%sassets/%s in the current folder", L ? ", " : "", name);
    }
    return err_set("no %s found (looked in %s); give its path, or set REFRAIN_MODEL_DIR", name,
                   tried[0] ? tried : "nowhere");
}

const char *model_file(const char *given, const char *name, int also_cwd, char *buf, size_t cap) {
    if (given) return given;
    return model_find(name, also_cwd, buf, cap) ? NULL : buf;
}
