"""The STARK seal of a segment receipt: a segment-machine proof bound to the claim.

Body layout (little-endian)::

    profile_len:u8 profile pre_pc:u32 pre_root[32] post_pc:u32 post_root[32] proof

The proof's public inputs are the two pcs and the two page-tree roots, so verifying it
and recomputing the claim's ``SystemState`` digests from them proves the claim's pre and
post states. The final ``ecall`` of a Halted or Paused segment is not a row of the
circuit yet, so the proven post pc is that ``ecall``'s and the claim's Paused post pc is
the next one; the exit code and the output (journal) digest are not yet bound by the
circuit (see ``docs/zkvm-receipts.md``).
"""

from __future__ import annotations

import struct

from proofmarket.zkvm.claim import DIGEST_BYTES, ReceiptClaim, SystemExitKind, SystemState
from proofmarket.zkvm.receipt import Seal, SealKind, VerificationError
from proofmarket.zkvm.segment import Segment

_STATES = struct.Struct("<I32sI32s")


def make_stark_seal(segment: Segment, profile: str = "default") -> Seal:
    """Prove ``segment`` with the named parameter profile (raises if unsupported)."""
    from proofmarket.stark.params import get_profile
    from proofmarket.zkvm.circuit.paging_machine import prove_segment_stark

    proof, wit = prove_segment_stark(segment, get_profile(profile))
    name = profile.encode()
    states = _STATES.pack(wit.pre_pc, wit.paging.pre_root, wit.post_pc, wit.paging.post_root)
    return Seal(SealKind.STARK, bytes([len(name)]) + name + states + proof)


def _decode(body: bytes) -> tuple[str, int, bytes, int, bytes, bytes]:
    if not body:
        raise VerificationError("STARK seal is empty")
    n = body[0]
    if len(body) < 1 + n + _STATES.size:
        raise VerificationError("STARK seal is truncated")
    try:
        profile = body[1 : 1 + n].decode("ascii")
    except UnicodeDecodeError:
        raise VerificationError("STARK seal profile is not ASCII") from None
    pre_pc, pre_root, post_pc, post_root = _STATES.unpack_from(body, 1 + n)
    return profile, pre_pc, pre_root, post_pc, post_root, body[1 + n + _STATES.size :]


def seal_profile(body: bytes) -> str:
    """The parameter profile a STARK seal was made with."""
    return _decode(body)[0]


def verify_stark_seal(body: bytes, claim: ReceiptClaim, po2: int, what: str) -> None:
    """Verify the proof and that its states are the claim's; raises VerificationError."""
    from proofmarket.stark.params import ParamsError, get_profile
    from proofmarket.stark.proof import ProofFormatError
    from proofmarket.stark.verifier import VerificationError as StarkError
    from proofmarket.zkvm.circuit.paging_machine import verify_segment_stark

    profile, pre_pc, pre_root, post_pc, post_root, proof = _decode(body)
    try:
        params = get_profile(profile)
    except ParamsError:
        raise VerificationError(f"{what}: unknown STARK profile {profile!r}") from None
    if SystemState(pre_pc, pre_root).digest() != claim.pre:
        raise VerificationError(f"{what}: the proven pre-state is not the claim's")
    kind = claim.exit_code.system
    if kind == SystemExitKind.SYSTEM_SPLIT:
        post = SystemState(post_pc, post_root).digest()
    elif kind == SystemExitKind.PAUSED:
        post = SystemState((post_pc + 4) & 0xFFFF_FFFF, post_root).digest()
    else:
        post = claim.post  # Halted: the zero post state (checked with the claim's shape)
    if post != claim.post or len(post_root) != DIGEST_BYTES:
        raise VerificationError(f"{what}: the proven post-state is not the claim's")
    try:
        heights = verify_segment_stark(proof, pre_pc, pre_root, post_pc, post_root, params)
    except (StarkError, ProofFormatError, ValueError) as exc:
        raise VerificationError(f"{what}: STARK seal does not verify: {exc}") from exc
    if heights[0] > po2:
        raise VerificationError(f"{what}: CPU trace of 2^{heights[0]} rows exceeds po2 {po2}")
