/*
 * Guest runtime: the C library subset compilers expect (mem*, strlen) and a bump heap.
 *
 * Built with -ffreestanding, so the compiler does not turn these loops back into calls
 * to themselves. Word-at-a-time paths matter here: every guest cycle is proven.
 */
#include "proofmarket.h"

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
        for (; n >= 16; n -= 16, d += 16, s += 16) {
            uint32_t w0 = ((const uint32_t *)s)[0], w1 = ((const uint32_t *)s)[1];
            uint32_t w2 = ((const uint32_t *)s)[2], w3 = ((const uint32_t *)s)[3];
            ((uint32_t *)d)[0] = w0;
            ((uint32_t *)d)[1] = w1;
            ((uint32_t *)d)[2] = w2;
            ((uint32_t *)d)[3] = w3;
        }
        for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const uint32_t *)s;
    }
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    /* Overlapping with dst above src: copy backwards. */
    d += n;
    s += n;
    while (n--) *--d = *--s;
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    uint8_t byte = (uint8_t)c;
    while (n && ((uintptr_t)d & 3)) {
        *d++ = byte;
        n--;
    }
    uint32_t word = byte * 0x01010101u;
    for (; n >= 4; n -= 4, d += 4) *(uint32_t *)d = word;
    while (n--) *d++ = byte;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = (const uint8_t *)a;
    const uint8_t *y = (const uint8_t *)b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) return (int)x[i] - (int)y[i];
    }
    return 0;
}

size_t strlen(const char *s) {
    const char *p = s;
    while (*p) p++;
    return (size_t)(p - s);
}

/* ---- bump allocator ---------------------------------------------------------------- */

extern char _end[];
extern char __heap_limit[];

static uintptr_t heap_next;

void *pm_alloc(size_t size, size_t align) {
    if (align == 0 || (align & (align - 1)) != 0) pm_panic("pm_alloc: alignment must be a power of two");
    if (heap_next == 0) heap_next = (uintptr_t)_end;
    uintptr_t start = (heap_next + align - 1) & ~(uintptr_t)(align - 1);
    uintptr_t limit = (uintptr_t)__heap_limit;
    if (start < heap_next || start > limit || size > limit - start) pm_panic("out of memory");
    heap_next = start + size;
    return (void *)start;
}

/* malloc keeps the block size in the 8 bytes before the block, for realloc. */
void *malloc(size_t size) {
    uint8_t *block = (uint8_t *)pm_alloc(size + 8, 8);
    *(size_t *)block = size;
    return block + 8;
}

void *calloc(size_t count, size_t size) {
    if (size != 0 && count > (size_t)-1 / size) pm_panic("calloc: size overflow");
    /* The bump heap never reuses memory and zkVM memory starts zeroed: no memset. */
    return malloc(count * size);
}

void *realloc(void *ptr, size_t size) {
    if (ptr == NULL) return malloc(size);
    size_t old = *(size_t *)((uint8_t *)ptr - 8);
    void *fresh = malloc(size);
    memcpy(fresh, ptr, old < size ? old : size);
    return fresh;
}

void free(void *ptr) { (void)ptr; }
