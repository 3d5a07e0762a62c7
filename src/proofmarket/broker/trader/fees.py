"""EIP-1559 fees for a new transaction and for a replacement of a stuck one.

Nodes accept a replacement on the same nonce only when both fee fields rise by at least
10 % (geth's ``txpool.pricebump``); below that they answer "replacement transaction
underpriced". Every bump here raises both by ``bump_percent`` (rounded up, at least 1 wei).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_BUMP_PERCENT = 10


@dataclass(frozen=True)
class Fees:
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


def _raise(value: int, percent: int) -> int:
    return max(value + 1, -(-value * (100 + percent) // 100))


def initial_fees(base_fee: int, priority_fee: int, bonus: int = 0, cap: int | None = None) -> Fees:
    """``max_fee = 2 × base + priority`` (room for two full blocks), plus ``bonus`` on both."""
    priority = priority_fee + bonus
    max_fee = 2 * base_fee + priority
    if cap is not None:
        max_fee = min(max_fee, cap)
        priority = min(priority, max_fee)
    return Fees(max_fee, priority)


def bumped_fees(
    previous: Fees, base_fee: int, bump_percent: int, cap: int | None = None
) -> Fees | None:
    """Fees for a replacement, or None when the cap leaves no valid bump."""
    percent = max(bump_percent, MIN_BUMP_PERCENT)
    priority = _raise(previous.max_priority_fee_per_gas, percent)
    max_fee = max(_raise(previous.max_fee_per_gas, percent), 2 * base_fee + priority)
    if cap is not None and max_fee > cap:
        max_fee = cap
        if max_fee < _raise(previous.max_fee_per_gas, MIN_BUMP_PERCENT):
            return None
        priority = min(priority, max_fee)
    return Fees(max_fee, priority)
