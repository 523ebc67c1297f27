/* JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGB, with the
 * settings and colour conversions of Pillow and of TensorFlow.
 *
 * Never prints: libjpeg's and libpng's message hooks are replaced, fatal
 * errors come back through setjmp/longjmp as one-line errors naming the
 * file. The pixel count is checked against a cap before any buffer the size
 * of the image is allocated (decompression bombs). */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "core/util.h"
#include "formats/formats.h"
#include "image/image.h"

void mnv3_image_free(mnv3_image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

static const mnv3_decode_options default_options = {MNV3_DECODER_PILLOW, MNV3_DCT_DEFAULT, 0, 0};

/* ---- the pixel budget ------------------------------------------------------ */

static uint64_t pixel_budget_set; /* 0: not set by the caller */

void mnv3_set_image_pixel_budget(uint64_t pixels) { pixel_budget_set = pixels; }

uint64_t mnv3_image_pixel_budget(void) {
    return pixel_budget_set ? pixel_budget_set : MNV3_IMAGE_DEFAULT_MAX_PIXELS;
}

static int check_size(uint64_t w, uint64_t h, uint64_t max_pixels, const char *name,
                      mnv3_error *err) {
    if (w == 0 || h == 0)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "image has zero size (%llux%llu)",
                              (unsigned long long)w, (unsigned long long)h);
    if (w > max_pixels || h > max_pixels || w * h > max_pixels)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, name,
                              "image of %llux%llu pixels is over the limit of %llu pixels "
                              "(a decompression bomb? Pillow's MAX_IMAGE_PIXELS is 89478485; "
                              "raise the limit with MNV3_MAX_IMAGE_PIXELS, e.g. "
                              "MNV3_MAX_IMAGE_PIXELS=200M)",
                              (unsigned long long)w, (unsigned long long)h,
                              (unsigned long long)max_pixels);
    return MNV3_OK;
}

/* ---- JPEG ------------------------------------------------------------------ */

typedef struct jpeg_ctx {
    struct jpeg_error_mgr pub; /* first: libjpeg casts cinfo->err to this */
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX + 64];
    int truncated;
    int corrupt;       /* first warning that says the entropy data is damaged */
    int corrupt_code;  /* its msg_code */
    int too_many_scans;
} jpeg_ctx;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    cinfo->err->format_message(cinfo, ctx->message);
    longjmp(ctx->jump, 1);
}

/* Warnings are never printed. Those that say the image data is damaged end
 * the decode (libjpeg would carry on and fill the damage with grey or with
 * garbage): a premature end of the file (truncated), a bad Huffman or
 * arithmetic code, a data segment cut short by a marker, a resync, and a
 * bogus progression (a scan repeating coefficients already complete, the
 * trick of scan bombs). Harmless ones (extraneous bytes before a marker, an
 * unknown JFIF revision or Adobe transform, a bad ICC marker that only
 * loses the profile) are counted and ignored, as Pillow and TensorFlow
 * ignore them. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    if (level >= 0) return;
    cinfo->err->num_warnings++;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF) {
        ctx->truncated = 1;
    } else if (code == JWRN_HUFF_BAD_CODE || code == JWRN_ARITH_BAD_CODE ||
               code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC ||
               code == JWRN_BOGUS_PROGRESSION) {
        if (!ctx->corrupt) {
            ctx->corrupt = 1;
            ctx->corrupt_code = code;
            cinfo->err->format_message(cinfo, ctx->message);
        }
    }
}

/* Fails (longjmp) at the first damage warning, so that no garbage is
 * decoded further; called between rows and from the progress monitor. */
static void jpeg_stop_if_damaged(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    if (ctx->truncated || ctx->corrupt) longjmp(ctx->jump, 1);
}

static void jpeg_on_output(j_common_ptr cinfo) { (void)cinfo; }

static int scan_limit_set; /* 0: the size-scaled default */

void mnv3_set_jpeg_scan_limit(int scans) { scan_limit_set = scans > 0 ? scans : 0; }
int mnv3_jpeg_scan_limit(void) { return scan_limit_set; }

