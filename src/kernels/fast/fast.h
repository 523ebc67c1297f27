/* The fast kernel set: the reference kernels' arithmetic, vectorised across
 * output positions (spatial convolutions, 1x1 convolutions) or output
 * channels (matrix-vector), so every output element is the same sequence of
 * IEEE operations as in src/kernels/reference and the results are
 * bit-identical. Convolution, BatchNorm, activation and residual add run as
 * one fused pass; each stage can also be stored (for taps).
 *
 * One template (fast_template.h) is compiled once per instruction set:
 * AVX-512, AVX2+FMA (x86, per-function target attributes, run-time
 * dispatch), and portable C. A NEON file would define the same vector macros. */
#ifndef MNV3_FAST_H
#define MNV3_FAST_H

#include <stddef.h>

#include "kernels/kernels.h"

/* What follows the sum of one convolution / linear output. */
enum { FAST_BIAS_NONE, FAST_BIAS_SEPARATE_ADD, FAST_BIAS_IN_ACCUMULATOR };
enum { FAST_ACT_NONE, FAST_ACT_RELU, FAST_ACT_HSWISH, FAST_ACT_HSIG };
/* No BatchNorm in the epilogue; otherwise one of enum mnv3_bn_apply. */
enum { FAST_BN_NONE = -1 };

typedef struct fast_epilogue {
    const float *bias; /* per output channel, or NULL */
    int bias_mode;
    int bn;                           /* FAST_BN_NONE or enum mnv3_bn_apply */
    const float *bn_a, *bn_c, *bn_mean, *bn_b; /* a = w/sqrt(var+eps), c = shift */
    int act, act_option;              /* FAST_ACT_*, factor option of that activation */
    const float *skip;                /* residual operand: out = skip + y, or NULL */
    /* Stage outputs, [C][plane]; NULL = not stored. The last present stage is
     * the op group's result and is always stored. */
    float *y_conv, *y_bn, *y_act, *y_add;
} fast_epilogue;

/* 1x1 stride-1 convolution over a plane, weights packed [co/4][ci][4]. */
typedef struct fast_pointwise_args {
    const float *in; /* [cin][plane] */
    const float *wpack;
    int cin, cout, plane;
    int use_fma;     /* pointwise factor: fma, else multiply then add */
    fast_epilogue epi;
} fast_pointwise_args;

/* k x k convolution (grouped or full) over zero-padded input planes. For
 * stride 2 each padded row is stored even columns first, then odd columns, so
 * every tap reads contiguous memory. Summing a padding zero where the reference
 * skips the tap leaves the sum unchanged: fma(0, w, acc) = acc + (+-0) = acc
 * for every acc except -0 (reachable only from a bias of -0.0 summed in the
 * accumulator), so the sums are the reference's. */
typedef struct fast_spatial_args {
    const float *padded;  /* cin_group planes for the channel's group */
    size_t plane_stride;  /* floats between padded planes */
    int row_stride;       /* floats between padded rows */
    int col_off[16];      /* tap kx -> column offset inside a padded row */
    int k, stride, cin_group;
    int out_h, out_w;
    const float *weight;  /* OIHW from channel co: [nco][cin_group][k][k] */
    int order_fma;        /* ky,kx,ci with fmaf; else ci,ky,kx multiply then add */
    int co;               /* first output channel (epilogue parameters, output offset) */
    int nco;              /* output channels from co: 1, or up to FAST_SPATIAL_CHANNELS_PER_BLOCK (same input) */
    fast_epilogue epi;
} fast_spatial_args;

/* out[o] = sum_i W[o][i] x[i] in order i = 0.., weights packed in blocks of
 * mv_block outputs, each block transposed: [out_padded / mv_block][in][mv_block]. */
typedef struct fast_matvec_args {
    const float *x, *wt;
    int n_in, n_out, out_stride;
    int use_fma;
    fast_epilogue epi;
} fast_matvec_args;

/* ---- blocked layout ------------------------------------------------------
 * Channels in blocks of VL lanes: a value is [C/VL][rows][cols][VL], so a
 * vector holds VL channels of one position. Every blocked kernel performs the
 * planar kernels' per-element operations in the same order; only which
 * elements share a vector changes. Lanes past C in the last block hold values
 * that nothing reads. Epilogue parameter arrays are padded to whole blocks. */

/* Where a blocked result goes: unpadded (pw = 0, rows of out_w) or into the
 * interior of a zero-bordered plane of ph x pw positions at (pad_top, pad_left). */
typedef struct fast_cdst {
    float *data;
    size_t cbs; /* floats between channel blocks */
    int ph, pw, pad_top, pad_left;
} fast_cdst;

