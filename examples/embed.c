/* embed.c: mnv3 inside a program. Seeded synthetic weights -> model ->
 * session -> the top class of a seeded input. Build against an install:
 *   cc embed.c $(pkg-config --cflags --libs mnv3) -o embed
 * or with examples/CMakeLists.txt (find_package(mnv3)). */
#include <mnv3.h>
#include <stdio.h>

enum { SIZE = 224, CLASSES = 1000 };
static float input[3 * SIZE * SIZE], output[CLASSES];

int main(void) {
    mnv3_tensors weights = {0};
    mnv3_model *model = NULL;
    mnv3_session *session = NULL;
    mnv3_session_options options = mnv3_session_options_default();
    mnv3_error err;
    mnv3_synth_input(1, 1, 3, SIZE, SIZE, input);
    int rc = mnv3_synth_weights(1, CLASSES, &weights, &err) == MNV3_OK &&
             mnv3_model_from_tensors(&weights, "synth", &model, NULL, &err) == MNV3_OK &&
             mnv3_session_create(model, mnv3_profile_find("torch"), SIZE, SIZE, MNV3_NCHW,
                                 &options, &session, &err) == MNV3_OK &&
             mnv3_session_run(session, input, 1, output, &err) == MNV3_OK;
    mnv3_tensors_free(&weights); /* the model holds its own copy */
    if (!rc) {
        fprintf(stderr, "embed: %s error: %s\n", mnv3_error_code_name(err.code), err.message);
        return 1;
    }
    int top = 0;
    for (int i = 1; i < CLASSES; i++)
        if (output[i] > output[top]) top = i;
    printf("mnv3 %s, %s: top class %d, logit %.9g\n", mnv3_version(),
           mnv3_session_kernels(session), top, output[top]);
    mnv3_session_free(session); /* before its model */
    mnv3_model_free(model);
    return 0;
}
