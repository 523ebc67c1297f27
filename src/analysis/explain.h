/* Attribution of the difference between two runs ("sides") to the factors
 * that differ between them: profile factors, the weights, the input. */
#ifndef MNV3_EXPLAIN_H
#define MNV3_EXPLAIN_H

#include "mnv3.h"
#include "factors/factors.h"

typedef struct mnv3_side {
    const mnv3_model *model;
    mnv3_profile profile;
    const float *input; /* n x 3 x h x w, NCHW, as this side's model sees it */
    const char *input_label; /* e.g. the pipeline name; NULL = shared input */
    int threads;             /* runs use the fast kernels (bit-identical to the reference
                                ones) on this many threads; 0 = 1 */
} mnv3_side;

#define MNV3_MAX_EXPLAIN_FACTORS 16

/* What one player switches from A's choice to B's (mnv3_side_switch). */
typedef enum mnv3_switch_kind {
    MNV3_SWITCH_FACTORS, /* the profile factors in the mask */
    MNV3_SWITCH_WEIGHTS,
    MNV3_SWITCH_INPUT    /* the input tensor and its in-model rescaling */
} mnv3_switch_kind;

typedef struct mnv3_switch {
    mnv3_switch_kind kind;
    mnv3_factor_set factors; /* MNV3_SWITCH_FACTORS: bit f set for profile factor f */
} mnv3_switch;

typedef struct mnv3_attribution {
    int n_factors;
    char name[MNV3_MAX_EXPLAIN_FACTORS][48];   /* "padding", "weights", "input" */
    char detail[MNV3_MAX_EXPLAIN_FACTORS][96]; /* "symmetric -> keras_correct_pad" */
    mnv3_switch what[MNV3_MAX_EXPLAIN_FACTORS]; /* what each player switches */
    double shapley[MNV3_MAX_EXPLAIN_FACTORS];  /* contributions; they sum to total */
    double alone[MNV3_MAX_EXPLAIN_FACTORS];    /* A with only this factor switched, vs A */
    double last[MNV3_MAX_EXPLAIN_FACTORS];     /* B vs B with only this factor switched back */
    double total;                              /* distance(B, A) */
    int runs;                                  /* model runs made */
    int exact;                                 /* 1: Shapley over all subsets */
} mnv3_attribution;

/* Optional grouping: factors named in a group switch together as one player
 * (e.g. "formulas" = hardsigmoid,hardswish,batchnorm), which keeps 2^k small. */
typedef struct mnv3_explain_groups {
    int n;
    char name[8][48];
    mnv3_factor_set factors[8]; /* bit f set: profile factor f belongs to the group */
} mnv3_explain_groups;

/* Distance used throughout: relative L2 of the final outputs (logits or
 * pooled features) over all n samples, reference A. Both sides run with
 * output=logits; layout is an interface convention, not a factor. */
int mnv3_explain(const mnv3_side *a, const mnv3_side *b, int n, int h, int w,
                 mnv3_attribution *out, mnv3_error *err);
int mnv3_explain_grouped(const mnv3_side *a, const mnv3_side *b, int n, int h, int w,
                         const mnv3_explain_groups *groups, mnv3_attribution *out,
                         mnv3_error *err);

/* Exact Shapley values of k players from v(S) for every subset mask S
 * (value[0] = v(empty)); they sum to value[all] - value[0]. */
void mnv3_shapley_exact(int k, const double *value, double *phi);

#endif
