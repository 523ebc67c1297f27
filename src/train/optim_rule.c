/* optim_rule.c: the optimizer resolver: the profile's optimizer factor options
 * (src/factors) become the plain fields of mnv3_optim_rule (src/train/optim.h),
 * as src/core/plan.c does for inference. The only optimizer code that reads an
 * option. */
#include <string.h>

#include "core/util.h"
#include "factors/factors.h"
#include "train/optim.h"

#define FILE_LABEL "optim"

int mnv3_optim_rule_from_profile(const mnv3_profile *p, mnv3_optim_rule *rule, mnv3_error *err) {
    if (!p || !rule) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "no profile or rule");
    const int *o = p->option;
    const int sgd = o[MNV3_FACTOR_OPTIM_SGD], adam = o[MNV3_FACTOR_OPTIM_ADAM],
              rms = o[MNV3_FACTOR_OPTIM_RMSPROP], wd = o[MNV3_FACTOR_OPTIM_WEIGHT_DECAY],
              sc = o[MNV3_FACTOR_OPTIM_SCALARS], def = o[MNV3_FACTOR_OPTIM_DEFAULTS],
              lr = o[MNV3_FACTOR_LR_SCHEDULE], graph = o[MNV3_FACTOR_OPTIM_TF_GRAPH];
    if (sgd < 0 || sgd >= MNV3_OPTIM_SGD_COUNT || adam < 0 || adam >= MNV3_OPTIM_ADAM_COUNT || rms < 0 ||
        rms >= MNV3_OPTIM_RMSPROP_COUNT || wd < 0 || wd >= MNV3_OPTIM_WEIGHT_DECAY_COUNT || sc < 0 ||
        sc >= MNV3_OPTIM_SCALARS_COUNT || def < 0 || def >= MNV3_OPTIM_DEFAULTS_COUNT || lr < 0 ||
        lr >= MNV3_LR_SCHEDULE_COUNT || graph < 0 || graph >= MNV3_OPTIM_TF_GRAPH_COUNT)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "profile '%s': optimizer option out of range",
                              p->name);
    memset(rule, 0, sizeof *rule);
    rule->sgd_form = sgd == MNV3_OPTIM_SGD_TORCH ? MNV3_SGD_VELOCITY_OF_GRADIENTS : MNV3_SGD_VELOCITY_OF_STEPS;
    rule->sgd_slot_always = sgd == MNV3_OPTIM_SGD_TF_KERAS;
    rule->adam_form =
        adam == MNV3_OPTIM_ADAM_TORCH ? MNV3_ADAM_CORRECTED_STEP_AND_DENOM : MNV3_ADAM_CORRECTED_LR_EPS_HAT;
    rule->rmsprop_form = rms == MNV3_OPTIM_RMSPROP_TORCH   ? MNV3_RMS_EPS_OUTSIDE_SQRT
                         : rms == MNV3_OPTIM_RMSPROP_KERAS ? MNV3_RMS_EPS_INSIDE_SQRT
                                                           : MNV3_RMS_EPS_INSIDE_RSQRT_ESTIMATE;
    for (int k = 0; k < MNV3_OPTIM_KIND_COUNT; k++) {
        if (wd == MNV3_OPTIM_WEIGHT_DECAY_KERAS)
            rule->decay_form[k] = MNV3_DECAY_DECOUPLED_SUBTRACT;
        else
            rule->decay_form[k] = k == MNV3_OPTIM_ADAMW ? MNV3_DECAY_DECOUPLED_SCALE : MNV3_DECAY_COUPLED_L2;
        const mnv3_optim_defaults *d = mnv3_optim_defaults_of(def, k);
        rule->defaults[k].lr = d->lr;
        rule->defaults[k].momentum = d->momentum;
        rule->defaults[k].beta1 = d->beta1;
        rule->defaults[k].beta2 = d->beta2;
        rule->defaults[k].eps = d->eps;
        rule->defaults[k].rho = d->rho;
        rule->defaults[k].weight_decay = d->weight_decay;
    }
    rule->scalars_f32 = sc == MNV3_OPTIM_SCALARS_F32;
    rule->graph_rewrites = graph == MNV3_OPTIM_TF_GRAPH_GRAPPLER;
    rule->schedule_form = lr == MNV3_LR_SCHEDULE_TORCH ? MNV3_SCHEDULE_CHAINED_F64 : MNV3_SCHEDULE_CLOSED_F32;
    return MNV3_OK;
}

void mnv3_optim_hyper_defaults(const mnv3_optim_rule *rule, mnv3_optimizer_kind kind, mnv3_optim_hyper *h) {
    memset(h, 0, sizeof *h);
    h->kind = kind;
    if (!rule || kind < 0 || kind >= MNV3_OPTIM_KIND_COUNT) return;
    h->lr = rule->defaults[kind].lr;
    h->momentum = rule->defaults[kind].momentum;
    h->beta1 = rule->defaults[kind].beta1;
    h->beta2 = rule->defaults[kind].beta2;
    h->eps = rule->defaults[kind].eps;
    h->rho = rule->defaults[kind].rho;
    h->weight_decay = rule->defaults[kind].weight_decay;
}
