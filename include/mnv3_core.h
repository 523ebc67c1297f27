/* mnv3_core.h: the core of mnv3, MobileNetV3 in portable C reproducing
 * torchvision and Keras numerics. Tensors, the architecture, profiles and
 * factors, models built from tensors, export, synthetic weights, running,
 * sessions, layer names and metrics. Nothing declared here opens a file:
 * the core needs libm alone (mnv3_io.h has the file readers and writers).
 *
 * Data flow:  weights file -> mnv3_tensors (framework names, as stored)
 *             -> mnv3_model (canonical names, block table)  + mnv3_profile
 *             -> mnv3_plan (ops resolved for one input size) -> run -> taps/output
 *
 * Errors. The library never prints, never exits, never reads the
 * environment and never forks (unless asked to: mnv3_set_hdf5_sandbox).
 * Every fallible call returns MNV3_OK or MNV3_FAIL and, on failure, fills
 * the caller's mnv3_error (which may be NULL) with a code (mnv3_error_code)
 * and one line, "FILE: problem", ready to print.
 *
 * Ownership. The caller owns what it passes in and what a call hands out:
 *   - mnv3_tensors: owns every item's name and data (malloc'd); free with
 *     mnv3_tensors_free. A single mnv3_tensor filled by a reader (e.g.
 *     mnv3_read_npy) owns its name and data; free with mnv3_tensor_free.
 *   - mnv3_model: holds its own copy of the weights, so the tensors it was
 *     built from may be freed at once. Free with mnv3_model_free, and only
 *     after every session made from it: a model outlives its sessions.
 *   - mnv3_session: free with mnv3_session_free. The profile and options
 *     passed to mnv3_session_create are read during the call only.
 *   - Strings and tables returned as const (factor names, profiles,
 *     mnv3_version, mnv3_error_code_name) are static: never free them.
 *
 * Thread safety. The library has no hidden global state apart from the
 * HDF5 sandbox switch (mnv3_io.h), so:
 *   - functions on distinct objects may run concurrently;
 *   - const objects may be shared: any number of threads may use one model
 *     at once (mnv3_run, mnv3_session_create, mnv3_model_export, ...), and the
 *     factor and profile tables are read-only;
 *   - mnv3_session_run may be called concurrently on one session: running
 *     leaves the session unchanged, and outputs are bit-identical to serial
 *     runs. (For the most throughput, give each calling thread a session of
 *     its own; all may share one model.)
 *   - a session or model must not be freed while another thread uses it,
 *     and an mnv3_tensors being modified must not be read elsewhere;
 *   - taps are called during the run that produces them, on a thread of
 *     that run; they must not free the session.
 * The HDF5 readers and writer (mnv3_io.h) are the exception: libhdf5 is not
 * thread-safe in its usual builds, so call them from one thread at a time. */
#ifndef MNV3_CORE_H
#define MNV3_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version -------------------------------------------------------------- */

/* Kept equal to project(mnv3 VERSION ...) in CMakeLists.txt (checked there). */
#define MNV3_VERSION_MAJOR 0
#define MNV3_VERSION_MINOR 1
#define MNV3_VERSION_PATCH 0
/* The three numbers as one integer, for compile-time comparisons. */
#define MNV3_VERSION_NUMBER \
    (MNV3_VERSION_MAJOR * 10000 + MNV3_VERSION_MINOR * 100 + MNV3_VERSION_PATCH)

/* "MAJOR.MINOR.PATCH" of the library linked in (which may differ from the
 * header's MNV3_VERSION_* macros if the two come from different installs). */
const char *mnv3_version(void);

/* ---- errors --------------------------------------------------------------- */

#define MNV3_OK 0
#define MNV3_FAIL (-1)

/* What kind of failure; the message says which one exactly. Codes are
 * stable: new ones are only ever appended. */
