/* Per-op tests of the reference kernels against straightforward float64
 * formulas, plus the model description (op list, parameter counts). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "factors/factors.h"
#include "kernels/kernels.h"

#include "kit.h"

static uint64_t rng_state = 12345;
static float frand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng_state >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

/* Convolution with asymmetric padding against a float64 direct sum. */
static void test_conv(int cin, int cout, int k, int stride, int groups, int h, int w, int pad_t,
                      int pad_b, int pad_l, int pad_r, int bias) {
    mnv3_op op = {0};
    op.kind = MNV3_OP_CONV;
    op.in_ch = cin, op.out_ch = cout, op.kernel = k, op.stride = stride, op.groups = groups;
    op.has_bias = bias;
    size_t wn = (size_t)cout * (size_t)(cin / groups) * (size_t)(k * k);
    float *wt = malloc(wn * sizeof *wt), *b = malloc((size_t)cout * sizeof *b);
    for (size_t i = 0; i < wn; i++) wt[i] = frand();
    for (int i = 0; i < cout; i++) b[i] = frand();
    op.weight = wt, op.bias = bias ? b : NULL;
    mnv3_exec_op e = {0};
    e.op = &op;
    e.conv_fused_from_batch = INT_MAX; /* input channel, row, column; multiply then add */
    e.in = (mnv3_shape){cin, h, w};
    e.pad_top = pad_t, e.pad_bottom = pad_b, e.pad_left = pad_l, e.pad_right = pad_r;
    e.out = (mnv3_shape){cout, (h + pad_t + pad_b - k) / stride + 1, (w + pad_l + pad_r - k) / stride + 1};
    size_t in_n = (size_t)cin * h * w, out_n = (size_t)cout * e.out.h * e.out.w;
    float *x = malloc(in_n * sizeof *x), *y = malloc(out_n * sizeof *y);
    double *scratch = malloc((size_t)e.out.h * e.out.w * sizeof *scratch);
    for (size_t i = 0; i < in_n; i++) x[i] = frand();
    double worst = 0;
    for (int f64 = 0; f64 < 2; f64++) {
        e.f64 = f64;
        mnv3_reference_kernels()->fn[MNV3_OP_CONV](&e, 1, x, NULL, y, scratch);
        int cpg = cin / groups, opg = cout / groups;
        for (int co = 0; co < cout; co++)
            for (int oy = 0; oy < e.out.h; oy++)
                for (int ox = 0; ox < e.out.w; ox++) {
                    double s = bias ? b[co] : 0, mag = fabs(s);
                    int terms = 1;
                    for (int ci = 0; ci < cpg; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * stride - pad_t + ky, ix = ox * stride - pad_l + kx;
                                if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                                int c = (co / opg) * cpg + ci;
                                double t = (double)x[((size_t)c * h + iy) * w + ix] *
                                           wt[(((size_t)co * cpg + ci) * k + ky) * k + kx];
                                s += t, mag += fabs(t), terms++;
                            }
                    double got = y[((size_t)co * e.out.h + oy) * e.out.w + ox];
                    /* float32 summation bound: |error| <= (terms + 1) u sum|t|. */
                    double err = fabs(got - s) / ((terms + 1) * 0x1p-24 * mag + 1e-38);
                    if (f64) CHECKF(got == (double)(float)s, "f64 conv not correctly rounded");
                    if (err > worst) worst = err;
                }
    }
    CHECKF(worst <= 1.0, "conv %d->%d k%d s%d g%d pads %d%d%d%d: error %g x the float32 bound", cin, cout, k, stride,
           groups, pad_t, pad_b, pad_l, pad_r, worst);
    free(wt), free(b), free(x), free(y), free(scratch);
}

