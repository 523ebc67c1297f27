/* Seeded dropout masks: PyTorch's mt19937 CPU generator and TensorFlow's
 * Philox stateless uniforms, as Keras 3 seeds them (see rng.h). */
#include <string.h>

#include "train/rng.h"

/* ---- mt19937 (MT19937RNGEngine.h: the reference algorithm) ---------------- */

enum { MT_M = 397 };
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

void mnv3_torch_generator_seed(mnv3_torch_generator *g, uint64_t seed) {
    g->seed = seed;
    g->state[0] = (uint32_t)(seed & 0xffffffffu);
    for (int j = 1; j < MNV3_MT19937_N; j++) {
        uint32_t prev = g->state[j - 1];
        g->state[j] = 1812433253u * (prev ^ (prev >> 30)) + (uint32_t)j;
    }
    g->next = MNV3_MT19937_N;
}

static void mt_regenerate(mnv3_torch_generator *g) {
    uint32_t *s = g->state;
    for (int i = 0; i < MNV3_MT19937_N; i++) {
        uint32_t y = (s[i] & MT_UPPER) | (s[(i + 1) % MNV3_MT19937_N] & MT_LOWER);
        s[i] = s[(i + MT_M) % MNV3_MT19937_N] ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
    }
    g->next = 0;
}

uint32_t mnv3_torch_random32(mnv3_torch_generator *g) {
    if (g->next >= MNV3_MT19937_N) mt_regenerate(g);
    uint32_t y = g->state[g->next++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint64_t mnv3_torch_random64(mnv3_torch_generator *g) {
    uint64_t hi = mnv3_torch_random32(g);
    uint64_t lo = mnv3_torch_random32(g);
    return (hi << 32) | lo;
}

/* ---- CPython's random (_randommodule.c: init_by_array, _randbelow) ------- */

void mnv3_python_random_seed(mnv3_mt19937 *g, uint64_t seed) {
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const int key_length = (seed >> 32) ? 2 : 1;
    uint32_t *mt = g->state;
    mnv3_torch_generator_seed(g, 19650218u);
    g->seed = seed;
    int i = 1, j = 0;
    for (int k = MNV3_MT19937_N > key_length ? MNV3_MT19937_N : key_length; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
        i++, j++;
        if (i >= MNV3_MT19937_N) mt[0] = mt[MNV3_MT19937_N - 1], i = 1;
        if (j >= key_length) j = 0;
    }
    for (int k = MNV3_MT19937_N - 1; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= MNV3_MT19937_N) mt[0] = mt[MNV3_MT19937_N - 1], i = 1;
    }
    mt[0] = 0x80000000u;
    g->next = MNV3_MT19937_N;
}

int64_t mnv3_keras_default_seed(mnv3_mt19937 *python_random) {
    /* randint(1, 1e9) = 1 + _randbelow(1e9): getrandbits(30) until below 1e9. */
    const uint32_t n = 1000000000u;
    uint32_t r;
    do r = mnv3_torch_random32(python_random) >> 2;
    while (r >= n);
    return 1 + (int64_t)r;
}

/* ---- PyTorch dropout, randperm, DataLoader order ------------------------- */

void mnv3_torch_skip(mnv3_torch_generator *g, uint64_t words) {
    for (uint64_t i = 0; i < words; i++) (void)mnv3_torch_random32(g);
}

uint64_t mnv3_torch_init_words(size_t layers, const uint64_t *weight_counts,
                               const uint64_t *bias_counts) {
    uint64_t words = 0;
    for (size_t i = 0; i < layers; i++) {
        uint64_t n = weight_counts[i];
        words += n + bias_counts[i];      /* reset_parameters: uniform_, 1 word each */
        words += n + (n % 16 ? 16u : 0u); /* normal_: n uniforms, the last 16 redrawn */
    }
    return words;
}

void mnv3_torch_dropout_keep(mnv3_torch_generator *g, double p, size_t n, uint8_t *keep) {
    /* bernoulli_distribution<double>(1 - p): uniform_real_distribution<double>
     * takes random64()'s 53 low bits times 2^-53 (exact in double). */
    if (p <= 0.0 || p >= 1.0) { /* _dropout_impl returns x or x * 0: no draws */
        memset(keep, p <= 0.0 ? 1 : 0, n);
        return;
    }
    const double keep_probability = 1.0 - p;
    const uint64_t mask53 = ((uint64_t)1 << 53) - 1;
    const double two_to_minus_53 = 1.0 / (double)((uint64_t)1 << 53);
    for (size_t i = 0; i < n; i++) {
        double u = (double)(mnv3_torch_random64(g) & mask53) * two_to_minus_53;
        keep[i] = (uint8_t)(u < keep_probability);
    }
}

float mnv3_torch_dropout_scale(double p) {
    return 1.0f / (float)(1.0 - p);
}

void mnv3_torch_randperm(mnv3_torch_generator *g, int64_t n, int64_t *perm) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = 0; i + 1 < n; i++) {
        int64_t z = (int64_t)((uint64_t)mnv3_torch_random32(g) % (uint64_t)(n - i));
        int64_t saved = perm[i];
        perm[i] = perm[z + i];
        perm[z + i] = saved;
    }
}