typedef enum mnv3_error_code {
    MNV3_ERR_NONE = 0,    /* no error */
    MNV3_ERR_OTHER,       /* not classified */
    MNV3_ERR_ARGUMENT,    /* the caller passed an invalid argument or option */
    MNV3_ERR_IO,          /* a file could not be opened, read, written or created */
    MNV3_ERR_FORMAT,      /* the content is malformed, truncated or not what it claims */
    MNV3_ERR_LIMIT,       /* the input exceeds a size or count the readers allow */
    MNV3_ERR_UNSUPPORTED, /* well-formed, but a kind mnv3 does not handle */
    MNV3_ERR_SHAPE,       /* a tensor or input has the wrong shape or size */
    MNV3_ERR_MISSING,     /* something needed is absent (tensor, member, group) */
    MNV3_ERR_NONFINITE,   /* a value is NaN or infinite */
    MNV3_ERR_MEMORY,      /* out of memory */
    MNV3_ERR_SYSTEM,      /* the system refused (threads, fork, pipe) */
    MNV3_ERR_COUNT        /* number of codes, not a code */
} mnv3_error_code;

typedef struct mnv3_error {
    char message[768]; /* one line, "FILE: problem" */
    int code;          /* an mnv3_error_code */
} mnv3_error;

/* "io", "format", ...: a short lowercase name for a code ("unknown" if out
 * of range). */
const char *mnv3_error_code_name(int code);

/* ---- tensors ------------------------------------------ */

#define MNV3_MAX_DIMS 8

typedef enum mnv3_dtype {
    MNV3_F32 = 0, /* floating data is always converted to float32 on read */
    MNV3_I64 = 1  /* integer data (e.g. num_batches_tracked) kept as int64 */
} mnv3_dtype;

typedef struct mnv3_tensor {
    char *name;
    mnv3_dtype dtype;
    char source_dtype[16]; /* as stored in the file: "F32", "F16", "I64", ... */
    int ndim;
    int64_t shape[MNV3_MAX_DIMS];
    void *data; /* owned; float* or int64_t* by dtype */
} mnv3_tensor;

/* What a file's model config says about BatchNorm, when it carries one
 * (Keras: an .h5's model_config attribute, a .keras archive's config.json).
 * The model check (mnv3_model_from_tensors) turns it into problems. */
typedef struct mnv3_config_facts {
    int present;            /* 0: no config; 1: read; -1: found but not readable JSON */
    int bn_layers;          /* BatchNormalization layers it lists */
    int bn_eps_invalid;     /* of those, epsilon missing, not a number, or <= 0 */
    double bn_eps_min, bn_eps_max; /* over the others */
} mnv3_config_facts;

typedef struct mnv3_tensors {
    mnv3_tensor *items;
    size_t count, capacity;
    char format[32]; /* "pth", "safetensors", "npz", ... */
    mnv3_config_facts config;
    /* item indices sorted by name (mnv3_tensors_index; every reader makes it),
     * valid while by_name_count == count: finds are then O(log n). */
    size_t *by_name;
    size_t by_name_count;
} mnv3_tensors;

int64_t mnv3_tensor_numel(const mnv3_tensor *t);
/* Frees one tensor's name and data and zeroes it (not t itself). NULL is fine. */
void mnv3_tensor_free(mnv3_tensor *t);
/* Frees every item and the list's storage, and empties it. NULL is fine. */
void mnv3_tensors_free(mnv3_tensors *ts);
/* By name: a binary search when indexed, else a scan. */
const mnv3_tensor *mnv3_tensors_find(const mnv3_tensors *ts, const char *name);
/* Sorts the index by name (again after renaming items in place). */
int mnv3_tensors_index(mnv3_tensors *ts, mnv3_error *err);
/* Appends a copy of name; takes ownership of data (must come from malloc). */
int mnv3_tensors_add(mnv3_tensors *ts, const char *name, mnv3_dtype dtype, int ndim,
                     const int64_t *shape, void *data, mnv3_error *err);

/* ---- architecture ---------------------------------------------------------- */

typedef enum mnv3_act { MNV3_ACT_NONE, MNV3_ACT_RELU, MNV3_ACT_HSWISH } mnv3_act;

