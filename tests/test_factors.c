/* The factor table and the plan's resolution: every option is named and
 * reachable with --set, every profile row names a valid option of every
 * factor, and switching one factor changes exactly the per-op fields the
 * plan derives from it (so no field silently ignores its factor). */
#include <stdio.h>
#include <string.h>

#include "kit.h"
#include "core/model.h"
#include "core/plan.h"
#include "factors/factors.h"

static void test_table(void) {
    CHECKF(mnv3_factor_count() == MNV3_FACTOR_COUNT, "factor count");
    for (int f = 0; f < mnv3_factor_count(); f++) {
        const char *name = mnv3_factor_name(f);
        CHECKF(name && mnv3_factor_description(f), "factor %d has a name and a description", f);
        CHECKF(mnv3_factor_find(name) == f, "factor %s found by name", name);
        CHECKF(mnv3_factor_option_count(f) >= 2, "factor %s has options", name);
        for (int o = 0; o < mnv3_factor_option_count(f); o++) {
            const char *opt = mnv3_factor_option_name(f, o);
            CHECKF(opt && mnv3_factor_option_description(f, o), "%s option %d named", name, o);
            if (!opt) continue;
            CHECKF(mnv3_factor_option_find(f, opt) == o, "%s=%s is unique", name, opt);
            mnv3_profile p = *mnv3_profile_at(0);
            char set[96];
            mnv3_error err;
            snprintf(set, sizeof set, "%s=%s", name, opt);
            CHECKF(mnv3_profile_set(&p, set, &err) == MNV3_OK && p.option[f] == o, "--set %s", set);
        }
    }
    for (int i = 0; i < mnv3_profile_count(); i++) {
        const mnv3_profile *p = mnv3_profile_at(i);
        CHECKF(mnv3_profile_find(p->name) == p, "profile %s found by name", p->name);
        for (int f = 0; f < MNV3_FACTOR_COUNT; f++)
            CHECKF(p->option[f] >= 0 && p->option[f] < mnv3_factor_option_count(f),
                  "profile %s: factor %s option %d", p->name, mnv3_factor_name(f), p->option[f]);
    }
}

/* Every field of every op of the plan, as one comparable record. */
static void fields(const mnv3_exec_op *e, int *out) {
    const int v[] = {e->pad_top, e->pad_left, e->pad_bottom, e->pad_right,
                     e->conv_fused_from_batch, e->pointwise_fma, e->bias_first, e->bn_apply,
                     e->bn_rsqrt, e->hardsigmoid, e->hardswish, e->pool_order, e->f64,
                     e->bn_batch_stats, e->bn_train_apply, e->bn_update, e->bn_refuse_single_value,
                     e->bn_update_unbiased, e->hardswish_grad, e->hardsigmoid_grad};
    memcpy(out, v, sizeof v);
}
enum { N_FIELDS = 20 };

/* Switching any option of a factor that reaches the kernels changes some
 * resolved field of some op; the interface factors change the plan's ops. */
static void test_resolution(void) {
    mnv3_tensors ts;
    mnv3_model *m = NULL;
    mnv3_error err;
    if (mnv3_synth_weights(1, 10, &ts, &err) != MNV3_OK ||
        mnv3_model_from_tensors(&ts, "synthetic", &m, NULL, &err) != MNV3_OK) {
        CHECKF(0, "model: %s", err.message);
        return;
    }
    static mnv3_plan base, other;
    /* at 64 x 64 the stem sees 12288 values: conv_order=torch_cpu differs by batch there */
    const mnv3_profile *torch = mnv3_profile_find("torch");
    CHECKF(mnv3_plan_build(m, torch, 64, 64, &base, &err) == MNV3_OK, "plan: %s", err.message);
    for (int f = 0; f < MNV3_FACTOR_COUNT; f++)
        for (int o = 0; o < mnv3_factor_option_count(f); o++) {
            if (o == torch->option[f]) continue;
            /* optimizer factors resolve into mnv3_optim_rule (checked in tests/optim) */
            if (f >= MNV3_FACTOR_OPTIM_SGD && f <= MNV3_FACTOR_OPTIM_TF_GRAPH) continue;
            mnv3_profile p = *torch;
            p.option[f] = o;
            if (mnv3_plan_build(m, &p, 64, 64, &other, &err) != MNV3_OK) {
                CHECKF(0, "plan %s=%s: %s", mnv3_factor_name(f), mnv3_factor_option_name(f, o), err.message);
                continue;
            }
            mnv3_train_rule rule_base, rule_other;
            mnv3_plan_train_rule(torch, &rule_base);
            mnv3_plan_train_rule(&p, &rule_other);
            int changed = other.n != base.n || memcmp(&rule_base, &rule_other, sizeof rule_base) != 0;
            for (int i = 0; i < base.n && i < other.n && !changed; i++) {
                int a[N_FIELDS], b[N_FIELDS];
                fields(&base.ops[i], a);
                fields(&other.ops[i], b);
                changed = memcmp(a, b, sizeof a) != 0;
            }
            /* layout only says how callers pass input; output=softmax needs a head (there is one) */
            if (f == MNV3_FACTOR_LAYOUT) continue;
            if (mnv3_factor_is_integer(f)) continue; /* quantized plans: tests/int8 */
            CHECKF(changed, "%s=%s changes no resolved field", mnv3_factor_name(f),
                  mnv3_factor_option_name(f, o));
        }
    mnv3_model_free(m);
    mnv3_tensors_free(&ts);
}

int main(void) {
    test_table();
    test_resolution();
    if (kit_failures) {
        printf("%d failure(s)\n", kit_failures);
        return 1;
    }
    printf("factors: all checks passed\n");
    return 0;
}
