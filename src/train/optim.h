/* optim.h: optimizers (SGD, Adam, AdamW, RMSprop), weight decay and learning-rate
 * schedules, each under the convention the profile's training factors pick
 * (src/factors: optim_sgd, optim_adam, optim_rmsprop, optim_weight_decay,
 * optim_scalars, optim_defaults, lr_schedule), float32 bit for bit.
 *
 * Use:
 *   mnv3_optim_rule rule;   mnv3_optim_rule_from_profile(profile, &rule, err);
 *   mnv3_optim_hyper h;     mnv3_optim_hyper_defaults(&rule, MNV3_OPTIM_ADAM, &h);  h.lr = ...;
 *   per tensor: float *state = calloc(mnv3_optim_state_floats(&rule, &h, n), sizeof(float));  (zeros)
 *   per step (1-based) and tensor:
 *     mnv3_lr_at(&rule, &schedule, step, &lr, err);
 *     mnv3_optim_step_tensor(&rule, &h, step, lr, param, grad, n, state, err);
 * The rule holds plain fields only; the update code reads them and never a
 * factor, option or framework name. Hyper-parameters are doubles, as the python
 * floats the frameworks are given; the rule says where they meet float32.
 *
 * State layout: slots of n floats, in this order, present only when used:
 *   SGD:      momentum (when momentum != 0, or always when rule.sgd_slot_always)
 *   Adam(W):  m, v
 *   RMSprop:  v (square average), mean_grad (centered), momentum (momentum > 0)
 * mnv3_optim_state_slot says where a slot starts (in floats), or -1.
 * The step count (1-based) is the caller's. PyTorch counts per parameter (Adam's
 * state['step'], SGD's momentum buffer born at the parameter's first update); Keras
 * counts per optimizer (iterations + 1). They agree when every tensor is updated at
 * every step; for a tensor frozen for a while, pass its own count under the torch
 * profile and the optimizer's under Keras. Buffers (BatchNorm statistics) are not
 * optimizer tensors: skip them. */
#ifndef MNV3_TRAIN_OPTIM_H
#define MNV3_TRAIN_OPTIM_H

#include <stddef.h>

#include "mnv3.h"

typedef enum mnv3_optimizer_kind {
    MNV3_OPTIM_SGD,
    MNV3_OPTIM_ADAM,
    MNV3_OPTIM_ADAMW,
    MNV3_OPTIM_RMSPROP,
    MNV3_OPTIM_KIND_COUNT
} mnv3_optimizer_kind;
const char *mnv3_optimizer_kind_name(int kind); /* "sgd", "adam", "adamw", "rmsprop"; NULL */
int mnv3_optimizer_kind_find(const char *name); /* -1 when unknown */

typedef struct mnv3_optim_hyper {
    mnv3_optimizer_kind kind;
    double lr;           /* the base learning rate (the schedule's start) */
    double momentum;     /* SGD, RMSprop */
    double dampening;    /* SGD under the gradient-velocity form only */
    double beta1, beta2; /* Adam(W) */
    double eps;          /* Adam(W), RMSprop */
    double rho;          /* RMSprop's decay (torch 'alpha', Keras 'rho') */
    double weight_decay; /* 0: none */
    int nesterov, centered;
} mnv3_optim_hyper;

/* ---- the rule: plain fields resolved from the factor options ---- */
enum { MNV3_SGD_VELOCITY_OF_GRADIENTS, MNV3_SGD_VELOCITY_OF_STEPS };
enum { MNV3_ADAM_CORRECTED_STEP_AND_DENOM, MNV3_ADAM_CORRECTED_LR_EPS_HAT };
enum { MNV3_RMS_EPS_OUTSIDE_SQRT, MNV3_RMS_EPS_INSIDE_SQRT, MNV3_RMS_EPS_INSIDE_RSQRT_ESTIMATE };
enum {
    MNV3_DECAY_COUPLED_L2,        /* g += wd * p */
    MNV3_DECAY_DECOUPLED_SCALE,   /* p *= 1 - lr * wd, before the update */
    MNV3_DECAY_DECOUPLED_SUBTRACT /* p -= p * wd * lr, before the update */
};
enum { MNV3_SCHEDULE_CHAINED_F64, MNV3_SCHEDULE_CLOSED_F32 };

