/* Hostile images: every prefix-cut of a valid JPEG and PNG, bit flips,
 * zero bytes, bombs (huge dimensions declared in the header: rejected before
 * any image-sized allocation), other formats. Each must fail with one line
 * naming the file (or, for flips, decode), and never crash.
 *   test_image_hostile EDGE_DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "kit.h"


static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static uint8_t buf[1 << 20];
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uint8_t *p = malloc(*n ? *n : 1);
    if (p) memcpy(p, buf, *n);
    return p;
}

/* expect: 1 = must fail, 0 = may succeed. Checks the message either way. */
static void check(const char *what, const uint8_t *data, size_t n, int must_fail, const char *needle) {
    for (int d = 0; d < 2; d++) {
        mnv3_decode_options opt = {d ? MNV3_DECODER_TF : MNV3_DECODER_PILLOW, MNV3_DCT_DEFAULT, 0, 0};
        mnv3_image img;
        mnv3_error err = {{0}, 0};
        int rc = mnv3_image_decode(data, n, what, &opt, &img, &err);
        if (rc == MNV3_OK) {
            mnv3_image_free(&img);
            if (must_fail) {
                kit_fail("%s: decoded, expected an error", what);
            }
            continue;
        }
        if (!err.message[0] || strchr(err.message, '\n') || strncmp(err.message, what, strlen(what)) ||
            (needle && !strstr(err.message, needle))) {
            kit_fail("%s: bad message '%s'", what, err.message);
        }
    }
}

static void put32be(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_image_hostile EDGE_DIR\n");
        return 2;
    }
    const char *files[] = {"jpeg_420_baseline.jpg", "jpeg_420_progressive.jpg", "png_rgb8.png",
                           "png_rgb8_interlaced.png", "png_palette.png"};
    char name[512];
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", argv[1], files[fi]);
        size_t n;
        uint8_t *data = slurp(path, &n);
        if (!data) {
            printf("FAIL cannot read %s\n", path);
            return 1;
        }
        check(files[fi], data, n, 0, NULL);
        /* Every cut: the file minus its tail. */
        size_t step = n / 400 + 1;
        for (size_t cut = 0; cut < n; cut += (cut < 64 ? 1 : step)) {
            snprintf(name, sizeof name, "%s.cut%zu", files[fi], cut);
            check(name, data, cut, 1, NULL);
        }
        snprintf(name, sizeof name, "%s.cut-1", files[fi]);
        check(name, data, n - 1, 1, NULL);
        /* Bit flips (may decode: JPEG has no checksum). */
        uint8_t *copy = malloc(n);
        for (size_t i = 0; copy && i < 300; i++) {
            memcpy(copy, data, n);
            size_t at = (i * 7919u) % n;
            copy[at] ^= (uint8_t)(1u << (i % 8));
            snprintf(name, sizeof name, "%s.flip%zu", files[fi], at);
            check(name, copy, n, 0, NULL);
        }
        free(copy);
        free(data);
    }
    check("empty.jpg", (const uint8_t *)"", 0, 1, "empty");
    check("text.txt", (const uint8_t *)"hello, world\n", 13, 1, "not a JPEG or PNG");
    check("anim.gif", (const uint8_t *)"GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14, 1, "GIF");
    check("pic.bmp", (const uint8_t *)"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00", 12, 1, "BMP");
    check("soi.jpg", (const uint8_t *)"\xff\xd8", 2, 1, NULL);
    /* JPEG bomb: SOI, SOF0 declaring 65500 x 65500, then nothing. */
    static const uint8_t jbomb[] = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xff, 0xdc, 0xff, 0xdc, 0x03,
                                    0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xda,
                                    0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00};
    check("bomb.jpg", jbomb, sizeof jbomb, 1, NULL);
    /* PNG bomb: a valid IHDR (correct CRC) of 100000 x 100000, an empty IDAT, IEND. */
    uint8_t pbomb[8 + 25 + 12 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *ih = pbomb + 8;
    put32be(ih, 13);
    memcpy(ih + 4, "IHDR", 4);
    put32be(ih + 8, 100000);
    put32be(ih + 12, 100000);
    ih[16] = 8, ih[17] = 2, ih[18] = 0, ih[19] = 0, ih[20] = 0;
    put32be(ih + 21, crc32_png(ih + 4, 17));
    uint8_t *id = ih + 25;
    put32be(id, 0);
    memcpy(id + 4, "IDAT", 4);
    put32be(id + 8, crc32_png(id + 4, 4));
    uint8_t *ie = id + 12;
    put32be(ie, 0);
    memcpy(ie + 4, "IEND", 4);
    put32be(ie + 8, crc32_png(ie + 4, 4));
    check("bomb.png", pbomb, sizeof pbomb, 1, "over the limit");
    /* Zero-sized PNG. */
    put32be(ih + 8, 0);
    put32be(ih + 21, crc32_png(ih + 4, 17));
    check("zero.png", pbomb, sizeof pbomb, 1, NULL);
    /* Read path: missing file and a directory. */
    mnv3_image img;
    mnv3_error err;
    if (mnv3_image_read("/nonexistent/x.jpg", NULL, &img, &err) == MNV3_OK ||
        !strstr(err.message, "/nonexistent/x.jpg")) {
        kit_fail("missing file: %s", err.message);
    }
    if (mnv3_image_read(argv[1], NULL, &img, &err) == MNV3_OK || !strstr(err.message, argv[1])) {
        kit_fail("directory: %s", err.message);
    }
    mnv3_tensor t;
    if (mnv3_preprocess("no-such-pipeline", "x.jpg", MNV3_NCHW, &t, &err) == MNV3_OK ||
        !strstr(err.message, "unknown pipeline")) {
        kit_fail("unknown pipeline: %s", err.message);
    }
    printf("%d failures\n", kit_failures);
    return kit_failures != 0;
}
