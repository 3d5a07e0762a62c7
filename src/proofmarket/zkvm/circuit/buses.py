"""LogUp bus ids and tuple layouts shared by every table of the segment circuit.

This module is the interface between the instruction-execution tables (CPU, ALU,
memory) and the paging tables: both sides import the ids and helpers from here, so the
tuple layouts cannot drift apart. Changing any of it changes every circuit's AIR ids;
``docs/zkvm-circuit.md`` describes the contract.

Memory bus (:data:`MEMORY_BUS`), tuple ``(word_address, timestamp, value_lo16,
value_hi16)``:

* ``word_address`` is the byte address divided by 4 (every access is to an aligned
  word; registers x0..x31 are the words at ``REGS_ADDR / 4 + r``);
* each access *consumes* the word's previous state ``(addr, ts_prev, prev_lo, prev_hi)``
  (multiplicity −1, a ``lookup``) and *produces* ``(addr, ts, lo, hi)`` (a ``provide``),
  and the accessing table checks ``ts_prev < ts`` by range-checking ``ts − ts_prev − 1``;
* the paging side produces ``(addr, INITIAL_TIMESTAMP, lo, hi)`` for every word of every
  paged-in page and consumes the final ``(addr, ts_final, lo, hi)`` of every word of
  every page it pages out (every touched page is paged out). The limbs it produces must
  be range-checked to 16 bits (:data:`U16_BUS`).

Timestamps: the instruction at segment row ``i`` (0-based) uses
``cycle_timestamp(i, slot)`` with the slots below, so every access of a segment has a
distinct timestamp greater than :data:`INITIAL_TIMESTAMP`.
"""

from __future__ import annotations

from proofmarket.zkvm.layout import REGS_ADDR

MEMORY_BUS = 0x4D45_4D00
"""Offline memory checking: ``(word_address, timestamp, value_lo16, value_hi16)``."""
U16_BUS = 0x5531_3600
"""16-bit range checks: ``(value,)`` is provided by the fixed u16 table."""
BITWISE_BUS = 0x4249_5400
"""Byte logic: ``(op, x, y, result)`` with op 0 = and, 1 = or, 2 = xor, x, y bytes;
op 3 with result 0 range-checks the two bytes."""
JOURNAL_BUS = 0x4A52_4E00
"""Journal bytes: ``(index, byte)``; the verifier provides them from the receipt's journal."""

INITIAL_TIMESTAMP = 0
"""Timestamp of a word's state when its page is paged in."""

TIMESTAMP_SLOTS = 4
"""Memory accesses an instruction row may make, each at its own timestamp."""
SLOT_FETCH = 0  # the instruction word at pc
SLOT_RS1 = 1  # rs1 read
SLOT_RS2 = 2  # rs2 read, or the data word of a load
SLOT_RD = 3  # rd write, or the data word of a store

TIMESTAMP_DIFF_BITS = 28
"""``ts − ts_prev − 1`` is range-checked to this many bits (16-bit limb + 12-bit limb)."""

REG_WORD_BASE = REGS_ADDR // 4
"""Word address of register x0; x_r is at ``REG_WORD_BASE + r``."""


def cycle_timestamp(row: int, slot: int) -> int:
    """Timestamp of access ``slot`` of the instruction at segment row ``row``."""
    if not 0 <= slot < TIMESTAMP_SLOTS:
        raise ValueError(f"timestamp slot {slot} is not in [0, {TIMESTAMP_SLOTS})")
    return TIMESTAMP_SLOTS * (row + 1) + slot


def word_address(byte_address: int) -> int:
    """Word address of an aligned byte address (the memory bus's first element)."""
    if byte_address & 3:
        raise ValueError(f"address {byte_address:#x} is not word-aligned")
    return byte_address >> 2


def register_address(reg: int) -> int:
    """Word address of register ``x{reg}``."""
    if not 0 <= reg < 32:
        raise ValueError(f"register x{reg} does not exist")
    return REG_WORD_BASE + reg


def split_word(value: int) -> tuple[int, int]:
    """A 32-bit word as its ``(lo16, hi16)`` limbs."""
    if not 0 <= value < 1 << 32:
        raise ValueError(f"{value} is not a 32-bit word")
    return value & 0xFFFF, value >> 16


def memory_tuple(byte_address: int, timestamp: int, value: int) -> tuple[int, int, int, int]:
    """The memory-bus tuple of one word state."""
    return (word_address(byte_address), timestamp, *split_word(value))


__all__ = [
    "BITWISE_BUS",
    "INITIAL_TIMESTAMP",
    "JOURNAL_BUS",
    "MEMORY_BUS",
    "REG_WORD_BASE",
    "SLOT_FETCH",
    "SLOT_RD",
    "SLOT_RS1",
    "SLOT_RS2",
    "TIMESTAMP_DIFF_BITS",
    "TIMESTAMP_SLOTS",
    "U16_BUS",
    "cycle_timestamp",
    "memory_tuple",
    "register_address",
    "split_word",
    "word_address",
]
