"""Exceptions raised by the market client and its helpers.

Contract reverts are decoded into subclasses of :class:`ContractRevert` named after the
contract's custom error (``RequestIsLocked``, ``InsufficientBalance``, ...), so callers can
``except RequestIsLocked`` instead of matching strings. Errors the contract defines but this
module does not know get the generic :class:`ContractRevert` with the decoded name.
"""

from __future__ import annotations

from typing import Any, ClassVar


class MarketError(Exception):
    """Base class of every error raised by ``proofmarket.market``."""


class InvalidRequestError(MarketError, ValueError):
    """A request, offer or predicate is malformed (checked before anything is sent)."""


class InvalidOfferError(InvalidRequestError):
    """An offer breaks one of the contract's rules (price order, timeouts, field ranges)."""


class InvalidRequestIdError(InvalidRequestError):
    """A request ID is out of range or has reserved bits set."""


class ConfigError(MarketError):
    """Missing or malformed configuration (RPC URL, private key, market address...)."""


class RpcUnavailableError(MarketError):
    """The JSON-RPC endpoint could not be reached."""


class TxTimeout(MarketError):
    """A transaction was sent but not mined within the confirmation timeout."""

    def __init__(self, tx_hash: str, timeout: float) -> None:
        super().__init__(f"transaction {tx_hash} was not confirmed within {timeout:g} s")
        self.tx_hash = tx_hash
        self.timeout = timeout


class TxReverted(MarketError):
    """A mined transaction reverted and no reason could be decoded."""

    def __init__(self, tx_hash: str, detail: str = "") -> None:
        suffix = f": {detail}" if detail else ""
        super().__init__(f"transaction {tx_hash} reverted{suffix}")
        self.tx_hash = tx_hash


class RequestNotFoundError(MarketError):
    """No event for the request was found on chain (never submitted, or outside the range)."""


class WaitTimeout(MarketError):
    """An event or status did not appear within the wait timeout."""


class ContractRevert(MarketError):
    """The market contract reverted with a custom error.

    ``name`` is the Solidity/Vyper error name, ``args`` its decoded arguments (by name).
    """

    error_name: ClassVar[str] = ""

    def __init__(self, name: str, args: dict[str, Any] | None = None, message: str = "") -> None:
        self.name = name
        self.args_by_name: dict[str, Any] = dict(args or {})
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in self.args_by_name.items())
        text = f"{name}({rendered})" if rendered else name
        if message:
            text = f"{text}: {message}"
        super().__init__(text)


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and value > 2**64:
        return hex(value)
    return str(value)


class RequestIsLocked(ContractRevert):
    """The request is already locked by a prover."""

    error_name = "RequestIsLocked"


class RequestIsNotLocked(ContractRevert):
    """The request has never been locked."""

    error_name = "RequestIsNotLocked"


class RequestIsNotLockedOrPriced(ContractRevert):
    """A fulfilment named a request that is neither locked nor priced."""

    error_name = "RequestIsNotLockedOrPriced"


class RequestIsFulfilled(ContractRevert):
    """The request is already fulfilled."""

    error_name = "RequestIsFulfilled"


class RequestIsSlashed(ContractRevert):
    """The request's prover was already slashed."""

    error_name = "RequestIsSlashed"


class RequestLockIsExpired(ContractRevert):
    """The lock deadline of the request has passed."""

    error_name = "RequestLockIsExpired"


class RequestIsExpired(ContractRevert):
    """The request's deadline has passed."""

    error_name = "RequestIsExpired"


class RequestIsNotExpired(ContractRevert):
    """The request has not expired yet (slash is only allowed after)."""

    error_name = "RequestIsNotExpired"


class InsufficientBalance(ContractRevert):
    """An account lacks the ETH or collateral the operation needs."""

    error_name = "InsufficientBalance"


class AccountFrozen(ContractRevert):
    """The prover account is frozen after a slash."""

    error_name = "AccountFrozen"


class InvalidSignature(ContractRevert):
    """A client or prover signature is invalid."""

    error_name = "InvalidSignature"


class InvalidRequest(ContractRevert):
    """The contract rejected the request or offer."""

    error_name = "InvalidRequest"


