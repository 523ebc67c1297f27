/* mnv3_bench: latency, throughput, load time, memory of mnv3 sessions.
 *
 *   mnv3_bench --weights W [--profile torch] [--set factor=option]... [--size 224]
 *              [--kernels fast] [--threads 1,2] [--runs 200] [--batch 32]
 *              [--batch-runs 10] [--json]
 *
 * Load time = reading the weights + creating a session (plan, packing, arena,
 * threads). Latency: batch 1, median (and min) over --runs after warm-up, per
 * thread count. Throughput: batch --batch, images/s from the median run.
 * Peak RSS: the process's maximum resident set (getrusage). MACs are counted
 * from the plan; achieved MAC/s = MACs / median latency. The machine's limit
 * is measured, not looked up: one thread issuing independent vector fmas
 * (AVX-512, else AVX2) for 0.3 s gives this core's peak MAC/s at the clock it
 * really runs (boost included). The same with a separate multiply and add per
 * MAC gives the ceiling of PyTorch's rounding (pointwise=mul_add), which takes
 * two vector instructions where an fma takes one.
 * --set factor=option (repeatable) switches one factor of the profile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mnv3.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#include "peak.h"
#include "session_env.h"

static long peak_rss_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

int main(int argc, char **argv) {
    const char *weights = NULL, *profile_name = "torch", *kernels = "fast", *threads_arg = "1,2";
    const char *sets[8];
    int size = 224, runs = 200, batch = 32, batch_runs = 10, json = 0, n_sets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) json = 1;
        else if (v && !strcmp(a, "--set") && n_sets < 8) sets[n_sets++] = v, i++;
        else if (v && !strcmp(a, "--weights")) weights = v, i++;
        else if (v && !strcmp(a, "--profile")) profile_name = v, i++;
        else if (v && !strcmp(a, "--kernels")) kernels = v, i++;
        else if (v && !strcmp(a, "--threads")) threads_arg = v, i++;
        else if (v && !strcmp(a, "--size")) size = atoi(v), i++;
        else if (v && !strcmp(a, "--runs")) runs = atoi(v), i++;
        else if (v && !strcmp(a, "--batch")) batch = atoi(v), i++;
        else if (v && !strcmp(a, "--batch-runs")) batch_runs = atoi(v), i++;
        else {
            fprintf(stderr, "usage: mnv3_bench --weights W [--profile P] [--set F=O]... [--size S] [--kernels "
                            "fast|reference] [--threads 1,2] [--runs N] [--batch B] "
                            "[--batch-runs N] [--json]\n");
            return 2;
        }
    }
    if (!weights || size < 32 || runs < 1 || batch < 1 || batch_runs < 1) {
        fprintf(stderr, "mnv3_bench: --weights is required (see --help)\n");
        return 2;
    }
    const mnv3_profile *named = mnv3_profile_find(profile_name);
    if (!named) {
        fprintf(stderr, "mnv3_bench: unknown profile %s\n", profile_name);
        return 2;
    }
    mnv3_error err;
    mnv3_profile prof = *named;
    for (int i = 0; i < n_sets; i++)
        if (mnv3_profile_set(&prof, sets[i], &err) != MNV3_OK) {
            fprintf(stderr, "mnv3_bench: %s\n", err.message);
            return 2;
        }
    const mnv3_profile *p = &prof;
    mnv3_layout layout = p->option[mnv3_factor_find("layout")] ? MNV3_NHWC : MNV3_NCHW;
    mnv3_model *m = NULL;

    double t0 = now();
    if (mnv3_model_load(weights, &m, NULL, &err) != MNV3_OK) {
        fprintf(stderr, "mnv3_bench: %s\n", err.message);
        return 1;
    }
    double t_read = now() - t0;

    const size_t per = 3 * (size_t)size * (size_t)size;
    const int out_size = mnv3_output_size(m);
    float *x = malloc(per * (size_t)batch * sizeof *x);
    float *y = malloc((size_t)out_size * (size_t)batch * sizeof *y);
    double *times = malloc((size_t)(runs > batch_runs ? runs : batch_runs) * sizeof *times);
    if (!x || !y || !times) return 1;
    mnv3_synth_input(11, batch, 3, size, size, x);

    int counts[8], n_counts = 0;
    for (const char *c = threads_arg; *c && n_counts < 8;) {
        counts[n_counts++] = atoi(c);
        const char *comma = strchr(c, ',');
        if (!comma) break;
        c = comma + 1;
    }
    const double peak = peak_gmacs(0), peak_mul_add = peak_gmacs(1);
    if (json)
        printf("{\"engine\": \"mnv3\", \"profile\": \"%s\", \"size\": %d, \"peak_gmacs_per_core\": %.2f, "
               "\"peak_mul_add_gmacs_per_core\": %.2f, \"results\": [",
               profile_name, size, peak, peak_mul_add);
    else if (peak > 0)
        printf("machine: one core's measured peak %.1f GMAC/s with fma, %.1f with multiply + add\n",
               peak, peak_mul_add);
    for (int k = 0; k < n_counts; k++) {
        int threads = counts[k];
        mnv3_session_options o = {.kernels = kernels, .threads = threads, .max_batch = batch};
        cli_session_env(&o);
        mnv3_session *s;
        double t1 = now();
        if (mnv3_session_create(m, p, size, size, layout, &o, &s, &err) != MNV3_OK) {
            fprintf(stderr, "mnv3_bench: %s\n", err.message);
            return 1;
        }
        double t_load = t_read + (now() - t1);
        for (int r = 0; r < 10; r++) mnv3_session_run(s, x, 1, y, &err); /* warm-up */
        for (int r = 0; r < runs; r++) {
            double a = now();
            mnv3_session_run(s, x, 1, y, &err);
            times[r] = now() - a;
        }
        double lat = median(times, runs), lat_min = times[0];
        mnv3_session_run(s, x, batch, y, &err);
        for (int r = 0; r < batch_runs; r++) {
            double a = now();
            mnv3_session_run(s, x, batch, y, &err);
            times[r] = now() - a;
        }
        double thr = batch / median(times, batch_runs);
        int64_t macs = mnv3_session_macs(s);
        if (json)
            printf("%s{\"threads\": %d, \"kernels\": \"%s\", \"latency_ms\": %.4f, \"latency_min_ms\": %.4f, "
                   "\"throughput_ips\": %.2f, \"batch\": %d, \"load_ms\": %.2f, \"peak_rss_mb\": %.1f, "
                   "\"arena_bytes\": %zu, \"packed_bytes\": %zu, \"macs\": %lld}",
                   k ? ", " : "", threads, mnv3_session_kernels(s), lat * 1e3, lat_min * 1e3, thr, batch,
                   t_load * 1e3, peak_rss_kb() / 1024.0, mnv3_session_arena_bytes(s),
                   mnv3_session_packed_bytes(s), (long long)macs);
        else
            printf("mnv3 %-12s %d thread(s): latency %.3f ms (min %.3f), batch %d %.1f img/s, "
                   "load %.1f ms, peak RSS %.1f MB, arena %zu B, %lld MACs, %.2f GMAC/s (%.0f%% of "
                   "%d core(s)' peak)\n",
                   mnv3_session_kernels(s), threads, lat * 1e3, lat_min * 1e3, batch, thr,
                   t_load * 1e3, peak_rss_kb() / 1024.0, mnv3_session_arena_bytes(s),
                   (long long)macs, (double)macs / lat * 1e-9,
                   peak > 0 ? 100.0 * (double)macs / lat * 1e-9 / (peak * threads) : 0.0, threads);
        cli_print_step_times(s);
        mnv3_session_free(s);
    }
    if (json) printf("]}\n");
    free(x), free(y), free(times);
    mnv3_model_free(m);
    return 0;
}
