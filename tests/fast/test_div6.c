/* The activations' y / 6 (fast_div6: a multiply and two fmas where every lane
 * allows it, else a division) against the division itself, for all 2^32 float
 * bit patterns, on every instruction set built here: any difference in any
 * bit fails. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernels/fast/fast.h"

enum { CHUNK = 1 << 16 };

int main(void) {
    static float in[CHUNK], got[CHUNK];
    static const char *names[] = {"scalar", "avx2", "avx512"};
    int failures = 0;
    for (int k = 0; k < 3; k++) {
        const fast_isa *isa = fast_isa_select(names[k]);
        if (!isa) {
            printf("skip %s: not available here\n", names[k]);
            continue;
        }
        uint64_t bad = 0;
        uint32_t first = 0;
        for (uint64_t base = 0; base < (UINT64_C(1) << 32); base += CHUNK) {
            for (uint32_t i = 0; i < CHUNK; i++) {
                const uint32_t bits = (uint32_t)base + i;
                memcpy(&in[i], &bits, sizeof bits);
            }
            isa->div6(in, got, CHUNK);
            for (uint32_t i = 0; i < CHUNK; i++) {
                const volatile float want = in[i] / 6.0f;
                const float w = want;
                if (memcmp(&w, &got[i], sizeof w)) {
                    if (!bad) first = (uint32_t)base + i;
                    bad++;
                }
            }
        }
        printf("%s %s: %llu of 2^32 inputs differ from y / 6", bad ? "FAIL" : "ok  ", names[k],
               (unsigned long long)bad);
        if (bad) printf(" (first: bits %08x)", first);
        printf("\n");
        failures += bad != 0;
    }
    return failures ? 1 : 0;
}
