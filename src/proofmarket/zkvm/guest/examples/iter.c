/*
 * iter: input u32 LE N (1 <= N < 2^22); runs N * 1024 iterations of
 *     x = ((x ^ i) * 0x9E3779B1) + (x >> 15)      (u32 arithmetic, x starts at N)
 * and commits the final x as u32 LE. N = 0 panics, like Bento's iteration-count guest,
 * so a benchmark can also exercise the failure path. One iteration is 6 instructions,
 * so the cycle count grows linearly: about 6.1k user cycles per unit of N.
 */
#include "proofmarket.h"

int main(void) {
    uint32_t n = pm_read_u32();
    if (n == 0) pm_panic("iter: N must be at least 1");
    if (n >= (1u << 22)) pm_panic("iter: N must be below 2^22");
    uint32_t iterations = n * 1024u;
    uint32_t x = n;
    for (uint32_t i = 0; i < iterations; i++) {
        x = ((x ^ i) * 0x9E3779B1u) + (x >> 15);
    }
    pm_commit_u32(x);
    return 0;
}
