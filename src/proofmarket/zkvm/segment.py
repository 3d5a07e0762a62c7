"""Segments: the unit of proving, with everything needed to re-run one in isolation.

A segment carries its pre/post ``SystemState`` (pc + page-tree root, the registers
being in the tree), its exit code, the pre-segment contents of every page it touched
(the register page included) with one Merkle multiproof against the pre root, the input
bytes it consumed and the counters that syscalls observe (input left, cycle count).
``replay_segment`` checks the pages against the pre root, re-executes the segment, and
recomputes the post root from the same multiproof.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from proofmarket.zkvm.claim import (
    DIGEST_BYTES,
    SYSTEM_STATE_ZERO,
    ZERO_DIGEST,
    ExitCode,
    ReceiptClaim,
    SystemExitKind,
    SystemState,
)
from proofmarket.zkvm.errors import ReplayError, SegmentError
from proofmarket.zkvm.layout import (
    MAX_SEGMENT_PO2,
    MIN_SEGMENT_PO2,
    NUM_PAGES,
    PAGE_BYTES,
    REG_PAGE,
    USER_END,
    USER_START,
)
from proofmarket.zkvm.memory import (
    height,
    page_digests,
    proof_nodes,
    root_from_proof,
    zero_subtree,
)

if TYPE_CHECKING:
    from proofmarket.zkvm.machine import Machine

SEGMENT_MAGIC = b"PMSG"
SEGMENT_VERSION = 1
_HEADER = struct.Struct("<4sHIBI32sI32sBIQQQQQII")
# magic, version, index, po2, pre pc, pre root, post pc, post root, exit system,
# exit user, cycles, user cycles, paging cycles, start cycle, input remaining,
# number of pages, number of proof digests


@dataclass(frozen=True)
class Segment:
    """One continuation segment of a session."""

    index: int
    po2: int
    pre_state: SystemState
    post_state: SystemState
    exit_code: ExitCode
    output: bytes | None
    cycles: int
    user_cycles: int
    paging_cycles: int
    start_cycle: int  # session cycles before this segment (CYCLE_COUNT observes it)
    input_remaining: int  # input bytes the session had left when this segment started
    input: bytes  # input bytes this segment consumed
    pages: dict[int, bytes] = field(repr=False)  # pre-segment contents of touched pages
    proof: list[bytes] = field(repr=False)  # multiproof of ``pages`` against pre root

    @property
    def padded_po2(self) -> int:
        """Smallest power of two (at least 2^MIN_SEGMENT_PO2) that holds ``cycles``."""
        return max(MIN_SEGMENT_PO2, (self.cycles - 1).bit_length())

    @property
    def is_final(self) -> bool:
        return self.exit_code.system != SystemExitKind.SYSTEM_SPLIT

    def claim(self) -> ReceiptClaim:
        return ReceiptClaim(
            pre=self.pre_state.digest(),
            post=self.post_state.digest(),
            exit_code=self.exit_code,
            output=self.output if self.output is not None else ZERO_DIGEST,
        )

    # ------------------------------------------------------------ serialization
    def to_bytes(self) -> bytes:
        """Versioned binary form: a fixed header, then a zlib-compressed body."""
        pages = sorted(self.pages)
        body = bytearray()
        body += struct.pack("<I", len(self.input)) + self.input
        body += b"".join(struct.pack("<I", p) for p in pages)
        body += b"".join(self.pages[p] for p in pages)
        # Siblings that are all-zero subtrees are implied by a bitmap instead of stored.
        nodes = proof_nodes(pages)
        if len(nodes) != len(self.proof):
            raise SegmentError("segment proof does not match its pages")
        bitmap = bytearray((len(nodes) + 7) // 8)
        stored = bytearray()
        for i, (n, d) in enumerate(zip(nodes, self.proof, strict=True)):
            if d == zero_subtree()[height(n)]:
                bitmap[i // 8] |= 1 << (i % 8)
            else:
                stored += d
        body += bitmap + stored
        body += self.output if self.output is not None else b""
        header = _HEADER.pack(
            SEGMENT_MAGIC,
            SEGMENT_VERSION,
            self.index,
            self.po2,
            self.pre_state.pc,
            self.pre_state.merkle_root,
            self.post_state.pc,
            self.post_state.merkle_root,
            int(self.exit_code.system) | (0x80 if self.output is not None else 0),
            self.exit_code.user,
            self.cycles,
            self.user_cycles,
            self.paging_cycles,
            self.start_cycle,
            self.input_remaining,
            len(pages),
            len(nodes),
        )
        return header + zlib.compress(bytes(body), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> Segment:
        if len(data) < _HEADER.size:
            raise SegmentError(f"segment data too short ({len(data)} bytes)")
        (
            magic,
            version,
            index,
            po2,
            pre_pc,
            pre_root,
            post_pc,
            post_root,
            exit_sys,
            exit_user,
            cycles,
            user_cycles,
            paging_cycles,
            start_cycle,
            input_remaining,
            npages,
            nproof,
        ) = _HEADER.unpack_from(data)
        if magic != SEGMENT_MAGIC:
            raise SegmentError("not a serialized segment (bad magic)")
        if version != SEGMENT_VERSION:
            raise SegmentError(f"unsupported segment format version {version}")
        if not MIN_SEGMENT_PO2 <= po2 <= MAX_SEGMENT_PO2:
            raise SegmentError(f"segment po2 {po2} outside [{MIN_SEGMENT_PO2}, {MAX_SEGMENT_PO2}]")
        has_output = bool(exit_sys & 0x80)
        try:
            system = SystemExitKind(exit_sys & 0x7F)
        except ValueError as exc:
            raise SegmentError(f"unknown exit kind {exit_sys & 0x7F}") from exc
        try:
            body = zlib.decompress(data[_HEADER.size :])
        except zlib.error as exc:
            raise SegmentError(f"segment body is corrupt: {exc}") from exc
        r = _Reader(body)
        input_bytes = r.take(r.u32())
        page_ids = [r.u32() for _ in range(npages)]
        if any(p >= NUM_PAGES for p in page_ids) or page_ids != sorted(set(page_ids)):
            raise SegmentError("segment page list is not a sorted set of valid page indices")
        pages = {p: r.take(PAGE_BYTES) for p in page_ids}
        nodes = proof_nodes(page_ids) if page_ids else []
        if len(nodes) != nproof:
            raise SegmentError("segment proof length does not match its pages")
        bitmap = r.take((nproof + 7) // 8)
        proof = []
        for i, n in enumerate(nodes):
            if bitmap[i // 8] >> (i % 8) & 1:
                proof.append(zero_subtree()[height(n)])
            else:
                proof.append(r.take(DIGEST_BYTES))
        output = r.take(DIGEST_BYTES) if has_output else None
        if not r.done():
            raise SegmentError("trailing bytes after segment body")
        return cls(
            index=index,
            po2=po2,
            pre_state=SystemState(pre_pc, pre_root),
            post_state=SystemState(post_pc, post_root),
            exit_code=ExitCode(system, exit_user),
            output=output,
            cycles=cycles,
            user_cycles=user_cycles,
            paging_cycles=paging_cycles,
            start_cycle=start_cycle,
            input_remaining=input_remaining,
            input=input_bytes,
            pages=pages,
            proof=proof,
        )


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise SegmentError("segment body is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def done(self) -> bool:
        return self.pos == len(self.data)


def replay_machine(segment: Segment, backend: str | None = None) -> Machine:
    """A machine holding only the segment's pages and input, at its pre-state pc: what a
    replay (checking, or recording the circuit's trace) runs the segment on."""
    from proofmarket.zkvm.machine import GuestInput, Machine

    return Machine(
        segment.pages,
        segment.pre_state.pc,
        GuestInput(segment.input, segment.input_remaining, replay=True),
        start_cycle=segment.start_cycle,
        strict=True,
        backend=backend,
    )


def replay_segment(segment: Segment, *, backend: str | None = None) -> SystemState:
    """Re-execute ``segment`` alone from its pre-state; return the post state it reaches.

    Raises ``ReplayError`` when the carried pages do not match the pre root, when the
    segment needs a page or input byte it does not carry, or when its exit code, cycle
    counts or consumed input differ from what it records. The returned state is
    ``SYSTEM_STATE_ZERO`` for a halted segment (like RISC Zero); callers compare it with
    ``segment.post_state``.
    """
    from proofmarket.zkvm.machine import StopKind

    pc = segment.pre_state.pc
    if pc & 3 or not USER_START <= pc < USER_END:
        raise ReplayError(f"segment pre-state pc 0x{pc:08x} is not an aligned user address")
    if REG_PAGE not in segment.pages:
        raise ReplayError("segment does not carry the register page")
    leaves = page_digests(segment.pages)
    if root_from_proof(leaves, segment.proof) != segment.pre_state.merkle_root:
        raise ReplayError("segment pages do not match its pre-state Merkle root")
    machine = replay_machine(segment, backend)
    run = machine.run_segment(segment.po2, record=False)
    exit_code = {
        StopKind.SPLIT: ExitCode.system_split(),
        StopKind.HALT: ExitCode.halted(run.user_exit),
        StopKind.PAUSE: ExitCode.paused(run.user_exit),
    }[run.kind]
    if exit_code != segment.exit_code:
        raise ReplayError(f"replay ended with {exit_code}, segment records {segment.exit_code}")
    if (run.cycles, run.user_cycles) != (segment.cycles, segment.user_cycles):
        raise ReplayError(
            f"replay took {run.cycles} cycles ({run.user_cycles} user), segment records "
            f"{segment.cycles} ({segment.user_cycles} user)"
        )
    if run.input_consumed != segment.input:
        raise ReplayError("replay consumed different input bytes than the segment records")
    if set(run.touched) != set(segment.pages):
        raise ReplayError("segment carries pages that its execution does not touch")
    if run.kind is StopKind.HALT:
        return SYSTEM_STATE_ZERO
    post = page_digests({p: machine.page_bytes(p) for p in segment.pages})
    return SystemState(run.pc, root_from_proof(post, segment.proof))
