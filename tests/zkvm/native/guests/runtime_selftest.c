/*
 * Exercises the SDK runtime (mem*, strlen, heap, 64-bit arithmetic, streaming SHA-256)
 * and commits everything it computes, so a zkVM run can be compared byte for byte with
 * a native run of the same source.
 */
#include "proofmarket.h"

static uint8_t buf[300];

static void commit_buf(size_t n) { pm_commit(buf, n); }

int main(void) {
    size_t len = pm_input_len();
    uint8_t *in = (uint8_t *)malloc(len + 1);
    if (pm_read(in, len) != len) pm_panic("short read");

    /* memcpy at every src/dst alignment and several lengths. */
    for (size_t so = 0; so < 4; so++) {
        for (size_t dof = 0; dof < 4; dof++) {
            for (size_t n = 0; n < 40 && n + so <= len; n += 7) {
                memset(buf, 0xEE, 64);
                memcpy(buf + dof, in + so, n);
                commit_buf(64);
            }
        }
    }
    /* memmove with overlap in both directions. */
    for (size_t i = 0; i < 100; i++) buf[i] = (uint8_t)(i * 3);
    memmove(buf + 5, buf, 60);
    memmove(buf + 70, buf + 73, 20);
    commit_buf(100);
    /* memset at odd offsets, memcmp signs, strlen. */
    memset(buf + 3, 0x5A, 37);
    commit_buf(48);
    int32_t cmp[3] = {memcmp("abc", "abd", 3) < 0, memcmp("abd", "abc", 3) > 0,
                      memcmp(buf, buf, 48) == 0};
    pm_commit(cmp, sizeof cmp);
    pm_commit_u32((uint32_t)strlen("proofmarket"));

    /* Heap: alignment, calloc zeroing, realloc preserving contents. */
    uint8_t *a = (uint8_t *)pm_alloc(3, 1);
    uint8_t *b = (uint8_t *)pm_alloc(8, 64);
    uint32_t aligned = ((uintptr_t)b % 64 == 0) && (b > a);
    pm_commit_u32(aligned);
    uint32_t *z = (uint32_t *)calloc(16, sizeof(uint32_t));
    uint32_t zero_sum = 0;
    for (int i = 0; i < 16; i++) zero_sum |= z[i];
    pm_commit_u32(zero_sum);
    char *s = (char *)malloc(4);
    memcpy(s, "xyz", 4);
    s = (char *)realloc(s, 100);
    pm_commit(s, 4);

    /* 64-bit arithmetic through compiler-rt. */
    uint64_t x = 0x123456789ABCDEFull ^ ((uint64_t)len << 33);
    uint64_t y = 0x1234567ull + len;
    int64_t sx = -(int64_t)x;
    uint64_t r64[5] = {x / y, x % y, (uint64_t)(sx / (int64_t)y), (uint64_t)(sx % (int64_t)y),
                       x * y};
    pm_commit(r64, sizeof r64);

    /* Streaming SHA-256 in uneven chunks equals the one-shot digest. */
    pm_sha256_ctx ctx;
    pm_sha256_init(&ctx);
    for (size_t off = 0; off < len;) {
        size_t n = (off % 13) + 1;
        if (n > len - off) n = len - off;
        pm_sha256_update(&ctx, in + off, n);
        off += n;
    }
    uint8_t d1[32], d2[32];
    pm_sha256_final(&ctx, d1);
    pm_sha256(in, len, d2);
    pm_commit(d1, 32);
    pm_commit_u32(memcmp(d1, d2, 32) == 0);

    uint32_t c0 = pm_cycle_count();
    uint32_t c1 = pm_cycle_count();
    pm_eprint(c1 > c0 ? "cycles advance\n" : "cycles stuck\n");
    pm_print("selftest done\n");
    return 3;
}
