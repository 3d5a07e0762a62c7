# pragma version ~=0.4.3
# pragma optimize gas
"""
@title ProofMarket
@notice A market for verifiable compute with Boundless semantics: clients sign proof
        requests (EIP-712) whose price rises over a reverse Dutch auction; a prover locks a
        request by posting collateral, then fulfils it with a proof that the market checks
        (predicate on chain + verifier router). Three payment paths: locked and in time (the
        locker is paid and gets its collateral back), lock lapsed (anyone may fulfil, the
        client pays nothing, the fulfiller gets half the collateral at slash), never locked
        (paid at the current price). Every fulfilment other than the locker's own during its
        lock must be committed (`commitFulfillment`) at least one block before it is revealed,
        so a copy of a pending fulfilment sent from another address earns nothing.
@dev    This contract holds the hot paths; funds, admin, slash and broadcast live in
        `ProofMarketExtension`, reached by DELEGATECALL from `__default__` (same storage
        layout via the `market_core` module), so the code fits the 24 KB limit with room.
"""
import market_core as core

initializes: core

exports: (
    core.VERIFIER,
    core.COLLATERAL_TOKEN_CONTRACT,
    core.owner,
    core.pendingOwner,
)

interface IExtension:
    def VERIFIER() -> address: view
    def COLLATERAL_TOKEN_CONTRACT() -> address: view

VERSION: public(constant(uint256)) = core.VERSION
SLASHING_BURN_BPS: public(constant(uint256)) = core.SLASHING_BURN_BPS
MAX_BATCH: public(constant(uint256)) = core.MAX_BATCH
FULFILL_BATCH: constant(bytes4) = method_id(
    "fulfillBatch(((uint256,((address,uint96),(uint8,bytes),bytes4),string,(uint8,bytes),(uint256,uint256,uint64,uint32,uint32,uint32,uint256)),bytes,uint8,bytes32,bytes,bytes)[])",
    output_type=bytes4,
)

EXTENSION: public(immutable(address))


@deploy
def __init__(verifier: address, collateralToken: address, owner: address, extension: address):
    assert owner != empty(address), "InvalidInitialOwner"
    assert extension.is_contract, "InvalidExtension"
    core.__init__(verifier, collateralToken)
    assert staticcall IExtension(extension).VERIFIER() == verifier, "InvalidExtension"
    assert (
        staticcall IExtension(extension).COLLATERAL_TOKEN_CONTRACT() == collateralToken
    ), "InvalidExtension"
    EXTENSION = extension
    core.owner = owner
    log core.OwnershipTransferred(previousOwner=empty(address), newOwner=owner)


@payable
@external
def __default__():
    """`fulfillBatch` runs here, fill by fill from padded calldata; everything else (funds,
    admin, slash, broadcast, relayed locks, root-and-batch) runs the extension's code on
    this storage."""
    if len(msg.data) >= 4 and convert(slice(msg.data, 0, 4), bytes4) == FULFILL_BATCH:
        assert msg.value == 0, "NotPayable"
        self._fulfill_padded_batch()
        return
    raw_call(EXTENSION, msg.data, is_delegate_call=True)


# ================================================================ lock


@external
def lockRequest(request: core.ProofRequest, clientSignature: Bytes[65]):
    """Lock `request` for the caller at the current auction price, posting its collateral."""
    core._lock(request, clientSignature, b"", 0, 0, False)


# ================================================================ commit, fulfil


@external
def commitFulfillment(commitment: bytes32):
    """Commit to `keccak256(abi.encode(fillDigest, prover))` before revealing the fill."""
    core._commit(commitment)


@external
def commitFulfillments(commitments: DynArray[bytes32, core.MAX_BATCH]):
    """Commit several fills in one transaction."""
    for c: bytes32 in commitments:
        core._commit(c)


@external
def fulfill(fill: core.Fulfillment):
    """Deliver one proof; the caller is the prover (paid per docs/contracts.md §4.5)."""
    core._fulfill(fill)


# ================================================================ views


@view
@external
def verifyDelivery(fill: core.Fulfillment) -> bytes32:
    """Run every check a fulfilment must pass (signature, predicate, seal) without settling;
    revert with the reason if one fails, else return the verified claim digest."""
    digest: bytes32 = empty(bytes32)
    claim: bytes32 = empty(bytes32)
    client: address = empty(address)
    lock_deadline: uint256 = 0
    deadline: uint256 = 0
    digest, claim, client, lock_deadline, deadline = core._check_fill(fill)
    return claim


@view
@external
def commitmentBlock(commitment: bytes32) -> uint256:
    """Block of a pending commitment (0: none, or already revealed)."""
    return core.commitments[commitment]


@view
@external
def priceRequest(request: core.ProofRequest, clientSignature: Bytes[65]) -> uint256:
    """The price an unlocked fulfilment of `request` would be paid now."""
    lock_deadline: uint256 = 0
    deadline: uint256 = 0
    lock_deadline, deadline = core._validate(
        request.id,
        request.offer,
        request.input.inputType,
        request.requirements.predicate.predicateType,
        len(request.requirements.predicate.data),
    )
    core._check_client_signature(request.id, core._digest(core._hash_request(request)), clientSignature)
    assert block.timestamp <= deadline, "RequestIsExpired"
    return core._price_at(request.offer, block.timestamp)


