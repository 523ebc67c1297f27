/* Quantized graphs: tensors with their dtype, shape, quantization parameters
 * and constant data, and the operators in file order, as a loader
 * (src/formats/tflite_quant.c) fills them. The plan (qplan.c) checks every
 * quantization parameter and resolves the profile's integer factors into
 * plain per-op fields that the integer kernels (src/kernels/integer) read. */
#ifndef MNV3_QGRAPH_H
#define MNV3_QGRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "mnv3.h"

enum { MNV3_QT_FLOAT32, MNV3_QT_INT32, MNV3_QT_UINT8, MNV3_QT_INT8, MNV3_QT_OTHER };
enum {
    MNV3_QOP_CONV_2D, MNV3_QOP_DEPTHWISE_CONV_2D, MNV3_QOP_ADD, MNV3_QOP_MUL,
    MNV3_QOP_HARD_SWISH, MNV3_QOP_AVERAGE_POOL_2D, MNV3_QOP_RESHAPE, MNV3_QOP_SOFTMAX,
    MNV3_QOP_COUNT
};
enum { MNV3_QACT_NONE, MNV3_QACT_RELU, MNV3_QACT_RELU_N1_TO_1, MNV3_QACT_RELU6 };
enum { MNV3_QPAD_SAME, MNV3_QPAD_VALID };

#define MNV3_QMAX_DIMS 8
#define MNV3_QMAX_INPUTS 3
#define MNV3_QMAX_ACTIVATION_BYTES ((size_t)1 << 30) /* all activation tensors of a plan */

typedef struct mnv3_qtensor {
    char name[96];
    int dtype; /* MNV3_QT_* */
    int ndim;
    int32_t shape[MNV3_QMAX_DIMS];
    size_t numel;
    int n_params;            /* scale/zero-point count: 0 none, 1 per tensor, else per channel */
    float *scales;           /* n_params entries (owned) */
    int64_t *zero_points;    /* n_params entries (owned) */
    int quantized_dimension;
    const unsigned char *data; /* constant data (little-endian), NULL for activations */
    size_t data_len;
} mnv3_qtensor;

typedef struct mnv3_qop {
    int kind;     /* MNV3_QOP_* */
    int n_inputs; /* -1 entries: optional input absent */
    int inputs[MNV3_QMAX_INPUTS];
    int output;
    int padding, stride_w, stride_h, dilation_w, dilation_h, depth_multiplier;
    int filter_w, filter_h; /* AVERAGE_POOL_2D */
    int fused_act;
    float beta;
} mnv3_qop;

typedef struct mnv3_qgraph {
    char label[160]; /* the file, for error messages */
    int n_tensors;
    mnv3_qtensor *tensors;
    int n_ops;
    mnv3_qop *ops;
    int input, output; /* tensor indices */
} mnv3_qgraph;

void mnv3_qgraph_free(mnv3_qgraph *g);
const char *mnv3_qop_name(int kind);
size_t mnv3_qdtype_size(int dtype);

/* ---- plan: every parameter checked, every factor resolved ---- */

/* Per-op fields for the integer kernels; no option or framework names. */
enum { MNV3_QROUND_DOUBLE, MNV3_QROUND_SINGLE, MNV3_QROUND_DOUBLE_SHIFT_UP, MNV3_QROUND_DOUBLE_UP,
       MNV3_QROUND_FP32, MNV3_QROUND_HIGH_UP_SHIFT_AWAY };
enum { MNV3_QSOFTMAX_FIXED_POINT_EXP };

typedef struct mnv3_qexec_op {
    int kind;
    int in0, in1, in2, out; /* tensor indices (-1 none) */
    int rounding;           /* MNV3_QROUND_* */
    int32_t in0_offset, in1_offset, filter_offset, out_offset; /* -zp of inputs, +zp of output */
    int32_t act_min, act_max;
    int32_t multiplier, shift; /* output requantization (shift: positive = left) */
    float fscale;              /* the same as one float (MNV3_QROUND_FP32) */
    int32_t in0_multiplier, in0_shift, in1_multiplier, in1_shift, left_shift; /* ADD */
    int add_single_sum; /* ADD: in0/in1 multipliers, one sum + bias (add_bias), one shift */
    int32_t add_bias;
    size_t vector_run; /* ADD/MUL: >0: whole 8s of each run of this many outputs take the vector form */
    /* HARD_SWISH */
    int16_t reluish_multiplier16, output_multiplier16;
    int reluish_exponent, output_exponent;
    /* SOFTMAX */
    int32_t diff_min;
    /* geometry (NHWC) */
    int pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w, kh, kw, depth_multiplier;
} mnv3_qexec_op;

typedef struct mnv3_qplan {
    const mnv3_qgraph *g;
    int n_ops;
    mnv3_qexec_op *ops;
    unsigned char **values; /* per tensor: activation storage (owned) or constant data */
    int *owned;
} mnv3_qplan;

int mnv3_qplan_create(const mnv3_qgraph *g, const mnv3_profile *profile, mnv3_qplan **out,
                      mnv3_error *err);
void mnv3_qplan_free(mnv3_qplan *p);
/* Copies input (numel bytes of the input dtype) in and runs every op; every
 * tensor stays readable in p->values afterwards. */
int mnv3_qplan_run(mnv3_qplan *p, const void *input, size_t input_bytes, mnv3_error *err);

#endif
