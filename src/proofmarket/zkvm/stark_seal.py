"""The STARK seal of a segment receipt: a segment-machine proof bound to the claim.

Body layout (little-endian)::

    profile_len:u8 profile pre_pc:u32 pre_root[32] post_pc:u32 post_root[32]
    opening_len:u32 opening proof
    opening = npages:u8 (page:u32 bytes[1024])* nsiblings:u16 sibling[32]*

The proof's public inputs are the two pcs and the two page-tree roots, so verifying it
and recomputing the claim's ``SystemState`` digests from them proves the claim's pre and
post states. The final ``ecall`` of a Halted or Paused segment is not a row of the
circuit yet, so the proven post pc is that ``ecall``'s (a Paused claim's post pc is the
next one); a final segment's seal therefore opens the register page and the page at the
post pc against the *proven* post root, and the verifier checks that the word at the
post pc is ``ecall``, ``t0`` selects HALT and ``a0`` gives the claim's exit kind and user
code. The output (journal) digest is not bound yet (see ``docs/zkvm-receipts.md``).
"""

from __future__ import annotations

import struct

from proofmarket.zkvm.claim import DIGEST_BYTES, ReceiptClaim, SystemExitKind, SystemState
from proofmarket.zkvm.errors import SegmentError
from proofmarket.zkvm.layout import (
    HALT_PAUSE,
    HALT_TERMINATE,
    PAGE_BYTES,
    PAGE_SHIFT,
    REG_PAGE,
    REG_PAGE_OFFSET,
    SYS_HALT,
)
from proofmarket.zkvm.memory import page_digests, proof_nodes, root_from_proof, tree_nodes
from proofmarket.zkvm.receipt import Seal, SealKind, VerificationError
from proofmarket.zkvm.segment import Segment

_STATES = struct.Struct("<I32sI32s")
ECALL = 0x0000_0073
_EXIT_KINDS = {HALT_TERMINATE: SystemExitKind.HALTED, HALT_PAUSE: SystemExitKind.PAUSED}


def _opening(
    segment: Segment, post_pc: int, post_pages: dict[int, bytes], wit_root: bytes
) -> bytes:
    """The register page and the post-pc page with their siblings in the post tree."""
    nodes = tree_nodes(page_digests(post_pages), segment.proof)
    if nodes[1] != wit_root:
        raise SegmentError("post pages do not hash to the proven post root")
    chosen = sorted({REG_PAGE, post_pc >> PAGE_SHIFT})
    out = bytearray([len(chosen)])
    for p in chosen:
        out += struct.pack("<I", p) + post_pages[p]
    sibs = proof_nodes(chosen)
    out += struct.pack("<H", len(sibs)) + b"".join(nodes[n] for n in sibs)
    return bytes(out)


def _check_final(
    opening: bytes, post_pc: int, post_root: bytes, claim: ReceiptClaim, what: str
) -> None:
    """The opened pages hash to ``post_root``; the halt ecall there gives the claim's exit."""
    try:
        pos, pages = 1, {}
        for _ in range(opening[0]):
            (p,) = struct.unpack_from("<I", opening, pos)
            pages[p] = opening[pos + 4 : pos + 4 + PAGE_BYTES]
            pos += 4 + PAGE_BYTES
        (n,) = struct.unpack_from("<H", opening, pos)
        sibs = [opening[pos + 2 + 32 * i : pos + 34 + 32 * i] for i in range(n)]
        if pos + 2 + 32 * n != len(opening) or set(pages) != {REG_PAGE, post_pc >> PAGE_SHIFT}:
            raise ValueError("wrong pages or length")
        if any(len(b) != PAGE_BYTES for b in pages.values()):
            raise ValueError("truncated page")
        root = root_from_proof(page_digests(pages), sibs)
    except (IndexError, ValueError, struct.error, SegmentError) as exc:
        raise VerificationError(f"{what}: malformed final-state opening: {exc}") from None
    if root != post_root:
        raise VerificationError(f"{what}: the opened pages are not under the proven post root")

    def word(addr: int) -> int:
        page = pages[addr >> PAGE_SHIFT]
        off = addr & (PAGE_BYTES - 1)
        return int.from_bytes(page[off : off + 4], "little")

    reg = (REG_PAGE << PAGE_SHIFT) + REG_PAGE_OFFSET
    if word(post_pc) != ECALL or word(reg + 4 * 5) != SYS_HALT:
        raise VerificationError(f"{what}: the segment does not end with a HALT ecall")
    a0 = word(reg + 4 * 10)
    if _EXIT_KINDS.get(a0 & 0xFF) != claim.exit_code.system or a0 >> 8 != claim.exit_code.user:
        raise VerificationError(f"{what}: the proven exit (a0 = {a0:#x}) is not the claim's")


def make_stark_seal(segment: Segment, profile: str = "default") -> Seal:
    """Prove ``segment`` with the named parameter profile (raises if unsupported)."""
    from proofmarket.stark.params import get_profile
    from proofmarket.zkvm.circuit.paging_machine import prove_segment_stark

    proof, wit = prove_segment_stark(segment, get_profile(profile))
    name = profile.encode()
    states = _STATES.pack(wit.pre_pc, wit.paging.pre_root, wit.post_pc, wit.paging.post_root)
    final = segment.exit_code.system != SystemExitKind.SYSTEM_SPLIT
    opening = _opening(segment, wit.post_pc, wit.post_pages, wit.paging.post_root) if final else b""
    return Seal(
        SealKind.STARK,
        bytes([len(name)]) + name + states + struct.pack("<I", len(opening)) + opening + proof,
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
    opening, proof = body[at + 4 : at + 4 + k], body[at + 4 + k :]
    return profile, pre_pc, pre_root, post_pc, post_root, opening, proof


def seal_profile(body: bytes) -> str:
    """The parameter profile a STARK seal was made with."""
    return _decode(body)[0]


def verify_stark_seal(body: bytes, claim: ReceiptClaim, po2: int, what: str) -> None:
    """Verify the proof and that its states are the claim's; raises VerificationError."""
    from proofmarket.stark.params import ParamsError, get_profile
    from proofmarket.stark.proof import ProofFormatError
    from proofmarket.stark.verifier import VerificationError as StarkError
    from proofmarket.zkvm.circuit.paging_machine import verify_segment_stark

    profile, pre_pc, pre_root, post_pc, post_root, opening, proof = _decode(body)
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
    if kind == SystemExitKind.SYSTEM_SPLIT:
        if opening:
            raise VerificationError(f"{what}: a split segment carries no final-state opening")
    else:
        _check_final(opening, post_pc, post_root, claim, what)
    try:
        heights = verify_segment_stark(proof, pre_pc, pre_root, post_pc, post_root, params)
    except (StarkError, ProofFormatError, ValueError) as exc:
        raise VerificationError(f"{what}: STARK seal does not verify: {exc}") from exc
    if heights[0] > po2:
        raise VerificationError(f"{what}: CPU trace of 2^{heights[0]} rows exceeds po2 {po2}")
