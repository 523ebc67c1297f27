/* Loading the two sides of a comparison (mnv3 compare, mnv3 explain). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "factors/factors.h"
#include "image/image.h"
#include "core/util.h"
#include "sides.h"

enum { BUILTIN_SEED = 1, BUILTIN_CLASSES = 1000, BUILTIN_SIZE = 224 };

int cli_compare_arg(int argc, char **argv, int *i, cli_compare_args *a, int *status) {
    const char *arg = argv[*i], *v;
    int r;
    if ((r = cli_take(argc, argv, i, "--input", &a->input)) ||
        (r = cli_take(argc, argv, i, "--image", &a->image)) ||
        (r = cli_take(argc, argv, i, "--images", &a->images)) ||
        (r = cli_take(argc, argv, i, "--html", &a->html_path))) {
        if (r < 0) *status = cli_usage_error("%s needs a value", arg);
        return 1;
    }
    if (!strcmp(arg, "--group")) {
        if (*i + 1 >= argc || a->n_groups == 8) *status = cli_usage_error("--group needs name=f1,f2");
        else a->groups[a->n_groups++] = argv[++*i];
        return 1;
    }
    if (!strcmp(arg, "--json")) {
        a->json = 1;
        return 1;
    }
    if (strncmp(arg, "--a-", 4) && strncmp(arg, "--b-", 4)) return 0;
    cli_side_args *s = &a->side[arg[2] == 'b'];
    const char *key = arg + 4;
    if (*i + 1 >= argc) {
        *status = cli_usage_error("%s needs a value", arg);
        return 1;
    }
    v = argv[++*i];
    if (!strcmp(key, "profile")) s->profile = v;
    else if (!strcmp(key, "weights")) s->weights = v;
    else if (!strcmp(key, "pipeline")) s->pipeline = v;
    else if (!strcmp(key, "dump")) s->dump = v;
    else if (!strcmp(key, "set") && s->n_sets < 16) s->sets[s->n_sets++] = v;
    else *status = cli_usage_error("unknown option '%s'", arg);
    return 1;
}

static int load_model(const char *weights, mnv3_model **m, mnv3_error *err) {
    if (weights) return mnv3_model_load(weights, m, NULL, err);
    mnv3_tensors ts;
    if (mnv3_synth_weights(BUILTIN_SEED, BUILTIN_CLASSES, &ts, err) != MNV3_OK) return MNV3_FAIL;
    int rc = mnv3_model_from_tensors(&ts, "built-in synthetic weights", m, NULL, err);
    mnv3_tensors_free(&ts);
    return rc;
}

static int same_text(const char *x, const char *y) {
    return (!x && !y) || (x && y && !strcmp(x, y));
}

int cli_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

mnv3_side cli_side_view(const cli_compare *c, int k) {
    const cli_side *s = &c->side[k];
    mnv3_side v = {s->model, s->profile, s->input, s->input_label, cli_threads()};
    return v;
}

int cli_side_run(const cli_compare *c, const mnv3_side *s, mnv3_tensors *taps, float *output,
                 mnv3_error *err) {
    cli_tap_collector col = {.n = c->n};
    memset(taps, 0, sizeof *taps);
    /* fast kernels on every core: bit-identical to the reference kernels (tests/fast) */
    mnv3_session_options so = {.kernels = "fast", .threads = s->threads, .max_batch = c->n,
                               .tap = cli_collect_tap, .tap_user = &col};
    cli_session_env(&so);
    mnv3_session *session = NULL;
    int rc = mnv3_session_create(s->model, &s->profile, c->h, c->w, MNV3_NCHW, &so, &session, err);
    if (rc == MNV3_OK) rc = mnv3_session_run(session, s->input, c->n, output, err);
    mnv3_session_free(session);
    if (rc != MNV3_OK) {
        mnv3_tensors_free(&col.taps);
        return MNV3_FAIL;
    }
    if (col.failed) {
        *err = col.err;
        mnv3_tensors_free(&col.taps);
        return MNV3_FAIL;
    }
    *taps = col.taps;
    return MNV3_OK;
}

/* Dumps from outside: npz or safetensors, renamed to canonical layers. */
static int read_outside_dump(const char *path, mnv3_tensors *out, mnv3_error *err) {
    size_t len = strlen(path);
    int st = len > 12 && !strcmp(path + len - 12, ".safetensors");
    if ((st ? mnv3_read_safetensors(path, out, err) : mnv3_read_npz(path, out, err)) != MNV3_OK)
        return MNV3_FAIL;
    if (mnv3_dump_canonicalise(out, path, err) != MNV3_OK) {
        mnv3_tensors_free(out);
        return MNV3_FAIL;
    }
    return MNV3_OK;
}

