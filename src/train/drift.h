/* Drift: the same fine-tuning under two profiles, and how far apart it takes them.
 *
 *   mnv3_drift_setup s = {model, profile_a, profile_b, &data, &training, steps, ...};
 *   mnv3_drift_result r;
 *   mnv3_drift_run(&s, &r, err);     r.points[i]: distances after step r.points[i].step
 *   mnv3_drift_result_free(&r);
 *
 * Both runs start from the same weights and take the same batches in the same
 * order with the same dropout masks (A's generator). What may differ is every
 * convention the profiles resolve: the forward formulas and padding, the
 * BatchNorm in training, the activation gradients, the loss reduction,
 * dropout's multiply, the optimizer and its defaults. The input convention
 * (layout, in-model rescale) and the output are A's on both sides, since both
 * read the same data.
 *
 * At chosen steps the distance is attributed to those conventions by exact
 * Shapley values: each player (a group of factors, drift_players in drift.c)
 * is switched from A's choice to B's, every subset of players is trained from
 * step 0, and v(S) is the distance of that run to A's at the step. v(empty) =
 * 0 and v(all) = the measured distance, so the contributions add up to it. */
#ifndef MNV3_TRAIN_DRIFT_H
#define MNV3_TRAIN_DRIFT_H

#include "analysis/explain.h"
#include "train/finetune.h"

typedef struct mnv3_drift_setup {
    const mnv3_model *model;
    mnv3_profile a, b;
    const mnv3_finetune_data *data;
    const mnv3_training_choice *training;
    long steps;
    long eval_every;        /* distances after every this many steps (and 0 and the last); 0 = 1 */
    const float *held_out;  /* n_held samples, NCHW at the data's size: never trained on */
    int n_held;
    const long *attribute_at; /* steps to attribute (each <= steps), increasing */
    int n_attribute;
    int threads;            /* for the held-out runs */
} mnv3_drift_setup;

typedef struct mnv3_drift_point {
    long step;
    double weights;        /* relative L2 of B's trainable parameters to A's, all together */
    double stats;          /* the same over the BatchNorm running statistics */
    double outputs;        /* held-out logits, each side under its own profile */
    double outputs_common; /* held-out logits, both under A's profile: the weights' share */
    double top1_agreement; /* held-out, each under its own profile */
    char worst[64];        /* the parameter tensor farthest apart, and its relative L2 */
    double worst_rel_l2;
    float loss_a, loss_b;  /* the step's batch losses (NAN at step 0) */
    double acc_a, acc_b;   /* the step's batch accuracies */
} mnv3_drift_point;

#define MNV3_DRIFT_MAX_PLAYERS 8
typedef struct mnv3_drift_attribution {
    long step;
    int n_players;
    char name[MNV3_DRIFT_MAX_PLAYERS][48];
    char detail[MNV3_DRIFT_MAX_PLAYERS][160];
    double outputs[MNV3_DRIFT_MAX_PLAYERS]; /* Shapley shares of the held-out output distance */
    double weights[MNV3_DRIFT_MAX_PLAYERS]; /* ... of the weight distance */
    double outputs_alone[MNV3_DRIFT_MAX_PLAYERS], weights_alone[MNV3_DRIFT_MAX_PLAYERS];
    double outputs_total, weights_total;    /* the measured distances they add up to */
    int runs;                               /* fine-tuning runs trained for it */
} mnv3_drift_attribution;

typedef struct mnv3_drift_result {
    int n_points;
    mnv3_drift_point *points;
    int n_attributions;
    mnv3_drift_attribution *attributions;
} mnv3_drift_result;

int mnv3_drift_run(const mnv3_drift_setup *s, mnv3_drift_result *r, mnv3_error *err);
void mnv3_drift_result_free(mnv3_drift_result *r);

#endif
