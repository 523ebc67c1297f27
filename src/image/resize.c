/* Resizing as Pillow's Image.resize and TensorFlow's tf.image.resize compute
 * it, bit for bit. Written from the description of the arithmetic in
 * docs/pipelines.md (learned by reading Pillow's libImaging/Resample.c and
 * Geometry.c and TensorFlow's resize_bilinear_op.cc; no code copied).
 *
 * Built with -ffp-contract=off: Pillow's x86-64 builds and TensorFlow's
 * generic kernels round every multiply and add separately, and so must we. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "image/image.h"

/* ---- Pillow: separable convolution with fixed-point coefficients --------------- */

#define PIL_PRECISION_BITS 22 /* 32 - 8 - 2 */

static double pil_bilinear(double x) {
    if (x < 0.0) x = -x;
    if (x < 1.0) return 1.0 - x;
    return 0.0;
}

static double pil_bicubic(double x) { /* Keys' cubic, a = -0.5 */
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Coefficients of outputs [first, first+count) along one axis, as fixed point.
 * The box is (0, in_size) held in float, as Pillow passes it. */
typedef struct pil_axis {
    int ksize;
    int *lo, *len;  /* per output: first input index, number of taps */
    int32_t *k;     /* count * ksize */
} pil_axis;

static void pil_axis_free(pil_axis *a) {
    free(a->lo), free(a->len), free(a->k);
    memset(a, 0, sizeof *a);
}

static int pil_axis_make(int in_size, int out_size, mnv3_pil_filter filter, int first, int count,
                         pil_axis *a) {
    memset(a, 0, sizeof *a);
    double (*fn)(double) = filter == MNV3_PIL_BICUBIC ? pil_bicubic : pil_bilinear;
    double fsupport = filter == MNV3_PIL_BICUBIC ? 2.0 : 1.0;
    float in0 = 0.0f, in1 = (float)in_size;
    double scale = (double)(in1 - in0) / out_size, filterscale = scale;
    if (filterscale < 1.0) filterscale = 1.0;
    double support = fsupport * filterscale;
    double ksize_d = ceil(support) * 2 + 1;
    if (ksize_d > 1e8) return MNV3_FAIL;
    int ksize = (int)ksize_d;
    size_t nk;
    if (!mnv3_mul_size((size_t)count, (size_t)ksize, &nk)) return MNV3_FAIL;
    double *w = malloc(sizeof(double) * (size_t)ksize);
    a->lo = malloc(sizeof(int) * (size_t)count);
    a->len = malloc(sizeof(int) * (size_t)count);
    a->k = nk <= SIZE_MAX / sizeof(int32_t) ? malloc(sizeof(int32_t) * nk) : NULL;
    if (!w || !a->lo || !a->len || !a->k) {
        free(w);
        pil_axis_free(a);
        return MNV3_FAIL;
    }
    a->ksize = ksize;
    double ss = 1.0 / filterscale;
    for (int i = 0; i < count; i++) {
        int xx = first + i;
        double center = in0 + (xx + 0.5) * scale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
            double v = fn((x + xmin - center + 0.5) * ss);
            w[x] = v;
            ww += v;
        }
        for (int x = 0; x < xmax; x++)
            if (ww != 0.0) w[x] /= ww;
        int32_t *k = a->k + (size_t)i * (size_t)ksize;
        for (int x = 0; x < ksize; x++) {
            double v = x < xmax ? w[x] : 0.0;
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PIL_PRECISION_BITS))
                         : (int32_t)(0.5 + v * (1 << PIL_PRECISION_BITS));
        }
        a->lo[i] = xmin;
        a->len[i] = xmax < 0 ? 0 : xmax;
    }
    free(w);
    return MNV3_OK;
}