int64_t mnv3_torch_random_int64(mnv3_torch_generator *g) {
    return (int64_t)(mnv3_torch_random64(g) & (((uint64_t)1 << 63) - 1));
}

void mnv3_torch_dataloader_epoch_order(mnv3_torch_generator *g, int64_t n, int64_t *order) {
    (void)mnv3_torch_random_int64(g); /* _BaseDataLoaderIter's _base_seed */
    int64_t sampler_seed = mnv3_torch_random_int64(g);
    mnv3_torch_generator local;
    mnv3_torch_generator_seed(&local, (uint64_t)sampler_seed);
    mnv3_torch_randperm(&local, n, order);
}

/* ---- Philox-4x32-10 (TF's philox_random.h: Salmon et al. 2011) ------------ */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void philox_block(const uint32_t counter_in[4], const uint32_t key_in[2], uint32_t out[4]) {
    uint32_t c[4] = {counter_in[0], counter_in[1], counter_in[2], counter_in[3]};
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
        uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
        uint32_t r0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0;
        uint32_t r1 = (uint32_t)p1;
        uint32_t r2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        uint32_t r3 = (uint32_t)p0;
        c[0] = r0, c[1] = r1, c[2] = r2, c[3] = r3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    memcpy(out, c, sizeof c);
}

void mnv3_philox_next(mnv3_philox *ph, uint32_t out[4]) {
    philox_block(ph->counter, ph->key, out);
    for (int i = 0; i < 4; i++) /* 128-bit increment */
        if (++ph->counter[i] != 0) break;
}

void mnv3_philox_from_seed(mnv3_philox *ph, int32_t seed0, int32_t seed1) {
    /* The int32 seeds widen to uint64 with their sign, then scramble once. */
    uint64_t s0 = (uint64_t)(int64_t)seed0, s1 = (uint64_t)(int64_t)seed1;
    const uint32_t key[2] = {0x3ec8f720u, 0x02461e29u};
    const uint32_t counter[4] = {(uint32_t)s0, (uint32_t)(s0 >> 32), (uint32_t)s1,
                                 (uint32_t)(s1 >> 32)};
    uint32_t mix[4];
    philox_block(counter, key, mix);
    ph->key[0] = mix[0];
    ph->key[1] = mix[1];
    ph->counter[0] = 0;
    ph->counter[1] = 0;
    ph->counter[2] = mix[2];
    ph->counter[3] = mix[3];
}

static float uint32_to_unit_float(uint32_t x) {
    uint32_t bits = (127u << 23) | (x & 0x7fffffu); /* [1, 2) */
    float f;
    memcpy(&f, &bits, sizeof f);
    return f - 1.0f;
}

void mnv3_tf_stateless_uniform(int32_t seed0, int32_t seed1, size_t n, float *out) {
    mnv3_philox ph;
    mnv3_philox_from_seed(&ph, seed0, seed1);
    uint32_t block[4];
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0) mnv3_philox_next(&ph, block);
        out[i] = uint32_to_unit_float(block[i % 4]);
    }
}

/* ---- Keras 3 seeded dropout ---------------------------------------------- */

void mnv3_keras_seed_generator_init(mnv3_keras_seed_generator *g, int64_t seed) {
    g->seed = seed;
    g->counter = 0;
}

/* tf.math.floormod(v, 2^31 - 2), then int32 (keras _cast_seed). */
static int32_t keras_cast_seed(int64_t v) {
    const int64_t m = 2147483646;
    int64_t r = v % m;
    if (r < 0) r += m;
    return (int32_t)r;
}

/* XLA's ConvertRandomBitsToUniformFloatingPoint: the 23 high bits, scaled. */
static float uint32_high_bits_to_unit_float(uint32_t x) {
    return (float)(x >> 9) * 0x1p-23f;
}

