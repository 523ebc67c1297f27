/* mnv3 train: fine-tunes MobileNetV3 on labelled data under a profile's
 * training semantics (BatchNorm, gradients, loss, dropout, optimizer,
 * schedule), and writes the result in the framework's own format.
 *
 *   mnv3 train --weights W --profile P --data D.npz --optimizer sgd|adam|adamw|rmsprop
 *              --lr X [--momentum M] [--weight-decay D] --batch N (--steps K | --epochs E)
 *              [--dropout P] [--seed S] [--shuffle] [--classes K] [--label-smoothing E]
 *              [--threads T] [--set f=o] --out OUT.pth|OUT.weights.h5|OUT.safetensors
 *
 * D.npz holds x (float32, in the layout `run` takes for the profile: NCHW for
 * torch, NHWC for keras) and y (integer labels). Batches are taken in file
 * order unless --shuffle (PyTorch's DataLoader order from the seed). With
 * --classes K, or weights without a head, the classifier is replaced by a
 * seeded one of K classes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bnlab/bnlab.h"
#include "cli.h"
#include "core/model.h"
#include "core/util.h"
#include "formats/formats.h"
#include "train/optim.h"
#include "train/rng.h"
#include "train/train.h"

typedef struct train_args {
    const char *weights, *profile, *data, *out, *optimizer;
    const char *sets[16];
    int n_sets;
    double lr, momentum, weight_decay, dropout, label_smoothing;
    int have_momentum, shuffle;
    long batch, steps, epochs, seed, classes, threads;
} train_args;

static int parse_double(const char *v, const char *what, double lo, double hi, double *out) {
    char *end;
    double d = v ? strtod(v, &end) : NAN;
    if (!v || *end || end == v || !(d >= lo && d <= hi))
        return cli_usage_error("%s must be a number in [%g, %g], got '%s'", what, lo, hi, v ? v : "");
    *out = d;
    return 0;
}

static int parse_args(int argc, char **argv, train_args *a) {
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        const char *name = argv[i];
        if (!strcmp(name, "--shuffle")) {
            a->shuffle = 1;
            continue;
        }
        if (name[0] != '-' || i + 1 >= argc) return cli_usage_error("train: unknown or incomplete option '%s'", name);
        v = argv[++i];
        int bad = 0;
        if (!strcmp(name, "--weights")) a->weights = v;
        else if (!strcmp(name, "--profile")) a->profile = v;
        else if (!strcmp(name, "--data")) a->data = v;
        else if (!strcmp(name, "--out")) a->out = v;
        else if (!strcmp(name, "--optimizer")) a->optimizer = v;
        else if (!strcmp(name, "--set")) {
            if (a->n_sets >= 16) return cli_usage_error("at most 16 --set options");
            a->sets[a->n_sets++] = v;
        } else if (!strcmp(name, "--lr")) bad = parse_double(v, "--lr", 0, 1e6, &a->lr);
        else if (!strcmp(name, "--momentum")) bad = parse_double(v, "--momentum", 0, 1, &a->momentum), a->have_momentum = 1;
        else if (!strcmp(name, "--weight-decay")) bad = parse_double(v, "--weight-decay", 0, 1e6, &a->weight_decay);
        else if (!strcmp(name, "--dropout")) bad = parse_double(v, "--dropout", 0, 0.999999, &a->dropout);
        else if (!strcmp(name, "--label-smoothing")) bad = parse_double(v, "--label-smoothing", 0, 1, &a->label_smoothing);
        else if (!strcmp(name, "--batch")) bad = cli_parse_int(v, "--batch", 1, MNV3_MAX_BATCH_TRAIN, &a->batch);
        else if (!strcmp(name, "--steps")) bad = cli_parse_int(v, "--steps", 1, 100000000, &a->steps);
        else if (!strcmp(name, "--epochs")) bad = cli_parse_int(v, "--epochs", 1, 1000000, &a->epochs);
        else if (!strcmp(name, "--seed")) bad = cli_parse_int(v, "--seed", 0, 1L << 31, &a->seed);
        else if (!strcmp(name, "--classes")) bad = cli_parse_int(v, "--classes", 1, 100000, &a->classes);
        else if (!strcmp(name, "--threads")) bad = cli_parse_int(v, "--threads", 1, 256, &a->threads);
        else return cli_usage_error("train: unknown option '%s'", name);
        if (bad) return 2;
    }
    if (!a->weights || !a->profile || !a->data || !a->out || !a->optimizer || a->lr <= 0 || !a->batch)
        return cli_usage_error("train needs --weights, --profile, --data, --optimizer, --lr, --batch and --out");
    if (!a->steps == !a->epochs) return cli_usage_error("train: give --steps K or --epochs E (one of them)");
    return 0;
}

/* The model to train: the weights, with a seeded head of `classes` classes
 * when asked for or when the weights are a backbone. */
