# pragma version ~=0.4.3
# pragma optimize gas
"""
@title ProofMarket
@notice A market for verifiable compute with Boundless v1 semantics: clients sign proof
        requests (EIP-712) whose price rises over a reverse Dutch auction; a prover locks a
        request by posting collateral, then fulfils it with a proof that the market checks
        (predicate on chain + verifier router). Three payment paths: locked and in time (the
        locker is paid and gets its collateral back), lock lapsed (anyone may fulfil, the
        client pays nothing, the fulfiller gets half the collateral at slash), never locked
        (paid at the current price). After full expiry an unfulfilled lock is slashed: half
        the collateral is burned, half goes to the secondary fulfiller or the treasury, and
        the locker is frozen until it unfreezes itself.
@dev    Storage is packed by hand (Vyper does not pack): one word per account, two per lock.
        Revert reasons are the Boundless error names (docs/contracts.md).
"""
from ethereum.ercs import IERC20
from interfaces import IRiscZeroVerifier
from interfaces import IRiscZeroSetVerifier
import receipt_claim

# ---------------------------------------------------------------- limits

# Vyper lays out memory by maximum sizes, and EVM memory costs grow quadratically, so these
# bounds are kept modest: larger inputs go by URL (InputType.Url).
MAX_IMAGE_URL: constant(uint256) = 256
MAX_PREDICATE_DATA: constant(uint256) = 256
MAX_INPUT_DATA: constant(uint256) = 2048
MAX_JOURNAL: constant(uint256) = 2048
MAX_SEAL: constant(uint256) = 1024
MAX_BATCH: constant(uint256) = 32
MAX_CALLBACK_ERROR: constant(uint256) = 256

# ---------------------------------------------------------------- types (ABI = Boundless v1)

struct Callback:
    addr: address
    gasLimit: uint96

struct Predicate:
    predicateType: uint8
    data: Bytes[MAX_PREDICATE_DATA]

struct Requirements:
    callback: Callback
    predicate: Predicate
    selector: bytes4

struct Input:
    inputType: uint8
    data: Bytes[MAX_INPUT_DATA]

struct Offer:
    minPrice: uint256
    maxPrice: uint256
    rampUpStart: uint64
    rampUpPeriod: uint32
    lockTimeout: uint32
    timeout: uint32
    lockCollateral: uint256

struct ProofRequest:
    id: uint256
    requirements: Requirements
    imageUrl: String[MAX_IMAGE_URL]
    input: Input
    offer: Offer

struct Fulfillment:
    request: ProofRequest
    clientSignature: Bytes[65]
    fulfillmentDataType: uint8
    imageId: bytes32
    journal: Bytes[MAX_JOURNAL]
    seal: Bytes[MAX_SEAL]

struct RequestLock:
    prover: address
    price: uint256
    collateral: uint256
    lockDeadline: uint64
    deadline: uint64
    flags: uint8
    requestDigestTag: bytes8
    fulfiller: address

# ---------------------------------------------------------------- events

event RequestSubmitted:
    requestId: indexed(uint256)
    request: ProofRequest
    clientSignature: Bytes[65]

event RequestLocked:
    requestId: indexed(uint256)
    prover: indexed(address)
    requestDigest: bytes32
    price: uint256
    collateral: uint256

event RequestFulfilled:
    requestId: indexed(uint256)
    prover: indexed(address)
    requestDigest: bytes32

event ProofDelivered:
    requestId: indexed(uint256)
    prover: indexed(address)
    requestDigest: bytes32
    imageId: bytes32
    journal: Bytes[MAX_JOURNAL]
    seal: Bytes[MAX_SEAL]

event PaymentRequirementsFailed:
    requestId: indexed(uint256)
    reason: String[32]

event CallbackFailed:
    requestId: indexed(uint256)
    callback: address
    error: Bytes[MAX_CALLBACK_ERROR]

event ProverSlashed:
    requestId: indexed(uint256)
    collateralBurned: uint256
    collateralTransferred: uint256
    collateralRecipient: address

event ProverFrozen:
    account: indexed(address)
    requestId: indexed(uint256)

event ProverUnfrozen:
    account: indexed(address)

event Deposit:
    account: indexed(address)
    value: uint256

event Withdrawal:
    account: indexed(address)
    value: uint256

event StakeDeposit:
    account: indexed(address)
    value: uint256

event StakeWithdrawal:
    account: indexed(address)
    value: uint256

event OwnershipTransferred:
    previousOwner: indexed(address)
    newOwner: indexed(address)

# ---------------------------------------------------------------- constants

