/* craft_big: scales tiny_uint8.tflite up, at test time, into models whose
 * shapes stay consistent (every operator plans) but whose activations and
 * multiply-adds grow with the side H of the input:
 *
 *   craft_big TINY H OUT.tflite [OUT.npy]
 *
 * The input becomes 1xHxHx3, every 1x4x4x8 activation 1x(H/2)x(H/2)x8, and
 * both average pools' 4x4 filters (H/2)x(H/2). Shapes are rewritten in
 * place (same sizes), so no flatbuffer offset moves. OUT.npy, when given,
 * is a zero uint8 input of that shape. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *b;
static size_t n;

static uint32_t u32(size_t pos) {
    return (uint32_t)b[pos] | (uint32_t)b[pos + 1] << 8 | (uint32_t)b[pos + 2] << 16 |
           (uint32_t)b[pos + 3] << 24;
}
static void put32(size_t pos, uint32_t v) {
    for (int i = 0; i < 4; i++) b[pos + (size_t)i] = (unsigned char)(v >> (8 * i));
}
/* The trusting walker of a valid file (tiny_uint8.tflite is one). */
static size_t field(size_t table, int idx) {
    size_t vt = table - (size_t)(int32_t)u32(table);
    unsigned vsize = (unsigned)(b[vt] | b[vt + 1] << 8);
    size_t slot = vt + 4 + 2 * (size_t)idx;
    if (slot + 2 > vt + vsize) return 0;
    unsigned off = (unsigned)(b[slot] | b[slot + 1] << 8);
    return off ? table + off : 0;
}
static size_t deref(size_t pos) { return pos + u32(pos); }
static size_t vec(size_t table, int idx) { return deref(field(table, idx)); }
static size_t vec_table(size_t v, size_t i) { return deref(v + 4 + 4 * i); }

static int shape_is(size_t s, const uint32_t *want) {
    for (int d = 0; d < 5; d++)
        if (u32(s + 4 * (size_t)d) != want[d]) return 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: craft_big TINY H OUT.tflite [OUT.npy]\n");
        return 2;
    }
    uint32_t h = (uint32_t)strtoul(argv[2], NULL, 10);
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 1;
    static unsigned char data[1 << 20];
    n = fread(data, 1, sizeof data, f);
    fclose(f);
    b = data;
    size_t sg = vec_table(vec(u32(0), 2), 0);
    size_t tensors = vec(sg, 0), ops = vec(sg, 3);
    static const uint32_t input[5] = {4, 1, 8, 8, 3}, act[5] = {4, 1, 4, 4, 8};
    int changed = 0;
    for (uint32_t i = 0; i < u32(tensors); i++) {
        size_t s = vec(vec_table(tensors, i), 0); /* Tensor.shape */
        if (shape_is(s, input)) put32(s + 8, h), put32(s + 12, h), changed++;
        else if (shape_is(s, act)) put32(s + 8, h / 2), put32(s + 12, h / 2), changed++;
    }
    for (uint32_t i = 0; i < u32(ops); i++) {
        size_t opts = field(vec_table(ops, i), 4); /* Operator.builtin_options */
        if (!opts) continue;
        size_t t = deref(opts);
        size_t fw = field(t, 3), fh = field(t, 4); /* Pool2DOptions filter_width / _height */
        if (fw && fh && u32(fw) == 4 && u32(fh) == 4) put32(fw, h / 2), put32(fh, h / 2), changed++;
    }
    if (changed != 8) {
        fprintf(stderr, "craft_big: %d of the 8 expected places found\n", changed);
        return 1;
    }
    f = fopen(argv[3], "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) return 1;
    if (argc == 5) {
        char header[128];
        int len = snprintf(header, sizeof header,
                           "{'descr': '|u1', 'fortran_order': False, 'shape': (1, %u, %u, 3), }",
                           h, h);
        int total = 10 + len + 1, pad = (64 - total % 64) % 64;
        f = fopen(argv[4], "wb");
        if (!f) return 1;
        unsigned hl = (unsigned)(len + pad + 1);
        fwrite("\x93NUMPY\x01\x00", 1, 8, f);
        fputc((int)(hl & 255), f);
        fputc((int)(hl >> 8), f);
        fwrite(header, 1, (size_t)len, f);
        for (int i = 0; i < pad; i++) fputc(' ', f);
        fputc('\n', f);
        for (size_t i = 0; i < (size_t)h * h * 3; i++) fputc(0, f);
        if (fclose(f) != 0) return 1;
    }
    return 0;
}