/* Progressive files with hundreds of scans cost a pass over the whole
 * image each: stop at the first scan past the limit, the way djpeg
 * -maxscans and TurboJPEG's TJPARAM_SCANLIMIT do (a progress monitor that
 * checks input_scan_number). */
static void jpeg_on_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    double pixels = (double)d->image_width * (double)d->image_height;
    double by_size = pixels > 0 ? MNV3_JPEG_MAX_SCAN_PIXELS / pixels : MNV3_JPEG_MAX_SCANS;
    int limit = scan_limit_set                         ? scan_limit_set
                : by_size >= MNV3_JPEG_MAX_SCANS       ? MNV3_JPEG_MAX_SCANS
                : by_size <= MNV3_JPEG_MIN_SCAN_LIMIT ? MNV3_JPEG_MIN_SCAN_LIMIT
                                                      : (int)by_size;
    if (d->input_scan_number > limit) {
        snprintf(ctx->message, sizeof ctx->message,
                 "progressive JPEG with more than %d scans for its %ux%u pixels (real encoders "
                 "write at most a few dozen; a scan bomb? MNV3_MAX_JPEG_SCANS raises the limit)",
                 limit, (unsigned)d->image_width, (unsigned)d->image_height);
        ctx->too_many_scans = 1;
        longjmp(ctx->jump, 1);
    }
    jpeg_stop_if_damaged(cinfo);
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
        int started = cinfo.global_state >= 205; /* DSTATE_SCANNING: rows are being read */
        unsigned long at = started ? (unsigned long)cinfo.output_scanline : 0,
                      of = (unsigned long)cinfo.output_height;
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        if (ctx.too_many_scans)
            return mnv3_fail_code(err, MNV3_ERR_LIMIT, name, "%s", ctx.message);
        if (ctx.truncated && started && at < of)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, name,
                                  "truncated JPEG (image data ends at row %lu of %lu)", at, of);
        if (ctx.truncated)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, name,
                                  "truncated JPEG (premature end of data)");
        if (ctx.corrupt)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, name,
                                  "corrupt JPEG: %s (decoding would give garbage pixels)",
                                  ctx.message);
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
    /* A progressive (or multi-scan) file is decoded whole into libjpeg's
     * coefficient arrays, 2 bytes a sample (128 bytes a block): held to the
     * file budget, before libjpeg allocates them. */
    if (jpeg_has_multiple_scans(&cinfo)) {
        unsigned long long coef = 0;
        for (int c = 0; c < cinfo.num_components; c++) {
            const jpeg_component_info *ci = &cinfo.comp_info[c];
            unsigned long long bw = ci->width_in_blocks, bh = ci->height_in_blocks;
            /* rounded up to whole MCUs, as libjpeg allocates them */
            bw = (bw + (unsigned)ci->h_samp_factor - 1) / (unsigned)ci->h_samp_factor *
                 (unsigned)ci->h_samp_factor;
            bh = (bh + (unsigned)ci->v_samp_factor - 1) / (unsigned)ci->v_samp_factor *
                 (unsigned)ci->v_samp_factor;
            coef += bw * bh * 128u;
        }
        if (coef > mnv3_file_budget()) {
            jpeg_destroy_decompress(&cinfo);
            char what[96];
            snprintf(what, sizeof what, "decoding this progressive %zux%zu JPEG (its coefficients)",
                     w, h);
            return mnv3_fail_over_budget(err, name, what, coef);
        }
    }
    /* A progressive file is read whole here (every scan, through the
     * progress monitor's scan limit); the image buffer comes after. */
    jpeg_start_decompress(&cinfo);
    jpeg_stop_if_damaged((j_common_ptr)&cinfo);
    pixels = malloc(n);
    row = malloc(w * 4);
    if (!pixels || !row) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory for a %zux%zu image", w,
                              h);
    }
    int comps = cinfo.output_components;
    int adobe = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rp = row;
        int got = (int)jpeg_read_scanlines(&cinfo, &rp, 1);
        jpeg_stop_if_damaged((j_common_ptr)&cinfo);
        if (got != 1) {
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
    jpeg_stop_if_damaged((j_common_ptr)&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = pixels;
    return MNV3_OK;
}

/* ---- PNG ------------------------------------------------------------------- */

#define MNV3_PNG_MAX_CHUNK (8u << 20) /* libpng's own default, PNG_USER_CHUNK_MALLOC_MAX */
#define MNV3_PNG_MAX_CHUNKS 1000

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
        if (!strncmp(ctx.message, "truncated", 9))
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "%s", ctx.message);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, name, "bad PNG: %s", ctx.message);
    }
    png_set_read_fn(png, &ctx, png_on_read);
    /* Width and height are checked below against the pixel budget, with a
     * better message than libpng's own limits (1000000 x 1000000). */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    /* Ancillary chunks are never used (neither Pillow's convert("RGB") nor
     * TF's decode_png applies text, ICC profiles or gamma): skip them
     * unread, so that a zTXt / iTXt / iCCP bomb inflating to gigabytes
     * costs nothing. Chunks libpng still reads (PLTE, tRNS, ...) are capped:
     * at most MNV3_PNG_MAX_CHUNK bytes each, MNV3_PNG_MAX_CHUNKS of them. */
    static const png_byte skipped[] = "zTXt\0iTXt\0tEXt\0iCCP\0sPLT\0eXIf\0"
                                      "gAMA\0cHRM\0sRGB\0hIST\0pCAL\0sCAL\0sBIT\0"
                                      "bKGD\0pHYs\0oFFs\0tIME";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped,
                                (int)(sizeof skipped / 5));
    png_set_chunk_malloc_max(png, MNV3_PNG_MAX_CHUNK);
    png_set_chunk_cache_max(png, MNV3_PNG_MAX_CHUNKS);
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
    /* Working memory, checked before png_read_update_info (where libpng
     * allocates and clears its own row and previous row): those two rows,
     * plus ours, which for an interlaced PNG is the whole image, since it is
     * decoded whole (every pass) before its rows can be converted. At its
     * own depth after expansion (16-bit RGBA: 8 bytes a pixel), on top of
     * the RGB result; held to the file budget. */
    {
        int tRNS = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
        unsigned long long ch = color == PNG_COLOR_TYPE_PALETTE
                                    ? (tRNS ? 4u : 3u)
                                    : png_get_channels(png, info) +
                                          (tRNS && !(color & PNG_COLOR_MASK_ALPHA) ? 1u : 0u);
        unsigned long long row = (unsigned long long)w * ch * (depth == 16 ? 2u : 1u);
        unsigned long long work = row * (passes > 1 ? (unsigned long long)h : 1ull) + 2 * (row + 1);
        if (work > mnv3_file_budget()) {
            png_destroy_read_struct(&png, &info, NULL);
            char what[112];
            snprintf(what, sizeof what, "decoding this %s%d-bit %lux%lu PNG",
                     passes > 1 ? "interlaced " : "", depth == 16 ? 16 : 8, (unsigned long)w,
                     (unsigned long)h);
            return mnv3_fail_over_budget(err, name, what, work);
        }
    }
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
    uint64_t max_pixels = opt->max_pixels ? opt->max_pixels : mnv3_image_pixel_budget();
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

/* The file itself is held to the file budget (MNV3_MAX_FILE_BYTES). */
int mnv3_image_read(const char *path, const mnv3_decode_options *opt, mnv3_image *out,
                    mnv3_error *err) {
    out->width = out->height = 0;
    out->rgb = NULL;
    unsigned char *buf = NULL;
    size_t n = 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "is a directory, not an image file");
    if (mnv3_read_file(path, mnv3_file_budget(), &buf, &n, err) != MNV3_OK) return MNV3_FAIL;
    int rc = mnv3_image_decode(buf, n, path, opt, out, err);
    free(buf);
    return rc;
}
