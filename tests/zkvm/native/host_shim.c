/*
 * Host implementation of the proofmarket guest system calls, for running a guest's C
 * sources natively (gcc on the host) and comparing the result with the zkVM.
 *
 * The guest's main() is renamed to pm_guest_main at compile time. Input comes from stdin,
 * stdout/stderr go to the process's own, the journal is written to the file named by
 * $PM_JOURNAL and the final state ("halted N", "paused N" or "panic MESSAGE") to $PM_STATUS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proofmarket.h"

/* The guest sources are compiled with -Dmain=pm_guest_main; the shim owns the real main. */
#undef main

int pm_guest_main(void);

static uint8_t *input;
static size_t input_len, input_pos;
static FILE *journal;
static uint32_t fake_cycles;

static void fail(const char *what) {
    perror(what);
    exit(120);
}

static void load_input(void) {
    size_t cap = 4096;
    input = malloc(cap);
    if (!input) fail("malloc");
    for (;;) {
        if (input_len == cap) {
            cap *= 2;
            input = realloc(input, cap);
            if (!input) fail("realloc");
        }
        ssize_t n = read(0, input + input_len, cap - input_len);
        if (n < 0) fail("read stdin");
        if (n == 0) break;
        input_len += (size_t)n;
    }
}

static void write_status(const char *kind, const char *detail) {
    const char *path = getenv("PM_STATUS");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (!f) fail("open $PM_STATUS");
    fprintf(f, "%s %s", kind, detail);
    fclose(f);
}

static void finish(void) {
    fflush(stdout);
    fflush(stderr);
    if (journal) fclose(journal);
}

size_t pm_sys_read(void *dst, size_t max) {
    size_t n = input_len - input_pos;
    if (n > max) n = max;
    memcpy(dst, input + input_pos, n);
    input_pos += n;
    fake_cycles += 1;
    return n;
}

size_t pm_sys_write(uint32_t fd, const void *ptr, size_t len) {
    fake_cycles += 1;
    switch (fd) {
        case PM_FD_STDOUT:
            fwrite(ptr, 1, len, stdout);
            break;
        case PM_FD_STDERR:
            fwrite(ptr, 1, len, stderr);
            break;
        case PM_FD_JOURNAL:
            if (journal) fwrite(ptr, 1, len, journal);
            break;
        default:
            pm_sys_panic("write to an unknown file descriptor", 34);
    }
    return len;
}

size_t pm_input_len(void) { return input_len - input_pos; }

uint32_t pm_cycle_count(void) { return ++fake_cycles; }

void pm_sys_halt(uint32_t kind, uint32_t user_exit) {
    /* The zkVM receives kind | (user_exit << 8) in one register: 24 bits of code survive. */
    user_exit &= 0xFFFFFF;
    char code[16];
    snprintf(code, sizeof code, "%u", (unsigned)user_exit);
    write_status(kind == PM_HALT_PAUSE ? "paused" : "halted", code);
    finish();
    exit((int)(user_exit & 0xff));
}

void pm_sys_panic(const char *msg, size_t len) {
    char *text = malloc(len + 1);
    if (!text) fail("malloc");
    memcpy(text, msg, len);
    text[len] = 0;
    write_status("panic", text);
    finish();
    exit(101);
}

void *pm_alloc(size_t size, size_t align) {
    void *p = NULL;
    if (align < sizeof(void *)) align = sizeof(void *);
    if (posix_memalign(&p, align, size ? size : 1) != 0) pm_panic("out of memory");
    return p;
}

int main(void) {
    load_input();
    const char *journal_path = getenv("PM_JOURNAL");
    if (journal_path) {
        journal = fopen(journal_path, "wb");
        if (!journal) fail("open $PM_JOURNAL");
    }
    int code = pm_guest_main();
    pm_sys_halt(PM_HALT_TERMINATE, (uint32_t)code);
    return 0;
}
