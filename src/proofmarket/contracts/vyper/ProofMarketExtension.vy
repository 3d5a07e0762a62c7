# pragma version ~=0.4.3
# pragma optimize gas
"""
@title ProofMarketExtension
@notice The market's less frequent entry points: deposits and withdrawals (ETH and
        collateral, for oneself or another account, with EIP-2612 permit), relayed locks
        (`lockRequestWithSignature`), fulfil-and-withdraw, slashing,
        unfreezing, the owner's treasury and two-step ownership, request broadcast and
        standalone root submission. Called only by DELEGATECALL from `ProofMarket`'s
        fallback, so it reads and writes the market's storage (same `market_core` layout).
        Nothing here returns a value: Vyper 0.4.3 cannot forward return data from a fallback,
        so every view lives in `ProofMarket`.
"""
from ethereum.ercs import IERC20
from interfaces import IRiscZeroSetVerifier
import market_core as core

initializes: core

exports: (core.VERIFIER, core.COLLATERAL_TOKEN_CONTRACT)

PERMIT: constant(bytes4) = method_id(
    "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", output_type=bytes4
)

# the code's own address; a direct call (not a DELEGATECALL from the market) is refused
SELF: immutable(address)


@deploy
def __init__(verifier: address, collateralToken: address):
    core.__init__(verifier, collateralToken)
    SELF = self


@internal
@view
def _delegated():
    assert self != SELF, "OnlyThroughMarket"


# ================================================================ requests


@payable
@external
def submitRequest(request: core.ProofRequest, clientSignature: Bytes[65]):
    """Broadcast a request on chain (the order stream is the off-chain alternative).

    The offer, the selector and the callback gas limit are checked, so a request no prover
    could fulfil is refused here; the signature is checked at lock and fulfil."""
    self._delegated()
    core._validate(
        request.id,
        request.offer,
        request.input.inputType,
        request.requirements.predicate.predicateType,
        len(request.requirements.predicate.data),
    )
    core._check_fulfillable(request.requirements.callback, request.requirements.selector)
    if msg.value > 0:
        core._credit_balance(msg.sender, msg.value)
        log core.Deposit(account=msg.sender, value=msg.value)
    log core.RequestSubmitted(requestId=request.id, request=request, clientSignature=clientSignature)


@external
def submitRoot(setVerifier: address, root: bytes32, rootSeal: Bytes[core.MAX_SEAL]):
    """Vouch for a batch's Merkle root in `setVerifier` without fulfilling anything."""
    self._delegated()
    assert setVerifier.is_contract, "VerifierHasNoCode"
    extcall IRiscZeroSetVerifier(setVerifier).submitMerkleRoot(root, rootSeal)


@external
def lockRequestWithSignature(
    request: core.ProofRequest,
    clientSignature: Bytes[65],
    proverSignature: Bytes[65],
    minLockPrice: uint256,
    expiresAt: uint64,
):
    """Lock for the prover that signed LockRequest(request, minLockPrice, expiresAt).

    The signature is void after `expiresAt` and never locks below `minLockPrice`, so a
    relayer cannot hold it back until the prover can no longer deliver or the price fell."""
    self._delegated()
    core._lock(request, clientSignature, proverSignature, minLockPrice, expiresAt, True)


@external
def fulfillAndWithdraw(fills: DynArray[core.Fulfillment, core.MAX_TYPED_BATCH]):
    """Deliver up to 32 proofs, then send the caller its whole ETH balance."""
    self._delegated()
    for i: uint256 in range(len(fills), bound=core.MAX_TYPED_BATCH):
        core._fulfill(fills[i])
    core._withdraw_all(msg.sender)


@external
def submitRootAndFulfillBatch(
    setVerifier: address,
    root: bytes32,
    rootSeal: Bytes[core.MAX_SEAL],
    fills: DynArray[core.Fulfillment, core.MAX_TYPED_BATCH],
):
    """Vouch for a batch's Merkle root in the set verifier, then deliver the batch (up to
    32 fills; larger batches: `submitRoot`, then `fulfillBatch`)."""
    self._delegated()
    extcall IRiscZeroSetVerifier(setVerifier).submitMerkleRoot(root, rootSeal)
    for i: uint256 in range(len(fills), bound=core.MAX_TYPED_BATCH):
        core._fulfill(fills[i])


# ================================================================ slash


