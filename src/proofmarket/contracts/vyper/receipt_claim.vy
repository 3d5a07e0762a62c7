# pragma version ~=0.4.3
"""
@title RISC Zero receipt claim digests
@notice `ReceiptClaim.ok(imageId, journalDigest).digest()`, byte-identical to RISC Zero's
        `ReceiptClaimLib` and to `proofmarket.zkvm.claim.ReceiptClaim.ok(...).digest()`:
        tagged-struct SHA-256 with u32 data little-endian and a u16 LE count of digests.
"""

# sha256("risc0.ReceiptClaim")
TAG_RECEIPT_CLAIM: constant(bytes32) = 0xcb1fefcd1f2d9a64975cbbbf6e161e2914434b0cbb9960b84df5d717e86b48af
# sha256("risc0.Output")
TAG_OUTPUT: constant(bytes32) = 0x77eafeb366a78b47747de0d7bb176284085ff5564887009a5be63da32d3559d4
# SystemState{pc: 0, merkle_root: 0}.digest(): the post state of a halted run
SYSTEM_STATE_ZERO_DIGEST: constant(bytes32) = 0xa3acc27117418996340b84e5a90f3ef4c49d22c79e44aad822ec9c313e1eb8e2


@internal
@pure
def ok_digest(image_id: bytes32, journal_digest: bytes32) -> bytes32:
    """Digest of the claim of a run of `image_id` that halted with exit 0 and `journal_digest`."""
    # Output{journal, assumptions: 0}: two digests, no data words, count u16 LE = 2
    output: bytes32 = sha256(concat(TAG_OUTPUT, journal_digest, empty(bytes32), b"\x02\x00"))
    # ReceiptClaim: down = [input 0, pre = imageId, post = zero state, output];
    # data = [sys_exit 0, user_exit 0] as u32 LE; count u16 LE = 4
    return sha256(
        concat(
            TAG_RECEIPT_CLAIM,
            empty(bytes32),
            image_id,
            SYSTEM_STATE_ZERO_DIGEST,
            output,
            b"\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00",
        )
    )