@view
@external
def balanceOf(account: address) -> uint256:
    return core.accounts[account] & core.MASK96


@view
@external
def balanceOfStake(account: address) -> uint256:
    return (core.accounts[account] >> 96) & core.MASK96


@view
@external
def accountIsFrozen(account: address) -> bool:
    return core.accounts[account] & core.ACCOUNT_FROZEN != 0


@view
@external
def requestIsLocked(requestId: uint256) -> bool:
    return core.lockA[requestId] & core.LOCKED != 0


@view
@external
def requestIsFulfilled(requestId: uint256) -> bool:
    return core.lockA[requestId] & core.FULFILLED != 0


@view
@external
def requestIsSlashed(requestId: uint256) -> bool:
    return core.lockA[requestId] & core.SLASHED != 0


@view
@external
def requestLockDeadline(requestId: uint256) -> uint64:
    a: uint256 = core.lockA[requestId]
    assert a & core.LOCKED != 0, "RequestIsNotLocked"
    return convert((a >> 160) & core.MASK40, uint64)


@view
@external
def requestDeadline(requestId: uint256) -> uint64:
    a: uint256 = core.lockA[requestId]
    assert a & core.LOCKED != 0, "RequestIsNotLocked"
    return convert(((a >> 160) & core.MASK40) + ((a >> 200) & core.MASK24), uint64)


@view
@external
def requestLock(requestId: uint256) -> core.RequestLock:
    a: uint256 = core.lockA[requestId]
    b: uint256 = core.lockB[requestId]
    result: core.RequestLock = empty(core.RequestLock)
    if a == 0:
        return result
    lock_deadline: uint256 = (a >> 160) & core.MASK40
    result.prover = convert(convert(a & core.MASK160, uint160), address)
    result.lockDeadline = convert(lock_deadline, uint64)
    result.deadline = convert(lock_deadline + ((a >> 200) & core.MASK24), uint64)
    result.flags = convert(a >> core.FLAGS_SHIFT, uint8)
    if a & core.PAID_AFTER_LOCK != 0:
        result.fulfiller = convert(convert(b & core.MASK160, uint160), address)
        result.collateral = b >> 160
    else:
        result.price = b & core.MASK96
        result.collateral = (b >> 96) & core.MASK96
        result.requestDigestTag = convert(convert((b >> 192) << 192, bytes32), bytes8)
    return result


@view
@external
def requestDigest(request: core.ProofRequest) -> bytes32:
    return core._digest(core._hash_request(request))


@view
@external
def eip712DomainSeparator() -> bytes32:
    return core._domain_separator()


@pure
@external
def priceAt(offer: core.Offer, timestamp: uint64) -> uint256:
    return core._price_at(offer, convert(timestamp, uint256))


@pure
@external
def timeAtPrice(offer: core.Offer, price: uint256) -> uint64:
    assert price <= offer.maxPrice, "InvalidRequest"
    if price <= offer.minPrice:
        return 0
    numerator: uint256 = (price - offer.minPrice) * convert(offer.rampUpPeriod, uint256)
    denominator: uint256 = offer.maxPrice - offer.minPrice
    delta: uint256 = 0
    if numerator != 0:
        delta = (numerator - 1) // denominator + 1
    return convert(convert(offer.rampUpStart, uint256) + delta, uint64)


# ================================================================ internals


@internal
def _word(offset: uint256) -> uint256:
    return convert(extract32(slice(msg.data, offset, 32), 0), uint256)


@internal
def _fulfill_padded_batch():
    """`fulfillBatch(Fulfillment[])` (up to 256 fills) read straight from calldata: each fill
    is ABI-decoded, with all of Vyper's bounds checks, from a fixed-size window at its
    offset, so memory holds one fill at a time instead of the whole array at its maximum
    size (Vyper 0.4 copies a typed array argument that way: 1.7 MB here). The window needs
    `FILL_ENCODING_MAX` bytes after each fill's start, so the client appends that many zero
    bytes to the calldata (ABI decoders ignore trailing bytes)."""
    size: uint256 = len(msg.data)
    assert size >= 68 and self._word(4) == 32, "MalformedBatch"
    count: uint256 = self._word(36)
    assert count <= core.MAX_BATCH, "BatchSizeExceedsLimit"
    assert size >= 68 + 32 * count, "MalformedBatch"
    for i: uint256 in range(count, bound=core.MAX_BATCH):
        start: uint256 = 68 + self._word(68 + 32 * i)
        assert start + core.FILL_ENCODING_MAX <= size, "BatchCalldataNotPadded"
        fill: core.Fulfillment = abi_decode(
            slice(msg.data, start, core.FILL_ENCODING_MAX), core.Fulfillment, unwrap_tuple=False
        )
        core._fulfill(fill)
