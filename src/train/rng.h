/* Seeded dropout masks as the frameworks draw them, so that a seeded run of
 * mnv3 drops the same elements as the framework without replaying a dump.
 *
 * PyTorch (CPU, torch 1.13.1 without MKL): torch.manual_seed(s) seeds one
 * mt19937; F.dropout(x, p, training=True) on a float32 tensor is
 * noise.bernoulli_(1 - p) (two mt19937 words per element, serial, whatever
 * the thread count), noise.div_(1 - p), x * noise. torch.randperm(n) on CPU
 * and the DataLoader's shuffle draw from the same generator.
 *
 * Keras 3 on TensorFlow: Dropout(rate, seed=S) owns a SeedGenerator whose
 * state [S, k] is the seed of call k (k = 0, 1, ...); each call is
 * tf.nn.experimental.stateless_dropout: Philox-4x32-10 uniforms, keep where
 * u >= rate. tf-keras: TF's legacy stateful RandomUniform kernel (Philox keyed
 * by the global seed, a counter that persists between executions).
 * docs/dropout.md has the derivations and the measurements.
 *
 * Everything here is deterministic, allocates nothing and needs libm alone. */
#ifndef MNV3_TRAIN_RNG_H
#define MNV3_TRAIN_RNG_H

#include <stddef.h>
#include <stdint.h>

/* ---- PyTorch's CPU generator ---------------------------------------------- */

#define MNV3_MT19937_N 624

/* mt19937 and its position: at::CPUGeneratorImpl's engine, and CPython's
 * `random` module (which Keras draws unseeded layers' seeds from). */
typedef struct mnv3_mt19937 {
    uint32_t state[MNV3_MT19937_N];
    int next;      /* index of the next word in state; N: regenerate first */
    uint64_t seed; /* what torch.initial_seed() reports */
} mnv3_mt19937;
typedef mnv3_mt19937 mnv3_torch_generator;

/* torch.manual_seed(seed) / Generator.manual_seed(seed): the engine takes the
 * low 32 bits (mt19937's init_genrand); initial_seed keeps all 64. */
void mnv3_torch_generator_seed(mnv3_torch_generator *g, uint64_t seed);
/* One engine word (CPUGeneratorImpl::random). */
uint32_t mnv3_torch_random32(mnv3_torch_generator *g);
/* Two engine words, the first one high (CPUGeneratorImpl::random64). */
uint64_t mnv3_torch_random64(mnv3_torch_generator *g);

/* Draws and discards `words` engine words (what other consumers took). */
void mnv3_torch_skip(mnv3_torch_generator *g, uint64_t words);
/* The words that building a torchvision-style model after manual_seed takes:
 * every Conv2d/Linear constructor draws one word per weight and bias element
 * (reset_parameters: kaiming_uniform_, uniform_), then torchvision re-draws each
 * weight with normal_ (n words, plus 16 when n % 16 != 0; n >= 16 here).
 * weight_counts/bias_counts: per Conv2d/Linear layer (bias 0 when absent). */
uint64_t mnv3_torch_init_words(size_t layers, const uint64_t *weight_counts,
                               const uint64_t *bias_counts);

/* The keep mask of F.dropout(x, p, training=True) over n elements of a float32
 * CPU tensor, in memory order (1 = keep): element i keeps when the 53 low bits
 * of random64() times 2^-53 are < 1 - p (computed in double). Consumes 2n
 * engine words. p <= 0 keeps all and p >= 1 keeps none, drawing nothing, as
 * PyTorch (which returns x, or x * 0, for those). */
void mnv3_torch_dropout_keep(mnv3_torch_generator *g, double p, size_t n, uint8_t *keep);
/* The factor a kept element is multiplied by: noise.div_(1 - p) divides the
 * float32 1 by the scalar rounded to float32, so 1.0f / (float)(1 - p). */
float mnv3_torch_dropout_scale(double p);

/* torch.randperm(n) on CPU (int64, n >= 1): identity, then for i < n-1 swap
 * i with i + random32() % (n - i). Consumes n - 1 engine words. */
void mnv3_torch_randperm(mnv3_torch_generator *g, int64_t n, int64_t *perm);
/* torch.empty((), dtype=torch.int64).random_(): random64() modulo 2^63. */
int64_t mnv3_torch_random_int64(mnv3_torch_generator *g);
/* The order in which torch.utils.data.DataLoader(shuffle=True) without its
 * own generator visits n samples in one epoch (one `for batch in loader`):
 * the iterator draws its base seed, then RandomSampler draws a seed for a
 * fresh Generator and takes randperm(n) from it. Consumes 4 words of g. */
void mnv3_torch_dataloader_epoch_order(mnv3_torch_generator *g, int64_t n, int64_t *order);

/* ---- CPython's random, for Keras's unseeded layers ----------------------- */

/* random.seed(seed) for 0 <= seed < 2^64: init_by_array over its 32-bit words,
 * low word first (one word for seeds below 2^32). */
void mnv3_python_random_seed(mnv3_mt19937 *g, uint64_t seed);
/* random.randint(1, 10**9): what keras.random.SeedGenerator(seed=None) takes
 * as its seed (make_default_seed). After keras.utils.set_random_seed(S) the
 * first unseeded Dropout built gets the first of these from
 * mnv3_python_random_seed(S); every other Python `random` use before it moves
 * the stream on. */
int64_t mnv3_keras_default_seed(mnv3_mt19937 *python_random);

/* ---- Keras 3 / TensorFlow stateless dropout ------------------------------ */