typedef struct mnv3_optim_rule {
    int sgd_form, adam_form, rmsprop_form;
    int sgd_slot_always; /* SGD keeps and updates its momentum slot at momentum 0 */
    int decay_form[MNV3_OPTIM_KIND_COUNT];
    int scalars_f32;   /* 1: every scalar op rounded to float32 (powf, sqrtf); 0: double */
    int schedule_form;
    /* The float32-op forms as a graph optimizer rewrites them: p - p*(wd*lr) for the
     * decoupled subtract; g*(lr*rsqrt(d)) for lr*g/sqrt(d) and lr*g*rsqrt(d), rsqrt
     * by estimate on whole 8-float packets; centered d = v - (mg^2 - eps); schedules
     * multiply by a constant's float32 reciprocal instead of dividing, and the cosine
     * angle is (pi * (1/T)) * step. */
    int graph_rewrites;
    struct {
        double lr, momentum, beta1, beta2, eps, rho, weight_decay;
    } defaults[MNV3_OPTIM_KIND_COUNT];
} mnv3_optim_rule;

int mnv3_optim_rule_from_profile(const mnv3_profile *p, mnv3_optim_rule *rule, mnv3_error *err);

/* Fills h with the rule's framework defaults for kind (everything else zero). */
void mnv3_optim_hyper_defaults(const mnv3_optim_rule *rule, mnv3_optimizer_kind kind,
                               mnv3_optim_hyper *h);
/* MNV3_FAIL (MNV3_ERR_ARGUMENT) for NaN/Inf or out-of-range values. */
int mnv3_optim_hyper_check(const mnv3_optim_rule *rule, const mnv3_optim_hyper *h, mnv3_error *err);

typedef enum { MNV3_SLOT_MOMENTUM, MNV3_SLOT_M, MNV3_SLOT_V, MNV3_SLOT_MEAN_GRAD, MNV3_SLOT_COUNT } mnv3_optim_slot;
const char *mnv3_optim_slot_name(int slot); /* "momentum", "m", "v", "mean_grad" */
int mnv3_optim_state_slots(const mnv3_optim_rule *rule, const mnv3_optim_hyper *h);
/* Floats of state for an n-value tensor (0 when n is too large to count). */
size_t mnv3_optim_state_floats(const mnv3_optim_rule *rule, const mnv3_optim_hyper *h, size_t n);
/* Offset of slot in the state, in floats, or -1 when the optimizer has none. */
long mnv3_optim_state_slot(const mnv3_optim_rule *rule, const mnv3_optim_hyper *h, mnv3_optim_slot slot,
                           size_t n);

/* One update of one tensor at step (1-based) with the learning rate in force
 * (from mnv3_lr_at, or h->lr). state: mnv3_optim_state_floats(rule, h, n) floats,
 * zero before step 1. grad is read only; param and state are updated. */
int mnv3_optim_step_tensor(const mnv3_optim_rule *rule, const mnv3_optim_hyper *h, long step,
                           double lr_now, float *param, const float *grad, size_t n, float *state,
                           mnv3_error *err);

/* ---- learning-rate schedules ---- */
typedef enum {
    MNV3_LR_CONSTANT,
    MNV3_LR_STEP,        /* x gamma every `period` counts (StepLR / ExponentialDecay staircase) */
    MNV3_LR_EXPONENTIAL, /* x gamma^(count/period) (ExponentialLR: period 1 / ExponentialDecay) */
    MNV3_LR_COSINE,      /* cosine from lr to floor*lr over `period` counts
                            (CosineAnnealingLR eta_min = floor*lr / CosineDecay alpha = floor) */
    MNV3_LR_MULTISTEP,   /* x gamma at each milestone count (MultiStepLR / PiecewiseConstantDecay with
                            boundaries milestone-1 and values lr*gamma^i, i milestones passed) */
    MNV3_LR_KIND_COUNT
} mnv3_lr_kind;
const char *mnv3_lr_kind_name(int kind); /* "constant", "step", "exp", "cos", "multi" */
int mnv3_lr_kind_find(const char *name);

#define MNV3_LR_MAX_MILESTONES 8
typedef struct mnv3_lr_schedule {
    mnv3_lr_kind kind;
    double lr;    /* the base learning rate */
    long period;  /* counts */
    double gamma; /* STEP, EXPONENTIAL */
    double floor; /* COSINE */
    long every;   /* optimizer steps per count: 1 per step, steps-per-epoch per epoch */
    int n_milestones; /* MULTISTEP: increasing counts >= 1 */
    long milestones[MNV3_LR_MAX_MILESTONES];
} mnv3_lr_schedule;

/* The learning rate in force at optimizer step `step` (1-based): the schedule
 * has been advanced (step-1)/every times. Under the float32 closed form the
 * result is a float32 value (exact in the double). */
int mnv3_lr_at(const mnv3_optim_rule *rule, const mnv3_lr_schedule *s, long step, double *lr,
               mnv3_error *err);

#endif
