/* Keras weights in HDF5: Keras 3 .weights.h5, Keras 2 / tf-keras .h5 (full
 * model or weights only), and Keras 3 .keras archives (zip holding
 * model.weights.h5). The naming produced per kind is documented at the top
 * of keras_h5.c. */
#ifndef MNV3_KERAS_H5_H
#define MNV3_KERAS_H5_H

#include <stddef.h>

#include "mnv3.h"

/* Limits checked before allocating (untrusted input). The file, the archive
 * member, one variable and all variables together (as float32) are each held
 * to the file budget, mnv3_file_budget() (formats.h). */
#define MNV3_KERAS_MAX_DEPTH 16      /* group nesting walked */
#define MNV3_KERAS_MAX_TENSORS 20000 /* variables in one file (MobileNetV3: about 300) */

/* Reads an HDF5 Keras weights file or a .keras archive (chosen by content). */
int mnv3_read_keras_h5(const char *path, mnv3_tensors *out, mnv3_error *err);
/* Same on a memory image; label names the input in error messages. */
int mnv3_read_keras_h5_buffer(const void *buf, size_t len, const char *label,
                              mnv3_tensors *out, mnv3_error *err);

/* For tests: the sandbox's reader process raises this signal before it
 * parses (0, the default: none), so every way it can end is exercised. */
void mnv3_set_hdf5_sandbox_fault(int sig);

/* Writes tensors named "<layer>/<variable>" (Keras 3 names, HWIO shapes,
 * float32, in model order) as a Keras 3 .weights.h5: /layers/<class>[_N]/vars
 * with attribute name = <layer> and datasets "0", "1", ... in the class's
 * variable order, N counting layers of the class in order, and /vars named
 * "model". The class is inferred from the variables: gamma / beta /
 * moving_mean / moving_variance -> BatchNormalization; kernel of rank 2 ->
 * Dense; kernel of rank 4 -> Conv2D, except (kh, kw, C, 1) with C > 1, a
 * kernel called depthwise_kernel, or (kh, kw, 1, 1) in a layer whose name
 * contains "depthwise" -> DepthwiseConv2D; optional bias. Weightless layers
 * get no group (Keras 3 loads such a file: a missing group reads as empty). */
int mnv3_write_keras_weights_h5(const char *path, const mnv3_tensors *ts, mnv3_error *err);

/* Nonzero when head (the first n bytes of a file) starts an HDF5 file: the
 * signature at offset 0 or 512 (pass at least 520 bytes to see the latter). */
int mnv3_keras_h5_sniff(const void *head, size_t n);
/* Nonzero when path is a zip archive holding a member "model.weights.h5"
 * (a Keras 3 .keras file). Never fails: unreadable -> 0. */
int mnv3_keras_archive_sniff(const char *path);
/* What a zip archive is to Keras: 2 a .keras archive with model.weights.h5,
 * 1 a .keras archive without it (config.json or metadata.json only, or a
 * zip named *.keras without a data.pkl), 0 anything else (unreadable too). */
int mnv3_keras_archive_kind(const char *path);

#endif
