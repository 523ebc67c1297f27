#ifndef MNV3_MODEL_H
#define MNV3_MODEL_H

#include "core/graph.h"

struct mnv3_model {
    mnv3_arch arch;
    mnv3_graph graph;     /* weight pointers bound into tensors below */
    mnv3_tensors tensors; /* canonical names, float32, owned */
};

#endif
