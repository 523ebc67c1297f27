/* Factor and profile tables. Adding a framework = adding a profile row (and,
 * if it does something new, an option to a factor plus its kernel code). */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "factors/factors.h"

typedef struct option_info {
    const char *name, *description;
} option_info;

typedef struct factor_info {
    const char *name, *description;
    int n_options;
    option_info options[6];
} factor_info;

static const factor_info factors[MNV3_FACTOR_COUNT] = {
    [MNV3_FACTOR_PADDING] = {"padding", "zero padding of stride-2 convolutions", 3,
        {{"symmetric", "(k-1)/2 on every side (torchvision Conv2dNormActivation)"},
         {"tf_same", "TF 'SAME': total = max(0,(out-1)*s+k-in), extra row/col at bottom/right"},
         {"keras_correct_pad", "stem 'SAME'; stride-2 depthwise ZeroPadding2D(correct_pad) + 'valid' "
                               "(k/2-1 before, k/2 after: Keras sees unknown sizes)"}}},
    [MNV3_FACTOR_HARDSIGMOID] = {"hardsigmoid", "SE gate: c = min(max(x+3,0),6)", 3,
        {{"div6", "c / 6 (ATen CPU)"},
         {"mul_recip6", "c * f32(1/6) (Keras applications hard_sigmoid)"},
         {"mul_0.16667", "c * f32(0.16667) (TF-slim SE gate)"}}},
    [MNV3_FACTOR_HARDSWISH] = {"hardswish", "activation x * relu6(x+3) / 6, c = relu6(x+3)", 5,
        {{"xc_div6", "(x * c) / 6 (ATen CPU)"},
         {"x_mul_c_div6", "x * (c / 6) (Keras 3 on TF: x * hard_sigmoid(x))"},
         {"x_mul_c_recip6", "x * (c * f32(1/6)) (tf-keras, Keras 3.0.0)"},
         {"xc_mul_recip6", "(x * c) * f32(1/6) (TF-slim)"},
         {"x_mul_clamp_fma", "x * clamp(fma(x, f32(1/6), 0.5), 0, 1) (LiteRT/XNNPACK HARD_SWISH, "
                             "measured bit-exact)"}}},
    [MNV3_FACTOR_BATCHNORM] = {"batchnorm", "inference BatchNorm, a = w / sqrt(var + eps)", 4,
        {{"torch_fma", "y = fma(x, a, fma(-mean, a, b)) (PyTorch CPU, measured bit-exact)"},
         {"scale_shift", "y = x*a + (b - mean*a), no fused multiply-add (tf.nn.batch_normalization)"},
         {"subtract_first", "y = (x - mean)*a + b (TF FusedBatchNorm, tf-keras)"},
         {"tf_rsqrt", "scale_shift with TF's CPU rsqrt: the hardware estimate (rsqrtps) and one "
                      "Newton step, as Eigen computes it (Keras 3; this CPU's estimate)"}}},
    [MNV3_FACTOR_CONV_ORDER] = {"conv_order", "summation order of k x k convolutions (k > 1; "
                                              "1x1 convolutions sum input channels in order)", 3,
        {{"ci_ky_kx", "input channel, then kernel row, column; multiply then add"},
         {"ky_kx_ci_fma", "kernel row, column, then input channel; fused multiply-add "
                          "(oneDNN)"},
         {"torch_cpu", "as ATen chooses at 1 thread: oneDNN's order (ky_kx_ci_fma) for depthwise "
                       "convs and when the batch has N > 1 or more than 20480 input values, "
                       "else im2col + GEMM (ci_ky_kx); measured bit-exact"}}},
    [MNV3_FACTOR_POINTWISE] = {"pointwise", "1x1 convolutions and linear layers: the sum over input "
                                            "channels, in order", 2,
        {{"mul_add", "multiply, round, add, round (PyTorch CPU on spatial maps, measured bit-exact)"},
         {"fma", "fused multiply-add (XNNPACK)"}}},
    [MNV3_FACTOR_BIAS] = {"bias", "where a convolution/linear bias enters the sum", 3,
        {{"separate_add", "sum the products, then add the bias"},
         {"in_accumulator", "start the sum at the bias"},
         {"torch_cpu", "convolutions start at the bias (slow_conv2d copies it into the output "
                       "before GEMM), linear layers add it last (addmm): PyTorch CPU with "
                       "reference BLAS, measured bit-exact"}}},
    [MNV3_FACTOR_POOL_SUM] = {"pool_sum", "summation order of global average pooling (sum / N)", 3,
        {{"sequential", "left to right over H*W"},
         {"pairwise", "pairwise (tree) summation"},
         {"aten_cascade8", "ATen's cascade sum over 8-float vectors, scalar tail first, then the "
                           "lanes (PyTorch CPU at AVX2 width, measured bit-exact)"}}},
    [MNV3_FACTOR_ACCUMULATE] = {"accumulate", "precision of every sum and formula", 2,
        {{"f32", "float32, as the frameworks"},
         {"f64", "float64 accumulation, rounded once per output: a reference for measuring error"}}},
    [MNV3_FACTOR_INPUT_RESCALE] = {"input_rescale", "preprocessing inside the model", 2,
        {{"none", "input is already normalised"},
         {"keras_rescaling", "Rescaling(1/127.5, -1): x * f32(1/127.5) + (-1)"}}},
    [MNV3_FACTOR_OUTPUT] = {"output", "what the classifier returns", 2,
        {{"logits", "raw logits (torchvision)"},
         {"softmax", "softmax: exp(x - max) * (1 / sum) (Keras classifier_activation)"}}},
    [MNV3_FACTOR_LAYOUT] = {"layout", "default input layout of the framework", 2,
        {{"nchw", "N, C, H, W (PyTorch)"},
         {"nhwc", "N, H, W, C (TensorFlow)"}}},
};

