"""Receipts: a claim about an execution plus a seal that is meant to prove it.

Three layers mirror RISC Zero: a ``SegmentReceipt`` covers one segment, a
``SuccinctReceipt`` covers a contiguous span of segments (produced by ``lift`` and
``join``), and a ``Receipt`` pairs the span of a whole session with its journal.

Seals: a segment carries a **STARK seal** (``SealKind.STARK``, ``zkvm/stark_seal.py``:
a proof over the segment machine bound to the claim's pre/post ``SystemState``); a span
carries a **COMPOSITE seal**, the list of its segment receipts, which verification checks
one by one together with their chaining (there is no recursion: ``lift``/``join`` only
concatenate and check continuity, so a verifier checks every segment seal). The
**dev-mode seal** (``SealKind.DEV``) is the magic ``PMDEV1`` followed by the claim
digest; like RISC Zero's ``FakeReceipt`` it proves nothing. ``verify`` refuses it unless
dev mode is allowed explicitly or ``PROOFMARKET_DEV_MODE=1``.

Binary layout (all integers little-endian), every object starting with a 4-byte magic and
a u16 format version so that old receipts stay readable::

    claim    = pre[32] post[32] sys_exit:u32 user_exit:u32 input[32] output[32]
    seal     = kind:u8 len:u32 body[len]
    segment  = "PMRG" version:u16 index:u32 po2:u8 claim seal
    succinct = "PMRS" version:u16 first_segment:u32 segment_count:u32 claim seal
    receipt  = "PMRC" version:u16 len:u32 succinct[len] journal_len:u32 journal
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from proofmarket.zkvm.claim import (
    DIGEST_BYTES,
    SYSTEM_STATE_ZERO,
    ZERO_DIGEST,
    ExitCode,
    Output,
    ReceiptClaim,
    SystemExitKind,
)
from proofmarket.zkvm.errors import ZkvmError

FORMAT_VERSION = 1
DEV_SEAL_MAGIC = b"PMDEV1"
DEV_MODE_LABEL = "DEV MODE"
DEV_MODE_ENV = "PROOFMARKET_DEV_MODE"
CLAIM_BYTES = 4 * DIGEST_BYTES + 8
MAX_SEAL_BYTES = 1 << 30
MAX_JOURNAL_BYTES = 1 << 30


class ReceiptError(ZkvmError):
    """Base class of receipt errors."""


class VerificationError(ReceiptError):
    """A receipt, or a pair of receipts being joined, does not check out."""


class ReceiptFormatError(ReceiptError, ValueError):
    """Bytes that do not decode to a receipt (truncated, garbage, unknown version)."""


class ProverUnavailable(ReceiptError, NotImplementedError):
    """Real (non-dev) proving was asked for but cannot be done: the circuit has no row for
    something the segment did, or this machine has too little memory for the segment."""


def dev_mode_enabled_by_env() -> bool:
    """True when ``PROOFMARKET_DEV_MODE`` is set to 1 / true / yes."""
    return os.environ.get(DEV_MODE_ENV, "").strip().lower() in ("1", "true", "yes")


class SealKind(IntEnum):
    """First byte of every seal."""

    DEV = 0xDE
    """Dev mode: ``PMDEV1 || claim digest``; proves nothing."""
    STARK = 0x01
    """A segment STARK over the segment machine (``zkvm/circuit/paging_machine.py``)."""
    COMPOSITE = 0x02
    """A span of consecutive STARK segment receipts, each verified (no recursion)."""


PRODUCTION_PROFILES = ("default", "conservative")
"""STARK parameter profiles production verification accepts (``test-insecure`` is not)."""


# ---- byte encoding helpers -------------------------------------------------------------


class _Reader:
    """Bounds-checked cursor that names the field it failed on."""

    def __init__(self, data: bytes, what: str) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ReceiptFormatError(f"{what}: expected bytes, got {type(data).__name__}")
        self.data = bytes(data)
        self.pos = 0
        self.what = what

    def take(self, n: int, field: str) -> bytes:
        if n > len(self.data) - self.pos:
            raise ReceiptFormatError(
                f"truncated {self.what}: {field} needs {n} bytes at offset {self.pos}, "
                f"only {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self, field: str) -> int:
        return self.take(1, field)[0]

    def u16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "little")

    def u32(self, field: str) -> int:
        return int.from_bytes(self.take(4, field), "little")

    def header(self, magic: bytes) -> None:
        found = self.take(len(magic), "magic")
        if found != magic:
            raise ReceiptFormatError(f"not a {self.what}: magic {found!r} (expected {magic!r})")
        version = self.u16("format version")
        if version != FORMAT_VERSION:
            raise ReceiptFormatError(
                f"unsupported {self.what} format version {version} (this build reads "
                f"version {FORMAT_VERSION})"
            )

    def sized(self, field: str, limit: int) -> bytes:
        length = self.u32(f"{field} length")
        if length > limit:
            raise ReceiptFormatError(f"{self.what}: {field} length {length} exceeds {limit}")
        return self.take(length, field)

    def end(self) -> None:
        extra = len(self.data) - self.pos
        if extra:
            raise ReceiptFormatError(f"{self.what}: {extra} unexpected trailing bytes")


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def _header(magic: bytes) -> bytes:
    return magic + FORMAT_VERSION.to_bytes(2, "little")


def encode_claim(claim: ReceiptClaim) -> bytes:
    """Fixed 136-byte encoding of a (pruned) claim."""
    return b"".join(
        (
            claim.pre,
            claim.post,
            _u32(int(claim.exit_code.system)),
            _u32(claim.exit_code.user),
            claim.input,
            claim.output,
        )
    )


def _read_claim(reader: _Reader) -> ReceiptClaim:
    pre = reader.take(DIGEST_BYTES, "claim.pre")
    post = reader.take(DIGEST_BYTES, "claim.post")
    system = reader.u32("claim.exit_code.system")
    user = reader.u32("claim.exit_code.user")
    claim_input = reader.take(DIGEST_BYTES, "claim.input")
    output = reader.take(DIGEST_BYTES, "claim.output")
    try:
        kind = SystemExitKind(system)
    except ValueError:
        raise ReceiptFormatError(f"{reader.what}: unknown system exit code {system}") from None
    if kind == SystemExitKind.SYSTEM_SPLIT and user != 0:
        raise ReceiptFormatError(
            f"{reader.what}: exit code (2, {user}) is not produced by the zkVM"
        )
    return ReceiptClaim(pre, post, ExitCode(kind, user), claim_input, output)


def decode_claim(data: bytes) -> ReceiptClaim:
    """Inverse of ``encode_claim``."""
    reader = _Reader(data, "claim")
    claim = _read_claim(reader)
    reader.end()
    return claim


# ---- seals -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    """The proof part of a receipt: a kind byte and a kind-specific body."""

    kind: SealKind
    body: bytes

    @classmethod
    def dev(cls, claim: ReceiptClaim) -> Seal:
        """A DEV MODE seal: labelled, bound to the claim digest, proves nothing."""
        return cls(SealKind.DEV, DEV_SEAL_MAGIC + claim.digest())

    @property
    def is_dev_mode(self) -> bool:
        return self.kind == SealKind.DEV

    def to_bytes(self) -> bytes:
        return bytes([self.kind]) + _u32(len(self.body)) + self.body

    @classmethod
    def _read(cls, reader: _Reader) -> Seal:
        raw_kind = reader.u8("seal kind")
        try:
            kind = SealKind(raw_kind)
        except ValueError:
            raise ReceiptFormatError(f"{reader.what}: unknown seal kind 0x{raw_kind:02x}") from None
        return cls(kind, reader.sized("seal", MAX_SEAL_BYTES))

    def verify(self, claim: ReceiptClaim) -> None:
        """Check the seal against ``claim`` (for a dev seal: only that it names the claim)."""
        if self.kind == SealKind.DEV:
            if self.body != DEV_SEAL_MAGIC + claim.digest():
                raise VerificationError("dev-mode seal does not match the claim digest")
            return
        raise VerificationError(f"a {self.kind.name} seal is verified by its receipt")


def _check_claim_shape(claim: ReceiptClaim, what: str) -> None:
    """Exit-code rules every segment or span claim obeys (RISC Zero ``decode_from_seal``)."""
    if claim.input != ZERO_DIGEST:
        raise VerificationError(f"{what}: input digest must be zero (reserved)")
    if claim.exit_code.carries_output:
        if claim.output == ZERO_DIGEST:
            raise VerificationError(f"{what}: exit {claim.exit_code} must carry an output digest")
        if (
            claim.exit_code.system == SystemExitKind.HALTED
            and claim.post != SYSTEM_STATE_ZERO.digest()
        ):
            raise VerificationError(f"{what}: a halted claim must have the zero post state")
    elif claim.output != ZERO_DIGEST:
        raise VerificationError(f"{what}: exit {claim.exit_code} cannot carry an output digest")


# ---- receipts --------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentReceipt:
    """Receipt for one segment of a session."""

    MAGIC: ClassVar[bytes] = b"PMRG"

    claim: ReceiptClaim
    seal: Seal
    index: int
    po2: int

    @property
    def is_dev_mode(self) -> bool:
        return self.seal.is_dev_mode

    def verify_integrity(self) -> None:
        """Check the seal against the claim and the claim's exit-code rules."""
        what = f"segment receipt {self.index}"
        _check_claim_shape(self.claim, what)
        if self.seal.kind == SealKind.STARK:
            from proofmarket.zkvm.stark_seal import verify_stark_seal

            verify_stark_seal(self.seal.body, self.claim, self.po2, what)
        elif self.seal.kind == SealKind.DEV:
            self.seal.verify(self.claim)
        else:
            raise VerificationError(f"{what}: a segment cannot carry a {self.seal.kind.name} seal")

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                _header(self.MAGIC),
                _u32(self.index),
                bytes([self.po2]),
                encode_claim(self.claim),
                self.seal.to_bytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SegmentReceipt:
        reader = _Reader(data, "segment receipt")
        reader.header(cls.MAGIC)
        index = reader.u32("index")
        po2 = reader.u8("po2")
        claim = _read_claim(reader)
        seal = Seal._read(reader)
        reader.end()
        return cls(claim, seal, index, po2)


