# pragma version ~=0.4.3
# pragma optimize gas
"""
@title HitPoints (HP) -- non-transferable collateral token
@notice ERC-20 that only moves to or from an address holding the authorised-transfer role
        (the market), so provers can post and withdraw collateral but cannot trade it.
        Minting needs the minter role; balances are capped at 2**96 - 1 so they fit the
        market's packed uint96 accounts. EIP-2612 `permit` lets a prover deposit collateral
        without a separate approve transaction; ownership moves in two steps.
"""
from ethereum.ercs import IERC20

implements: IERC20

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event RoleChanged:
    role: indexed(String[32])
    account: indexed(address)
    granted: bool

event OwnershipTransferStarted:
    previousOwner: indexed(address)
    newOwner: indexed(address)

event OwnershipTransferred:
    previousOwner: indexed(address)
    newOwner: indexed(address)

MAX_BALANCE: constant(uint256) = 2**96 - 1
SECP256K1N_HALF: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
PERMIT_TYPEHASH: constant(bytes32) = keccak256(
    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
)
DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)

name: public(constant(String[9])) = "HitPoints"
symbol: public(constant(String[2])) = "HP"
decimals: public(constant(uint8)) = 18

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)
owner: public(address)
pendingOwner: public(address)
nonces: public(HashMap[address, uint256])
isMinter: public(HashMap[address, bool])
isAuthorizedTransfer: public(HashMap[address, bool])
# an authorised-transfer role made permanent can no longer be revoked (the market's: else the
# owner could freeze every prover's stake by revoking it)
isPermanentTransfer: public(HashMap[address, bool])


@deploy
def __init__(owner: address):
    assert owner != empty(address), "InvalidOwner"
    self.owner = owner
    log OwnershipTransferred(previousOwner=empty(address), newOwner=owner)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[sender][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "InsufficientAllowance"
        self.allowance[sender][msg.sender] = allowed - amount
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def mint(account: address, amount: uint256):
    assert self.isMinter[msg.sender], "NotMinter"
    assert account != empty(address), "InvalidReceiver"
    new_balance: uint256 = self.balanceOf[account] + amount
    assert new_balance <= MAX_BALANCE, "BalanceExceedsLimit"
    self.balanceOf[account] = new_balance
    self.totalSupply += amount
    log Transfer(sender=empty(address), receiver=account, value=amount)


@external
def grantMinterRole(account: address):
    self._only_owner()
    self.isMinter[account] = True
    log RoleChanged(role="MINTER", account=account, granted=True)


@external
def revokeMinterRole(account: address):
    self._only_owner()
    self.isMinter[account] = False
    log RoleChanged(role="MINTER", account=account, granted=False)


@external
def grantAuthorizedTransferRole(account: address):
    self._only_owner()
    self.isAuthorizedTransfer[account] = True
    log RoleChanged(role="AUTHORIZED_TRANSFER", account=account, granted=True)


@external
def makeTransferRolePermanent(account: address):
    """Make `account`'s authorised-transfer role irrevocable (done for the market)."""
    self._only_owner()
    assert self.isAuthorizedTransfer[account], "NotAuthorized"
    self.isPermanentTransfer[account] = True
    log RoleChanged(role="PERMANENT_TRANSFER", account=account, granted=True)


@external
def revokeAuthorizedTransferRole(account: address):
    self._only_owner()
    assert not self.isPermanentTransfer[account], "RolePermanent"
    self.isAuthorizedTransfer[account] = False
    log RoleChanged(role="AUTHORIZED_TRANSFER", account=account, granted=False)


@external
def transferOwnership(newOwner: address):
    """Start a two-step transfer: `newOwner` must call `acceptOwnership`."""
    self._only_owner()
    self.pendingOwner = newOwner
    log OwnershipTransferStarted(previousOwner=self.owner, newOwner=newOwner)


@external
def acceptOwnership():
    assert msg.sender == self.pendingOwner and msg.sender != empty(address), "NotPendingOwner"
    log OwnershipTransferred(previousOwner=self.owner, newOwner=msg.sender)
    self.owner = msg.sender
    self.pendingOwner = empty(address)


@external
def permit(
    owner: address, spender: address, amount: uint256, deadline: uint256, v: uint8, r: bytes32, s: bytes32
):
    """EIP-2612: set an allowance from `owner`'s signature (deposits without an approve tx)."""
    assert block.timestamp <= deadline, "PermitExpired"
    assert convert(s, uint256) <= SECP256K1N_HALF and (v == 27 or v == 28), "InvalidSignature"
    nonce: uint256 = self.nonces[owner]
    digest: bytes32 = keccak256(
        concat(
            b"\x19\x01",
            self._domain_separator(),
            keccak256(abi_encode(PERMIT_TYPEHASH, owner, spender, amount, nonce, deadline)),
        )
    )
    signer: address = ecrecover(digest, v, r, s)
    assert signer != empty(address) and signer == owner, "InvalidSignature"
    self.nonces[owner] = nonce + 1
    self.allowance[owner][spender] = amount
    log Approval(owner=owner, spender=spender, value=amount)


@view
@external
def DOMAIN_SEPARATOR() -> bytes32:
    return self._domain_separator()


@view
@internal
def _domain_separator() -> bytes32:
    return keccak256(
        abi_encode(DOMAIN_TYPEHASH, keccak256("HitPoints"), keccak256("1"), chain.id, self)
    )


@view
@internal
def _only_owner():
    assert msg.sender == self.owner, "NotOwner"


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "InvalidReceiver"
    assert self.isAuthorizedTransfer[sender] or self.isAuthorizedTransfer[receiver], "UnauthorizedTransfer"
    balance: uint256 = self.balanceOf[sender]
    assert balance >= amount, "InsufficientBalance"
    self.balanceOf[sender] = balance - amount
    new_balance: uint256 = self.balanceOf[receiver] + amount
    assert new_balance <= MAX_BALANCE, "BalanceExceedsLimit"
    self.balanceOf[receiver] = new_balance
    log Transfer(sender=sender, receiver=receiver, value=amount)
