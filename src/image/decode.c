/* JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGB, with the
 * settings and colour conversions of Pillow and of TensorFlow.
 *
 * Never prints: libjpeg's and libpng's message hooks are replaced, fatal
 * errors come back through setjmp/longjmp as one-line errors naming the
 * file. The pixel count is checked against a cap before any buffer the size
 * of the image is allocated (decompression bombs). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "core/util.h"
#include "image/image.h"

void mnv3_image_free(mnv3_image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

static const mnv3_decode_options default_options = {MNV3_DECODER_PILLOW, MNV3_DCT_DEFAULT, 0, 0};

static int check_size(uint64_t w, uint64_t h, uint64_t max_pixels, const char *name,
                      mnv3_error *err) {
    if (w == 0 || h == 0)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "image has zero size (%llux%llu)",
                              (unsigned long long)w, (unsigned long long)h);
    if (w > max_pixels || h > max_pixels || w * h > max_pixels)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, name,
                              "image of %llux%llu pixels is over the limit of %llu pixels "
                              "(decompression bomb?)",
                              (unsigned long long)w, (unsigned long long)h,
                              (unsigned long long)max_pixels);
    return MNV3_OK;
}

/* ---- JPEG ------------------------------------------------------------------ */

#define MNV3_JPEG_MAX_SCANS 1000

typedef struct jpeg_ctx {
    struct jpeg_error_mgr pub; /* first: libjpeg casts cinfo->err to this */
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int truncated;
} jpeg_ctx;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    cinfo->err->format_message(cinfo, ctx->message);
    longjmp(ctx->jump, 1);
}

/* Warnings are counted, never printed; a premature end of data marks the
 * file as truncated (libjpeg would otherwise pad it with grey). */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    if (level < 0) {
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) ctx->truncated = 1;
        cinfo->err->num_warnings++;
    }
}

static void jpeg_on_output(j_common_ptr cinfo) { (void)cinfo; }

/* Progressive files with thousands of tiny scans take quadratic time. */
static void jpeg_on_progress(j_common_ptr cinfo) {
    if (cinfo->is_decompressor) {
        j_decompress_ptr d = (j_decompress_ptr)cinfo;
        if (d->input_scan_number > MNV3_JPEG_MAX_SCANS) {
            jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
            snprintf(ctx->message, sizeof ctx->message, "JPEG has more than %d scans",
                     MNV3_JPEG_MAX_SCANS);
            longjmp(ctx->jump, 1);
        }
    }
}

/* Pillow's CMYK -> RGB (Convert.c cmyk2rgb): out = clip(nk - nk*c/255), with
 * Pillow's rounding division by 255. */
