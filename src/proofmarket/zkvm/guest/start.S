/*
 * Guest entry point: set gp and sp from linker-script symbols, zero .bss, call
 * main(), then halt with main's return value as the user exit code.
 */
    .section .text._start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top

    /* Zero .bss word by word (both ends are 16-byte aligned by the linker script). */
    la t1, __bss_start
    la t2, __bss_end
1:  bgeu t1, t2, 2f
    sw zero, 0(t1)
    addi t1, t1, 4
    j 1b
2:
    li a0, 0
    li a1, 0
    call main

    /* HALT: a0 = terminate (0) | (exit code << 8), a1 = 0. */
    slli a0, a0, 8
    li a1, 0
    li t0, 0
    ecall
    /* HALT never returns; trap if it does. */
    ebreak
    .size _start, . - _start
