/* test_optim.c: src/train/optim.c against the frameworks' own optimizers, bit for bit.
 *
 *   test_optim DIR FRAMEWORK [CASES|- [factor=option...]]
 *                                      every case of CASES (tests/optim/cases.txt) that
 *                                      names FRAMEWORK (torch, keras, tf-keras), run under
 *                                      the profile of that name (with the overrides) on
 *                                      DIR/common.npz, compared with DIR/<framework>.npz
 *                                      (tools/oracle/optim)
 *   test_optim --cross DIR [CASES]     the conventions differ: each case run under the
 *                                      other profiles' rules and the fixtures compared
 *                                      with each other (counts printed, none hand-written)
 *   test_optim --unit                  API checks (slots, errors, defaults from the table)
 * 0 differing elements at every recorded step, for params, state and learning rates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "mnv3_io.h"
#include "factors/factors.h"
#include "train/optim.h"

#define MAX_CASES 64

typedef struct optim_case {
    char name[64], frameworks[64], kind[16];
    mnv3_optim_hyper h;
    mnv3_lr_schedule sched;
    char keys[512];
} optim_case;

static int framework_listed(const char *list, const char *fw) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
        if (strcmp(t, fw) == 0) return 1;
    return 0;
}

/* The case's hyper-parameters under `profile`: that profile's defaults, then the keys. */
static int case_apply(optim_case *c, const mnv3_profile *p, mnv3_optim_rule *rule) {
    mnv3_error err;
    if (!p || mnv3_optim_rule_from_profile(p, rule, &err) != MNV3_OK) return -1;
    int kind = mnv3_optimizer_kind_find(c->kind);
    if (kind < 0) return -1;
    mnv3_optim_hyper_defaults(rule, (mnv3_optimizer_kind)kind, &c->h);
    memset(&c->sched, 0, sizeof c->sched);
    c->sched.every = 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", c->keys);
    for (char *t = strtok(buf, " \t\n"); t; t = strtok(NULL, " \t\n")) {
        char *eq = strchr(t, '=');
        if (!eq) return -1;
        *eq = 0;
        const char *k = t, *v = eq + 1;
        double x = strtod(v, NULL);
        if (!strcmp(k, "lr")) c->h.lr = x;
        else if (!strcmp(k, "momentum")) c->h.momentum = x;
        else if (!strcmp(k, "nesterov")) c->h.nesterov = (int)x;
        else if (!strcmp(k, "dampening")) c->h.dampening = x;
        else if (!strcmp(k, "beta1")) c->h.beta1 = x;
        else if (!strcmp(k, "beta2")) c->h.beta2 = x;
        else if (!strcmp(k, "eps")) c->h.eps = x;
        else if (!strcmp(k, "rho")) c->h.rho = x;
        else if (!strcmp(k, "centered")) c->h.centered = (int)x;
        else if (!strcmp(k, "wd")) c->h.weight_decay = x;
        else if (!strcmp(k, "sched")) {
            int sk = mnv3_lr_kind_find(v);
            if (sk < 0) return -1;
            c->sched.kind = (mnv3_lr_kind)sk;
        } else if (!strcmp(k, "period")) c->sched.period = (long)x;
        else if (!strcmp(k, "gamma")) c->sched.gamma = x;
        else if (!strcmp(k, "floor")) c->sched.floor = x;
        else if (!strcmp(k, "every")) c->sched.every = (long)x;
        else if (!strcmp(k, "milestones")) {
            char *q = (char *)v;
            c->sched.n_milestones = 0;
            while (*q && c->sched.n_milestones < MNV3_LR_MAX_MILESTONES) {
                c->sched.milestones[c->sched.n_milestones++] = strtol(q, &q, 10);
                if (*q == ':') q++;
            }
        }
        else return -1;
    }
    c->sched.lr = c->h.lr;
    return 0;
}

static int read_cases(const char *path, optim_case *cases) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < MAX_CASES) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        optim_case *c = &cases[n];
        int used = 0;
        if (sscanf(line, "%63s %63s %15s %n", c->name, c->frameworks, c->kind, &used) != 3) continue;
        snprintf(c->keys, sizeof c->keys, "%s", line + used);
        n++;
    }
    fclose(f);
    return n;
}

