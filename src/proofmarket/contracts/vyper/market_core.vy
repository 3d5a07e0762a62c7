# pragma version ~=0.4.3
"""
@title market_core
@notice Types, events, storage and shared internals of the market. Both `ProofMarket`
        (locks, commits, fulfilment, views) and `ProofMarketExtension` (funds, admin,
        slash, broadcast; reached by DELEGATECALL from the market's fallback) initialise
        this module and declare no storage of their own, so they share one layout.
@dev    Storage is packed by hand (Vyper does not pack): one word per account, two per lock.
        Revert reasons are the Boundless error names (docs/contracts.md).
"""
from ethereum.ercs import IERC20
from interfaces import IRiscZeroVerifier
import receipt_claim

# ---------------------------------------------------------------- limits

# Vyper lays out memory by maximum sizes, and EVM memory costs grow quadratically, so these
# bounds are kept modest: larger inputs go by URL (InputType.Url).
MAX_IMAGE_URL: constant(uint256) = 256
MAX_PREDICATE_DATA: constant(uint256) = 256
MAX_INPUT_DATA: constant(uint256) = 2048
MAX_JOURNAL: constant(uint256) = 2048
MAX_SEAL: constant(uint256) = 1024
# fulfillBatch takes up to MAX_BATCH fills, decoded one at a time from padded calldata
# (ProofMarket.__default__); the typed batch entry points take up to MAX_TYPED_BATCH, because
# Vyper copies a typed array argument to memory at its maximum size (6.7 KB per fill).
MAX_BATCH: constant(uint256) = 256
MAX_TYPED_BATCH: constant(uint256) = 32
FILL_ENCODING_MAX: constant(uint256) = 6720  # ABI size bound of one Fulfillment
MAX_CALLBACK_ERROR: constant(uint256) = 256
# A callback needs gasleft() * 63 / 64 >= gasLimit inside a transaction that also verifies and
# settles, so a limit near the block gas limit could never be supplied: refused at submit/lock.
MAX_CALLBACK_GAS: constant(uint256) = 10_000_000
ERC1271_MAX_GAS: constant(uint256) = 100_000
# handleProof(bytes32,bytes,bytes) calldata bound, and the gas the CALL costs the caller
# (cold account 2600, memory, stack) on top of what the callee receives
CALLBACK_PAYLOAD_MAX: constant(uint256) = 4 + 3 * 32 + 32 + MAX_JOURNAL + 32 + MAX_SEAL
CALLBACK_CALL_OVERHEAD: constant(uint256) = 10_000

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
    client: indexed(address)
    requestDigest: bytes32
    price: uint256
    collateral: uint256
    lockDeadline: uint64
    deadline: uint64

event FulfillmentCommitted:
    commitment: indexed(bytes32)
    sender: indexed(address)

event RequestFulfilled:
    requestId: indexed(uint256)
    prover: indexed(address)
    requestDigest: bytes32

event ProofDelivered:
    requestId: indexed(uint256)
    prover: indexed(address)
    requestDigest: bytes32
    claimDigest: bytes32
    imageId: bytes32
    journal: Bytes[MAX_JOURNAL]
    seal: Bytes[MAX_SEAL]

event ProverPaid:
    requestId: indexed(uint256)
    prover: indexed(address)
    client: indexed(address)
    price: uint256
    collateralReturned: uint256

event ClientRefunded:
    requestId: indexed(uint256)
    client: indexed(address)
    amount: uint256

event PaymentRequirementsFailed:
    requestId: indexed(uint256)
    reason: String[32]

event CallbackFailed:
    requestId: indexed(uint256)
    callback: address
    error: Bytes[MAX_CALLBACK_ERROR]

event ProverSlashed:
    requestId: indexed(uint256)
    prover: indexed(address)
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

event OwnershipTransferStarted:
    previousOwner: indexed(address)
    newOwner: indexed(address)

