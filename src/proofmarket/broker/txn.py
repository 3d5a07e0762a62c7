"""How the pipeline sends on-chain writes: a small queue protocol and a direct sender.

Services never sign or send themselves: they describe a transaction (:class:`TxIntent`:
purpose, the order or batch it is for, target and calldata) and await a
:class:`TxOutcome`. :class:`DirectSender` is the built-in implementation (one nonce
counter, EIP-1559 fees with an optional priority bump, gas estimated first so a reverting
call is refused before anything is sent, ``txn_timeout`` on confirmation); the durable
transaction queue of ``proofmarket.broker.trader`` satisfies the same protocol.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from eth_utils import to_checksum_address
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError

from proofmarket.market.client import GAS_MULTIPLIER, MarketClient
from proofmarket.market.events import MarketEvent
from proofmarket.market.reverts import revert_from_exception

log = logging.getLogger(__name__)

TxState = Literal["confirmed", "reverted", "rejected", "timeout"]


@dataclass(frozen=True)
class TxIntent:
    """One transaction a service wants sent."""

    purpose: str
    """``lock`` or ``fulfil`` (the trader keys metrics and reconciliation on it)."""
    ref: str
    """The order ID (lock) or ``batch-N`` (fulfil)."""
    to: str
    data: bytes
    value: int = 0
    priority_gas: int = 0
    """Extra wei per gas added to both fee caps (``lockin_priority_gas``)."""
    request_id: int | None = None


@dataclass(frozen=True)
class TxOutcome:
    """What became of an intent.

    ``rejected``: refused before sending (estimation reverted: ``revert`` names the
    contract error) or by the node. ``timeout``: sent, not confirmed in ``txn_timeout``;
    it may still land, so a lock must be reconciled against the chain.
    """

    state: TxState
    tx_hash: str | None = None
    block_number: int | None = None
    gas_used: int = 0
    events: list[MarketEvent] = field(default_factory=list)
    error: str | None = None
    revert: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "confirmed"


class TransactionQueue(Protocol):
    """What the pipeline needs from a transaction sender."""

    async def send(self, intent: TxIntent) -> TxOutcome: ...


class DirectSender:
    """Send intents from one key, one at a time per nonce, waiting for each receipt."""

    def __init__(self, market: MarketClient, txn_timeout: float) -> None:
        self.market = market
        self.txn_timeout = txn_timeout
        self._nonce_lock = threading.Lock()
        self._next_nonce: int | None = None

    async def send(self, intent: TxIntent) -> TxOutcome:
        return await asyncio.to_thread(self._send, intent)

    def _send(self, intent: TxIntent) -> TxOutcome:
        w3 = self.market.w3
        account = self.market.signer
        params: dict[str, Any] = {
            "from": account.address,
            "to": to_checksum_address(intent.to),
            "data": "0x" + intent.data.hex(),
            "value": intent.value,
        }
        try:
            gas = int(w3.eth.estimate_gas(params))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            revert = revert_from_exception(exc, intent.purpose)
            return TxOutcome("rejected", error=str(revert), revert=revert.name)
        except (Web3RPCError, OSError, ValueError) as exc:
            return TxOutcome("rejected", error=f"{intent.purpose}: {exc}")
        block = w3.eth.get_block("latest")
        base_fee = int(block.get("baseFeePerGas", 0) or 0)
        tip = int(w3.eth.max_priority_fee) + intent.priority_gas
        with self._nonce_lock:
            chain_nonce = int(w3.eth.get_transaction_count(account.address, "pending"))
            nonce = max(chain_nonce, self._next_nonce or 0)
            tx = {
                **params,
                "gas": int(gas * GAS_MULTIPLIER) + 10_000,
                "nonce": nonce,
                "chainId": self.market.chain_id,
                "maxPriorityFeePerGas": tip,
                "maxFeePerGas": 2 * base_fee + tip,
            }
            signed = account.sign_transaction(tx)
            try:
                tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()
            except (Web3RPCError, ValueError) as exc:
                self._next_nonce = None
                return TxOutcome("rejected", error=f"{intent.purpose}: node refused: {exc}")
            self._next_nonce = nonce + 1
        log.info("%s %s sent: %s", intent.purpose, intent.ref, tx_hash)
        try:
            receipt = w3.eth.wait_for_transaction_receipt(
                tx_hash,  # type: ignore[arg-type]
                timeout=self.txn_timeout,
                poll_latency=0.1,
            )
        except TimeExhausted:
            return TxOutcome("timeout", tx_hash=tx_hash, error="not confirmed in time")
        events = self.market.decode_receipt_events(receipt)
        state: TxState = "confirmed" if receipt["status"] == 1 else "reverted"
        return TxOutcome(
            state,
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            events=events,
            error=None if state == "confirmed" else "reverted on chain",
        )
