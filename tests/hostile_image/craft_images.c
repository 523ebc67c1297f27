/* craft_images: writes the hostile images of tests/hostile_image at test
 * time (no big binaries in the repository), in well under a second each.
 *
 *   craft_images DIR          the hostile images (the CTest fixture)
 *   craft_images --seeds DIR  tiny 8x8 JPEG / PNG seeds (tests/fuzz/corpus/image)
 *
 * Valid images come from libjpeg / libpng; the bombs are written chunk by
 * chunk and marker by marker, since no encoder would make them. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

static const char *dir;

static void die(const char *what) {
    fprintf(stderr, "craft_images: %s\n", what);
    exit(1);
}

/* ---- a growable byte buffer ---------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) die("out of memory");
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put8(buf *b, unsigned v) {
    uint8_t c = (uint8_t)v;
    put(b, &c, 1);
}

static void put16be(buf *b, unsigned v) {
    put8(b, v >> 8);
    put8(b, v);
}

static void put32be(buf *b, uint32_t v) {
    put16be(b, v >> 16);
    put16be(b, v & 0xffff);
}

static void save(const char *name, const uint8_t *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) die(path);
}

/* ---- valid images through libjpeg / libpng --------------------------------- */

static uint8_t pattern(int x, int y, int c) { return (uint8_t)((x * 37 + y * 91 + c * 53) & 255); }

/* A w x h JPEG: comps 1 (gray), 3 (YCbCr) or 4 (Adobe CMYK); progressive
 * with libjpeg's standard script when asked. */
static void make_jpeg(buf *out, int w, int h, int comps, int progressive, int sampling_444) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *mem = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &mem, &size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    if (sampling_444 && comps == 3) c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1;
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * (size_t)comps);
    if (!row) die("out of memory");
    while (c.next_scanline < c.image_height) {
        for (int x = 0; x < w; x++)
            for (int k = 0; k < comps; k++)
                row[x * comps + k] = pattern(x, (int)c.next_scanline, k);
        JSAMPROW rp = row;
        jpeg_write_scanlines(&c, &rp, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    put(out, mem, size);
    free(mem);
}

/* A smooth w x h progressive 4:2:0 JPEG (quick to encode, small). */
static void make_big_progressive(buf *out, int w, int h) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *mem = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &mem, &size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * 3);
    if (!row) die("out of memory");
    while (c.next_scanline < c.image_height) {
        for (int x = 0; x < w * 3; x++) row[x] = (uint8_t)((x / 3 + (int)c.next_scanline) >> 5);
        JSAMPROW rp = row;
        jpeg_write_scanlines(&c, &rp, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    put(out, mem, size);
    free(mem);
}

static void png_write_buf(png_structp png, png_bytep p, png_size_t n) {
    put(png_get_io_ptr(png), p, n);
}

static void png_flush_buf(png_structp png) { (void)png; }

/* A w x h PNG of the given colour type and depth (palette: 16 colours). */
static void make_png(buf *out, int w, int h, int color, int depth, int interlace) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!png || !info || setjmp(png_jmpbuf(png))) die("libpng");
    png_set_write_fn(png, out, png_write_buf, png_flush_buf);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        png_byte trans[16];
        for (int i = 0; i < 16; i++) {
            pal[i].red = (png_byte)(i * 16), pal[i].green = (png_byte)(255 - i * 16);
            pal[i].blue = (png_byte)(i * 7);
            trans[i] = (png_byte)(i * 17);
        }
        png_set_PLTE(png, info, pal, 16);
        png_set_tRNS(png, info, trans, 16, NULL);
    }
    png_write_info(png, info);
    int channels = color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_RGBA ? 4
                   : color == PNG_COLOR_TYPE_GRAY_ALPHA                          ? 2
                                                                                  : 1;
    size_t rowbytes = png_get_rowbytes(png, info);
    uint8_t *img = calloc((size_t)h, rowbytes);
    png_bytep *rows = malloc(sizeof(png_bytep) * (size_t)h);
    if (!img || !rows) die("out of memory");
    for (int y = 0; y < h; y++) {
        rows[y] = img + (size_t)y * rowbytes;
        for (size_t i = 0; i < rowbytes; i++) rows[y][i] = pattern((int)i, y, channels);
    }
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(img);
}

/* ---- PNG chunks by hand ---------------------------------------------------- */

static void chunk(buf *b, const char *type, const uint8_t *data, size_t n) {
    put32be(b, (uint32_t)n);
    size_t at = b->n;
    put(b, type, 4);
    if (n) put(b, data, n);
    put32be(b, (uint32_t)crc32(0, b->p + at, (uInt)(n + 4)));
}

