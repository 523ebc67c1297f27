/* dispatch.c: choosing the instruction set at run time. A name given
 * (mnv3_session_options.isa: avx512, avx2, scalar) overrides the choice. */
#include <string.h>

#include "kernels/fast/fast.h"

static int cpu_has(const char *what) {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (!strcmp(what, "avx512")) return __builtin_cpu_supports("avx512f") != 0;
    if (!strcmp(what, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    (void)what;
    return 0;
}

const fast_isa *fast_isa_select(const char *name) {
    if (name && *name) {
        if (!strcmp(name, "scalar")) return fast_isa_scalar();
        if (!strcmp(name, "avx512")) return cpu_has("avx512") ? fast_isa_avx512() : NULL;
        if (!strcmp(name, "avx2")) return cpu_has("avx2") ? fast_isa_avx2() : NULL;
        return NULL;
    }
    if (cpu_has("avx512") && fast_isa_avx512()) return fast_isa_avx512();
    if (cpu_has("avx2") && fast_isa_avx2()) return fast_isa_avx2();
    return fast_isa_scalar();
}