VERSION: public(constant(uint256)) = 1
SLASHING_BURN_BPS: public(constant(uint256)) = 5000
BURN_ADDRESS: constant(address) = 0x000000000000000000000000000000000000dEaD

# keccak256 of the EIP-712 type strings (docs/contracts.md §3)
EIP712_DOMAIN_TYPEHASH: constant(bytes32) = 0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f
CALLBACK_TYPEHASH: constant(bytes32) = 0xc0d011520a6b2314053ae9acff853f2e68d4acc34231ca7a0f721507ec141590
INPUT_TYPEHASH: constant(bytes32) = 0x073039c66bce7413182ec91963b518ef97a9eadb8216b337c8ea3be14ac2ac10
OFFER_TYPEHASH: constant(bytes32) = 0xa563ca6047b9178e0a2d4ee0299d3e9edb98870eed639d251ef21ea51d6d1794
PREDICATE_TYPEHASH: constant(bytes32) = 0x0294f25a16f4c103f0fdbc81eeda91cda27d840512cff113bd72c4939b8fe685
REQUIREMENTS_TYPEHASH: constant(bytes32) = 0xa4be3f5638620534f7fc09e92fb30a7009441f99acfdf16a3f069fb49d206a7a
PROOF_REQUEST_TYPEHASH: constant(bytes32) = 0x9fcf2e0179af2440b5f4e7adff50bb887832a78929465dcca0d29c2a83b93054
LOCK_REQUEST_TYPEHASH: constant(bytes32) = 0xeb756ecd7e3c2632f03bbcb889b1f6e26ded05d12ef7600d7ef815d390eb6453
DOMAIN_NAME_HASH: constant(bytes32) = keccak256("ProofMarket")
DOMAIN_VERSION_HASH: constant(bytes32) = keccak256("1")

SECP256K1N_HALF: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
VERIFY_INTEGRITY: constant(bytes4) = method_id("verifyIntegrity((bytes,bytes32))", output_type=bytes4)
HANDLE_PROOF: constant(bytes4) = method_id("handleProof(bytes32,bytes,bytes)", output_type=bytes4)

PREDICATE_DIGEST_MATCH: constant(uint8) = 0
PREDICATE_PREFIX_MATCH: constant(uint8) = 1
PREDICATE_CLAIM_DIGEST_MATCH: constant(uint8) = 2
FULFILLMENT_DATA_NONE: constant(uint8) = 0
FULFILLMENT_DATA_IMAGE_ID_AND_JOURNAL: constant(uint8) = 1

MASK96: constant(uint256) = 2**96 - 1
MASK160: constant(uint256) = 2**160 - 1
MASK40: constant(uint256) = 2**40 - 1
MASK24: constant(uint256) = 2**24 - 1

# account word: balance (wei) bits 0..95 | stake bits 96..191 | frozen bit 192 | bit 255 set
# once the account is touched, so later writes are never zero <-> non-zero (cheaper SSTOREs)
ACCOUNT_FROZEN: constant(uint256) = 1 << 192
ACCOUNT_EXISTS: constant(uint256) = 1 << 255

# lock word A: prover bits 0..159 | lockDeadline 160..199 | deadline - lockDeadline 200..223 |
# flags 224..231.  Lock word B: price 0..95 | collateral 96..191 | digest tag 192..255, or
# after a lapsed-lock fulfilment: fulfiller 0..159 | collateral 160..255.
FLAGS_SHIFT: constant(uint256) = 224
LOCKED: constant(uint256) = 1 << 224
FULFILLED: constant(uint256) = 2 << 224
PAID_DURING_LOCK: constant(uint256) = 4 << 224
PAID_AFTER_LOCK: constant(uint256) = 8 << 224
SLASHED: constant(uint256) = 16 << 224

# ---------------------------------------------------------------- state

VERIFIER: public(immutable(address))
COLLATERAL_TOKEN_CONTRACT: public(immutable(address))
_CACHED_CHAIN_ID: immutable(uint256)
_CACHED_DOMAIN_SEPARATOR: immutable(bytes32)

owner: public(address)
accounts: HashMap[address, uint256]
lockA: HashMap[uint256, uint256]
lockB: HashMap[uint256, uint256]


@deploy
def __init__(verifier: address, collateralToken: address, owner: address):
    assert verifier != empty(address), "InvalidVerifier"
    assert collateralToken != empty(address), "InvalidCollateralToken"
    assert owner != empty(address), "InvalidInitialOwner"
    VERIFIER = verifier
    COLLATERAL_TOKEN_CONTRACT = collateralToken
    _CACHED_CHAIN_ID = chain.id
    _CACHED_DOMAIN_SEPARATOR = self._build_domain_separator()
    self.owner = owner
    log OwnershipTransferred(previousOwner=empty(address), newOwner=owner)


