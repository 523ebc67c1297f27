/* The model: architecture, op list and canonical weights; the naming table. */
#ifndef MNV3_MODEL_H
#define MNV3_MODEL_H

#include "core/graph.h"

struct mnv3_model {
    mnv3_arch arch;
    mnv3_graph graph;     /* weight pointers bound into tensors below */
    mnv3_tensors tensors; /* canonical names, float32, owned */
};

/* ---- the naming table (model.c), read by import and by export ---- */

/* How a stored tensor is laid out relative to the canonical (torchvision) one. */
typedef enum mnv3_stored_layout {
    MNV3_STORED_CANONICAL, /* OIHW, depthwise (C,1,kh,kw), linear (out,in) */
    MNV3_STORED_HWIO,      /* Keras Conv2D (kh,kw,in,out); also a linear as a 1x1 conv */
    MNV3_STORED_HWC1,      /* Keras DepthwiseConv2D (kh,kw,C,1) */
    MNV3_STORED_IO         /* Keras Dense (in,out) */
} mnv3_stored_layout;

#define MNV3_PARAM_SPELLINGS 3

/* The name of an op's parameter (suffix "weight", "bias", "running_mean",
 * "running_var") under a naming. Spelling 0 is the name mnv3 writes; 1 and 2
 * are other spellings a reader accepts (tf-keras depthwise_kernel, the vars/N
 * of a Keras 3 .weights.h5). Returns 0 where a naming has no such spelling. */
int mnv3_param_name(const mnv3_op *op, const char *suffix, mnv3_naming naming, int spelling,
                    char *buf, size_t size);
/* The layout Keras stores a parameter in, given the stored rank (a linear
 * weight is a 1x1 Conv2D at rank 4, a Dense kernel at rank 2). */
mnv3_stored_layout mnv3_keras_layout(const mnv3_op *op, const char *suffix, int stored_ndim);
/* The stored shape of a slot under a layout; returns its rank. */
int mnv3_stored_shape(const mnv3_param_slot *slot, mnv3_stored_layout layout, int64_t *shape);
/* Copies a slot's values between canonical and stored layout, either way:
 * a transposition, so conversions are bit-exact. */
void mnv3_param_transpose(const mnv3_param_slot *slot, mnv3_stored_layout layout,
                          const float *src, float *dst, int to_canonical);

#endif
