"""Live fan-out of accepted orders to the connected subscribers (one service process).

Each subscriber has a bounded queue. A subscriber that falls ``queue_limit`` orders behind
is told to leave (it reconnects and resumes from its last order), so one slow broker never
holds memory or the submit path hostage.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from proofmarket.orderstream.models import Order


@dataclass(eq=False)
class Subscriber:
    address: str
    ip: str
    queue_limit: int
    connected_at: float = field(default_factory=time.time)
    queue: asyncio.Queue[Order | None] = field(default_factory=asyncio.Queue)
    sent: int = 0
    overflowed: bool = False

    def push(self, order: Order) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= self.queue_limit:
            self.overflowed = True
            self.queue.put_nowait(None)  # wakes the sender, which closes the socket
            return
        self.queue.put_nowait(order)

    def info(self) -> dict[str, Any]:
        """What the public status route shows (not the IP: brokers' hosts stay private)."""
        return {
            "address": self.address,
            "connectedAt": self.connected_at,
            "sent": self.sent,
            "queued": self.queue.qsize(),
        }


class Hub:
    """The set of live subscribers; ``publish`` is called from the event loop."""

    def __init__(self, max_subscribers: int, queue_limit: int) -> None:
        self.max_subscribers = max_subscribers
        self.queue_limit = queue_limit
        self.subscribers: set[Subscriber] = set()
        self.dropped_heartbeat = 0
        self.dropped_slow = 0
        self.last_published = 0

    @property
    def full(self) -> bool:
        return len(self.subscribers) >= self.max_subscribers

    def add(self, address: str, ip: str) -> Subscriber:
        sub = Subscriber(address, ip, self.queue_limit)
        self.subscribers.add(sub)
        return sub

    def remove(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def publish(self, order: Order) -> None:
        """Push ``order`` to every subscriber (once: ids at or below the last one are
        ignored)."""
        if order.id <= self.last_published:
            return
        self.last_published = order.id
        for sub in list(self.subscribers):
            sub.push(order)