typedef struct mnv3_block_spec {
    int in, kernel, expanded, out, use_se, stride;
    mnv3_act act;
} mnv3_block_spec;

#define MNV3_MAX_BLOCKS 16

typedef struct mnv3_arch {
    char name[32];
    int stem_out;
    mnv3_act stem_act;
    int n_blocks;
    mnv3_block_spec blocks[MNV3_MAX_BLOCKS];
    int last_out;
    mnv3_act last_act;
    int head_hidden;  /* classifier hidden width (1024) */
    int num_classes;  /* 0 = backbone only, output is pooled features */
    float bn_eps;
    int bn_folded;    /* BatchNorm already folded into conv weight + bias (TFLite) */
} mnv3_arch;

/* MobileNetV3-Small, width 1.0, built from its block table. */
void mnv3_arch_small(mnv3_arch *arch, int num_classes);

/* ---- profiles and factors -------------------------------------------------- */

/* Factors are listed once, in src/factors/factors.c. */
#define MNV3_MAX_FACTORS 64

typedef struct mnv3_profile {
    char name[32];
    char description[160];
    int option[MNV3_MAX_FACTORS]; /* option index per factor */
} mnv3_profile;

int mnv3_factor_count(void);
const char *mnv3_factor_name(int factor);
const char *mnv3_factor_description(int factor);
int mnv3_factor_option_count(int factor);
const char *mnv3_factor_option_name(int factor, int option);
const char *mnv3_factor_option_description(int factor, int option);
int mnv3_factor_find(const char *name);
int mnv3_factor_option_find(int factor, const char *option);
/* Training factors (BatchNorm in training mode, ...) do not change inference. */
int mnv3_factor_is_training(int factor);
/* 1 for the integer factors (quantized models only; no effect on float models). */
int mnv3_factor_is_integer(int factor);

int mnv3_profile_count(void);
const mnv3_profile *mnv3_profile_at(int i);
const mnv3_profile *mnv3_profile_find(const char *name);
/* "factor=option" overrides a profile in place. */
int mnv3_profile_set(mnv3_profile *p, const char *assignment, mnv3_error *err);

/* batchnorm=tf_rsqrt uses this CPU's rsqrt estimate, which differs between CPU
 * vendors (so do Keras 3's results): a hash of it over every 12-bit mantissa. */
uint32_t mnv3_tf_rsqrt_fingerprint(void);

/* ---- model ------------------------------------------------------------------ */

typedef struct mnv3_model mnv3_model;

typedef enum mnv3_problem_kind {
    MNV3_PROBLEM_MISSING, MNV3_PROBLEM_EXTRA, MNV3_PROBLEM_SHAPE, MNV3_PROBLEM_NONFINITE,
    MNV3_PROBLEM_DTYPE,
    MNV3_PROBLEM_VALUE, /* finite but impossible or overflowing: a negative running_var */
    MNV3_PROBLEM_KIND_COUNT /* number of kinds, not a kind */
} mnv3_problem_kind;

typedef struct mnv3_problem {
    mnv3_problem_kind kind;
    char text[200];
} mnv3_problem;

typedef struct mnv3_load_report {
    char naming[32];       /* "torchvision", "canonical" */
    char variant[64];      /* "mobilenet_v3_small (backbone)" */
    int has_head;
    int num_classes;
    size_t n_tensors;
    int64_t n_parameters;  /* learnable */
    int64_t n_buffers;     /* BN running statistics */
    size_t n_problems;
    mnv3_problem problems[64];
    size_t n_problems_dropped;
} mnv3_load_report;

/* Maps framework names to canonical ones, checks every shape and value.
 * Fails if any tensor the architecture needs is missing or misshaped, or
 * any value is NaN/Inf, a BatchNorm running_var is negative, or a magnitude
 * is so large (> MNV3_MAX_PLAUSIBLE_MAGNITUDE) that float32 overflows within
 * a few layers; report (optional) lists every problem. */