# ================================================================ requests


@payable
@external
def submitRequest(request: ProofRequest, clientSignature: Bytes[65]):
    """Broadcast a request on chain (the order stream is the off-chain alternative)."""
    if msg.value > 0:
        self._credit_balance(msg.sender, msg.value)
        log Deposit(account=msg.sender, value=msg.value)
    log RequestSubmitted(requestId=request.id, request=request, clientSignature=clientSignature)


@external
def lockRequest(request: ProofRequest, clientSignature: Bytes[65]):
    """Lock `request` for the caller at the current auction price, posting its collateral."""
    self._lock(request, clientSignature, b"", False)


@external
def lockRequestWithSignature(
    request: ProofRequest, clientSignature: Bytes[65], proverSignature: Bytes[65]
):
    """Lock `request` for the prover that signed the EIP-712 LockRequest (relayed lock)."""
    self._lock(request, clientSignature, proverSignature, True)


@view
@external
def priceRequest(request: ProofRequest, clientSignature: Bytes[65]) -> uint256:
    """The price an unlocked fulfilment of `request` would be paid now."""
    lock_deadline: uint256 = 0
    deadline: uint256 = 0
    lock_deadline, deadline = self._validate_request(request)
    digest: bytes32 = self._digest(self._hash_request(request))
    self._check_client_signature(request.id, digest, clientSignature)
    assert block.timestamp <= deadline, "RequestIsExpired"
    return self._price_at(request.offer, block.timestamp)


@external
def fulfill(fill: Fulfillment):
    """Deliver one proof; the caller is the prover (paid per docs/contracts.md §4.5)."""
    self._fulfill(fill)


@external
def fulfillBatch(fills: DynArray[Fulfillment, MAX_BATCH]):
    """Deliver several proofs in one transaction."""
    for i: uint256 in range(len(fills), bound=MAX_BATCH):
        self._fulfill(fills[i])


@external
def submitRootAndFulfillBatch(
    setVerifier: address,
    root: bytes32,
    rootSeal: Bytes[MAX_SEAL],
    fills: DynArray[Fulfillment, MAX_BATCH],
):
    """Vouch for a batch's Merkle root in the set verifier, then deliver the batch."""
    extcall IRiscZeroSetVerifier(setVerifier).submitMerkleRoot(root, rootSeal)
    for i: uint256 in range(len(fills), bound=MAX_BATCH):
        self._fulfill(fills[i])


@external
def slash(requestId: uint256):
    """Settle a lock that was not fulfilled in time, once its request fully expired."""
    a: uint256 = self.lockA[requestId]
    assert a & LOCKED != 0, "RequestIsNotLocked"
    assert a & SLASHED == 0, "RequestIsSlashed"
    assert a & PAID_DURING_LOCK == 0, "RequestIsFulfilled"
    lock_deadline: uint256 = (a >> 160) & MASK40
    deadline: uint256 = lock_deadline + ((a >> 200) & MASK24)
    assert block.timestamp > deadline, "RequestIsNotExpired"

    b: uint256 = self.lockB[requestId]
    collateral: uint256 = 0
    recipient: address = self
    if a & PAID_AFTER_LOCK != 0:
        recipient = convert(convert(b & MASK160, uint160), address)
        collateral = b >> 160
    else:
        collateral = (b >> 96) & MASK96
        price: uint256 = b & MASK96
        if price > 0:
            self._credit_balance(self._client_of(requestId), price)

    burn: uint256 = collateral * SLASHING_BURN_BPS // 10000
    transferred: uint256 = collateral - burn
    self._credit_stake(recipient, transferred)
    self.lockA[requestId] = a | SLASHED
    self.lockB[requestId] = 0

    locker: address = convert(convert(a & MASK160, uint160), address)
    self.accounts[locker] = self.accounts[locker] | ACCOUNT_FROZEN | ACCOUNT_EXISTS
    if burn > 0:
        self._token_transfer(BURN_ADDRESS, burn)
    log ProverSlashed(
        requestId=requestId,
        collateralBurned=burn,
        collateralTransferred=transferred,
        collateralRecipient=recipient,
    )
    log ProverFrozen(account=locker, requestId=requestId)


