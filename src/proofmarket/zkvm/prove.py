"""Turning executions into receipts: prove each segment, then lift, join and finalize.

The pipeline mirrors RISC Zero's recursion: each segment gets a ``SegmentReceipt``;
``lift`` turns it into a ``SuccinctReceipt`` for a one-segment span; ``join`` merges two
consecutive spans; ``finalize`` attaches the journal (those three live in ``receipt`` so
that join agents need no executor). A cluster runs the same steps as separate tasks.

By default each segment is proven with a STARK over the segment machine
(``zkvm/stark_seal.py``); spans carry their segments' seals (no recursion). In dev mode a
segment receipt is issued after re-executing the segment in isolation
(``replay_segment``) and checking that it reaches the post state it claims, so a dev
receipt is still an honest statement about an execution that happened; it just carries
no proof. A segment the circuit cannot prove (a syscall selector the executor would not
serve either) makes real proving fail with ``ProverUnavailable``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from proofmarket.zkvm.claim import SYSTEM_STATE_ZERO, SystemExitKind
from proofmarket.zkvm.errors import ZkvmError
from proofmarket.zkvm.executor import execute
from proofmarket.zkvm.layout import DEFAULT_SEGMENT_PO2
from proofmarket.zkvm.receipt import (
    DEV_MODE_LABEL,
    ProverUnavailable,
    Receipt,
    Seal,
    SegmentReceipt,
    SuccinctReceipt,
    VerificationError,
    compose,
    finalize,
)
from proofmarket.zkvm.segment import Segment, replay_segment
from proofmarket.zkvm.session import Session

STARK_UNAVAILABLE = (
    "the RV32IM circuit cannot prove this segment yet ({reason}); pass dev_mode=True "
    f"(--dev-mode) for {DEV_MODE_LABEL} receipts, which re-execute the guest but prove nothing"
)


def prove_segment(segment: Segment, *, dev_mode: bool, profile: str = "default") -> SegmentReceipt:
    """Receipt for one segment: a STARK seal, or in dev mode a replay-checked dev seal."""
    if not dev_mode:
        return _prove_segment_stark(segment, profile)
    claim = segment.claim()
    if claim.pre != segment.pre_state.digest():
        raise VerificationError(f"segment {segment.index}: claim pre-state differs from its data")
    try:
        reached = replay_segment(segment)
    except ZkvmError as exc:
        raise VerificationError(f"segment {segment.index} does not replay: {exc}") from exc
    if reached != segment.post_state:
        raise VerificationError(
            f"segment {segment.index}: replay reached pc=0x{reached.pc:08x} "
            f"root={reached.merkle_root.hex()[:16]}..., not the post state the segment claims"
        )
    expected_post = (
        SYSTEM_STATE_ZERO.digest()
        if segment.exit_code.system == SystemExitKind.HALTED
        else segment.post_state.digest()
    )
    if claim.post != expected_post:
        raise VerificationError(f"segment {segment.index}: claim post-state differs from replay")
    receipt = SegmentReceipt(claim, Seal.dev(claim), segment.index, segment.po2)
    receipt.verify_integrity()
    return receipt


PROVE_BYTES_PER_ROW = 10 * 1024
"""Peak prover memory per CPU-table row (measured: 9.7 GiB at 2^20 rows, 2.8 GiB at 2^18;
``bench/prove_bench.py``)."""
PROVE_BASE_BYTES = 512 << 20


def physical_memory() -> int | None:
    """Bytes of RAM on this machine (None where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_prover_memory(segment: Segment) -> None:
    """Refuse, before any work, a segment whose proof cannot fit in this machine's RAM
    (the prover would otherwise be killed by the kernel partway through)."""
    rows = 1 << max(1, (segment.user_cycles - 1).bit_length())
    need = PROVE_BASE_BYTES + rows * PROVE_BYTES_PER_ROW
    total = physical_memory()
    if total is not None and need > total:
        raise ProverUnavailable(
            f"segment {segment.index}: proving its {rows:,}-row trace needs about "
            f"{need / 2**30:.1f} GiB but this machine has {total / 2**30:.1f} GiB; prove "
            "with a smaller --segment-po2 (each step down halves the memory)"
        )


def _prove_segment_stark(segment: Segment, profile: str) -> SegmentReceipt:
    from proofmarket.zkvm.circuit.trace import UnsupportedInstruction
    from proofmarket.zkvm.stark_seal import make_stark_seal

    check_prover_memory(segment)
    try:
        seal = make_stark_seal(segment, profile)
    except UnsupportedInstruction as exc:
        raise ProverUnavailable(STARK_UNAVAILABLE.format(reason=exc)) from exc
    receipt = SegmentReceipt(segment.claim(), seal, segment.index, segment.po2)
    receipt.verify_integrity()
    return receipt


class SpanAccumulator:
    """Collects segment receipts as they arrive (each verified when it was proven) and
    composes them into one span; ``finalize`` then verifies every seal once more."""

    def __init__(self) -> None:
        self.segments: list[SegmentReceipt] = []

    def add(self, receipt: SegmentReceipt) -> None:
        self.segments.append(receipt)

    @property
    def root(self) -> SuccinctReceipt | None:
        return compose(self.segments) if self.segments else None


@dataclass(frozen=True)
class ProvedSession:
    """A receipt together with the session statistics of the execution behind it."""

    receipt: Receipt
    session: Session


def prove_session(
    elf: bytes,
    input: bytes = b"",
    *,
    dev_mode: bool,
    segment_po2: int = DEFAULT_SEGMENT_PO2,
    cycle_limit: int | None = None,
    on_segment_proved: Callable[[SegmentReceipt], None] | None = None,
    profile: str = "default",
) -> ProvedSession:
    """Execute ``elf`` on ``input``, prove every segment as it is cut, join and finalize."""
    spans = SpanAccumulator()

    def on_segment(segment: Segment) -> None:
        receipt = prove_segment(segment, dev_mode=dev_mode, profile=profile)
        spans.add(receipt)
        if on_segment_proved is not None:
            on_segment_proved(receipt)

    session = execute(
        elf,
        input,
        segment_po2=segment_po2,
        cycle_limit=cycle_limit,
        on_segment=on_segment,
        keep_segments=False,
    )
    root = spans.root
    if root is None:
        raise VerificationError("execution produced no segments")
    receipt = finalize(root, session.journal)
    if receipt.claim != session.claim():
        raise VerificationError("the joined receipt claim differs from the session claim")
    return ProvedSession(receipt, session)


def prove(
    elf: bytes,
    input: bytes = b"",
    *,
    dev_mode: bool,
    segment_po2: int = DEFAULT_SEGMENT_PO2,
    cycle_limit: int | None = None,
    profile: str = "default",
) -> Receipt:
    """Execute and prove a whole session; ``dev_mode=True`` gives a DEV MODE receipt."""
    return prove_session(
        elf,
        input,
        dev_mode=dev_mode,
        segment_po2=segment_po2,
        cycle_limit=cycle_limit,
        profile=profile,
    ).receipt
