# pragma version ~=0.4.3
# pragma optimize gas
"""
@title RiscZeroSetVerifier
@notice Batch verification: the Merkle root of a batch of claim digests is vouched for once
        by a root seal (a proof of the set-builder guest, checked through the router), then
        each claim is verified by a Merkle path to that root. Mirrors risc0-ethereum's set
        verifier: leaf = keccak256("LEAF_TAG" || claimDigest), sorted-pair keccak nodes,
        seal = SELECTOR || abi.encode((bytes32[] path, bytes rootSeal)).
"""
from interfaces import IRiscZeroVerifier
import receipt_claim

implements: IRiscZeroVerifier

VERIFY_INTEGRITY: constant(bytes4) = method_id("verifyIntegrity((bytes,bytes32))", output_type=bytes4)

event VerifiedRoot:
    root: bytes32
    seal: Bytes[1024]

# sha256("risc0.SetInclusionReceiptVerifierParameters")
PARAMS_TAG: constant(bytes32) = 0x0d1598224cacaf2b74569b87801d8afe8d17210a4ea42c1e4f32ac6875276202
LEAF_TAG: constant(Bytes[8]) = b"LEAF_TAG"
# GuestState encoding flag of a finalized set-builder MMR
FINALIZED_FLAG: constant(bytes32) = 0x8000000000000000000000000000000000000000000000000000000000000000
MAX_PATH: constant(uint256) = 32

VERIFIER: public(immutable(address))
IMAGE_ID: public(immutable(bytes32))
SELECTOR: public(immutable(bytes4))
imageUrl: public(String[1024])
merkleRoots: HashMap[bytes32, bool]


@deploy
def __init__(verifier: address, imageId: bytes32, imageUrl: String[1024]):
    assert verifier.is_contract, "InvalidVerifier"
    VERIFIER = verifier
    IMAGE_ID = imageId
    SELECTOR = convert(slice(sha256(concat(PARAMS_TAG, imageId, b"\x01\x00")), 0, 4), bytes4)
    self.imageUrl = imageUrl


@view
@external
def imageInfo() -> (bytes32, String[1024]):
    return IMAGE_ID, self.imageUrl


@view
@external
def containsRoot(root: bytes32) -> bool:
    return self.merkleRoots[root]


@external
def submitMerkleRoot(root: bytes32, seal: Bytes[1024]):
    """Verify `seal` vouches for `root` and remember the root for later inclusion proofs."""
    self._verify_root(root, seal)
    self.merkleRoots[root] = True
    log VerifiedRoot(root=root, seal=seal)


@view
@external
def verify(seal: Bytes[1024], imageId: bytes32, journalDigest: bytes32):
    self._verify_inclusion(seal, receipt_claim.ok_digest(imageId, journalDigest))


@view
@external
def verifyIntegrity(receipt: IRiscZeroVerifier.Receipt):
    self._verify_inclusion(receipt.seal, receipt.claimDigest)


@view
@internal
def _verify_root(root: bytes32, root_seal: Bytes[1024]):
    journal: Bytes[96] = concat(IMAGE_ID, FINALIZED_FLAG, root)
    claim: bytes32 = receipt_claim.ok_digest(IMAGE_ID, sha256(journal))
    # raw_call: the verifier returns nothing and a revert (with its reason) bubbles up; a
    # call to an address without code would succeed, so that is refused first
    assert VERIFIER.is_contract, "VerifierHasNoCode"
    raw_call(
        VERIFIER,
        abi_encode(
            IRiscZeroVerifier.Receipt(seal=root_seal, claimDigest=claim),
            method_id=VERIFY_INTEGRITY,
        ),
        is_static_call=True,
    )


@view
@internal
def _verify_inclusion(seal: Bytes[1024], claim_digest: bytes32):
    # seal = SELECTOR || abi.encode(Seal{bytes32[] path; bytes rootSeal}): an offset word (0x20),
    # then the tuple head (two offsets, relative to byte 36) and the two tails. Parsed in place.
    seal_len: uint256 = len(seal)
    assert seal_len >= 4, "MalformedSeal"
    assert convert(slice(seal, 0, 4), bytes4) == SELECTOR, "SelectorMismatch"
    assert seal_len >= 100, "MalformedSeal"
    assert convert(extract32(seal, 4), uint256) == 32, "MalformedSeal"
    path_at: uint256 = convert(extract32(seal, 36), uint256)
    root_seal_at: uint256 = convert(extract32(seal, 68), uint256)
    assert path_at <= seal_len and root_seal_at <= seal_len, "MalformedSeal"
    path_at += 36
    root_seal_at += 36
    assert path_at + 32 <= seal_len and root_seal_at + 32 <= seal_len, "MalformedSeal"
    path_len: uint256 = convert(extract32(seal, path_at), uint256)
    assert path_len <= MAX_PATH and path_at + 32 + 32 * path_len <= seal_len, "MalformedSeal"
    root_seal_len: uint256 = convert(extract32(seal, root_seal_at), uint256)
    assert root_seal_len <= seal_len and root_seal_at + 32 + root_seal_len <= seal_len, "MalformedSeal"

    node: bytes32 = keccak256(concat(LEAF_TAG, claim_digest))
    for i: uint256 in range(path_len, bound=MAX_PATH):
        sibling: bytes32 = extract32(seal, path_at + 32 + 32 * i)
        if convert(node, uint256) < convert(sibling, uint256):
            node = keccak256(concat(node, sibling))
        else:
            node = keccak256(concat(sibling, node))
    if root_seal_len > 0:
        self._verify_root(node, slice(seal, root_seal_at + 32, root_seal_len))
    else:
        assert self.merkleRoots[node], "VerificationFailed"