@external
def unfreezeAccount():
    """Clear the caller's frozen flag (set when one of its locks was slashed)."""
    word: uint256 = self.accounts[msg.sender]
    if word & ACCOUNT_FROZEN != 0:
        self.accounts[msg.sender] = word ^ ACCOUNT_FROZEN
        log ProverUnfrozen(account=msg.sender)


# ================================================================ funds


@payable
@external
def deposit():
    self._credit_balance(msg.sender, msg.value)
    log Deposit(account=msg.sender, value=msg.value)


@external
def withdraw(amount: uint256):
    self._debit_balance(msg.sender, amount)
    self._send_eth(msg.sender, amount)
    log Withdrawal(account=msg.sender, value=amount)


@view
@external
def balanceOf(account: address) -> uint256:
    return self.accounts[account] & MASK96


@external
def depositStake(amount: uint256):
    """Move `amount` collateral tokens from the caller (after `approve`) into its stake."""
    ok: bool = extcall IERC20(COLLATERAL_TOKEN_CONTRACT).transferFrom(
        msg.sender, self, amount, default_return_value=True
    )
    assert ok, "TransferFailed"
    self._credit_stake(msg.sender, amount)
    log StakeDeposit(account=msg.sender, value=amount)


@external
def withdrawStake(amount: uint256):
    word: uint256 = self.accounts[msg.sender]
    assert (word >> 96) & MASK96 >= amount, "InsufficientBalance"
    self.accounts[msg.sender] = (word - (amount << 96)) | ACCOUNT_EXISTS
    self._token_transfer(msg.sender, amount)
    log StakeWithdrawal(account=msg.sender, value=amount)


@view
@external
def balanceOfStake(account: address) -> uint256:
    return (self.accounts[account] >> 96) & MASK96


@view
@external
def accountIsFrozen(account: address) -> bool:
    return self.accounts[account] & ACCOUNT_FROZEN != 0


@external
def withdrawFromTreasury(amount: uint256):
    self._only_owner()
    self._debit_balance(self, amount)
    self._send_eth(msg.sender, amount)
    log Withdrawal(account=self, value=amount)


@external
def withdrawFromCollateralTreasury(amount: uint256):
    self._only_owner()
    word: uint256 = self.accounts[self]
    assert (word >> 96) & MASK96 >= amount, "InsufficientBalance"
    self.accounts[self] = (word - (amount << 96)) | ACCOUNT_EXISTS
    self._token_transfer(msg.sender, amount)
    log StakeWithdrawal(account=self, value=amount)


@external
def transferOwnership(newOwner: address):
    self._only_owner()
    assert newOwner != empty(address), "InvalidInitialOwner"
    log OwnershipTransferred(previousOwner=self.owner, newOwner=newOwner)
    self.owner = newOwner


# ================================================================ views


@view
@external
def requestIsLocked(requestId: uint256) -> bool:
    return self.lockA[requestId] & LOCKED != 0


@view
@external
def requestIsFulfilled(requestId: uint256) -> bool:
    return self.lockA[requestId] & FULFILLED != 0


@view
@external
def requestIsSlashed(requestId: uint256) -> bool:
    return self.lockA[requestId] & SLASHED != 0


@view
@external
def requestLockDeadline(requestId: uint256) -> uint64:
    a: uint256 = self.lockA[requestId]
    assert a & LOCKED != 0, "RequestIsNotLocked"
    return convert((a >> 160) & MASK40, uint64)


@view
@external
def requestDeadline(requestId: uint256) -> uint64:
    a: uint256 = self.lockA[requestId]
    assert a & LOCKED != 0, "RequestIsNotLocked"
    return convert(((a >> 160) & MASK40) + ((a >> 200) & MASK24), uint64)


@view
@external
def requestLock(requestId: uint256) -> RequestLock:
    a: uint256 = self.lockA[requestId]
    b: uint256 = self.lockB[requestId]
    result: RequestLock = empty(RequestLock)
    if a == 0:
        return result
    lock_deadline: uint256 = (a >> 160) & MASK40
    result.prover = convert(convert(a & MASK160, uint160), address)
    result.lockDeadline = convert(lock_deadline, uint64)
    result.deadline = convert(lock_deadline + ((a >> 200) & MASK24), uint64)
    result.flags = convert(a >> FLAGS_SHIFT, uint8)
    if a & PAID_AFTER_LOCK != 0:
        result.fulfiller = convert(convert(b & MASK160, uint160), address)
        result.collateral = b >> 160
    else:
        result.price = b & MASK96
        result.collateral = (b >> 96) & MASK96
        result.requestDigestTag = convert(convert((b >> 192) << 192, bytes32), bytes8)
    return result


