/* mnv3 run on a quantized TFLite model: --weights Q.tflite --profile P
 * --input X.npy (the model's input dtype, NHWC) [--output Y.npy]
 * [--dequantize] [--dump-dir DIR] [--labels FILE] [--set factor=option]. The output is
 * written raw in the model's output dtype, or as float32 with --dequantize;
 * --image F --pipeline P quantizes the pipeline's float NHWC output with the
 * input tensor's parameters as LiteRT users do (numpy: round half to even of
 * x / scale in float32, + zero point, clipped); --dump-dir writes every tensor as DIR/t<index>.npy; --labels names the
 * top-5 classes from a file of one label a line ("N:label" lines lose "N:"). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "factors/factors.h"
#include "formats/tflite.h"
#include "image/image.h"
#include "quant/qgraph.h"

static const char *npy_descr(int dtype) {
    switch (dtype) {
    case MNV3_QT_UINT8: return "|u1";
    case MNV3_QT_INT8: return "|i1";
    case MNV3_QT_INT32: return "<i4";
    case MNV3_QT_FLOAT32: return "<f4";
    default: return NULL;
    }
}

static int write_npy_raw(const char *path, const char *descr, int ndim, const int64_t *shape,
                         const void *data, size_t bytes) {
    char header[256];
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < ndim; d++)
        n += snprintf(header + n, sizeof header - (size_t)n, "%lld%s", (long long)shape[d],
                      ndim == 1 ? "," : d + 1 < ndim ? ", " : "");
    n += snprintf(header + n, sizeof header - (size_t)n, "), }");
    int total = 10 + n + 1, pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return cli_usage_error("cannot create %s", path);
    unsigned short hl = (unsigned short)(n + pad + 1);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff),
                             (unsigned char)(hl >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, (size_t)n, f) == (size_t)n;
    for (int k = 0; k < pad && ok; k++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF && fwrite(data, 1, bytes, f) == bytes;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : cli_usage_error("cannot write %s", path);
}

/* Reads a C-order .npy of dtype descr; *data is malloc'd. */
static int read_npy_raw(const char *path, const char *descr, size_t elem, unsigned char **data,
                        size_t *count) {
    FILE *f = fopen(path, "rb");
    if (!f) return cli_usage_error("cannot open %s", path);
    unsigned char pre[12];
    int status = 0;
    char header[4096];
    size_t hl = 0;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || (pre[6] != 1 && pre[6] != 2)) {
        status = cli_usage_error("%s: not a .npy file", path);
    } else {
        hl = (size_t)pre[8] | (size_t)pre[9] << 8;
        if (pre[6] == 2) {
            if (fread(pre + 10, 1, 2, f) != 2) status = cli_usage_error("%s: truncated header", path);
            hl |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        }
        if (!status && (hl >= sizeof header || fread(header, 1, hl, f) != hl))
            status = cli_usage_error("%s: header of %zu bytes unreadable", path, hl);
    }
    if (!status) {
        header[hl] = 0;
        char want[32];
        snprintf(want, sizeof want, "'%s'", descr);
        const char *sh = strstr(header, "'shape':");
        if (!strstr(header, want))
            status = cli_usage_error("%s: dtype is not %s (the model's input dtype)", path, descr);
        else if (strstr(header, "True"))
            status = cli_usage_error("%s: Fortran order is not supported", path);
        else if (!sh || !strchr(sh, '('))
            status = cli_usage_error("%s: no shape in the header", path);
        else {
            size_t n = 1;
            const char *p = strchr(sh, '(') + 1;
            while (*p && *p != ')') {
                if (isdigit((unsigned char)*p)) {
                    char *end;
                    unsigned long long v = strtoull(p, &end, 10);
                    if (v > ((size_t)1 << 30) || (v && n > ((size_t)1 << 30) / v)) {
                        status = cli_usage_error("%s: shape too large", path);
                        break;
                    }
                    n *= (size_t)v;
                    p = end;
                } else
                    p++;
            }
            if (!status) {
                *data = malloc(n * elem > 0 ? n * elem : 1);
                if (!*data) status = cli_usage_error("out of memory");
                else if (fread(*data, elem, n, f) != n) {
                    free(*data);
                    *data = NULL;
                    status = cli_usage_error("%s: fewer values than its shape says", path);
                } else
                    *count = n;
            }
        }
    }
    fclose(f);
    return status;
}