@dataclass(frozen=True)
class SuccinctReceipt:
    """Receipt for the contiguous segments ``[first_segment, first_segment + segment_count)``."""

    MAGIC: ClassVar[bytes] = b"PMRS"

    claim: ReceiptClaim
    seal: Seal
    first_segment: int
    segment_count: int

    @property
    def end_segment(self) -> int:
        """One past the last segment covered."""
        return self.first_segment + self.segment_count

    @property
    def is_dev_mode(self) -> bool:
        return self.seal.is_dev_mode

    def verify_integrity(self) -> None:
        what = f"receipt for segments [{self.first_segment}, {self.end_segment})"
        if self.segment_count < 1:
            raise VerificationError(f"{what}: covers no segment")
        _check_claim_shape(self.claim, what)
        if self.seal.kind == SealKind.COMPOSITE:
            verify_chain(self.segments(), self.claim, self.first_segment, what)
        elif self.seal.kind == SealKind.DEV:
            self.seal.verify(self.claim)
        else:
            raise VerificationError(f"{what}: a span cannot carry a {self.seal.kind.name} seal")

    def segments(self) -> list[SegmentReceipt]:
        """The segment receipts of a composite seal, in order."""
        if self.seal.kind != SealKind.COMPOSITE:
            return []
        reader = _Reader(self.seal.body, "composite seal")
        try:
            count = reader.u32("segment count")
            if count != self.segment_count:
                raise VerificationError(
                    f"composite seal holds {count} segments, the receipt covers "
                    f"{self.segment_count}"
                )
            out = [
                SegmentReceipt.from_bytes(reader.sized("segment receipt", MAX_SEAL_BYTES))
                for _ in range(count)
            ]
            reader.end()
        except ReceiptFormatError as exc:
            raise VerificationError(f"malformed composite seal: {exc}") from exc
        return out

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                _header(self.MAGIC),
                _u32(self.first_segment),
                _u32(self.segment_count),
                encode_claim(self.claim),
                self.seal.to_bytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SuccinctReceipt:
        reader = _Reader(data, "succinct receipt")
        reader.header(cls.MAGIC)
        first = reader.u32("first segment")
        count = reader.u32("segment count")
        claim = _read_claim(reader)
        seal = Seal._read(reader)
        reader.end()
        return cls(claim, seal, first, count)


