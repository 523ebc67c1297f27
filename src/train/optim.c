/* optim.c: the optimizer updates and learning-rate schedules of src/train/optim.h.
 * They read the rule's plain fields only (the resolver, optim_rule.c, reads the
 * factor options). Every float32 operation is written in the order and rounding
 * measured (docs/optimizers.md): "scaled add" a + s*b is fma(b, s, a), "addcmul"
 * a + s*b*c is fma(s*b, c, a), "addcdiv" a + s*b/c is a + (s*b)/c; elsewhere each
 * op rounds. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/util.h"
#include "kernels/kernels.h"
#include "train/optim.h"

#define FILE_LABEL "optim"

static const char *const kind_names[MNV3_OPTIM_KIND_COUNT] = {"sgd", "adam", "adamw", "rmsprop"};
static const char *const slot_names[MNV3_SLOT_COUNT] = {"momentum", "m", "v", "mean_grad"};
static const char *const lr_kind_names[MNV3_LR_KIND_COUNT] = {"constant", "step", "exp", "cos", "multi"};

const char *mnv3_optimizer_kind_name(int kind) {
    return kind >= 0 && kind < MNV3_OPTIM_KIND_COUNT ? kind_names[kind] : NULL;
}
int mnv3_optimizer_kind_find(const char *name) {
    for (int k = 0; k < MNV3_OPTIM_KIND_COUNT; k++)
        if (strcmp(kind_names[k], name) == 0) return k;
    return -1;
}
const char *mnv3_optim_slot_name(int slot) {
    return slot >= 0 && slot < MNV3_SLOT_COUNT ? slot_names[slot] : NULL;
}
const char *mnv3_lr_kind_name(int kind) {
    return kind >= 0 && kind < MNV3_LR_KIND_COUNT ? lr_kind_names[kind] : NULL;
}
int mnv3_lr_kind_find(const char *name) {
    for (int k = 0; k < MNV3_LR_KIND_COUNT; k++)
        if (strcmp(lr_kind_names[k], name) == 0) return k;
    return -1;
}

int mnv3_optim_hyper_check(const mnv3_optim_rule *rule, const mnv3_optim_hyper *h, mnv3_error *err) {
    if (!rule || !h) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "no rule or hyper-parameters");
    if (h->kind < 0 || h->kind >= MNV3_OPTIM_KIND_COUNT)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "unknown optimizer kind %d", (int)h->kind);
    const double v[] = {h->lr, h->momentum, h->dampening, h->beta1, h->beta2, h->eps, h->rho, h->weight_decay};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i]))
            return mnv3_fail_code(err, MNV3_ERR_NONFINITE, FILE_LABEL, "%s: a hyper-parameter is NaN or infinite",
                                  kind_names[h->kind]);
    if (h->lr < 0 || h->momentum < 0 || h->weight_decay < 0 || h->eps < 0)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL,
                              "%s: lr, momentum, weight decay and eps must be >= 0", kind_names[h->kind]);
    if ((h->kind == MNV3_OPTIM_ADAM || h->kind == MNV3_OPTIM_ADAMW) &&
        (h->beta1 < 0 || h->beta1 >= 1 || h->beta2 < 0 || h->beta2 >= 1))
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "adam: betas must be in [0, 1)");
    if (h->kind == MNV3_OPTIM_RMSPROP && (h->rho < 0 || h->rho > 1))
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "rmsprop: rho (alpha) must be in [0, 1]");
    if (h->kind == MNV3_OPTIM_SGD) {
        if (h->nesterov && (h->momentum <= 0 || h->dampening != 0))
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL,
                                  "sgd: nesterov needs momentum > 0 and no dampening");
        if (h->dampening != 0 && rule->sgd_form == MNV3_SGD_VELOCITY_OF_STEPS)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL,
                                  "sgd: this profile's momentum form has no dampening");
    }
    return MNV3_OK;
}

/* ---------------------------------------------------------------- state */
static int has_slot(const mnv3_optim_rule *r, const mnv3_optim_hyper *h, mnv3_optim_slot s) {
    switch (h->kind) {
    case MNV3_OPTIM_SGD: return s == MNV3_SLOT_MOMENTUM && (h->momentum != 0 || r->sgd_slot_always);
    case MNV3_OPTIM_ADAM:
    case MNV3_OPTIM_ADAMW: return s == MNV3_SLOT_M || s == MNV3_SLOT_V;
    case MNV3_OPTIM_RMSPROP:
        return s == MNV3_SLOT_V || (s == MNV3_SLOT_MEAN_GRAD && h->centered) ||
               (s == MNV3_SLOT_MOMENTUM && h->momentum > 0);
    default: return 0;
    }
}
/* Slot order in the state (see optim.h). */
static const mnv3_optim_slot slot_order[MNV3_OPTIM_KIND_COUNT][3] = {
    [MNV3_OPTIM_SGD] = {MNV3_SLOT_MOMENTUM, MNV3_SLOT_COUNT, MNV3_SLOT_COUNT},
    [MNV3_OPTIM_ADAM] = {MNV3_SLOT_M, MNV3_SLOT_V, MNV3_SLOT_COUNT},
    [MNV3_OPTIM_ADAMW] = {MNV3_SLOT_M, MNV3_SLOT_V, MNV3_SLOT_COUNT},
    [MNV3_OPTIM_RMSPROP] = {MNV3_SLOT_V, MNV3_SLOT_MEAN_GRAD, MNV3_SLOT_MOMENTUM},
};

