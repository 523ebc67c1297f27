/* The frameworks' named preprocessing pipelines: decode, resize/crop, and
 * the float32 normalisation with each framework's exact operation order.
 * docs/pipelines.md lists the library calls each one reproduces. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "image/image.h"

typedef enum geometry {
    GEO_PIL_SHORT256_CROP224_BILINEAR, /* torchvision Resize(256) + CenterCrop(224), PIL */
    GEO_PIL_224_BILINEAR,              /* torchvision Resize((224, 224)), PIL */
    GEO_PIL_224_NEAREST,               /* keras.utils.load_img(target_size=(224, 224)) */
    GEO_TF_224_BILINEAR,               /* tf.image.resize(x, [224, 224]) */
    GEO_TF_224_NEAREST                 /* tf.image.resize(x, [224, 224], "nearest") */
} geometry;

typedef enum normalise {
    NORM_TORCH_IMAGENET, /* ToTensor: x / 255; Normalize: (x - mean) / std */
    NORM_TORCH_HALF,     /* ToTensor; Normalize((0.5,)*3, (0.5,)*3) */
    NORM_KERAS_RESCALE,  /* Rescaling(1/127.5, -1): x * f32(1/127.5) + (-1) */
    NORM_KERAS_RESCALE_FMA, /* the same compiled by XLA: fma(x, f32(1/127.5), -1) */
    NORM_RAW,            /* float32 0..255 */
    NORM_SEED_TF         /* ((x / 255) - 0.5) * 2 */
} normalise;

typedef struct pipeline {
    const char *name;
    mnv3_decoder decoder;
    geometry geo;
    normalise norm;
    const char *steps;
} pipeline;

static const pipeline pipelines[] = {
    {"torchvision-imagenet", MNV3_DECODER_PILLOW, GEO_PIL_SHORT256_CROP224_BILINEAR,
     NORM_TORCH_IMAGENET,
     "PIL.Image.open + convert('RGB') -> transforms.Resize(256) (PIL BILINEAR, shorter side) -> "
     "CenterCrop(224) -> ToTensor (x/255) -> Normalize(mean=(0.485,0.456,0.406), "
     "std=(0.229,0.224,0.225))"},
    {"keras-mnv3", MNV3_DECODER_PILLOW, GEO_PIL_224_NEAREST, NORM_KERAS_RESCALE,
     "keras.utils.load_img(target_size=(224,224)) (PIL NEAREST, no crop) -> img_to_array "
     "(float32 0..255) -> in-model Rescaling(1/127.5, offset=-1): x*f32(1/127.5) + -1"},
    {"keras-mnv3-xla", MNV3_DECODER_PILLOW, GEO_PIL_224_NEAREST, NORM_KERAS_RESCALE_FMA,
     "keras.utils.load_img(target_size=(224,224)) (PIL NEAREST) -> img_to_array -> "
     "Rescaling(1/127.5, -1) compiled by XLA (jit_compile=True): fma(x, f32(1/127.5), -1)"},
    {"keras-mnv3-raw", MNV3_DECODER_PILLOW, GEO_PIL_224_NEAREST, NORM_RAW,
     "keras.utils.load_img(target_size=(224,224)) (PIL NEAREST, no crop) -> img_to_array "
     "(float32 0..255, what keras MobileNetV3Small is fed)"},
    {"tf-data", MNV3_DECODER_TF, GEO_TF_224_BILINEAR, NORM_KERAS_RESCALE,
     "tf.io.read_file -> tf.image.decode_image(channels=3) -> tf.image.resize([224,224]) "
     "(bilinear, half-pixel, antialias=False) -> float32 -> Rescaling(1/127.5, -1)"},
    {"seed-tf", MNV3_DECODER_TF, GEO_TF_224_BILINEAR, NORM_SEED_TF,
     "tf.io.read_file -> tf.image.decode_image(channels=3) -> tf.image.resize([224,224]) "
     "(bilinear) -> ((x / 255) - 0.5) * 2"},
    {"seed-torch", MNV3_DECODER_PILLOW, GEO_PIL_224_BILINEAR, NORM_TORCH_HALF,
     "PIL.Image.open + convert('RGB') -> transforms.Resize((224,224)) (PIL BILINEAR) -> "
     "ToTensor (x/255) -> Normalize(mean=(0.5,0.5,0.5), std=(0.5,0.5,0.5))"},
    {"tf-data-nearest", MNV3_DECODER_TF, GEO_TF_224_NEAREST, NORM_KERAS_RESCALE,
     "tf.io.read_file -> tf.image.decode_image(channels=3) -> tf.image.resize([224,224], "
     "'nearest') -> float32 -> Rescaling(1/127.5, -1)"},
};

#define N_PIPELINES ((int)(sizeof pipelines / sizeof pipelines[0]))

int mnv3_pipeline_count(void) { return N_PIPELINES; }

const char *mnv3_pipeline_name(int i) { return i >= 0 && i < N_PIPELINES ? pipelines[i].name : NULL; }

const char *mnv3_pipeline_steps(int i) { return i >= 0 && i < N_PIPELINES ? pipelines[i].steps : NULL; }

mnv3_decoder mnv3_pipeline_decoder(int i) {
    return i >= 0 && i < N_PIPELINES ? pipelines[i].decoder : MNV3_DECODER_PILLOW;
}

int mnv3_pipeline_find(const char *name) {
    for (int i = 0; name && i < N_PIPELINES; i++)
        if (!strcmp(pipelines[i].name, name)) return i;
    return -1;
}

/* Python's round(): half to even (torchvision's center_crop offsets). */
static int round_half_even_div2(int n) {
    int q = n / 2; /* n >= 0 */
    if (n % 2 && q % 2) q++;
    return q;
}

