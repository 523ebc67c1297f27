/* Reports of a comparison: terminal, JSON (schema in docs/analysis.md), HTML. */
#ifndef MNV3_CLI_REPORT_H
#define MNV3_CLI_REPORT_H

#include <cjson/cJSON.h>

#include "sides.h"

typedef struct cli_agreement {
    int samples, has_classes;
    double rel_l2, max_abs;    /* B's final output against A's */
    int top1_agree, top5_same_order;
    double top5_overlap;       /* mean fraction of shared top-5 classes */
    double kl_mean;            /* mean KL(softmax A || softmax B), nats */
} cli_agreement;

void cli_output_agreement(const float *a, const float *b, int n, int k, int classes,
                          cli_agreement *g);
void cli_print_agreement(const cli_agreement *g);
void cli_print_explain(const cli_compare *c, const mnv3_attribution *at);
cJSON *cli_compare_json(const cli_compare *c, const char *first, double ratio,
                        const cli_agreement *g);
cJSON *cli_explain_json(const cli_compare *c, const mnv3_attribution *at);
/* One self-contained HTML file (inline SVG, no network). at may be NULL. */
int cli_write_compare_html(const char *path, const cli_compare *c, const char *first,
                           double ratio, const cli_agreement *g, const mnv3_attribution *at);

int cmd_compare(int argc, char **argv);
int cmd_explain(int argc, char **argv);

#endif