#define MNV3_MAX_PLAUSIBLE_MAGNITUDE 1e12
/* With on, value problems (MNV3_PROBLEM_VALUE) are reported but the model
 * still loads: the CLI's --allow-problems. Process-wide; off by default. */
void mnv3_set_allow_problems(int on);
int mnv3_allow_problems(void); /* 1 when on */
int mnv3_model_from_tensors(const mnv3_tensors *ts, const char *source, mnv3_model **out,
                            mnv3_load_report *report, mnv3_error *err);
/* NULL is fine. Free every session of the model first. */
void mnv3_model_free(mnv3_model *m);
const mnv3_arch *mnv3_model_arch(const mnv3_model *m);
/* Canonical-named float32 tensors of the model. */
const mnv3_tensors *mnv3_model_tensors(const mnv3_model *m);

typedef enum mnv3_naming {
    MNV3_NAMING_CANONICAL,   /* stem.conv.weight, OIHW */
    MNV3_NAMING_TORCHVISION, /* features.0.0.weight, OIHW, with num_batches_tracked */
    MNV3_NAMING_KERAS,       /* Keras 3: conv/kernel, HWIO; depthwise (kh,kw,C,1) */
    MNV3_NAMING_COUNT        /* number of namings, not a naming */
} mnv3_naming;

/* The model's weights in a framework's names and layouts, in model order.
 * Layout changes are transpositions only, so conversions are bit-exact. */
int mnv3_model_export(const mnv3_model *m, mnv3_naming naming, mnv3_tensors *out,
                      mnv3_error *err);

/* Seeded synthetic weights with realistic BatchNorm statistics, named as a
 * torchvision state_dict (num_batches_tracked included), and a seeded input
 * in [-2.1, 2.6] like ImageNet-normalised pixels. Identical on every
 * machine: the generator uses integer arithmetic and IEEE float only. */
int mnv3_synth_weights(uint64_t seed, int num_classes, mnv3_tensors *out, mnv3_error *err);
void mnv3_synth_input(uint64_t seed, int n, int c, int h, int w, float *out_nchw);

/* ---- running -------------------------------------------------------------- */

typedef enum mnv3_layout { MNV3_NCHW = 0, MNV3_NHWC = 1 } mnv3_layout;

/* One tap per layer output; shape is NCHW for maps, (N, C) for vectors,
 * batch dimension = 1 (called once per sample). */
typedef void (*mnv3_tap_fn)(void *user, int sample, const char *name, int ndim,
                            const int64_t *shape, const float *data);

typedef struct mnv3_run_options {
    const mnv3_profile *profile;
    mnv3_tap_fn tap;   /* optional */
    void *tap_user;
    /* Optional: activations of another run, [N, ...] per canonical name (as
     * `mnv3 dump` writes them). Each op then reads its inputs from these
     * instead of from this run, so every op's own error is seen in isolation. */
    const mnv3_tensors *replay;
} mnv3_run_options;

/* The torch profile, no tap, no replay. */
mnv3_run_options mnv3_run_options_default(void);

/* input: n samples, layout as given, float32. output: n * mnv3_output_size. */
int mnv3_output_size(const mnv3_model *m);
int mnv3_run(const mnv3_model *m, const mnv3_run_options *opt, const float *input,
             mnv3_layout layout, int n, int h, int w, float *output, mnv3_error *err);

/* ---- sessions: a model prepared for one input size ------------------------ */

/* A session resolves the plan once, packs weights, starts its threads and
 * allocates one arena, so mnv3_session_run allocates nothing. Kernels:
 * "reference" (the plain kernels of mnv3_run, one thread) or "fast" (SIMD,
 * fused, threaded; bit-identical to "reference" under the same profile, see
 * docs/performance.md). Results never depend on the thread count. With
 * threads > 1 and max_batch != 1, a batch (n > 1) runs whole samples per
 * thread, each in its own arena; a single sample splits every layer. */
typedef struct mnv3_session mnv3_session;

