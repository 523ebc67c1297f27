/* mnv3.h: the whole public API of mnv3, MobileNetV3 in portable C
 * reproducing torchvision and Keras numerics.
 *   mnv3_core.h  tensors, models, profiles, running, sessions, metrics (libm only)
 *   mnv3_io.h    weight files, .npy/.npz, mnv3_model_load
 * Link mnv3 (or, for the core alone, mnv3_core). Errors, ownership and
 * thread safety are described at the top of mnv3_core.h. */
#ifndef MNV3_H
#define MNV3_H

#include "mnv3_core.h"
#include "mnv3_io.h"

#endif