@view
@external
def requestDigest(request: ProofRequest) -> bytes32:
    return self._digest(self._hash_request(request))


@view
@external
def eip712DomainSeparator() -> bytes32:
    return self._domain_separator()


@pure
@external
def priceAt(offer: Offer, timestamp: uint64) -> uint256:
    return self._price_at(offer, convert(timestamp, uint256))


@pure
@external
def timeAtPrice(offer: Offer, price: uint256) -> uint64:
    assert price <= offer.maxPrice, "InvalidRequest"
    if price <= offer.minPrice:
        return 0
    numerator: uint256 = (price - offer.minPrice) * convert(offer.rampUpPeriod, uint256)
    denominator: uint256 = offer.maxPrice - offer.minPrice
    delta: uint256 = 0
    if numerator != 0:
        delta = (numerator - 1) // denominator + 1
    return convert(convert(offer.rampUpStart, uint256) + delta, uint64)


# ================================================================ internals: lock / fulfil


@internal
def _lock(
    request: ProofRequest, client_sig: Bytes[65], prover_sig: Bytes[65], by_signature: bool
):
    request_id: uint256 = request.id
    lock_deadline: uint256 = 0
    deadline: uint256 = 0
    lock_deadline, deadline = self._validate(
        request_id,
        request.offer,
        request.input.inputType,
        request.requirements.predicate.predicateType,
        len(request.requirements.predicate.data),
    )
    struct_hash: bytes32 = self._struct_hash(
        request_id,
        request.requirements.callback,
        request.requirements.predicate.predicateType,
        keccak256(request.requirements.predicate.data),
        request.requirements.selector,
        keccak256(request.imageUrl),
        request.input.inputType,
        keccak256(request.input.data),
        request.offer,
    )
    digest: bytes32 = self._digest(struct_hash)
    client: address = self._check_client_signature(request_id, digest, client_sig)
    prover: address = msg.sender
    if by_signature:
        prover = self._recover(
            self._digest(keccak256(abi_encode(LOCK_REQUEST_TYPEHASH, struct_hash))), prover_sig
        )

    a: uint256 = self.lockA[request_id]
    assert a & LOCKED == 0, "RequestIsLocked"
    assert a & FULFILLED == 0, "RequestIsFulfilled"
    assert block.timestamp <= lock_deadline, "RequestLockIsExpired"
    assert self.accounts[prover] & ACCOUNT_FROZEN == 0, "AccountFrozen"

    price: uint256 = self._price_at(request.offer, block.timestamp)
    collateral: uint256 = request.offer.lockCollateral
    client_word: uint256 = self.accounts[client]
    assert client_word & MASK96 >= price, "InsufficientBalance"
    self.accounts[client] = (client_word - price) | ACCOUNT_EXISTS
    prover_word: uint256 = self.accounts[prover]
    assert (prover_word >> 96) & MASK96 >= collateral, "InsufficientBalance"
    self.accounts[prover] = (prover_word - (collateral << 96)) | ACCOUNT_EXISTS

    self.lockA[request_id] = (
        convert(prover, uint256)
        | (lock_deadline << 160)
        | ((deadline - lock_deadline) << 200)
        | LOCKED
    )
    self.lockB[request_id] = price | (collateral << 96) | ((convert(digest, uint256) >> 192) << 192)
    log RequestLocked(
        requestId=request_id, prover=prover, requestDigest=digest, price=price, collateral=collateral
    )


