"""Memory map, paging and cycle-cost constants of the proofmarket zkVM.

One place for every number that decides an image ID or a cycle count, so that the
executor, segment replay and the docs cannot drift apart.
"""

from __future__ import annotations

PAGE_BYTES = 1024
PAGE_WORDS = PAGE_BYTES // 4
PAGE_SHIFT = 10
ADDRESS_BITS = 32
NUM_PAGES = 1 << (ADDRESS_BITS - PAGE_SHIFT)  # 2^22 pages of 1 KiB cover 4 GiB
TREE_DEPTH = ADDRESS_BITS - PAGE_SHIFT  # 22 levels between the root and the page leaves

# Guest-accessible memory: [USER_START, USER_END).
USER_START = 0x0001_0000
USER_END = 0xC000_0000

# Registers live in memory (like RISC Zero v2) so the page-tree root covers them.
# x0..x31 are stored as 32 little-endian words at REGS_ADDR; the page is outside user
# memory, so the guest can never load or store it.
REGS_ADDR = 0xFFFF_0080
REG_PAGE = REGS_ADDR >> PAGE_SHIFT
REG_PAGE_OFFSET = REGS_ADDR & (PAGE_BYTES - 1)

# Cycle model (see docs/zkvm.md). Every instruction costs one cycle; READ/WRITE syscalls
# cost one extra cycle per 4 bytes moved; the first touch of a page in a segment pages it
# in and each dirty page is paged out at the end of a non-final segment. A page-in or
# page-out costs what the paging circuit spends on it: the Poseidon2 sponge over the
# page's 512 16-bit limbs (32 permutations of width 24, rate 16) plus one compression per
# level of the 22-level path to the root, each one row of the Poseidon2 chip and of the
# paging tables. Charging those rows as cycles keeps every table of a segment within
# 2^po2 rows. (RISC Zero charges 1094..5130 cycles per page in its single trace.)
PAGE_LEAF_PERMUTATIONS = 2 * PAGE_WORDS // 16
PAGE_IN_CYCLES = PAGE_LEAF_PERMUTATIONS + TREE_DEPTH  # 54
PAGE_OUT_CYCLES = PAGE_LEAF_PERMUTATIONS + TREE_DEPTH  # 54
INSN_CYCLES = 1

DEFAULT_SEGMENT_PO2 = 20
MIN_SEGMENT_PO2 = 13
MAX_SEGMENT_PO2 = 24

MAX_INPUT_BYTES = 64 * 1024 * 1024
# Upper bound on the bytes an ELF may ask the loader to lay out (sum of PT_LOAD memsz).
MAX_IMAGE_BYTES = 512 * 1024 * 1024

# Syscall selectors (t0) and file descriptors of the guest ABI.
SYS_HALT = 0
SYS_READ = 1
SYS_WRITE = 2
SYS_INPUT_LEN = 3
SYS_CYCLE_COUNT = 4
SYS_PANIC = 5
FD_STDOUT = 1
FD_STDERR = 2
FD_JOURNAL = 3
HALT_TERMINATE = 0
HALT_PAUSE = 1
# Longest panic message copied out of guest memory.
MAX_PANIC_MESSAGE = 4096