static int load_model(const train_args *a, mnv3_model **out, mnv3_error *err) {
    mnv3_model *m = NULL;
    if (mnv3_model_load(a->weights, &m, NULL, err) != MNV3_OK) return MNV3_FAIL;
    const int have = m->arch.num_classes;
    const int want = a->classes ? (int)a->classes : have;
    if (want == have && have > 0) {
        *out = m;
        return MNV3_OK;
    }
    if (want < 1) {
        mnv3_model_free(m);
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, a->weights, "the weights are a backbone: give --classes K for a new head");
    }
    mnv3_tensors mine, head, merged = {0};
    int rc = mnv3_model_export(m, MNV3_NAMING_TORCHVISION, &mine, err);
    mnv3_model_free(m);
    if (rc != MNV3_OK) return MNV3_FAIL;
    if (mnv3_synth_weights((uint64_t)a->seed, want, &head, err) != MNV3_OK) {
        mnv3_tensors_free(&mine);
        return MNV3_FAIL;
    }
    for (int pass = 0; pass < 2 && rc == MNV3_OK; pass++) {
        mnv3_tensors *from = pass ? &head : &mine;
        for (size_t i = 0; i < from->count && rc == MNV3_OK; i++) {
            mnv3_tensor *t = &from->items[i];
            if ((strncmp(t->name, "classifier.", 11) == 0) != pass) continue;
            rc = mnv3_tensors_add(&merged, t->name, t->dtype, t->ndim, t->shape, t->data, err);
            t->data = NULL; /* merged owns it now */
        }
    }
    mnv3_tensors_free(&mine);
    mnv3_tensors_free(&head);
    if (rc == MNV3_OK) rc = mnv3_model_from_tensors(&merged, a->weights, out, NULL, err);
    mnv3_tensors_free(&merged);
    return rc;
}

typedef struct dataset {
    mnv3_tensors file;
    const float *x;
    int64_t *y;
    int n, h, w, nhwc;
} dataset;

static int load_data(const char *path, int nhwc, int classes, dataset *d, mnv3_error *err) {
    if (mnv3_read_npz_with_integers(path, &d->file, err) != MNV3_OK) return MNV3_FAIL;
    const mnv3_tensor *x = mnv3_tensors_find(&d->file, "x"), *y = mnv3_tensors_find(&d->file, "y");
    if (!x || !y) return mnv3_fail_code(err, MNV3_ERR_FORMAT, path, "needs arrays 'x' and 'y'");
    const int c_axis = nhwc ? 3 : 1;
    if (x->dtype != MNV3_F32 || x->ndim != 4 || x->shape[c_axis] != 3)
        return mnv3_fail_code(err, MNV3_ERR_SHAPE, path, "'x' must be float32 %s with 3 channels, got %s rank %d",
                              nhwc ? "N,H,W,C" : "N,C,H,W", x->dtype == MNV3_F32 ? "float32" : "integers", x->ndim);
    if (y->dtype != MNV3_I64 || y->ndim != 1 || y->shape[0] != x->shape[0])
        return mnv3_fail_code(err, MNV3_ERR_SHAPE, path, "'y' must hold one integer label per sample of 'x'");
    d->n = (int)x->shape[0];
    d->h = (int)(nhwc ? x->shape[1] : x->shape[2]);
    d->w = (int)(nhwc ? x->shape[2] : x->shape[3]);
    d->nhwc = nhwc;
    d->x = x->data;
    d->y = y->data;
    if (d->n < 1) return mnv3_fail_code(err, MNV3_ERR_SHAPE, path, "holds no samples");
    for (int i = 0; i < d->n; i++)
        if (d->y[i] < 0 || d->y[i] >= classes)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "label %lld of sample %d is not a class of the %d-class head",
                                  (long long)d->y[i], i, classes);
    const size_t total = (size_t)d->n * 3 * (size_t)d->h * (size_t)d->w;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(d->x[i])) return mnv3_fail_code(err, MNV3_ERR_FORMAT, path, "'x' holds NaN or Inf (element %zu)", i);
    return MNV3_OK;
}

