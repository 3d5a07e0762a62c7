"""Proving real executions of the example guests in dev mode, segment by segment."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import pytest

from proofmarket.zkvm import (
    GuestPanic,
    ProverUnavailable,
    Receipt,
    ReceiptClaim,
    Segment,
    SegmentReceipt,
    SystemState,
    VerificationError,
    compute_image_id,
    execute,
    finalize,
    join,
    lift,
    prove,
    prove_segment,
    prove_session,
    verify,
)
from proofmarket.zkvm.claim import SYSTEM_STATE_ZERO, ExitCode, sha256
from proofmarket.zkvm.guests import example_elf
from proofmarket.zkvm.receipt import DEV_MODE_ENV, compose
from proofmarket.zkvm.toolchain import build_guest


@pytest.fixture(autouse=True)
def _no_dev_mode_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEV_MODE_ENV, raising=False)


def u32(value: int) -> bytes:
    return struct.pack("<I", value)


@pytest.fixture(scope="module")
def iter_segments() -> tuple[bytes, bytes, list[Segment]]:
    """A multi-segment session (iter N=4 at the smallest segment size)."""
    elf = example_elf("iter")
    session = execute(elf, u32(4), segment_po2=13)
    assert session.segment_count >= 3
    return session.image_id, session.journal, session.segments


def test_prove_fib_and_verify() -> None:
    elf = example_elf("fib")
    receipt = prove(elf, u32(20), dev_mode=True)
    image_id = compute_image_id(elf)
    claim = verify(receipt, image_id, allow_dev_mode=True)
    assert receipt.journal == u32(6765)
    assert claim == ReceiptClaim.ok(image_id, u32(6765))
    assert receipt.is_dev_mode
    with pytest.raises(VerificationError, match="DEV MODE"):
        verify(receipt, image_id)
    with pytest.raises(VerificationError, match="image ID mismatch"):
        verify(receipt, compute_image_id(example_elf("iter")), allow_dev_mode=True)


def test_prove_without_dev_mode_gives_a_stark_receipt() -> None:
    elf = example_elf("fib")
    receipt = prove(elf, u32(3), dev_mode=False, segment_po2=13, profile="test-insecure")
    assert receipt.mode == "STARK" and not receipt.is_dev_mode
    claim = verify(receipt, compute_image_id(elf), allow_insecure_params=True)
    assert claim.exit_code == ExitCode.halted(0) and receipt.journal == u32(2)


def test_multi_segment_receipt_verifies() -> None:
    elf = example_elf("iter")
    proved = prove_session(elf, u32(4), dev_mode=True, segment_po2=13)
    receipt, session = proved.receipt, proved.session
    assert session.segment_count >= 3
    assert receipt.inner.segment_count == session.segment_count
    assert receipt.claim == session.claim()
    assert verify(receipt, compute_image_id(elf), allow_dev_mode=True).exit_code == (
        ExitCode.halted(0)
    )
    decoded = Receipt.from_bytes(receipt.to_bytes())
    assert verify(decoded, session.image_id, allow_dev_mode=True) == receipt.claim


def test_segment_receipts_join_in_tree_order(
    iter_segments: tuple[bytes, bytes, list[Segment]],
) -> None:
    image_id, journal, segments = iter_segments
    lifted = [lift(prove_segment(segment, dev_mode=True)) for segment in segments]
    # Pairwise (tree) joins, as a cluster's join tasks would do them.
    level = lifted
    while len(level) > 1:
        nxt = [join(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    receipt = finalize(level[0], journal)
    assert verify(receipt, image_id, allow_dev_mode=True) == ReceiptClaim.ok(image_id, journal)


def test_join_out_of_order_rejected(iter_segments: tuple[bytes, bytes, list[Segment]]) -> None:
    _, journal, segments = iter_segments
    lifted = [lift(prove_segment(segment, dev_mode=True)) for segment in segments[:3]]
    with pytest.raises(VerificationError, match="join order"):
        join(lifted[1], lifted[0])
    with pytest.raises(VerificationError, match="join order"):
        join(lifted[0], lifted[2])
    with pytest.raises(VerificationError, match="not final"):
        finalize(join(lifted[0], lifted[1]), journal)


def test_prove_segment_after_serialization(
    iter_segments: tuple[bytes, bytes, list[Segment]],
) -> None:
    segment = iter_segments[2][1]
    direct = prove_segment(segment, dev_mode=True)
    shipped = prove_segment(Segment.from_bytes(segment.to_bytes()), dev_mode=True)
    assert shipped == direct
    assert SegmentReceipt.from_bytes(direct.to_bytes()) == direct
    assert direct.claim == segment.claim()


def test_prove_segment_rejects_false_post_state(
    iter_segments: tuple[bytes, bytes, list[Segment]],
) -> None:
    segment = iter_segments[2][0]
    lie = SystemState(segment.post_state.pc, sha256(b"not the real memory"))
    with pytest.raises(VerificationError, match="replay reached"):
        prove_segment(dataclasses.replace(segment, post_state=lie), dev_mode=True)


def test_prove_segment_rejects_tampered_pages(
    iter_segments: tuple[bytes, bytes, list[Segment]],
) -> None:
    segment = iter_segments[2][0]
    page = max(segment.pages)
    pages = dict(segment.pages)
    pages[page] = bytes(b ^ 0xFF for b in pages[page])
    with pytest.raises(VerificationError, match="does not replay"):
        prove_segment(dataclasses.replace(segment, pages=pages), dev_mode=True)


def test_unprovable_segment_is_reported_as_unavailable(
    iter_segments: tuple[bytes, bytes, list[Segment]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the circuit cannot prove is a clear ProverUnavailable, not a crash."""
    from proofmarket.zkvm.circuit import trace

    def refuse(*_: object) -> None:
        raise trace.UnsupportedInstruction("instruction 0x00100073 is not constrained")

    monkeypatch.setattr("proofmarket.zkvm.circuit.prove.build_traces", refuse)
    with pytest.raises(ProverUnavailable, match="cannot prove this segment"):
        prove_segment(iter_segments[2][0], dev_mode=False)


