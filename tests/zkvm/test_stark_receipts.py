"""Real receipts: STARK segment seals, composite receipts, and what verification refuses."""

from __future__ import annotations

import dataclasses

import pytest

from proofmarket.zkvm.claim import ExitCode, SystemExitKind
from proofmarket.zkvm.executor import compute_image_id
from proofmarket.zkvm.isa import asm, load_imm
from proofmarket.zkvm.prove import prove, prove_session
from proofmarket.zkvm.receipt import (
    Receipt,
    SealKind,
    SuccinctReceipt,
    VerificationError,
    composite_seal,
    verify,
)
from zkvm.programs import halt, make_elf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("stark_receipts"),
]  # one worker: shared proofs


def loop_elf(count: int, kind: int = 0) -> bytes:
    """A store-and-count loop of ``count`` rounds that halts (kind 0) or pauses (kind 1)."""
    code = [
        *load_imm("s5", 0x0030_0000),
        *load_imm("a1", count),
        asm("sw", "a1", 0, "s5"),
        asm("addi", "a1", "a1", -1),
        asm("bne", "a1", "zero", -8),
        *halt(3, kind=kind),
    ]
    return make_elf(code, bss=4096)


@pytest.fixture(scope="module")
def three() -> tuple[bytes, Receipt]:
    elf = loop_elf(6000)
    proved = prove_session(elf, dev_mode=False, segment_po2=13, profile="test-insecure")
    assert proved.session.segment_count == 3
    return compute_image_id(elf), proved.receipt


def test_three_segment_receipt_verifies(three: tuple[bytes, Receipt]) -> None:
    image_id, receipt = three
    assert receipt.inner.seal.kind == SealKind.COMPOSITE
    assert not receipt.is_dev_mode
    back = Receipt.from_bytes(receipt.to_bytes())
    claim = verify(back, image_id, allow_insecure_params=True)
    assert claim.exit_code == ExitCode.halted(3)
    assert [s.index for s in back.inner.segments()] == [0, 1, 2]
    with pytest.raises(VerificationError, match="insecure profile"):
        verify(back, image_id)


def _with_segments(receipt: Receipt, segments: list) -> Receipt:  # type: ignore[type-arg]
    inner = SuccinctReceipt(receipt.claim, composite_seal(segments), 0, len(segments))
    return Receipt(inner, receipt.journal)


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 1]) + data[pos + 1 :]


@pytest.mark.parametrize(
    "attack",
    [
        "journal",
        "image id",
        "exit code",
        "seal 0",
        "seal 2",
        "order",
        "dropped",
        "proof states",
    ],
)
def test_tampered_receipts_are_rejected(three: tuple[bytes, Receipt], attack: str) -> None:
    image_id, receipt = three
    segs = receipt.inner.segments()
    if attack == "journal":
        bad, image = Receipt(receipt.inner, b"not the journal"), image_id
    elif attack == "image id":
        bad, image = receipt, compute_image_id(loop_elf(6001))
    elif attack == "exit code":
        last = segs[-1]
        claim = dataclasses.replace(last.claim, exit_code=ExitCode.halted(4))
        segs[-1] = dataclasses.replace(last, claim=claim)
        joined = dataclasses.replace(receipt.claim, exit_code=ExitCode.halted(4))
        inner = SuccinctReceipt(joined, composite_seal(segs), 0, 3)
        bad, image = Receipt(inner, receipt.journal), image_id
    elif attack.startswith("seal"):
        k = int(attack[-1])
        body = segs[k].seal.body
        segs[k] = dataclasses.replace(
            segs[k], seal=dataclasses.replace(segs[k].seal, body=_flip(body, len(body) - 100))
        )
        bad, image = _with_segments(receipt, segs), image_id
    elif attack == "order":
        bad, image = _with_segments(receipt, [segs[1], segs[0], segs[2]]), image_id
    elif attack == "dropped":
        bad, image = _with_segments(receipt, [segs[0], segs[2]]), image_id
    else:  # the seal's stated post root of segment 0 is not what the proof proves
        body = segs[0].seal.body
        segs[0] = dataclasses.replace(
            segs[0], seal=dataclasses.replace(segs[0].seal, body=_flip(body, 1 + 13 + 40))
        )
        bad, image = _with_segments(receipt, segs), image_id
    with pytest.raises(VerificationError):
        verify(bad, image, allow_insecure_params=True)


def test_paused_two_segment_receipt_with_default_parameters() -> None:
    elf = loop_elf(5000, kind=1)
    receipt = prove(elf, dev_mode=False, segment_po2=13)
    assert receipt.inner.segment_count == 2
    claim = verify(receipt, compute_image_id(elf))
    assert claim.exit_code.system is SystemExitKind.PAUSED
    assert claim.exit_code.user == 3