static uint8_t pillow_cmyk_channel(int c, int k) {
    int nk = 255 - k, t = c * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static int decode_jpeg(const uint8_t *data, size_t size, const char *name,
                       const mnv3_decode_options *opt, uint64_t max_pixels, mnv3_image *out,
                       mnv3_error *err) {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;
    cinfo.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = jpeg_on_error;
    ctx.pub.emit_message = jpeg_on_message;
    ctx.pub.output_message = jpeg_on_output;
    if (setjmp(ctx.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "bad JPEG: %s", ctx.message);
    }
    jpeg_create_decompress(&cinfo);
    ctx.progress.progress_monitor = jpeg_on_progress;
    cinfo.progress = &ctx.progress;
    if (size > (size_t)(unsigned long)-1) size = (size_t)(unsigned long)-1;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (ctx.truncated) {
        jpeg_destroy_decompress(&cinfo);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name,
                              "truncated JPEG (ends inside the header)");
    }
    if (check_size(cinfo.image_width, cinfo.image_height, max_pixels, name, err) != MNV3_OK) {
        jpeg_destroy_decompress(&cinfo);
        return MNV3_FAIL;
    }
    int tf = opt->decoder == MNV3_DECODER_TF;
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    int gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    if (!cmyk && !gray && cinfo.num_components != 3) {
        jpeg_destroy_decompress(&cinfo);
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, name,
                              "unsupported JPEG with %d components", cinfo.num_components);
    }
    cinfo.out_color_space = cmyk ? JCS_CMYK : gray ? JCS_GRAYSCALE : JCS_RGB;
    mnv3_dct dct = opt->dct != MNV3_DCT_DEFAULT ? opt->dct : tf ? MNV3_DCT_IFAST : MNV3_DCT_ISLOW;
    cinfo.dct_method = dct == MNV3_DCT_IFAST ? JDCT_IFAST : dct == MNV3_DCT_FLOAT ? JDCT_FLOAT : JDCT_ISLOW;
    cinfo.do_fancy_upsampling = opt->no_fancy_upsampling ? FALSE : TRUE;
    jpeg_calc_output_dimensions(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height, n;
    if (!mnv3_mul_size(w, h, &n) || !mnv3_mul_size(n, 3, &n)) {
        jpeg_destroy_decompress(&cinfo);
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, name, "image too large");
    }
    pixels = malloc(n);
    row = malloc(w * 4);
    if (!pixels || !row) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory for a %zux%zu image", w,
                              h);
    }
    jpeg_start_decompress(&cinfo);
    int comps = cinfo.output_components;
    int adobe = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rp = row;
        if (jpeg_read_scanlines(&cinfo, &rp, 1) != 1 || ctx.truncated) {
            jpeg_destroy_decompress(&cinfo);
            free(pixels);
            free(row);
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, name,
                                  "truncated JPEG (image data ends at row %zu of %zu)", y, h);
        }
        uint8_t *o = pixels + y * w * 3;
        if (comps == 1) {
            for (size_t x = 0; x < w; x++) o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = row[x];
        } else if (comps == 3) {
            memcpy(o, row, w * 3);
        } else if (!tf) { /* Pillow: rawmode "CMYK;I" (always inverted), then cmyk2rgb */
            for (size_t x = 0; x < w; x++) {
                int k = 255 - row[4 * x + 3];
                for (int c = 0; c < 3; c++) o[3 * x + c] = pillow_cmyk_channel(255 - row[4 * x + c], k);
            }
        } else { /* TensorFlow jpeg_mem.cc: integer division, inverted only with an Adobe marker */
            for (size_t x = 0; x < w; x++) {
                int k = row[4 * x + 3];
                for (int c = 0; c < 3; c++) {
                    int v = row[4 * x + c];
                    o[3 * x + c] = (uint8_t)(adobe ? k * v / 255 : (255 - k) * (255 - v) / 255);
                }
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    int truncated = ctx.truncated;
    jpeg_destroy_decompress(&cinfo);
    free(row);
    if (truncated) {
        free(pixels);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "truncated JPEG (premature end of data)");
    }
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = pixels;
    return MNV3_OK;
}

/* ---- PNG ------------------------------------------------------------------- */

typedef struct png_ctx {
    const uint8_t *data;
    size_t size, pos;
    char message[256];
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png, (void)msg;
}

static void png_on_read(png_structp png, png_bytep dst, png_size_t n) {
    png_ctx *ctx = png_get_io_ptr(png);
    if (n > ctx->size - ctx->pos) png_error(png, "truncated PNG (file ends early)");
    memcpy(dst, ctx->data + ctx->pos, n);
    ctx->pos += n;
}