static int by_name(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The JPEG and PNG files of a directory, sorted, as full paths. */
static int list_images(const char *dir, char ***out, int *count) {
    DIR *d = opendir(dir);
    *out = NULL, *count = 0;
    if (!d) return cli_usage_error("%s: cannot open directory", dir);
    int cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || (strcasecmp(dot, ".jpg") && strcasecmp(dot, ".jpeg") && strcasecmp(dot, ".png")))
            continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 32;
            char **grown = realloc(*out, (size_t)cap * sizeof *grown);
            if (!grown) break;
            *out = grown;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        (*out)[*count] = malloc(len);
        if (!(*out)[*count]) break;
        snprintf((*out)[*count], len, "%s/%s", dir, e->d_name);
        (*count)++;
    }
    closedir(d);
    if (!*count) return cli_usage_error("%s: no .jpg, .jpeg or .png files", dir);
    qsort(*out, (size_t)*count, sizeof **out, by_name);
    return 0;
}

/* Runs a pipeline over several images into one N x 3 x H x W batch. */
static int preprocess_all(const char *pipeline, char **paths, int count, float **out, int *h,
                          int *w, mnv3_error *err) {
    int tty = isatty(2);
    *out = NULL;
    for (int i = 0; i < count; i++) {
        mnv3_tensor t = {0};
        if (mnv3_preprocess(pipeline, paths[i], MNV3_NCHW, &t, err) != MNV3_OK) {
            free(*out);
            *out = NULL;
            return MNV3_FAIL;
        }
        size_t per = (size_t)mnv3_tensor_numel(&t);
        if (i == 0) {
            *h = (int)t.shape[2], *w = (int)t.shape[3];
            *out = malloc(per * (size_t)count * sizeof **out);
        }
        if (!*out || t.shape[2] != *h || t.shape[3] != *w) {
            free(t.name), free(t.data), free(*out);
            *out = NULL;
            snprintf(err->message, sizeof err->message, "%s: pipeline %s gives a different size",
                     paths[i], pipeline);
            return MNV3_FAIL;
        }
        memcpy(*out + per * (size_t)i, t.data, per * sizeof **out);
        free(t.name), free(t.data);
        if (tty) fprintf(stderr, "\r%s: %d/%d images", pipeline, i + 1, count);
    }
    if (tty) fprintf(stderr, "\n");
    return MNV3_OK;
}

