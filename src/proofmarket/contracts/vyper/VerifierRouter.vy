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

event VerifierChangeScheduled:
    selector: bytes4
    verifier: address
    removal: bool
    readyAt: uint256

event VerifierChangeCancelled:
    selector: bytes4

event DelayIncreased:
    delay: uint256

struct Scheduled:
    verifier: address
    readyAt: uint256
    removal: bool

MAX_DELAY: constant(uint256) = 90 * 86400

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
# Timelock: with delay > 0, adding and removing a verifier is scheduled and takes effect
# (executeScheduled, anyone) only `delay` seconds later, so clients and provers see an
# accept-all verifier or a removal under their locks coming. The delay can only grow.
delay: public(uint256)
scheduled: public(HashMap[bytes4, Scheduled])


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
    """Register `verifier` for `selector`: now, or after `delay` seconds when set."""
    assert msg.sender == self.owner, "NotOwner"
    assert not self.removed[selector], "SelectorRemoved"
    assert self.verifiers[selector] == empty(address), "SelectorInUse"
    assert verifier != empty(address), "VerifierAddressZero"
    # an address without code "accepts" every seal (a call to it succeeds)
    assert verifier.is_contract, "VerifierHasNoCode"
    if self.delay == 0:
        self._activate(selector, verifier)
    else:
        self._schedule(selector, verifier, False)


@external
def removeVerifier(selector: bytes4):
    """Tombstone `selector`: now, or after `delay` seconds when set."""
    assert msg.sender == self.owner, "NotOwner"
    assert self.verifiers[selector] != empty(address), "SelectorUnknown"
    if self.delay == 0:
        self._remove(selector)
    else:
        self._schedule(selector, empty(address), True)


@external
def executeScheduled(selector: bytes4):
    """Apply a scheduled change once its time has come (anyone may call)."""
    change: Scheduled = self.scheduled[selector]
    assert change.readyAt != 0, "NothingScheduled"
    assert block.timestamp >= change.readyAt, "TooEarly"
    self.scheduled[selector] = empty(Scheduled)
    if change.removal:
        assert self.verifiers[selector] != empty(address), "SelectorUnknown"
        self._remove(selector)
    else:
        assert not self.removed[selector], "SelectorRemoved"
        assert self.verifiers[selector] == empty(address), "SelectorInUse"
        assert change.verifier.is_contract, "VerifierHasNoCode"
        self._activate(selector, change.verifier)


@external
def cancelScheduled(selector: bytes4):
    assert msg.sender == self.owner, "NotOwner"
    assert self.scheduled[selector].readyAt != 0, "NothingScheduled"
    self.scheduled[selector] = empty(Scheduled)
    log VerifierChangeCancelled(selector=selector)


@external
def increaseDelay(newDelay: uint256):
    """Set the timelock; it can only grow (up to 90 days), so it cannot be lifted quietly."""
    assert msg.sender == self.owner, "NotOwner"
    assert newDelay >= self.delay and newDelay <= MAX_DELAY, "InvalidDelay"
    self.delay = newDelay
    log DelayIncreased(delay=newDelay)


@internal
def _schedule(selector: bytes4, verifier: address, removal: bool):
    assert self.scheduled[selector].readyAt == 0, "SelectorPending"
    ready_at: uint256 = block.timestamp + self.delay
    self.scheduled[selector] = Scheduled(verifier=verifier, readyAt=ready_at, removal=removal)
    log VerifierChangeScheduled(selector=selector, verifier=verifier, removal=removal, readyAt=ready_at)


@internal
def _activate(selector: bytes4, verifier: address):
    self.verifiers[selector] = verifier
    log VerifierAdded(selector=selector, verifier=verifier)


@internal
def _remove(selector: bytes4):
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
