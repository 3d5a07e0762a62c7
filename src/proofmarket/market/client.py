"""``MarketClient``: every call of the market contract from Python (web3.py).

Transactions are built, gas-estimated (a revert at estimation raises the typed error before
anything is sent), signed locally with the client's key, sent, and awaited for
``tx_timeout`` seconds (:class:`TxTimeout` otherwise). Nonces are tracked locally so several
transactions can be sent back to back. Views decode reverts the same way.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar, cast

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError
from web3.types import TxReceipt

from proofmarket.market import events as ev
from proofmarket.market.commit import BATCH_CALLDATA_PADDING, fill_commitment, fill_digest
from proofmarket.market.eip712 import (
    PERMIT_TYPES,
    MarketDomain,
    offer_message,
    request_digest,
    request_message,
    sign_lock_request,
    sign_request,
)
from proofmarket.market.errors import (
    ConfigError,
    ContractRevert,
    MarketError,
    RequestNotFoundError,
    RpcUnavailableError,
    TxReverted,
    TxTimeout,
    WaitTimeout,
)
from proofmarket.market.request_id import RequestId
from proofmarket.market.reverts import revert_from_exception
from proofmarket.market.types import Fulfillment, Offer, ProofRequest
from proofmarket.market.validation import validate_request

DEFAULT_TX_TIMEOUT = 45.0
"""Seconds to wait for a transaction to be mined (Boundless ``txn_timeout``)."""
GAS_MULTIPLIER = 1.25
EVENT_CHUNK_BLOCKS = 10_000

T = TypeVar("T")
E = TypeVar("E", bound=ev.MarketEvent)


class RequestStatus(StrEnum):
    """Boundless' ``RequestStatus``: what a requestor can learn from the chain."""

    UNKNOWN = "Unknown"
    LOCKED = "Locked"
    FULFILLED = "Fulfilled"
    EXPIRED = "Expired"


@dataclass(frozen=True)
class RequestLock:
    """The contract's raw lock record (``requestLock(id)``)."""

    prover: str
    price: int
    collateral: int
    lock_deadline: int
    deadline: int
    flags: int
    request_digest_tag: bytes
    fulfiller: str

    LOCKED = 1
    FULFILLED = 2
    PAID_DURING_LOCK = 4
    PAID_AFTER_LOCK = 8
    SLASHED = 16

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction and the market events it emitted."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: list[ev.MarketEvent]

    def first(self, kind: type[E]) -> E:
        for event in self.events:
            if isinstance(event, kind):
                return event
        raise MarketError(f"transaction {self.tx_hash} emitted no {kind.name} event")

    def all(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]


_UNREACHABLE_REASONS = (
    ("NameResolutionError", "host name not found"),
    ("Name or service not known", "host name not found"),
    ("Connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("Connection reset", "connection reset"),
)


def unreachable(url: str, exc: BaseException) -> RpcUnavailableError:
    """One line for a node that does not answer, without urllib3's nested text."""
    text = str(exc)
    reason = next((r for needle, r in _UNREACHABLE_REASONS if needle in text), None)
    if reason is None:
        reason = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "no answer"
    return RpcUnavailableError(f"cannot reach the RPC endpoint {url}: {reason}")


def _rpc_call(url: str, action: Callable[[], T]) -> T:
    try:
        return action()
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise unreachable(url, exc) from exc


def connect_web3(rpc_url: str, timeout: float = 30.0) -> Web3:
    """A Web3 over HTTP; raises :class:`RpcUnavailableError` when nothing answers."""
    if not rpc_url.startswith(("http://", "https://")):
        raise ConfigError(f"RPC URL must be http(s)://, got {rpc_url!r}")
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap round trip that proves the node answers
    except (requests.exceptions.RequestException, OSError) as exc:
        raise unreachable(rpc_url, exc) from exc
    except ValueError as exc:  # something answered, but not a JSON-RPC node
        message = f"{rpc_url} does not answer as an Ethereum JSON-RPC node"
        raise RpcUnavailableError(message) from exc
    return w3


def load_account(private_key: str | None) -> LocalAccount:
    """A signing account from a hex private key, with a precise error when malformed."""
    if not private_key:
        raise ConfigError("no private key: set PRIVATE_KEY or pass --private-key")
    key = private_key.strip()
    try:
        account: LocalAccount = Account.from_key(key if key.startswith("0x") else "0x" + key)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"PRIVATE_KEY is not a valid 32-byte hex private key: {exc}") from exc
    return account


