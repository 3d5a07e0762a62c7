"""``execute``: run a guest ELF, cutting its execution into provable segments.

The machine state between segments is a ``SystemState``: the pc and the root of the
page tree (registers live in a page of that tree). The image ID is the digest of the
initial state, ``SystemState(pc=entry, merkle_root=root of the initial image)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from proofmarket.limits import resolve_cycle_limit
from proofmarket.zkvm.claim import SYSTEM_STATE_ZERO, ExitCode, Output, SystemState
from proofmarket.zkvm.elf import Program, load_elf
from proofmarket.zkvm.errors import InputTooLarge, InvalidSegmentPo2, SessionLimitExceeded
from proofmarket.zkvm.layout import (
    DEFAULT_SEGMENT_PO2,
    MAX_INPUT_BYTES,
    MAX_SEGMENT_PO2,
    MIN_SEGMENT_PO2,
)
from proofmarket.zkvm.machine import GuestInput, Machine, StopKind
from proofmarket.zkvm.memory import PageTree, page_digests
from proofmarket.zkvm.segment import Segment

if TYPE_CHECKING:
    from proofmarket.zkvm.session import Session

SegmentCallback = Callable[[Segment], None]
ProgressCallback = Callable[[int, int], None]  # (segments done, cycles done)


def check_segment_po2(po2: int) -> int:
    if isinstance(po2, bool) or not isinstance(po2, int):
        raise InvalidSegmentPo2(f"segment po2 must be an integer, got {po2!r}")
    if not MIN_SEGMENT_PO2 <= po2 <= MAX_SEGMENT_PO2:
        raise InvalidSegmentPo2(
            f"segment po2 {po2} is outside the supported range "
            f"[{MIN_SEGMENT_PO2}, {MAX_SEGMENT_PO2}]"
        )
    return po2


def image_state(program: Program) -> tuple[SystemState, PageTree]:
    tree = PageTree.from_pages(program.pages)
    return SystemState(program.entry, tree.root), tree


def compute_image_id(elf: bytes) -> bytes:
    """32-byte image ID of an ELF: the digest of its initial ``SystemState``."""
    state, _ = image_state(load_elf(elf))
    return state.digest()


def execute(
    elf: bytes,
    input: bytes = b"",
    *,
    segment_po2: int = DEFAULT_SEGMENT_PO2,
    cycle_limit: int | None = None,
    on_segment: SegmentCallback | None = None,
    keep_segments: bool = True,
    backend: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Session:
    """Execute a guest to completion.

    ``on_segment`` is called with each segment as soon as it is cut. ``cycle_limit``
    bounds the session's total cycles (``SessionLimitExceeded``); ``None`` means the
    configured default (see :mod:`proofmarket.limits`), never "unbounded".
    ``backend`` picks the interpreter ("numba" or "python"; default from ``PROOFMARKET_EXECUTOR``).
    ``on_progress(segments, cycles)`` reports progress after each segment without making
    the executor record segment data (unlike ``on_segment``).
    """
    check_segment_po2(segment_po2)
    data = bytes(input)
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLarge(len(data), MAX_INPUT_BYTES)
    cycle_limit = resolve_cycle_limit(cycle_limit)
    return execute_program(
        load_elf(elf),
        data,
        segment_po2=segment_po2,
        cycle_limit=cycle_limit,
        on_segment=on_segment,
        keep_segments=keep_segments,
        backend=backend,
        on_progress=on_progress,
    )


def execute_program(
    program: Program,
    data: bytes,
    *,
    segment_po2: int = DEFAULT_SEGMENT_PO2,
    cycle_limit: int | None = None,
    on_segment: SegmentCallback | None = None,
    keep_segments: bool = True,
    backend: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Session:
    """``execute`` for an already loaded program."""
    from proofmarket.zkvm.session import Session  # session.py re-exports execute

    check_segment_po2(segment_po2)
    cycle_limit = resolve_cycle_limit(cycle_limit)
    initial, tree = image_state(program)
    image_id = initial.digest()
    machine = Machine(program.pages, program.entry, GuestInput(data), backend=backend)
    record = keep_segments or on_segment is not None
    segments: list[Segment] = []
    user_total = paging_total = 0
    index = 0
    while True:
        pre = SystemState(machine.pc, tree.root)
        start_cycle = machine.cycle
        input_remaining = machine.input.remaining()
        run = machine.run_segment(segment_po2, cycle_limit - start_cycle, record=record)
        if start_cycle + run.cycles > cycle_limit:
            raise SessionLimitExceeded(start_cycle + run.cycles, cycle_limit)
        proof = tree.multiproof(run.touched) if record else []
        if run.kind is StopKind.HALT:
            post = SYSTEM_STATE_ZERO
            exit_code = ExitCode.halted(run.user_exit)
        else:
            tree.update(page_digests({p: machine.page_bytes(p) for p in run.dirty}))
            post = SystemState(run.pc, tree.root)
            exit_code = (
                ExitCode.paused(run.user_exit)
                if run.kind is StopKind.PAUSE
                else ExitCode.system_split()
            )
        final = run.kind is not StopKind.SPLIT
        segment = Segment(
            index=index,
            po2=segment_po2,
            pre_state=pre,
            post_state=post,
            exit_code=exit_code,
            output=Output.of_journal(bytes(machine.journal)).digest() if final else None,
            cycles=run.cycles,
            user_cycles=run.user_cycles,
            paging_cycles=run.paging_cycles,
            start_cycle=start_cycle,
            input_remaining=input_remaining,
            input=run.input_consumed,
            pages=run.snapshots,
            proof=proof,
        )
        machine.cycle += run.cycles
        user_total += run.user_cycles
        paging_total += run.paging_cycles
        index += 1
        if on_segment is not None:
            on_segment(segment)
        if on_progress is not None:
            on_progress(index, machine.cycle)
        if keep_segments:
            segments.append(segment)
        if final:
            break
    return Session(
        image_id=image_id,
        exit_code=exit_code,
        journal=bytes(machine.journal),
        stdout=bytes(machine.stdout),
        stderr=bytes(machine.stderr),
        total_cycles=machine.cycle,
        user_cycles=user_total,
        paging_cycles=paging_total,
        segment_count=index,
        post_state=post,
        segments=segments,
    )