static void ihdr(buf *b, uint32_t w, uint32_t h, int depth, int color, int interlace) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    put(b, sig, 8);
    buf d = {0};
    put32be(&d, w);
    put32be(&d, h);
    put8(&d, (unsigned)depth);
    put8(&d, (unsigned)color);
    put8(&d, 0);
    put8(&d, 0);
    put8(&d, (unsigned)interlace);
    chunk(b, "IHDR", d.p, d.n);
    free(d.p);
}

/* zlib stream of n zero bytes (in 1 MiB pieces; Z_RLE is fast on zeros). */
static void deflate_zeros(buf *out, size_t n, int strategy) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15, 9, strategy) != Z_OK) die("zlib");
    static uint8_t zeros[1 << 20], tmp[1 << 16];
    int flush = Z_NO_FLUSH;
    do {
        size_t piece = n < sizeof zeros ? n : sizeof zeros;
        n -= piece;
        flush = n ? Z_NO_FLUSH : Z_FINISH;
        z.next_in = zeros;
        z.avail_in = (uInt)piece;
        do {
            z.next_out = tmp;
            z.avail_out = sizeof tmp;
            deflate(&z, flush);
            put(out, tmp, sizeof tmp - z.avail_out);
        } while (z.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&z);
}

/* The Adam7 stream size of a w x h image with bpp bytes a pixel. */
static size_t adam7_bytes(size_t w, size_t h, size_t bpp) {
    static const int xs[7] = {0, 4, 0, 2, 0, 1, 0}, ys[7] = {0, 0, 4, 0, 2, 0, 1},
                     xi[7] = {8, 8, 4, 4, 2, 2, 1}, yi[7] = {8, 8, 8, 4, 4, 2, 2};
    size_t total = 0;
    for (int p = 0; p < 7; p++) {
        size_t pw = (w + (size_t)(xi[p] - xs[p]) - 1) / (size_t)xi[p];
        size_t ph = (h + (size_t)(yi[p] - ys[p]) - 1) / (size_t)yi[p];
        if (pw && ph) total += ph * (1 + pw * bpp);
    }
    return total;
}

/* An 8x8 RGB PNG with ancillary chunks before its IDAT: chunk_type with the
 * given payload, repeated count times. */
static void png_with_chunks(buf *out, const char *type, const uint8_t *payload, size_t n,
                            int count) {
    buf img = {0};
    make_png(&img, 8, 8, PNG_COLOR_TYPE_RGB, 8, 0);
    /* The image is signature, IHDR (8 + 25 bytes), then the rest. */
    put(out, img.p, 33);
    for (int i = 0; i < count; i++) chunk(out, type, payload, n);
    put(out, img.p + 33, img.n - 33);
    free(img.p);
}

/* ---- the JPEG scan bomb ------------------------------------------------------ */

typedef struct bits {
    buf *b;
    uint32_t acc;
    int n;
} bits;

static void bits_put(bits *w, uint32_t v, int n) {
    for (int i = n - 1; i >= 0; i--) {
        w->acc = (w->acc << 1) | ((v >> i) & 1);
        if (++w->n == 8) {
            put8(w->b, w->acc);
            if ((w->acc & 0xff) == 0xff) put8(w->b, 0);
            w->acc = 0;
            w->n = 0;
        }
    }
}

static void bits_flush(bits *w) {
    while (w->n) bits_put(w, 1, 1);
}

static void sos(buf *b, int ss, int se, int ah, int al) {
    put16be(b, 0xffda);
    put16be(b, 8);
    put8(b, 1);    /* one component */
    put8(b, 1);    /* id 1 */
    put8(b, 0x00); /* DC table 0, AC table 0 */
    put8(b, (unsigned)ss);
    put8(b, (unsigned)se);
    put8(b, (unsigned)(ah << 4 | al));
}

/* A w x h grayscale progressive JPEG of one flat grey (every coefficient
 * zero), with a valid progression of 1 + 63 * 14 = 883 scans: the DC scan,
 * then for each AC coefficient a first scan at Al = 13 and 13 successive
 * approximation refinements. Every AC scan is a few EOB runs (tens of
 * bytes), so the file is small and quick to make, yet every scan is a pass
 * over the whole image for the decoder. */
