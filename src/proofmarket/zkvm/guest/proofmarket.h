/*
 * proofmarket guest SDK: the system calls of the proofmarket zkVM and a small runtime.
 *
 * Guest ABI: `ecall` with the selector in t0, arguments in a0..a2, result in a0.
 *
 *   t0  name         arguments                                   result
 *   0   HALT         a0 = kind | (user_exit << 8), kind 0 = terminate, 1 = pause
 *   1   READ         a0 = dst, a1 = max bytes                    a0 = bytes copied (0 at end)
 *   2   WRITE        a0 = fd (1 stdout, 2 stderr, 3 journal), a1 = ptr, a2 = len
 *                                                                a0 = len
 *   3   INPUT_LEN    -                                           a0 = input bytes not yet read
 *   4   CYCLE_COUNT  -                                           a0 = low 32 bits of cycles
 *   5   PANIC        a0 = message, a1 = length                   stops with a guest panic
 *
 * Everything a guest executes is proven, so the runtime is plain C with no accelerators.
 * Compile the same sources for the host with -DPM_HOST (done automatically when the target
 * is not RISC-V) and link the host shim to run a guest natively for differential testing.
 */
#ifndef PROOFMARKET_H
#define PROOFMARKET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(PM_HOST) && !defined(__riscv)
#define PM_HOST 1
#endif

#define PM_SYS_HALT 0
#define PM_SYS_READ 1
#define PM_SYS_WRITE 2
#define PM_SYS_INPUT_LEN 3
#define PM_SYS_CYCLE_COUNT 4
#define PM_SYS_PANIC 5

#define PM_FD_STDOUT 1
#define PM_FD_STDERR 2
#define PM_FD_JOURNAL 3

#define PM_HALT_TERMINATE 0
#define PM_HALT_PAUSE 1

#define PM_NORETURN __attribute__((noreturn))

/* ---- raw system calls ------------------------------------------------------------- */

#ifndef PM_HOST

static inline uint32_t pm_ecall0(uint32_t selector) {
    register uint32_t t0 __asm__("t0") = selector;
    register uint32_t a0 __asm__("a0");
    __asm__ volatile("ecall" : "=r"(a0) : "r"(t0) : "memory");
    return a0;
}

static inline uint32_t pm_ecall2(uint32_t selector, uint32_t arg0, uint32_t arg1) {
    register uint32_t t0 __asm__("t0") = selector;
    register uint32_t a0 __asm__("a0") = arg0;
    register uint32_t a1 __asm__("a1") = arg1;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(t0), "r"(a1) : "memory");
    return a0;
}

static inline uint32_t pm_ecall3(uint32_t selector, uint32_t arg0, uint32_t arg1,
                                 uint32_t arg2) {
    register uint32_t t0 __asm__("t0") = selector;
    register uint32_t a0 __asm__("a0") = arg0;
    register uint32_t a1 __asm__("a1") = arg1;
    register uint32_t a2 __asm__("a2") = arg2;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(t0), "r"(a1), "r"(a2) : "memory");
    return a0;
}

/* One READ call: copies at most max bytes of input to dst, returns the count. */
static inline size_t pm_sys_read(void *dst, size_t max) {
    return pm_ecall2(PM_SYS_READ, (uint32_t)(uintptr_t)dst, (uint32_t)max);
}

static inline size_t pm_sys_write(uint32_t fd, const void *ptr, size_t len) {
    return pm_ecall3(PM_SYS_WRITE, fd, (uint32_t)(uintptr_t)ptr, (uint32_t)len);
}

static inline size_t pm_input_len(void) { return pm_ecall0(PM_SYS_INPUT_LEN); }

static inline uint32_t pm_cycle_count(void) { return pm_ecall0(PM_SYS_CYCLE_COUNT); }

static inline void pm_sys_halt(uint32_t kind, uint32_t user_exit) {
    pm_ecall2(PM_SYS_HALT, (kind & 0xff) | (user_exit << 8), 0);
}

PM_NORETURN static inline void pm_sys_panic(const char *msg, size_t len) {
    pm_ecall2(PM_SYS_PANIC, (uint32_t)(uintptr_t)msg, (uint32_t)len);
    __builtin_unreachable();
}