static int quantize_image(const char *pipeline, const char *image, const mnv3_qtensor *ti,
                          unsigned char **data, size_t *count) {
    mnv3_tensor x = {0};
    mnv3_error err;
    if (mnv3_preprocess(pipeline, image, MNV3_NHWC, &x, &err) != MNV3_OK) return cli_error(&err);
    size_t n = (size_t)mnv3_tensor_numel(&x);
    int status = 0;
    if (n != ti->numel)
        status = cli_usage_error("pipeline %s gives %zu values, the model takes %zu", pipeline, n, ti->numel);
    else if (!(*data = malloc(n)))
        status = cli_usage_error("out of memory");
    else {
        float lo = ti->dtype == MNV3_QT_INT8 ? -128.0f : 0.0f, hi = ti->dtype == MNV3_QT_INT8 ? 127.0f : 255.0f;
        const float *v = x.data;
        for (size_t i = 0; i < n; i++) {
            float q = rintf(v[i] / ti->scales[0]) + (float)ti->zero_points[0];
            q = q < lo ? lo : q > hi ? hi : q;
            (*data)[i] = ti->dtype == MNV3_QT_INT8 ? (unsigned char)(int8_t)q : (unsigned char)q;
        }
        *count = n;
    }
    mnv3_tensor_free(&x);
    return status;
}

static int write_tensor(const char *path, const mnv3_qtensor *t, const unsigned char *v) {
    const char *descr = npy_descr(t->dtype);
    if (!descr || !v) return 0;
    int64_t shape[MNV3_QMAX_DIMS];
    for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
    return write_npy_raw(path, descr, t->ndim, shape, v, t->numel * mnv3_qdtype_size(t->dtype));
}

/* Line i of a labels file (malloc'd text, lines split in place). */
typedef struct label_file {
    char *text;
    char **line;
    size_t n;
} label_file;

