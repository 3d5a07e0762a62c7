/*
 * fib: input u32 LE n; journal u32 LE fib(n) mod 2^32 (fib(0) = 0, fib(1) = 1).
 */
#include "proofmarket.h"

int main(void) {
    uint32_t n = pm_read_u32();
    uint32_t a = 0, b = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t next = a + b;
        a = b;
        b = next;
    }
    pm_commit_u32(a);
    return 0;
}