int mnv3_optim_state_slots(const mnv3_optim_rule *r, const mnv3_optim_hyper *h) {
    int c = 0;
    if (h->kind < 0 || h->kind >= MNV3_OPTIM_KIND_COUNT) return 0;
    for (int i = 0; i < 3; i++) c += slot_order[h->kind][i] != MNV3_SLOT_COUNT && has_slot(r, h, slot_order[h->kind][i]);
    return c;
}
size_t mnv3_optim_state_floats(const mnv3_optim_rule *r, const mnv3_optim_hyper *h, size_t n) {
    size_t s = (size_t)mnv3_optim_state_slots(r, h);
    return s && n > SIZE_MAX / s ? 0 : s * n;
}
long mnv3_optim_state_slot(const mnv3_optim_rule *r, const mnv3_optim_hyper *h, mnv3_optim_slot slot, size_t n) {
    if (h->kind < 0 || h->kind >= MNV3_OPTIM_KIND_COUNT || !has_slot(r, h, slot)) return -1;
    long at = 0;
    for (int i = 0; i < 3; i++) {
        mnv3_optim_slot s = slot_order[h->kind][i];
        if (s == slot) return at;
        if (s != MNV3_SLOT_COUNT && has_slot(r, h, s)) at += (long)n;
    }
    return -1;
}

/* ---------------------------------------------------------------- scalars
 * Scalar arithmetic on hyper-parameters: in double or with every op rounded
 * to float32 (as 0-d float32 tensors). Float ops computed
 * in double and rounded once equal the float32 ops (+ - * / sqrt); pow is
 * powf itself. */
typedef struct scalars {
    int f32;
} scalars;
static double sc_round(scalars s, double x) { return s.f32 ? (double)(float)x : x; }
static double sc_in(scalars s, double x) { return sc_round(s, x); } /* a double hyper-parameter entering */
static double sc_add(scalars s, double a, double b) { return sc_round(s, a + b); }
static double sc_sub(scalars s, double a, double b) { return sc_round(s, a - b); }
static double sc_mul(scalars s, double a, double b) { return sc_round(s, a * b); }
static double sc_div(scalars s, double a, double b) { return sc_round(s, a / b); }
static double sc_sqrt(scalars s, double a) { return s.f32 ? (double)sqrtf((float)a) : sqrt(a); }
static double sc_pow(scalars s, double a, double b) { return s.f32 ? (double)powf((float)a, (float)b) : pow(a, b); }
static double sc_cos(scalars s, double a) { return s.f32 ? (double)cosf((float)a) : cos(a); }

/* a + s*b as one fused multiply-add. */
static float scaled_add(float a, float s, float b) { return fmaf(b, s, a); }
/* a + s*b*c: s*b rounded, then the multiply-add fused. */
static float addcmul(float a, float s, float b, float c) { return fmaf(s * b, c, a); }

/* ---------------------------------------------------------------- updates */
static void weight_decay_before(const mnv3_optim_rule *r, const mnv3_optim_hyper *h, double lr, float *p,
                                size_t n) {
    const scalars s = {r->scalars_f32};
    if (h->weight_decay == 0) return;
    if (r->decay_form[h->kind] == MNV3_DECAY_DECOUPLED_SCALE) {
        const float keep = (float)sc_sub(s, 1.0, sc_mul(s, sc_in(s, lr), sc_in(s, h->weight_decay)));
        for (size_t i = 0; i < n; i++) p[i] = p[i] * keep;
    } else if (r->decay_form[h->kind] == MNV3_DECAY_DECOUPLED_SUBTRACT) {
        const float wd = (float)h->weight_decay, lrf = (float)lr, wd_lr = wd * lrf;
        if (r->graph_rewrites)
            for (size_t i = 0; i < n; i++) p[i] = p[i] - p[i] * wd_lr;
        else
            for (size_t i = 0; i < n; i++) p[i] = p[i] - (p[i] * wd) * lrf;
    }
}