@internal
def _fulfill(fill: Fulfillment):
    request_id: uint256 = fill.request.id
    ptype: uint8 = fill.request.requirements.predicate.predicateType
    lock_deadline: uint256 = 0
    deadline: uint256 = 0
    lock_deadline, deadline = self._validate(
        request_id,
        fill.request.offer,
        fill.request.input.inputType,
        ptype,
        len(fill.request.requirements.predicate.data),
    )
    callback: Callback = fill.request.requirements.callback
    selector: bytes4 = fill.request.requirements.selector
    digest: bytes32 = self._digest(
        self._struct_hash(
            request_id,
            callback,
            ptype,
            keccak256(fill.request.requirements.predicate.data),
            selector,
            keccak256(fill.request.imageUrl),
            fill.request.input.inputType,
            keccak256(fill.request.input.data),
            fill.request.offer,
        )
    )
    client: address = self._check_client_signature(request_id, digest, fill.clientSignature)

    if selector != empty(bytes4):
        assert len(fill.seal) >= 4, "SelectorMismatch"
        assert convert(slice(fill.seal, 0, 4), bytes4) == selector, "SelectorMismatch"
    data_type: uint8 = fill.fulfillmentDataType
    assert data_type <= FULFILLMENT_DATA_IMAGE_ID_AND_JOURNAL, "InvalidFulfillment"
    has_journal: bool = data_type == FULFILLMENT_DATA_IMAGE_ID_AND_JOURNAL
    if callback.addr != empty(address):
        assert has_journal, "UnfulfillableCallback"

    # predicate, checked on chain; yields the claim digest the seal must prove
    journal_digest: bytes32 = empty(bytes32)
    if has_journal:
        journal_digest = sha256(fill.journal)
    claim_digest: bytes32 = empty(bytes32)
    if ptype == PREDICATE_DIGEST_MATCH:
        want_image: bytes32 = extract32(fill.request.requirements.predicate.data, 0)
        want_journal: bytes32 = extract32(fill.request.requirements.predicate.data, 32)
        if has_journal:
            assert fill.imageId == want_image, "PredicateNotSatisfied"
            assert journal_digest == want_journal, "PredicateNotSatisfied"
        claim_digest = receipt_claim.ok_digest(want_image, want_journal)
    elif ptype == PREDICATE_PREFIX_MATCH:
        assert has_journal, "PredicateNotSatisfied"
        assert fill.imageId == extract32(fill.request.requirements.predicate.data, 0), "PredicateNotSatisfied"
        prefix_len: uint256 = len(fill.request.requirements.predicate.data) - 32
        assert len(fill.journal) >= prefix_len, "PredicateNotSatisfied"
        if prefix_len > 0:
            assert keccak256(slice(fill.journal, 0, prefix_len)) == keccak256(
                slice(fill.request.requirements.predicate.data, 32, prefix_len)
            ), "PredicateNotSatisfied"
        claim_digest = receipt_claim.ok_digest(fill.imageId, journal_digest)
    else:
        claim_digest = extract32(fill.request.requirements.predicate.data, 0)
        if has_journal:
            assert receipt_claim.ok_digest(fill.imageId, journal_digest) == claim_digest, "PredicateNotSatisfied"

    # The router (and the verifier it picks) revert with their reason on a bad seal.
    raw_call(
        VERIFIER,
        abi_encode(
            IRiscZeroVerifier.Receipt(seal=fill.seal, claimDigest=claim_digest),
            method_id=VERIFY_INTEGRITY,
        ),
        is_static_call=True,
    )

    if not self._settle(request_id, client, digest, lock_deadline, deadline, fill.request.offer):
        return
    log ProofDelivered(
        requestId=request_id,
        prover=msg.sender,
        requestDigest=digest,
        imageId=fill.imageId,
        journal=fill.journal,
        seal=fill.seal,
    )
    if callback.addr != empty(address):
        gas_limit: uint256 = convert(callback.gasLimit, uint256)
        assert msg.gas * 63 // 64 >= gas_limit, "InsufficientGas"
        success: bool = False
        response: Bytes[MAX_CALLBACK_ERROR] = b""
        success, response = raw_call(
            callback.addr,
            abi_encode(fill.imageId, fill.journal, fill.seal, method_id=HANDLE_PROOF),
            max_outsize=MAX_CALLBACK_ERROR,
            gas=gas_limit,
            revert_on_failure=False,
        )
        if not success:
            log CallbackFailed(requestId=request_id, callback=callback.addr, error=response)