#else /* PM_HOST: implemented by the host shim (stdin/stdout/files). */

size_t pm_sys_read(void *dst, size_t max);
size_t pm_sys_write(uint32_t fd, const void *ptr, size_t len);
size_t pm_input_len(void);
uint32_t pm_cycle_count(void);
void pm_sys_halt(uint32_t kind, uint32_t user_exit);
PM_NORETURN void pm_sys_panic(const char *msg, size_t len);

#endif /* PM_HOST */

/* ---- C library subset (runtime.c on the guest, libc on the host) ------------------- */

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---- SDK helpers ------------------------------------------------------------------- */

/* Reads up to len bytes of input into dst (looping over READ); returns the count read,
 * which is less than len only at the end of the input. */
static inline size_t pm_read(void *dst, size_t len) {
    uint8_t *p = (uint8_t *)dst;
    size_t done = 0;
    while (done < len) {
        size_t n = pm_sys_read(p + done, len - done);
        if (n == 0) break;
        done += n;
    }
    return done;
}

PM_NORETURN static inline void pm_panic(const char *msg);

/* Writes len bytes to a file descriptor (PM_FD_STDOUT, PM_FD_STDERR or PM_FD_JOURNAL).
   The host may move fewer bytes per call (a write never straddles a segment boundary),
   so loop until everything is written. */
static inline size_t pm_write(uint32_t fd, const void *ptr, size_t len) {
    const uint8_t *p = (const uint8_t *)ptr;
    size_t done = 0;
    while (done < len) {
        size_t n = pm_sys_write(fd, p + done, len - done);
        if (n == 0) break;
        done += n;
    }
    return done;
}

/* Appends bytes to the journal, the public output the receipt commits to. */
static inline void pm_commit(const void *ptr, size_t len) {
    if (pm_write(PM_FD_JOURNAL, ptr, len) != len) pm_panic("journal write failed");
}

static inline void pm_commit_u32(uint32_t value) {
    uint8_t le[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                     (uint8_t)(value >> 24)};
    pm_commit(le, sizeof le);
}

static inline void pm_print(const char *s) { pm_write(PM_FD_STDOUT, s, strlen(s)); }

static inline void pm_eprint(const char *s) { pm_write(PM_FD_STDERR, s, strlen(s)); }

/* Stops the guest: Halted(code). main() returning `code` does the same. HALT passes
 * kind | (code << 8) in a0, so exit codes are 24-bit: higher bits are dropped. */
PM_NORETURN static inline void pm_halt(uint32_t code) {
    pm_sys_halt(PM_HALT_TERMINATE, code);
    __builtin_unreachable();
}

/* Pauses the guest: Paused(code). Execution may be resumed by the host later. */
static inline void pm_pause(uint32_t code) { pm_sys_halt(PM_HALT_PAUSE, code); }

/* Aborts with a guest panic: there is no receipt, the host reports the message. */
PM_NORETURN static inline void pm_panic(const char *msg) { pm_sys_panic(msg, strlen(msg)); }

/* Reads a little-endian u32 from the input; panics if fewer than 4 bytes are left. */
static inline uint32_t pm_read_u32(void) {
    uint8_t le[4];
    if (pm_read(le, sizeof le) != sizeof le) pm_panic("input too short: expected a u32");
    return (uint32_t)le[0] | ((uint32_t)le[1] << 8) | ((uint32_t)le[2] << 16) |
           ((uint32_t)le[3] << 24);
}

/* ---- heap: a bump allocator over [_end, 0xC0000000) (free is a no-op) --------------- */

void *pm_alloc(size_t size, size_t align);
void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

/* ---- SHA-256 in plain C (sha256.c) -------------------------------------------------- */

typedef struct {
    uint32_t state[8];
    uint64_t total_len;
    uint8_t block[64];
    size_t block_len;
} pm_sha256_ctx;

void pm_sha256_init(pm_sha256_ctx *ctx);
void pm_sha256_update(pm_sha256_ctx *ctx, const void *data, size_t len);
void pm_sha256_final(pm_sha256_ctx *ctx, uint8_t out[32]);
void pm_sha256(const void *data, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif

#endif /* PROOFMARKET_H */