def test_nonzero_exit_code_receipt() -> None:
    elf = example_elf("panic")
    receipt = prove(elf, u32(7), dev_mode=True)
    claim = verify(receipt, compute_image_id(elf), allow_dev_mode=True)
    assert claim.exit_code == ExitCode.halted(7)
    assert receipt.journal == u32(7)


def test_guest_panic_gives_no_receipt() -> None:
    with pytest.raises(GuestPanic, match="code 0 requested"):
        prove(example_elf("panic"), u32(0), dev_mode=True)


def test_sha256_receipt_binds_journal() -> None:
    elf = example_elf("sha256")
    data = bytes(range(200))
    receipt = prove(elf, data, dev_mode=True)
    assert receipt.journal == sha256(data)
    forged = Receipt(receipt.inner, sha256(b"something else"))
    with pytest.raises(VerificationError, match="journal"):
        verify(forged, compute_image_id(elf), allow_dev_mode=True)


def test_paused_guest_receipt(tmp_path: Path) -> None:
    source = tmp_path / "pause.c"
    source.write_text(
        '#include "proofmarket.h"\n'
        "int main(void) { pm_commit_u32(42); pm_pause(5); pm_commit_u32(43); return 0; }\n"
    )
    elf = build_guest([source], tmp_path / "pause.elf").read_bytes()
    receipt = prove(elf, b"", dev_mode=True, segment_po2=13)
    claim = verify(receipt, compute_image_id(elf), allow_dev_mode=True)
    assert claim.exit_code == ExitCode.paused(5)
    assert receipt.journal == u32(42)
    assert claim.post != SYSTEM_STATE_ZERO.digest()


def test_compose_checks_order_and_chaining(
    iter_segments: tuple[bytes, bytes, list[Segment]],
) -> None:
    image_id, journal, segments = iter_segments
    receipts = [prove_segment(s, dev_mode=True) for s in segments]
    root = compose(receipts)
    assert (root.first_segment, root.segment_count) == (0, len(receipts))
    assert verify(finalize(root, journal), image_id, allow_dev_mode=True) == root.claim
    with pytest.raises(VerificationError, match="segment order"):
        compose([receipts[0], receipts[2]])
    with pytest.raises(VerificationError, match="segment order"):
        compose([receipts[1], receipts[0]])
    with pytest.raises(VerificationError, match="follows a final segment"):
        last = receipts[-1]
        compose([last, dataclasses.replace(receipts[0], index=last.index + 1)])
    with pytest.raises(VerificationError, match="no segment"):
        compose([])


def test_a_segment_too_big_for_this_machine_is_refused_before_proving(
    iter_segments: tuple[bytes, bytes, list[Segment]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clear refusal instead of the kernel killing the prover partway through."""
    import sys

    zprove = sys.modules["proofmarket.zkvm.prove"]  # the package re-exports a `prove` function
    monkeypatch.setattr(zprove, "physical_memory", lambda: 256 << 20)

    def must_not_prove(*_: object) -> None:
        raise AssertionError("proving started")

    monkeypatch.setattr("proofmarket.zkvm.stark_seal.make_stark_seal", must_not_prove)
    with pytest.raises(ProverUnavailable, match=r"GiB but this machine has 0\.2 GiB"):
        prove_segment(iter_segments[2][0], dev_mode=False)
    monkeypatch.setattr(zprove, "physical_memory", lambda: None)  # unknown: no refusal
    with pytest.raises(AssertionError, match="proving started"):
        prove_segment(iter_segments[2][0], dev_mode=False)