@internal
def _settle(
    request_id: uint256,
    client: address,
    digest: bytes32,
    request_lock_deadline: uint256,
    request_deadline: uint256,
    offer: Offer,
) -> bool:
    """Apply the payment path; False when the request expired (nothing delivered)."""
    now: uint256 = block.timestamp
    prover: address = msg.sender
    a: uint256 = self.lockA[request_id]
    reason: String[32] = ""

    if a & LOCKED != 0:
        lock_deadline: uint256 = (a >> 160) & MASK40
        if now > lock_deadline + ((a >> 200) & MASK24):
            log PaymentRequirementsFailed(requestId=request_id, reason="RequestIsExpired")
            return False
        b: uint256 = self.lockB[request_id]
        tag_matches: bool = (b >> 192) == (convert(digest, uint256) >> 192)
        if now <= lock_deadline:
            if a & PAID_DURING_LOCK != 0:
                reason = "RequestIsFulfilled"
            elif not tag_matches or convert(a & MASK160, uint160) != convert(prover, uint160):
                reason = "RequestIsLocked"
            else:
                # locker paid in time: price + collateral back
                word: uint256 = self.accounts[prover]
                new_balance: uint256 = (word & MASK96) + (b & MASK96)
                new_stake: uint256 = ((word >> 96) & MASK96) + ((b >> 96) & MASK96)
                assert new_balance <= MASK96 and new_stake <= MASK96, "BalanceExceedsLimit"
                self.accounts[prover] = (
                    (word & ~(MASK96 | (MASK96 << 96))) | new_balance | (new_stake << 96) | ACCOUNT_EXISTS
                )
                self.lockB[request_id] = 0
                a = a | PAID_DURING_LOCK
        elif a & (PAID_DURING_LOCK | PAID_AFTER_LOCK) != 0:
            reason = "RequestIsFulfilled"
        elif not tag_matches:
            reason = "RequestIsLocked"
        else:
            # lock lapsed: the client pays nothing (price after lockDeadline is 0) and is
            # refunded now; the fulfiller earns part of the collateral at slash()
            price: uint256 = b & MASK96
            if price > 0:
                self._credit_balance(client, price)
            self.lockB[request_id] = convert(prover, uint256) | (((b >> 96) & MASK96) << 160)
            a = a | PAID_AFTER_LOCK
    else:
        if now > request_deadline:
            log PaymentRequirementsFailed(requestId=request_id, reason="RequestIsExpired")
            return False
        if a & FULFILLED != 0:
            reason = "RequestIsFulfilled"
        else:
            price: uint256 = self._price_at(offer, now)
            client_word: uint256 = self.accounts[client]
            if client_word & MASK96 < price:
                reason = "InsufficientBalance"
            elif price > 0:
                self.accounts[client] = (client_word - price) | ACCOUNT_EXISTS
                self._credit_balance(prover, price)

    if a & FULFILLED == 0:
        a = a | FULFILLED
        log RequestFulfilled(requestId=request_id, prover=prover, requestDigest=digest)
    self.lockA[request_id] = a
    if len(reason) > 0:
        log PaymentRequirementsFailed(requestId=request_id, reason=reason)
    return True


# ================================================================ internals: validation, hashing


@internal
@pure
def _validate_request(request: ProofRequest) -> (uint256, uint256):
    return self._validate(
        request.id,
        request.offer,
        request.input.inputType,
        request.requirements.predicate.predicateType,
        len(request.requirements.predicate.data),
    )


@internal
@pure
def _validate(
    request_id: uint256, offer: Offer, input_type: uint8, ptype: uint8, plen: uint256
) -> (uint256, uint256):
    """Reject malformed requests; return (lockDeadline, deadline)."""
    assert request_id >> 192 == 0, "InvalidRequest"
    assert offer.minPrice <= offer.maxPrice, "InvalidRequest"
    assert offer.rampUpPeriod <= offer.lockTimeout, "InvalidRequest"
    assert offer.lockTimeout <= offer.timeout, "InvalidRequest"
    assert convert(offer.timeout - offer.lockTimeout, uint256) <= MASK24, "InvalidRequest"
    start: uint256 = convert(offer.rampUpStart, uint256)
    deadline: uint256 = start + convert(offer.timeout, uint256)
    assert deadline <= MASK40, "InvalidRequest"
    assert input_type <= 1, "InvalidRequest"
    if ptype == PREDICATE_DIGEST_MATCH:
        assert plen == 64, "InvalidRequest"
    elif ptype == PREDICATE_PREFIX_MATCH:
        assert plen >= 32, "InvalidRequest"
    else:
        assert ptype == PREDICATE_CLAIM_DIGEST_MATCH and plen == 32, "InvalidRequest"
    return start + convert(offer.lockTimeout, uint256), deadline


@internal
@pure
def _price_at(offer: Offer, t: uint256) -> uint256:
    start: uint256 = convert(offer.rampUpStart, uint256)
    if t <= start:
        return offer.minPrice
    if t > start + convert(offer.lockTimeout, uint256):
        return 0
    ramp: uint256 = convert(offer.rampUpPeriod, uint256)
    if t <= start + ramp:
        return offer.minPrice + (t - start) * (offer.maxPrice - offer.minPrice) // ramp
    return offer.maxPrice


@internal
@pure
def _hash_request(request: ProofRequest) -> bytes32:
    """EIP-712 hashStruct(ProofRequest)."""
    return self._struct_hash(
        request.id,
        request.requirements.callback,
        request.requirements.predicate.predicateType,
        keccak256(request.requirements.predicate.data),
        request.requirements.selector,
        keccak256(request.imageUrl),
        request.input.inputType,
        keccak256(request.input.data),
        request.offer,
    )