class TransferFailed(ContractRevert):
    """An ETH or token transfer failed."""

    error_name = "TransferFailed"


class SelectorMismatch(ContractRevert):
    """The seal selector differs from the request's."""

    error_name = "SelectorMismatch"


class BatchSizeExceedsLimit(ContractRevert):
    """Too many fulfilments in a batch."""

    error_name = "BatchSizeExceedsLimit"


class UnfulfillableCallback(ContractRevert):
    """A callback cannot be delivered."""

    error_name = "UnfulfillableCallback"


class InsufficientGas(ContractRevert):
    """Not enough gas left for the callback."""

    error_name = "InsufficientGas"


class PartialPayment(ContractRevert):
    """The client paid only part of the price."""

    error_name = "PartialPayment"


class VerificationFailed(ContractRevert):
    """The seal did not verify."""

    error_name = "VerificationFailed"


class PredicateNotSatisfied(ContractRevert):
    """The journal, image ID or claim digest does not meet the request's predicate."""

    error_name = "PredicateNotSatisfied"


class BalanceExceedsLimit(ContractRevert):
    """A balance would exceed 96 bits."""

    error_name = "BalanceExceedsLimit"


class SelectorUnknown(ContractRevert):
    """No verifier is registered for the seal's selector (e.g. a dev seal on production)."""

    error_name = "SelectorUnknown"


class InvalidFulfillment(ContractRevert):
    """A fulfilment's data type is unknown."""

    error_name = "InvalidFulfillment"


class NotOwner(ContractRevert):
    """An owner-only function was called by someone else."""

    error_name = "NotOwner"


class FulfillmentNotCommitted(ContractRevert):
    """A fill other than the locker's in-time one was revealed without a commitment."""

    error_name = "FulfillmentNotCommitted"


class CommitmentTooRecent(ContractRevert):
    """The fill's commitment is in the reveal's own block; reveal in a later one."""

    error_name = "CommitmentTooRecent"


class LockSignatureExpired(ContractRevert):
    """A relayed lock arrived after the expiry the prover signed."""

    error_name = "LockSignatureExpired"


class LockPriceTooLow(ContractRevert):
    """A relayed lock would lock below the minimum price the prover signed."""

    error_name = "LockPriceTooLow"


class CallbackGasLimitTooHigh(ContractRevert):
    """The request's callback gas limit could never be supplied by a fulfilment."""

    error_name = "CallbackGasLimitTooHigh"


class VerifierHasNoCode(ContractRevert):
    """A verifier address holds no code (it would accept every seal)."""

    error_name = "VerifierHasNoCode"


class NotPendingOwner(ContractRevert):
    """Only the account offered ownership can accept it."""

    error_name = "NotPendingOwner"


KNOWN_REVERTS: dict[str, type[ContractRevert]] = {
    cls.error_name: cls
    for cls in (
        RequestIsLocked,
        RequestIsNotLocked,
        RequestIsNotLockedOrPriced,
        RequestIsFulfilled,
        RequestIsSlashed,
        RequestLockIsExpired,
        RequestIsExpired,
        RequestIsNotExpired,
        InsufficientBalance,
        AccountFrozen,
        InvalidSignature,
        InvalidRequest,
        TransferFailed,
        SelectorMismatch,
        BatchSizeExceedsLimit,
        UnfulfillableCallback,
        InsufficientGas,
        PartialPayment,
        VerificationFailed,
        PredicateNotSatisfied,
        BalanceExceedsLimit,
        SelectorUnknown,
        NotOwner,
        InvalidFulfillment,
        FulfillmentNotCommitted,
        CommitmentTooRecent,
        LockSignatureExpired,
        LockPriceTooLow,
        CallbackGasLimitTooHigh,
        VerifierHasNoCode,
        NotPendingOwner,
    )
}


def revert_for(name: str, args: dict[str, Any] | None = None, message: str = "") -> ContractRevert:
    """Build the typed exception for a decoded contract error."""
    cls = KNOWN_REVERTS.get(name, ContractRevert)
    return cls(name, args, message)
