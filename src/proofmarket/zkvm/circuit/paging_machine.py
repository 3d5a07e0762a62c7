"""The whole segment machine: execution tables plus paging tables, proven as one STARK.

:func:`segment_machine` composes the execution tables (``circuit/prove.py``: CPU and the
fixed u16-range / byte-logic table) with the paging tables (``circuit/paging.py``) and
the width-24 Poseidon2 chip, in place of the memory boundary table. Its public inputs
are the CPU statement (pre and post pc, journal length, the final HALT's exit; the
journal bytes are statement bus terms, see ``circuit/statement.py``) and the pre and
post page-tree roots (node table), so a verifying proof binds both ``SystemState``\\ s
of the segment's claim, its exit and the journal bytes it wrote: the execution started
from the memory under the pre root and left the memory under the post root.

Every touched page is paged in and paged out, the final (halted) segment included; a
halted segment's claim has the all-zero post state, so its post root is proven but not
part of the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from proofmarket.stark import Machine, Table, prove_machine, verify_machine
from proofmarket.stark.params import DEFAULT, StarkParams
from proofmarket.stark.poseidon2_air import Poseidon2ChipAir, chip_rows
from proofmarket.zkvm.circuit import boundary as bd
from proofmarket.zkvm.circuit.paging import BlockCols, PageBlockAir, PageNodeAir
from proofmarket.zkvm.circuit.paging_trace import PagingWitness, digest_ints, paging_witness
from proofmarket.zkvm.circuit.prove import cpu_statement, execution_tables, segment_traces
from proofmarket.zkvm.circuit.record import record_segment
from proofmarket.zkvm.circuit.statement import CpuStatement
from proofmarket.zkvm.circuit.tables import fixed_trace, u16_multiplicities
from proofmarket.zkvm.layout import MAX_SEGMENT_PO2, PAGE_WORDS
from proofmarket.zkvm.segment import Segment

_HEIGHTS = range(1, MAX_SEGMENT_PO2 + 2)


@lru_cache(maxsize=1)
def segment_machine() -> Machine:
    """CPU, fixed (u16 range and byte logic), page blocks, page nodes, Poseidon2 chip.

    One shared instance, so each AIR builds its constraint system and id once per process
    rather than once per proof and per verification.
    """
    return Machine(
        [
            *execution_tables(),
            Table(PageBlockAir(), _HEIGHTS, name="page-blocks"),
            Table(PageNodeAir(), _HEIGHTS, name="page-nodes"),
            Table(Poseidon2ChipAir(24), _HEIGHTS, name="poseidon2"),
        ],
        name="zkvm-segment",
    )


@dataclass(frozen=True)
class SegmentWitness:
    """Traces and public inputs of :func:`segment_machine` for one segment."""

    traces: list[np.ndarray]
    publics: list[list[int]]
    paging: PagingWitness
    post_pages: dict[int, bytes]
    statement: CpuStatement

    @property
    def pre_pc(self) -> int:
        return self.statement.pre_pc

    @property
    def post_pc(self) -> int:
        return self.statement.post_pc


def segment_witness(segment: Segment) -> SegmentWitness:
    """Record ``segment``, build the execution traces and page its pages in and out."""
    record = record_segment(segment)
    ex = segment_traces(record)
    b = ex.boundary
    final_ts = {int(a): int(t) for a, t in zip(b[:, bd.ADDR], b[:, bd.FINAL_TS], strict=True)}
    post_pages: dict[int, bytes] = {}
    for p, data in segment.pages.items():
        words = np.frombuffer(data, dtype="<u4").copy()
        sel = (b[:, bd.ADDR] // PAGE_WORDS) == p
        for a, lo, hi in zip(
            b[sel, bd.ADDR], b[sel, bd.FINAL_LO], b[sel, bd.FINAL_HI], strict=True
        ):
            words[int(a) % PAGE_WORDS] = int(lo) | int(hi) << 16
        post_pages[p] = words.astype("<u4").tobytes()
    paging = paging_witness(segment.pages, post_pages, segment.proof, final_ts)
    # The boundary table is gone: its u16 lookups (initial limbs) are the page-in blocks'.
    limbs = paging.blocks[paging.blocks[:, BlockCols.TREE] == 0][
        :, BlockCols.LIMBS : BlockCols.LIMBS + 16
    ]
    u16 = ex.u16.copy()
    u16 -= u16_multiplicities(np.concatenate([b[:, bd.INIT_LO], b[:, bd.INIT_HI]]))
    u16 += u16_multiplicities(limbs.reshape(-1))
    fixed = fixed_trace(u16, ex.bitwise)
    traces = [ex.cpu, fixed, paging.blocks, paging.nodes, chip_rows(paging.chip_inputs)]
    publics = [list(ex.publics), [], [], paging.public_inputs(), []]
    return SegmentWitness(traces, publics, paging, post_pages, cpu_statement(ex))


def prove_segment_stark(
    segment: Segment, params: StarkParams = DEFAULT, *, check: bool = True
) -> tuple[bytes, SegmentWitness]:
    """A STARK proof of ``segment`` over :func:`segment_machine` and its witness."""
    wit = segment_witness(segment)
    proof = prove_machine(
        segment_machine(),
        wit.traces,
        wit.publics,
        params,
        check=check,
        statement_terms=wit.statement.terms(),
    )
    return proof.to_bytes(), wit


def verify_segment_stark(
    proof: bytes,
    statement: CpuStatement,
    pre_root: bytes,
    post_root: bytes,
    params: StarkParams = DEFAULT,
    *,
    log_cpu_rows: int | None = None,
) -> list[int]:
    """Verify a segment proof against its CPU statement and both roots; returns the table
    heights. Raises :class:`~proofmarket.stark.VerificationError` when it does not verify.
    """
    publics = [
        statement.publics(),
        [],
        [],
        digest_ints(pre_root) + digest_ints(post_root),
        [],
    ]
    heights = [log_cpu_rows, None, None, None, None]
    return verify_machine(
        segment_machine(),
        proof,
        publics,
        params,
        log_heights=heights,
        statement_terms=statement.terms(),
    )
