/* TFLite (.tflite) models: a bounds-checked reader for the flatbuffer
 * schema (tensorflow/lite/schema/schema.fbs, the few tables MobileNetV3
 * needs) and the weight reader that maps a float32 MobileNetV3-Small graph
 * onto canonical names and torchvision layouts.
 *
 * Every offset, vtable and vector the reader follows is checked against the
 * buffer before it is touched; a hostile file fails with one line,
 * "LABEL: problem". See docs/tflite.md. */
#ifndef MNV3_TFLITE_H
#define MNV3_TFLITE_H

#include <stddef.h>
#include <stdint.h>

#include "mnv3.h"

/* ---- schema enums (values as in schema.fbs) ---- */
enum {
    MNV3_TFL_FLOAT32 = 0, MNV3_TFL_FLOAT16 = 1, MNV3_TFL_INT32 = 2, MNV3_TFL_UINT8 = 3,
    MNV3_TFL_INT64 = 4, MNV3_TFL_INT16 = 7, MNV3_TFL_INT8 = 9, MNV3_TFL_FLOAT64 = 10
};
enum {
    MNV3_TFL_OP_ADD = 0, MNV3_TFL_OP_AVERAGE_POOL_2D = 1, MNV3_TFL_OP_CONV_2D = 3,
    MNV3_TFL_OP_DEPTHWISE_CONV_2D = 4, MNV3_TFL_OP_DEQUANTIZE = 6,
    MNV3_TFL_OP_FULLY_CONNECTED = 9, MNV3_TFL_OP_LOGISTIC = 14, MNV3_TFL_OP_MUL = 18,
    MNV3_TFL_OP_RELU = 19, MNV3_TFL_OP_RELU6 = 21, MNV3_TFL_OP_RESHAPE = 22,
    MNV3_TFL_OP_SOFTMAX = 25, MNV3_TFL_OP_CUSTOM = 32, MNV3_TFL_OP_PAD = 34,
    MNV3_TFL_OP_MEAN = 40, MNV3_TFL_OP_SUB = 41, MNV3_TFL_OP_DIV = 42,
    MNV3_TFL_OP_SQUEEZE = 43, MNV3_TFL_OP_PADV2 = 60, MNV3_TFL_OP_QUANTIZE = 114,
    MNV3_TFL_OP_HARD_SWISH = 117
};
enum { MNV3_TFL_PAD_SAME = 0, MNV3_TFL_PAD_VALID = 1 };
enum {
    MNV3_TFL_ACT_NONE = 0, MNV3_TFL_ACT_RELU = 1, MNV3_TFL_ACT_RELU_N1_TO_1 = 2,
    MNV3_TFL_ACT_RELU6 = 3, MNV3_TFL_ACT_TANH = 4
};

#define MNV3_TFLITE_MAX_DIMS 8
#define MNV3_TFLITE_MAX_OP_IO 16 /* operator inputs / outputs, subgraph inputs / outputs */

/* Pointers (names, data) point into the caller's buffer: keep it alive as
 * long as the model. */
typedef struct mnv3_tflite_tensor {
    const char *name; /* NUL-terminated, "" when absent */
    int type;         /* MNV3_TFL_FLOAT32, ... */
    int ndim;
    int32_t shape[MNV3_TFLITE_MAX_DIMS]; /* every entry >= 0 */
    size_t numel;
    uint32_t buffer;               /* buffer index (0 = none) */
    const unsigned char *data;     /* constant data, little-endian, unaligned; NULL if none */
    size_t data_len;               /* == numel * element size when data != NULL */
    int n_scales;                  /* quantization: scale vector length (0 = none) */
    float scale;                   /* first scale */
    int64_t zero_point;            /* first zero point */
    /* the whole vectors (little-endian float32 / int64, unaligned, NULL when
     * absent) and QuantizationParameters.quantized_dimension */
    const unsigned char *scale_data, *zero_point_data;
    size_t n_scale_values, n_zero_points;
    int quantized_dimension;
} mnv3_tflite_tensor;

typedef struct mnv3_tflite_op {
    int opcode_index;
    int builtin;              /* resolved BuiltinOperator */
    const char *custom_code;  /* CUSTOM ops, else NULL */
    int n_inputs, n_outputs;
    int32_t inputs[MNV3_TFLITE_MAX_OP_IO];  /* tensor indices, -1 = optional input absent */
    int32_t outputs[MNV3_TFLITE_MAX_OP_IO];
    int options_type;         /* BuiltinOptions union tag, 0 = none */
    /* options, defaults from the schema when absent */
    int padding, stride_w, stride_h, dilation_w, dilation_h, depth_multiplier;
    int fused_act, keep_dims;
    float beta;
    int filter_w, filter_h; /* Pool2DOptions */
} mnv3_tflite_op;

typedef struct mnv3_tflite_opcode {
    int builtin;
    int version;
    const char *custom_code;
} mnv3_tflite_opcode;

typedef struct mnv3_tflite_model {
    uint32_t version;
    const char *description;
    int n_subgraphs;
    int n_opcodes;
    mnv3_tflite_opcode *opcodes;
    int n_buffers;
    int n_tensors;
    mnv3_tflite_tensor *tensors;
    int n_ops;
    mnv3_tflite_op *ops;
    int n_inputs, n_outputs; /* of subgraph 0 */
    int32_t inputs[MNV3_TFLITE_MAX_OP_IO], outputs[MNV3_TFLITE_MAX_OP_IO];
} mnv3_tflite_model;

