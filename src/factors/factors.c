/* Factor and profile tables. Adding a framework = adding a profile row (and,
 * if it does something new, an option to a factor plus its kernel code). */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "factors/factors.h"
#include "train/optim.h"

typedef struct option_info {
    const char *name, *description;
} option_info;

typedef struct factor_info {
    const char *name, *description;
    int n_options;
    const option_info *options;
} factor_info;

/* One options array per factor, indexed by its enum; the static assertion ties
 * the array's length to the enum's _COUNT. */
#define OPTIONS(var, count, ...)                                                               \
    static const option_info var[] = {__VA_ARGS__};                                           \
    _Static_assert(sizeof var / sizeof var[0] == (count), #var " must list every option of " #count)

OPTIONS(padding_options, MNV3_PAD_COUNT,
    [MNV3_PAD_SYMMETRIC] = {"symmetric", "(k-1)/2 on every side (torchvision Conv2dNormActivation)"},
    [MNV3_PAD_TF_SAME] = {"tf_same", "TF 'SAME': total = max(0,(out-1)*s+k-in), extra row/col at bottom/right"},
    [MNV3_PAD_KERAS_CORRECT_PAD] = {"keras_correct_pad",
        "stem 'SAME'; stride-2 depthwise ZeroPadding2D(correct_pad) + 'valid' "
        "(k/2-1 before, k/2 after: Keras sees unknown sizes)"});
OPTIONS(hardsigmoid_options, MNV3_HSIG_COUNT,
    [MNV3_HSIG_DIV6] = {"div6", "c / 6 (ATen CPU)"},
    [MNV3_HSIG_MUL_RECIP6] = {"mul_recip6", "c * f32(1/6) (Keras applications hard_sigmoid)"},
    [MNV3_HSIG_MUL_0_16667] = {"mul_0.16667", "c * f32(0.16667) (TF-slim SE gate)"});
OPTIONS(hardswish_options, MNV3_HSWISH_COUNT,
    [MNV3_HSWISH_XC_DIV6] = {"xc_div6", "(x * c) / 6 (ATen CPU)"},
    [MNV3_HSWISH_X_MUL_C_DIV6] = {"x_mul_c_div6", "x * (c / 6) (Keras 3 on TF: x * hard_sigmoid(x))"},
    [MNV3_HSWISH_X_MUL_C_RECIP6] = {"x_mul_c_recip6", "x * (c * f32(1/6)) (tf-keras, Keras 3.0.0)"},
    [MNV3_HSWISH_XC_MUL_RECIP6] = {"xc_mul_recip6", "(x * c) * f32(1/6) (TF-slim)"},
    [MNV3_HSWISH_X_MUL_CLAMP_FMA] = {"x_mul_clamp_fma",
        "x * clamp(fma(x, f32(1/6), 0.5), 0, 1) (LiteRT/XNNPACK HARD_SWISH, measured bit-exact)"});
OPTIONS(batchnorm_options, MNV3_BN_COUNT,
    [MNV3_BN_TORCH_FMA] = {"torch_fma", "y = fma(x, a, fma(-mean, a, b)) (PyTorch CPU, measured bit-exact)"},
    [MNV3_BN_SCALE_SHIFT] = {"scale_shift",
        "y = x*a + (b - mean*a), no fused multiply-add (tf.nn.batch_normalization)"},
    [MNV3_BN_SUBTRACT_FIRST] = {"subtract_first", "y = (x - mean)*a + b (TF FusedBatchNorm, tf-keras)"},
    [MNV3_BN_TF_RSQRT] = {"tf_rsqrt",
        "scale_shift with TF's CPU rsqrt: the hardware estimate (rsqrtps) and one Newton step, "
        "as Eigen computes it (Keras 3; this CPU's estimate)"});
OPTIONS(conv_order_options, MNV3_CONV_COUNT,
    [MNV3_CONV_CI_KY_KX] = {"ci_ky_kx", "input channel, then kernel row, column; multiply then add"},
    [MNV3_CONV_KY_KX_CI_FMA] = {"ky_kx_ci_fma",
        "kernel row, column, then input channel; fused multiply-add (oneDNN)"},
    [MNV3_CONV_TORCH_CPU] = {"torch_cpu",
        "as ATen chooses at 1 thread: oneDNN's order (ky_kx_ci_fma) for depthwise convs and when "
        "the batch has N > 1 or more than 20480 input values, else im2col + GEMM (ci_ky_kx); "
        "measured bit-exact"});
OPTIONS(pointwise_options, MNV3_POINTWISE_COUNT,
    [MNV3_POINTWISE_MUL_ADD] = {"mul_add",
        "multiply, round, add, round (PyTorch CPU on spatial maps, measured bit-exact)"},
    [MNV3_POINTWISE_FMA] = {"fma", "fused multiply-add (XNNPACK)"});
OPTIONS(bias_options, MNV3_BIAS_COUNT,
    [MNV3_BIAS_SEPARATE_ADD] = {"separate_add", "sum the products, then add the bias"},
    [MNV3_BIAS_IN_ACCUMULATOR] = {"in_accumulator", "start the sum at the bias"},
    [MNV3_BIAS_TORCH_CPU] = {"torch_cpu",
        "convolutions start at the bias (slow_conv2d copies it into the output before GEMM), "
        "linear layers add it last (addmm): PyTorch CPU with reference BLAS, measured bit-exact"});
OPTIONS(pool_sum_options, MNV3_POOL_COUNT,
    [MNV3_POOL_SEQUENTIAL] = {"sequential", "left to right over H*W"},
    [MNV3_POOL_PAIRWISE] = {"pairwise", "pairwise (tree) summation"},
    [MNV3_POOL_ATEN_CASCADE8] = {"aten_cascade8",
        "ATen's cascade sum over 8-float vectors, scalar tail first, then the lanes (PyTorch CPU "
        "at AVX2 width, measured bit-exact)"});
OPTIONS(accumulate_options, MNV3_ACCUMULATE_COUNT,
    [MNV3_ACCUMULATE_F32] = {"f32", "float32, as the frameworks"},
    [MNV3_ACCUMULATE_F64] = {"f64",
        "float64 accumulation, rounded once per output: a reference for measuring error"});
OPTIONS(input_rescale_options, MNV3_RESCALE_COUNT,
    [MNV3_RESCALE_NONE] = {"none", "input is already normalised"},
    [MNV3_RESCALE_KERAS] = {"keras_rescaling", "Rescaling(1/127.5, -1): x * f32(1/127.5) + (-1)"});
OPTIONS(output_options, MNV3_OUTPUT_COUNT,
    [MNV3_OUTPUT_LOGITS] = {"logits", "raw logits (torchvision)"},
    [MNV3_OUTPUT_SOFTMAX] = {"softmax", "softmax: exp(x - max) * (1 / sum) (Keras classifier_activation)"});
OPTIONS(layout_options, MNV3_LAYOUT_COUNT,
    [MNV3_LAYOUT_NCHW] = {"nchw", "N, C, H, W (PyTorch)"},
    [MNV3_LAYOUT_NHWC] = {"nhwc", "N, H, W, C (TensorFlow)"});
OPTIONS(requantize_options, MNV3_REQUANTIZE_COUNT,
    [MNV3_REQUANTIZE_DOUBLE_ROUND] = {"double_round",
        "MultiplyByQuantizedMultiplier rounding twice: saturating rounding doubling high multiply, "
        "then rounding divide by a power of two (TFLite reference kernels, default build)"},
    [MNV3_REQUANTIZE_SINGLE_ROUND] = {"single_round",
        "(x * m + 2^(30-shift)) >> (31-shift) in 64 bits, one rounding, ties up (TFLITE_SINGLE_ROUNDING; "
        "XNNPACK's rndnu)"},
    [MNV3_REQUANTIZE_DOUBLE_ROUND_SHIFT_UP] = {"double_round_shift_up",
        "saturating rounding doubling high multiply, then a right shift rounding ties up "
        "(TFLite optimized depthwise kUpward)"},
    [MNV3_REQUANTIZE_DOUBLE_ROUND_UP] = {"double_round_up",
        "doubling high multiply rounding ties up, then a right shift rounding ties up"},
    [MNV3_REQUANTIZE_FP32] = {"fp32",
        "float(acc) * float32 scale (input * filter / output scales in float), lrintf (ties to even) "
        "(XNNPACK qu8/qs8 fp32 requantization; CONV_2D, DEPTHWISE_CONV_2D, MUL)"},
    [MNV3_REQUANTIZE_HIGH_UP_SHIFT_AWAY] = {"high_up_shift_away",
        "doubling high multiply rounding ties up (vqrdmulh), then RoundingDivideByPOT (ties away "
        "from zero): TFLite's vectorised (NEON, NEON_2_SSE on x86) optimized kernels"});
OPTIONS(uint8_filters_options, MNV3_UINT8_FILTERS_COUNT,
    [MNV3_UINT8_FILTERS_ACCEPTED] = {"accepted", "uint8 convolution filters run"},
    [MNV3_UINT8_FILTERS_REFUSED_HYBRID] = {"refused_hybrid",
        "a CONV_2D whose filter is uint8 is refused as a hybrid model (TFLite Micro's conv_common.cc, "
        "measured with tflite-micro on the TF-slim uint8 model)"});
OPTIONS(add_rescale_options, MNV3_ADD_RESCALE_COUNT,
    [MNV3_ADD_RESCALE_LEFT_SHIFT_20] = {"left_shift_20",
        "inputs shifted left 20 bits, each rescaled to twice the larger input scale, the sum rescaled "
        "to the output: three requantizations (TFLite add.cc / reference add.h)"},
    [MNV3_ADD_RESCALE_MULTIPLIERS_21BIT] = {"multipliers_21bit",
        "a * ma + b * mb + bias in int32, ma, mb = lrintf((scale / output scale) * 2^shift) with "
        "shift = 20 - exponent of the larger, one arithmetic right shift rounding ties up "
        "(XNNPACK qu8/qs8 vadd)"});
OPTIONS(elementwise_vector_options, MNV3_ELEMENTWISE_VECTOR_COUNT,
    [MNV3_ELEMENTWISE_SCALAR] = {"scalar", "every ADD/MUL element as the scalar formula"},
    [MNV3_ELEMENTWISE_NEON_8] = {"neon_8",
        "whole runs of 8 in the innermost broadcast run take the vector form: MUL rounds the high "
        "multiply ties up (vqrdmulh); ADD also rescales each input with vqrdmulh and a truncating "
        "shift; the rest of the run takes the scalar formula (TFLite optimized_ops with NEON, "
        "NEON_2_SSE on x86)"});
OPTIONS(bn_batch_stats_options, MNV3_BN_BATCH_STATS_COUNT,
    [MNV3_BN_BATCH_STATS_ATEN] = {"aten",
        "double sums in order (sample, then position), deviations squared in float; N x C x 1 x 1 "
        "maps take the channels-last path (float sums, fused variance term); one value per "
        "channel is refused (PyTorch CPU, 1 thread)"},
    [MNV3_BN_BATCH_STATS_TF_MOMENTS] = {"tf_moments",
        "tf.nn.moments: Eigen's outer reduction (4 accumulators from 16 rows), sum / count"},
    [MNV3_BN_BATCH_STATS_TF_FUSED] = {"tf_fused",
        "FusedBatchNormV3 (CPU, Eigen): the same sums times 1/count"});
OPTIONS(bn_train_apply_options, MNV3_BN_TRAIN_APPLY_COUNT,
    [MNV3_BN_TRAIN_APPLY_TORCH_FMA] = {"torch_fma",
        "invstd = 1/sqrt(var + eps) in double (eps as the decimal written), "
        "y = fma(x, a, fma(-mean, a, b)) (PyTorch CPU)"},
    [MNV3_BN_TRAIN_APPLY_TF_SCALE_SHIFT] = {"tf_scale_shift",
        "a = rsqrt(var + eps) * w (TF's estimate on whole 8-channel packets, 1/sqrt past them), "
        "y = x * a + (b - mean * a) (tf.nn.batch_normalization, Keras 3)"},
    [MNV3_BN_TRAIN_APPLY_TF_SUBTRACT_FIRST] = {"tf_subtract_first",
        "the same a, y = (x - mean) * a + b (FusedBatchNormV3, tf-keras)"});
OPTIONS(bn_momentum_options, MNV3_BN_MOMENTUM_COUNT,
    [MNV3_BN_MOMENTUM_TORCH] = {"torch",
        "momentum m weights the batch: r = m * batch + (1 - m) * r, the variance update in double; "
        "counts batches (num_batches_tracked); MobileNetV3 default 0.01"},
    [MNV3_BN_MOMENTUM_KERAS] = {"keras",
        "momentum m weights the old value: r = r * m + batch * (1 - m) (Keras 3); default 0.999"},
    [MNV3_BN_MOMENTUM_TF_FUSED] = {"tf_fused",
        "m weights the old value, f = 1 - m: r = (1 - f) * r + (f * adjust) * batch "
        "(FusedBatchNormV3's exponential_avg_factor, tf-keras); default 0.999"});
OPTIONS(bn_update_variance_options, MNV3_BN_UPDATE_VARIANCE_COUNT,
    [MNV3_BN_UPDATE_VARIANCE_UNBIASED] = {"unbiased",
        "running variance updated with the unbiased (Bessel-corrected) batch variance"},
    [MNV3_BN_UPDATE_VARIANCE_BIASED] = {"biased", "running variance updated with the biased batch variance"});
OPTIONS(activation_grad_options, MNV3_ACTIVATION_GRAD_COUNT,
    [MNV3_ACTIVATION_GRAD_ATEN_1_13] = {"aten_1_13",
        "hardswish' = x / 3 + 0.5 on [-3, 3] (-0.5 at -3, 1.5 at +3), hardsigmoid' = dy * f32(1/6) on "
        "(-3, 3) (PyTorch CPU before pytorch#147801; Debian torch 1.13.1, measured)"},
    [MNV3_ACTIVATION_GRAD_ATEN_OPEN] = {"aten_open",
        "hardswish' = x / 3 + 0.5 on (-3, 3), 0 below, 1 from +3 (PyTorch after pytorch#147801)"},
    [MNV3_ACTIVATION_GRAD_TF_AUTODIFF] = {"tf_autodiff",
        "the forward formula differentiated by TF: x * h(x) gives dy * h(x) + dy * x * h'(x), "
        "relu6' = [0 < x + 3 < 6] (0 at -3, 1 at +3)"});
OPTIONS(loss_reduction_options, MNV3_LOSS_REDUCTION_COUNT,
    [MNV3_LOSS_REDUCTION_WEIGHTED_MEAN] = {"weighted_mean",
        "sum of w[y] * loss / sum of w[y] (PyTorch CrossEntropyLoss, reduction='mean')"},
    [MNV3_LOSS_REDUCTION_SUM_OVER_BATCH_SIZE] = {"sum_over_batch_size",
        "sum of w * loss / batch size (Keras losses, sample weights included)"});
OPTIONS(dropout_apply_options, MNV3_DROPOUT_APPLY_COUNT,
    [MNV3_DROPOUT_APPLY_MULTIPLY_NOISE] = {"multiply_noise",
        "x * noise, noise = keep / f32(1 - p): a dropped negative x gives -0 (PyTorch CPU)"},
    [MNV3_DROPOUT_APPLY_SELECT_SCALED] = {"select_scaled",
        "keep ? x * f32(1 / (1 - rate)) : +0 (Keras 3 / TF)"});
OPTIONS(dropout_rng_options, MNV3_DROPOUT_RNG_COUNT,
    [MNV3_DROPOUT_RNG_TORCH_MT19937] = {"torch_mt19937",
        "torch.manual_seed(seed): mt19937, two words per element, keep when 53 bits * 2^-53 < 1 - p "
        "(PyTorch CPU without MKL; docs/dropout.md)"},
    [MNV3_DROPOUT_RNG_KERAS_SEED_GENERATOR] = {"keras_seed_generator",
        "Dropout(rate, seed=seed): SeedGenerator state [seed, call], Philox stateless uniforms, "
        "keep when u >= rate (Keras 3 on TF, eager and model.fit on CPU)"},
    [MNV3_DROPOUT_RNG_TF_LEGACY] = {"tf_legacy",
        "tf-keras Dropout(rate, seed=seed): TF's stateful RandomUniform (Philox keyed by the default "
        "global seed, counter moving n*256 blocks per call)"});

OPTIONS(optim_sgd_options, MNV3_OPTIM_SGD_COUNT,
    [MNV3_OPTIM_SGD_TORCH] = {"torch",
        "velocity of gradients: v = mu*v + (1-dampening)*g (first step v = g), p -= lr*v; "
        "nesterov p -= lr*(g + mu*v) (torch.optim.SGD, single-tensor path)"},
    [MNV3_OPTIM_SGD_KERAS] = {"keras",
        "velocity of steps: m = m*mu - g*lr, p += m; nesterov p += m*mu - g*lr; no dampening "
        "(Keras 3)"},
    [MNV3_OPTIM_SGD_TF_KERAS] = {"tf_keras",
        "as keras, and the momentum slot is kept and updated at momentum 0 too: m = -g*lr + m*0 "
        "(tf-keras; the weights are the same)"});
OPTIONS(optim_adam_options, MNV3_OPTIM_ADAM_COUNT,
    [MNV3_OPTIM_ADAM_TORCH] = {"torch",
        "m = m*b1 + (1-b1)*g, v = v*b2 + (1-b2)*g*g; p -= (lr/(1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps): "
        "eps after the bias correction (torch.optim.Adam/AdamW)"},
    [MNV3_OPTIM_ADAM_KERAS] = {"keras",
        "m += (g-m)*(1-b1), v += (g*g-v)*(1-b2); alpha = lr*sqrt(1-b2^t)/(1-b1^t); "
        "p -= m*alpha / (sqrt(v) + eps): eps on the uncorrected sqrt(v) (Keras 3, tf-keras)"});
OPTIONS(optim_rmsprop_options, MNV3_OPTIM_RMSPROP_COUNT,
    [MNV3_OPTIM_RMSPROP_TORCH] = {"torch",
        "v = a*v + (1-a)*g*g; p -= lr*g / (sqrt(v [- mean_g^2]) + eps): eps outside the root; "
        "momentum b = mu*b + g/(..), p -= lr*b (torch.optim.RMSprop)"},
    [MNV3_OPTIM_RMSPROP_KERAS] = {"keras",
        "v = rho*v + (1-rho)*g*g; p -= lr*g / sqrt(v [- mean_g^2] + eps): eps inside the root; "
        "momentum b = mu*b + lr*g/sqrt(..), p -= b (Keras 3)"},
    [MNV3_OPTIM_RMSPROP_TF_KERAS] = {"tf_keras",
        "as keras with lr*g * rsqrt(v + eps): TF's rsqrt estimate and one Newton step on whole "
        "8-float packets, 1/sqrt on the tail (tf-keras)"});
OPTIONS(optim_weight_decay_options, MNV3_OPTIM_WEIGHT_DECAY_COUNT,
    [MNV3_OPTIM_WEIGHT_DECAY_TORCH] = {"torch",
        "coupled L2 g += wd*p for SGD, Adam, RMSprop; AdamW decoupled p *= 1 - lr*wd (PyTorch)"},
    [MNV3_OPTIM_WEIGHT_DECAY_KERAS] = {"keras",
        "decoupled for every optimizer, before the update: p -= p*wd*lr (Keras 3, tf-keras)"});
OPTIONS(optim_scalars_options, MNV3_OPTIM_SCALARS_COUNT,
    [MNV3_OPTIM_SCALARS_F64] = {"f64",
        "hyper-parameter arithmetic (1-b1, lr/(1-b1^t), lr*wd) in double (python floats), rounded to "
        "float32 where it meets a tensor (PyTorch)"},
    [MNV3_OPTIM_SCALARS_F32] = {"f32",
        "every scalar is a float32 tensor: powf, sqrtf, each op rounded (Keras on TensorFlow)"});
OPTIONS(optim_defaults_options, MNV3_OPTIM_DEFAULTS_COUNT,
    [MNV3_OPTIM_DEFAULTS_TORCH] = {"torch",
        "eps 1e-8; RMSprop lr 0.01, alpha 0.99; Adam(W) lr 1e-3, betas 0.9/0.999; AdamW wd 0.01; "
        "SGD has no default lr (torch 1.13)"},
    [MNV3_OPTIM_DEFAULTS_KERAS] = {"keras",
        "eps 1e-7; RMSprop lr 1e-3, rho 0.9; Adam(W) lr 1e-3, betas 0.9/0.999; AdamW wd 0.004; "
        "SGD lr 0.01 (Keras 3, tf-keras)"});
OPTIONS(lr_schedule_options, MNV3_LR_SCHEDULE_COUNT,
    [MNV3_LR_SCHEDULE_TORCH] = {"torch",
        "chainable schedulers in double, each lr from the previous one: StepLR, ExponentialLR, "
        "MultiStepLR, CosineAnnealingLR's recursive form (torch.optim.lr_scheduler)"},
    [MNV3_LR_SCHEDULE_KERAS] = {"keras",
        "closed forms in float32 tensors from the step count: ExponentialDecay (staircase), "
        "PiecewiseConstantDecay, CosineDecay (Keras 3, tf-keras)"});
OPTIONS(optim_tf_graph_options, MNV3_OPTIM_TF_GRAPH_COUNT,
    [MNV3_OPTIM_TF_GRAPH_EAGER] = {"eager", "the float32 update ops as written, each rounded (eager TensorFlow)"},
    [MNV3_OPTIM_TF_GRAPH_GRAPPLER] = {"grappler",
        "inside a tf.function (model.fit), as TF's graph optimizer rewrites them (measured): "
        "p*wd*lr -> p*(wd*lr); lr*g/sqrt(d) -> g*(lr*rsqrt(d)) with TF's rsqrt; x/const -> x*(1/const) "
        "in schedules"});

#define FACTOR(id, name, description, options) [id] = {name, description, sizeof options / sizeof options[0], options}
static const factor_info factors[MNV3_FACTOR_COUNT] = {
    FACTOR(MNV3_FACTOR_PADDING, "padding", "zero padding of stride-2 convolutions", padding_options),
    FACTOR(MNV3_FACTOR_HARDSIGMOID, "hardsigmoid", "SE gate: c = min(max(x+3,0),6)", hardsigmoid_options),
    FACTOR(MNV3_FACTOR_HARDSWISH, "hardswish", "activation x * relu6(x+3) / 6, c = relu6(x+3)",
           hardswish_options),
    FACTOR(MNV3_FACTOR_BATCHNORM, "batchnorm", "inference BatchNorm, a = w / sqrt(var + eps)",
           batchnorm_options),
    FACTOR(MNV3_FACTOR_CONV_ORDER, "conv_order",
           "summation order of k x k convolutions (k > 1; 1x1 convolutions sum input channels in order)",
           conv_order_options),
    FACTOR(MNV3_FACTOR_POINTWISE, "pointwise",
           "1x1 convolutions and linear layers: the sum over input channels, in order", pointwise_options),
    FACTOR(MNV3_FACTOR_BIAS, "bias", "where a convolution/linear bias enters the sum", bias_options),
    FACTOR(MNV3_FACTOR_POOL_SUM, "pool_sum", "summation order of global average pooling (sum / N)",
           pool_sum_options),
    FACTOR(MNV3_FACTOR_ACCUMULATE, "accumulate", "precision of every sum and formula", accumulate_options),
    FACTOR(MNV3_FACTOR_INPUT_RESCALE, "input_rescale", "preprocessing inside the model", input_rescale_options),
    FACTOR(MNV3_FACTOR_OUTPUT, "output", "what the classifier returns", output_options),
    FACTOR(MNV3_FACTOR_LAYOUT, "layout", "default input layout of the framework", layout_options),
    FACTOR(MNV3_FACTOR_REQUANTIZE, "requantize",
           "integer models: rescaling an int32 accumulator by a quantized multiplier",
           requantize_options),
    FACTOR(MNV3_FACTOR_REQUANTIZE_DEPTHWISE, "requantize_depthwise",
           "integer models: the same for DEPTHWISE_CONV_2D", requantize_options),
    FACTOR(MNV3_FACTOR_REQUANTIZE_ELEMENTWISE, "requantize_elementwise",
           "integer models: the same for ADD and MUL", requantize_options),
    FACTOR(MNV3_FACTOR_UINT8_FILTERS, "uint8_filters", "integer models: whether uint8 filters are run",
           uint8_filters_options),
    FACTOR(MNV3_FACTOR_ADD_RESCALE, "add_rescale", "integer models: how ADD brings both inputs to the output scale",
           add_rescale_options),
    FACTOR(MNV3_FACTOR_ELEMENTWISE_VECTOR, "elementwise_vector",
           "integer models: which ADD/MUL elements take a vector kernel's rounding", elementwise_vector_options),
    FACTOR(MNV3_FACTOR_BN_BATCH_STATS, "bn_batch_stats",
           "training BatchNorm: how the batch mean and variance are summed", bn_batch_stats_options),
    FACTOR(MNV3_FACTOR_BN_TRAIN_APPLY, "bn_train_apply",
           "training BatchNorm: normalising with the batch statistics", bn_train_apply_options),
    FACTOR(MNV3_FACTOR_BN_MOMENTUM, "bn_momentum",
           "training BatchNorm: the running-statistics update and what momentum means", bn_momentum_options),
    FACTOR(MNV3_FACTOR_BN_UPDATE_VARIANCE, "bn_update_variance",
           "training BatchNorm: which batch variance updates the running variance",
           bn_update_variance_options),
    FACTOR(MNV3_FACTOR_ACTIVATION_GRAD, "activation_grad",
           "backward: hard-swish and hard-sigmoid gradients, at their kinks too", activation_grad_options),
    FACTOR(MNV3_FACTOR_LOSS_REDUCTION, "loss_reduction", "cross-entropy: how the batch's losses are reduced",
           loss_reduction_options),
    FACTOR(MNV3_FACTOR_DROPOUT_APPLY, "dropout_apply", "training dropout: how the mask multiplies",
           dropout_apply_options),
    FACTOR(MNV3_FACTOR_DROPOUT_RNG, "dropout_rng", "training dropout: the generator a seed drives",
           dropout_rng_options),
    FACTOR(MNV3_FACTOR_OPTIM_SGD, "optim_sgd", "SGD: the momentum form and Nesterov", optim_sgd_options),
    FACTOR(MNV3_FACTOR_OPTIM_ADAM, "optim_adam",
           "Adam/AdamW: moment updates, bias correction and where epsilon sits", optim_adam_options),
    FACTOR(MNV3_FACTOR_OPTIM_RMSPROP, "optim_rmsprop", "RMSprop: epsilon inside or outside the root",
           optim_rmsprop_options),
    FACTOR(MNV3_FACTOR_OPTIM_WEIGHT_DECAY, "optim_weight_decay", "weight decay: coupled L2 or decoupled",
           optim_weight_decay_options),
    FACTOR(MNV3_FACTOR_OPTIM_SCALARS, "optim_scalars", "precision of the optimizers' scalar arithmetic",
           optim_scalars_options),
    FACTOR(MNV3_FACTOR_OPTIM_DEFAULTS, "optim_defaults", "the optimizers' default hyper-parameters",
           optim_defaults_options),
    FACTOR(MNV3_FACTOR_LR_SCHEDULE, "lr_schedule", "learning-rate schedules: formula and precision",
           lr_schedule_options),
    FACTOR(MNV3_FACTOR_OPTIM_TF_GRAPH, "optim_tf_graph",
           "float32 optimizer ops run eagerly or rewritten by TensorFlow's graph optimizer",
           optim_tf_graph_options),
};
#undef FACTOR
_Static_assert(MNV3_FACTOR_COUNT <= MNV3_MAX_FACTORS, "mnv3_profile.option holds every factor");
_Static_assert(MNV3_FACTOR_COUNT <= 8 * sizeof(mnv3_factor_set), "a mnv3_factor_set holds every factor");

/* A profile row names every factor once: X(FACTOR, OPTION) per factor. The
 * count is asserted at compile time, a factor named twice is a duplicate
 * initializer (an error with the project's warnings). */
#define SET_OPTION(factor, option) [MNV3_FACTOR_##factor] = option,
#define COUNT_ONE(factor, option) +1
#define PROFILE(name, description, ROW)                                                        \
    {name, description, {ROW(SET_OPTION)}}
#define CHECK_ROW(ROW) _Static_assert(0 ROW(COUNT_ONE) == MNV3_FACTOR_COUNT, #ROW " names every factor")

/* The backward pass and the loss. */
#define TORCH_BACKWARD(X)                                                                      \
    X(ACTIVATION_GRAD, MNV3_ACTIVATION_GRAD_ATEN_1_13) X(LOSS_REDUCTION, MNV3_LOSS_REDUCTION_WEIGHTED_MEAN)    \
    X(DROPOUT_APPLY, MNV3_DROPOUT_APPLY_MULTIPLY_NOISE)
#define TF_BACKWARD(X)                                                                         \
    X(ACTIVATION_GRAD, MNV3_ACTIVATION_GRAD_TF_AUTODIFF) X(LOSS_REDUCTION, MNV3_LOSS_REDUCTION_SUM_OVER_BATCH_SIZE) \
    X(DROPOUT_APPLY, MNV3_DROPOUT_APPLY_SELECT_SCALED)
/* Optimizers and schedules (src/train/optim.c), one block per training row. */
#define TORCH_OPTIM(X)                                                                         \
    X(OPTIM_SGD, MNV3_OPTIM_SGD_TORCH) X(OPTIM_ADAM, MNV3_OPTIM_ADAM_TORCH)                    \
    X(OPTIM_RMSPROP, MNV3_OPTIM_RMSPROP_TORCH) X(OPTIM_WEIGHT_DECAY, MNV3_OPTIM_WEIGHT_DECAY_TORCH) \
    X(OPTIM_SCALARS, MNV3_OPTIM_SCALARS_F64) X(OPTIM_DEFAULTS, MNV3_OPTIM_DEFAULTS_TORCH)      \
    X(LR_SCHEDULE, MNV3_LR_SCHEDULE_TORCH) X(OPTIM_TF_GRAPH, MNV3_OPTIM_TF_GRAPH_EAGER)
#define KERAS_OPTIM(X)                                                                         \
    X(OPTIM_SGD, MNV3_OPTIM_SGD_KERAS) X(OPTIM_ADAM, MNV3_OPTIM_ADAM_KERAS)                    \
    X(OPTIM_RMSPROP, MNV3_OPTIM_RMSPROP_KERAS) X(OPTIM_WEIGHT_DECAY, MNV3_OPTIM_WEIGHT_DECAY_KERAS) \
    X(OPTIM_SCALARS, MNV3_OPTIM_SCALARS_F32) X(OPTIM_DEFAULTS, MNV3_OPTIM_DEFAULTS_KERAS)      \
    X(LR_SCHEDULE, MNV3_LR_SCHEDULE_KERAS) X(OPTIM_TF_GRAPH, MNV3_OPTIM_TF_GRAPH_GRAPPLER)
#define TF_KERAS_OPTIM(X)                                                                      \
    X(OPTIM_SGD, MNV3_OPTIM_SGD_TF_KERAS) X(OPTIM_ADAM, MNV3_OPTIM_ADAM_KERAS)                    \
    X(OPTIM_RMSPROP, MNV3_OPTIM_RMSPROP_TF_KERAS) X(OPTIM_WEIGHT_DECAY, MNV3_OPTIM_WEIGHT_DECAY_KERAS) \
    X(OPTIM_SCALARS, MNV3_OPTIM_SCALARS_F32) X(OPTIM_DEFAULTS, MNV3_OPTIM_DEFAULTS_KERAS)      \
    X(LR_SCHEDULE, MNV3_LR_SCHEDULE_KERAS) X(OPTIM_TF_GRAPH, MNV3_OPTIM_TF_GRAPH_GRAPPLER)
#define TORCH_TRAINING(X)                                                                      \
    X(BN_BATCH_STATS, MNV3_BN_BATCH_STATS_ATEN) X(BN_TRAIN_APPLY, MNV3_BN_TRAIN_APPLY_TORCH_FMA)             \
    X(BN_MOMENTUM, MNV3_BN_MOMENTUM_TORCH) X(BN_UPDATE_VARIANCE, MNV3_BN_UPDATE_VARIANCE_UNBIASED)        \
    TORCH_BACKWARD(X) X(DROPOUT_RNG, MNV3_DROPOUT_RNG_TORCH_MT19937) TORCH_OPTIM(X)
#define KERAS_TRAINING(X)                                                                      \
    X(BN_BATCH_STATS, MNV3_BN_BATCH_STATS_TF_MOMENTS) X(BN_TRAIN_APPLY, MNV3_BN_TRAIN_APPLY_TF_SCALE_SHIFT)  \
    X(BN_MOMENTUM, MNV3_BN_MOMENTUM_KERAS) X(BN_UPDATE_VARIANCE, MNV3_BN_UPDATE_VARIANCE_BIASED)          \
    TF_BACKWARD(X) X(DROPOUT_RNG, MNV3_DROPOUT_RNG_KERAS_SEED_GENERATOR) KERAS_OPTIM(X)
#define TF_KERAS_TRAINING(X)                                                                   \
    X(BN_BATCH_STATS, MNV3_BN_BATCH_STATS_TF_FUSED) X(BN_TRAIN_APPLY, MNV3_BN_TRAIN_APPLY_TF_SUBTRACT_FIRST) \
    X(BN_MOMENTUM, MNV3_BN_MOMENTUM_TF_FUSED) X(BN_UPDATE_VARIANCE, MNV3_BN_UPDATE_VARIANCE_UNBIASED)      \
    TF_BACKWARD(X) X(DROPOUT_RNG, MNV3_DROPOUT_RNG_TF_LEGACY) TF_KERAS_OPTIM(X)

/* Float profiles: the integer factors take TFLite's reference options (unused). */
#define FLOAT_MODEL_INTEGER(X)                                                                 \
    X(REQUANTIZE, MNV3_REQUANTIZE_DOUBLE_ROUND) X(REQUANTIZE_DEPTHWISE, MNV3_REQUANTIZE_DOUBLE_ROUND)   \
    X(REQUANTIZE_ELEMENTWISE, MNV3_REQUANTIZE_DOUBLE_ROUND) X(UINT8_FILTERS, MNV3_UINT8_FILTERS_ACCEPTED) \
    X(ADD_RESCALE, MNV3_ADD_RESCALE_LEFT_SHIFT_20) X(ELEMENTWISE_VECTOR, MNV3_ELEMENTWISE_SCALAR)
#define TORCH_ROW(X)                                                                           \
    X(PADDING, MNV3_PAD_SYMMETRIC) X(HARDSIGMOID, MNV3_HSIG_DIV6)                              \
    X(HARDSWISH, MNV3_HSWISH_XC_DIV6) X(BATCHNORM, MNV3_BN_TORCH_FMA)                          \
    X(CONV_ORDER, MNV3_CONV_TORCH_CPU) X(POINTWISE, MNV3_POINTWISE_MUL_ADD)                     \
    X(BIAS, MNV3_BIAS_TORCH_CPU) X(POOL_SUM, MNV3_POOL_ATEN_CASCADE8)                           \
    X(ACCUMULATE, MNV3_ACCUMULATE_F32) X(INPUT_RESCALE, MNV3_RESCALE_NONE)                      \
    X(OUTPUT, MNV3_OUTPUT_LOGITS) X(LAYOUT, MNV3_LAYOUT_NCHW) FLOAT_MODEL_INTEGER(X) TORCH_TRAINING(X)
#define KERAS_ROW(X)                                                                           \
    X(PADDING, MNV3_PAD_KERAS_CORRECT_PAD) X(HARDSIGMOID, MNV3_HSIG_MUL_RECIP6)                \
    X(HARDSWISH, MNV3_HSWISH_X_MUL_C_DIV6) X(BATCHNORM, MNV3_BN_TF_RSQRT)                      \
    X(CONV_ORDER, MNV3_CONV_KY_KX_CI_FMA) X(POINTWISE, MNV3_POINTWISE_MUL_ADD)                  \
    X(BIAS, MNV3_BIAS_SEPARATE_ADD) X(POOL_SUM, MNV3_POOL_SEQUENTIAL)                           \
    X(ACCUMULATE, MNV3_ACCUMULATE_F32) X(INPUT_RESCALE, MNV3_RESCALE_KERAS)                     \
    X(OUTPUT, MNV3_OUTPUT_SOFTMAX) X(LAYOUT, MNV3_LAYOUT_NHWC) FLOAT_MODEL_INTEGER(X) KERAS_TRAINING(X)
/* conv_order and pointwise were implicit (option 0) before they were named. */
#define TF_KERAS_ROW(X)                                                                        \
    X(PADDING, MNV3_PAD_KERAS_CORRECT_PAD) X(HARDSIGMOID, MNV3_HSIG_MUL_RECIP6)                \
    X(HARDSWISH, MNV3_HSWISH_X_MUL_C_RECIP6) X(BATCHNORM, MNV3_BN_SUBTRACT_FIRST)              \
    X(CONV_ORDER, MNV3_CONV_CI_KY_KX) X(POINTWISE, MNV3_POINTWISE_MUL_ADD)                      \
    X(BIAS, MNV3_BIAS_SEPARATE_ADD) X(POOL_SUM, MNV3_POOL_SEQUENTIAL)                           \
    X(ACCUMULATE, MNV3_ACCUMULATE_F32) X(INPUT_RESCALE, MNV3_RESCALE_KERAS)                     \
    X(OUTPUT, MNV3_OUTPUT_SOFTMAX) X(LAYOUT, MNV3_LAYOUT_NHWC) FLOAT_MODEL_INTEGER(X) TF_KERAS_TRAINING(X)
/* LiteRT runs inference only; its training options are Keras 3's, the usual source model. */
#define LITERT_ROW(X)                                                                          \
    X(PADDING, MNV3_PAD_TF_SAME) X(HARDSIGMOID, MNV3_HSIG_MUL_RECIP6)                          \
    X(HARDSWISH, MNV3_HSWISH_X_MUL_CLAMP_FMA) X(BATCHNORM, MNV3_BN_SCALE_SHIFT)                \
    X(CONV_ORDER, MNV3_CONV_KY_KX_CI_FMA) X(POINTWISE, MNV3_POINTWISE_FMA)                      \
    X(BIAS, MNV3_BIAS_IN_ACCUMULATOR) X(POOL_SUM, MNV3_POOL_SEQUENTIAL)                         \
    X(ACCUMULATE, MNV3_ACCUMULATE_F32) X(INPUT_RESCALE, MNV3_RESCALE_KERAS)                     \
    X(OUTPUT, MNV3_OUTPUT_SOFTMAX) /* a Keras-converted classifier ends in SOFTMAX */          \
    X(LAYOUT, MNV3_LAYOUT_NHWC) FLOAT_MODEL_INTEGER(X) KERAS_TRAINING(X)
#define TIMM_TF_ROW(X)                                                                         \
    X(PADDING, MNV3_PAD_TF_SAME) X(HARDSIGMOID, MNV3_HSIG_DIV6)                                \
    X(HARDSWISH, MNV3_HSWISH_XC_DIV6) X(BATCHNORM, MNV3_BN_TORCH_FMA)                          \
    X(CONV_ORDER, MNV3_CONV_KY_KX_CI_FMA) X(POINTWISE, MNV3_POINTWISE_MUL_ADD)                  \
    X(BIAS, MNV3_BIAS_SEPARATE_ADD) X(POOL_SUM, MNV3_POOL_SEQUENTIAL)                           \
    X(ACCUMULATE, MNV3_ACCUMULATE_F32) X(INPUT_RESCALE, MNV3_RESCALE_NONE)                      \
    X(OUTPUT, MNV3_OUTPUT_LOGITS) X(LAYOUT, MNV3_LAYOUT_NCHW) FLOAT_MODEL_INTEGER(X) TORCH_TRAINING(X)
CHECK_ROW(TORCH_ROW);
CHECK_ROW(KERAS_ROW);
CHECK_ROW(TF_KERAS_ROW);
CHECK_ROW(LITERT_ROW);
/* Quantized models: the float factors are LiteRT's (unused by the integer path). */
#define INT8_FLOAT_PART(X)                                                                     \
    X(PADDING, MNV3_PAD_TF_SAME) X(HARDSIGMOID, MNV3_HSIG_MUL_RECIP6)                          \
    X(HARDSWISH, MNV3_HSWISH_X_MUL_CLAMP_FMA) X(BATCHNORM, MNV3_BN_SCALE_SHIFT)                \
    X(CONV_ORDER, MNV3_CONV_KY_KX_CI_FMA) X(POINTWISE, MNV3_POINTWISE_FMA)                      \
    X(BIAS, MNV3_BIAS_IN_ACCUMULATOR) X(POOL_SUM, MNV3_POOL_SEQUENTIAL)                         \
    X(ACCUMULATE, MNV3_ACCUMULATE_F32) X(INPUT_RESCALE, MNV3_RESCALE_NONE)                      \
    X(OUTPUT, MNV3_OUTPUT_SOFTMAX) X(LAYOUT, MNV3_LAYOUT_NHWC) KERAS_TRAINING(X)
/* BUILTIN_REF: TFLite's reference kernels, default build (two roundings). */
#define LITERT_INT8_REF_ROW(X)                                                                 \
    INT8_FLOAT_PART(X) FLOAT_MODEL_INTEGER(X)
/* BUILTIN_WITHOUT_DEFAULT_DELEGATES, measured: convolutions round the final shift up,
 * depthwise as the reference, ADD/MUL vectorised in runs of 8. */
#define LITERT_INT8_BUILTIN_ROW(X)                                                             \
    INT8_FLOAT_PART(X) X(REQUANTIZE, MNV3_REQUANTIZE_DOUBLE_ROUND_SHIFT_UP)                    \
    X(REQUANTIZE_DEPTHWISE, MNV3_REQUANTIZE_DOUBLE_ROUND)                                      \
    X(REQUANTIZE_ELEMENTWISE, MNV3_REQUANTIZE_DOUBLE_ROUND)                                    \
    X(UINT8_FILTERS, MNV3_UINT8_FILTERS_ACCEPTED) X(ADD_RESCALE, MNV3_ADD_RESCALE_LEFT_SHIFT_20)  \
    X(ELEMENTWISE_VECTOR, MNV3_ELEMENTWISE_NEON_8)
/* XNNPACK on (the default), measured: convolutions in fp32 (lrintf), MUL rounding once, ADD
 * with XNNPACK's 21-bit multipliers. */
#define LITERT_INT8_ROW(X)                                                                     \
    INT8_FLOAT_PART(X) X(REQUANTIZE, MNV3_REQUANTIZE_FP32)                                     \
    X(REQUANTIZE_DEPTHWISE, MNV3_REQUANTIZE_FP32)                                              \
    X(REQUANTIZE_ELEMENTWISE, MNV3_REQUANTIZE_SINGLE_ROUND)                                    \
    X(UINT8_FILTERS, MNV3_UINT8_FILTERS_ACCEPTED)                                              \
    X(ADD_RESCALE, MNV3_ADD_RESCALE_MULTIPLIERS_21BIT) X(ELEMENTWISE_VECTOR, MNV3_ELEMENTWISE_SCALAR)
/* TFLite Micro: reference kernels (int8 models not measured here); uint8 filters refused. */
#define TFLM_ROW(X)                                                                            \
    INT8_FLOAT_PART(X) X(REQUANTIZE, MNV3_REQUANTIZE_DOUBLE_ROUND)                             \
    X(REQUANTIZE_DEPTHWISE, MNV3_REQUANTIZE_DOUBLE_ROUND)                                      \
    X(REQUANTIZE_ELEMENTWISE, MNV3_REQUANTIZE_DOUBLE_ROUND)                                    \
    X(UINT8_FILTERS, MNV3_UINT8_FILTERS_REFUSED_HYBRID)                                        \
    X(ADD_RESCALE, MNV3_ADD_RESCALE_LEFT_SHIFT_20) X(ELEMENTWISE_VECTOR, MNV3_ELEMENTWISE_SCALAR)
CHECK_ROW(TIMM_TF_ROW);
CHECK_ROW(TFLM_ROW);
CHECK_ROW(LITERT_INT8_BUILTIN_ROW);
CHECK_ROW(LITERT_INT8_ROW);
CHECK_ROW(LITERT_INT8_REF_ROW);

static const mnv3_profile profiles[] = {
    PROFILE("torch", "torchvision mobilenet_v3_small, PyTorch CPU, eval mode", TORCH_ROW),
    PROFILE("keras", "Keras 3 keras.applications.MobileNetV3Small, TensorFlow backend, CPU, inference",
            KERAS_ROW),
    PROFILE("tf-keras", "Keras 2 (tf-keras) keras.applications.MobileNetV3Small, fused BatchNorm, CPU",
            TF_KERAS_ROW),
    PROFILE("litert", "LiteRT (XNNPACK) running a float TFLite model, BatchNorm folded", LITERT_ROW),
    PROFILE("timm-tf", "timm tf_mobilenetv3_small_100: TF 'SAME' padding inside PyTorch", TIMM_TF_ROW),
    PROFILE("litert-int8-ref",
            "LiteRT 2.3.0 reference op resolver (BUILTIN_REF) running a uint8/int8 TFLite model",
            LITERT_INT8_REF_ROW),
    PROFILE("litert-int8-builtin",
            "LiteRT 2.3.0 built-in optimized kernels (BUILTIN_WITHOUT_DEFAULT_DELEGATES), uint8/int8 model",
            LITERT_INT8_BUILTIN_ROW),
    PROFILE("tflm", "TFLite Micro (tflite-micro Python interpreter): reference kernels; refuses uint8 models",
            TFLM_ROW),
    PROFILE("litert-int8", "LiteRT 2.3.0 as shipped (XNNPACK delegate on), uint8/int8 model", LITERT_INT8_ROW),
};

/* batchnorm=tf_rsqrt reads this CPU's rsqrt estimate: FNV-1a over every 12-bit
 * mantissa prefix at two exponents tells machines apart. */
uint32_t mnv3_tf_rsqrt_fingerprint(void) {
    uint32_t h = 2166136261u;
    for (int e = 0; e < 2; e++)
        for (uint32_t m = 0; m < 4096; m++) {
            float x = (1.0f + (float)m / 4096.0f) * (e ? 2.0f : 1.0f), y = mnv3_rsqrt_estimate_newton(x);
            uint32_t bits;
            memcpy(&bits, &y, sizeof bits);
            for (int b = 0; b < 4; b++) h = (h ^ ((bits >> (8 * b)) & 0xffu)) * 16777619u;
        }
    return h;
}

/* The optimizers' constructor defaults (read from torch 1.13.1, Keras 3.15.1 and
 * tf-keras signatures). torch.optim.SGD has no default lr: 0 here. */
static const mnv3_optim_defaults optim_defaults[MNV3_OPTIM_DEFAULTS_COUNT][MNV3_OPTIM_KIND_COUNT] = {
    [MNV3_OPTIM_DEFAULTS_TORCH] = {
        [MNV3_OPTIM_SGD] = {.lr = 0.0},
        [MNV3_OPTIM_ADAM] = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
        [MNV3_OPTIM_ADAMW] = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 1e-2},
        [MNV3_OPTIM_RMSPROP] = {.lr = 1e-2, .rho = 0.99, .eps = 1e-8},
    },
    [MNV3_OPTIM_DEFAULTS_KERAS] = {
        [MNV3_OPTIM_SGD] = {.lr = 0.01},
        [MNV3_OPTIM_ADAM] = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-7},
        [MNV3_OPTIM_ADAMW] = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-7, .weight_decay = 0.004},
        [MNV3_OPTIM_RMSPROP] = {.lr = 1e-3, .rho = 0.9, .eps = 1e-7},
    },
};

const mnv3_optim_defaults *mnv3_optim_defaults_of(int option, int kind) {
    if (option < 0 || option >= MNV3_OPTIM_DEFAULTS_COUNT || kind < 0 || kind >= MNV3_OPTIM_KIND_COUNT)
        return NULL;
    return &optim_defaults[option][kind];
}

int mnv3_factor_is_training(int f) { return f >= MNV3_FIRST_TRAINING_FACTOR && f < MNV3_FACTOR_COUNT; }

int mnv3_factor_is_integer(int f) { return f >= MNV3_FIRST_INTEGER_FACTOR && f < MNV3_FIRST_TRAINING_FACTOR; }

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
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "'%s': expected factor=option", assignment);
    memcpy(factor, assignment, (size_t)(eq - assignment));
    factor[eq - assignment] = 0;
    int f = mnv3_factor_find(factor);
    if (f < 0) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "unknown factor '%s' (see mnv3 profiles)", factor);
    int o = mnv3_factor_option_find(f, eq + 1);
    if (o < 0)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "factor '%s' has no option '%s' (see mnv3 profiles)", factor,
                         eq + 1);
    p->option[f] = o;
    return MNV3_OK;
}