static uint8_t pil_clip8(int64_t acc) {
    int64_t v = acc >> PIL_PRECISION_BITS; /* arithmetic shift, as Pillow's table index */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Pillow's nearest: ImagingScaleAffine, positions accumulated in double. */
static int pil_nearest(const mnv3_image *in, int out_w, int out_h, int x0, int y0, int win_w,
                       int win_h, uint8_t *out) {
    int *xin = malloc(sizeof(int) * (size_t)win_w);
    if (!xin) return MNV3_FAIL;
    double ax = (double)((float)in->width - 0.0f) / out_w;
    double ay = (double)((float)in->height - 0.0f) / out_h;
    double xo = 0.0 + ax * 0.5, yo = 0.0 + ay * 0.5;
    for (int x = 0; x < x0 + win_w; x++) {
        int xi = xo < 0.0 ? -1 : (int)xo;
        if (x >= x0) xin[x - x0] = xi >= 0 && xi < in->width ? xi : -1;
        xo += ax;
    }
    for (int y = 0; y < y0 + win_h; y++) {
        int yi = yo < 0.0 ? -1 : (int)yo;
        if (y >= y0) {
            uint8_t *o = out + (size_t)(y - y0) * (size_t)win_w * 3;
            for (int x = 0; x < win_w; x++) {
                if (yi >= 0 && yi < in->height && xin[x] >= 0)
                    memcpy(o + 3 * (size_t)x, in->rgb + ((size_t)yi * (size_t)in->width + (size_t)xin[x]) * 3, 3);
                else
                    memset(o + 3 * (size_t)x, 0, 3);
            }
        }
        yo += ay;
    }
    free(xin);
    return MNV3_OK;
}

/* Vertical pass first (into an 8-bit intermediate), then horizontal. */
static int pil_vertical_first(const mnv3_image *in, const pil_axis *ax, const pil_axis *ay, int need_h,
                              int need_v, int x0, int y0, int win_w, int win_h, uint8_t *out) {
    const size_t iw = (size_t)in->width;
    int col_first = need_h ? ax->lo[0] : x0;
    int col_end = need_h ? ax->lo[win_w - 1] + ax->len[win_w - 1] : x0 + win_w;
    if (col_end <= col_first) col_end = col_first + 1;
    size_t cols = (size_t)(col_end - col_first), tn;
    uint8_t *tmp;
    if (!mnv3_mul_size((size_t)win_h, cols * 3, &tn) || !(tmp = malloc(tn))) return MNV3_FAIL;
    for (int j = 0; j < win_h; j++) {
        uint8_t *t = tmp + (size_t)j * cols * 3;
        if (!need_v) {
            memcpy(t, in->rgb + ((size_t)(y0 + j) * iw + (size_t)col_first) * 3, cols * 3);
            continue;
        }
        const int32_t *k = ay->k + (size_t)j * (size_t)ay->ksize;
        for (size_t c = 0; c < cols * 3; c++) {
            int64_t acc = 1 << (PIL_PRECISION_BITS - 1);
            for (int y = 0; y < ay->len[j]; y++)
                acc += (int64_t)in->rgb[((size_t)(ay->lo[j] + y) * iw + (size_t)col_first) * 3 + c] * k[y];
            t[c] = pil_clip8(acc);
        }
    }
    for (int j = 0; j < win_h; j++) {
        const uint8_t *src = tmp + (size_t)j * cols * 3;
        uint8_t *o = out + (size_t)j * (size_t)win_w * 3;
        if (!need_h) {
            memcpy(o, src, (size_t)win_w * 3);
            continue;
        }
        for (int i = 0; i < win_w; i++) {
            const int32_t *k = ax->k + (size_t)i * (size_t)ax->ksize;
            const uint8_t *sp = src + (size_t)(ax->lo[i] - col_first) * 3;
            int64_t s0 = 1 << (PIL_PRECISION_BITS - 1), s1 = s0, s2 = s0;
            for (int x = 0; x < ax->len[i]; x++) {
                s0 += (int64_t)sp[3 * x] * k[x];
                s1 += (int64_t)sp[3 * x + 1] * k[x];
                s2 += (int64_t)sp[3 * x + 2] * k[x];
            }
            o[3 * i] = pil_clip8(s0), o[3 * i + 1] = pil_clip8(s1), o[3 * i + 2] = pil_clip8(s2);
        }
    }
    free(tmp);
    return MNV3_OK;
}

int mnv3_pil_resize(const mnv3_image *in, int out_w, int out_h, mnv3_pil_filter filter, int x0,
                    int y0, int win_w, int win_h, uint8_t *out, const char *name,
                    mnv3_error *err) {
    return mnv3_pil_resize_order(in, out_w, out_h, filter, MNV3_PIL_HORIZONTAL_FIRST, x0, y0, win_w,
                                 win_h, out, name, err);
}

int mnv3_pil_resize_order(const mnv3_image *in, int out_w, int out_h, mnv3_pil_filter filter,
                          mnv3_pil_order order, int x0, int y0, int win_w, int win_h, uint8_t *out,
                          const char *name, mnv3_error *err) {
    if (out_w < 1 || out_h < 1 || win_w < 1 || win_h < 1 || x0 < 0 || y0 < 0 ||
        x0 > out_w - win_w || y0 > out_h - win_h || in->width < 1 || in->height < 1)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, name,
                              "bad resize request %dx%d window %d,%d %dx%d", out_w, out_h, x0, y0,
                              win_w, win_h);
    const size_t iw = (size_t)in->width;
    if (out_w == in->width && out_h == in->height) { /* Image.resize returns a copy */
        for (int y = 0; y < win_h; y++)
            memcpy(out + (size_t)y * (size_t)win_w * 3, in->rgb + ((size_t)(y + y0) * iw + (size_t)x0) * 3,
                   (size_t)win_w * 3);
        return MNV3_OK;
    }
    if (filter == MNV3_PIL_NEAREST)
        return pil_nearest(in, out_w, out_h, x0, y0, win_w, win_h, out) == MNV3_OK
                   ? MNV3_OK
                   : mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory resizing");
    int need_h = out_w != in->width, need_v = out_h != in->height;
    pil_axis ax = {0}, ay = {0};
    uint8_t *tmp = NULL;
    int rc = MNV3_FAIL;
    if (need_v && pil_axis_make(in->height, out_h, filter, y0, win_h, &ay) != MNV3_OK) goto done;
    if (need_h && pil_axis_make(in->width, out_w, filter, x0, win_w, &ax) != MNV3_OK) goto done;
    if (order == MNV3_PIL_VERTICAL_FIRST) {
        rc = pil_vertical_first(in, &ax, &ay, need_h, need_v, x0, y0, win_w, win_h, out);
        goto done;
    }
    /* Rows of the source the vertical pass reads (all window rows if none). */
    int row_first = need_v ? ay.lo[0] : y0;
    int row_end = need_v ? ay.lo[win_h - 1] + ay.len[win_h - 1] : y0 + win_h;
    if (need_v)
        for (int i = 0; i < win_h; i++)
            if (ay.lo[i] < row_first) row_first = ay.lo[i];
    if (row_end <= row_first) row_end = row_first + 1;
    size_t rows = (size_t)(row_end - row_first), tw = (size_t)win_w, tn;
    if (!mnv3_mul_size(rows, tw * 3, &tn) || !(tmp = malloc(tn))) goto done;
    /* Horizontal pass (8-bit result, clipped and truncated as Pillow does). */
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *src = in->rgb + ((size_t)row_first + r) * iw * 3;
        uint8_t *t = tmp + r * tw * 3;
        if (!need_h) {
            memcpy(t, src + (size_t)x0 * 3, tw * 3);
            continue;
        }
        for (int i = 0; i < win_w; i++) {
            const int32_t *k = ax.k + (size_t)i * (size_t)ax.ksize;
            const uint8_t *s = src + (size_t)ax.lo[i] * 3;
            int64_t s0 = 1 << (PIL_PRECISION_BITS - 1), s1 = s0, s2 = s0;
            for (int x = 0; x < ax.len[i]; x++) {
                s0 += (int64_t)s[3 * x] * k[x];
                s1 += (int64_t)s[3 * x + 1] * k[x];
                s2 += (int64_t)s[3 * x + 2] * k[x];
            }
            t[3 * i] = pil_clip8(s0), t[3 * i + 1] = pil_clip8(s1), t[3 * i + 2] = pil_clip8(s2);
        }
    }
    /* Vertical pass. */
    for (int j = 0; j < win_h; j++) {
        uint8_t *o = out + (size_t)j * tw * 3;
        if (!need_v) {
            memcpy(o, tmp + (size_t)j * tw * 3, tw * 3);
            continue;
        }
        const int32_t *k = ay.k + (size_t)j * (size_t)ay.ksize;
        size_t base = (size_t)(ay.lo[j] - row_first);
        for (size_t c = 0; c < tw * 3; c++) {
            int64_t s = 1 << (PIL_PRECISION_BITS - 1);
            for (int y = 0; y < ay.len[j]; y++) s += (int64_t)tmp[(base + (size_t)y) * tw * 3 + c] * k[y];
            o[c] = pil_clip8(s);
        }
    }
    rc = MNV3_OK;