/* 1 when head (n bytes of a file's start) looks like a TFLite flatbuffer:
 * "TFL3" at offset 4. */
int mnv3_tflite_sniff(const void *head, size_t n);

/* Parses subgraph 0 of a model image. buf must outlive *out. */
int mnv3_tflite_open(const void *buf, size_t len, const char *label, mnv3_tflite_model **out,
                     mnv3_error *err);
void mnv3_tflite_free(mnv3_tflite_model *m);
/* "CONV_2D", "HARD_SWISH", ..., "OTHER_OP" for codes this reader does not name. */
const char *mnv3_tflite_op_name(int builtin);
const char *mnv3_tflite_type_name(int type);
/* Index of the operator that writes tensor t, or -1 (constant / graph input). */
int mnv3_tflite_producer(const mnv3_tflite_model *m, int tensor);

/* ---- MobileNetV3-Small weights ---- */

#define MNV3_TFLITE_MAX_PROBLEMS 8
#define MNV3_TFLITE_MAX_HIST 32

/* What the runtime needs to know about the graph around the weights. */
typedef struct mnv3_tflite_info {
    int quantized;            /* 1: uint8/int8 model, no tensors emitted */
    int num_classes;          /* 0 = backbone (pooled features) */
    int output_dim;           /* last dimension of the output tensor */
    int input_type;           /* MNV3_TFL_FLOAT32, MNV3_TFL_UINT8, ... */
    int input_ndim;
    int32_t input_shape[4];   /* NHWC, e.g. 1 224 224 3 */
    int has_rescale;          /* x * rescale_scale + rescale_offset before the stem */
    float rescale_scale, rescale_offset;
    int stem_padding;         /* MNV3_TFL_PAD_SAME / _VALID */
    int dw_stride2_padding;   /* padding option of the stride-2 depthwise convs */
    int n_pad_ops;            /* explicit PAD / PADV2 operators */
    int n_hard_swish_ops;     /* native HARD_SWISH operators */
    int hswish_decomposed;    /* hard-swish spelled with ADD/RELU6/MUL instead */
    /* SE gate: relu6(fc2(x) + gate_add) * gate_mul, fc2 carrying a fused
     * RELU6 (gate_add 0) or followed by an ADD. The emitted se.fc2.bias is
     * the file's bias + gate_add - 3, so hardsigmoid(fc2(x)) is the gate. */
    float se_gate_add, se_gate_mul;
    int pool_op;              /* MNV3_TFL_OP_MEAN or MNV3_TFL_OP_AVERAGE_POOL_2D */
    int has_softmax;
    int n_hist;               /* operator histogram */
    int hist_op[MNV3_TFLITE_MAX_HIST], hist_count[MNV3_TFLITE_MAX_HIST];
    size_t n_problems;        /* NaN/Inf values etc.; texts of the first few */
    char problems[MNV3_TFLITE_MAX_PROBLEMS][200];
} mnv3_tflite_info;

/* Reads a float32 MobileNetV3-Small TFLite model into canonical names and
 * torchvision layouts (OIHW, depthwise (C,1,kh,kw), linear (out,in)); every
 * conv gets <name>.bias (BatchNorm is folded). out->format = "tflite-bnfolded".
 * info (optional) receives the graph facts; it is filled as far as parsing
 * got even when the call fails (e.g. quantized models). */
int mnv3_read_tflite_buffer(const void *buf, size_t len, const char *label, mnv3_tensors *out,
                            mnv3_tflite_info *info, mnv3_error *err);
int mnv3_read_tflite_info(const char *path, mnv3_tensors *out, mnv3_tflite_info *info,
                          mnv3_error *err);
int mnv3_read_tflite(const char *path, mnv3_tensors *out, mnv3_error *err);

/* ---- quantized models (tflite_quant.c) into src/quant/qgraph.h ---- */
struct mnv3_qgraph;
/* mnv3_qgraph_from_tflite refuses models whose activations exceed the file
 * budget (MNV3_MAX_FILE_BYTES) or whose one run needs more multiply-adds
 * than this, 2^31 (MobileNetV3-Small at 224x224 needs 0.058 G and runs in
 * 0.1 s; 2^31 takes a few seconds). */
#define MNV3_TFLITE_QUANT_MAX_MACS (2ull << 30)
/* The bytes of g's activation tensors together, and the multiply-adds of
 * one run (convolutions and pools by their kernels, other ops one per
 * output element; stop + 1 once past stop). */
unsigned long long mnv3_qgraph_activation_bytes(const struct mnv3_qgraph *g);
unsigned long long mnv3_qgraph_macs(const struct mnv3_qgraph *g, unsigned long long stop);
/* 1 when buf is a TFLite model whose input is uint8 or int8. */
int mnv3_is_quantized_tflite(const void *buf, size_t len);
int mnv3_qgraph_from_tflite(const void *buf, size_t len, const char *label,
                            struct mnv3_qgraph **out, mnv3_error *err);
/* Reads path into *buf (malloc'd; keep it alive as long as *out) and loads it. */
int mnv3_qgraph_read(const char *path, unsigned char **buf, struct mnv3_qgraph **out,
                     mnv3_error *err);

#endif
