"""Compile the executor's numba kernels ahead of time.

numba compiles ``interp_core.run`` on the first execution after install (seconds) and
caches the machine code on disk (``cache=True``). ``proofmarket tools precompile`` (run
by ``scripts/setup.sh``) calls :func:`warmup` so that the first real run is warm.
"""

from __future__ import annotations

from proofmarket.zkvm.backend import resolve
from proofmarket.zkvm.elf import build_elf
from proofmarket.zkvm.executor import execute
from proofmarket.zkvm.isa import asm, load_imm, words_to_bytes
from proofmarket.zkvm.layout import MIN_SEGMENT_PO2, SYS_HALT


def _halt_elf() -> bytes:
    """A hand-assembled guest that halts at once (no guest toolchain needed)."""
    code = [*load_imm("a0", 0), *load_imm("t0", SYS_HALT), asm("ecall")]
    return build_elf([(0x0020_0800, words_to_bytes(code), 4 * len(code))], 0x0020_0800)


def warmup() -> bool:
    """Run a tiny guest in preflight and in full mode; False when numba is not in use."""
    if resolve() != "numba":
        return False
    elf = _halt_elf()
    execute(elf, segment_po2=MIN_SEGMENT_PO2, keep_segments=False)
    execute(elf, segment_po2=MIN_SEGMENT_PO2, keep_segments=True)
    return True


__all__ = ["warmup"]