done:
    free(tmp);
    pil_axis_free(&ax);
    pil_axis_free(&ay);
    return rc == MNV3_OK ? MNV3_OK
                         : mnv3_fail_code(err, MNV3_ERR_MEMORY, name,
                                          "out of memory resizing to %dx%d", out_w, out_h);
}

/* ---- TensorFlow: ResizeBilinear / ResizeNearestNeighbor, half-pixel centres --- */

typedef struct tf_interp {
    int64_t lower, upper;
    float lerp;
} tf_interp;

static void tf_weights(int64_t out_size, int64_t in_size, tf_interp *t) {
    float scale = (float)in_size / (float)out_size;
    for (int64_t i = 0; i < out_size; i++) {
        float v = ((float)i + 0.5f) * scale - 0.5f;
        float vf = floorf(v);
        int64_t lo = (int64_t)vf, hi = (int64_t)ceilf(v);
        t[i].lower = lo > 0 ? lo : 0;
        t[i].upper = hi < in_size - 1 ? hi : in_size - 1;
        t[i].lerp = v - vf;
    }
}

static int64_t tf_nearest_index(int64_t i, float scale, int64_t in_size) {
    float v = ((float)i + 0.5f) * scale;
    int64_t k = (int64_t)floorf(v);
    if (k > in_size - 1) k = in_size - 1;
    return k < 0 ? 0 : k;
}

