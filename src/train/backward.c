/* Reference backward kernels: one function per op kind, the gradient of the
 * op's inputs (accumulated) and parameters (overwritten) from the gradient
 * of its output, for a whole batch. Sums run in a fixed order (sample, then
 * position) so results do not depend on threads. The formulas that differ
 * between frameworks are per-op fields the plan resolved (kernels.h). */
#include <math.h>
#include <string.h>

#include "core/plan.h"
#include "train/train.h"

static size_t numel(mnv3_shape s) { return (size_t)s.c * (size_t)s.h * (size_t)s.w; }

/* k x k (and 1 x 1, and depthwise) convolution. */
static void conv_backward(const mnv3_exec_op *e, const mnv3_backward_io *io) {
    const mnv3_op *op = e->op;
    const int k = op->kernel, s = op->stride;
    const int cin_group = e->in.c / op->groups, cout_group = e->out.c / op->groups;
    const size_t in_n = numel(e->in), out_n = numel(e->out);
    const size_t in_plane = (size_t)e->in.h * (size_t)e->in.w, out_plane = (size_t)e->out.h * (size_t)e->out.w;
    for (int co = 0; co < e->out.c; co++) {
        const int first_ci = (co / cout_group) * cin_group;
        const float *w = op->weight + (size_t)co * (size_t)cin_group * (size_t)(k * k);
        if (io->dbias) {
            float sum = 0.0f;
            for (int b = 0; b < io->batch; b++) {
                const float *dy = io->dy + (size_t)b * out_n + (size_t)co * out_plane;
                for (size_t p = 0; p < out_plane; p++) sum += dy[p];
            }
            io->dbias[co] = sum;
        }
        for (int ci = 0; ci < cin_group; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    float dw = 0.0f;
                    const float wv = w[(size_t)ci * (size_t)(k * k) + (size_t)(ky * k + kx)];
                    for (int b = 0; b < io->batch; b++) {
                        const float *x = io->x + (size_t)b * in_n + (size_t)(first_ci + ci) * in_plane;
                        float *dx = io->dx ? io->dx + (size_t)b * in_n + (size_t)(first_ci + ci) * in_plane : NULL;
                        const float *dy = io->dy + (size_t)b * out_n + (size_t)co * out_plane;
                        for (int oy = 0; oy < e->out.h; oy++) {
                            int iy = oy * s - e->pad_top + ky;
                            if (iy < 0 || iy >= e->in.h) continue;
                            for (int ox = 0; ox < e->out.w; ox++) {
                                int ix = ox * s - e->pad_left + kx;
                                if (ix < 0 || ix >= e->in.w) continue;
                                const float g = dy[(size_t)oy * (size_t)e->out.w + (size_t)ox];
                                const size_t at = (size_t)iy * (size_t)e->in.w + (size_t)ix;
                                dw += g * x[at];
                                if (dx) dx[at] += g * wv;
                            }
                        }
                    }
                    if (io->dweight) io->dweight[(size_t)co * (size_t)cin_group * (size_t)(k * k) +
                                                 (size_t)ci * (size_t)(k * k) + (size_t)(ky * k + kx)] = dw;
                }
    }
}

/* Training-mode BatchNorm with the batch mean and invstd the forward kept:
 * dx = (dy - sum(dy) / N - (x - mean) * dot * invstd^2 / N) * invstd * w. */
static void batchnorm_backward(const mnv3_exec_op *e, const mnv3_backward_io *io) {
    const mnv3_op *op = e->op;
    const size_t n = numel(e->out), plane = (size_t)e->out.h * (size_t)e->out.w;
    const size_t count = (size_t)io->batch * plane;
    for (int c = 0; c < e->out.c; c++) {
        const float mean = io->save_mean[c], invstd = io->save_invstd[c];
        double sum = 0.0, dot = 0.0;
        for (int b = 0; b < io->batch; b++) {
            const float *x = io->x + (size_t)b * n + (size_t)c * plane;
            const float *dy = io->dy + (size_t)b * n + (size_t)c * plane;
            for (size_t p = 0; p < plane; p++) {
                sum += dy[p];
                dot += (double)(x[p] - mean) * dy[p];
            }
        }
        if (io->dweight) io->dweight[c] = (float)dot * invstd;
        if (io->dbias) io->dbias[c] = (float)sum;
        if (!io->dx) continue;
        const float k = (float)dot * invstd * invstd / (float)count;
        const float grad_mean = (float)sum / (float)count;
        const float wi = invstd * op->weight[c];
        for (int b = 0; b < io->batch; b++) {
            const float *x = io->x + (size_t)b * n + (size_t)c * plane;
            const float *dy = io->dy + (size_t)b * n + (size_t)c * plane;
            float *dx = io->dx + (size_t)b * n + (size_t)c * plane;
            for (size_t p = 0; p < plane; p++) dx[p] += (dy[p] - grad_mean - (x[p] - mean) * k) * wi;
        }
    }
}

static float hardswish_grad(const mnv3_exec_op *e, float x, float dy) {
    switch (e->hardswish_grad) {
    case MNV3_HSWISH_GRAD_CLOSED_AFFINE:
        return x < -3.0f ? 0.0f : x <= 3.0f ? dy * (x / 3.0f + 0.5f) : dy;
    case MNV3_HSWISH_GRAD_OPEN_AFFINE:
        return x <= -3.0f ? 0.0f : x < 3.0f ? dy * (x / 3.0f + 0.5f) : dy;
    default: { /* product rule: y = x * h(x), h = relu6(x + 3) / 6 */
        const float h = mnv3_hardsigmoid(x, e->hardsigmoid);
        const float c = x + 3.0f, inside = c > 0.0f && c < 6.0f ? 1.0f : 0.0f;
        return dy * h + inside * ((dy * x) / 6.0f);
    }
    }
}

