/* Two "sides" to compare: each a model + profile (+ pipeline), or a dump. */
#ifndef MNV3_CLI_SIDES_H
#define MNV3_CLI_SIDES_H

#include "analysis/analysis.h"
#include "cli.h"

typedef struct cli_side_args {
    const char *profile, *weights, *pipeline, *dump;
    const char *sets[16];
    int n_sets;
} cli_side_args;

typedef struct cli_compare_args {
    cli_side_args side[2];
    const char *input, *image, *images; /* images: a directory */
    const char *json_path, *html_path;
    const char *groups[8]; /* explain --group name=factor,factor */
    int n_groups, json;
} cli_compare_args;

typedef struct cli_side {
    char label[160];
    mnv3_model *model; /* NULL for a dump */
    int owns_model;
    mnv3_profile profile;
    const char *input_label; /* the pipeline named with --x-pipeline, or NULL */
    float *input; /* NCHW n x 3 x h x w */
    mnv3_tensors dump; /* taps: run result or the dump read */
    float *output;     /* n x output size (runs only) */
} cli_side;

typedef struct cli_compare {
    cli_side side[2];
    int n, h, w;
    char note[256];
} cli_compare;

/* Parses the --a-... and --b-... side options and the input options;
 * returns 1 if argv[*i] was one. */
int cli_compare_arg(int argc, char **argv, int *i, cli_compare_args *a, int *status);
/* Loads both sides and their inputs; runs them when dumps is set. */
int cli_compare_open(const cli_compare_args *a, int dumps, cli_compare *c);
void cli_compare_close(cli_compare *c);
/* Processors to use (at most 8). */
int cli_threads(void);
/* Side k (a run, not a dump) as the analysis library sees it. */
mnv3_side cli_side_view(const cli_compare *c, int k);
/* Runs a side, collecting taps. */
int cli_side_run(const cli_compare *c, const mnv3_side *s, mnv3_tensors *taps, float *output,
                 mnv3_error *err);

#endif
