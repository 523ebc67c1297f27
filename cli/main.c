/* mnv3: MobileNetV3 under each framework's numerics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

static const struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} commands[] = {
    {"explain", cmd_explain, "attribute the difference between two sides to each factor "
                             "(default: torch vs keras, built-in)"},
    {"compare", cmd_compare, "compare two sides layer by layer: --a-profile/--a-weights/--a-pipeline"
                             "/--a-dump, --b-..., --input|--image, --json, --html"},
    {"demo", cmd_demo, "built-in default: seeded weights and input, torch profile, float32 vs float64"},
    {"run", cmd_run, "run a model: --weights W --profile P --input X.npy|--image F --pipeline PL\n"
                     "               [--layout nchw|nhwc] [--output OUT.npy] [--json]"},
    {"dump", cmd_dump, "write every layer's activation: --weights W --profile P --input X.npy --out ACTS.npz\n"
     "               [--replay REF.npz: each op reads its inputs from REF, isolating its own error]"},
    {"diff", cmd_diff, "compare two activation dumps layer by layer: A.npz REFERENCE.npz\n"
     "               [--max-rel-l2 B] [--check-top5 LAYER] [--common] [--json]"},
    {"convert", cmd_convert, "weights between frameworks: IN OUT(.safetensors|.weights.h5) [--to torch|keras|canonical]"},
    {"weights-diff", cmd_weights_diff, "compare two weight files after mapping names/layouts: A B [--json]"},
    {"info", cmd_info, "describe a weight file and every problem in it"},
    {"profiles", cmd_profiles, "list profiles and their factor choices"},
    {"layers", cmd_layers, "canonical layer names with torchvision and Keras names"},
    {"synth", cmd_synth, "write seeded synthetic weights: --seed S --classes C --out W.safetensors"},
    {"preprocess", cmd_preprocess, "run a framework's image pipeline: --pipeline P IMAGE -o X.npy [--layout nchw|nhwc]"},
    {"pipelines", cmd_pipelines, "list the image preprocessing pipelines and their steps"},
    {"train", cmd_train, "fine-tune under a profile's training semantics: --weights W --profile P --data D.npz\n"
                         "      --optimizer sgd|adam|adamw|rmsprop --lr X [--momentum M] --batch N (--steps K|--epochs E)\n"
                         "      [--dropout P] [--seed S] [--shuffle] [--classes K] --out OUT.pth|OUT.weights.h5"},
    {"bn", cmd_bn, "BatchNorm lab: bn train|report|momentum (training mode, running statistics, folding)"},
    {"synth-input", cmd_synth_input, "write a seeded input: --seed S --batch N --size H W [--layout nhwc] [--pixels] --out X.npy"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: mnv3 COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nEvery run/dump takes --set factor=option to switch one factor of the profile,\n"
               "and --kernels reference|fast --threads N to choose the kernels.\n"
               "--allow-problems loads weights with impossible values (a negative running_var,\n"
               "magnitudes that overflow float32, a config's BatchNorm epsilon <= 0) that are\n"
               "otherwise refused.\n"
               "\nLimits on untrusted files (docs/reliability.md), from the environment:\n"
               "  MNV3_MAX_FILE_BYTES=2G     bytes one file may make mnv3 allocate (256M)\n"
               "  MNV3_MAX_IMAGE_PIXELS=200M pixels an image may declare (89478485, Pillow's)\n"
               "  MNV3_MAX_JPEG_SCANS=500    scans of a progressive JPEG (100, fewer when large)\n");
}

int main(int argc, char **argv) {
    /* The CLI reads files from anywhere: a libhdf5 crash on a hostile .h5 should
     * be one error line, not a dead process. */
    mnv3_set_hdf5_sandbox(1);
    /* libzip turns every member's DOS time into a time_t with mktime, which
     * stats /etc/localtime each call: 4 stats per member of a 200,000-member
     * .npz. mnv3 prints no local time, so a fixed zone costs nothing. */
    setenv("TZ", "UTC0", 0);
    int budgets = cli_budgets_from_env();
    if (budgets) return budgets;
    /* --allow-problems anywhere: load weights with impossible values anyway. */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--allow-problems")) {
            mnv3_set_allow_problems(1);
            for (int j = i; j < argc; j++) argv[j] = argv[j + 1];
            argc--;
            break;
        }
    if (argc < 2) return cmd_explain(0, NULL);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 2, argv + 2);
    fprintf(stderr, "mnv3: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