class MarketClient:
    """A connection to one market deployment, optionally with a signing account."""

    def __init__(
        self,
        w3: Web3,
        market_address: str,
        account: LocalAccount | None = None,
        *,
        tx_timeout: float = DEFAULT_TX_TIMEOUT,
        poll_interval: float = 0.1,
    ) -> None:
        from proofmarket.contracts.compile import load_artifact

        self.w3 = w3
        try:
            self.address = to_checksum_address(market_address)
        except ValueError as exc:
            raise ConfigError(f"market address {market_address!r} is not an address") from exc
        self.account = account
        self.tx_timeout = tx_timeout
        self.poll_interval = poll_interval
        self.contract: Contract = w3.eth.contract(
            address=self.address, abi=load_artifact("ProofMarket").abi
        )
        self._token_abi = load_artifact("HitPoints").abi
        self._nonce_lock = threading.Lock()
        self._next_nonce: int | None = None
        self._chain_id: int | None = None
        self._token: Contract | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def connect(
        cls,
        rpc_url: str,
        market_address: str,
        private_key: str | None = None,
        *,
        tx_timeout: float = DEFAULT_TX_TIMEOUT,
        check_code: bool = True,
    ) -> MarketClient:
        """Connect over HTTP; checks the node answers and a contract sits at the address."""
        w3 = connect_web3(rpc_url)
        account = load_account(private_key) if private_key else None
        client = cls(w3, market_address, account, tx_timeout=tx_timeout)
        if check_code and not client.w3.eth.get_code(client.address):
            raise ConfigError(
                f"no contract at market address {client.address} on {rpc_url} "
                "(is the devnet up and PROOFMARKET_MARKET_ADDRESS current?)"
            )
        if check_code:
            client.check_is_market()
        return client

    def check_is_market(self) -> None:
        """Refuse a contract that is not the market (e.g. the collateral token, whose
        ``balanceOf`` would otherwise be shown as an ETH balance)."""
        try:
            self._rpc(lambda: self.contract.functions.COLLATERAL_TOKEN_CONTRACT().call())
        except RpcUnavailableError:
            raise
        except Exception:
            raise ConfigError(
                f"{self.address} is not a proofmarket market contract (it does not answer "
                "the market's COLLATERAL_TOKEN_CONTRACT()); check PROOFMARKET_MARKET_ADDRESS "
                "or --market-address: is it the collateral token's address?"
            ) from None

    @property
    def rpc_url(self) -> str:
        return str(getattr(self.w3.provider, "endpoint_uri", "<provider>"))

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self._rpc(lambda: self.w3.eth.chain_id))
        return self._chain_id

    @property
    def domain(self) -> MarketDomain:
        return MarketDomain(self.chain_id, self.address)

    @property
    def signer(self) -> LocalAccount:
        if self.account is None:
            raise ConfigError("this operation needs a private key (PRIVATE_KEY / --private-key)")
        return self.account

    def _who(self, address: str | None) -> str:
        if address is not None:
            try:
                return to_checksum_address(address)
            except ValueError as exc:
                raise ConfigError(f"{address!r} is not an Ethereum address") from exc
        return str(self.signer.address)

    def _rpc(self, action: Callable[[], T]) -> T:
        return _rpc_call(self.rpc_url, action)

    # ------------------------------------------------------------------ transactions
    def _call(self, fn: Any, action: str) -> Any:
        try:
            return self._rpc(lambda: fn.call())
        except ContractLogicError as exc:
            raise revert_from_exception(exc, action) from exc

    def _transact(
        self, fn: Any, action: str, *, value: int = 0, data_suffix: bytes = b""
    ) -> TxResult:
        account = self.signer
        params: dict[str, Any] = {"from": account.address, "value": value}
        raw = dict(params)
        if data_suffix:
            data = self.contract.encode_abi(fn.fn_name, args=list(fn.args)) + data_suffix.hex()
            raw.update(to=self.address, data=data)
        try:
            # "pending": a reveal right after its commitment passes only in a later block
            if data_suffix:
                gas = self._rpc(lambda: self.w3.eth.estimate_gas(raw, "pending"))  # type: ignore[arg-type]
            else:
                gas = self._rpc(lambda: fn.estimate_gas(params, block_identifier="pending"))
        except ContractLogicError as exc:
            raise revert_from_exception(exc, action) from exc
        except Web3RPCError as exc:
            raise MarketError(f"{action}: {exc}") from exc
        with self._nonce_lock:
            chain_nonce = self._rpc(
                lambda: self.w3.eth.get_transaction_count(account.address, "pending")
            )
            nonce = max(chain_nonce, self._next_nonce or 0)
            tx = fn.build_transaction(
                {
                    **params,
                    "gas": int(gas * GAS_MULTIPLIER) + 10_000,
                    "nonce": nonce,
                    "chainId": self.chain_id,
                }
            )
            if data_suffix:
                tx["data"] = raw["data"]
            signed = account.sign_transaction(tx)
            try:
                tx_hash = self._rpc(
                    lambda: self.w3.eth.send_raw_transaction(signed.raw_transaction)
                )
            except Web3RPCError as exc:
                self._next_nonce = None
                raise MarketError(f"{action}: node rejected the transaction: {exc}") from exc
            self._next_nonce = nonce + 1
        return self._wait_receipt(tx_hash.to_0x_hex(), action, fn, raw)

    def _wait_receipt(self, tx_hash: str, action: str, fn: Any, params: dict[str, Any]) -> TxResult:
        try:
            receipt: TxReceipt = self._rpc(
                lambda: self.w3.eth.wait_for_transaction_receipt(
                    HexStr(tx_hash), timeout=self.tx_timeout, poll_latency=self.poll_interval
                )
            )
        except TimeExhausted as exc:
            raise TxTimeout(tx_hash, self.tx_timeout) from exc
        if receipt["status"] != 1:
            raise self._explain_failure(tx_hash, receipt, action, fn, params)
        return TxResult(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            events=self.decode_receipt_events(receipt),
        )

    def _explain_failure(
        self, tx_hash: str, receipt: TxReceipt, action: str, fn: Any, params: dict[str, Any]
    ) -> MarketError:
        """Replay a reverted transaction at its block to recover the reason."""
        try:
            if "data" in params:
                self.w3.eth.call(params, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
            else:
                fn.call(params, block_identifier=receipt["blockNumber"] - 1)
        except ContractLogicError as exc:
            return revert_from_exception(exc, action)
        except Exception:  # the replay itself failed; report the plain revert
            pass
        return TxReverted(tx_hash, action)

    def decode_receipt_events(self, receipt: TxReceipt) -> list[ev.MarketEvent]:
        """Every market event in a receipt, typed, in log order."""
        found: list[ev.MarketEvent] = []
        for log in receipt["logs"]:
            if to_checksum_address(log["address"]) != self.address:
                continue
            for name in ev.EVENT_TYPES:
                event_abi = getattr(self.contract.events, name, None)
                if event_abi is None:
                    continue
                try:
                    decoded = event_abi().process_log(log)
                except Exception:  # not this event's topic
                    continue
                found.append(ev.decode_event(decoded))
                break
        return found

    # ------------------------------------------------------------------ funds
    def deposit(self, value: int) -> TxResult:
        """Deposit ``value`` wei of ETH into the caller's market balance."""
        return self._transact(self.contract.functions.deposit(), "deposit", value=value)

    def deposit_to(self, account: str, value: int) -> TxResult:
        """Deposit ``value`` wei into ``account``'s market balance (paid by this key)."""
        fn = self.contract.functions.depositTo(self._who(account))
        return self._transact(fn, "depositTo", value=value)

    def withdraw(self, value: int) -> TxResult:
        return self._transact(self.contract.functions.withdraw(value), "withdraw")

    def balance_of(self, address: str | None = None) -> int:
        who = self._who(address)
        return int(self._call(self.contract.functions.balanceOf(who), "balanceOf"))

    @property
    def collateral_token_address(self) -> str:
        return str(self._call(self.contract.functions.COLLATERAL_TOKEN_CONTRACT(), "token"))

    @property
    def token(self) -> Contract:
        """The collateral ERC-20 (ABI from the compiled HitPoints, a standard ERC-20)."""
        if self._token is None:
            self._token = self.w3.eth.contract(
                address=to_checksum_address(self.collateral_token_address), abi=self._token_abi
            )
        return self._token

    def collateral_decimals(self) -> int:
        return int(self._call(self.token.functions.decimals(), "decimals"))

    def collateral_symbol(self) -> str:
        return str(self._call(self.token.functions.symbol(), "symbol"))

    def token_balance_of(self, address: str | None = None) -> int:
        who = self._who(address)
        return int(self._call(self.token.functions.balanceOf(who), "token balanceOf"))

    def approve_collateral(self, value: int) -> TxResult:
        return self._transact(
            self.token.functions.approve(self.address, value), "approve collateral"
        )

    def deposit_stake(self, value: int, *, approve: bool = True) -> TxResult:
        """Approve (if the allowance is short) and deposit ``value`` collateral units."""
        if approve:
            self._ensure_allowance(value)
        return self._transact(self.contract.functions.depositStake(value), "depositStake")

    def _ensure_allowance(self, value: int) -> None:
        fn = self.token.functions.allowance(self.signer.address, self.address)
        if int(self._call(fn, "allowance")) < value:
            self.approve_collateral(value)

    def deposit_collateral_to(self, account: str, value: int, *, approve: bool = True) -> TxResult:
        """Move ``value`` collateral units from this key into ``account``'s stake."""
        if approve:
            self._ensure_allowance(value)
        fn = self.contract.functions.depositCollateralTo(self._who(account), value)
        return self._transact(fn, "depositCollateralTo")

    def deposit_stake_with_permit(self, value: int, *, valid_for: int = 3600) -> TxResult:
        """``depositStake`` authorised by an EIP-2612 permit signed here (one transaction)."""
        from eth_account.messages import encode_typed_data

        token = self.token
        deadline = self.block_timestamp() + valid_for
        nonce = int(self._call(token.functions.nonces(self.signer.address), "nonces"))
        signable = encode_typed_data(
            {
                "name": str(self._call(token.functions.name(), "name")),
                "version": "1",
                "chainId": self.chain_id,
                "verifyingContract": token.address,
            },
            PERMIT_TYPES,
            {
                "owner": self.signer.address,
                "spender": self.address,
                "value": value,
                "nonce": nonce,
                "deadline": deadline,
            },
        )
        signed = Account.sign_message(signable, self.signer.key)
        fn = self.contract.functions.depositStakeWithPermit(
            value, deadline, signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
        )
        return self._transact(fn, "depositStakeWithPermit")

    def withdraw_stake(self, value: int) -> TxResult:
        return self._transact(self.contract.functions.withdrawStake(value), "withdrawStake")

    def balance_of_stake(self, address: str | None = None) -> int:
        who = self._who(address)
        return int(self._call(self.contract.functions.balanceOfStake(who), "balanceOfStake"))

    def account_is_frozen(self, address: str | None = None) -> bool:
        who = self._who(address)
        return bool(self._call(self.contract.functions.accountIsFrozen(who), "accountIsFrozen"))

    def unfreeze(self) -> TxResult:
        """Clear the caller's frozen flag (set when one of its locks was slashed)."""
        return self._transact(self.contract.functions.unfreezeAccount(), "unfreezeAccount")

    # ------------------------------------------------------------------ requests
    def request_digest(self, request: ProofRequest) -> bytes:
        """EIP-712 digest computed locally (equal to the contract's ``requestDigest``)."""
        return request_digest(request, self.domain)

    def request_digest_onchain(self, request: ProofRequest) -> bytes:
        fn = self.contract.functions.requestDigest(request_message(request))
        return bytes(self._call(fn, "requestDigest"))

    def sign_request(self, request: ProofRequest) -> bytes:
        """Client signature with this client's key."""
        return sign_request(request, self.domain, self.signer.key)

    def sign_lock_request(
        self, request: ProofRequest, *, expires_at: int, min_lock_price: int = 0
    ) -> bytes:
        """Prover signature authorising someone else to lock for this key: void after
        ``expires_at`` (unix seconds) and never at a lock price below ``min_lock_price``."""
        return sign_lock_request(
            request,
            self.domain,
            self.signer.key,
            min_lock_price=min_lock_price,
            expires_at=expires_at,
        )

    def submit_request(
        self, request: ProofRequest, signature: bytes | None = None, *, value: int = 0
    ) -> TxResult:
        """Broadcast a request (``RequestSubmitted``); ``value`` wei is deposited with it."""
        validate_request(request)
        sig = signature if signature is not None else self.sign_request(request)
        fn = self.contract.functions.submitRequest(request_message(request), sig)
        return self._transact(fn, "submitRequest", value=value)

    def lock_request(self, request: ProofRequest, client_signature: bytes) -> TxResult:
        fn = self.contract.functions.lockRequest(request_message(request), client_signature)
        return self._transact(fn, "lockRequest")

    def lock_request_with_signature(
        self,
        request: ProofRequest,
        client_signature: bytes,
        prover_signature: bytes,
        *,
        expires_at: int,
        min_lock_price: int = 0,
    ) -> TxResult:
        """Relay a prover's signed lock (the bounds must be those the prover signed)."""
        fn = self.contract.functions.lockRequestWithSignature(
            request_message(request), client_signature, prover_signature, min_lock_price, expires_at
        )
        return self._transact(fn, "lockRequestWithSignature")

    def price_request(self, request: ProofRequest, client_signature: bytes) -> int:
        """What an unlocked fulfilment would pay now (checks signature and offer)."""
        fn = self.contract.functions.priceRequest(request_message(request), client_signature)
        return int(self._call(fn, "priceRequest"))

    # ------------------------------------------------------------------ fulfilment
    # Only the locker fulfilling its own lock before the lock deadline is paid without a
    # commitment. Every other fill (never-locked request, lapsed lock) must be committed
    # (commit_fulfillments) in an earlier block than its reveal (fulfill / fulfill_batch),
    # so a copy of the pending reveal sent from another address earns nothing.
    # fulfill_committed() does the three steps.

    def verify_delivery(self, fill: Fulfillment) -> bytes:
        """Every check the market runs on ``fill`` (signature, predicate, seal), without
        settling; returns the claim digest the seal proves or raises the typed revert."""
        fn = self.contract.functions.verifyDelivery(fulfillment_message(fill))
        return bytes(self._call(fn, "verifyDelivery"))

    def fill_digest(self, fill: Fulfillment) -> bytes:
        """``keccak256(abi.encode(requestDigest, claimDigest, keccak256(seal)))``, computed
        locally (the claim from the predicate, as the market does), so a batch can be
        committed before its Merkle root is submitted."""
        from proofmarket.market.predicates import expected_claim_digest

        predicate = fill.request.requirements.predicate
        claim = expected_claim_digest(predicate, fill.image_id, fill.journal)
        return fill_digest(self.request_digest(fill.request), claim, fill.seal)

    def fill_commitment(self, fill: Fulfillment, prover: str | None = None) -> bytes:
        """What ``prover`` (default: this key) commits to before revealing ``fill``."""
        return fill_commitment(self.fill_digest(fill), self._who(prover))

    def needs_commitment(self, fill: Fulfillment, *, margin: int = 30) -> bool:
        """False only when this key holds the fill's lock and its lock deadline is more
        than ``margin`` seconds away (the reveal lands in a later block)."""
        lock = self.request_lock(fill.request.id)
        if not lock.has(RequestLock.LOCKED) or lock.has(RequestLock.PAID_DURING_LOCK):
            return True
        if lock.prover != self.signer.address:
            return True
        if lock.request_digest_tag != self.request_digest(fill.request)[:8]:
            return True
        return self.block_timestamp() + margin > lock.lock_deadline

    def commit_fulfillments(self, fills: Sequence[Fulfillment]) -> TxResult:
        """Commit (this key as prover) to each fill; reveal them in a later block."""
        commitments = [self.fill_commitment(fill) for fill in fills]
        if len(commitments) == 1:
            fn = self.contract.functions.commitFulfillment(commitments[0])
            return self._transact(fn, "commitFulfillment")
        fn = self.contract.functions.commitFulfillments(commitments)
        return self._transact(fn, "commitFulfillments")

    def commitment_block(self, commitment: bytes) -> int:
        """Block of a pending commitment (0: none, or already revealed)."""
        fn = self.contract.functions.commitmentBlock(commitment)
        return int(self._call(fn, "commitmentBlock"))

    def wait_for_block(self, number: int, *, timeout: float = 60.0) -> int:
        """Poll until the chain head reaches block ``number``; returns the head."""
        deadline = time.monotonic() + timeout
        while True:
            head = self.block_number()
            if head >= number:
                return head
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"block {number} not reached within {timeout:g} s (head {head})")
            time.sleep(self.poll_interval)

    def fulfill_committed(
        self,
        fills: Sequence[Fulfillment],
        *,
        withdraw: bool = False,
        timeout: float = 60.0,
    ) -> TxResult:
        """Commit the fills that need it (skipping commitments already on chain), wait for a
        later block, then reveal them all in one transaction (``fulfillAndWithdraw`` with
        ``withdraw``)."""
        if not fills:
            raise MarketError("fulfill_committed: no fills")
        pending = [
            fill
            for fill in fills
            if self.needs_commitment(fill)
            and self.commitment_block(self.fill_commitment(fill)) == 0
        ]
        if pending:
            committed = self.commit_fulfillments(pending)
            self._reveal_after(committed.block_number, timeout)
        if withdraw:
            return self.fulfill_and_withdraw(fills)
        if len(fills) == 1:
            return self.fulfill(fills[0])
        return self.fulfill_batch(fills)

    def _reveal_after(self, commit_block: int, timeout: float) -> None:
        """A reveal must be mined after its commit's block: wait until the head has moved
        past it (on an automining node the next transaction does that by itself)."""
        if self.block_number() > commit_block:
            return
        if self._automines():
            return
        self.wait_for_block(commit_block + 1, timeout=timeout)

    def _automines(self) -> bool:
        try:
            return bool(self.w3.provider.make_request("anvil_getAutomine", [])["result"])  # type: ignore[arg-type]
        except Exception:  # not anvil, or the method is unavailable: assume blocks are timed
            return False

    def fulfill(self, fill: Fulfillment) -> TxResult:
        """Reveal one fill (its commitment, when needed, must be in an earlier block)."""
        fn = self.contract.functions.fulfill(fulfillment_message(fill))
        return self._transact(fn, "fulfill")

    def fulfill_and_withdraw(self, fills: Sequence[Fulfillment]) -> TxResult:
        """Reveal fills, then receive this key's whole ETH balance."""
        fn = self.contract.functions.fulfillAndWithdraw([fulfillment_message(f) for f in fills])
        return self._transact(fn, "fulfillAndWithdraw")

    def submit_root(self, set_verifier: str, root: bytes, root_seal: bytes) -> TxResult:
        """Vouch for a batch's Merkle root in the set verifier, fulfilling nothing."""
        fn = self.contract.functions.submitRoot(to_checksum_address(set_verifier), root, root_seal)
        return self._transact(fn, "submitRoot")

    def fulfill_batch(self, fills: Sequence[Fulfillment]) -> TxResult:
        """Reveal up to 256 fills (calldata padded as the market's batch decoder needs)."""
        fn = self.contract.functions.fulfillBatch([fulfillment_message(f) for f in fills])
        return self._transact(fn, "fulfillBatch", data_suffix=BATCH_CALLDATA_PADDING)

    def submit_root_and_fulfill_batch(
        self, set_verifier: str, root: bytes, root_seal: bytes, fills: Sequence[Fulfillment]
    ) -> TxResult:
        """Root and up to 32 fills in one transaction (larger: submit_root, fulfill_batch)."""
        fn = self.contract.functions.submitRootAndFulfillBatch(
            to_checksum_address(set_verifier),
            root,
            root_seal,
            [fulfillment_message(f) for f in fills],
        )
        return self._transact(fn, "submitRootAndFulfillBatch")

    def owner(self) -> str:
        return str(self._call(self.contract.functions.owner(), "owner"))

    def pending_owner(self) -> str:
        return str(self._call(self.contract.functions.pendingOwner(), "pendingOwner"))

    def transfer_ownership(self, new_owner: str) -> TxResult:
        """Offer the market to ``new_owner`` (it takes effect when that key accepts)."""
        fn = self.contract.functions.transferOwnership(self._who(new_owner))
        return self._transact(fn, "transferOwnership")

    def accept_ownership(self) -> TxResult:
        return self._transact(self.contract.functions.acceptOwnership(), "acceptOwnership")

    def slash(self, request_id: int | RequestId) -> TxResult:
        fn = self.contract.functions.slash(int(request_id))
        return self._transact(fn, "slash")

    # ------------------------------------------------------------------ views
    def request_is_locked(self, request_id: int | RequestId) -> bool:
        fn = self.contract.functions.requestIsLocked(int(request_id))
        return bool(self._call(fn, "requestIsLocked"))

    def request_is_fulfilled(self, request_id: int | RequestId) -> bool:
        fn = self.contract.functions.requestIsFulfilled(int(request_id))
        return bool(self._call(fn, "requestIsFulfilled"))

    def request_is_slashed(self, request_id: int | RequestId) -> bool:
        fn = self.contract.functions.requestIsSlashed(int(request_id))
        return bool(self._call(fn, "requestIsSlashed"))

    def request_lock_deadline(self, request_id: int | RequestId) -> int:
        fn = self.contract.functions.requestLockDeadline(int(request_id))
        return int(self._call(fn, "requestLockDeadline"))

    def request_deadline(self, request_id: int | RequestId) -> int:
        fn = self.contract.functions.requestDeadline(int(request_id))
        return int(self._call(fn, "requestDeadline"))

    def request_lock(self, request_id: int | RequestId) -> RequestLock:
        raw = self._call(self.contract.functions.requestLock(int(request_id)), "requestLock")
        values = list(raw.values()) if isinstance(raw, dict) else list(raw)
        prover, price, collateral, lock_deadline, deadline, flags, tag, fulfiller = values
        return RequestLock(
            prover=to_checksum_address(prover),
            price=int(price),
            collateral=int(collateral),
            lock_deadline=int(lock_deadline),
            deadline=int(deadline),
            flags=int(flags),
            request_digest_tag=bytes(tag),
            fulfiller=to_checksum_address(fulfiller),
        )

    def price_at(self, offer: Offer, timestamp: int) -> int:
        """The contract's ``priceAt`` (for cross-checking the Python mirror)."""
        fn = self.contract.functions.priceAt(offer_message(offer), timestamp)
        return int(self._call(fn, "priceAt"))

    def time_at_price(self, offer: Offer, price: int) -> int:
        fn = self.contract.functions.timeAtPrice(offer_message(offer), price)
        return int(self._call(fn, "timeAtPrice"))

    def slashing_burn_bps(self) -> int:
        return int(self._call(self.contract.functions.SLASHING_BURN_BPS(), "SLASHING_BURN_BPS"))

    def verifier_router_address(self) -> str:
        return str(self._call(self.contract.functions.VERIFIER(), "VERIFIER"))

    def verify_integrity(self, seal: bytes, claim_digest: bytes) -> None:
        """Ask the market's verifier router whether ``seal`` proves ``claim_digest``.

        Raises the typed revert (``VerificationFailed``, ``SelectorUnknown``...) if not.
        """
        from proofmarket.contracts.compile import load_artifact

        router = self.w3.eth.contract(
            address=to_checksum_address(self.verifier_router_address()),
            abi=load_artifact("VerifierRouter").abi,
        )
        self._call(router.functions.verifyIntegrity((seal, claim_digest)), "verifyIntegrity")

    def domain_separator_onchain(self) -> bytes:
        fn = self.contract.functions.eip712DomainSeparator()
        return bytes(self._call(fn, "eip712DomainSeparator"))

    def block_timestamp(self, block: int | str = "latest") -> int:
        ident = cast(Any, block)
        return int(self._rpc(lambda: self.w3.eth.get_block(ident))["timestamp"])

    def block_number(self) -> int:
        return int(self._rpc(lambda: self.w3.eth.block_number))

    def get_status(
        self, request_id: int | RequestId, expires_at: int | None = None
    ) -> RequestStatus:
        """Fulfilled / Locked / Expired / Unknown, as Boundless' ``get_status``.

        Time is the latest block's timestamp. Without ``expires_at`` an unlocked request is
        Unknown (open or nonexistent); pass the request's deadline to detect expiry.
        """
        rid = int(request_id)
        if self.request_is_fulfilled(rid):
            return RequestStatus.FULFILLED
        now = self.block_timestamp()
        if expires_at is not None and now > expires_at:
            return RequestStatus.EXPIRED
        if self.request_is_locked(rid):
            if now > self.request_deadline(rid):
                return RequestStatus.EXPIRED
            return RequestStatus.LOCKED
        return RequestStatus.UNKNOWN

    # ------------------------------------------------------------------ events
    def iter_events(
        self,
        kind: type[E],
        *,
        from_block: int = 0,
        to_block: int | str = "latest",
        request_id: int | RequestId | None = None,
        chunk: int = EVENT_CHUNK_BLOCKS,
    ) -> Iterator[E]:
        """Typed events of one kind, oldest first, scanned in block chunks."""
        event_abi = getattr(self.contract.events, kind.name)()
        filters: dict[str, Any] = {}
        if request_id is not None:
            filters["requestId"] = int(request_id)
        last = self.block_number() if to_block == "latest" else int(to_block)
        start = from_block
        while start <= last:
            end = min(last, start + chunk - 1)
            logs: list[Any] = self._rpc(
                functools.partial(
                    event_abi.get_logs,
                    from_block=start,
                    to_block=end,
                    argument_filters=filters or None,
                )
            )
            for log in logs:
                decoded = ev.decode_event(log)
                assert isinstance(decoded, kind)
                yield decoded
            start = end + 1

    def wait_for_event(
        self,
        kind: type[E],
        *,
        request_id: int | RequestId | None = None,
        from_block: int = 0,
        timeout: float = 60.0,
        poll: float = 0.25,
        predicate: Callable[[E], bool] | None = None,
    ) -> E:
        """Poll until an event of ``kind`` (optionally for ``request_id``) appears."""
        deadline = time.monotonic() + timeout
        next_block = from_block
        while True:
            head = self.block_number()
            if head >= next_block:
                for event in self.iter_events(
                    kind, from_block=next_block, to_block=head, request_id=request_id
                ):
                    if predicate is None or predicate(event):
                        return event
                next_block = head + 1
            if time.monotonic() >= deadline:
                target = f" for request {int(request_id):#x}" if request_id is not None else ""
                raise WaitTimeout(f"no {kind.name} event{target} within {timeout:g} s")
            time.sleep(poll)

    def wait_for_fulfillment(
        self, request_id: int | RequestId, *, from_block: int = 0, timeout: float = 300.0
    ) -> ev.ProofDelivered:
        """The ``ProofDelivered`` event of the first verified proof for the request."""
        return self.wait_for_event(
            ev.ProofDelivered,
            request_id=request_id,
            from_block=from_block,
            timeout=timeout,
            predicate=self.delivery_is_verified,
        )

    def get_submitted_request(
        self, request_id: int | RequestId, *, from_block: int = 0
    ) -> ev.RequestSubmitted:
        """The latest ``RequestSubmitted`` event for the ID."""
        found = list(
            self.iter_events(ev.RequestSubmitted, from_block=from_block, request_id=request_id)
        )
        if not found:
            raise RequestNotFoundError(
                f"no RequestSubmitted event for request {int(request_id):#x} since block "
                f"{from_block}"
            )
        return found[-1]

    def get_fulfillment(
        self, request_id: int | RequestId, *, from_block: int = 0
    ) -> ev.ProofDelivered:
        """The first verified ``ProofDelivered`` event for the ID (journal, seal, claim).

        The market only logs checked data, and this re-checks it here: the journal and image
        ID must give the logged claim digest, and the seal must verify for that claim
        through the market's router now. A delivery that fails is skipped."""
        for event in self.iter_events(
            ev.ProofDelivered, from_block=from_block, request_id=request_id
        ):
            if self.delivery_is_verified(event):
                return event
        raise RequestNotFoundError(
            f"no proof delivered for request {int(request_id):#x} since block {from_block} "
            "(none, or none that verifies)"
        )

    def delivery_is_verified(self, event: ev.ProofDelivered) -> bool:
        """Whether a delivery's journal matches its claim digest and its seal verifies."""
        from proofmarket.market.predicates import claim_digest

        if (
            event.carries_journal
            and claim_digest(event.image_id, event.journal) != event.claim_digest
        ):
            return False
        if not event.carries_journal and event.journal:
            return False
        try:
            self.verify_integrity(event.seal, event.claim_digest)
        except ContractRevert:
            return False
        return True


def fulfillment_message(fill: Fulfillment) -> dict[str, Any]:
    """A Fulfillment as the ABI dict web3 encodes."""
    return {
        "request": request_message(fill.request),
        "clientSignature": fill.client_signature,
        "fulfillmentDataType": int(fill.fulfillment_data_type),
        "imageId": fill.image_id,
        "journal": fill.journal,
        "seal": fill.seal,
    }


__all__ = [
    "ContractRevert",
    "MarketClient",
    "RequestLock",
    "RequestStatus",
    "TxResult",
    "connect_web3",
    "fill_commitment",
    "fill_digest",
    "fulfillment_message",
    "load_account",
    "offer_message",
]
