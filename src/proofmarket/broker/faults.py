"""Fault injection for tests: make the transaction sender lose receipts.

``PROOFMARKET_BROKER_FAULTS`` is a comma-separated list of ``kind:count``:

* ``lock-lost-receipt:N`` — the first N locks are really sent, but reported as not
  confirmed in time (the lock lands; the broker must notice it from the chain).
* ``fulfil-timeout:N`` — the first N fulfil transactions are not sent and reported as not
  confirmed in time (the batch fails and waits for manual recovery).
* ``crash-before-lock:1``, ``crash-after-lock:1``, ``crash-after-fulfil:1`` — the process
  kills itself with SIGKILL just before a lock is queued, or just after a lock or a
  fulfilment was confirmed (before the database records it): crash-safety tests.
"""

from __future__ import annotations

import logging
import os
import signal

from proofmarket.broker.txn import TransactionQueue, TxIntent, TxOutcome

log = logging.getLogger(__name__)

KINDS = (
    "lock-lost-receipt",
    "fulfil-timeout",
    "crash-before-lock",
    "crash-after-lock",
    "crash-after-fulfil",
)


def parse_faults(spec: str) -> dict[str, int]:
    faults: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, count = item.partition(":")
        if kind not in KINDS or not count.isdigit():
            raise ValueError(f"bad fault {item!r}: use {' or '.join(KINDS)} with :COUNT")
        faults[kind] = int(count)
    return faults


class FaultySender:
    def __init__(self, inner: TransactionQueue, spec: str) -> None:
        self.inner = inner
        self.remaining = parse_faults(spec)

    def _take(self, kind: str) -> bool:
        if self.remaining.get(kind, 0) > 0:
            self.remaining[kind] -= 1
            return True
        return False

    def _crash(self, kind: str) -> None:
        if self._take(kind):
            log.warning("FAULT: %s: SIGKILL", kind)
            os.kill(os.getpid(), signal.SIGKILL)

    async def send(self, intent: TxIntent) -> TxOutcome:
        if intent.purpose == "lock":
            self._crash("crash-before-lock")
        if intent.purpose == "fulfil" and self._take("fulfil-timeout"):
            log.warning("FAULT: fulfil %s reported as timed out, not sent", intent.ref)
            return TxOutcome("timeout", error="not confirmed in time (injected)")
        outcome = await self.inner.send(intent)
        if outcome.ok and intent.purpose in ("lock", "fulfil"):
            self._crash(f"crash-after-{intent.purpose}")
        if intent.purpose == "lock" and outcome.ok and self._take("lock-lost-receipt"):
            log.warning("FAULT: lock %s landed but its receipt is reported lost", intent.ref)
            return TxOutcome(
                "timeout", tx_hash=outcome.tx_hash, error="not confirmed in time (injected)"
            )
        return outcome
