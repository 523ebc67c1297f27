/* mnv3_io.h: reading and writing files. Weight files (PyTorch .pth,
 * safetensors, Keras .weights.h5 / .h5 / .keras, float TFLite), .npy and
 * .npz arrays, and mnv3_model_load (read + mnv3_model_from_tensors). Needs
 * libzip, cJSON and libhdf5 (the mnv3 library, not mnv3_core alone).
 *
 * Readers fill out (which they first zero) and leave it empty on failure;
 * the caller frees it (mnv3_tensors_free, or mnv3_tensor_free for one
 * tensor). Every reader treats its file as untrusted: sizes are checked
 * before allocating. Errors, ownership and thread safety: see mnv3_core.h. */
#ifndef MNV3_IO_H
#define MNV3_IO_H

#include "mnv3_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads any supported weight file, choosing the reader by content. */
int mnv3_read_weights(const char *path, mnv3_tensors *out, mnv3_error *err);
int mnv3_read_pth(const char *path, mnv3_tensors *out, mnv3_error *err);
int mnv3_read_safetensors(const char *path, mnv3_tensors *out, mnv3_error *err);
/* Keras: 3 .weights.h5, 2 (tf-keras) .h5, 3 .keras archives; names "<layer>/<var>".
 * Parsed in this process unless mnv3_set_hdf5_sandbox(1) was called. */
int mnv3_read_keras_h5(const char *path, mnv3_tensors *out, mnv3_error *err);
/* Keras 3 .weights.h5 from "<layer>/<var>" tensors (Keras names, HWIO, model order). */
int mnv3_write_keras_weights_h5(const char *path, const mnv3_tensors *ts, mnv3_error *err);
/* Float TFLite MobileNetV3-Small (BatchNorm folded): canonical names, conv biases. */
int mnv3_read_tflite(const char *path, mnv3_tensors *out, mnv3_error *err);
int mnv3_write_safetensors(const char *path, const mnv3_tensors *ts, mnv3_error *err);
/* torch.save of a state dict (PyTorch 1.13's zip format): float32 and int64 tensors. */
int mnv3_write_pth(const char *path, const mnv3_tensors *ts, mnv3_error *err);

/* .npy / .npz (float32 only, little-endian, C order). */
int mnv3_read_npy(const char *path, mnv3_tensor *out, mnv3_error *err);
int mnv3_write_npy(const char *path, const mnv3_tensor *t, mnv3_error *err);
int mnv3_read_npz(const char *path, mnv3_tensors *out, mnv3_error *err);
int mnv3_write_npz(const char *path, const mnv3_tensors *ts, mnv3_error *err);

/* Reads a weight file (mnv3_read_weights) and builds the model from it. */
int mnv3_model_load(const char *path, mnv3_model **out, mnv3_load_report *report,
                    mnv3_error *err);

/* The HDF5 sandbox. libhdf5 trusts some on-disk indices that its API cannot
 * check first, so a hostile .h5 file can crash the process. With the sandbox
 * on, mnv3_read_keras_h5 (and mnv3_read_weights, mnv3_model_load on HDF5 and
 * .keras files) parse the file in a forked child process: a crash there
 * becomes an MNV3_ERR_FORMAT error. Off by default, since a library should
 * not fork behind its caller's back; the mnv3 command line turns it on.
 * POSIX only (elsewhere on is ignored). Process-wide: set it once at start-up,
 * before any thread reads a file. */
void mnv3_set_hdf5_sandbox(int on);
int mnv3_hdf5_sandbox(void); /* 1 when on */

/* The file budget: no reader allocates or inflates more than this many bytes
 * for one file (its tensors, or a single member or array), checked against
 * the sizes the file declares before any work. 256 MiB by default, which
 * holds every MobileNet weight file several times over; mnv3_set_file_budget
 * (0: back to the default) raises it, for large datasets and dumps (the CLI
 * sets it from MNV3_MAX_FILE_BYTES). Process-wide, like the sandbox. */
void mnv3_set_file_budget(size_t bytes);
size_t mnv3_file_budget(void);

#ifdef __cplusplus
}
#endif
#endif
