/* Shared pieces of the mnv3 command-line tool. One file per subcommand. */
#ifndef MNV3_CLI_H
#define MNV3_CLI_H

#include <stdio.h>

#include "mnv3.h"
#include "session_env.h"
#include "train/drift.h"

typedef int (*cli_command_fn)(int argc, char **argv);

int cmd_run(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
int cmd_layers(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_synth_input(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_weights_diff(int argc, char **argv);
int cmd_preprocess(int argc, char **argv);
int cmd_pipelines(int argc, char **argv);
int cmd_bn(int argc, char **argv);
int cmd_train(int argc, char **argv);


/* Prints "mnv3: message" to stderr; returns the exit status 1 (2 for usage). */
int cli_error(const mnv3_error *err);
/* text (a name or path from a file) with control characters written as \xNN,
 * for printing; one of 8 rotating buffers, so valid until 8 more calls. */
const char *cli_safe(const char *text);
/* MNV3_MAX_FILE_BYTES (K, M, G: powers of 1024) and MNV3_MAX_IMAGE_PIXELS
 * (K, M, G: powers of 1000) -> the library's budgets (it reads no
 * environment). 0, or 2 after one line when a value is not a number. */
int cli_budgets_from_env(void);
/* 1, after printing the one-line error naming path, when t holds NaN/Inf
 * (and --allow-problems was not given). */
int cli_input_not_finite(const mnv3_tensor *t, const char *path);
/* Quantized TFLite models (cmd_run_quant.c): mnv3 run dispatches there. */
int cli_weights_are_quantized(int argc, char **argv);
int cmd_run_quant(int argc, char **argv);
int cli_usage_error(const char *fmt, ...);

/* Option parsing: if argv[*i] is name, stores the next argument. */
int cli_take(int argc, char **argv, int *i, const char *name, const char **value);
int cli_parse_int(const char *text, const char *what, long lo, long hi, long *out);

/* Options shared by run and dump. */
typedef struct cli_model_args {
    const char *weights, *input, *profile_name, *layout_name, *image, *pipeline;
    const char *sets[16];
    int n_sets;
} cli_model_args;

/* Consumes one shared option at argv[*i]; returns 1 if it was one. */
int cli_model_arg(int argc, char **argv, int *i, cli_model_args *a, int *status);

typedef struct cli_session {
    mnv3_model *model;
    mnv3_profile profile;
    mnv3_layout layout;
    mnv3_tensor input;
    int n, h, w;
} cli_session;

/* Loads weights, profile and input; returns 0 or an exit status. */
int cli_session_open(const cli_model_args *a, cli_session *s);
void cli_session_close(cli_session *s);

/* Session options from the environment, the step-time table: session_env.h. */

/* Label of class i for a 1000- or 1001-class head, or NULL. */
const char *cli_imagenet_label(int num_classes, int i);

/* Layer-by-layer comparison of a against ref (keys in a's order); returns the
 * number of layers over max_rel_l2 or missing/misshaped (0 = all within). */
int cli_diff_table(const mnv3_tensors *a, const mnv3_tensors *ref, const char *a_label,
                   const char *ref_label, double max_rel_l2, int json);

/* One layer's metrics as a JSON object (the schema of docs/analysis.md). */
struct cJSON;
struct cJSON *cli_diff_json(const char *name, const mnv3_diff *d);

/* Prints a JSON document to stdout and frees it. */
void cli_print_json(struct cJSON *root);

/* Same, optionally comparing only the layers present in both dumps. */
int cli_diff_table_ex(const mnv3_tensors *a, const mnv3_tensors *ref, const char *a_label,
                      const char *ref_label, double max_rel_l2, int json, int common_only);

/* Collects taps into one [N, ...] tensor per layer (used by dump and demo). */
typedef struct cli_tap_collector {
    mnv3_tensors taps;
    int n;
    int failed;
    mnv3_error err;
} cli_tap_collector;
void cli_collect_tap(void *user, int sample, const char *name, int ndim, const int64_t *shape,
                     const float *data);

/* The options train and drift share (cmd_train.c). */
typedef struct cli_training_args {
    const char *weights, *data, *optimizer;
    double lr, momentum, weight_decay, dropout, label_smoothing;
    int have_momentum, shuffle, kind;
    long batch, steps, epochs, seed, classes, threads;
} cli_training_args;
/* A command's own option: 1 taken, 0 not its own, 2 a usage error already printed. */
typedef int (*cli_option_fn)(const char *name, const char *value, void *user);
int cli_parse_training(int argc, char **argv, const char *command, cli_training_args *a, cli_option_fn extra,
                       void *user);
mnv3_training_choice cli_training_choice(const cli_training_args *a);
/* The weights to train, with a seeded head of --classes K when asked for or
 * when the weights are a backbone. */
int cli_training_model(const cli_training_args *a, mnv3_model **out, mnv3_error *err);

/* Labelled data for train and drift: an .npz with x (float32, NCHW or NHWC,
 * 3 channels, finite) and y (one label per sample, each < classes). */
typedef struct cli_dataset {
    mnv3_tensors file;
    mnv3_finetune_data view; /* points into file */
} cli_dataset;
int cli_load_dataset(const char *path, int nhwc, int classes, cli_dataset *d, mnv3_error *err);
void cli_dataset_free(cli_dataset *d);

#endif