static const mnv3_tensor *find(const mnv3_tensors *ts, const char *name) {
    for (size_t i = 0; i < ts->count; i++)
        if (strcmp(ts->items[i].name, name) == 0) return &ts->items[i];
    return NULL;
}

/* Every step of one run: param[k*n + i], state[(k*3 + slot)*n + i], lr[k] (k = step - 1). */
typedef struct run_result {
    float *param, *state;
    double *lr;
    int n, steps, slots;
    mnv3_optim_rule rule;
} run_result;

static void run_free(run_result *r) {
    free(r->param);
    free(r->state);
    free(r->lr);
    memset(r, 0, sizeof *r);
}

static int run_case(optim_case *c, const mnv3_profile *profile, const float *init, const float *grads, int n,
                    int steps, run_result *out) {
    mnv3_optim_rule rule;
    mnv3_error err;
    run_free(out);
    if (case_apply(c, profile, &rule) != 0 || n < 1 || steps < 1) return -1;
    const size_t un = (size_t)n, us = (size_t)steps;
    float *p = malloc(un * sizeof(float)), *state = calloc(3 * un, sizeof(float));
    out->param = malloc(us * un * sizeof(float));
    out->state = calloc(us * 3 * un, sizeof(float));
    out->lr = malloc(us * sizeof(double));
    if (!p || !state || !out->param || !out->state || !out->lr) {
        free(p);
        free(state);
        run_free(out);
        return -1;
    }
    memcpy(p, init, un * sizeof(float));
    out->n = n;
    out->steps = steps;
    out->slots = mnv3_optim_state_slots(&rule, &c->h);
    out->rule = rule;
    int rc = 0;
    for (int k = 1; k <= steps && rc == 0; k++) {
        double lr;
        if (mnv3_lr_at(&rule, &c->sched, k, &lr, &err) != MNV3_OK ||
            mnv3_optim_step_tensor(&rule, &c->h, k, lr, p, grads + (size_t)(k - 1) * (size_t)n, (size_t)n,
                                   state, &err) != MNV3_OK) {
            printf("FAIL %s under %s: %s\n", c->name, profile->name, err.message);
            rc = -1;
            break;
        }
        out->lr[k - 1] = lr;
        memcpy(out->param + (size_t)(k - 1) * un, p, un * sizeof(float));
        for (int s = 0; s < out->slots; s++)
            memcpy(out->state + ((size_t)(k - 1) * 3 + (size_t)s) * un, state + (size_t)s * un, un * sizeof(float));
    }
    free(p);
    free(state);
    return rc;
}

static int count_differing(const float *a, const float *b, int n) {
    int d = 0;
    for (int i = 0; i < n; i++) d += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return d;
}

