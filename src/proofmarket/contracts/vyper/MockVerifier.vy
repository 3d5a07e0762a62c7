# pragma version ~=0.4.3
# pragma optimize gas
"""
@title RiscZeroMockVerifier -- DEV MODE ONLY
@notice Accepts a fake seal `SELECTOR || claimDigest` for any claim. It proves nothing:
        only development deployments register it in the router, so dev-mode receipts are
        rejected (`SelectorUnknown`) by a production deployment.
"""
from interfaces import IRiscZeroVerifier
import receipt_claim

implements: IRiscZeroVerifier

SELECTOR: public(immutable(bytes4))
DEV_MODE: public(constant(bool)) = True


@deploy
def __init__(selector: bytes4):
    SELECTOR = selector


@view
@external
def verify(seal: Bytes[1024], imageId: bytes32, journalDigest: bytes32):
    self._check(seal, receipt_claim.ok_digest(imageId, journalDigest))


@view
@external
def verifyIntegrity(receipt: IRiscZeroVerifier.Receipt):
    self._check(receipt.seal, receipt.claimDigest)


@view
@internal
def _check(seal: Bytes[1024], claim_digest: bytes32):
    assert len(seal) == 36, "VerificationFailed"
    assert convert(slice(seal, 0, 4), bytes4) == SELECTOR, "VerificationFailed"
    assert extract32(seal, 4) == claim_digest, "VerificationFailed"