static void jpeg_scan_bomb(buf *b, int w, int h) {
    put16be(b, 0xffd8);
    put16be(b, 0xffdb); /* DQT: table 0, all ones */
    put16be(b, 67);
    put8(b, 0);
    for (int i = 0; i < 64; i++) put8(b, 1);
    put16be(b, 0xffc2); /* SOF2 */
    put16be(b, 11);
    put8(b, 8);
    put16be(b, (unsigned)h);
    put16be(b, (unsigned)w);
    put8(b, 1);
    put8(b, 1);
    put8(b, 0x11);
    put8(b, 0);
    /* DHT: DC table 0 = {category 0: "0"}; AC table 0 = the EOB-run symbols
     * 0x00..0xE0 (EOBr), codes 0..14 of length 4. */
    put16be(b, 0xffc4);
    put16be(b, 2 + 17 + 1 + 17 + 15);
    put8(b, 0x00);
    for (int i = 1; i <= 16; i++) put8(b, i == 1 ? 1 : 0);
    put8(b, 0);
    put8(b, 0x10);
    for (int i = 1; i <= 16; i++) put8(b, i == 4 ? 15 : 0);
    for (int r = 0; r < 15; r++) put8(b, (unsigned)(r << 4));
    size_t blocks = (size_t)((w + 7) / 8) * (size_t)((h + 7) / 8);
    /* DC first scan: one 1-bit code (difference 0) a block. */
    sos(b, 0, 0, 0, 0);
    bits bw = {b, 0, 0};
    for (size_t i = 0; i < blocks; i++) bits_put(&bw, 0, 1);
    bits_flush(&bw);
    for (int k = 1; k < 64; k++)
        for (int i = 0; i <= 13; i++) {
            /* i = 0: the first scan, Ah 0, Al 13; then Ah 13..1 with Al = Ah - 1 */
            int ah = i == 0 ? 0 : 14 - i, al = i == 0 ? 13 : ah - 1;
            sos(b, k, k, ah, al);
            bits aw = {b, 0, 0};
            for (size_t left = blocks; left;) {
                size_t run = left < 32767 ? left : 32767;
                int r = 0;
                while (((size_t)2 << r) <= run) r++;
                bits_put(&aw, (uint32_t)r, 4);
                if (r) bits_put(&aw, (uint32_t)(run - ((size_t)1 << r)), r);
                left -= run;
            }
            bits_flush(&aw);
        }
    put16be(b, 0xffd9);
}

/* ---- the two modes ------------------------------------------------------------ */

static void seeds(void) {
    buf b = {0};
#define SEED(name, call) \
    do {                 \
        b.n = 0;         \
        call;            \
        save(name, b.p, b.n); \
    } while (0)
    SEED("baseline_420.jpg", make_jpeg(&b, 8, 8, 3, 0, 0));
    SEED("baseline_444.jpg", make_jpeg(&b, 8, 8, 3, 0, 1));
    SEED("progressive.jpg", make_jpeg(&b, 8, 8, 3, 1, 0));
    SEED("gray.jpg", make_jpeg(&b, 8, 8, 1, 0, 0));
    SEED("cmyk.jpg", make_jpeg(&b, 8, 8, 4, 0, 0));
    SEED("rgb8.png", make_png(&b, 8, 8, PNG_COLOR_TYPE_RGB, 8, 0));
    SEED("rgba16_interlaced.png", make_png(&b, 8, 8, PNG_COLOR_TYPE_RGBA, 16, 1));
    SEED("gray16.png", make_png(&b, 8, 8, PNG_COLOR_TYPE_GRAY, 16, 0));
    SEED("gray1.png", make_png(&b, 8, 8, PNG_COLOR_TYPE_GRAY, 1, 0));
    SEED("palette_trns.png", make_png(&b, 8, 8, PNG_COLOR_TYPE_PALETTE, 4, 0));
    SEED("gray_alpha8_interlaced.png", make_png(&b, 8, 8, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 1));
    free(b.p);
}

