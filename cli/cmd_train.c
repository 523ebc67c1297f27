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

#include "cli.h"
#include "core/model.h"
#include "core/util.h"
#include "formats/formats.h"
#include "train/drift.h"

static int parse_double(const char *v, const char *what, double lo, double hi, double *out) {
    char *end;
    double d = v ? strtod(v, &end) : NAN;
    if (!v || *end || end == v || !(d >= lo && d <= hi))
        return cli_usage_error("%s must be a number in [%g, %g], got '%s'", what, lo, hi, v ? v : "");
    *out = d;
    return 0;
}

int cli_parse_training(int argc, char **argv, const char *command, cli_training_args *a, cli_option_fn extra,
                       void *user) {
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        const char *name = argv[i];
        if (!strcmp(name, "--shuffle")) {
            a->shuffle = 1;
            continue;
        }
        if (name[0] != '-' || i + 1 >= argc)
            return cli_usage_error("%s: unknown or incomplete option '%s'", command, name);
        v = argv[++i];
        int bad = 0;
        if (!strcmp(name, "--weights")) a->weights = v;
        else if (!strcmp(name, "--data")) a->data = v;
        else if (!strcmp(name, "--optimizer")) a->optimizer = v;
        else if (!strcmp(name, "--lr")) bad = parse_double(v, "--lr", 0, 1e6, &a->lr);
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
        else if ((bad = extra(name, v, user)) == 0) return cli_usage_error("%s: unknown option '%s'", command, name);
        else bad = bad == 2;
        if (bad) return 2;
    }
    if (!a->weights || !a->data || !a->optimizer || a->lr <= 0 || !a->batch)
        return cli_usage_error("%s needs --weights, --data, --optimizer, --lr and --batch", command);
    if (!a->steps == !a->epochs) return cli_usage_error("%s: give --steps K or --epochs E (one of them)", command);
    a->kind = mnv3_optimizer_kind_find(a->optimizer);
    if (a->kind < 0) return cli_usage_error("--optimizer must be sgd, adam, adamw or rmsprop, got '%s'", a->optimizer);
    return 0;
}

mnv3_training_choice cli_training_choice(const cli_training_args *a) {
    return (mnv3_training_choice){.optimizer = (mnv3_optimizer_kind)a->kind, .lr = a->lr, .momentum = a->momentum,
                                  .weight_decay = a->weight_decay, .dropout = a->dropout,
                                  .label_smoothing = a->label_smoothing, .have_momentum = a->have_momentum,
                                  .batch = (int)a->batch, .shuffle = a->shuffle, .seed = (uint64_t)a->seed};
}

typedef struct train_only {
    const char *profile, *out;
    const char *sets[16];
    int n_sets;
} train_only;

static int train_option(const char *name, const char *v, void *user) {
    train_only *t = user;
    if (!strcmp(name, "--profile")) t->profile = v;
    else if (!strcmp(name, "--out")) t->out = v;
    else if (!strcmp(name, "--set")) {
        if (t->n_sets >= 16) return cli_usage_error("at most 16 --set options"), 2;
        t->sets[t->n_sets++] = v;
    } else return 0;
    return 1;
}

/* The model to train: the weights, with a seeded head of `classes` classes
 * when asked for or when the weights are a backbone. */
int cli_training_model(const cli_training_args *a, mnv3_model **out, mnv3_error *err) {
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
    cli_training_args a = {.dropout = 0.2, .threads = 1};
    train_only t = {0};
    int status = cli_parse_training(argc, argv, "train", &a, train_option, &t);
    if (status) return status;
    if (!t.profile || !t.out) return cli_usage_error("train needs --profile and --out");
    size_t outlen = strlen(t.out);
    if (!((outlen > 4 && !strcmp(t.out + outlen - 4, ".pth")) ||
          (outlen > 11 && !strcmp(t.out + outlen - 11, ".weights.h5")) ||
          (outlen > 12 && !strcmp(t.out + outlen - 12, ".safetensors"))))
        return cli_usage_error("train: --out must end in .pth, .weights.h5 or .safetensors");
    mnv3_error err = {0};
    const mnv3_profile *found = mnv3_profile_find(t.profile);
    if (!found) return cli_usage_error("unknown profile '%s' (see mnv3 profiles)", t.profile);
    mnv3_profile profile = *found;
    for (int i = 0; i < t.n_sets; i++)
        if (mnv3_profile_set(&profile, t.sets[i], &err) != MNV3_OK) return cli_error(&err);
    const mnv3_training_choice choice = cli_training_choice(&a);
    mnv3_finetune_options fo;
    if (mnv3_finetune_options_for(&profile, &choice, &fo, &err) != MNV3_OK) return cli_error(&err);

    mnv3_model *model = NULL;
    if (cli_training_model(&a, &model, &err) != MNV3_OK) return cli_error(&err);
    cli_dataset data = {0};
    const int nhwc = profile.option[mnv3_factor_find("layout")] != 0; /* as run reads it */
    mnv3_finetune *f = NULL;
    if (cli_load_dataset(a.data, nhwc, model->arch.num_classes, &data, &err) != MNV3_OK ||
        !(f = mnv3_finetune_new(model, &profile, &data.view, &fo, &err))) {
        status = cli_error(&err);
        goto done;
    }
    const long per_epoch = mnv3_finetune_steps_per_epoch(f);
    const long total = a.steps ? a.steps : a.epochs * per_epoch;
    const int tty = isatty(2);
    double epoch_loss = 0;
    long epoch_correct = 0, epoch_seen = 0;
    for (long step = 1; step <= total; step++) {
        mnv3_finetune_batch done_batch;
        if (mnv3_finetune_step(f, &done_batch, &err) != MNV3_OK) {
            status = cli_error(&err);
            goto done;
        }
        const long in_epoch = (step - 1) % per_epoch;
        if (in_epoch == 0) epoch_loss = 0, epoch_correct = epoch_seen = 0;
        epoch_correct += done_batch.correct;
        epoch_seen += done_batch.size;
        epoch_loss += (double)done_batch.loss * done_batch.size;
        const int width = 30, filled = (int)(width * (in_epoch + 1) / per_epoch);
        fprintf(stderr, "%sepoch %ld step %ld/%ld [%.*s%*s] loss %.4f acc %.3f%s", tty ? "\r" : "",
                done_batch.epoch, step, total, filled, "==============================",
                width - filled, "", epoch_loss / (double)epoch_seen, (double)epoch_correct / (double)epoch_seen,
                tty ? "" : "\n");
    }
    if (tty) fputc('\n', stderr);
    if (write_weights(t.out, mnv3_finetune_trainer(f), &err) != MNV3_OK) status = cli_error(&err);
    else printf("trained %ld steps (%s, %s, lr %g, batch %ld) from %s; wrote %s\n", total, profile.name,
                a.optimizer, a.lr, a.batch, a.weights, t.out);
done:
    mnv3_finetune_free(f);
    cli_dataset_free(&data);
    mnv3_model_free(model);
    return status;
}