/* The gradient after coupled L2 decay, g + wd*p fused. */
static float decayed_grad(const mnv3_optim_rule *r, const mnv3_optim_hyper *h, float wd, float p, float g) {
    return h->weight_decay != 0 && r->decay_form[h->kind] == MNV3_DECAY_COUPLED_L2 ? scaled_add(g, wd, p) : g;
}

static void sgd_step(const mnv3_optim_rule *r, const mnv3_optim_hyper *h, long step, double lr, float *p,
                     const float *g, size_t n, float *buf) {
    const float wd = (float)h->weight_decay, mu = (float)h->momentum;
    if (r->sgd_form == MNV3_SGD_VELOCITY_OF_GRADIENTS) {
        const float damp = (float)(1.0 - h->dampening), neg_lr = (float)-lr;
        for (size_t i = 0; i < n; i++) {
            float d = decayed_grad(r, h, wd, p[i], g[i]);
            if (buf) {
                buf[i] = step == 1 ? d : scaled_add(buf[i] * mu, damp, d);
                d = h->nesterov ? scaled_add(d, mu, buf[i]) : buf[i];
            }
            p[i] = scaled_add(p[i], neg_lr, d);
        }
    } else {
        const float lrf = (float)lr;
        for (size_t i = 0; i < n; i++) {
            const float d = decayed_grad(r, h, wd, p[i], g[i]);
            if (buf) {
                buf[i] = buf[i] * mu - d * lrf;
                p[i] = h->nesterov ? p[i] + (buf[i] * mu - d * lrf) : p[i] + buf[i];
            } else {
                p[i] = p[i] - d * lrf;
            }
        }
    }
}

static void adam_step(const mnv3_optim_rule *r, const mnv3_optim_hyper *h, long step, double lr, float *p,
                      const float *g, size_t n, float *m, float *v) {
    const scalars s = {r->scalars_f32};
    const float wd = (float)h->weight_decay, b1 = (float)h->beta1, b2 = (float)h->beta2;
    const float one_b1 = (float)(1.0 - h->beta1), one_b2 = (float)(1.0 - h->beta2), eps = (float)h->eps;
    const double t = sc_in(s, (double)step), lr_s = sc_in(s, lr);
    const double bc1 = sc_sub(s, 1.0, sc_pow(s, sc_in(s, h->beta1), t));
    const double bc2 = sc_sub(s, 1.0, sc_pow(s, sc_in(s, h->beta2), t));
    if (r->adam_form == MNV3_ADAM_CORRECTED_STEP_AND_DENOM) {
        const float neg_step_size = (float)-sc_div(s, lr_s, bc1), bc2_sqrt = (float)sc_sqrt(s, bc2);
        for (size_t i = 0; i < n; i++) {
            const float d = decayed_grad(r, h, wd, p[i], g[i]);
            m[i] = scaled_add(m[i] * b1, one_b1, d);
            v[i] = addcmul(v[i] * b2, one_b2, d, d);
            const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
            p[i] = p[i] + (neg_step_size * m[i]) / denom;
        }
    } else {
        const float alpha = (float)sc_div(s, sc_mul(s, lr_s, sc_sqrt(s, bc2)), bc1);
        for (size_t i = 0; i < n; i++) {
            const float d = decayed_grad(r, h, wd, p[i], g[i]);
            m[i] = m[i] + (d - m[i]) * one_b1;
            v[i] = v[i] + (d * d - v[i]) * one_b2;
            p[i] = p[i] - (m[i] * alpha) / (sqrtf(v[i]) + eps);
        }
    }
}

