/* Feeds every file of the fuzz corpus (tests/fuzz/corpus/<target>/) through
 * the matching buffer reader, so inputs that once crashed stay fixed in
 * every build, sanitizers included. A reader may accept or reject a file;
 * a crash or a malformed message is the failure. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/keras_h5.h"
#include "formats/tflite.h"
#include "image/image.h"
#include "quant/qgraph.h"
#include "craft.h"

typedef int (*reader_fn)(const unsigned char *buf, size_t len, mnv3_error *err);

static int read_pth(const unsigned char *buf, size_t len, mnv3_error *err) {
    mnv3_tensors ts;
    int rc = mnv3_read_pth_buffer(buf, len, "corpus", &ts, err);
    mnv3_tensors_free(&ts);
    return rc;
}

/* The pickle corpus holds bare data.pkl images: wrap them as fuzz_pickle does. */
static int read_pickle(const unsigned char *buf, size_t len, mnv3_error *err) {
    bytes zip = {0};
    if (wrap_pickle(buf, len, &zip) != 0) {
        snprintf(err->message, sizeof err->message, "make_zip failed");
        return MNV3_FAIL;
    }
    int rc = read_pth(zip.p, zip.n, err);
    bytes_free(&zip);
    return rc;
}

static int read_safetensors(const unsigned char *buf, size_t len, mnv3_error *err) {
    mnv3_tensors ts;
    int rc = mnv3_read_safetensors_buffer(buf, len, "corpus", &ts, err);
    mnv3_tensors_free(&ts);
    return rc;
}

static int read_npy(const unsigned char *buf, size_t len, mnv3_error *err) {
    mnv3_tensor t;
    int rc = mnv3_read_npy_buffer(buf, len, "corpus", "x", &t, err);
    free(t.name);
    free(t.data);
    return rc;
}

static int read_npz(const unsigned char *buf, size_t len, mnv3_error *err) {
    mnv3_tensors ts;
    int rc = mnv3_read_npz_buffer(buf, len, "corpus", &ts, err);
    mnv3_tensors_free(&ts);
    return rc;
}

/* Keras HDF5 and .keras: in process, as fuzz_h5 and fuzz_keras read them. */
static int read_keras(const unsigned char *buf, size_t len, mnv3_error *err) {
    mnv3_tensors ts;
    int rc = mnv3_read_keras_h5_buffer(buf, len, "corpus", &ts, err);
    if (rc == MNV3_OK) mnv3_tensors_free(&ts);
    return rc;
}

/* As fuzz_image: both decoders' pipelines, with the fuzzer's pixel budget. */
static int read_image(const unsigned char *buf, size_t len, mnv3_error *err) {
    mnv3_set_image_pixel_budget(1u << 20);
    static const char *pipelines[] = {"torchvision-imagenet", "tf-data"};
    int rc = MNV3_OK;
    for (int k = 0; k < 2; k++) {
        mnv3_tensor t;
        mnv3_error e;
        if (mnv3_preprocess_buffer(pipelines[k], buf, len, "corpus", MNV3_NCHW, &t, &e) ==
            MNV3_OK) {
            free(t.name);
            free(t.data);
        } else {
            *err = e;
            rc = MNV3_FAIL;
        }
    }
    mnv3_set_image_pixel_budget(0);
    return rc;
}

/* As fuzz_tflite: the flatbuffer reader, then the float weight mapping. */
static int read_tflite(const unsigned char *buf, size_t len, mnv3_error *err) {
    mnv3_tflite_model *m;
    if (mnv3_tflite_open(buf, len, "corpus", &m, err) != MNV3_OK) return MNV3_FAIL;
    for (int i = 0; i < m->n_ops; i++) (void)mnv3_tflite_producer(m, m->ops[i].inputs[0]);
    mnv3_tflite_free(m);
    mnv3_tensors ts;
    int rc = mnv3_read_tflite_buffer(buf, len, "corpus", &ts, NULL, err);
    if (rc == MNV3_OK) mnv3_tensors_free(&ts);
    return rc;
}

/* As fuzz_tflite_quant: the qgraph, a plan under each integer profile, a run. */
static int read_tflite_quant(const unsigned char *buf, size_t len, mnv3_error *err) {
    mnv3_qgraph *g = NULL;
    if (mnv3_qgraph_from_tflite(buf, len, "corpus", &g, err) != MNV3_OK) return MNV3_FAIL;
    static const char *profiles[] = {"litert-int8-ref", "litert-int8-builtin", "litert-int8"};
    int rc = MNV3_OK;
    for (int k = 0; k < 3; k++) {
        mnv3_qplan *p = NULL;
        if (mnv3_qplan_create(g, mnv3_profile_find(profiles[k]), &p, err) == MNV3_OK) {
            size_t n = g->tensors[g->input].numel;
            int small = n <= (size_t)1 << 16 && mnv3_qgraph_activation_bytes(g) <= (1u << 20) &&
                        mnv3_qgraph_macs(g, 1u << 24) <= (1u << 24);
            unsigned char *x = small ? calloc(n ? n : 1, 1) : NULL;
            if (x && mnv3_qplan_run(p, x, n, err) != MNV3_OK) rc = MNV3_FAIL;
            free(x);
        } else {
            rc = MNV3_FAIL;
        }
        mnv3_qplan_free(p);
    }
    mnv3_qgraph_free(g);
    return rc;
}

static int run_dir(const char *root, const char *target, reader_fn reader, int *files) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, target);
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: no corpus directory\n", dir);
        return 1;
    }
    int problems = 0, accepted = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unsigned char *buf;
        size_t len;
        mnv3_error err;
        if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, &buf, &len, &err) != MNV3_OK) {
            printf("%s\n", err.message);
            problems++;
            continue;
        }
        n++;
        int rc = reader(buf, len, &err);
        free(buf);
        if (rc == MNV3_OK) accepted++;
        else if (strncmp(err.message, "corpus: ", 8) != 0 || strchr(err.message, '\n')) {
            printf("%s: malformed error message: %s\n", path, err.message);
            problems++;
        }
    }
    closedir(d);
    printf("%-12s %4d files, %4d accepted, %d problems\n", target, n, accepted, problems);
    *files += n;
    return problems;
}

int main(int argc, char **argv) {
    const char *root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    int files = 0, problems = 0;
    problems += run_dir(root, "pth", read_pth, &files);
    problems += run_dir(root, "pickle", read_pickle, &files);
    problems += run_dir(root, "safetensors", read_safetensors, &files);
    problems += run_dir(root, "npy", read_npy, &files);
    problems += run_dir(root, "npz", read_npz, &files);
    problems += run_dir(root, "h5", read_keras, &files);
    problems += run_dir(root, "keras", read_keras, &files);
    problems += run_dir(root, "image", read_image, &files);
    problems += run_dir(root, "tflite", read_tflite, &files);
    problems += run_dir(root, "tflite_quant", read_tflite_quant, &files);
    if (files == 0) problems++;
    return problems ? 1 : 0;
}
