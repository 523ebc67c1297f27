/* Reference kernels: one function per op kind (see kernels.h). */
#ifndef MNV3_REFERENCE_H
#define MNV3_REFERENCE_H

#include "kernels/kernels.h"

#define MNV3_REF_KERNEL(name)                                                         \
    void name(const mnv3_exec_op *e, int batch, const float *in, const float *in2, float *out, \
              double *scratch)

MNV3_REF_KERNEL(mnv3_ref_conv);
MNV3_REF_KERNEL(mnv3_ref_batchnorm);
MNV3_REF_KERNEL(mnv3_ref_relu);
MNV3_REF_KERNEL(mnv3_ref_hardswish);
MNV3_REF_KERNEL(mnv3_ref_hardsigmoid);
MNV3_REF_KERNEL(mnv3_ref_global_pool);
MNV3_REF_KERNEL(mnv3_ref_channel_scale);
MNV3_REF_KERNEL(mnv3_ref_add);
MNV3_REF_KERNEL(mnv3_ref_linear);
MNV3_REF_KERNEL(mnv3_ref_rescale);
MNV3_REF_KERNEL(mnv3_ref_softmax);

#endif