event OwnershipTransferred:
    previousOwner: indexed(address)
    newOwner: indexed(address)

# ---------------------------------------------------------------- constants

VERSION: constant(uint256) = 2
SLASHING_BURN_BPS: constant(uint256) = 5000
BURN_ADDRESS: constant(address) = 0x000000000000000000000000000000000000dEaD

# keccak256 of the EIP-712 type strings (docs/contracts.md §3)
EIP712_DOMAIN_TYPEHASH: constant(bytes32) = 0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f
CALLBACK_TYPEHASH: constant(bytes32) = 0xc0d011520a6b2314053ae9acff853f2e68d4acc34231ca7a0f721507ec141590
INPUT_TYPEHASH: constant(bytes32) = 0x073039c66bce7413182ec91963b518ef97a9eadb8216b337c8ea3be14ac2ac10
OFFER_TYPEHASH: constant(bytes32) = 0xa563ca6047b9178e0a2d4ee0299d3e9edb98870eed639d251ef21ea51d6d1794
PREDICATE_TYPEHASH: constant(bytes32) = 0x0294f25a16f4c103f0fdbc81eeda91cda27d840512cff113bd72c4939b8fe685
REQUIREMENTS_TYPEHASH: constant(bytes32) = 0xa4be3f5638620534f7fc09e92fb30a7009441f99acfdf16a3f069fb49d206a7a
PROOF_REQUEST_TYPEHASH: constant(bytes32) = 0x9fcf2e0179af2440b5f4e7adff50bb887832a78929465dcca0d29c2a83b93054
DOMAIN_NAME_HASH: constant(bytes32) = keccak256("ProofMarket")
DOMAIN_VERSION_HASH: constant(bytes32) = keccak256("1")

SECP256K1N_HALF: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
SMART_CONTRACT_SIGNATURE_FLAG: constant(uint256) = 1 << 192
IS_VALID_SIGNATURE: constant(bytes4) = method_id("isValidSignature(bytes32,bytes)", output_type=bytes4)
LOCK_REQUEST_TYPEHASH: constant(bytes32) = 0xfb60dbf30998c88127fd74cf36f52d95e92381745a4c4322056cfd5c1c878ab0
VERIFY_INTEGRITY: constant(bytes4) = method_id("verifyIntegrity((bytes,bytes32))", output_type=bytes4)
HANDLE_PROOF: constant(bytes4) = method_id("handleProof(bytes32,bytes,bytes)", output_type=bytes4)
GET_VERIFIER: constant(bytes4) = method_id("getVerifier(bytes4)", output_type=bytes4)

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

owner: public(address)
pendingOwner: public(address)
accounts: HashMap[address, uint256]
lockA: HashMap[uint256, uint256]
lockB: HashMap[uint256, uint256]
# keccak256(abi.encode(fillDigest, prover)) -> block number of the commit (0: none)
commitments: HashMap[bytes32, uint256]
# full digest of a locked ERC-1271 request: the wallet vouched for it at lock, so a fill of
# that exact request does not ask the wallet again (a wallet that stops vouching after the
# lock cannot strand the locker and get it slashed; docs/contracts.md §2)
lockedContractDigest: HashMap[uint256, bytes32]


@deploy
def __init__(verifier: address, collateralToken: address):
    assert verifier.is_contract, "InvalidVerifier"
    assert collateralToken.is_contract, "InvalidCollateralToken"
    VERIFIER = verifier
    COLLATERAL_TOKEN_CONTRACT = collateralToken


# ---------------------------------------------------------------- validation