int cli_compare_open(const cli_compare_args *a, int dumps, cli_compare *c) {
    mnv3_error err;
    memset(c, 0, sizeof *c);
    if (!!a->input + !!a->image + !!a->images > 1)
        return cli_usage_error("give one of --input, --image and --images");
    char **paths = NULL;
    int n_paths = 0;
    if (a->images) {
        int st = list_images(a->images, &paths, &n_paths);
        if (st) return st;
    }
    /* The shared input: a tensor file, or the built-in one. */
    mnv3_tensor shared = {0};
    if (a->input) {
        if (mnv3_read_npy(a->input, &shared, &err) != MNV3_OK) return cli_error(&err);
        if (cli_input_not_finite(&shared, a->input)) {
            free(shared.name), free(shared.data);
            return 1;
        }
        if (shared.ndim != 4 || shared.shape[1] != 3) {
            free(shared.name), free(shared.data);
            fprintf(stderr, "mnv3: %s: expected [N, 3, H, W] float32\n", a->input);
            return 1;
        }
        c->n = (int)shared.shape[0], c->h = (int)shared.shape[2], c->w = (int)shared.shape[3];
    } else if (!a->image && !a->images) {
        c->n = 1, c->h = c->w = BUILTIN_SIZE;
    }
    /* A side that names no weights runs the other side's, under its own profile. */
    const char *weights[2] = {a->side[0].weights, a->side[1].weights};
    int borrower = -1;
    for (int k = 0; k < 2; k++) {
        const cli_side_args *own = &a->side[k], *other = &a->side[1 - k];
        if (own->dump || own->weights || other->dump || !other->weights) continue;
        weights[k] = other->weights;
        borrower = k;
    }
    int status = 0;
    for (int k = 0; k < 2 && !status; k++) {
        const cli_side_args *sa = &a->side[k];
        cli_side *s = &c->side[k];
        s->input_label = sa->pipeline;
        if (sa->dump) {
            if (read_outside_dump(sa->dump, &s->dump, &err) != MNV3_OK) status = cli_error(&err);
            snprintf(s->label, sizeof s->label, "dump %s", sa->dump);
            continue;
        }
        const char *pname = sa->profile ? sa->profile : (k == 0 ? "torch" : "keras");
        const mnv3_profile *p = mnv3_profile_find(pname);
        if (!p) {
            status = cli_usage_error("unknown profile '%s' (see mnv3 profiles)", pname);
            break;
        }
        s->profile = *p;
        /* Compare logits: a softmax on one side only would hide them; the
         * agreement statistics apply softmax to both in float64. */
        s->profile.option[MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_LOGITS;
        for (int i = 0; i < sa->n_sets && !status; i++)
            if (mnv3_profile_set(&s->profile, sa->sets[i], &err) != MNV3_OK) status = cli_error(&err);
        if (status) break;
        /* Share one model when both sides name the same weights. */
        if (k == 1 && c->side[0].model && same_text(weights[1], weights[0])) {
            s->model = c->side[0].model;
        } else {
            if (load_model(weights[k], &s->model, &err) != MNV3_OK) {
                status = cli_error(&err);
                break;
            }
            s->owns_model = 1;
        }
        const char *pipeline = NULL;
        if (a->images) {
            pipeline = sa->pipeline ? sa->pipeline : mnv3_default_pipeline(pname);
            int h = 0, w = 0;
            if (preprocess_all(pipeline, paths, n_paths, &s->input, &h, &w, &err) != MNV3_OK) {
                status = cli_error(&err);
                break;
            }
            if (k == 1 && (h != c->h || w != c->w)) {
                status = cli_usage_error("the two pipelines give different sizes");
                break;
            }
            c->n = n_paths, c->h = h, c->w = w;
            mnv3_profile_after_pipeline(&s->profile, pipeline);
        } else if (a->image) {
            pipeline = sa->pipeline ? sa->pipeline : mnv3_default_pipeline(pname);
            mnv3_tensor t = {0};
            if (mnv3_preprocess(pipeline, a->image, MNV3_NCHW, &t, &err) != MNV3_OK) {
                status = cli_error(&err);
                break;
            }
            free(t.name);
            s->input = t.data;
            int n = (int)t.shape[0], h = (int)t.shape[2], w = (int)t.shape[3];
            if (k == 1 && (n != c->n || h != c->h || w != c->w)) {
                status = cli_usage_error("the two pipelines give different sizes (%dx%d vs %dx%d)",
                                         c->h, c->w, h, w);
                break;
            }
            c->n = n, c->h = h, c->w = w;
            mnv3_profile_after_pipeline(&s->profile, pipeline);
        } else {
            size_t count = (size_t)c->n * 3 * (size_t)c->h * (size_t)c->w;
            s->input = malloc(count * sizeof *s->input);
            if (!s->input) {
                status = cli_usage_error("out of memory");
                break;
            }
            if (a->input) memcpy(s->input, shared.data, count * sizeof *s->input);
            else mnv3_synth_input(BUILTIN_SEED, c->n, 3, c->h, c->w, s->input);
            int rescale_set = 0; /* an explicit --x-set input_rescale=... wins */
            for (int i = 0; i < sa->n_sets; i++)
                rescale_set |= !strncmp(sa->sets[i], "input_rescale=", 14);
            if (!rescale_set) s->profile.option[MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_NONE;
        }
        snprintf(s->label, sizeof s->label, "profile %s, weights %s%s%s", pname,
                 weights[k] ? weights[k] : "built-in", pipeline ? ", pipeline " : "",
                 pipeline ? pipeline : "");
    }
    free(shared.name), free(shared.data);
    for (int i = 0; i < n_paths; i++) free(paths[i]);
    free(paths);
    if (!status && !a->image && !a->images)
        snprintf(c->note, sizeof c->note,
                 "both sides see the same tensor (%s), in-model rescaling off unless set: a "
                 "model-only comparison",
                 a->input ? a->input : "the built-in seeded 1x3x224x224 input");
    for (int k = 0; k < 2 && !status && dumps; k++) {
        cli_side *s = &c->side[k];
        if (!s->model) continue;
        s->output = malloc((size_t)c->n * (size_t)mnv3_output_size(s->model) * sizeof *s->output);
        if (!s->output) status = cli_usage_error("out of memory");
        else {
            mnv3_side view = cli_side_view(c, k);
            if (cli_side_run(c, &view, &s->dump, s->output, &err) != MNV3_OK) status = cli_error(&err);
        }
    }
    if (status) cli_compare_close(c);
    else if (borrower >= 0)
        fprintf(stderr, "mnv3: side %c runs side %c's weights (%s) under its own profile; "
                "--%c-weights W to change that\n", 'A' + borrower, 'B' - borrower,
                weights[borrower], 'a' + borrower);
    return status;
}

void cli_compare_close(cli_compare *c) {
    for (int k = 0; k < 2; k++) {
        cli_side *s = &c->side[k];
        if (s->owns_model) mnv3_model_free(s->model);
        free(s->input);
        free(s->output);
        mnv3_tensors_free(&s->dump);
    }
    memset(c, 0, sizeof *c);
}
