/* libFuzzer target: quantized TFLite models, the path of `mnv3 run` on a
 * uint8 / int8 .tflite: the flatbuffer reader, the qgraph copy
 * (src/formats/tflite_quant.c), the plan that checks every parameter
 * (src/quant/qplan.c) under the three integer profiles, and, for plans that
 * are accepted and small (1 MiB of activations, 2^24 multiply-adds), one
 * run on a zero input. */
#include <stdlib.h>
#include <string.h>

#include "formats/tflite.h"
#include "quant/qgraph.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_message(const mnv3_error *err) {
    if (strncmp(err->message, "fuzz.tflite: ", 13) != 0 || strchr(err->message, '\n'))
        abort(); /* every error is one line naming the file */
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    mnv3_qgraph *g = NULL;
    mnv3_error err;
    if (mnv3_qgraph_from_tflite(data, size, "fuzz.tflite", &g, &err) != MNV3_OK) {
        check_message(&err);
        return 0;
    }
    static const char *profiles[] = {"litert-int8-ref", "litert-int8-builtin", "litert-int8"};
    const char *profile = profiles[size % 3];
    mnv3_qplan *p = NULL;
    if (mnv3_qplan_create(g, mnv3_profile_find(profile), &p, &err) == MNV3_OK) {
        /* Runs only small graphs: a 4 KB model may legally ask for 256 MiB of
         * activations and 2^31 multiply-adds (seconds in a release build,
         * minutes under the fuzzer's instrumentation). */
        size_t n = g->tensors[g->input].numel;
        if (n <= (size_t)1 << 16 && mnv3_qgraph_activation_bytes(g) <= (1u << 20) &&
            mnv3_qgraph_macs(g, 1u << 24) <= (1u << 24)) {
            unsigned char *x = calloc(n ? n : 1, 1);
            if (x && mnv3_qplan_run(p, x, n, &err) != MNV3_OK) check_message(&err);
            free(x);
        }
    } else {
        check_message(&err);
    }
    mnv3_qplan_free(p);
    mnv3_qgraph_free(g);
    return 0;
}