/* Compares one run with a framework's record; returns differing elements. */
static long compare_case(const optim_case *c, const run_result *r, const mnv3_tensors *fx, int verbose) {
    char key[160];
    snprintf(key, sizeof key, "%s/steps", c->name);
    const mnv3_tensor *steps = find(fx, key);
    snprintf(key, sizeof key, "%s/param", c->name);
    const mnv3_tensor *param = find(fx, key);
    snprintf(key, sizeof key, "%s/lr", c->name);
    const mnv3_tensor *lr = find(fx, key);
    if (!steps || !param || !lr) {
        printf("FAIL %s: missing in the fixture\n", c->name);
        return -1;
    }
    const int R = (int)steps->shape[0], n = r->n;
    const float *sv = steps->data;
    long diff = 0, lr_diff = 0;
    if (lr->shape[0] != r->steps) {
        printf("FAIL %s: %lld learning rates in the fixture, %d steps here\n", c->name, (long long)lr->shape[0], r->steps);
        return -1;
    }
    for (int k = 0; k < r->steps; k++) {
        const float *t = (const float *)lr->data + 3 * k;
        double want = (double)t[0] + (double)t[1] + (double)t[2];
        lr_diff += want != r->lr[k];
    }
    char first[128] = "";
    for (int j = 0; j < R; j++) {
        int k = (int)sv[j];
        if (k < 1 || k > r->steps) return -1;
        int d = count_differing(r->param + (size_t)(k - 1) * (size_t)n, (const float *)param->data + (size_t)j * (size_t)n, n);
        if (d && !first[0]) snprintf(first, sizeof first, "param at step %d: %d/%d", k, d, n);
        diff += d;
    }
    static const char *const order[4][3] = {{"momentum"}, {"m", "v"}, {"m", "v"}, {"v", "mean_grad", "momentum"}};
    int kind = c->h.kind, s_at = 0;
    for (int s = 0; s < 3 && order[kind][s]; s++) {
        snprintf(key, sizeof key, "%s/state/%s", c->name, order[kind][s]);
        const mnv3_tensor *st = find(fx, key);
        int present = st != NULL;
        int ours = mnv3_optim_state_slot(&r->rule, &c->h, (mnv3_optim_slot)(!strcmp(order[kind][s], "momentum") ? MNV3_SLOT_MOMENTUM
                                                                  : !strcmp(order[kind][s], "m")       ? MNV3_SLOT_M
                                                                  : !strcmp(order[kind][s], "v")       ? MNV3_SLOT_V
                                                                                                       : MNV3_SLOT_MEAN_GRAD),
                                          (size_t)n) >= 0;
        if (present != ours) {
            printf("FAIL %s: state slot %s present in framework %d, here %d\n", c->name, order[kind][s], present, ours);
            return -1;
        }
        if (!present) continue;
        for (int j = 0; j < R; j++) {
            int k = (int)sv[j];
            int d = count_differing(r->state + ((size_t)(k - 1) * 3 + (size_t)s_at) * (size_t)n,
                                    (const float *)st->data + (size_t)j * (size_t)n, n);
            if (d && !first[0]) snprintf(first, sizeof first, "state %s at step %d: %d/%d", order[kind][s], k, d, n);
            diff += d;
        }
        s_at++;
    }
    if (verbose)
        printf("%s %-18s %d steps compared: %ld differing values%s%s, %ld differing learning rates\n",
               diff || lr_diff ? "FAIL" : "ok  ", c->name, R, diff, first[0] ? ", first: " : "", first, lr_diff);
    return diff + lr_diff;
}

static int load(const char *dir, const char *file, mnv3_tensors *ts) {
    char path[1024];
    mnv3_error err;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    memset(ts, 0, sizeof *ts);
    if (mnv3_read_npz(path, ts, &err) != MNV3_OK) {
        printf("FAIL %s\n", err.message);
        return -1;
    }
    return 0;
}

static int check_framework(const char *dir, const char *fw, const char *cases_path, char **assign, int n_assign) {
    static optim_case cases[MAX_CASES];
    static run_result r;
    int nc = read_cases(cases_path, cases);
    mnv3_tensors common, fx;
    char file[64];
    snprintf(file, sizeof file, "%s.npz", fw);
    for (char *q = file; *q; q++)
        if (*q == '-') *q = '_';
    if (nc <= 0 || load(dir, "common.npz", &common) || load(dir, file, &fx)) return 1;
    const mnv3_tensor *init = find(&common, "init"), *grads = find(&common, "grads");
    if (!init || !grads) return 1;
    int n = (int)init->shape[0], steps = (int)grads->shape[0], ran = 0;
    if (grads->ndim != 2 || grads->shape[1] != n) return 1;
    mnv3_profile profile = *mnv3_profile_find(fw);
    mnv3_error err;
    for (int a = 0; a < n_assign; a++)
        if (mnv3_profile_set(&profile, assign[a], &err) != MNV3_OK) {
            printf("FAIL %s\n", err.message);
            return 1;
        }
    for (int i = 0; i < nc; i++) {
        if (!framework_listed(cases[i].frameworks, fw)) continue;
        ran++;
        if (run_case(&cases[i], &profile, init->data, grads->data, n, steps, &r) != 0) {
            kit_fail("%s: could not run", cases[i].name);
            continue;
        }
        if (compare_case(&cases[i], &r, &fx, 1) != 0) kit_fail("%s under %s", cases[i].name, fw);
    }
    run_free(&r);
    printf("%s: %d cases of %d values, %d steps\n", fw, ran, n, steps);
    CHECK(ran > 0);
    mnv3_tensors_free(&common);
    mnv3_tensors_free(&fx);
    return kit_failures != 0;
}