void mnv3_keras_dropout_keep_bits(mnv3_keras_seed_generator *g, double rate, size_t n,
                                  mnv3_uniform_bits bits, uint8_t *keep) {
    if (rate <= 0.0 || rate >= 1.0) { /* inputs or zeros_like, before draw_seed */
        memset(keep, rate <= 0.0 ? 1 : 0, n);
        return;
    }
    int32_t seed0 = keras_cast_seed(g->seed), seed1 = keras_cast_seed(g->counter);
    g->counter++;
    const float threshold = (float)rate;
    mnv3_philox ph;
    mnv3_philox_from_seed(&ph, seed0, seed1);
    uint32_t block[4];
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0) mnv3_philox_next(&ph, block);
        float u = bits == MNV3_UNIFORM_HIGH_BITS ? uint32_high_bits_to_unit_float(block[i % 4])
                                                 : uint32_to_unit_float(block[i % 4]);
        keep[i] = (uint8_t)(u >= threshold);
    }
}

void mnv3_keras_dropout_keep(mnv3_keras_seed_generator *g, double rate, size_t n,
                             uint8_t *keep) {
    mnv3_keras_dropout_keep_bits(g, rate, n, MNV3_UNIFORM_LOW_MANTISSA, keep);
}

float mnv3_keras_dropout_scale(double rate) {
    return (float)(1.0 / (1.0 - rate));
}

/* ---- tf-keras: the legacy stateful RandomUniform kernel ------------------ */

static uint64_t tf_truncate_seed(int64_t seed) {
    const int64_t m = 2147483647; /* Python's %: never negative */
    int64_t r = seed % m;
    return (uint64_t)(r < 0 ? r + m : r);
}

void mnv3_tf_legacy_kernel_init(mnv3_philox *kernel, int64_t global_seed, int64_t op_seed) {
    uint64_t seed = tf_truncate_seed(global_seed), seed2 = tf_truncate_seed(op_seed);
    if (seed == 0 && seed2 == 0) seed2 = 2147483647u; /* (0, 0) would mean "random" */
    kernel->key[0] = (uint32_t)seed;
    kernel->key[1] = (uint32_t)(seed >> 32);
    kernel->counter[0] = 0;
    kernel->counter[1] = 0;
    kernel->counter[2] = (uint32_t)seed2;
    kernel->counter[3] = (uint32_t)(seed2 >> 32);
}

/* counter += blocks, as a 128-bit number (PhiloxRandom::Skip). */
static void philox_skip(mnv3_philox *ph, uint64_t blocks) {
    uint64_t low = (uint64_t)ph->counter[0] | ((uint64_t)ph->counter[1] << 32);
    uint64_t sum = low + blocks;
    ph->counter[0] = (uint32_t)sum;
    ph->counter[1] = (uint32_t)(sum >> 32);
    if (sum < low)
        for (int i = 2; i < 4; i++)
            if (++ph->counter[i] != 0) break;
}

void mnv3_tf_legacy_dropout_keep(mnv3_philox *kernel, double rate, size_t n, uint8_t *keep) {
    if (rate <= 0.0 || rate >= 1.0) { /* the layer returns x; TF refuses rate 1 */
        memset(keep, rate <= 0.0 ? 1 : 0, n);
        return;
    }
    mnv3_philox ph = *kernel; /* ReserveRandomOutputs(n, 256) */
    philox_skip(kernel, (uint64_t)n * 256u);
    const float threshold = (float)rate;
    uint32_t block[4];
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0) mnv3_philox_next(&ph, block);
        keep[i] = (uint8_t)(uint32_to_unit_float(block[i % 4]) >= threshold);
    }
}

void mnv3_dropout_stream_init(mnv3_dropout_stream *s, int generator, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->generator = generator;
    if (generator == MNV3_DROPOUT_MT19937_BERNOULLI) mnv3_torch_generator_seed(&s->torch, seed);
    else if (generator == MNV3_DROPOUT_PHILOX_STATELESS) mnv3_keras_seed_generator_init(&s->keras, (int64_t)seed);
    else mnv3_tf_legacy_kernel_init(&s->legacy, MNV3_TF_DEFAULT_GRAPH_SEED, (int64_t)seed);
}

void mnv3_dropout_stream_next(mnv3_dropout_stream *s, double p, size_t n, uint8_t *keep) {
    if (s->generator == MNV3_DROPOUT_MT19937_BERNOULLI) mnv3_torch_dropout_keep(&s->torch, p, n, keep);
    else if (s->generator == MNV3_DROPOUT_PHILOX_STATELESS) mnv3_keras_dropout_keep(&s->keras, p, n, keep);
    else mnv3_tf_legacy_dropout_keep(&s->legacy, p, n, keep);
}
