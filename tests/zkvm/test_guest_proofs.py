"""Every example guest proves for real; forged journals and exits are refused."""

from __future__ import annotations

import dataclasses
import hashlib
import struct

import pytest

from proofmarket.zkvm.claim import ExitCode, Output
from proofmarket.zkvm.executor import compute_image_id
from proofmarket.zkvm.guests import example_elf
from proofmarket.zkvm.prove import prove_session
from proofmarket.zkvm.receipt import (
    Receipt,
    Seal,
    SuccinctReceipt,
    VerificationError,
    composite_seal,
    verify,
)
from proofmarket.zkvm.stark_seal import seal_journal

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("guest_proofs"),
]  # one worker: shared proofs
PROFILE = "test-insecure"


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def _prove(name: str, data: bytes) -> tuple[bytes, Receipt, int]:
    elf = example_elf(name)
    proved = prove_session(elf, data, dev_mode=False, segment_po2=13, profile=PROFILE)
    return compute_image_id(elf), proved.receipt, proved.session.segment_count


@pytest.fixture(scope="module")
def sha() -> tuple[bytes, Receipt, bytes]:
    data = bytes(range(7, 250))  # an odd length: unaligned reads and journal writes
    image_id, receipt, _ = _prove("sha256", data)
    return image_id, receipt, data


def test_sha256_guest_proves_its_digest(sha: tuple[bytes, Receipt, bytes]) -> None:
    image_id, receipt, data = sha
    claim = verify(Receipt.from_bytes(receipt.to_bytes()), image_id, allow_insecure_params=True)
    assert claim.exit_code == ExitCode.halted(0)
    assert receipt.journal == hashlib.sha256(data).digest()
    assert b"".join(seal_journal(s.seal.body) for s in receipt.inner.segments()) == receipt.journal


@pytest.mark.parametrize(("name", "n", "want"), [("fib", 20, 6765), ("iter", 3, None)])
def test_fib_and_multi_segment_iter_prove(name: str, n: int, want: int | None) -> None:
    image_id, receipt, segments = _prove(name, u32(n))
    verify(receipt, image_id, allow_insecure_params=True)
    if want is not None:
        assert receipt.journal == u32(want)
    else:
        assert segments >= 3 and receipt.inner.segment_count == segments
        assert len(receipt.journal) == 4


def test_nonzero_exit_code_is_proven() -> None:
    image_id, receipt, _ = _prove("panic", u32(7))
    assert verify(receipt, image_id, allow_insecure_params=True).exit_code == ExitCode.halted(7)


def _forge(receipt: Receipt, journal: bytes, *, rewrite_seal: bool) -> Receipt:
    """A receipt for ``journal`` with every digest recomputed to match it."""
    segs = receipt.inner.segments()
    last = segs[-1]
    body = last.seal.body
    if rewrite_seal:  # put the forged bytes where the seal states its journal piece
        at = 1 + body[0] + 72
        (k,) = struct.unpack_from("<I", body, at)
        body = body[:at] + struct.pack("<I", len(journal)) + journal + body[at + 4 + k :]
    output = Output.of_journal(journal).digest()
    claim = dataclasses.replace(last.claim, output=output)
    segs[-1] = dataclasses.replace(last, claim=claim, seal=Seal(last.seal.kind, body))
    joined = dataclasses.replace(receipt.claim, output=output)
    inner = SuccinctReceipt(joined, composite_seal(segs), 0, len(segs))
    return Receipt(inner, journal)


@pytest.mark.parametrize("rewrite_seal", [False, True])
def test_a_journal_the_guest_did_not_write_is_refused(
    sha: tuple[bytes, Receipt, bytes], rewrite_seal: bool
) -> None:
    image_id, receipt, _ = sha
    forged = _forge(receipt, bytes(32), rewrite_seal=rewrite_seal)
    with pytest.raises(VerificationError):
        verify(forged, image_id, allow_insecure_params=True)
    shorter = _forge(receipt, receipt.journal[:-1], rewrite_seal=rewrite_seal)
    with pytest.raises(VerificationError):
        verify(shorter, image_id, allow_insecure_params=True)


def test_a_forged_exit_code_is_refused(sha: tuple[bytes, Receipt, bytes]) -> None:
    image_id, receipt, _ = sha
    segs = receipt.inner.segments()
    for code in (ExitCode.halted(1), ExitCode.paused(0)):
        last = segs[-1]
        bad_last = dataclasses.replace(last, claim=dataclasses.replace(last.claim, exit_code=code))
        joined = dataclasses.replace(receipt.claim, exit_code=code)
        inner = SuccinctReceipt(joined, composite_seal([*segs[:-1], bad_last]), 0, len(segs))
        with pytest.raises(VerificationError):
            verify(Receipt(inner, receipt.journal), image_id, allow_insecure_params=True)
