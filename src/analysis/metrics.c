/* Difference metrics between two float32 arrays; the second is the
 * reference. ULP distance counts representable floats between a and b.
 * Also the top-5 classes of a score vector. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

static int64_t ordered(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? -(int64_t)(u & 0x7fffffffu) : (int64_t)u;
}

uint64_t mnv3_ulp_distance(float a, float b) {
    int64_t d = ordered(a) - ordered(b);
    return (uint64_t)(d < 0 ? -d : d);
}

/* The one definition of relative L2 from the two sums of squares. */
static double rel_l2_of(double diff2, double ref2) {
    return ref2 > 0 ? sqrt(diff2 / ref2) : (diff2 > 0 ? INFINITY : 0.0);
}

double mnv3_rel_l2(const float *x, const float *ref, size_t n) {
    double diff2 = 0, ref2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - ref[i];
        diff2 += d * d;
        ref2 += (double)ref[i] * ref[i];
    }
    return rel_l2_of(diff2, ref2);
}

void mnv3_top5(const float *v, int64_t n, int64_t idx[5]) {
    for (int k = 0; k < 5; k++) idx[k] = -1;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 5; k++)
            if (idx[k] < 0 || v[i] > v[idx[k]]) {
                memmove(idx + k + 1, idx + k, (size_t)(4 - k) * sizeof *idx);
                idx[k] = i;
                break;
            }
}

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void mnv3_diff_compute(const float *a, const float *b, int64_t n, mnv3_diff *d) {
    memset(d, 0, sizeof *d);
    d->count = n;
    if (n <= 0) return;
    double sum_abs = 0, diff2 = 0, ref2 = 0, a2 = 0, dot = 0;
    int64_t identical = 0;
    uint32_t *ulps = malloc((size_t)n * sizeof *ulps);
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) {
            d->nonfinite++;
            if (ulps) ulps[i] = UINT32_MAX;
            continue;
        }
        double x = a[i], y = b[i], diff = fabs(x - y);
        if (diff > d->max_abs) d->max_abs = diff;
        sum_abs += diff;
        diff2 += (x - y) * (x - y);
        ref2 += y * y;
        a2 += x * x;
        dot += x * y;
        uint64_t u = mnv3_ulp_distance(a[i], b[i]);
        if (u > d->max_ulp) d->max_ulp = u;
        if (ulps) ulps[i] = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
        identical += memcmp(&a[i], &b[i], sizeof(float)) == 0;
    }
    d->mean_abs = sum_abs / (double)n;
    d->rel_l2 = rel_l2_of(diff2, ref2);
    d->cosine = (a2 > 0 && ref2 > 0) ? dot / sqrt(a2 * ref2) : (a2 == ref2 ? 1.0 : 0.0);
    d->frac_identical = (double)identical / (double)n;
    if (ulps) {
        qsort(ulps, (size_t)n, sizeof *ulps, compare_u32);
        d->median_ulp = (n % 2) ? ulps[n / 2] : 0.5 * ((double)ulps[n / 2 - 1] + ulps[n / 2]);
        d->p99_ulp = ulps[(size_t)((double)(n - 1) * 0.99)];
        free(ulps);
    } else {
        d->median_ulp = d->p99_ulp = -1;
    }
}
