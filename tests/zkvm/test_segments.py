"""Segments: chaining, claims, replay in isolation, serialization, tamper detection."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import struct

import pytest

from proofmarket.zkvm import (
    SYSTEM_STATE_ZERO,
    ExitCode,
    ReplayError,
    Segment,
    SegmentError,
    Session,
    SystemState,
    execute,
    replay_segment,
)
from proofmarket.zkvm.guests import example_elf
from proofmarket.zkvm.isa import asm, load_imm
from proofmarket.zkvm.layout import (
    MIN_SEGMENT_PO2,
    NUM_PAGES,
    PAGE_IN_CYCLES,
    PAGE_OUT_CYCLES,
    REG_PAGE,
)
from proofmarket.zkvm.memory import node_digest, page_digest, proof_nodes
from proofmarket.zkvm.segment import SEGMENT_VERSION
from zkvm.programs import BACKENDS, DATA, counting_loop, halt, make_elf


def u32(value: int) -> bytes:
    return struct.pack("<I", value)


@pytest.fixture(scope="module")
def iter_session() -> Session:
    """``iter`` with N=3 at the smallest segment size: several segments."""
    return execute(example_elf("iter"), u32(3), segment_po2=MIN_SEGMENT_PO2)


def read_loop_program() -> bytes:
    """Reads the whole input into DATA with 32 KiB READ calls, then journals it.

    Both loops accept short transfers (a READ or WRITE that does not fit in one segment
    moves fewer bytes and reports how many).
    """
    code = [
        *load_imm("s0", DATA),
        asm("addi", "a0", "s0", 0),  # read loop (index 2)
        *load_imm("a1", 32768),
        *load_imm("t0", 1),
        asm("ecall"),
        asm("beq", "a0", "zero", 12),  # index 8 -> write part (index 11)
        asm("add", "s0", "s0", "a0"),
        asm("jal", "zero", -32),  # index 10 -> read loop
        *load_imm("s1", DATA),  # index 11
        asm("sub", "a2", "s0", "s1"),  # write loop (index 13)
        asm("beq", "a2", "zero", 36),  # index 14 -> halt (index 23)
        *load_imm("a0", 3),
        asm("addi", "a1", "s1", 0),
        *load_imm("t0", 2),
        asm("ecall"),
        asm("add", "s1", "s1", "a0"),
        asm("jal", "zero", -36),  # index 22 -> write loop
        *halt(),
    ]
    return make_elf(code, bss=64 * 1024)


def test_segments_chain_and_join_to_the_session_claim(iter_session: Session) -> None:
    segments = iter_session.segments
    assert iter_session.segment_count == len(segments) > 2
    assert segments[0].pre_state.digest() == iter_session.image_id
    for prev, nxt in itertools.pairwise(segments):
        assert prev.post_state == nxt.pre_state
        assert prev.exit_code == ExitCode.system_split()
        assert prev.output is None
    last = segments[-1]
    assert last.exit_code == ExitCode.halted(0)
    assert last.post_state == SYSTEM_STATE_ZERO
    assert last.output == iter_session.output_digest
    claim = segments[0].claim()
    for seg in segments[1:]:
        claim = claim.join(seg.claim())
    assert claim == iter_session.claim()
    assert [s.index for s in segments] == list(range(len(segments)))


def test_segment_cycles_fit_and_add_up(iter_session: Session) -> None:
    segments = iter_session.segments
    for seg in segments:
        assert seg.cycles <= 1 << seg.po2
        assert seg.cycles == seg.user_cycles + seg.paging_cycles
        assert seg.padded_po2 <= seg.po2
    assert sum(s.cycles for s in segments) == iter_session.total_cycles
    assert sum(s.user_cycles for s in segments) == iter_session.user_cycles
    assert [s.start_cycle for s in segments] == [
        sum(s.cycles for s in segments[:i]) for i in range(len(segments))
    ]


def test_segmentation_does_not_change_results(iter_session: Session) -> None:
    whole = execute(example_elf("iter"), u32(3))
    assert whole.segment_count == 1
    assert whole.journal == iter_session.journal
    assert whole.user_cycles == iter_session.user_cycles
    assert whole.image_id == iter_session.image_id
    assert whole.claim() == iter_session.claim()


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_segment_replays_to_its_post_state(iter_session: Session, backend: str) -> None:
    for seg in iter_session.segments:
        assert replay_segment(seg, backend=backend) == seg.post_state


def test_segments_carry_the_register_page_and_a_valid_multiproof(iter_session: Session) -> None:
    for seg in iter_session.segments:
        assert REG_PAGE in seg.pages
        assert len(seg.pages) * PAGE_IN_CYCLES <= seg.paging_cycles


def test_serialization_round_trip(iter_session: Session) -> None:
    for seg in iter_session.segments:
        blob = seg.to_bytes()
        back = Segment.from_bytes(blob)
        assert back == seg
        assert back.claim() == seg.claim()
        assert replay_segment(back) == seg.post_state
        # Compact: pages compress and all-zero subtrees in the proof cost one bit.
        assert len(blob) < 1024 * len(seg.pages) + 32 * len(seg.proof)


def test_on_segment_streams_segments_as_they_are_cut(iter_session: Session) -> None:
    seen: list[Segment] = []
    session = execute(
        example_elf("iter"),
        u32(3),
        segment_po2=MIN_SEGMENT_PO2,
        on_segment=seen.append,
        keep_segments=False,
    )
    assert session.segments == []
    assert session.segment_count == len(seen)
    assert seen == iter_session.segments
    assert session.claim() == iter_session.claim()


def test_large_reads_are_split_across_segments() -> None:
    data = hashlib.shake_256(b"input").digest(48 * 1024)
    session = execute(read_loop_program(), data, segment_po2=MIN_SEGMENT_PO2)
    assert session.journal == data
    assert session.segment_count > 5
    # No single segment could hold a 32 KiB READ at po2 13, so reads were shortened.
    assert max(len(s.input) for s in session.segments) < 32768
    assert b"".join(s.input for s in session.segments) == data
    remaining = [s.input_remaining for s in session.segments]
    assert remaining[0] == len(data)
    assert remaining == sorted(remaining, reverse=True)
    for seg in session.segments:
        assert seg.cycles <= 1 << MIN_SEGMENT_PO2
        assert replay_segment(seg) == seg.post_state
    whole = execute(read_loop_program(), data)
    assert whole.journal == data
    assert whole.segment_count == 1


def test_paused_final_segment_replays_to_real_state() -> None:
    session = execute(make_elf([*counting_loop(10), *halt(1, kind=1)]))
    seg = session.segments[-1]
    assert seg.exit_code == ExitCode.paused(1)
    assert seg.post_state != SYSTEM_STATE_ZERO
    assert replay_segment(seg) == seg.post_state


# ------------------------------------------------------------------------- tampering


def test_tampered_page_fails_the_merkle_check(iter_session: Session) -> None:
    seg = iter_session.segments[1]
    page = next(p for p in seg.pages if p != REG_PAGE)
    bad = bytearray(seg.pages[page])
    bad[0] ^= 1
    forged = dataclasses.replace(seg, pages={**seg.pages, page: bytes(bad)})
    with pytest.raises(ReplayError, match="Merkle root"):
        replay_segment(forged)


def test_missing_page_is_reported(iter_session: Session) -> None:
    seg = iter_session.segments[0]
    kept = dict(seg.pages)
    kept.pop(next(p for p in kept if p != REG_PAGE))
    forged = dataclasses.replace(seg, pages=kept)
    with pytest.raises((ReplayError, SegmentError)):
        replay_segment(forged)


def test_forged_post_state_is_detected_by_the_caller(iter_session: Session) -> None:
    seg = iter_session.segments[0]
    forged = dataclasses.replace(seg, post_state=SystemState(seg.post_state.pc + 4, bytes(32)))
    assert replay_segment(forged) != forged.post_state


@pytest.mark.parametrize("pc", [0x0020_0802, 0x100, 0xC000_0000])
def test_forged_pre_pc_is_rejected(iter_session: Session, pc: int) -> None:
    seg = iter_session.segments[1]
    forged = dataclasses.replace(seg, pre_state=SystemState(pc, seg.pre_state.merkle_root))
    with pytest.raises(ReplayError, match="pc"):
        replay_segment(forged)


def test_forged_exit_code_or_cycles_raise(iter_session: Session) -> None:
    seg = iter_session.segments[0]
    with pytest.raises(ReplayError, match=r"SystemSplit|Halted"):
        replay_segment(dataclasses.replace(seg, exit_code=ExitCode.halted(0)))
    with pytest.raises(ReplayError, match="cycles"):
        replay_segment(dataclasses.replace(seg, cycles=seg.cycles + 1))


def test_forged_input_raises() -> None:
    data = bytes(range(256)) * 8
    session = execute(read_loop_program(), data, segment_po2=MIN_SEGMENT_PO2)
    seg = next(s for s in session.segments if s.input)
    with pytest.raises(ReplayError, match="input"):
        replay_segment(dataclasses.replace(seg, input=seg.input[:-1]))


def test_malformed_segment_bytes(iter_session: Session) -> None:
    blob = iter_session.segments[0].to_bytes()
    with pytest.raises(SegmentError, match="too short"):
        Segment.from_bytes(blob[:10])
    with pytest.raises(SegmentError, match="magic"):
        Segment.from_bytes(b"XXXX" + blob[4:])
    wrong_version = blob[:4] + struct.pack("<H", SEGMENT_VERSION + 1) + blob[6:]
    with pytest.raises(SegmentError, match="version"):
        Segment.from_bytes(wrong_version)
    with pytest.raises(SegmentError, match=r"corrupt|truncated"):
        Segment.from_bytes(blob[:-5])


def _reprove(seg: Segment, pages: dict[int, bytes]) -> list[bytes]:
    """A valid multiproof for a subset of ``seg``'s pages, derived from its own proof."""
    known = dict(zip(proof_nodes(seg.pages), seg.proof, strict=True))
    level = set()
    for p, data in seg.pages.items():
        known[NUM_PAGES + p] = page_digest(data)
        level.add((NUM_PAGES + p) >> 1)
    while level:
        for n in level:
            known[n] = node_digest(known[2 * n], known[2 * n + 1])
        level = {n >> 1 for n in level if n > 1}
    return [known[n] for n in proof_nodes(pages)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_replay_without_a_touched_page_fails_cleanly(iter_session: Session, backend: str) -> None:
    seg = iter_session.segments[0]
    for page in [p for p in seg.pages if p != REG_PAGE]:
        kept = {p: d for p, d in seg.pages.items() if p != page}
        forged = dataclasses.replace(seg, pages=kept, proof=_reprove(seg, kept))
        with pytest.raises(ReplayError, match=f"does not carry page 0x{page:x}"):
            replay_segment(forged, backend=backend)


def test_segments_are_cut_only_when_the_next_instruction_does_not_fit(
    iter_session: Session,
) -> None:
    # The costliest instruction adds 1 cycle, two page-ins and one page-out.
    worst = 1 + 2 * PAGE_IN_CYCLES + PAGE_OUT_CYCLES
    for seg in iter_session.segments[:-1]:
        assert (1 << seg.po2) - worst < seg.cycles <= 1 << seg.po2
