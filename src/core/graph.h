/* The model as a flat list of ops, built from the block table. Every op
 * output is a tap with a canonical name; every op knows its torchvision and
 * Keras names, so the naming table has one source. */
#ifndef MNV3_GRAPH_H
#define MNV3_GRAPH_H

#include "mnv3.h"

typedef enum mnv3_op_kind {
    MNV3_OP_RESCALE,    /* in-model input rescaling (Keras) */
    MNV3_OP_CONV,       /* k x k convolution, groups 1 or depthwise */
    MNV3_OP_BATCHNORM,
    MNV3_OP_RELU,
    MNV3_OP_HARDSWISH,
    MNV3_OP_HARDSIGMOID,
    MNV3_OP_GLOBAL_POOL,
    MNV3_OP_CHANNEL_SCALE, /* x * gate[c]: the SE multiply */
    MNV3_OP_ADD,           /* residual */
    MNV3_OP_LINEAR,
    MNV3_OP_SOFTMAX,
    MNV3_OP_KIND_COUNT
} mnv3_op_kind;

typedef enum mnv3_pad_role {
    MNV3_PAD_ROLE_NONE,  /* stride 1 or 1x1: symmetric in every framework */
    MNV3_PAD_ROLE_STEM,  /* stride-2 full convolution */
    MNV3_PAD_ROLE_DEPTHWISE /* stride-2 depthwise convolution */
} mnv3_pad_role;

typedef struct mnv3_shape {
    int c, h, w;
} mnv3_shape;

typedef struct mnv3_op {
    mnv3_op_kind kind;
    char name[48];        /* canonical, e.g. "b3.dw.conv"; weights are name.weight */
    char tap[48];         /* canonical name of the output; differs from name only for
                             a conv with BatchNorm folded in, whose output is X.bn */
    char torchvision[64]; /* module path, e.g. "features.4.block.1.0" */
    char keras[64];       /* Keras 3 layer name */
    int src, src2;        /* value ids: 0 = model input, k = output of op k-1 */
    /* convolution / linear */
    int in_ch, out_ch, kernel, stride, groups, has_bias;
    mnv3_pad_role pad_role;
    const float *weight, *bias;           /* OIHW; linear (out, in) */
    const float *bn_mean, *bn_var;        /* batchnorm uses weight, bias too */
    float eps;
} mnv3_op;

#define MNV3_MAX_OPS 256

typedef struct mnv3_graph {
    int n_ops;
    mnv3_op ops[MNV3_MAX_OPS];
} mnv3_graph;

/* Builds ops, names and channel counts from the architecture; weights are
 * bound later by the model loader. */
void mnv3_graph_build(const mnv3_arch *arch, mnv3_graph *g);

/* Per-tensor parameter list of an op: suffix and expected shape. */
typedef struct mnv3_param_slot {
    const char *suffix; /* "weight", "bias", "running_mean", "running_var" */
    int ndim;
    int64_t shape[4];
    const float **bind; /* where the loader stores the data pointer */
    int is_buffer;      /* BN running statistics */
} mnv3_param_slot;

int mnv3_op_params(mnv3_op *op, mnv3_param_slot *slots /* [4] */);

#endif