@internal
@pure
def _validate(
    request_id: uint256, offer: Offer, input_type: uint8, ptype: uint8, plen: uint256
) -> (uint256, uint256):
    """Reject malformed requests; return (lockDeadline, deadline)."""
    assert request_id >> 193 == 0, "InvalidRequest"
    assert offer.minPrice <= offer.maxPrice, "InvalidRequest"
    assert offer.rampUpPeriod <= offer.lockTimeout, "InvalidRequest"
    assert offer.lockTimeout <= offer.timeout, "InvalidRequest"
    assert convert(offer.timeout - offer.lockTimeout, uint256) <= MASK24, "InvalidRequest"
    start: uint256 = convert(offer.rampUpStart, uint256)
    deadline: uint256 = start + convert(offer.timeout, uint256)
    assert deadline <= MASK40, "InvalidRequest"
    assert input_type <= 1, "InvalidRequest"
    if ptype == 0:  # DigestMatch
        assert plen == 64, "InvalidRequest"
    elif ptype == 1:  # PrefixMatch
        assert plen >= 32, "InvalidRequest"
    else:
        assert ptype == 2 and plen == 32, "InvalidRequest"
    return start + convert(offer.lockTimeout, uint256), deadline


@internal
@view
def _check_fulfillable(callback: Callback, selector: bytes4):
    """Refuse what would make an honest lock impossible to fulfil (docs/contracts.md §4.4)."""
    assert convert(callback.gasLimit, uint256) <= MAX_CALLBACK_GAS, "CallbackGasLimitTooHigh"
    if selector != empty(bytes4):
        # the router reverts SelectorUnknown / SelectorRemoved; its answer must hold code
        response: Bytes[32] = raw_call(
            VERIFIER, abi_encode(selector, method_id=GET_VERIFIER), max_outsize=32, is_static_call=True
        )
        assert len(response) == 32, "SelectorUnknown"
        verifier: address = convert(convert(extract32(response, 0), uint256) & MASK160, address)
        assert verifier.is_contract, "VerifierHasNoCode"


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


# ---------------------------------------------------------------- hashing, signatures


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
    # computed per call (not cached in an immutable): the extension runs in the market's
    # context by DELEGATECALL, so only `self` at call time names the right contract
    return keccak256(
        abi_encode(EIP712_DOMAIN_TYPEHASH, DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH, chain.id, self)
    )


@internal
@pure
def _client_of(request_id: uint256) -> address:
    return convert(convert((request_id >> 32) & MASK160, uint160), address)


@internal
@view
def _check_client_signature(request_id: uint256, digest: bytes32, sig: Bytes[65]) -> address:
    """The client (`id >> 32`) must have signed: ECDSA, or ERC-1271 when bit 192 is set."""
    client: address = self._client_of(request_id)
    if request_id & SMART_CONTRACT_SIGNATURE_FLAG == 0:
        assert self._recover(digest, sig) == client, "InvalidSignature"
        return client
    # a precompile has no code yet answers: the identity precompile (0x04) echoes the call,
    # whose first four bytes are the magic value, so it would "sign" anything
    assert client.is_contract, "InvalidSignature"
    ok: bool = False
    response: Bytes[32] = b""
    ok, response = raw_call(
        client,
        abi_encode(digest, sig, method_id=IS_VALID_SIGNATURE),
        max_outsize=32,
        gas=ERC1271_MAX_GAS,
        is_static_call=True,
        revert_on_failure=False,
    )
    assert ok and len(response) == 32, "InvalidSignature"
    assert convert(slice(response, 0, 4), bytes4) == IS_VALID_SIGNATURE, "InvalidSignature"
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


# ---------------------------------------------------------------- accounts


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
def _debit_stake(account: address, amount: uint256):
    word: uint256 = self.accounts[account]
    assert (word >> 96) & MASK96 >= amount, "InsufficientBalance"
    self.accounts[account] = (word - (amount << 96)) | ACCOUNT_EXISTS


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


@internal
def _withdraw_all(account: address) -> uint256:
    """Send `account` its whole ETH balance (fulfil-and-withdraw)."""
    amount: uint256 = self.accounts[account] & MASK96
    if amount > 0:
        self._debit_balance(account, amount)
        self._send_eth(account, amount)
        log Withdrawal(account=account, value=amount)
    return amount