/* The optimizer factors of the profiles (a contiguous block in factors.h). */
static const int optim_factors[] = {MNV3_FACTOR_OPTIM_SGD,      MNV3_FACTOR_OPTIM_ADAM,     MNV3_FACTOR_OPTIM_RMSPROP,
                                    MNV3_FACTOR_OPTIM_WEIGHT_DECAY, MNV3_FACTOR_OPTIM_SCALARS, MNV3_FACTOR_OPTIM_DEFAULTS,
                                    MNV3_FACTOR_LR_SCHEDULE,    MNV3_FACTOR_OPTIM_TF_GRAPH};

/* The frameworks' records against each other (how far the conventions move the
 * weights, measured), and mnv3 under profile a with b's optimizer factors swapped
 * in against b's record: the factors alone carry every difference, bit for bit. */
static int check_cross(const char *dir, const char *cases_path) {
    static optim_case cases[MAX_CASES];
    static run_result r;
    static const char *const fws[3] = {"torch", "keras", "tf-keras"};
    static const char *const files[3] = {"torch.npz", "keras.npz", "tf_keras.npz"};
    mnv3_tensors common, fx[3];
    int nc = read_cases(cases_path, cases);
    if (nc <= 0 || load(dir, "common.npz", &common)) return 1;
    for (int f = 0; f < 3; f++)
        if (load(dir, files[f], &fx[f])) return 1;
    const mnv3_tensor *init = find(&common, "init"), *grads = find(&common, "grads");
    int n = (int)init->shape[0], steps = (int)grads->shape[0], torch_keras_pairs = 0, torch_keras_differ = 0;
    printf("%-18s %-18s %-24s %s\n", "case", "records", "param values differing", "relative L2 at step 100");
    for (int i = 0; i < nc; i++) {
        for (int a = 0; a < 3; a++) {
            if (!framework_listed(cases[i].frameworks, fws[a])) continue;
            for (int b = 0; b < 3; b++) {
                if (b == a || !framework_listed(cases[i].frameworks, fws[b])) continue;
                char key[160];
                snprintf(key, sizeof key, "%s/param", cases[i].name);
                const mnv3_tensor *pa = find(&fx[a], key), *pb = find(&fx[b], key);
                if (!pa || !pb) return 1;
                const int R = (int)pa->shape[0];
                const float *xa = pa->data, *xb = pb->data;
                int differing = count_differing(xa, xb, R * n);
                double num = 0, den = 0;
                for (int j = (R - 1) * n; j < R * n; j++) {
                    num += ((double)xa[j] - xb[j]) * ((double)xa[j] - xb[j]);
                    den += (double)xb[j] * xb[j];
                }
                if (a < b) {
                    char pair[40];
                    snprintf(pair, sizeof pair, "%s/%s", fws[a], fws[b]);
                    printf("%-18s %-18s %4d of %-4d %24.3g\n", cases[i].name, pair, differing, R * n, sqrt(num / den));
                }
                if (a == 0 && b == 1) {
                    torch_keras_pairs++;
                    torch_keras_differ += differing != 0;
                }
                /* profile a, optimizer factors of b: b's record, bit for bit */
                mnv3_profile swapped = *mnv3_profile_find(fws[a]);
                const mnv3_profile *pbp = mnv3_profile_find(fws[b]);
                for (size_t f = 0; f < sizeof optim_factors / sizeof optim_factors[0]; f++)
                    swapped.option[optim_factors[f]] = pbp->option[optim_factors[f]];
                long d = run_case(&cases[i], &swapped, init->data, grads->data, n, steps, &r) == 0
                             ? compare_case(&cases[i], &r, &fx[b], 0)
                             : -1;
                CHECKF(d == 0, "%s: profile %s with %s's optimizer factors: %ld values differ from %s's record",
                       cases[i].name, fws[a], fws[b], d, fws[b]);
            }
        }
    }
    /* One factor at a time: the torch profile with one Keras 3 optimizer option,
     * relative L2 from the torch record at step 100 (which convention moves what). */
    printf("\none factor from keras in the torch profile: relative L2 from the torch record at step 100\n%-18s",
           "case");
    for (size_t f = 0; f < sizeof optim_factors / sizeof optim_factors[0]; f++)
        printf(" %18s", mnv3_factor_name(optim_factors[f]));
    printf("\n");
    for (int i = 0; i < nc; i++) {
        if (!framework_listed(cases[i].frameworks, "torch") || !framework_listed(cases[i].frameworks, "keras")) continue;
        char key[160];
        snprintf(key, sizeof key, "%s/param", cases[i].name);
        const mnv3_tensor *pt = find(&fx[0], key);
        const int R = (int)pt->shape[0];
        const float *want = (const float *)pt->data + (size_t)(R - 1) * (size_t)n;
        printf("%-18s", cases[i].name);
        for (size_t f = 0; f < sizeof optim_factors / sizeof optim_factors[0]; f++) {
            mnv3_profile one = *mnv3_profile_find("torch");
            one.option[optim_factors[f]] = mnv3_profile_find("keras")->option[optim_factors[f]];
            if (run_case(&cases[i], &one, init->data, grads->data, n, steps, &r) != 0) {
                printf(" %18s", "-");
                continue;
            }
            double num = 0, den = 0;
            for (int j = 0; j < n; j++) {
                const double x = r.param[(size_t)(steps - 1) * (size_t)n + (size_t)j];
                num += (x - want[j]) * (x - want[j]);
                den += (double)want[j] * want[j];
            }
            printf(" %18.3g", sqrt(num / den));
        }
        printf("\n");
    }
    /* Keras run eagerly against its record inside a tf.function (model.fit). */
    printf("\nkeras with optim_tf_graph=eager against the keras record (tf.function)\n");
    for (int i = 0; i < nc; i++) {
        if (!framework_listed(cases[i].frameworks, "keras")) continue;
        char key[160];
        snprintf(key, sizeof key, "%s/param", cases[i].name);
        const mnv3_tensor *pk = find(&fx[1], key);
        const int R = (int)pk->shape[0];
        const float *want = (const float *)pk->data + (size_t)(R - 1) * (size_t)n;
        mnv3_profile eager = *mnv3_profile_find("keras");
        eager.option[MNV3_FACTOR_OPTIM_TF_GRAPH] = MNV3_OPTIM_TF_GRAPH_EAGER;
        if (run_case(&cases[i], &eager, init->data, grads->data, n, steps, &r) != 0) continue;
        long d = compare_case(&cases[i], &r, &fx[1], 0);
        double num = 0, den = 0;
        for (int j = 0; j < n; j++) {
            const double x = r.param[(size_t)(steps - 1) * (size_t)n + (size_t)j];
            num += (x - want[j]) * (x - want[j]);
            den += (double)want[j] * want[j];
        }
        printf("%-18s %5ld differing values (all recorded steps, state, lr), relative L2 at step 100 %.3g\n",
               cases[i].name, d, sqrt(num / den));
    }
    printf("torch and Keras 3 records differ in %d of %d shared cases; every profile with another's optimizer "
           "factors reproduces the other's record: %s\n",
           torch_keras_differ, torch_keras_pairs, kit_failures ? "no" : "yes");
    CHECK(torch_keras_differ == torch_keras_pairs);
    run_free(&r);
    mnv3_tensors_free(&common);
    for (int f = 0; f < 3; f++) mnv3_tensors_free(&fx[f]);
    return kit_failures != 0;
}

