/* The embedding API of mnv3_core.h: version, error codes and their names,
 * option defaults, mnv3_tensor_free. Links the core library alone. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "kit.h"
#include "mnv3_core.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static void test_version(void) {
    char macros[32];
    snprintf(macros, sizeof macros, "%d.%d.%d", MNV3_VERSION_MAJOR, MNV3_VERSION_MINOR,
             MNV3_VERSION_PATCH);
    CHECKF(!strcmp(mnv3_version(), macros), "mnv3_version() %s, macros %s", mnv3_version(), macros);
    CHECKF(!strcmp(mnv3_version(), STR(MNV3_PROJECT_VERSION)), "mnv3_version() %s, CMake %s",
          mnv3_version(), STR(MNV3_PROJECT_VERSION));
    CHECKF(MNV3_VERSION_NUMBER == MNV3_VERSION_MAJOR * 10000 + MNV3_VERSION_MINOR * 100 +
                                     MNV3_VERSION_PATCH,
          "MNV3_VERSION_NUMBER");
}

static void test_code_names(void) {
    for (int a = 0; a < MNV3_ERR_COUNT; a++) {
        const char *name = mnv3_error_code_name(a);
        CHECKF(name && *name && strcmp(name, "unknown"), "code %d has no name", a);
        for (int b = 0; b < a; b++)
            CHECKF(strcmp(name, mnv3_error_code_name(b)), "codes %d and %d share '%s'", a, b, name);
    }
    CHECKF(!strcmp(mnv3_error_code_name(MNV3_ERR_IO), "io"), "MNV3_ERR_IO is '%s'",
          mnv3_error_code_name(MNV3_ERR_IO));
    CHECKF(!strcmp(mnv3_error_code_name(-1), "unknown"), "code -1");
    CHECKF(!strcmp(mnv3_error_code_name(MNV3_ERR_COUNT), "unknown"), "code MNV3_ERR_COUNT");
}

static void test_codes(void) {
    mnv3_tensors ts = {0};
    mnv3_error err = {{0}, MNV3_ERR_NONE};
    int64_t shape[1] = {1};
    int rc = mnv3_tensors_add(&ts, "x", MNV3_F32, MNV3_MAX_DIMS + 1, shape, malloc(4), &err);
    CHECKF(rc == MNV3_FAIL && err.code == MNV3_ERR_ARGUMENT, "too many dims: rc %d code %s (%s)",
          rc, mnv3_error_code_name(err.code), err.message);
    CHECKF(strchr(err.message, '\n') == NULL && err.message[0], "one line: '%s'", err.message);
    /* err may be NULL */
    rc = mnv3_tensors_add(&ts, "x", MNV3_F32, -1, shape, malloc(4), NULL);
    CHECKF(rc == MNV3_FAIL, "NULL err: rc %d", rc);
    mnv3_tensors_free(&ts);
}

static void test_defaults_and_free(void) {
    mnv3_run_options ro = mnv3_run_options_default();
    CHECKF(ro.profile && ro.profile == mnv3_profile_find("torch"), "run default profile");
    CHECKF(!ro.tap && !ro.tap_user && !ro.replay, "run defaults: no tap, no replay");
    mnv3_session_options so = mnv3_session_options_default();
    CHECKF(so.kernels && !strcmp(so.kernels, "fast") && so.threads == 1 && so.max_batch == 0 &&
              !so.isa && !so.tap,
          "session defaults");

    /* The defaults run a model: reference run and a default session agree. */
    mnv3_tensors w = {0};
    mnv3_model *m = NULL;
    mnv3_session *s = NULL;
    mnv3_error err = {{0}, MNV3_ERR_NONE};
    const int classes = 10;
    int ok = mnv3_synth_weights(7, classes, &w, &err) == MNV3_OK &&
             mnv3_model_from_tensors(&w, "synth", &m, NULL, &err) == MNV3_OK;
    mnv3_tensors_free(&w);
    enum { H = 64, W = 64 };
    float *input = malloc(3 * H * W * sizeof *input);
    int n_out = ok ? mnv3_output_size(m) : 0;
    float *a = calloc((size_t)n_out + 1, sizeof *a), *b = calloc((size_t)n_out + 1, sizeof *b);
    mnv3_synth_input(7, 1, 3, H, W, input);
    ok = ok && mnv3_run(m, &ro, input, MNV3_NCHW, 1, H, W, a, &err) == MNV3_OK &&
         mnv3_session_create(m, ro.profile, H, W, MNV3_NCHW, &so, &s, &err) == MNV3_OK &&
         mnv3_session_run(s, input, 1, b, &err) == MNV3_OK;
    CHECKF(ok, "defaults do not run: %s", err.message);
    CHECKF(ok && n_out == classes && !memcmp(a, b, (size_t)n_out * sizeof *a),
          "mnv3_run and a default session differ");
    mnv3_session_free(s);
    mnv3_model_free(m);
    free(input), free(a), free(b);

    mnv3_tensor t = {0};
    t.name = malloc(2);
    t.data = malloc(8);
    mnv3_tensor_free(&t);
    CHECKF(!t.name && !t.data && t.ndim == 0, "mnv3_tensor_free zeroes the tensor");
    mnv3_tensor_free(NULL);
    mnv3_tensors_free(NULL);
}

int main(void) {
    test_version();
    test_code_names();
    test_codes();
    test_defaults_and_free();
    if (kit_failures) printf("%d kit_failures\n", kit_failures);
    else printf("api core: all passed\n");
    return kit_failures ? 1 : 0;
}