/* Float32 per-element normalisation, in each framework's order. */
static float normalise_value(normalise norm, int channel, float x) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    volatile float t; /* keep every rounding where the framework has it */
    switch (norm) {
    case NORM_TORCH_IMAGENET:
        t = x / 255.0f;
        t = t - mean[channel];
        return t / std[channel];
    case NORM_TORCH_HALF:
        t = x / 255.0f;
        t = t - 0.5f;
        return t / 0.5f;
    case NORM_KERAS_RESCALE:
        t = x * (float)(1.0 / 127.5);
        return t + -1.0f;
    case NORM_KERAS_RESCALE_FMA:
        return fmaf(x, (float)(1.0 / 127.5), -1.0f);
    case NORM_SEED_TF:
        t = x / 255.0f;
        t = t - 0.5f;
        return t * 2.0f;
    case NORM_RAW:
    default:
        return x;
    }
}

static int run_pipeline(const pipeline *p, const mnv3_image *img, const char *name,
                        mnv3_layout layout, mnv3_tensor *out, mnv3_error *err) {
    const int oh = 224, ow = 224;
    const size_t plane = (size_t)oh * (size_t)ow;
    float *hwc = malloc(sizeof(float) * plane * 3);
    float *data = malloc(sizeof(float) * plane * 3);
    uint8_t *u8 = NULL;
    if (!hwc || !data) goto oom;
    if (p->geo == GEO_TF_224_BILINEAR || p->geo == GEO_TF_224_NEAREST) {
        if (mnv3_tf_resize(img, oh, ow, p->geo == GEO_TF_224_NEAREST ? MNV3_TF_NEAREST : MNV3_TF_BILINEAR,
                           hwc, name, err) != MNV3_OK)
            goto fail;
    } else {
        if (!(u8 = malloc(plane * 3))) goto oom;
        int rw = ow, rh = oh, x0 = 0, y0 = 0;
        mnv3_pil_filter filter = p->geo == GEO_PIL_224_NEAREST ? MNV3_PIL_NEAREST : MNV3_PIL_BILINEAR;
        if (p->geo == GEO_PIL_SHORT256_CROP224_BILINEAR) {
            const int size = 256;
            int w = img->width, h = img->height;
            int shortside = w <= h ? w : h, longside = w <= h ? h : w;
            double nl = (double)size * (double)longside / (double)shortside;
            if (nl >= 2147483647.0) {
                mnv3_fail_code(err, MNV3_ERR_LIMIT, name,
                               "Resize(256) of a %dx%d image is too large", w, h);
                goto fail;
            }
            int newlong = (int)nl; /* Python int(): truncation */
            rw = w <= h ? size : newlong;
            rh = w <= h ? newlong : size;
            x0 = round_half_even_div2(rw - ow);
            y0 = round_half_even_div2(rh - oh);
        }
        if (mnv3_pil_resize(img, rw, rh, filter, x0, y0, ow, oh, u8, name, err) != MNV3_OK) goto fail;
        for (size_t i = 0; i < plane * 3; i++) hwc[i] = (float)u8[i];
    }
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            float v = normalise_value(p->norm, c, hwc[3 * i + (size_t)c]);
            if (layout == MNV3_NHWC) data[3 * i + (size_t)c] = v;
            else data[(size_t)c * plane + i] = v;
        }
    free(hwc);
    free(u8);
    memset(out, 0, sizeof *out);
    out->name = malloc(6);
    if (!out->name) {
        free(data);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory");
    }
    memcpy(out->name, "input", 6);
    out->dtype = MNV3_F32;
    memcpy(out->source_dtype, "F32", 4);
    out->ndim = 4;
    out->shape[0] = 1;
    if (layout == MNV3_NHWC) out->shape[1] = oh, out->shape[2] = ow, out->shape[3] = 3;
    else out->shape[1] = 3, out->shape[2] = oh, out->shape[3] = ow;
    out->data = data;
    return MNV3_OK;
oom:
    mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory");
fail:
    free(hwc);
    free(data);
    free(u8);
    return MNV3_FAIL;
}

/* Decodes the file at path, or else the bytes data[size], then runs the
 * pipeline; name labels both in messages. */
static int preprocess(const char *pipeline_name, const char *path, const uint8_t *data,
                      size_t size, const char *name, mnv3_layout layout, mnv3_tensor *out,
                      mnv3_error *err) {
    memset(out, 0, sizeof *out);
    int i = mnv3_pipeline_find(pipeline_name);
    if (i < 0)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, name, "unknown pipeline '%s'",
                              pipeline_name ? pipeline_name : "");
    mnv3_decode_options opt = {pipelines[i].decoder, MNV3_DCT_DEFAULT, 0, 0};
    mnv3_image img;
    int rc = path ? mnv3_image_read(path, &opt, &img, err)
                  : mnv3_image_decode(data, size, name, &opt, &img, err);
    if (rc != MNV3_OK) return MNV3_FAIL;
    rc = run_pipeline(&pipelines[i], &img, name, layout, out, err);
    mnv3_image_free(&img);
    return rc;
}

int mnv3_preprocess(const char *pipeline_name, const char *image_path, mnv3_layout layout,
                    mnv3_tensor *out, mnv3_error *err) {
    if (!image_path) {
        memset(out, 0, sizeof *out);
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, "image", "no image path given");
    }
    return preprocess(pipeline_name, image_path, NULL, 0, image_path, layout, out, err);
}

int mnv3_preprocess_buffer(const char *pipeline_name, const uint8_t *data, size_t size,
                           const char *name, mnv3_layout layout, mnv3_tensor *out,
                           mnv3_error *err) {
    return preprocess(pipeline_name, NULL, data, size, name ? name : "image", layout, out, err);
}