@internal
@pure
def _struct_hash(
    request_id: uint256,
    callback: Callback,
    ptype: uint8,
    pdata_hash: bytes32,
    selector: bytes4,
    url_hash: bytes32,
    input_type: uint8,
    input_hash: bytes32,
    o: Offer,
) -> bytes32:
    """hashStruct(ProofRequest) from its fields, with the dynamic ones already hashed."""
    callback_hash: bytes32 = keccak256(abi_encode(CALLBACK_TYPEHASH, callback.addr, callback.gasLimit))
    predicate_hash: bytes32 = keccak256(abi_encode(PREDICATE_TYPEHASH, ptype, pdata_hash))
    requirements_hash: bytes32 = keccak256(
        abi_encode(REQUIREMENTS_TYPEHASH, callback_hash, predicate_hash, selector)
    )
    input_struct_hash: bytes32 = keccak256(abi_encode(INPUT_TYPEHASH, input_type, input_hash))
    offer_hash: bytes32 = keccak256(
        abi_encode(
            OFFER_TYPEHASH,
            o.minPrice,
            o.maxPrice,
            o.rampUpStart,
            o.rampUpPeriod,
            o.lockTimeout,
            o.timeout,
            o.lockCollateral,
        )
    )
    return keccak256(
        abi_encode(
            PROOF_REQUEST_TYPEHASH, request_id, requirements_hash, url_hash, input_struct_hash, offer_hash
        )
    )


@internal
@view
def _digest(struct_hash: bytes32) -> bytes32:
    return keccak256(concat(b"\x19\x01", self._domain_separator(), struct_hash))


@internal
@view
def _domain_separator() -> bytes32:
    if chain.id == _CACHED_CHAIN_ID:
        return _CACHED_DOMAIN_SEPARATOR
    return self._build_domain_separator()


@internal
@view
def _build_domain_separator() -> bytes32:
    return keccak256(
        abi_encode(EIP712_DOMAIN_TYPEHASH, DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH, chain.id, self)
    )


@internal
@pure
def _client_of(request_id: uint256) -> address:
    return convert(convert((request_id >> 32) & MASK160, uint160), address)


@internal
@pure
def _check_client_signature(request_id: uint256, digest: bytes32, sig: Bytes[65]) -> address:
    client: address = self._client_of(request_id)
    assert self._recover(digest, sig) == client, "InvalidSignature"
    return client


@internal
@pure
def _recover(digest: bytes32, sig: Bytes[65]) -> address:
    """ecrecover of a 65-byte r||s||v signature, rejecting malleable (high-s) forms."""
    assert len(sig) == 65, "InvalidSignature"
    r: uint256 = convert(extract32(sig, 0), uint256)
    s: uint256 = convert(extract32(sig, 32), uint256)
    v: uint256 = convert(slice(sig, 64, 1), uint256)
    assert s <= SECP256K1N_HALF, "InvalidSignature"
    assert v == 27 or v == 28, "InvalidSignature"
    signer: address = ecrecover(digest, v, r, s)
    assert signer != empty(address), "InvalidSignature"
    return signer


# ================================================================ internals: accounts


@internal
def _credit_balance(account: address, amount: uint256):
    word: uint256 = self.accounts[account]
    new_balance: uint256 = (word & MASK96) + amount
    assert new_balance <= MASK96, "BalanceExceedsLimit"
    self.accounts[account] = (word & ~MASK96) | new_balance | ACCOUNT_EXISTS


@internal
def _debit_balance(account: address, amount: uint256):
    word: uint256 = self.accounts[account]
    assert word & MASK96 >= amount, "InsufficientBalance"
    self.accounts[account] = (word - amount) | ACCOUNT_EXISTS


@internal
def _credit_stake(account: address, amount: uint256):
    word: uint256 = self.accounts[account]
    new_stake: uint256 = ((word >> 96) & MASK96) + amount
    assert new_stake <= MASK96, "BalanceExceedsLimit"
    self.accounts[account] = (word & ~(MASK96 << 96)) | (new_stake << 96) | ACCOUNT_EXISTS


@internal
def _send_eth(receiver: address, amount: uint256):
    success: bool = raw_call(receiver, b"", value=amount, revert_on_failure=False)
    assert success, "TransferFailed"


@internal
def _token_transfer(receiver: address, amount: uint256):
    ok: bool = extcall IERC20(COLLATERAL_TOKEN_CONTRACT).transfer(
        receiver, amount, default_return_value=True
    )
    assert ok, "TransferFailed"


@view
@internal
def _only_owner():
    assert msg.sender == self.owner, "NotOwner"