static void test_activations(void) {
    /* torch (x*c)/6 and Keras x*(c/6) are different roundings of one function. */
    int differ = 0;
    for (int i = -4000; i <= 4000; i++) {
        float x = (float)i / 997.0f;
        double exact = x * fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0;
        for (int o = 0; o < 5; o++) {
            float v = mnv3_hardswish(x, o);
            /* x * clamp(x/6 + 0.5) (XNNPACK) cancels near x = -3: the error of
             * f32(1/6) times |x| <= 3 is absolute (~2e-8 * 3), not relative. */
            double abs_bound = o == MNV3_HSWISH_X_MUL_CLAMP_FMA ? 3.0 * 0x1p-24 * fabs(x) : 1e-37;
            CHECKF(fabs(v - exact) <= 3e-7 * fabs(exact) + abs_bound,
                   "hardswish option %d at %g: %g vs %g", o, x, v, exact);
        }
        differ += mnv3_hardswish(x, MNV3_HSWISH_XC_DIV6) != mnv3_hardswish(x, MNV3_HSWISH_X_MUL_C_DIV6);
        CHECKF(mnv3_hardsigmoid(x, MNV3_HSIG_DIV6) == fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f,
               "hardsigmoid div6");
    }
    CHECKF(differ > 0, "hardswish options never differ: factor would be meaningless");
    CHECKF(mnv3_hardswish(-3.5f, 0) == 0.0f && mnv3_hardswish(3.5f, 0) == 3.5f, "hardswish ends");
}

static void test_ulp(void) {
    CHECKF(mnv3_ulp_distance(1.0f, nextafterf(1.0f, 2.0f)) == 1, "ulp 1");
    CHECKF(mnv3_ulp_distance(0.0f, -0.0f) == 0, "signed zeros");
    CHECKF(mnv3_ulp_distance(-1e-45f, 1e-45f) == 2, "across zero");
    float a[3] = {1, 2, 3}, b[3] = {1, 2, 3};
    mnv3_diff d;
    mnv3_diff_compute(a, b, 3, &d);
    CHECKF(d.frac_identical == 1.0 && d.rel_l2 == 0 && d.max_ulp == 0, "identical arrays");
}

static void test_graph(void) {
    mnv3_arch arch;
    mnv3_graph g;
    mnv3_arch_small(&arch, 1000);
    mnv3_graph_build(&arch, &g);
    int64_t params = 0, buffers = 0;
    int bn = 0;
    for (int i = 0; i < g.n_ops; i++) {
        mnv3_param_slot s[4];
        int n = mnv3_op_params(&g.ops[i], s);
        bn += g.ops[i].kind == MNV3_OP_BATCHNORM;
        for (int k = 0; k < n; k++) {
            int64_t c = 1;
            for (int d = 0; d < s[k].ndim; d++) c *= s[k].shape[d];
            if (s[k].is_buffer) buffers += c;
            else params += c;
        }
    }
    /* torchvision MobileNet_V3_Small_Weights meta: num_params 2,542,856. */
    CHECKF(params == 2542856, "parameter count %lld", (long long)params);
    CHECKF(buffers == 12112, "BN statistics %lld", (long long)buffers);
    CHECKF(bn == 34, "BatchNorm layers %d", bn);
    CHECKF(!strcmp(g.ops[0].name, "stem.conv") && !strcmp(g.ops[0].torchvision, "features.0.0"),
           "first op");
    CHECKF(!strcmp(g.ops[g.n_ops - 1].torchvision, "classifier.3"), "last op");
}

int main(void) {
    test_conv(3, 16, 3, 2, 1, 9, 8, 1, 1, 1, 1, 0);   /* torch stem, odd/even sizes */
    test_conv(3, 16, 3, 2, 1, 8, 8, 0, 1, 0, 1, 0);   /* TF SAME stem */
    test_conv(8, 8, 5, 2, 8, 14, 14, 1, 2, 1, 2, 0);  /* Keras correct_pad depthwise */
    test_conv(8, 8, 3, 1, 8, 7, 5, 1, 1, 1, 1, 0);    /* depthwise stride 1 */
    test_conv(24, 40, 1, 1, 1, 6, 7, 0, 0, 0, 0, 0);  /* pointwise */
    test_conv(16, 8, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);   /* SE fc with bias */
    test_activations();
    test_ulp();
    test_graph();
    if (kit_failures) printf("%d failures\n", kit_failures);
    else printf("all core tests passed\n");
    return kit_failures != 0;
}
