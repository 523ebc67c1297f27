/* Image decoding, resizing and the frameworks' preprocessing pipelines,
 * reproduced bit for bit (see docs/pipelines.md).
 *
 * Internal header: parts of it may move to include/mnv3.h. Like the rest of
 * the library nothing here prints or exits; failures fill an mnv3_error with
 * one line naming the file. */
#ifndef MNV3_IMAGE_H
#define MNV3_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "mnv3.h"

/* ---- decoded images --------------------------------------------------------- */

/* 8-bit RGB, row-major, 3 bytes per pixel (always RGB after decoding: every
 * framework's pipeline converts to RGB first). */
typedef struct mnv3_image {
    int width, height;
    uint8_t *rgb; /* malloc'd, width * height * 3 */
} mnv3_image;

void mnv3_image_free(mnv3_image *img);

/* Whose decoder to imitate. */
typedef enum mnv3_decoder {
    /* Pillow (Image.open + .convert("RGB")), as used by torchvision's PIL
     * path and keras.utils.load_img: libjpeg ISLOW DCT + fancy upsampling,
     * CMYK always read Adobe-inverted then Pillow's cmyk2rgb, 16-bit samples
     * reduced to the high byte except 16-bit grayscale (mode "I") which
     * Pillow clips to 255, alpha dropped. */
    MNV3_DECODER_PILLOW = 0,
    /* tf.io.decode_image / decode_jpeg / decode_png with channels=3:
     * libjpeg IFAST DCT + fancy upsampling, TF's own CMYK->RGB (inverted
     * only when an Adobe marker is present), png_set_strip_16 (high byte),
     * png_set_strip_alpha. */
    MNV3_DECODER_TF = 1
} mnv3_decoder;

typedef enum mnv3_dct {
    MNV3_DCT_DEFAULT = 0, /* the decoder's own choice (see above) */
    MNV3_DCT_ISLOW,
    MNV3_DCT_IFAST,
    MNV3_DCT_FLOAT
} mnv3_dct;

typedef struct mnv3_decode_options {
    mnv3_decoder decoder;
    mnv3_dct dct;         /* override; MNV3_DCT_DEFAULT keeps the decoder's */
    int no_fancy_upsampling; /* 1 = do_fancy_upsampling FALSE */
    uint64_t max_pixels;  /* 0 = the pixel budget, mnv3_image_pixel_budget() */
} mnv3_decode_options;

/* The pixel budget: no image may declare more pixels (width x height),
 * checked from the header before anything is decoded. The default is
 * Pillow's Image.MAX_IMAGE_PIXELS (1024 * 1024 * 1024 // 4 // 3, the
 * threshold of its DecompressionBombWarning; Pillow raises
 * DecompressionBombError only above twice that). Changed by the environment
 * variable MNV3_MAX_IMAGE_PIXELS (digits, optional K/M/G = 10^3/10^6/10^9)
 * or mnv3_set_image_pixel_budget (0: back to the default); the CLI sets it
 * from MNV3_MAX_IMAGE_PIXELS. */
#define MNV3_IMAGE_DEFAULT_MAX_PIXELS 89478485ull
void mnv3_set_image_pixel_budget(uint64_t pixels);
uint64_t mnv3_image_pixel_budget(void);

/* Progressive JPEGs with more scans than this are refused (each scan is a
 * pass over the whole image): real encoders write at most a few dozen
 * (libjpeg's standard script has 10 for colour, 6 for grayscale); djpeg's
 * -maxscans and TurboJPEG's TJPARAM_SCANLIMIT do the same on request. */
#define MNV3_JPEG_MAX_SCANS 100
/* Each scan is a pass over the whole image: large images get fewer, so that
 * scans x pixels stays under this (never below MNV3_JPEG_MIN_SCAN_LIMIT). */
#define MNV3_JPEG_MAX_SCAN_PIXELS ((double)(1u << 31))
#define MNV3_JPEG_MIN_SCAN_LIMIT 20
/* A fixed scan limit for every size instead (0: back to the size-scaled
 * default above); the CLI sets it from MNV3_MAX_JPEG_SCANS. */