static int decode_png(const uint8_t *data, size_t size, const char *name,
                      const mnv3_decode_options *opt, uint64_t max_pixels, mnv3_image *out,
                      mnv3_error *err) {
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.data = data;
    ctx.size = size;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    if (!png) return mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory (libpng)");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory (libpng)");
    }
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile raw = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(raw);
        free(rows);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "bad PNG: %s", ctx.message);
    }
    png_set_read_fn(png, &ctx, png_on_read);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_chunk_malloc_max(png, 64u << 20);
    png_read_info(png, info);
    png_uint_32 w = 0, h = 0;
    int depth = 0, color = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    if (check_size(w, h, max_pixels, name, err) != MNV3_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return MNV3_FAIL;
    }
    /* Palette -> RGB, gray < 8 bits -> 8 bits (x255, x85, x17, as Pillow's
     * "1", "L;2", "L;4" unpackers), tRNS -> alpha (dropped below). */
    png_set_expand(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    int bytes = png_get_bit_depth(png, info) == 16 ? 2 : 1;
    /* Pillow opens 16-bit grayscale as mode "I" / "I;16" and convert("RGB")
     * clips it to 255; everything else 16-bit it reads as the high byte.
     * TF uses png_set_strip_16: always the high byte. */
    int clip16 = bytes == 2 && color == PNG_COLOR_TYPE_GRAY && opt->decoder == MNV3_DECODER_PILLOW;
    size_t rowbytes = png_get_rowbytes(png, info), n, rawn;
    if (rowbytes != (size_t)w * (size_t)channels * (size_t)bytes || channels < 1 || channels > 4) {
        png_destroy_read_struct(&png, &info, NULL);
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, name, "unsupported PNG layout");
    }
    if (!mnv3_mul_size((size_t)w * h, 3, &n) ||
        !mnv3_mul_size(rowbytes, passes > 1 ? h : 1, &rawn)) {
        png_destroy_read_struct(&png, &info, NULL);
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, name, "image too large");
    }
    pixels = malloc(n);
    raw = malloc(rawn);
    if (passes > 1) rows = malloc(sizeof(png_bytep) * h);
    if (!pixels || !raw || (passes > 1 && !rows)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(raw);
        free(rows);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory for a %lux%lu image",
                              (unsigned long)w, (unsigned long)h);
    }
    if (passes > 1) {
        for (png_uint_32 y = 0; y < h; y++) rows[y] = raw + (size_t)y * rowbytes;
        png_read_image(png, rows);
    }
    for (png_uint_32 y = 0; y < h; y++) {
        uint8_t *r = raw;
        if (passes > 1) r = rows[y];
        else png_read_row(png, r, NULL);
        uint8_t *o = pixels + (size_t)y * w * 3;
        int color_ch = channels >= 3 ? 3 : 1;
        for (png_uint_32 x = 0; x < w; x++) {
            const uint8_t *p = r + (size_t)x * channels * bytes;
            for (int c = 0; c < 3; c++) {
                const uint8_t *s = p + (color_ch == 3 ? c : 0) * bytes;
                uint8_t v;
                if (bytes == 1) v = s[0];
                else if (clip16) v = (s[0] << 8 | s[1]) > 255 ? 255 : s[1];
                else v = s[0];
                o[3 * x + c] = v;
            }
        }
    }
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(raw);
    free(rows);
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = pixels;
    return MNV3_OK;
}

/* ---- entry points -------------------------------------------------------------- */

int mnv3_image_decode(const uint8_t *data, size_t size, const char *name,
                      const mnv3_decode_options *opt, mnv3_image *out, mnv3_error *err) {
    if (!name) name = "image";
    if (!opt) opt = &default_options;
    out->width = out->height = 0;
    out->rgb = NULL;
    uint64_t max_pixels = opt->max_pixels ? opt->max_pixels : MNV3_IMAGE_DEFAULT_MAX_PIXELS;
    if (size == 0 || !data)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "empty file (0 bytes)");
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return decode_jpeg(data, size, name, opt, max_pixels, out, err);
    if (size >= 8 && !memcmp(data, png_sig, 8))
        return decode_png(data, size, name, opt, max_pixels, out, err);
    const char *what = NULL;
    if (size >= 6 && (!memcmp(data, "GIF87a", 6) || !memcmp(data, "GIF89a", 6))) what = "GIF";
    else if (size >= 2 && !memcmp(data, "BM", 2)) what = "BMP";
    else if (size >= 12 && !memcmp(data, "RIFF", 4) && !memcmp(data + 8, "WEBP", 4)) what = "WebP";
    else if (size >= 4 && (!memcmp(data, "II*", 4) || !memcmp(data, "MM\0*", 4))) what = "TIFF";
    if (what)
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, name,
                              "unsupported image format %s (only JPEG and PNG)", what);
    if (size >= 2 && data[0] == 0xff && data[1] == 0xd8)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "truncated or corrupt JPEG (%zu bytes)",
                              size);
    if (size < 8 && !memcmp(data, png_sig, size))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "truncated PNG (%zu bytes)", size);
    return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "not a JPEG or PNG file");
}

#define MNV3_IMAGE_MAX_FILE (1ull << 31)

int mnv3_image_read(const char *path, const mnv3_decode_options *opt, mnv3_image *out,
                    mnv3_error *err) {
    out->width = out->height = 0;
    out->rgb = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot open");
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory");
    }
    for (;;) {
        if (n == cap) {
            if (cap >= MNV3_IMAGE_MAX_FILE) {
                free(buf);
                fclose(f);
                return mnv3_fail_code(err, MNV3_ERR_LIMIT, path, "file is over %llu bytes",
                                      MNV3_IMAGE_MAX_FILE);
            }
            uint8_t *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                fclose(f);
                return mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory");
            }
            buf = b;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "read error");
    }
    int rc = mnv3_image_decode(buf, n, path, opt, out, err);
    free(buf);
    return rc;
}