@dataclass(frozen=True)
class Receipt:
    """Proof that a guest ran to completion and committed ``journal``."""

    MAGIC: ClassVar[bytes] = b"PMRC"

    inner: SuccinctReceipt
    journal: bytes

    @property
    def claim(self) -> ReceiptClaim:
        return self.inner.claim

    @property
    def image_id(self) -> bytes:
        """The image ID the claim starts from (check it with ``verify``, do not trust it)."""
        return self.inner.claim.pre

    @property
    def is_dev_mode(self) -> bool:
        return self.inner.is_dev_mode

    @property
    def mode(self) -> str:
        """``"DEV MODE"`` for dev receipts, ``"STARK"`` for receipts of segment STARKs."""
        if self.is_dev_mode:
            return DEV_MODE_LABEL
        return "STARK" if self.inner.seal.kind == SealKind.COMPOSITE else self.inner.seal.kind.name

    def verify_integrity(self) -> None:
        """Seal and claim consistency, including the journal digest; not the image ID."""
        if self.inner.first_segment != 0:
            raise VerificationError(
                f"receipt starts at segment {self.inner.first_segment}, not at segment 0"
            )
        self.inner.verify_integrity()
        if not self.claim.exit_code.carries_output:
            raise VerificationError(
                f"receipt exit code {self.claim.exit_code} is not final (Halted or Paused)"
            )
        if self.claim.output != Output.of_journal(self.journal).digest():
            raise VerificationError("journal does not match the claim's output digest")
        if self.inner.seal.kind == SealKind.COMPOSITE:
            from proofmarket.zkvm.stark_seal import seal_journal

            written = b"".join(seal_journal(seg.seal.body) for seg in self.inner.segments())
            if written != self.journal:
                raise VerificationError(
                    f"journal ({len(self.journal)} bytes) is not what the proven segments "
                    f"wrote ({len(written)} bytes)"
                )

    def to_bytes(self) -> bytes:
        inner = self.inner.to_bytes()
        return b"".join(
            (_header(self.MAGIC), _u32(len(inner)), inner, _u32(len(self.journal)), self.journal)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Receipt:
        reader = _Reader(data, "receipt")
        reader.header(cls.MAGIC)
        inner = SuccinctReceipt.from_bytes(reader.sized("inner receipt", MAX_SEAL_BYTES))
        journal = reader.sized("journal", MAX_JOURNAL_BYTES)
        reader.end()
        return cls(inner, journal)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description; dev receipts say DEV MODE in the ``mode`` field."""
        return {
            "mode": self.mode,
            "dev_mode": self.is_dev_mode,
            "image_id": self.image_id.hex(),
            "claim_digest": self.claim.digest().hex(),
            "exit_code": str(self.claim.exit_code),
            "exit_system": int(self.claim.exit_code.system),
            "exit_user": self.claim.exit_code.user,
            "segments": self.inner.segment_count,
            "journal_hex": self.journal.hex(),
            "journal_bytes": len(self.journal),
            "seal_kind": self.inner.seal.kind.name,
            "seal_bytes": len(self.inner.seal.body),
        }


def verify(
    receipt: Receipt,
    image_id: bytes,
    *,
    allow_dev_mode: bool = False,
    allow_insecure_params: bool = False,
) -> ReceiptClaim:
    """Verify that ``receipt`` proves a run of ``image_id`` that committed its journal.

    Checks the seal, that the claim starts from ``image_id``, ends Halted or Paused with
    the journal's output digest, and (for Halted) the zero post state. A dev-mode receipt
    is refused unless ``allow_dev_mode`` or ``PROOFMARKET_DEV_MODE=1``: it proves nothing.
    A STARK receipt must carry every segment's seal (COMPOSITE), each checked, chained by
    state digests and joined to the claim; seals made with a profile outside
    :data:`PRODUCTION_PROFILES` are refused unless ``allow_insecure_params`` (tests).
    Returns the verified claim; raises ``VerificationError``.
    """
    if not isinstance(receipt, Receipt):
        raise VerificationError(f"expected a Receipt, got {type(receipt).__name__}")
    if len(image_id) != DIGEST_BYTES:
        raise VerificationError(f"image ID must be {DIGEST_BYTES} bytes, got {len(image_id)}")
    if receipt.is_dev_mode and not (allow_dev_mode or dev_mode_enabled_by_env()):
        raise VerificationError(
            f"refusing a {DEV_MODE_LABEL} receipt: it carries no proof. Allow it explicitly "
            f"(allow_dev_mode=True, --dev-mode) or set {DEV_MODE_ENV}=1"
        )
    if not receipt.is_dev_mode:
        if receipt.inner.seal.kind != SealKind.COMPOSITE:
            raise VerificationError(f"a receipt needs a COMPOSITE seal, not {receipt.mode}")
        weak = stark_profiles(receipt) - set(PRODUCTION_PROFILES)
        if weak and not allow_insecure_params:
            raise VerificationError(
                f"refusing STARK seals made with the insecure profile(s) {sorted(weak)}"
            )
    receipt.verify_integrity()
    if receipt.claim.pre != bytes(image_id):
        raise VerificationError(
            f"image ID mismatch: receipt is for {receipt.claim.pre.hex()}, "
            f"expected {bytes(image_id).hex()}"
        )
    return receipt.claim


def composite_seal(segments: list[SegmentReceipt]) -> Seal:
    """A COMPOSITE seal carrying ``segments`` (each with its own STARK seal)."""
    body = _u32(len(segments)) + b"".join(
        _u32(len(raw)) + raw for raw in (seg.to_bytes() for seg in segments)
    )
    return Seal(SealKind.COMPOSITE, body)


def _chained_claim(segments: list[SegmentReceipt], first: int, what: str) -> ReceiptClaim:
    """The claim of consecutive segments from ``first``: indices in order, only the last
    Halted/Paused, each split segment's post state the next one's pre state (no seal is
    checked here)."""
    if not segments:
        raise VerificationError(f"{what}: no segment receipts")
    joined: ReceiptClaim | None = None
    for k, seg in enumerate(segments):
        if seg.index != first + k:
            raise VerificationError(
                f"{what}: segment order: expected segment {first + k}, found {seg.index}"
            )
        if joined is None:
            joined = seg.claim
            continue
        if joined.exit_code.system != SystemExitKind.SYSTEM_SPLIT:
            raise VerificationError(f"{what}: segment {seg.index} follows a final segment")
        if joined.post != seg.claim.pre:
            raise VerificationError(
                f"{what}: segment {seg.index} does not start where segment {seg.index - 1} ended"
            )
        joined = joined.join(seg.claim)
    assert joined is not None
    return joined


def verify_chain(
    segments: list[SegmentReceipt], claim: ReceiptClaim, first: int, what: str
) -> None:
    """Every seal, consecutive indices from ``first``, states chaining, the joined claim.

    Each segment must be a STARK receipt; a split segment's post state must be the next
    one's pre state, only the last may be Halted/Paused, and joining the segment claims
    must give ``claim`` exactly. The chaining is checked before any seal (it is cheap).
    """
    joined = _chained_claim(segments, first, what)
    for seg in segments:
        if seg.seal.kind != SealKind.STARK:
            raise VerificationError(f"{what}: segment {seg.index} is not a STARK receipt")
        seg.verify_integrity()
    if joined != claim:
        raise VerificationError(f"{what}: the segment claims do not join to the receipt claim")


def stark_profiles(receipt: Receipt) -> set[str]:
    """Parameter profiles of every STARK seal of ``receipt``."""
    from proofmarket.zkvm.stark_seal import seal_profile

    return {seal_profile(seg.seal.body) for seg in receipt.inner.segments()}


# ---- receipt algebra: what the recursion programs lift / join do -----------------------


def _seal_like(*receipts: SegmentReceipt | SuccinctReceipt, claim: ReceiptClaim) -> Seal:
    """The seal for a receipt derived from ``receipts``: dev in, dev out; STARK segments
    in, a COMPOSITE seal carrying all of them out (no recursion)."""
    if all(receipt.is_dev_mode for receipt in receipts):
        return Seal.dev(claim)
    if any(receipt.is_dev_mode for receipt in receipts):
        raise VerificationError(f"cannot combine {DEV_MODE_LABEL} and STARK receipts")
    segments: list[SegmentReceipt] = []
    for receipt in receipts:
        if isinstance(receipt, SegmentReceipt):
            segments.append(receipt)
        else:
            segments.extend(receipt.segments())
    return composite_seal(segments)


def lift(receipt: SegmentReceipt) -> SuccinctReceipt:
    """A span receipt for the single segment of ``receipt`` (after verifying it)."""
    receipt.verify_integrity()
    seal = _seal_like(receipt, claim=receipt.claim)
    return SuccinctReceipt(receipt.claim, seal, receipt.index, 1)


def join(left: SuccinctReceipt, right: SuccinctReceipt) -> SuccinctReceipt:
    """Merge two consecutive spans: ``left`` must end where ``right`` begins."""
    left.verify_integrity()
    right.verify_integrity()
    if left.end_segment != right.first_segment:
        raise VerificationError(
            f"join order: left covers segments [{left.first_segment}, {left.end_segment}) "
            f"but right starts at segment {right.first_segment}"
        )
    if left.claim.exit_code.system != SystemExitKind.SYSTEM_SPLIT:
        raise VerificationError(
            f"join order: left span ends with {left.claim.exit_code}, so nothing can follow it"
        )
    if left.claim.post != right.claim.pre:
        raise VerificationError(
            "join: left post-state digest differs from right pre-state digest "
            f"({left.claim.post.hex()[:16]}... != {right.claim.pre.hex()[:16]}...)"
        )
    claim = left.claim.join(right.claim)
    seal = _seal_like(left, right, claim=claim)
    return SuccinctReceipt(
        claim, seal, left.first_segment, left.segment_count + right.segment_count
    )


def compose(segments: list[SegmentReceipt]) -> SuccinctReceipt:
    """One span receipt for consecutive segment receipts that were each verified already.

    What a chain of ``lift``/``join`` gives, without re-verifying every seal at every step
    (each ``join`` verifies both sides, so a left-to-right fold checks the first segment
    n times). The chaining is checked here; ``finalize`` verifies every seal once more.
    """
    first = segments[0].index if segments else 0
    claim = _chained_claim(segments, first, "compose")
    return SuccinctReceipt(claim, _seal_like(*segments, claim=claim), first, len(segments))


def finalize(root: SuccinctReceipt, journal: bytes) -> Receipt:
    """The session receipt: the span of every segment plus the journal it committed."""
    receipt = Receipt(root, bytes(journal))
    receipt.verify_integrity()
    return receipt