# ---------------------------------------------------------------- lock, commit, fulfil


@internal
def _commit(commitment: bytes32):
    # the first commit's block counts: re-committing cannot push a reveal back
    if self.commitments[commitment] == 0:
        self.commitments[commitment] = block.number
        log FulfillmentCommitted(commitment=commitment, sender=msg.sender)


@internal
def _lock(
    request: ProofRequest,
    client_sig: Bytes[65],
    prover_sig: Bytes[65],
    min_price: uint256,
    expires_at: uint64,
    by_signature: bool,
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
    self._check_fulfillable(request.requirements.callback, request.requirements.selector)
    struct_hash: bytes32 = self._hash_request(request)
    digest: bytes32 = self._digest(struct_hash)
    client: address = self._check_client_signature(request_id, digest, client_sig)
    price: uint256 = self._price_at(request.offer, block.timestamp)
    prover: address = msg.sender
    if by_signature:
        prover = self._recover(
            self._digest(keccak256(abi_encode(LOCK_REQUEST_TYPEHASH, struct_hash, min_price, expires_at))),
            prover_sig,
        )
        assert block.timestamp <= convert(expires_at, uint256), "LockSignatureExpired"
        assert price >= min_price, "LockPriceTooLow"

    a: uint256 = self.lockA[request_id]
    assert a & LOCKED == 0, "RequestIsLocked"
    assert a & FULFILLED == 0, "RequestIsFulfilled"
    assert block.timestamp <= lock_deadline, "RequestLockIsExpired"
    assert self.accounts[prover] & ACCOUNT_FROZEN == 0, "AccountFrozen"

    collateral: uint256 = request.offer.lockCollateral
    self._debit_balance(client, price)
    self._debit_stake(prover, collateral)
    self.lockA[request_id] = (
        convert(prover, uint256)
        | (lock_deadline << 160)
        | ((deadline - lock_deadline) << 200)
        | LOCKED
    )
    self.lockB[request_id] = price | (collateral << 96) | ((convert(digest, uint256) >> 192) << 192)
    if request_id & SMART_CONTRACT_SIGNATURE_FLAG != 0:
        self.lockedContractDigest[request_id] = digest
    log RequestLocked(
        requestId=request_id,
        prover=prover,
        client=client,
        requestDigest=digest,
        price=price,
        collateral=collateral,
        lockDeadline=convert(lock_deadline, uint64),
        deadline=convert(deadline, uint64),
    )


@internal
@view
def _check_fill(fill: Fulfillment) -> (bytes32, bytes32, address, uint256, uint256):
    """Signature, predicate and seal of a fill; (digest, claim, client, lockDeadline, deadline)."""
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
    selector: bytes4 = fill.request.requirements.selector
    digest: bytes32 = self._digest(
        self._struct_hash(
            request_id,
            fill.request.requirements.callback,
            ptype,
            keccak256(fill.request.requirements.predicate.data),
            selector,
            keccak256(fill.request.imageUrl),
            fill.request.input.inputType,
            keccak256(fill.request.input.data),
            fill.request.offer,
        )
    )
    client: address = self._client_of(request_id)
    if not (
        request_id & SMART_CONTRACT_SIGNATURE_FLAG != 0
        and self.lockA[request_id] & LOCKED != 0
        and self.lockedContractDigest[request_id] == digest
    ):
        self._check_client_signature(request_id, digest, fill.clientSignature)

    if selector != empty(bytes4):
        assert len(fill.seal) >= 4, "SelectorMismatch"
        assert convert(slice(fill.seal, 0, 4), bytes4) == selector, "SelectorMismatch"
    data_type: uint8 = fill.fulfillmentDataType
    assert data_type <= 1, "InvalidFulfillment"
    has_journal: bool = data_type == 1
    if not has_journal:
        # nothing unverified may ride along: no image id or journal without the data type
        assert fill.imageId == empty(bytes32) and len(fill.journal) == 0, "InvalidFulfillment"
    if fill.request.requirements.callback.addr != empty(address):
        assert has_journal, "UnfulfillableCallback"

    # predicate, checked on chain; yields the claim digest the seal must prove
    pdata: Bytes[MAX_PREDICATE_DATA] = fill.request.requirements.predicate.data
    journal_digest: bytes32 = empty(bytes32)
    if has_journal:
        journal_digest = sha256(fill.journal)
    claim_digest: bytes32 = empty(bytes32)
    if ptype == 0:  # DigestMatch
        want_image: bytes32 = extract32(pdata, 0)
        want_journal: bytes32 = extract32(pdata, 32)
        if has_journal:
            assert fill.imageId == want_image, "PredicateNotSatisfied"
            assert journal_digest == want_journal, "PredicateNotSatisfied"
        claim_digest = receipt_claim.ok_digest(want_image, want_journal)
    elif ptype == 1:  # PrefixMatch
        assert has_journal, "PredicateNotSatisfied"
        assert fill.imageId == extract32(pdata, 0), "PredicateNotSatisfied"
        prefix_len: uint256 = len(pdata) - 32
        assert len(fill.journal) >= prefix_len, "PredicateNotSatisfied"
        if prefix_len > 0:
            assert keccak256(slice(fill.journal, 0, prefix_len)) == keccak256(
                slice(pdata, 32, prefix_len)
            ), "PredicateNotSatisfied"
        claim_digest = receipt_claim.ok_digest(fill.imageId, journal_digest)
    else:  # ClaimDigestMatch
        claim_digest = extract32(pdata, 0)
        if has_journal:
            assert receipt_claim.ok_digest(fill.imageId, journal_digest) == claim_digest, "PredicateNotSatisfied"

    # the router (and the verifier it picks) revert with their reason on a bad seal; an
    # address without code would accept anything, so it is refused here too
    assert VERIFIER.is_contract, "VerifierHasNoCode"
    raw_call(
        VERIFIER,
        abi_encode(
            IRiscZeroVerifier.Receipt(seal=fill.seal, claimDigest=claim_digest),
            method_id=VERIFY_INTEGRITY,
        ),
        is_static_call=True,
    )
    return digest, claim_digest, client, lock_deadline, deadline


@internal
def _fulfill(fill: Fulfillment):
    request_id: uint256 = fill.request.id
    digest: bytes32 = empty(bytes32)
    claim: bytes32 = empty(bytes32)
    client: address = empty(address)
    lock_deadline: uint256 = 0
    deadline: uint256 = 0
    digest, claim, client, lock_deadline, deadline = self._check_fill(fill)
    commit_key: bytes32 = keccak256(
        abi_encode(keccak256(abi_encode(digest, claim, keccak256(fill.seal))), msg.sender)
    )
    if not self._settle(request_id, client, digest, commit_key, lock_deadline, deadline, fill.request.offer):
        return
    log ProofDelivered(
        requestId=request_id,
        prover=msg.sender,
        requestDigest=digest,
        claimDigest=claim,
        imageId=fill.imageId,
        journal=fill.journal,
        seal=fill.seal,
    )
    callback: Callback = fill.request.requirements.callback
    if callback.addr != empty(address):
        gas_limit: uint256 = convert(callback.gasLimit, uint256)
        # encode first, then check what is left: the CALL itself (cold account, memory) costs
        # gas before the 63/64 rule applies, so without the margin a prover could send just
        # enough gas to pass the check and starve the callback (and still be paid)
        payload: Bytes[CALLBACK_PAYLOAD_MAX] = abi_encode(
            fill.imageId, fill.journal, fill.seal, method_id=HANDLE_PROOF
        )
        left: uint256 = msg.gas
        assert left >= CALLBACK_CALL_OVERHEAD, "InsufficientGas"
        assert (left - CALLBACK_CALL_OVERHEAD) * 63 // 64 >= gas_limit, "InsufficientGas"
        success: bool = False
        response: Bytes[MAX_CALLBACK_ERROR] = b""
        success, response = raw_call(
            callback.addr,
            payload,
            max_outsize=MAX_CALLBACK_ERROR,
            gas=gas_limit,
            revert_on_failure=False,
        )
        if not success:
            log CallbackFailed(requestId=request_id, callback=callback.addr, error=response)


@internal
def _use_commitment(key: bytes32):
    committed: uint256 = self.commitments[key]
    assert committed != 0, "FulfillmentNotCommitted"
    assert committed < block.number, "CommitmentTooRecent"
    self.commitments[key] = 0


@internal
def _settle(
    request_id: uint256,
    client: address,
    digest: bytes32,
    commit_key: bytes32,
    request_lock_deadline: uint256,
    request_deadline: uint256,
    offer: Offer,
) -> bool:
    """Apply the payment path; True when the proof is to be delivered (event + callback):
    the first delivery of the request, or one that was paid."""
    now: uint256 = block.timestamp
    prover: address = msg.sender
    a: uint256 = self.lockA[request_id]
    first: bool = a & FULFILLED == 0
    paid: bool = False
    reason: String[32] = ""

    if a & LOCKED != 0:
        lock_deadline: uint256 = (a >> 160) & MASK40
        if now > lock_deadline + ((a >> 200) & MASK24):
            log PaymentRequirementsFailed(requestId=request_id, reason="RequestIsExpired")
            return False
        b: uint256 = self.lockB[request_id]
        tag_matches: bool = (b >> 192) == (convert(digest, uint256) >> 192)
        is_locker: bool = convert(a & MASK160, uint160) == convert(prover, uint160)
        if now <= lock_deadline and is_locker and tag_matches and a & PAID_DURING_LOCK == 0:
            # the locker in time, bound by the lock itself: price + collateral back
            price: uint256 = b & MASK96
            collateral: uint256 = (b >> 96) & MASK96
            self._credit_balance(prover, price)
            self._credit_stake(prover, collateral)
            self.lockB[request_id] = 0
            a = a | PAID_DURING_LOCK
            paid = True
            log ProverPaid(
                requestId=request_id, prover=prover, client=client, price=price, collateralReturned=collateral
            )
        else:
            self._use_commitment(commit_key)
            if a & (PAID_DURING_LOCK | PAID_AFTER_LOCK) != 0:
                reason = "RequestIsFulfilled"
            elif now <= lock_deadline or not tag_matches:
                reason = "RequestIsLocked"
            else:
                # lock lapsed: the client pays nothing (price after lockDeadline is 0) and is
                # refunded now; the fulfiller earns part of the collateral at slash()
                price: uint256 = b & MASK96
                if price > 0:
                    self._credit_balance(client, price)
                    log ClientRefunded(requestId=request_id, client=client, amount=price)
                self.lockB[request_id] = convert(prover, uint256) | (((b >> 96) & MASK96) << 160)
                a = a | PAID_AFTER_LOCK
                paid = True
    else:
        if now > request_deadline:
            log PaymentRequirementsFailed(requestId=request_id, reason="RequestIsExpired")
            return False
        self._use_commitment(commit_key)
        if not first:
            reason = "RequestIsFulfilled"
        else:
            price: uint256 = self._price_at(offer, now)
            if self.accounts[client] & MASK96 < price:
                reason = "InsufficientBalance"
            else:
                self._debit_balance(client, price)
                self._credit_balance(prover, price)
                paid = True
                log ProverPaid(
                    requestId=request_id, prover=prover, client=client, price=price, collateralReturned=0
                )

    if first:
        a = a | FULFILLED
        log RequestFulfilled(requestId=request_id, prover=prover, requestDigest=digest)
    self.lockA[request_id] = a
    if len(reason) > 0:
        log PaymentRequirementsFailed(requestId=request_id, reason=reason)
    return first or paid