static int check_unit(void) {
    mnv3_optim_rule torch, keras;
    mnv3_error err;
    CHECK(mnv3_optim_rule_from_profile(mnv3_profile_find("torch"), &torch, &err) == MNV3_OK);
    CHECK(mnv3_optim_rule_from_profile(mnv3_profile_find("keras"), &keras, &err) == MNV3_OK);
    /* every other option of every optimizer factor changes the resolved rule */
    for (int f = MNV3_FACTOR_OPTIM_SGD; f <= MNV3_FACTOR_OPTIM_TF_GRAPH; f++)
        for (int o = 0; o < mnv3_factor_option_count(f); o++) {
            if (o == mnv3_profile_find("torch")->option[f]) continue;
            mnv3_profile p = *mnv3_profile_find("torch");
            p.option[f] = o;
            mnv3_optim_rule other;
            CHECK(mnv3_optim_rule_from_profile(&p, &other, &err) == MNV3_OK);
            CHECKF(memcmp(&other, &torch, sizeof other) != 0, "%s=%s changes no rule field", mnv3_factor_name(f),
                   mnv3_factor_option_name(f, o));
        }
    mnv3_optim_hyper h;
    /* defaults come from the factor table: the two profiles' differ */
    mnv3_optim_hyper_defaults(&torch, MNV3_OPTIM_RMSPROP, &h);
    mnv3_optim_hyper k;
    mnv3_optim_hyper_defaults(&keras, MNV3_OPTIM_RMSPROP, &k);
    CHECK(h.eps != k.eps && h.rho != k.rho && h.lr != k.lr);
    /* slots */
    h.centered = 1;
    h.momentum = 0.5;
    CHECK(mnv3_optim_state_slots(&torch, &h) == 3);
    CHECK(mnv3_optim_state_slot(&torch, &h, MNV3_SLOT_V, 10) == 0 && mnv3_optim_state_slot(&torch, &h, MNV3_SLOT_MEAN_GRAD, 10) == 10 &&
          mnv3_optim_state_slot(&torch, &h, MNV3_SLOT_MOMENTUM, 10) == 20);
    h.centered = 0;
    CHECK(mnv3_optim_state_slot(&torch, &h, MNV3_SLOT_MOMENTUM, 10) == 10 && mnv3_optim_state_slot(&torch, &h, MNV3_SLOT_MEAN_GRAD, 10) == -1);
    CHECK(mnv3_optim_state_floats(&torch, &h, (size_t)-1) == 0);
    /* errors */
    float p[4] = {1, 2, 3, 4}, g[4] = {0}, st[8] = {0};
    h.lr = NAN;
    kit_expect_fail("NaN lr", mnv3_optim_step_tensor(&torch, &h, 1, 0.1, p, g, 4, st, &err), &err, "optim", "NaN");
    mnv3_optim_hyper_defaults(&torch, MNV3_OPTIM_SGD, &h);
    h.lr = 0.1;
    kit_expect_fail("step 0", mnv3_optim_step_tensor(&torch, &h, 0, 0.1, p, g, 4, st, &err), &err, "optim", "step");
    h.dampening = 0.1;
    h.momentum = 0.9;
    kit_expect_fail("dampening under keras", mnv3_optim_step_tensor(&keras, &h, 1, 0.1, p, g, 4, st, &err), &err,
                    "optim", "dampening");
    mnv3_lr_schedule s = {.kind = MNV3_LR_EXPONENTIAL, .lr = 0.1, .period = 7, .gamma = 0.9, .every = 1};
    double lr;
    kit_expect_fail("chained exp period 7", mnv3_lr_at(&torch, &s, 3, &lr, &err), &err, "optim", "period");
    CHECK(mnv3_lr_at(&keras, &s, 3, &lr, &err) == MNV3_OK);
    mnv3_lr_schedule ms = {.kind = MNV3_LR_MULTISTEP, .lr = 0.1, .gamma = 0.5, .every = 1, .n_milestones = 2,
                           .milestones = {5, 5}};
    kit_expect_fail("milestones not increasing", mnv3_lr_at(&torch, &ms, 3, &lr, &err), &err, "optim", "increase");
    return kit_failures != 0;
}

int main(int argc, char **argv) {
    const char *cases = CASES_DEFAULT;
    if (argc >= 2 && !strcmp(argv[1], "--unit")) return check_unit();
    if (argc >= 3 && !strcmp(argv[1], "--cross")) return check_cross(argv[2], argc > 3 ? argv[3] : cases);
    if (argc >= 3)
        return check_framework(argv[1], argv[2], argc > 3 && strcmp(argv[3], "-") ? argv[3] : cases,
                               argv + (argc > 3 ? 4 : 3), argc > 3 ? argc - 4 : 0);
    fprintf(stderr, "usage: test_optim DIR FRAMEWORK [CASES|- [factor=option...]] | --cross DIR [CASES] | --unit\n");
    return 2;
}