/* 1x1 convolution, blocked input; weights [out blocks][cin][VL]. */
typedef struct fast_cpw_args {
    const float *in;
    size_t in_cbs;
    const float *wpack;
    int cin, ncb, plane, out_w;
    int use_fma;
    const float *skip; /* residual operand, blocked and unpadded, or NULL */
    size_t skip_cbs;
    fast_cdst dst;
    fast_epilogue epi;
} fast_cpw_args;

/* Depthwise k x k convolution over a zero-bordered blocked input; weights
 * [blocks][k * k][VL]. Items: (channel block, output row). */
typedef struct fast_cdw_args {
    const float *in;
    size_t in_cbs;
    int in_pw;
    const float *wpack;
    int k, stride, out_h, out_w, order_fma;
    fast_cdst dst;
    fast_epilogue epi;
} fast_cdw_args;

/* Full k x k convolution (the stem) over planar input planes, read in place
 * (taps in the zero padding read +0, as a padded copy would give), blocked
 * output; weights [blocks][cin * k * k][VL]. Items: (channel block, output row). */
typedef struct fast_cfull_args {
    const float *in;
    int in_h, in_w, pad_top, pad_left;
    int k, stride, cin, out_h, out_w, order_fma;
    const float *wpack;
    fast_cdst dst;
    fast_epilogue epi;
} fast_cfull_args;

typedef struct fast_isa {
    const char *name;
    int lanes;
    int pw_block, mv_block; /* floats per pointwise position block / matvec block */
    /* position blocks [pb0, pb1) x channel blocks of FAST_POINTWISE_CHANNELS_PER_TILE [cb0, cb1) */
    void (*pointwise)(const fast_pointwise_args *a, int pb0, int pb1, int cb0, int cb1);
    void (*spatial_rows)(const fast_spatial_args *a, int oy_begin, int oy_end);
    void (*matvec)(const fast_matvec_args *a, int o_begin, int o_end);
    void (*scale_channels)(const float *x, const float *gate, float *out, int c_begin,
                           int c_end, int plane);
    /* zero-padded copy of one plane (see fast_spatial_args) */
    void (*pad_plane)(const float *x, int ih, int iw, int pad_top, int pad_left, int stride, int ph, int pw,
                      int rs, float *dst);
    /* global average pool in the CASCADE8 order, plane >= 8 */
    void (*pool_cascade8)(const float *x, int plane, int c_begin, int c_end, float *out);
    /* blocked kernels; items as described at their argument types */
    void (*cpointwise)(const fast_cpw_args *a, int item_begin, int item_end);
    int (*cpointwise_items)(const fast_cpw_args *a);
    void (*cdepthwise)(const fast_cdw_args *a, int item_begin, int item_end);
    void (*cfull)(const fast_cfull_args *a, int item_begin, int item_end);
    /* out[c] for channel blocks [cb_begin, cb_end) of a blocked plane; c < channels */
    /* order: enum mnv3_pool_order */
    void (*cpool)(const float *x, size_t cbs, int plane, int order, int channels, int cb_begin,
                  int cb_end, float *out);
    /* out = x * gate[channel] over vectors [v_begin, v_end) of a blocked value */
    void (*cscale)(const float *x, const float *gate, float *out, int channels, int plane,
                   int v_begin, int v_end);
    /* zero border of a padded blocked value (fast_cdst geometry; ih x iw inside) */
    void (*czero_border)(float *data, size_t cbs, int ncb, int ph, int pw, int pad_top, int pad_left, int ih,
                         int iw);
    /* NHWC 3-channel image -> planar, pixels [p_begin, p_end); rescale: the in-model
     * Rescaling(1/127.5, -1) as the reference computes it */
    void (*nhwc3_planar)(const float *src, float *dst, size_t plane, int rescale, size_t p_begin,
                         size_t p_end);
    /* out = in / 6 as the activations divide (exposed for tests/fast/test_div6.c) */
    void (*div6)(const float *in, float *out, int n);
} fast_isa;

#define FAST_POINTWISE_CHANNELS_PER_TILE 4
#define FAST_SPATIAL_CHANNELS_PER_BLOCK 4 /* output channels per full k x k convolution block */

const fast_isa *fast_isa_scalar(void);
const fast_isa *fast_isa_avx2(void);   /* NULL where not compiled */
const fast_isa *fast_isa_avx512(void); /* NULL where not compiled */
/* Best supported here, or the one named by name ("avx512", "avx2", "scalar");
 * NULL if name is not available. */
const fast_isa *fast_isa_select(const char *name);

/* ---- worker threads: static contiguous split of [0, n) over threads ------- */
typedef struct fast_threads fast_threads;
typedef void (*fast_task_fn)(void *ctx, int thread, int begin, int end);
fast_threads *fast_threads_create(int threads);
/* Not reentrant: one caller at a time per fast_threads. */
void fast_threads_run(fast_threads *p, int n, fast_task_fn fn, void *ctx);
void fast_threads_free(fast_threads *p);

#endif