static void hostile(void) {
    buf b = {0};
    /* Pixel budget: 100000 x 100000 declared, nothing behind it. */
    ihdr(&b, 100000, 100000, 8, PNG_COLOR_TYPE_RGB, 0);
    chunk(&b, "IDAT", NULL, 0);
    chunk(&b, "IEND", NULL, 0);
    save("pixels_100000x100000.png", b.p, b.n);
    /* The same in a JPEG: SOF0 of 65500 x 65500 (a JPEG's largest). */
    b.n = 0;
    static const uint8_t jbomb[] = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xff, 0xdc, 0xff,
                                    0xdc, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
                                    0x01, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11,
                                    0x03, 0x11, 0x00, 0x3f, 0x00, 0xff, 0xd9};
    save("pixels_65500x65500.jpg", jbomb, sizeof jbomb);
    /* Within the pixel budget, beyond the file budget in working memory: a
     * progressive 4:4:4 CMYK JPEG of 9400 x 9400 (707 MB of coefficients;
     * markers up to an empty DC scan only) and a 16-bit RGBA PNG of
     * 89,000,000 x 1 (three rows of 712 MB in libpng and mnv3; header only). */
    b.n = 0;
    static const uint8_t jprog[] = {0xff, 0xd8, 0xff, 0xc2, 0x00, 0x14, 0x08, 0x24, 0xb8, 0x24,
                                    0xb8, 0x04, 0x01, 0x11, 0x00, 0x02, 0x11, 0x00, 0x03, 0x11,
                                    0x00, 0x04, 0x11, 0x00, 0xff, 0xda, 0x00, 0x0e, 0x04, 0x01,
                                    0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
                                    0xff, 0xd9};
    save("progressive_cmyk_9400x9400.jpg", jprog, sizeof jprog);
    b.n = 0;
    ihdr(&b, 89000000, 1, 16, PNG_COLOR_TYPE_RGBA, 0);
    chunk(&b, "IDAT", NULL, 0);
    chunk(&b, "IEND", NULL, 0);
    save("wide_89000000x1_rgba16.png", b.p, b.n);
    /* 9000 x 9000 progressive, 883 valid scans. */
    b.n = 0;
    jpeg_scan_bomb(&b, 9000, 9000);
    save("scans_883_9000x9000.jpg", b.p, b.n);
    /* A bogus progression: a 64x64 progressive JPEG whose last scan is
     * repeated 2000 times (each repeat refines bits already complete). */
    b.n = 0;
    make_jpeg(&b, 64, 64, 3, 1, 0);
    size_t last = 0;
    for (size_t i = 2; i + 1 < b.n; i++)
        if (b.p[i] == 0xff && b.p[i + 1] == 0xda) last = i;
    if (!last) die("no SOS");
    buf r = {0};
    put(&r, b.p, b.n - 2); /* up to EOI */
    for (int i = 0; i < 2000; i++) put(&r, b.p + last, b.n - 2 - last);
    put16be(&r, 0xffd9);
    save("bogus_progression.jpg", r.p, r.n);
    r.n = 0;
    /* Truncated: a 256x256 baseline and a progressive JPEG, cut in half. */
    b.n = 0;
    make_jpeg(&b, 256, 256, 3, 0, 0);
    save("truncated_baseline.jpg", b.p, b.n / 2);
    b.n = 0;
    make_jpeg(&b, 256, 256, 3, 1, 0);
    save("truncated_progressive.jpg", b.p, b.n / 2);
    /* Truncated PNG, plain and interlaced. */
    b.n = 0;
    make_png(&b, 256, 256, PNG_COLOR_TYPE_RGB, 8, 0);
    save("truncated.png", b.p, b.n / 2);
    b.n = 0;
    make_png(&b, 256, 256, PNG_COLOR_TYPE_RGBA, 16, 1);
    save("truncated_interlaced16.png", b.p, b.n / 2);
    /* 16-bit RGBA interlaced, 6000 x 6000: 36 M pixels (within the pixel
     * budget), a 288 MB decoding buffer from a file of a few hundred KB. */
    b.n = 0;
    ihdr(&b, 6000, 6000, 16, PNG_COLOR_TYPE_RGBA, 1);
    buf z = {0};
    deflate_zeros(&z, adam7_bytes(6000, 6000, 8), Z_RLE);
    chunk(&b, "IDAT", z.p, z.n);
    chunk(&b, "IEND", NULL, 0);
    save("interlaced16_6000x6000.png", b.p, b.n);
    /* Compressed ancillary chunks: one iCCP inflating to 256 MiB, and 500
     * zTXt inflating to 1 MiB each (a valid 8x8 image otherwise). */
    z.n = 0;
    put(&z, "bomb", 5);           /* profile name, NUL */
    put8(&z, 0);                  /* compression method */
    deflate_zeros(&z, (size_t)256 << 20, Z_DEFAULT_STRATEGY);
    b.n = 0;
    png_with_chunks(&b, "iCCP", z.p, z.n, 1);
    save("iccp_bomb.png", b.p, b.n);
    z.n = 0;
    put(&z, "Comment", 8);
    put8(&z, 0);
    deflate_zeros(&z, (size_t)1 << 20, Z_DEFAULT_STRATEGY);
    b.n = 0;
    png_with_chunks(&b, "zTXt", z.p, z.n, 500);
    save("ztxt_500.png", b.p, b.n);
    /* Legal and large: a progressive 9400 x 9400 4:2:0 JPEG (88.4 M pixels,
     * just under the pixel budget; 265 MB of coefficients, just under the
     * file budget) must decode within the bars. */
    b.n = 0;
    make_big_progressive(&b, 9400, 9400);
    save("near_limits_progressive_9400x9400.jpg", b.p, b.n);
    /* A small valid JPEG, for the lowered pixel budget. */
    b.n = 0;
    make_jpeg(&b, 64, 64, 3, 0, 0);
    save("small_64x64.jpg", b.p, b.n);
    free(z.p);
    free(r.p);
    free(b.p);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--seeds")) {
        dir = argv[2];
        seeds();
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: craft_images DIR | craft_images --seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    hostile();
    return 0;
}