/* Sample s of the data into dst as NCHW. */
static void take_sample(const dataset *d, int s, float *dst) {
    const size_t plane = (size_t)d->h * (size_t)d->w;
    const float *src = d->x + (size_t)s * 3 * plane;
    if (!d->nhwc) {
        memcpy(dst, src, 3 * plane * sizeof *dst);
        return;
    }
    for (size_t p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++) dst[(size_t)c * plane + p] = src[p * 3 + (size_t)c];
}

static int write_weights(const char *path, const mnv3_trainer *t, mnv3_error *err) {
    mnv3_tensors canonical, out;
    mnv3_model *m = NULL;
    if (mnv3_trainer_export(t, &canonical, err) != MNV3_OK) return MNV3_FAIL;
    int rc = mnv3_model_from_tensors(&canonical, "trained", &m, NULL, err);
    mnv3_tensors_free(&canonical);
    if (rc != MNV3_OK) return MNV3_FAIL;
    size_t len = strlen(path);
    int keras = len > 11 && !strcmp(path + len - 11, ".weights.h5");
    int pth = len > 4 && !strcmp(path + len - 4, ".pth");
    rc = mnv3_model_export(m, keras ? MNV3_NAMING_KERAS : MNV3_NAMING_TORCHVISION, &out, err);
    mnv3_model_free(m);
    if (rc != MNV3_OK) return MNV3_FAIL;
    rc = keras ? mnv3_write_keras_weights_h5(path, &out, err)
               : pth ? mnv3_write_pth(path, &out, err) : mnv3_write_safetensors(path, &out, err);
    mnv3_tensors_free(&out);
    return rc;
}