static void rmsprop_step(const mnv3_optim_rule *r, const mnv3_optim_hyper *h, double lr, float *p,
                         const float *g, size_t n, float *v, float *mg, float *buf) {
    const float wd = (float)h->weight_decay, rho = (float)h->rho, one_rho = (float)(1.0 - h->rho);
    const float eps = (float)h->eps, mu = (float)h->momentum;
    if (r->rmsprop_form == MNV3_RMS_EPS_OUTSIDE_SQRT) {
        const float neg_lr = (float)-lr;
        for (size_t i = 0; i < n; i++) {
            const float d = decayed_grad(r, h, wd, p[i], g[i]);
            v[i] = addcmul(v[i] * rho, one_rho, d, d);
            float avg;
            if (mg) {
                mg[i] = scaled_add(mg[i] * rho, one_rho, d);
                avg = sqrtf(addcmul(v[i], -1.0f, mg[i], mg[i]));
            } else {
                avg = sqrtf(v[i]);
            }
            avg = avg + eps;
            if (buf) {
                buf[i] = buf[i] * mu + (1.0f * d) / avg;
                p[i] = scaled_add(p[i], neg_lr, buf[i]);
            } else {
                p[i] = p[i] + (neg_lr * d) / avg;
            }
        }
    } else {
        const float lrf = (float)lr;
        const int rsqrt = r->rmsprop_form == MNV3_RMS_EPS_INSIDE_RSQRT_ESTIMATE || r->graph_rewrites;
        const size_t packets = rsqrt ? n / 8 * 8 : 0;
        for (size_t i = 0; i < n; i++) {
            const float d = decayed_grad(r, h, wd, p[i], g[i]);
            v[i] = rho * v[i] + one_rho * (d * d);
            float den;
            if (mg) {
                mg[i] = rho * mg[i] + one_rho * d;
                den = r->graph_rewrites ? v[i] - (mg[i] * mg[i] - eps) : (v[i] - mg[i] * mg[i]) + eps;
            } else {
                den = v[i] + eps;
            }
            float inc;
            if (!rsqrt) {
                inc = (lrf * d) / sqrtf(den);
            } else {
                const float rs = i < packets ? mnv3_rsqrt_estimate_newton(den) : 1.0f / sqrtf(den);
                /* lr*g*rsqrt(d) is reassociated in the graph; lr*g/sqrt(d) only becomes (lr*g)*rsqrt(d) */
                inc = r->graph_rewrites && r->rmsprop_form == MNV3_RMS_EPS_INSIDE_RSQRT_ESTIMATE ? d * (lrf * rs)
                                                                                              : (lrf * d) * rs;
            }
            if (buf) {
                buf[i] = mu * buf[i] + inc;
                p[i] = p[i] - buf[i];
            } else {
                p[i] = p[i] - inc;
            }
        }
    }
}

int mnv3_optim_step_tensor(const mnv3_optim_rule *rule, const mnv3_optim_hyper *h, long step, double lr_now,
                           float *param, const float *grad, size_t n, float *state, mnv3_error *err) {
    if (mnv3_optim_hyper_check(rule, h, err) != MNV3_OK) return MNV3_FAIL;
    if (step < 1 || step > (1L << 24))
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "step %ld: must be 1 .. 2^24 (float32 exact)",
                              step);
    if (!isfinite(lr_now) || lr_now < 0)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "learning rate must be finite and >= 0");
    if (n && (!param || !grad || (mnv3_optim_state_slots(rule, h) && !state)))
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "missing param, grad or state");
    long at[MNV3_SLOT_COUNT];
    float *slot[MNV3_SLOT_COUNT];
    for (int s = 0; s < MNV3_SLOT_COUNT; s++) {
        at[s] = mnv3_optim_state_slot(rule, h, (mnv3_optim_slot)s, n);
        slot[s] = at[s] >= 0 ? state + at[s] : NULL;
    }
    weight_decay_before(rule, h, lr_now, param, n);
    switch (h->kind) {
    case MNV3_OPTIM_SGD: sgd_step(rule, h, step, lr_now, param, grad, n, slot[MNV3_SLOT_MOMENTUM]); break;
    case MNV3_OPTIM_ADAM:
    case MNV3_OPTIM_ADAMW:
        adam_step(rule, h, step, lr_now, param, grad, n, slot[MNV3_SLOT_M], slot[MNV3_SLOT_V]);
        break;
    default:
        rmsprop_step(rule, h, lr_now, param, grad, n, slot[MNV3_SLOT_V], slot[MNV3_SLOT_MEAN_GRAD],
                     slot[MNV3_SLOT_MOMENTUM]);
        break;
    }
    return MNV3_OK;
}

/* ---------------------------------------------------------------- schedules */
static long python_mod(long a, long m) { return ((a % m) + m) % m; }

