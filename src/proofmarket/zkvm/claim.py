"""Receipt claims and their digests, byte-compatible with RISC Zero.

A claim with the same fields hashes to the same SHA-256 digest as RISC Zero's
``ReceiptClaim`` (``risc0/zkvm/src/claim/receipt.rs``), so contracts and tools written for
RISC Zero digests (e.g. ``ReceiptClaimLib``) apply unchanged. Any field may be *pruned*
(replaced by its digest), which is how ``ReceiptClaim.ok(image_id, journal)`` is formed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum

DIGEST_BYTES = 32
ZERO_DIGEST = bytes(DIGEST_BYTES)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def tagged_struct(tag: str, down: list[bytes], data: list[int]) -> bytes:
    """``SHA256(SHA256(tag) || down... || data u32 LE... || len(down) u16 LE)``."""
    h = hashlib.sha256(sha256(tag.encode()))
    for digest in down:
        if len(digest) != DIGEST_BYTES:
            raise ValueError(f"digest must be {DIGEST_BYTES} bytes, got {len(digest)}")
        h.update(digest)
    for word in data:
        h.update((word & 0xFFFFFFFF).to_bytes(4, "little"))
    h.update(len(down).to_bytes(2, "little"))
    return h.digest()


def tagged_list(tag: str, items: list[bytes]) -> bytes:
    """Right fold of ``tagged_struct(tag, [head, tail], [])``; the empty list is zero."""
    acc = ZERO_DIGEST
    for item in reversed(items):
        acc = tagged_struct(tag, [item, acc], [])
    return acc


class SystemExitKind(IntEnum):
    HALTED = 0
    PAUSED = 1
    SYSTEM_SPLIT = 2


@dataclass(frozen=True)
class ExitCode:
    """``(system, user)`` exit pair: Halted(u)=(0,u), Paused(u)=(1,u), SystemSplit=(2,0)."""

    system: SystemExitKind
    user: int = 0

    @classmethod
    def halted(cls, user: int) -> ExitCode:
        return cls(SystemExitKind.HALTED, user & 0xFFFFFFFF)

    @classmethod
    def paused(cls, user: int) -> ExitCode:
        return cls(SystemExitKind.PAUSED, user & 0xFFFFFFFF)

    @classmethod
    def system_split(cls) -> ExitCode:
        return cls(SystemExitKind.SYSTEM_SPLIT, 0)

    @property
    def carries_output(self) -> bool:
        return self.system in (SystemExitKind.HALTED, SystemExitKind.PAUSED)

    def __str__(self) -> str:
        if self.system == SystemExitKind.SYSTEM_SPLIT:
            return "SystemSplit"
        return f"{self.system.name.capitalize()}({self.user})"


@dataclass(frozen=True)
class SystemState:
    """Machine state between segments: pc and the Merkle root of the memory image."""

    pc: int
    merkle_root: bytes

    def digest(self) -> bytes:
        return tagged_struct("risc0.SystemState", [self.merkle_root], [self.pc])


SYSTEM_STATE_ZERO = SystemState(0, ZERO_DIGEST)


@dataclass(frozen=True)
class Output:
    """Journal digest plus assumptions digest (zero when there are no assumptions)."""

    journal_digest: bytes
    assumptions_digest: bytes = ZERO_DIGEST

    @classmethod
    def of_journal(cls, journal: bytes) -> Output:
        return cls(sha256(journal), ZERO_DIGEST)

    def digest(self) -> bytes:
        return tagged_struct("risc0.Output", [self.journal_digest, self.assumptions_digest], [])


@dataclass(frozen=True)
class ReceiptClaim:
    """What a receipt attests. ``pre``/``post``/``input``/``output`` are digests (pruned form).

    ``output`` is the Output digest, or ZERO for ``None`` (non-final segments);
    ``input`` is reserved and always ZERO, as in RISC Zero.
    """

    pre: bytes
    post: bytes
    exit_code: ExitCode
    input: bytes = ZERO_DIGEST
    output: bytes = ZERO_DIGEST

    @classmethod
    def ok(cls, image_id: bytes, journal: bytes) -> ReceiptClaim:
        """The claim of a successful run of ``image_id`` that committed ``journal``."""
        return cls(
            pre=image_id,
            post=SYSTEM_STATE_ZERO.digest(),
            exit_code=ExitCode.halted(0),
            output=Output.of_journal(journal).digest(),
        )

    def digest(self) -> bytes:
        return tagged_struct(
            "risc0.ReceiptClaim",
            [self.input, self.pre, self.post, self.output],
            [int(self.exit_code.system), self.exit_code.user],
        )

    def join(self, other: ReceiptClaim) -> ReceiptClaim:
        """Claim of two consecutive spans (RISC Zero ``ReceiptClaim::join``)."""
        if self.post != other.pre:
            raise ValueError("cannot join claims: left post-state differs from right pre-state")
        return ReceiptClaim(self.pre, other.post, other.exit_code, self.input, other.output)
