"""Chain monitor: head block, its time and the gas price; market logs in safe chunks.

RPC providers cap ``eth_getLogs`` ranges (often 500-1000 blocks) and answer larger ones
with an error; Boundless's start-up lookback then failed and it re-fulfilled orders
(#838, #1304). :class:`LogReader` halves its chunk whenever the node refuses a range and
carries on, so a scan of any length succeeds on any provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from proofmarket.market import events as ev
from proofmarket.market.client import MarketClient

log = logging.getLogger(__name__)

WATCHED = ("RequestSubmitted", "RequestLocked", "RequestFulfilled", "ProverSlashed")
RANGE_ERROR_HINTS = ("range", "limit", "too many", "exceed", "10000", "block")


class LogRangeError(RuntimeError):
    """The node refused even a one-block log query."""


@dataclass(frozen=True)
class ChainHead:
    number: int
    timestamp: int
    gas_price: int
    chain_time: int
    """The chain's clock: the pending block's timestamp (what the next block would carry),
    which on an automining node or after time travel differs from both the latest block's
    timestamp and the wall clock."""
    seen_at: float
    """``time.monotonic()`` when this head was read."""

    def now(self) -> int:
        """Chain time now, advanced by the time since the head was read."""
        return self.chain_time + int(time.monotonic() - self.seen_at)


class LogReader:
    """Fetch and decode the market's events over any block range, chunked."""

    def __init__(
        self,
        market: MarketClient,
        *,
        chunk: int = 2_000,
        get_logs: Callable[[dict[str, Any]], list[Any]] | None = None,
    ) -> None:
        self.market = market
        self.chunk = max(1, chunk)
        self._get_logs = get_logs or (lambda params: list(market.w3.eth.get_logs(params)))  # type: ignore[arg-type]
        self._by_topic: dict[bytes, Any] = {}
        for name in WATCHED:
            event = getattr(market.contract.events, name)()
            self._by_topic[bytes.fromhex(str(event.topic).removeprefix("0x"))] = event

    def fetch(self, from_block: int, to_block: int) -> list[ev.MarketEvent]:
        """Every watched event in ``[from_block, to_block]``, oldest first."""
        found: list[ev.MarketEvent] = []
        start = from_block
        while start <= to_block:
            end = min(to_block, start + self.chunk - 1)
            params = {
                "address": to_checksum_address(self.market.address),
                "fromBlock": start,
                "toBlock": end,
                "topics": [["0x" + t.hex() for t in self._by_topic]],
            }
            try:
                logs = self._get_logs(params)
            except Exception as exc:
                if not _looks_like_range_cap(exc) or end == start:
                    if end == start:
                        raise LogRangeError(f"eth_getLogs refused block {start}: {exc}") from exc
                    raise
                self.chunk = max(1, (end - start + 1) // 2)
                log.warning("eth_getLogs range refused (%s); chunk now %d blocks", exc, self.chunk)
                continue
            for raw in logs:
                topic0 = bytes(raw["topics"][0])
                event_abi = self._by_topic.get(topic0)
                if event_abi is None:
                    continue
                found.append(ev.decode_event(event_abi.process_log(raw)))
            start = end + 1
        found.sort(key=lambda e: (e.meta.block_number, e.meta.log_index))
        return found


def _looks_like_range_cap(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(hint in text for hint in RANGE_ERROR_HINTS)


class ChainMonitor:
    """Keeps the latest head (number, timestamp, gas price) for the other services."""

    def __init__(self, market: MarketClient, poll_secs: float = 0.5) -> None:
        self.market = market
        self.poll_secs = poll_secs
        self.head: ChainHead | None = None

    def _read(self) -> ChainHead:
        w3 = self.market.w3
        block = w3.eth.get_block("latest")
        latest = int(block["timestamp"])
        try:
            pending = int(w3.eth.get_block("pending")["timestamp"])
        except Exception:  # a node without the pending block: the latest block's time
            pending = latest
        return ChainHead(
            int(block["number"]),
            latest,
            int(w3.eth.gas_price),
            max(latest, pending),
            time.monotonic(),
        )

    async def refresh(self) -> ChainHead:
        head = await asyncio.to_thread(self._read)
        self.head = head
        return head

    async def current(self) -> ChainHead:
        return self.head if self.head is not None else await self.refresh()

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.poll_secs)
