"""The STARK seal of a segment receipt: a segment-machine proof bound to the claim.

Body layout (little-endian)::

    profile_len:u8 profile pre_pc:u32 pre_root[32] post_pc:u32 post_root[32]
    journal_len:u32 journal proof

The proof's public inputs are the two pcs, the two page-tree roots, the journal bytes
this segment wrote (statement bus terms the CPU table's journal WRITE rows must consume
exactly) and, for a final segment, the ``a0`` of its HALT (exit kind | user code << 8).
Verifying it and recomputing the claim's ``SystemState`` digests from those values
proves the claim's pre and post states and exit code; a receipt then checks that its
segments' journal pieces concatenate to its journal, whose digest is the claim's output.
"""

from __future__ import annotations

import struct

from proofmarket.zkvm.claim import DIGEST_BYTES, ReceiptClaim, SystemExitKind, SystemState
from proofmarket.zkvm.layout import HALT_PAUSE, HALT_TERMINATE
from proofmarket.zkvm.receipt import Seal, SealKind, VerificationError
from proofmarket.zkvm.segment import Segment

_STATES = struct.Struct("<I32sI32s")
_EXIT_KINDS = {SystemExitKind.HALTED: HALT_TERMINATE, SystemExitKind.PAUSED: HALT_PAUSE}
MAX_USER_EXIT = (1 << 24) - 1
"""The largest user exit code a HALT can carry (a0 >> 8)."""


def make_stark_seal(segment: Segment, profile: str = "default") -> Seal:
    """Prove ``segment`` with the named parameter profile (raises if unsupported)."""
    from proofmarket.stark.params import get_profile
    from proofmarket.zkvm.circuit.paging_machine import prove_segment_stark

    proof, wit = prove_segment_stark(segment, get_profile(profile))
    name = profile.encode()
    states = _STATES.pack(wit.pre_pc, wit.paging.pre_root, wit.post_pc, wit.paging.post_root)
    journal = wit.statement.journal
    return Seal(
        SealKind.STARK,
        bytes([len(name)]) + name + states + struct.pack("<I", len(journal)) + journal + proof,
    )


def _decode(body: bytes) -> tuple[str, int, bytes, int, bytes, bytes, bytes]:
    if not body:
        raise VerificationError("STARK seal is empty")
    n = body[0]
    if len(body) < 1 + n + _STATES.size + 4:
        raise VerificationError("STARK seal is truncated")
    try:
        profile = body[1 : 1 + n].decode("ascii")
    except UnicodeDecodeError:
        raise VerificationError("STARK seal profile is not ASCII") from None
    pre_pc, pre_root, post_pc, post_root = _STATES.unpack_from(body, 1 + n)
    at = 1 + n + _STATES.size
    (k,) = struct.unpack_from("<I", body, at)
    if len(body) < at + 4 + k:
        raise VerificationError("STARK seal is truncated")
    journal, proof = body[at + 4 : at + 4 + k], body[at + 4 + k :]
    return profile, pre_pc, pre_root, post_pc, post_root, journal, proof


def seal_profile(body: bytes) -> str:
    """The parameter profile a STARK seal was made with."""
    return _decode(body)[0]


def seal_journal(body: bytes) -> bytes:
    """The journal bytes the sealed segment wrote (proven once the seal verifies)."""
    return _decode(body)[5]


def verify_stark_seal(body: bytes, claim: ReceiptClaim, po2: int, what: str) -> None:
    """Verify the proof and that its states and exit are the claim's; raises
    VerificationError."""
    from proofmarket.stark.params import ParamsError, get_profile
    from proofmarket.stark.proof import ProofFormatError
    from proofmarket.stark.verifier import VerificationError as StarkError
    from proofmarket.zkvm.circuit.paging_machine import verify_segment_stark
    from proofmarket.zkvm.circuit.statement import CpuStatement

    profile, pre_pc, pre_root, post_pc, post_root, journal, proof = _decode(body)
    try:
        params = get_profile(profile)
    except ParamsError:
        raise VerificationError(f"{what}: unknown STARK profile {profile!r}") from None
    if SystemState(pre_pc, pre_root).digest() != claim.pre:
        raise VerificationError(f"{what}: the proven pre-state is not the claim's")
    kind = claim.exit_code.system
    exit_a0: int | None = None
    # a Halted claim has the zero post state (checked with the claim's shape)
    halted = kind == SystemExitKind.HALTED
    post = claim.post if halted else SystemState(post_pc, post_root).digest()
    if post != claim.post or len(post_root) != DIGEST_BYTES:
        raise VerificationError(f"{what}: the proven post-state is not the claim's")
    if kind != SystemExitKind.SYSTEM_SPLIT:
        user = claim.exit_code.user
        if user > MAX_USER_EXIT:
            raise VerificationError(f"{what}: user exit code {user} does not fit a HALT")
        exit_a0 = _EXIT_KINDS[kind] | user << 8
    try:
        statement = CpuStatement(pre_pc, post_pc, journal, exit_a0)
        heights = verify_segment_stark(proof, statement, pre_root, post_root, params)
    except (StarkError, ProofFormatError, ValueError) as exc:
        raise VerificationError(f"{what}: STARK seal does not verify: {exc}") from exc
    if heights[0] > po2:
        raise VerificationError(f"{what}: CPU trace of 2^{heights[0]} rows exceeds po2 {po2}")
