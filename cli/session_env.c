/* session_env.c: the environment variables users know, read by the tools (the
 * library reads no environment): MNV3_FAST_ISA=avx512|avx2|scalar,
 * MNV3_FAST_LAYOUT=planar, MNV3_SESSION_PROFILE (time every step and print the
 * table on stderr). Shared by the CLI and bench/mnv3_bench. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_env.h"

void cli_session_env(mnv3_session_options *o) {
    const char *isa = getenv("MNV3_FAST_ISA"), *layout = getenv("MNV3_FAST_LAYOUT");
    if (!o->isa && isa && *isa) o->isa = isa;
    if (layout && !strcmp(layout, "planar")) o->planar_maps = 1;
    if (getenv("MNV3_SESSION_PROFILE")) o->time_steps = 1;
}

void cli_print_step_times(const mnv3_session *s) {
    if (!getenv("MNV3_SESSION_PROFILE")) return;
    int n = mnv3_session_step_times(s, NULL, 0);
    mnv3_step_time *t = n > 0 ? malloc((size_t)n * sizeof *t) : NULL;
    if (!t) return;
    mnv3_session_step_times(s, t, n);
    double total = 0;
    for (int k = 0; k < n; k++) total += t[k].seconds;
    for (int k = 0; k < n; k++)
        fprintf(stderr, "%-10s %-18s %4dx%-4d c%4d->%4d %9.3f ms %5.1f%%\n", t[k].kind, t[k].op,
                t[k].out_h, t[k].out_w, t[k].in_c, t[k].out_c, t[k].seconds * 1e3,
                total > 0 ? 100.0 * t[k].seconds / total : 0.0);
    fprintf(stderr, "total %.3f ms\n", total * 1e3);
    free(t);
}
