"""Receipt algebra, dev-mode verification and the binary format, on synthetic claims.

Executions are exercised in test_prove_receipts.py; here the claims are built by hand so
that every rule (chaining, exit codes, journal binding, dev-mode refusal, malformed
bytes) is tested in isolation.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from proofmarket.zkvm.claim import (
    SYSTEM_STATE_ZERO,
    ExitCode,
    Output,
    ReceiptClaim,
    SystemState,
    sha256,
)
from proofmarket.zkvm.receipt import (
    DEV_MODE_ENV,
    DEV_SEAL_MAGIC,
    ProverUnavailable,
    Receipt,
    ReceiptFormatError,
    Seal,
    SealKind,
    SegmentReceipt,
    SuccinctReceipt,
    VerificationError,
    decode_claim,
    encode_claim,
    finalize,
    join,
    lift,
    verify,
)

JOURNAL = b"journal bytes \x00\x01\x02"


@pytest.fixture(autouse=True)
def _no_dev_mode_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEV_MODE_ENV, raising=False)


def make_states(count: int, salt: bytes = b"") -> list[SystemState]:
    return [SystemState(0x0020_0800 + 4 * i, sha256(salt + bytes([i]))) for i in range(count)]


def make_segments(
    count: int, journal: bytes = JOURNAL, *, exit_code: ExitCode | None = None, salt: bytes = b""
) -> tuple[bytes, list[SegmentReceipt]]:
    """A chain of dev segment receipts: states[i] -> states[i+1], the last one halts."""
    final_exit = exit_code or ExitCode.halted(0)
    states = make_states(count + 1, salt)
    receipts = []
    for i in range(count):
        last = i == count - 1
        if last:
            post = SYSTEM_STATE_ZERO.digest() if final_exit.system == 0 else states[i + 1].digest()
            claim = ReceiptClaim(
                pre=states[i].digest(),
                post=post,
                exit_code=final_exit,
                output=Output.of_journal(journal).digest(),
            )
        else:
            claim = ReceiptClaim(
                states[i].digest(), states[i + 1].digest(), ExitCode.system_split()
            )
        receipts.append(SegmentReceipt(claim, Seal.dev(claim), i, 13))
    return states[0].digest(), receipts


def make_receipt(
    count: int = 3, journal: bytes = JOURNAL, **kwargs: object
) -> tuple[bytes, Receipt]:
    image_id, segments = make_segments(count, journal, **kwargs)  # type: ignore[arg-type]
    root = lift(segments[0])
    for segment in segments[1:]:
        root = join(root, lift(segment))
    return image_id, finalize(root, journal)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_lift_join_finalize_verifies_in_dev_mode(count: int) -> None:
    image_id, receipt = make_receipt(count)
    claim = verify(receipt, image_id, allow_dev_mode=True)
    assert claim == ReceiptClaim.ok(image_id, JOURNAL)
    assert claim.digest() == ReceiptClaim.ok(image_id, JOURNAL).digest()
    assert receipt.inner.segment_count == count
    assert receipt.is_dev_mode
    assert receipt.journal == JOURNAL


def test_dev_receipt_refused_without_dev_mode() -> None:
    image_id, receipt = make_receipt()
    with pytest.raises(VerificationError, match="DEV MODE"):
        verify(receipt, image_id)


def test_dev_receipt_accepted_with_env(monkeypatch: pytest.MonkeyPatch) -> None:
    image_id, receipt = make_receipt()
    monkeypatch.setenv(DEV_MODE_ENV, "1")
    assert verify(receipt, image_id) == receipt.claim
    monkeypatch.setenv(DEV_MODE_ENV, "0")
    with pytest.raises(VerificationError, match="DEV MODE"):
        verify(receipt, image_id)


def test_summary_and_mode_are_labelled_dev() -> None:
    _, receipt = make_receipt()
    summary = receipt.summary()
    assert receipt.mode == "DEV MODE"
    assert summary["mode"] == "DEV MODE"
    assert summary["dev_mode"] is True
    assert summary["journal_hex"] == JOURNAL.hex()
    assert summary["segments"] == 3
    assert receipt.inner.seal.body.startswith(DEV_SEAL_MAGIC)


def test_wrong_image_id_rejected() -> None:
    image_id, receipt = make_receipt()
    with pytest.raises(VerificationError, match="image ID mismatch"):
        verify(receipt, sha256(b"other image"), allow_dev_mode=True)
    with pytest.raises(VerificationError, match="32 bytes"):
        verify(receipt, image_id[:31], allow_dev_mode=True)


def test_tampered_journal_rejected() -> None:
    image_id, receipt = make_receipt()
    forged = Receipt(receipt.inner, JOURNAL + b"!")
    with pytest.raises(VerificationError, match="journal"):
        verify(forged, image_id, allow_dev_mode=True)


def test_tampered_claim_rejected_by_seal() -> None:
    image_id, receipt = make_receipt()
    bad_claim = dataclasses.replace(receipt.claim, exit_code=ExitCode.halted(1))
    forged = Receipt(dataclasses.replace(receipt.inner, claim=bad_claim), receipt.journal)
    with pytest.raises(VerificationError, match="seal does not match"):
        verify(forged, image_id, allow_dev_mode=True)


def test_nonzero_exit_code_and_pause_verify() -> None:
    image_id, receipt = make_receipt(2, exit_code=ExitCode.halted(7))
    assert verify(receipt, image_id, allow_dev_mode=True).exit_code == ExitCode.halted(7)
    image_id, paused = make_receipt(2, exit_code=ExitCode.paused(3))
    claim = verify(paused, image_id, allow_dev_mode=True)
    assert claim.exit_code == ExitCode.paused(3)
    assert claim.post != SYSTEM_STATE_ZERO.digest()


def test_halted_claim_must_have_zero_post_state() -> None:
    claim = ReceiptClaim(
        sha256(b"pre"), sha256(b"post"), ExitCode.halted(0), output=Output.of_journal(b"").digest()
    )
    receipt = SegmentReceipt(claim, Seal.dev(claim), 0, 13)
    with pytest.raises(VerificationError, match="zero post state"):
        lift(receipt)


def test_split_claim_cannot_carry_output_and_final_must() -> None:
    split = ReceiptClaim(sha256(b"a"), sha256(b"b"), ExitCode.system_split(), output=sha256(b"o"))
    with pytest.raises(VerificationError, match="cannot carry an output"):
        lift(SegmentReceipt(split, Seal.dev(split), 0, 13))
    final = ReceiptClaim(sha256(b"a"), SYSTEM_STATE_ZERO.digest(), ExitCode.halted(0))
    with pytest.raises(VerificationError, match="must carry an output"):
        lift(SegmentReceipt(final, Seal.dev(final), 0, 13))


def test_lift_rejects_forged_segment_seal() -> None:
    _, segments = make_segments(2)
    other = dataclasses.replace(segments[0].claim, post=sha256(b"elsewhere"))
    with pytest.raises(VerificationError, match="seal"):
        lift(dataclasses.replace(segments[0], claim=other))


def test_join_order_errors() -> None:
    _, segments = make_segments(3)
    s0, s1, s2 = (lift(segment) for segment in segments)
    with pytest.raises(VerificationError, match="join order"):
        join(s1, s0)
    with pytest.raises(VerificationError, match="join order"):
        join(s0, s2)
    # After the final span nothing may be joined, even with consistent indices.
    tail = join(s1, s2)
    extra = dataclasses.replace(s0, first_segment=3)
    with pytest.raises(VerificationError, match="nothing can follow"):
        join(tail, extra)


def test_join_rejects_broken_state_chain() -> None:
    _, first = make_segments(3, salt=b"A")
    _, second = make_segments(3, salt=b"B")
    with pytest.raises(VerificationError, match="post-state"):
        join(lift(first[0]), lift(second[1]))


def test_finalize_checks_journal_and_final_exit() -> None:
    _, segments = make_segments(2)
    s0, s1 = lift(segments[0]), lift(segments[1])
    with pytest.raises(VerificationError, match="journal"):
        finalize(join(s0, s1), b"other journal")
    with pytest.raises(VerificationError, match="not final"):
        finalize(s0, JOURNAL)
    with pytest.raises(VerificationError, match="starts at segment 1"):
        finalize(s1, JOURNAL)


def test_malformed_stark_seals_are_rejected() -> None:
    image_id, receipt = make_receipt(1)
    stark = dataclasses.replace(receipt.inner, seal=Seal(SealKind.STARK, b"\x00" * 64))
    with pytest.raises(VerificationError, match="COMPOSITE"):
        verify(Receipt(stark, receipt.journal), image_id)
    _, segments = make_segments(1)
    for body in (b"", b"x", b"\x07default" + bytes(72)):
        stark_segment = dataclasses.replace(segments[0], seal=Seal(SealKind.STARK, body))
        with pytest.raises(VerificationError, match=r"STARK|proven|truncated"):
            lift(stark_segment)


def test_prover_unavailable_is_not_implemented_error() -> None:
    assert issubclass(ProverUnavailable, NotImplementedError)


# ---- serialization --------------------------------------------------------------------


def test_round_trips() -> None:
    image_id, receipt = make_receipt(3)
    data = receipt.to_bytes()
    decoded = Receipt.from_bytes(data)
    assert decoded == receipt
    assert decoded.to_bytes() == data
    assert verify(decoded, image_id, allow_dev_mode=True) == receipt.claim
    _, segments = make_segments(2)
    for segment in segments:
        assert SegmentReceipt.from_bytes(segment.to_bytes()) == segment
    assert SuccinctReceipt.from_bytes(receipt.inner.to_bytes()) == receipt.inner
    assert decode_claim(encode_claim(receipt.claim)) == receipt.claim


def test_every_truncation_rejected() -> None:
    _, receipt = make_receipt(2)
    data = receipt.to_bytes()
    for cut in range(len(data)):
        with pytest.raises(ReceiptFormatError):
            Receipt.from_bytes(data[:cut])


def test_trailing_bytes_rejected() -> None:
    _, receipt = make_receipt(1)
    with pytest.raises(ReceiptFormatError, match="trailing"):
        Receipt.from_bytes(receipt.to_bytes() + b"\x00")


def test_garbage_rejected() -> None:
    rng = random.Random(1234)
    for size in (0, 1, 5, 64, 300):
        with pytest.raises(ReceiptFormatError):
            Receipt.from_bytes(bytes(rng.randrange(256) for _ in range(size)))
    with pytest.raises(ReceiptFormatError, match="expected bytes"):
        Receipt.from_bytes("not bytes")  # type: ignore[arg-type]


def test_wrong_magic_version_seal_kind_and_exit_code() -> None:
    _, receipt = make_receipt(1)
    data = bytearray(receipt.to_bytes())
    with pytest.raises(ReceiptFormatError, match="not a receipt"):
        Receipt.from_bytes(b"XXXX" + bytes(data[4:]))
    with pytest.raises(ReceiptFormatError, match="not a segment receipt"):
        SegmentReceipt.from_bytes(bytes(data))
    future = bytes(data[:4]) + (2).to_bytes(2, "little") + bytes(data[6:])
    with pytest.raises(ReceiptFormatError, match="version 2"):
        Receipt.from_bytes(future)
    inner = receipt.inner.to_bytes()
    claim_at = 4 + 2 + 4 + 4
    seal_at = claim_at + len(encode_claim(receipt.claim))
    bad_seal = inner[:seal_at] + b"\x77" + inner[seal_at + 1 :]
    with pytest.raises(ReceiptFormatError, match="unknown seal kind 0x77"):
        SuccinctReceipt.from_bytes(bad_seal)
    exit_at = claim_at + 64
    bad_exit = inner[:exit_at] + (9).to_bytes(4, "little") + inner[exit_at + 4 :]
    with pytest.raises(ReceiptFormatError, match="unknown system exit code 9"):
        SuccinctReceipt.from_bytes(bad_exit)


def test_single_byte_flips_never_change_what_verifies() -> None:
    """Any flipped byte is rejected, or leaves the verified claim and journal unchanged."""
    image_id, receipt = make_receipt(2)
    data = receipt.to_bytes()
    accepted = 0
    for position in range(len(data)):
        mutated = bytearray(data)
        mutated[position] ^= 0x01
        try:
            decoded = Receipt.from_bytes(bytes(mutated))
            claim = verify(decoded, image_id, allow_dev_mode=True)
        except (ReceiptFormatError, VerificationError):
            continue
        accepted += 1
        assert claim == receipt.claim
        assert decoded.journal == receipt.journal
    # Only unauthenticated span metadata (the segment count) may flip without rejection.
    assert accepted <= 4


def test_zero_digest_input_required() -> None:
    image_id, receipt = make_receipt(1)
    claim = dataclasses.replace(receipt.claim, input=sha256(b"input"))
    inner = SuccinctReceipt(claim, Seal.dev(claim), 0, 1)
    with pytest.raises(VerificationError, match="input digest"):
        verify(Receipt(inner, JOURNAL), image_id, allow_dev_mode=True)
