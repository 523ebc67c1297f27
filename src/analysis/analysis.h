/* Analysis rules shared by every front end (the CLI, tests, an embedder):
 * what switching a player from side A to side B means, which pipeline a
 * profile's framework uses and what a pipeline hands the model, how dumps
 * made elsewhere are named, and the small metrics (relative L2, top-5).
 * Each rule is written here once. */
#ifndef MNV3_ANALYSIS_H
#define MNV3_ANALYSIS_H

#include <stddef.h>

#include "analysis/explain.h"

/* ---- switching ------------------------------------------------------------ */

/* Side A with the players in mask (bit i: sw[i]) set to side B's choice:
 * a factor or a group of factors, the weights, or the input (which carries
 * its in-model rescaling with it). The one definition of "switched". */
void mnv3_side_switch(const mnv3_side *a, const mnv3_side *b, const mnv3_switch *sw, int n_sw,
                      unsigned mask, mnv3_side *out);

/* ---- pipelines and profiles ----------------------------------------------- */

/* The image pipeline a profile's framework feeds its model by default. */
const char *mnv3_default_pipeline(const char *profile_name);

/* 1 for the "-raw" pipelines: they hand over 0..255 pixels for a model that
 * rescales inside; every other pipeline hands over what the first
 * convolution sees. */
int mnv3_pipeline_is_raw(const char *pipeline);

/* The in-model rescaling a profile needs after a pipeline: switched off
 * unless the pipeline is raw. */
void mnv3_profile_after_pipeline(mnv3_profile *p, const char *pipeline);

/* The input a profile expects, in one line: layout and shape, and whether
 * the model rescales its input (then it wants 0..255 pixels, not normalised
 * values). Returns the length written, as snprintf. */
int mnv3_input_contract(const mnv3_profile *p, mnv3_layout layout, char *buf, size_t size);

/* ---- dumps made elsewhere ------------------------------------------------- */

/* Renames the layers of a dump made outside mnv3 (tools/dump_torch.py:
 * torchvision module paths; tools/dump_keras.py: Keras 3 layer names) to
 * canonical names, transposes a Keras dump's NHWC maps to NCHW and its
 * [N,1,1,K] head vectors to [N,K]. Keras's SE re_lu_N is relu6(x+3), not the
 * gate: it becomes "<canonical>:relu6_only". Tensors already canonical are
 * kept. source names the dump in messages. */
int mnv3_dump_canonicalise(mnv3_tensors *ts, const char *source, mnv3_error *err);

/* ---- metrics --------------------------------------------------------------- */

/* ||x - ref|| / ||ref||, in double; INFINITY when ref is zero and x is not.
 * mnv3_diff_compute's rel_l2 is the same number for finite values. */
double mnv3_rel_l2(const float *x, const float *ref, size_t n);

/* Indices of the five largest values, largest first (ties: lower index
 * first); -1 where n < 5. */
void mnv3_top5(const float *v, int64_t n, int64_t idx[5]);

#endif
