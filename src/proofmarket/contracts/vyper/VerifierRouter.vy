# pragma version ~=0.4.3
# pragma optimize gas
"""
@title RiscZeroVerifierRouter
@notice Routes a seal to the verifier registered for its first four bytes (the selector).
        The owner adds and removes selectors; a removed selector is tombstoned for good so a
        seal can never be re-routed to a different verifier under the same selector. A
        verifier without code is refused when registered and when routed to; ownership moves
        in two steps (transferOwnership, then acceptOwnership by the new owner).
"""
from interfaces import IRiscZeroVerifier
import receipt_claim

implements: IRiscZeroVerifier

VERIFY_INTEGRITY: constant(bytes4) = method_id("verifyIntegrity((bytes,bytes32))", output_type=bytes4)

event VerifierAdded:
    selector: bytes4
    verifier: address

event VerifierRemoved:
    selector: bytes4

event OwnershipTransferStarted:
    previousOwner: indexed(address)
    newOwner: indexed(address)

event OwnershipTransferred:
    previousOwner: indexed(address)
    newOwner: indexed(address)

owner: public(address)
pendingOwner: public(address)
verifiers: public(HashMap[bytes4, address])
removed: HashMap[bytes4, bool]


@deploy
def __init__(owner: address):
    assert owner != empty(address), "InvalidOwner"
    self.owner = owner
    log OwnershipTransferred(previousOwner=empty(address), newOwner=owner)


@external
def transferOwnership(newOwner: address):
    """Start a two-step transfer: `newOwner` must call `acceptOwnership`."""
    assert msg.sender == self.owner, "NotOwner"
    self.pendingOwner = newOwner
    log OwnershipTransferStarted(previousOwner=self.owner, newOwner=newOwner)


@external
def acceptOwnership():
    assert msg.sender == self.pendingOwner and msg.sender != empty(address), "NotPendingOwner"
    log OwnershipTransferred(previousOwner=self.owner, newOwner=msg.sender)
    self.owner = msg.sender
    self.pendingOwner = empty(address)


@external
def addVerifier(selector: bytes4, verifier: address):
    assert msg.sender == self.owner, "NotOwner"
    assert not self.removed[selector], "SelectorRemoved"
    assert self.verifiers[selector] == empty(address), "SelectorInUse"
    assert verifier != empty(address), "VerifierAddressZero"
    # an address without code "accepts" every seal (a call to it succeeds)
    assert verifier.is_contract, "VerifierHasNoCode"
    self.verifiers[selector] = verifier
    log VerifierAdded(selector=selector, verifier=verifier)


@external
def removeVerifier(selector: bytes4):
    assert msg.sender == self.owner, "NotOwner"
    assert self.verifiers[selector] != empty(address), "SelectorUnknown"
    self.verifiers[selector] = empty(address)
    self.removed[selector] = True
    log VerifierRemoved(selector=selector)


@view
@external
def getVerifier(selector: bytes4) -> address:
    return self._get(selector)


@view
@external
def verify(seal: Bytes[1024], imageId: bytes32, journalDigest: bytes32):
    receipt: IRiscZeroVerifier.Receipt = IRiscZeroVerifier.Receipt(
        seal=seal, claimDigest=receipt_claim.ok_digest(imageId, journalDigest)
    )
    raw_call(
        self._route(seal),
        abi_encode(receipt, method_id=VERIFY_INTEGRITY),
        is_static_call=True,
    )


@view
@external
def verifyIntegrity(receipt: IRiscZeroVerifier.Receipt):
    raw_call(
        self._route(receipt.seal),
        abi_encode(receipt, method_id=VERIFY_INTEGRITY),
        is_static_call=True,
    )


@view
@internal
def _route(seal: Bytes[1024]) -> address:
    assert len(seal) >= 4, "MalformedSeal"
    return self._get(convert(slice(seal, 0, 4), bytes4))


@view
@internal
def _get(selector: bytes4) -> address:
    verifier: address = self.verifiers[selector]
    if verifier == empty(address):
        if self.removed[selector]:
            raise "SelectorRemoved"
        raise "SelectorUnknown"
    assert verifier.is_contract, "VerifierHasNoCode"
    return verifier