int cmd_train(int argc, char **argv) {
    train_args a = {.dropout = 0.2, .threads = 1};
    int status = parse_args(argc, argv, &a);
    if (status) return status;
    size_t outlen = strlen(a.out);
    if (!((outlen > 4 && !strcmp(a.out + outlen - 4, ".pth")) ||
          (outlen > 11 && !strcmp(a.out + outlen - 11, ".weights.h5")) ||
          (outlen > 12 && !strcmp(a.out + outlen - 12, ".safetensors"))))
        return cli_usage_error("train: --out must end in .pth, .weights.h5 or .safetensors");
    mnv3_error err = {0};
    const mnv3_profile *found = mnv3_profile_find(a.profile);
    if (!found) return cli_usage_error("unknown profile '%s' (see mnv3 profiles)", a.profile);
    mnv3_profile profile = *found;
    for (int i = 0; i < a.n_sets; i++)
        if (mnv3_profile_set(&profile, a.sets[i], &err) != MNV3_OK) return cli_error(&err);
    const int kind = mnv3_optimizer_kind_find(a.optimizer);
    if (kind < 0) return cli_usage_error("--optimizer must be sgd, adam, adamw or rmsprop, got '%s'", a.optimizer);
    mnv3_optim_rule rule;
    mnv3_optim_hyper hyper;
    if (mnv3_optim_rule_from_profile(&profile, &rule, &err) != MNV3_OK) return cli_error(&err);
    mnv3_optim_hyper_defaults(&rule, (mnv3_optimizer_kind)kind, &hyper);
    hyper.lr = a.lr;
    if (a.have_momentum) hyper.momentum = a.momentum;
    hyper.weight_decay = a.weight_decay;
    if (mnv3_optim_hyper_check(&rule, &hyper, &err) != MNV3_OK) return cli_error(&err);

    mnv3_model *model = NULL;
    if (load_model(&a, &model, &err) != MNV3_OK) return cli_error(&err);
    dataset data = {0};
    const int nhwc = profile.option[mnv3_factor_find("layout")] != 0; /* as run reads it */
    mnv3_trainer *t = NULL;
    float *x = NULL, **state = NULL;
    int *labels = NULL;
    int64_t *order = NULL;
    uint8_t *keep = NULL;
    if (load_data(a.data, nhwc, model->arch.num_classes, &data, &err) != MNV3_OK ||
        !(t = mnv3_trainer_new(model, &profile, (int)a.batch, data.h, data.w, &err))) {
        status = cli_error(&err);
        goto done;
    }
    const int n_params = mnv3_trainer_param_count(t), hidden = model->arch.head_hidden;
    const size_t sample = 3 * (size_t)data.h * (size_t)data.w;
    x = malloc((size_t)a.batch * sample * sizeof *x);
    labels = malloc((size_t)a.batch * sizeof *labels);
    order = malloc((size_t)data.n * sizeof *order);
    keep = malloc((size_t)a.batch * (size_t)hidden);
    state = calloc((size_t)n_params, sizeof *state);
    if (!x || !labels || !order || !keep || !state) {
        status = cli_usage_error("out of memory");
        goto done;
    }
    for (int k = 0; k < n_params; k++) {
        const mnv3_train_param *p = mnv3_trainer_param(t, k);
        if (p->is_buffer) continue;
        if (!(state[k] = calloc(mnv3_optim_state_floats(&rule, &hyper, p->count) + 1, sizeof(float)))) {
            status = cli_usage_error("out of memory");
            goto done;
        }
    }
    mnv3_train_rule train_rule;
    mnv3_plan_train_rule(&profile, &train_rule);
    mnv3_dropout_stream stream;
    mnv3_dropout_stream_init(&stream, train_rule.dropout_generator, (uint64_t)a.seed);
    const long per_epoch = (data.n + a.batch - 1) / a.batch;
    const long total = a.steps ? a.steps : a.epochs * per_epoch;
    const int tty = isatty(2);
    mnv3_train_step_options opt = {
        .loss = {.label_smoothing = (float)a.label_smoothing},
        .bn_momentum = mnv3_bn_default_momentum(&profile),
        .dropout_p = a.dropout,
    };
    double epoch_loss = 0;
    long epoch_correct = 0, epoch_seen = 0;
    for (long step = 1; step <= total; step++) {
        const long in_epoch = (step - 1) % per_epoch;
        if (in_epoch == 0) {
            if (a.shuffle) mnv3_torch_dataloader_epoch_order(&stream.torch, data.n, order);
            else
                for (int i = 0; i < data.n; i++) order[i] = i;
            epoch_loss = 0, epoch_correct = epoch_seen = 0;
        }
        const long first = in_epoch * a.batch;
        const int b = (int)(first + a.batch <= data.n ? a.batch : data.n - first);
        for (int s = 0; s < b; s++) {
            take_sample(&data, (int)order[first + s], x + (size_t)s * sample);
            labels[s] = (int)data.y[order[first + s]];
        }
        opt.keep = NULL;
        if (a.dropout > 0) {
            mnv3_dropout_stream_next(&stream, a.dropout, (size_t)b * (size_t)hidden, keep);
            opt.keep = keep;
        }
        float loss = 0;
        if (mnv3_trainer_step(t, x, labels, b, &opt, &loss, &err) != MNV3_OK) {
            status = cli_error(&err);
            goto done;
        }
        for (int k = 0; k < n_params; k++) {
            mnv3_train_param *p = mnv3_trainer_param(t, k);
            if (p->is_buffer) continue;
            if (mnv3_optim_step_tensor(&rule, &hyper, step, hyper.lr, p->value, p->grad, p->count, state[k], &err) !=
                MNV3_OK) {
                status = cli_error(&err);
                goto done;
            }
        }
        const float *z = mnv3_trainer_logits(t);
        const int K = model->arch.num_classes;
        for (int s = 0; s < b; s++) {
            int best = 0;
            for (int j = 1; j < K; j++) best = z[(size_t)s * (size_t)K + (size_t)j] > z[(size_t)s * (size_t)K + (size_t)best] ? j : best;
            epoch_correct += best == labels[s];
        }
        epoch_seen += b;
        epoch_loss += (double)loss * b;
        const int width = 30, filled = (int)(width * (in_epoch + 1) / per_epoch);
        fprintf(stderr, "%sepoch %ld step %ld/%ld [%.*s%*s] loss %.4f acc %.3f%s", tty ? "\r" : "",
                (step - 1) / per_epoch + 1, step, total, filled, "==============================",
                width - filled, "", epoch_loss / (double)epoch_seen, (double)epoch_correct / (double)epoch_seen,
                tty ? "" : "\n");
    }
    if (tty) fputc('\n', stderr);
    if (write_weights(a.out, t, &err) != MNV3_OK) status = cli_error(&err);
    else printf("trained %ld steps (%s, %s, lr %g, batch %ld) from %s; wrote %s\n", total, profile.name,
                a.optimizer, a.lr, a.batch, a.weights, a.out);
done:
    for (int k = 0; state && k < mnv3_trainer_param_count(t); k++) free(state[k]);
    free(state);
    free(x);
    free(labels);
    free(order);
    free(keep);
    mnv3_trainer_free(t);
    mnv3_tensors_free(&data.file);
    mnv3_model_free(model);
    return status;
}