void mnv3_set_jpeg_scan_limit(int scans);
int mnv3_jpeg_scan_limit(void); /* 0 when the default applies */

/* Decodes a JPEG or PNG held in memory; name is used in error messages.
 * The pixel count is checked against max_pixels before anything the size
 * of the image is allocated. opt may be NULL (Pillow, defaults). */
int mnv3_image_decode(const uint8_t *data, size_t size, const char *name,
                      const mnv3_decode_options *opt, mnv3_image *out, mnv3_error *err);
/* Reads a file and decodes it. */
int mnv3_image_read(const char *path, const mnv3_decode_options *opt, mnv3_image *out,
                    mnv3_error *err);

/* ---- resizing ---------------------------------------------------------------- */

typedef enum mnv3_pil_filter {
    MNV3_PIL_NEAREST = 0,
    MNV3_PIL_BILINEAR = 2,
    MNV3_PIL_BICUBIC = 3
} mnv3_pil_filter;

/* PIL Image.resize((out_w, out_h), filter) on an RGB image, restricted to the
 * window [x0, x0+win_w) x [y0, y0+win_h) of the full-size result (every
 * output pixel of Pillow's resize depends only on its own coefficients, so
 * the window equals the crop of the full result, bit for bit). out holds
 * win_w * win_h * 3 bytes. */
int mnv3_pil_resize(const mnv3_image *in, int out_w, int out_h, mnv3_pil_filter filter, int x0,
                    int y0, int win_w, int win_h, uint8_t *out, const char *name,
                    mnv3_error *err);

/* Order of the two passes. Pillow 9.4 (Debian, the torchvision oracle) always
 * resamples horizontally first; see docs/pipelines.md for Pillow 13. */
typedef enum mnv3_pil_order { MNV3_PIL_HORIZONTAL_FIRST = 0, MNV3_PIL_VERTICAL_FIRST = 1 } mnv3_pil_order;
int mnv3_pil_resize_order(const mnv3_image *in, int out_w, int out_h, mnv3_pil_filter filter,
                          mnv3_pil_order order, int x0, int y0, int win_w, int win_h, uint8_t *out,
                          const char *name, mnv3_error *err);

typedef enum mnv3_tf_method { MNV3_TF_BILINEAR = 0, MNV3_TF_NEAREST = 1 } mnv3_tf_method;

/* tf.image.resize(image, [out_h, out_w], method) with antialias=False (the
 * default): ResizeBilinear / ResizeNearestNeighbor with half_pixel_centers.
 * out: out_h * out_w * 3 float32, HWC. */
int mnv3_tf_resize(const mnv3_image *in, int out_h, int out_w, mnv3_tf_method method,
                   float *out, const char *name, mnv3_error *err);

/* ---- pipelines ---------------------------------------------------------------- */

int mnv3_pipeline_count(void);
const char *mnv3_pipeline_name(int i);
/* One line: the steps, with the frameworks' function names. */
const char *mnv3_pipeline_steps(int i);
int mnv3_pipeline_find(const char *name);
/* The decoder pipeline i imitates. */
mnv3_decoder mnv3_pipeline_decoder(int i);

/* Runs a named pipeline on an image file. out: [1,3,H,W] (MNV3_NCHW) or
 * [1,H,W,3] (MNV3_NHWC) float32, name "input"; the caller frees out->name
 * and out->data. */
int mnv3_preprocess(const char *pipeline, const char *image_path, mnv3_layout layout,
                    mnv3_tensor *out, mnv3_error *err);
/* The same on an image held in memory (name is used in error messages):
 * the entry the fuzz target drives. */
int mnv3_preprocess_buffer(const char *pipeline, const uint8_t *data, size_t size,
                           const char *name, mnv3_layout layout, mnv3_tensor *out,
                           mnv3_error *err);

#endif