typedef struct mnv3_session_options {
    const char *kernels; /* "reference" | "fast" (default "fast"); NULL = "fast" */
    int threads;         /* worker threads including the caller; 0 = 1 (a build with
                          * MNV3_THREADS=OFF runs all on the caller, same results) */
    int max_batch;       /* largest n passed to run; 0 = any */
    const char *isa;     /* fast kernels only: "avx512" | "avx2" | "scalar"; NULL = best */
    mnv3_tap_fn tap;     /* optional: every layer's output, as mnv3_run (keeps all values) */
    void *tap_user;
    int planar_maps;     /* fast kernels: keep maps planar, never channel-blocked (for tests) */
    int time_steps;      /* time every fused step (mnv3_session_step_times) */
    /* Runs that may be in flight at once from different threads (1..16; 0 = 1). Each
     * gets its own arena and threads, made at creation; a run that finds all
     * of them busy waits for one. */
    int max_concurrent_runs;
} mnv3_session_options;

/* "fast" kernels, 1 thread, any batch, the best instruction set, no tap. */
mnv3_session_options mnv3_session_options_default(void);

int mnv3_session_create(const mnv3_model *m, const mnv3_profile *p, int h, int w,
                        mnv3_layout layout, const mnv3_session_options *o,
                        mnv3_session **out, mnv3_error *err);
/* input: n samples in the session's layout; output: n * mnv3_output_size.
 * Leaves the session as it was: up to max_concurrent_runs threads may run one
 * session at once (more wait), with bit-identical results (see the top). */
int mnv3_session_run(mnv3_session *s, const float *input, int n, float *output,
                     mnv3_error *err);
/* Time spent in one fused step, summed over every run with time_steps set
 * (batches split over lanes are not timed). */
typedef struct mnv3_step_time {
    const char *kind; /* "pointwise", "spatial", "matvec", "pool", "scale", "ref" */
    const char *op;   /* the step's first op */
    int out_h, out_w, in_c, out_c;
    double seconds;
} mnv3_step_time;
/* Fills out[0 .. min(count, max)) and returns the count of steps. Call it
 * while no run is in flight. */
int mnv3_session_step_times(const mnv3_session *s, mnv3_step_time *out, int max);
/* Bytes of the activation arenas (values and scratch; the batch lanes' and
 * every concurrent run's too), allocated at creation. */
size_t mnv3_session_arena_bytes(const mnv3_session *s);
/* Bytes of weights repacked for the fast kernels (0 for reference). */
size_t mnv3_session_packed_bytes(const mnv3_session *s);
/* "reference", or "fast/avx512", "fast/avx2", "fast/scalar", followed by
 * " blocked" when the maps are kept with channels in vector lanes (no taps). */
const char *mnv3_session_kernels(const mnv3_session *s);
/* Multiply-accumulates of one sample (convolutions and linear layers). */
int64_t mnv3_session_macs(const mnv3_session *s);
/* Stops the session's threads and frees it; NULL is fine. Call before
 * mnv3_model_free of its model. */
void mnv3_session_free(mnv3_session *s);

/* ---- layer names ----------------------------------------------------------- */

typedef struct mnv3_layer_name {
    char canonical[48];
    char torchvision[64];
    char keras[64];
    char op[16];
} mnv3_layer_name;

/* All layers of an architecture in execution order. Returns the count. */
int mnv3_layer_names(const mnv3_arch *arch, mnv3_layer_name *out, int max);

/* ---- metrics --------------------------------------------------------------- */

typedef struct mnv3_diff {
    int64_t count;
    double max_abs, mean_abs, rel_l2, cosine;
    uint64_t max_ulp;      /* dominated by values near zero, where a float's ULP is tiny */
    double median_ulp, p99_ulp;
    double frac_identical;
    int64_t nonfinite;
} mnv3_diff;

/* ULP distance between two floats on the ordered integer line. */
uint64_t mnv3_ulp_distance(float a, float b);
/* b is the reference. */
void mnv3_diff_compute(const float *a, const float *b, int64_t n, mnv3_diff *d);

#ifdef __cplusplus
}
#endif
#endif