@external
def slash(requestId: uint256):
    """Settle a lock that was not fulfilled in time, once its request fully expired."""
    self._delegated()
    a: uint256 = core.lockA[requestId]
    assert a & core.LOCKED != 0, "RequestIsNotLocked"
    assert a & core.SLASHED == 0, "RequestIsSlashed"
    assert a & core.PAID_DURING_LOCK == 0, "RequestIsFulfilled"
    lock_deadline: uint256 = (a >> 160) & core.MASK40
    deadline: uint256 = lock_deadline + ((a >> 200) & core.MASK24)
    assert block.timestamp > deadline, "RequestIsNotExpired"

    b: uint256 = core.lockB[requestId]
    collateral: uint256 = 0
    recipient: address = self
    if a & core.PAID_AFTER_LOCK != 0:
        recipient = convert(convert(b & core.MASK160, uint160), address)
        collateral = b >> 160
    else:
        collateral = (b >> 96) & core.MASK96
        price: uint256 = b & core.MASK96
        if price > 0:
            client: address = core._client_of(requestId)
            core._credit_balance(client, price)
            log core.ClientRefunded(requestId=requestId, client=client, amount=price)

    burn: uint256 = collateral * core.SLASHING_BURN_BPS // 10000
    transferred: uint256 = collateral - burn
    core._credit_stake(recipient, transferred)
    core.lockA[requestId] = a | core.SLASHED
    core.lockB[requestId] = 0

    locker: address = convert(convert(a & core.MASK160, uint160), address)
    core.accounts[locker] = core.accounts[locker] | core.ACCOUNT_FROZEN | core.ACCOUNT_EXISTS
    if burn > 0:
        core._token_transfer(core.BURN_ADDRESS, burn)
    log core.ProverSlashed(
        requestId=requestId,
        prover=locker,
        collateralBurned=burn,
        collateralTransferred=transferred,
        collateralRecipient=recipient,
    )
    log core.ProverFrozen(account=locker, requestId=requestId)


@external
def unfreezeAccount():
    """Clear the caller's frozen flag (set when one of its locks was slashed)."""
    self._delegated()
    word: uint256 = core.accounts[msg.sender]
    if word & core.ACCOUNT_FROZEN != 0:
        core.accounts[msg.sender] = word ^ core.ACCOUNT_FROZEN
        log core.ProverUnfrozen(account=msg.sender)


# ================================================================ funds


@payable
@external
def deposit():
    self._delegated()
    core._credit_balance(msg.sender, msg.value)
    log core.Deposit(account=msg.sender, value=msg.value)


@payable
@external
def depositTo(account: address):
    """Credit `account`'s ETH balance (e.g. a requestor funded by someone else)."""
    self._delegated()
    assert account != empty(address), "InvalidReceiver"
    core._credit_balance(account, msg.value)
    log core.Deposit(account=account, value=msg.value)


@external
def withdraw(amount: uint256):
    self._delegated()
    core._debit_balance(msg.sender, amount)
    core._send_eth(msg.sender, amount)
    log core.Withdrawal(account=msg.sender, value=amount)


@external
def depositStake(amount: uint256):
    """Move `amount` collateral tokens from the caller (after `approve`) into its stake."""
    self._delegated()
    self._pull_stake(msg.sender, msg.sender, amount)


@external
def depositCollateralTo(account: address, amount: uint256):
    """Move `amount` collateral tokens from the caller into `account`'s stake."""
    self._delegated()
    assert account != empty(address), "InvalidReceiver"
    self._pull_stake(msg.sender, account, amount)


@external
def depositStakeWithPermit(amount: uint256, deadline: uint256, v: uint8, r: bytes32, s: bytes32):
    """`depositStake` with an EIP-2612 permit instead of a prior `approve` transaction."""
    self._delegated()
    # anyone may submit a copied permit to the token first (it is public in the mempool);
    # the deposit then goes ahead on the allowance that permit already granted
    ok: bool = False
    response: Bytes[256] = b""
    ok, response = raw_call(
        core.COLLATERAL_TOKEN_CONTRACT,
        abi_encode(msg.sender, self, amount, deadline, v, r, s, method_id=PERMIT),
        max_outsize=256,
        revert_on_failure=False,
    )
    if not ok and staticcall IERC20(core.COLLATERAL_TOKEN_CONTRACT).allowance(msg.sender, self) < amount:
        raw_revert(response)
    self._pull_stake(msg.sender, msg.sender, amount)


@external
def withdrawStake(amount: uint256):
    self._delegated()
    core._debit_stake(msg.sender, amount)
    core._token_transfer(msg.sender, amount)
    log core.StakeWithdrawal(account=msg.sender, value=amount)


@internal
def _pull_stake(payer: address, account: address, amount: uint256):
    ok: bool = extcall IERC20(core.COLLATERAL_TOKEN_CONTRACT).transferFrom(
        payer, self, amount, default_return_value=True
    )
    assert ok, "TransferFailed"
    core._credit_stake(account, amount)
    log core.StakeDeposit(account=account, value=amount)


# ================================================================ owner


@external
def withdrawFromTreasury(amount: uint256):
    self._only_owner()
    core._debit_balance(self, amount)
    core._send_eth(msg.sender, amount)
    log core.Withdrawal(account=self, value=amount)


@external
def withdrawFromCollateralTreasury(amount: uint256):
    self._only_owner()
    core._debit_stake(self, amount)
    core._token_transfer(msg.sender, amount)
    log core.StakeWithdrawal(account=self, value=amount)


@external
def transferOwnership(newOwner: address):
    """Start a two-step transfer: `newOwner` must call `acceptOwnership`."""
    self._only_owner()
    core.pendingOwner = newOwner
    log core.OwnershipTransferStarted(previousOwner=core.owner, newOwner=newOwner)


@external
def acceptOwnership():
    self._delegated()
    assert msg.sender == core.pendingOwner and msg.sender != empty(address), "NotPendingOwner"
    log core.OwnershipTransferred(previousOwner=core.owner, newOwner=msg.sender)
    core.owner = msg.sender
    core.pendingOwner = empty(address)


@view
@internal
def _only_owner():
    self._delegated()
    assert msg.sender == core.owner, "NotOwner"