static int read_labels(const char *path, label_file *lf) {
    memset(lf, 0, sizeof *lf);
    FILE *f = fopen(path, "rb");
    if (!f) return cli_usage_error("cannot open labels %s", path);
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (len < 0 || len > (1L << 24) || fseek(f, 0, SEEK_SET) != 0 ||
        !(lf->text = malloc((size_t)len + 1)) || fread(lf->text, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(lf->text);
        return cli_usage_error("cannot read labels %s", path);
    }
    fclose(f);
    lf->text[len] = 0;
    size_t cap = 1;
    for (long i = 0; i < len; i++) cap += lf->text[i] == '\n';
    lf->line = calloc(cap, sizeof *lf->line);
    if (!lf->line) return cli_usage_error("out of memory");
    for (char *p = lf->text; *p && lf->n < cap;) {
        char *end = strchr(p, '\n');
        if (end) *end = 0;
        if (end && end > p && end[-1] == '\r') end[-1] = 0;
        char *colon = strchr(p, ':');
        char want[24];
        snprintf(want, sizeof want, "%zu", lf->n);
        if (colon && (size_t)(colon - p) == strlen(want) && !strncmp(p, want, strlen(want))) p = colon + 1;
        lf->line[lf->n++] = p;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

static void print_top5(const mnv3_qtensor *t, const unsigned char *v, const label_file *lf) {
    size_t depth = (size_t)t->shape[t->ndim - 1];
    int classes = depth == 1000 || depth == 1001 ? (int)depth : 0;
    int best[5] = {-1, -1, -1, -1, -1};
    int32_t bestv[5] = {0};
    for (size_t i = 0; i < depth; i++) {
        int32_t x = t->dtype == MNV3_QT_INT8 ? (int32_t)(int8_t)v[i] : (int32_t)v[i];
        for (int k = 0; k < 5; k++)
            if (best[k] < 0 || x > bestv[k]) { /* ties: the lower index first */
                for (int j = 4; j > k; j--) best[j] = best[j - 1], bestv[j] = bestv[j - 1];
                best[k] = (int)i, bestv[k] = x;
                break;
            }
    }
    double s = t->n_params ? (double)t->scales[0] : 1.0;
    int64_t zp = t->n_params ? t->zero_points[0] : 0;
    printf("top-5 of %zu outputs\n", depth);
    for (int k = 0; k < 5 && best[k] >= 0; k++) {
        const char *label = lf->n ? ((size_t)best[k] < lf->n ? lf->line[best[k]] : NULL)
                            : classes ? cli_imagenet_label(classes, best[k]) : NULL;
        printf("  %d. class %4d  q %4d  %.6f  %s\n", k + 1, best[k], (int)bestv[k],
               s * (double)(bestv[k] - zp), label ? label : "");
    }
}

int cmd_run_quant(int argc, char **argv) {
    const char *weights = NULL, *profile_name = "litert-int8-ref", *input = NULL, *output = NULL,
               *dump_dir = NULL, *labels = NULL, *image = NULL, *pipeline = NULL, *sets[16];
    int n_sets = 0, dequantize = 0, status = 0;
    for (int i = 0; i < argc; i++) {
        const char **slot = NULL, *name = argv[i];
        if (!strcmp(name, "--weights")) slot = &weights;
        else if (!strcmp(name, "--profile")) slot = &profile_name;
        else if (!strcmp(name, "--input")) slot = &input;
        else if (!strcmp(name, "--output")) slot = &output;
        else if (!strcmp(name, "--dump-dir")) slot = &dump_dir;
        else if (!strcmp(name, "--labels")) slot = &labels;
        else if (!strcmp(name, "--image")) slot = &image;
        else if (!strcmp(name, "--pipeline")) slot = &pipeline;
        else if (!strcmp(name, "--set")) {
            if (n_sets == 16) return cli_usage_error("at most 16 --set");
            slot = &sets[n_sets++];
        } else if (!strcmp(name, "--dequantize")) {
            dequantize = 1;
            continue;
        } else
            return cli_usage_error("run (quantized model): unknown option '%s'", name);
        if (i + 1 >= argc) return cli_usage_error("%s needs a value", name);
        *slot = argv[++i];
    }
    if (!weights || !input == !image)
        return cli_usage_error("run: --weights Q.tflite and one of --input X.npy, --image F are required");
    if (image && !pipeline) return cli_usage_error("--image needs --pipeline (see mnv3 pipelines)");
    const mnv3_profile *found = mnv3_profile_find(profile_name);
    if (!found) return cli_usage_error("unknown profile '%s' (see mnv3 profiles)", profile_name);
    mnv3_profile profile = *found;
    mnv3_error err;
    for (int k = 0; k < n_sets; k++)
        if (mnv3_profile_set(&profile, sets[k], &err) != MNV3_OK) return cli_error(&err);
    label_file lf = {0};
    if (labels && (status = read_labels(labels, &lf))) return status;
    unsigned char *file = NULL, *x = NULL;
    mnv3_qgraph *g = NULL;
    mnv3_qplan *p = NULL;
    size_t count = 0;
    if (mnv3_qgraph_read(weights, &file, &g, &err) != MNV3_OK) {
        free(lf.line);
        free(lf.text);
        return cli_error(&err);
    }
    const mnv3_qtensor *ti = &g->tensors[g->input], *to = &g->tensors[g->output];
    if (mnv3_qplan_create(g, &profile, &p, &err) != MNV3_OK) status = cli_error(&err);
    else if ((status = image ? quantize_image(pipeline, image, ti, &x, &count)
                             : read_npy_raw(input, npy_descr(ti->dtype), 1, &x, &count))) {
    } else if (mnv3_qplan_run(p, x, count, &err) != MNV3_OK)
        status = cli_error(&err);
    else {
        print_top5(to, p->values[g->output], &lf);
        if (output && dequantize) {
            float *f = malloc(to->numel * sizeof *f);
            int64_t shape[MNV3_QMAX_DIMS];
            for (int d = 0; d < to->ndim; d++) shape[d] = to->shape[d];
            if (!f) status = cli_usage_error("out of memory");
            else {
                for (size_t i = 0; i < to->numel; i++) {
                    int32_t q = to->dtype == MNV3_QT_INT8 ? (int8_t)p->values[g->output][i]
                                                          : p->values[g->output][i];
                    f[i] = to->scales[0] * (float)(q - (int32_t)to->zero_points[0]);
                }
                status = write_npy_raw(output, "<f4", to->ndim, shape, f, to->numel * sizeof *f);
                free(f);
            }
        } else if (output)
            status = write_tensor(output, to, p->values[g->output]);
        for (int i = 0; dump_dir && !status && i < g->n_tensors; i++) {
            if (g->tensors[i].data) continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/t%d.npy", dump_dir, i);
            status = write_tensor(path, &g->tensors[i], p->values[i]);
        }
    }
    free(x);
    free(lf.line);
    free(lf.text);
    mnv3_qplan_free(p);
    mnv3_qgraph_free(g);
    free(file);
    return status;
}

/* 1 when the --weights of argv name a TFLite model with a uint8/int8 input. */
int cli_weights_are_quantized(int argc, char **argv) {
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--weights")) {
            FILE *f = fopen(argv[i + 1], "rb");
            if (!f) return 0;
            unsigned char *buf = NULL;
            long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
            int q = 0;
            if (len > 8 && len < (1L << 30) && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len)) &&
                fread(buf, 1, (size_t)len, f) == (size_t)len)
                q = mnv3_is_quantized_tflite(buf, (size_t)len);
            free(buf);
            fclose(f);
            return q;
        }
    return 0;
}