static const mnv3_profile profiles[] = {
    {"torch", "torchvision mobilenet_v3_small, PyTorch CPU, eval mode",
     {[MNV3_FACTOR_PADDING] = MNV3_PAD_SYMMETRIC,
      [MNV3_FACTOR_HARDSIGMOID] = MNV3_HSIG_DIV6,
      [MNV3_FACTOR_HARDSWISH] = MNV3_HSWISH_XC_DIV6,
      [MNV3_FACTOR_BATCHNORM] = MNV3_BN_TORCH_FMA,
      [MNV3_FACTOR_CONV_ORDER] = MNV3_CONV_TORCH_CPU,
      [MNV3_FACTOR_BIAS] = MNV3_BIAS_TORCH_CPU,
      [MNV3_FACTOR_POOL_SUM] = MNV3_POOL_ATEN_CASCADE8,
      [MNV3_FACTOR_ACCUMULATE] = MNV3_ACCUMULATE_F32,
      [MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_NONE,
      [MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_LOGITS,
      [MNV3_FACTOR_LAYOUT] = MNV3_LAYOUT_NCHW}},
    {"keras", "Keras 3 keras.applications.MobileNetV3Small, TensorFlow backend, CPU, inference",
     {[MNV3_FACTOR_PADDING] = MNV3_PAD_KERAS_CORRECT_PAD,
      [MNV3_FACTOR_HARDSIGMOID] = MNV3_HSIG_MUL_RECIP6,
      [MNV3_FACTOR_HARDSWISH] = MNV3_HSWISH_X_MUL_C_DIV6,
      [MNV3_FACTOR_BATCHNORM] = MNV3_BN_TF_RSQRT,
      [MNV3_FACTOR_CONV_ORDER] = MNV3_CONV_KY_KX_CI_FMA,
      [MNV3_FACTOR_BIAS] = MNV3_BIAS_SEPARATE_ADD,
      [MNV3_FACTOR_POOL_SUM] = MNV3_POOL_SEQUENTIAL,
      [MNV3_FACTOR_ACCUMULATE] = MNV3_ACCUMULATE_F32,
      [MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_KERAS,
      [MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_SOFTMAX,
      [MNV3_FACTOR_LAYOUT] = MNV3_LAYOUT_NHWC}},
    {"tf-keras", "Keras 2 (tf-keras) keras.applications.MobileNetV3Small, fused BatchNorm, CPU",
     {[MNV3_FACTOR_PADDING] = MNV3_PAD_KERAS_CORRECT_PAD,
      [MNV3_FACTOR_HARDSIGMOID] = MNV3_HSIG_MUL_RECIP6,
      [MNV3_FACTOR_HARDSWISH] = MNV3_HSWISH_X_MUL_C_RECIP6,
      [MNV3_FACTOR_BATCHNORM] = MNV3_BN_SUBTRACT_FIRST,
      [MNV3_FACTOR_BIAS] = MNV3_BIAS_SEPARATE_ADD,
      [MNV3_FACTOR_POOL_SUM] = MNV3_POOL_SEQUENTIAL,
      [MNV3_FACTOR_ACCUMULATE] = MNV3_ACCUMULATE_F32,
      [MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_KERAS,
      [MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_SOFTMAX,
      [MNV3_FACTOR_LAYOUT] = MNV3_LAYOUT_NHWC}},
    {"litert", "LiteRT (XNNPACK) running a float TFLite model, BatchNorm folded",
     {[MNV3_FACTOR_PADDING] = MNV3_PAD_TF_SAME,
      [MNV3_FACTOR_HARDSIGMOID] = MNV3_HSIG_MUL_RECIP6,
      [MNV3_FACTOR_HARDSWISH] = MNV3_HSWISH_X_MUL_CLAMP_FMA,
      [MNV3_FACTOR_BATCHNORM] = MNV3_BN_SCALE_SHIFT,
      [MNV3_FACTOR_CONV_ORDER] = MNV3_CONV_KY_KX_CI_FMA,
      [MNV3_FACTOR_POINTWISE] = MNV3_POINTWISE_FMA,
      [MNV3_FACTOR_BIAS] = MNV3_BIAS_IN_ACCUMULATOR,
      [MNV3_FACTOR_POOL_SUM] = MNV3_POOL_SEQUENTIAL,
      [MNV3_FACTOR_ACCUMULATE] = MNV3_ACCUMULATE_F32,
      [MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_KERAS,
      [MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_SOFTMAX, /* a Keras-converted classifier ends in SOFTMAX */
      [MNV3_FACTOR_LAYOUT] = MNV3_LAYOUT_NHWC}},
    {"timm-tf", "timm tf_mobilenetv3_small_100: TF 'SAME' padding inside PyTorch",
     {[MNV3_FACTOR_PADDING] = MNV3_PAD_TF_SAME,
      [MNV3_FACTOR_HARDSIGMOID] = MNV3_HSIG_DIV6,
      [MNV3_FACTOR_HARDSWISH] = MNV3_HSWISH_XC_DIV6,
      [MNV3_FACTOR_BATCHNORM] = MNV3_BN_TORCH_FMA,
      [MNV3_FACTOR_CONV_ORDER] = MNV3_CONV_KY_KX_CI_FMA,
      [MNV3_FACTOR_BIAS] = MNV3_BIAS_SEPARATE_ADD,
      [MNV3_FACTOR_POOL_SUM] = MNV3_POOL_SEQUENTIAL,
      [MNV3_FACTOR_ACCUMULATE] = MNV3_ACCUMULATE_F32,
      [MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_NONE,
      [MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_LOGITS,
      [MNV3_FACTOR_LAYOUT] = MNV3_LAYOUT_NCHW}},
};

int mnv3_factor_count(void) { return MNV3_FACTOR_COUNT; }

static int valid_factor(int f) { return f >= 0 && f < MNV3_FACTOR_COUNT; }

const char *mnv3_factor_name(int f) { return valid_factor(f) ? factors[f].name : NULL; }
const char *mnv3_factor_description(int f) {
    return valid_factor(f) ? factors[f].description : NULL;
}
int mnv3_factor_option_count(int f) { return valid_factor(f) ? factors[f].n_options : 0; }

const char *mnv3_factor_option_name(int f, int o) {
    return valid_factor(f) && o >= 0 && o < factors[f].n_options ? factors[f].options[o].name
                                                                : NULL;
}

const char *mnv3_factor_option_description(int f, int o) {
    return valid_factor(f) && o >= 0 && o < factors[f].n_options
               ? factors[f].options[o].description
               : NULL;
}

int mnv3_factor_find(const char *name) {
    for (int f = 0; f < MNV3_FACTOR_COUNT; f++)
        if (strcmp(factors[f].name, name) == 0) return f;
    return -1;
}

int mnv3_factor_option_find(int f, const char *option) {
    if (!valid_factor(f)) return -1;
    for (int o = 0; o < factors[f].n_options; o++)
        if (strcmp(factors[f].options[o].name, option) == 0) return o;
    return -1;
}

int mnv3_profile_count(void) { return (int)(sizeof profiles / sizeof profiles[0]); }

const mnv3_profile *mnv3_profile_at(int i) {
    return i >= 0 && i < mnv3_profile_count() ? &profiles[i] : NULL;
}

const mnv3_profile *mnv3_profile_find(const char *name) {
    for (int i = 0; i < mnv3_profile_count(); i++)
        if (strcmp(profiles[i].name, name) == 0) return &profiles[i];
    return NULL;
}

int mnv3_profile_set(mnv3_profile *p, const char *assignment, mnv3_error *err) {
    const char *eq = strchr(assignment, '=');
    char factor[64];
    if (!eq || (size_t)(eq - assignment) >= sizeof factor)
        return mnv3_fail(err, NULL, "'%s': expected factor=option", assignment);
    memcpy(factor, assignment, (size_t)(eq - assignment));
    factor[eq - assignment] = 0;
    int f = mnv3_factor_find(factor);
    if (f < 0) return mnv3_fail(err, NULL, "unknown factor '%s' (see mnv3 profiles)", factor);
    int o = mnv3_factor_option_find(f, eq + 1);
    if (o < 0)
        return mnv3_fail(err, NULL, "factor '%s' has no option '%s' (see mnv3 profiles)", factor,
                         eq + 1);
    p->option[f] = o;
    return MNV3_OK;
}
