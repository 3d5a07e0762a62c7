"""Errors raised by the zkVM executor.

Every failure a caller can cause (bad ELF, oversize input, guest fault or panic, cycle
limit, inconsistent segment data) has its own class so that a broker or agent can tell
them apart and report them precisely without crashing.
"""

from __future__ import annotations


class ZkvmError(Exception):
    """Base class of every zkVM error."""


class ElfError(ZkvmError):
    """The program is not a loadable static RV32IM ELF executable."""


class InputTooLarge(ZkvmError):
    """The guest input exceeds the executor's limit."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"guest input is {size} bytes, more than the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class InvalidSegmentPo2(ZkvmError, ValueError):
    """The requested segment size is outside the supported range."""


class GuestFault(ZkvmError):
    """The guest did something the machine cannot execute (illegal instruction, bad access)."""

    def __init__(self, pc: int, reason: str) -> None:
        super().__init__(f"guest fault at pc=0x{pc:08x}: {reason}")
        self.pc = pc
        self.reason = reason


class GuestPanic(ZkvmError):
    """The guest called the PANIC syscall; no claim is produced."""

    def __init__(self, message: str, pc: int | None = None) -> None:
        where = f" at pc=0x{pc:08x}" if pc is not None else ""
        super().__init__(f"guest panicked{where}: {message}")
        self.message = message
        self.pc = pc


class SessionLimitExceeded(ZkvmError):
    """Execution needed more cycles than the caller allowed."""

    def __init__(self, cycles: int, limit: int) -> None:
        super().__init__(
            f"session cycle limit exceeded: {cycles:,} cycles > limit {limit:,} "
            "(raise it with --cycle-limit or PROOFMARKET_CYCLE_LIMIT)"
        )
        self.cycles = cycles
        self.limit = limit


class SegmentError(ZkvmError):
    """A serialized segment is malformed or its data is inconsistent with its claims."""


class ReplayError(SegmentError):
    """Re-executing a segment in isolation disagreed with the data it carries."""
