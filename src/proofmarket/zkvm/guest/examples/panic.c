/*
 * panic: input u32 LE code. code 0 panics with the message "panic guest: code 0 requested";
 * any other code writes a line to stdout and stderr, commits the code (u32 LE) to the
 * journal and halts with exit code `code`.
 */
#include "proofmarket.h"

int main(void) {
    uint32_t code = pm_read_u32();
    if (code == 0) pm_panic("panic guest: code 0 requested");
    pm_print("panic guest: halting\n");
    pm_eprint("panic guest: non-zero exit code\n");
    pm_commit_u32(code);
    pm_halt(code);
}