int mnv3_tf_resize(const mnv3_image *in, int out_h, int out_w, mnv3_tf_method method,
                   float *out, const char *name, mnv3_error *err) {
    if (out_w < 1 || out_h < 1 || in->width < 1 || in->height < 1)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, name, "bad resize request %dx%d", out_w,
                              out_h);
    const size_t iw = (size_t)in->width, ow = (size_t)out_w;
    if (out_h == in->height && out_w == in->width) { /* the kernels' no-op: a cast */
        for (size_t i = 0; i < iw * (size_t)in->height * 3; i++) out[i] = (float)in->rgb[i];
        return MNV3_OK;
    }
    if (method == MNV3_TF_NEAREST) {
        float hs = (float)in->height / (float)out_h, ws = (float)in->width / (float)out_w;
        for (int y = 0; y < out_h; y++) {
            int64_t yi = tf_nearest_index(y, hs, in->height);
            for (int x = 0; x < out_w; x++) {
                int64_t xi = tf_nearest_index(x, ws, in->width);
                const uint8_t *s = in->rgb + ((size_t)yi * iw + (size_t)xi) * 3;
                float *o = out + ((size_t)y * ow + (size_t)x) * 3;
                o[0] = s[0], o[1] = s[1], o[2] = s[2];
            }
        }
        return MNV3_OK;
    }
    tf_interp *xs = malloc(sizeof *xs * ow), *ys = malloc(sizeof *ys * (size_t)out_h);
    if (!xs || !ys) {
        free(xs), free(ys);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, name, "out of memory resizing");
    }
    tf_weights(out_h, in->height, ys);
    tf_weights(out_w, in->width, xs);
    for (int y = 0; y < out_h; y++) {
        const uint8_t *top = in->rgb + (size_t)ys[y].lower * iw * 3;
        const uint8_t *bot = in->rgb + (size_t)ys[y].upper * iw * 3;
        const float yl = ys[y].lerp;
        float *o = out + (size_t)y * ow * 3;
        for (size_t x = 0; x < ow; x++) {
            const size_t l = (size_t)xs[x].lower * 3, u = (size_t)xs[x].upper * 3;
            const float xl = xs[x].lerp;
            for (int c = 0; c < 3; c++) {
                float tl = top[l + c], tr = top[u + c], bl = bot[l + c], br = bot[u + c];
                float t = tl + (tr - tl) * xl;
                float b = bl + (br - bl) * xl;
                o[3 * x + c] = t + (b - t) * yl;
            }
        }
    }
    free(xs), free(ys);
    return MNV3_OK;
}