/* keras.random.SeedGenerator: an int64 variable [seed, counter]. */
typedef struct mnv3_keras_seed_generator {
    int64_t seed;
    int64_t counter;
} mnv3_keras_seed_generator;

void mnv3_keras_seed_generator_init(mnv3_keras_seed_generator *g, int64_t seed);

/* Philox-4x32-10 key and counter, as TF's stateless ops derive them from an
 * int32 seed pair (stateless_random_ops.cc GenerateKey). */
typedef struct mnv3_philox {
    uint32_t key[2];
    uint32_t counter[4];
} mnv3_philox;
void mnv3_philox_from_seed(mnv3_philox *ph, int32_t seed0, int32_t seed1);
/* One Philox-4x32-10 block at the current counter, then counter += 1. */
void mnv3_philox_next(mnv3_philox *ph, uint32_t out[4]);
/* tf.random.stateless_uniform(shape=[n], seed=[seed0, seed1]) in float32:
 * 23 low bits of each word as the mantissa of [1, 2), minus 1. */
void mnv3_tf_stateless_uniform(int32_t seed0, int32_t seed1, size_t n, float *out);

/* How a Philox word becomes a float32 uniform in [0, 1). */
typedef enum mnv3_uniform_bits {
    MNV3_UNIFORM_LOW_MANTISSA, /* TF's CPU/GPU kernels: (x & 0x7fffff) * 2^-23 (mantissa trick) */
    MNV3_UNIFORM_HIGH_BITS,    /* XLA (jit_compile=True): (x >> 9) * 2^-23 */
    MNV3_UNIFORM_BITS_COUNT
} mnv3_uniform_bits;

/* keras.layers.Dropout(rate, seed=...)(x, training=True) over n elements of a
 * float32 tensor (noise_shape None), in memory order: draws the state (then
 * counter += 1), casts it to int32 by floormod(., 2^31 - 2), and keeps where
 * the uniform >= (float)rate. rate <= 0 keeps all and rate >= 1 none, without
 * drawing a seed (Keras returns x or zeros before it). The same Philox words feed both
 * conversions: eager and tf.function use LOW_MANTISSA, XLA-compiled steps
 * HIGH_BITS. */
void mnv3_keras_dropout_keep_bits(mnv3_keras_seed_generator *g, double rate, size_t n,
                                  mnv3_uniform_bits bits, uint8_t *keep);
/* The same with LOW_MANTISSA: Keras's model.fit on a CPU-only machine (which
 * turns jit_compile="auto" off), eager calls and tf.function. */
void mnv3_keras_dropout_keep(mnv3_keras_seed_generator *g, double rate, size_t n,
                             uint8_t *keep);
/* The kept elements' factor: scale = 1 / (1 - rate) in double, to float32;
 * the layer computes x * scale (then selects it or 0). */
float mnv3_keras_dropout_scale(double rate);

/* ---- tf-keras (Keras 2) seeded dropout: TF's legacy stateful op ---------- */

/* tf_keras.layers.Dropout(rate, seed=S) (tf.random.Generator not enabled, the
 * default) calls tf.nn.dropout(seed=S + j) on its j-th call (j counts traced
 * calls: model.fit traces once, so every step uses S). That is a stateful
 * RandomUniform op with attributes seed = the global seed (tf.random.set_seed,
 * else 87654321) and seed2 = the op seed, each taken modulo 2^31 - 1 ((0, 0)
 * becomes (0, 2^31 - 1)). Its kernel holds one Philox: key = seed, counter =
 * (0, 0, seed2) in 64-bit halves, and every execution over n elements starts
 * at the kernel's counter and moves it on by n * 256 blocks. Eager TF caches
 * that kernel per attribute set, so a second layer with the same seed in one
 * process continues the first one's counter. */
void mnv3_tf_legacy_kernel_init(mnv3_philox *kernel, int64_t global_seed, int64_t op_seed);
/* One execution of the kernel for the keep mask over n elements (keep where
 * the float32 uniform, low-mantissa, >= (float)rate); counter += n * 256.
 * rate <= 0 keeps all without executing (the layer returns x); tf.nn.dropout
 * refuses rate >= 1, here it keeps none without executing. */
void mnv3_tf_legacy_dropout_keep(mnv3_philox *kernel, double rate, size_t n, uint8_t *keep);
/* tf.random.set_seed's default when none was set, for global_seed. */
#define MNV3_TF_DEFAULT_GRAPH_SEED 87654321

/* ---- one seeded dropout stream, by the generator a profile names ---------- */

enum mnv3_dropout_generator {
    MNV3_DROPOUT_MT19937_BERNOULLI, /* mnv3_torch_dropout_keep on a manual_seed generator */
    MNV3_DROPOUT_PHILOX_STATELESS,  /* mnv3_keras_dropout_keep on a seeded SeedGenerator */
    MNV3_DROPOUT_PHILOX_STATEFUL    /* mnv3_tf_legacy_dropout_keep, default global seed */
};
typedef struct mnv3_dropout_stream {
    int generator;
    mnv3_torch_generator torch;
    mnv3_keras_seed_generator keras;
    mnv3_philox legacy;
} mnv3_dropout_stream;
void mnv3_dropout_stream_init(mnv3_dropout_stream *s, int generator, uint64_t seed);
/* The next call's keep mask over n elements (1 = keep). */
void mnv3_dropout_stream_next(mnv3_dropout_stream *s, double p, size_t n, uint8_t *keep);

#endif