int mnv3_lr_at(const mnv3_optim_rule *rule, const mnv3_lr_schedule *s, long step, double *lr, mnv3_error *err) {
    if (!rule || !s || !lr) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "no rule or schedule");
    if (s->kind < 0 || s->kind >= MNV3_LR_KIND_COUNT)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "unknown schedule kind %d", (int)s->kind);
    if (!isfinite(s->lr) || s->lr < 0 || !isfinite(s->gamma) || !isfinite(s->floor))
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "schedule: lr, gamma, floor must be finite");
    if (step < 1 || s->every < 1 ||
        (s->kind != MNV3_LR_CONSTANT && s->kind != MNV3_LR_MULTISTEP && (s->period < 1 || s->period > (1L << 24))))
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "schedule: step, every and period must be >= 1");
    if (s->kind == MNV3_LR_MULTISTEP) {
        if (s->n_milestones < 1 || s->n_milestones > MNV3_LR_MAX_MILESTONES)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL, "multistep schedule: 1 to %d milestones",
                                  MNV3_LR_MAX_MILESTONES);
        for (int i = 0; i < s->n_milestones; i++)
            if (s->milestones[i] < 1 || (i && s->milestones[i] <= s->milestones[i - 1]))
                return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, FILE_LABEL,
                                      "multistep schedule: milestones must increase from 1");
    }
    const long count = (step - 1) / s->every;
    int passed = 0; /* milestones reached by this count */
    for (int i = 0; s->kind == MNV3_LR_MULTISTEP && i < s->n_milestones; i++) passed += count >= s->milestones[i];
    if (rule->schedule_form == MNV3_SCHEDULE_CHAINED_F64) {
        /* Each count computes the next lr from the last one, in double. */
        const double base = s->lr, eta_min = s->floor * s->lr, T = (double)s->period, pi = 3.14159265358979323846;
        double x = base;
        if (s->kind == MNV3_LR_EXPONENTIAL && s->period != 1)
            return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, FILE_LABEL,
                                  "exponential schedule: the chained form has period 1 only");
        for (long e = 1; e <= count; e++) {
            switch (s->kind) {
            case MNV3_LR_STEP:
                if (e % s->period == 0) x = x * s->gamma;
                break;
            case MNV3_LR_EXPONENTIAL: x = x * s->gamma; break;
            case MNV3_LR_MULTISTEP: {
                int at = 0; /* a milestone listed k times multiplies by gamma^k; ours are distinct */
                for (int i = 0; i < s->n_milestones; i++) at += s->milestones[i] == e;
                if (at) x = x * pow(s->gamma, (double)at);
                break;
            }
            case MNV3_LR_COSINE:
                if (python_mod(e - 1 - s->period, 2 * s->period) == 0)
                    x = x + (base - eta_min) * (1 - cos(pi / T)) / 2;
                else
                    x = (1 + cos(pi * (double)e / T)) / (1 + cos(pi * (double)(e - 1) / T)) * (x - eta_min) + eta_min;
                break;
            default: break;
            }
        }
        *lr = x;
        return MNV3_OK;
    }
    /* Closed forms from the count, every op rounded to float32. */
    const scalars f = {1};
    const double lr0 = sc_in(f, s->lr), c = sc_in(f, (double)count), period = sc_in(f, (double)s->period);
    switch (s->kind) {
    case MNV3_LR_CONSTANT: *lr = lr0; break;
    case MNV3_LR_MULTISTEP: *lr = (double)(float)(s->lr * pow(s->gamma, (double)passed)); break; /* the values */
    case MNV3_LR_STEP:
    case MNV3_LR_EXPONENTIAL: {
        double pw = rule->graph_rewrites ? sc_mul(f, c, sc_div(f, 1.0, period)) : sc_div(f, c, period);
        if (s->kind == MNV3_LR_STEP) pw = floor(pw);
        *lr = sc_mul(f, lr0, sc_pow(f, sc_in(f, s->gamma), pw));
        break;
    }
    default: {
        const double at = c < period ? c : period;
        const double pi = sc_in(f, 3.14159265358979323846);
        /* the graph folds the constants first: (pi * (1/T)) * step */
        const double angle = rule->graph_rewrites ? sc_mul(f, sc_mul(f, pi, sc_div(f, 1.0, period)), at)
                                                  : sc_mul(f, pi, sc_div(f, at, period));
        const double cosine = sc_mul(f, 0.5, sc_add(f, 1.0, sc_cos(f, angle)));
        const double decayed = sc_add(f, sc_mul(f, sc_in(f, 1.0 - s->floor), cosine), sc_in(f, s->floor));
        *lr = sc_mul(f, lr0, decayed);
        break;
    }
    }
    return MNV3_OK;
}