static float hardsigmoid_grad(const mnv3_exec_op *e, float x, float dy) {
    if (e->hardsigmoid_grad == MNV3_HSIG_GRAD_TIMES_RECIP6)
        return x > -3.0f && x < 3.0f ? dy * (1.0f / 6.0f) : 0.0f;
    const float c = x + 3.0f;
    if (!(c > 0.0f && c < 6.0f)) return 0.0f;
    return e->hardsigmoid == MNV3_HSIG_DIV6 ? dy / 6.0f : dy * (float)(1.0 / 6.0);
}

static void elementwise_backward(const mnv3_exec_op *e, const mnv3_backward_io *io) {
    const size_t n = numel(e->out) * (size_t)io->batch;
    switch (e->op->kind) {
    case MNV3_OP_RELU:
        for (size_t i = 0; i < n; i++) io->dx[i] += io->y[i] > 0.0f ? io->dy[i] : 0.0f;
        break;
    case MNV3_OP_HARDSWISH:
        for (size_t i = 0; i < n; i++) io->dx[i] += hardswish_grad(e, io->x[i], io->dy[i]);
        break;
    case MNV3_OP_HARDSIGMOID:
        for (size_t i = 0; i < n; i++) io->dx[i] += hardsigmoid_grad(e, io->x[i], io->dy[i]);
        break;
    case MNV3_OP_ADD:
        for (size_t i = 0; i < n; i++) {
            if (io->dx) io->dx[i] += io->dy[i];
            if (io->dx2) io->dx2[i] += io->dy[i];
        }
        break;
    default: break;
    }
}

/* Global average pooling: each position gets dy / (H * W). */
static void pool_backward(const mnv3_exec_op *e, const mnv3_backward_io *io) {
    const size_t plane = (size_t)e->in.h * (size_t)e->in.w, in_n = numel(e->in);
    for (int b = 0; b < io->batch; b++)
        for (int c = 0; c < e->in.c; c++) {
            const float g = io->dy[(size_t)b * (size_t)e->out.c + (size_t)c] / (float)plane;
            float *dx = io->dx + (size_t)b * in_n + (size_t)c * plane;
            for (size_t p = 0; p < plane; p++) dx[p] += g;
        }
}

/* SE multiply y = x * gate[c]: dx = dy * gate; dgate: the products dy * x
 * rounded, then summed over the plane in the pool's order (a broadcast
 * gradient is reduced like a mean). */
static void channel_scale_backward(const mnv3_exec_op *e, const mnv3_backward_io *io) {
    const size_t plane = (size_t)e->out.h * (size_t)e->out.w, n = numel(e->out);
    for (int b = 0; b < io->batch; b++)
        for (int c = 0; c < e->out.c; c++) {
            const float *x = io->x + (size_t)b * n + (size_t)c * plane;
            const float *dy = io->dy + (size_t)b * n + (size_t)c * plane;
            const float gate = io->x2[(size_t)b * (size_t)e->in2.c + (size_t)c];
            for (size_t p = 0; p < plane; p++) {
                io->products[p] = dy[p] * x[p];
                if (io->dx) io->dx[(size_t)b * n + (size_t)c * plane + p] += dy[p] * gate;
            }
            if (io->dx2) io->dx2[(size_t)b * (size_t)e->in2.c + (size_t)c] += mnv3_plane_sum(e, io->products, plane);
        }
}

/* y = W x + b over the batch. */
static void linear_backward(const mnv3_exec_op *e, const mnv3_backward_io *io) {
    const mnv3_op *op = e->op;
    const int in_ch = op->in_ch, out_ch = op->out_ch;
    for (int o = 0; o < out_ch; o++) {
        if (io->dbias) {
            float sum = 0.0f;
            for (int b = 0; b < io->batch; b++) sum += io->dy[(size_t)b * (size_t)out_ch + (size_t)o];
            io->dbias[o] = sum;
        }
        if (io->dweight)
            for (int i = 0; i < in_ch; i++) {
                float sum = 0.0f;
                for (int b = 0; b < io->batch; b++)
                    sum += io->dy[(size_t)b * (size_t)out_ch + (size_t)o] * io->x[(size_t)b * (size_t)in_ch + (size_t)i];
                io->dweight[(size_t)o * (size_t)in_ch + (size_t)i] = sum;
            }
    }
    if (io->dx)
        for (int b = 0; b < io->batch; b++)
            for (int i = 0; i < in_ch; i++) {
                float sum = 0.0f;
                for (int o = 0; o < out_ch; o++)
                    sum += op->weight[(size_t)o * (size_t)in_ch + (size_t)i] * io->dy[(size_t)b * (size_t)out_ch + (size_t)o];
                io->dx[(size_t)b * (size_t)in_ch + (size_t)i] += sum;
            }
}

void mnv3_backward_op(const mnv3_exec_op *e, const mnv3_backward_io *io) {
    switch (e->op->kind) {
    case MNV3_OP_CONV: conv_backward(e, io); break;
    case MNV3_OP_BATCHNORM: batchnorm_backward(e, io); break;
    case MNV3_OP_GLOBAL_POOL: pool_backward(e, io); break;
    case MNV3_OP_CHANNEL_SCALE: channel_scale_backward(e, io); break;
    case MNV3_OP_LINEAR: linear_backward(e, io); break;
    case MNV3_OP_RELU:
    case MNV3_OP_HARDSWISH:
    case MNV3_OP_HARDSIGMOID:
    case MNV3_OP_ADD: elementwise_backward(e, io); break;
    default: break; /* the input rescale and the softmax take no part in the step */
    }
}
