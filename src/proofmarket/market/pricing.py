"""Integer mirrors of the market contract's offer math.

Every function here computes exactly what the contract computes (floor division in the
price ramp, ceiling division when inverting it, basis points floored), so an off-chain
caller can predict the on-chain outcome to the wei. Tests compare them with the deployed
contract on random inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from proofmarket.market.errors import InvalidOfferError
from proofmarket.market.types import Offer

UINT24_MAX = (1 << 24) - 1
BPS_DENOMINATOR = 10_000
SLASHING_BURN_BPS = 5_000
"""Share of a slashed prover's collateral that is burned (Boundless v1: 50 %)."""


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for non-negative integers (``b > 0``), like OpenZeppelin's ``ceilDiv``."""
    if b <= 0:
        raise ZeroDivisionError("ceil_div by zero")
    return 0 if a == 0 else (a - 1) // b + 1


def lock_deadline(offer: Offer) -> int:
    """Last second at which the request can be locked: ``rampUpStart + lockTimeout``."""
    return offer.ramp_up_start + offer.lock_timeout


def deadline(offer: Offer) -> int:
    """Last second at which the request can be fulfilled: ``rampUpStart + timeout``."""
    return offer.ramp_up_start + offer.timeout


def price_at(offer: Offer, timestamp: int) -> int:
    """Price (wei) the client pays for a lock/fulfil at ``timestamp``.

    ``minPrice`` until ``rampUpStart``, then a linear ramp (floor division) to ``maxPrice``
    over ``rampUpPeriod`` seconds, ``maxPrice`` until the lock deadline, and zero after it
    (a fulfilment after the lock lapsed costs the client nothing).
    """
    if timestamp <= offer.ramp_up_start:
        return offer.min_price
    if timestamp > lock_deadline(offer):
        return 0
    if timestamp <= offer.ramp_up_start + offer.ramp_up_period:
        elapsed = timestamp - offer.ramp_up_start
        spread = offer.max_price - offer.min_price
        return offer.min_price + elapsed * spread // offer.ramp_up_period
    return offer.max_price


def time_at_price(offer: Offer, price: int) -> int:
    """Earliest timestamp at which the offer is worth at least ``price`` wei.

    Zero when the minimum price already satisfies it; raises :class:`InvalidOfferError`
    when the price is above ``maxPrice`` (never reached).
    """
    if price > offer.max_price:
        raise InvalidOfferError(f"price {price} is above the offer's maxPrice {offer.max_price}")
    if price <= offer.min_price:
        return 0
    return offer.ramp_up_start + ceil_div(
        (price - offer.min_price) * offer.ramp_up_period, offer.max_price - offer.min_price
    )


@dataclass(frozen=True)
class SlashSplit:
    """How a slashed lock's collateral is divided."""

    burned: int
    transferred: int


def slash_split(collateral: int, burn_bps: int = SLASHING_BURN_BPS) -> SlashSplit:
    """``burned = collateral * burn_bps // 10000``, the rest goes to the secondary fulfiller
    (or the market treasury when nobody fulfilled)."""
    if collateral < 0:
        raise ValueError("collateral must not be negative")
    burned = collateral * burn_bps // BPS_DENOMINATOR
    return SlashSplit(burned=burned, transferred=collateral - burned)


def collateral_reward_if_locked_and_not_fulfilled(
    offer: Offer, burn_bps: int = SLASHING_BURN_BPS
) -> int:
    """What a secondary prover earns (at slash time) for fulfilling a lapsed lock."""
    return slash_split(offer.lock_collateral, burn_bps).transferred


MAX_DEADLINE = 1 << 40
"""The contract rejects offers whose deadline (``rampUpStart + timeout``) reaches 2**40."""


def offer_problems(offer: Offer) -> list[str]:
    """Every contract rule the offer breaks, as readable sentences (empty when valid)."""
    problems: list[str] = []
    if offer.min_price > offer.max_price:
        problems.append(
            f"minPrice ({offer.min_price}) is greater than maxPrice ({offer.max_price})"
        )
    if offer.ramp_up_period > offer.lock_timeout:
        problems.append(
            f"rampUpPeriod ({offer.ramp_up_period}) is longer than lockTimeout "
            f"({offer.lock_timeout})"
        )
    if offer.lock_timeout > offer.timeout:
        problems.append(
            f"lockTimeout ({offer.lock_timeout}) is longer than timeout ({offer.timeout})"
        )
    elif offer.timeout - offer.lock_timeout > UINT24_MAX:
        problems.append(
            f"timeout - lockTimeout ({offer.timeout - offer.lock_timeout}) exceeds {UINT24_MAX} s"
        )
    if deadline(offer) >= MAX_DEADLINE:
        problems.append(f"rampUpStart + timeout ({deadline(offer)}) must be below 2**40")
    return problems


def validate_offer(offer: Offer) -> None:
    """Raise :class:`InvalidOfferError` naming every rule the offer breaks.

    The rules are the contract's (``InvalidRequest`` on chain): ``minPrice <= maxPrice``,
    ``rampUpPeriod <= lockTimeout <= timeout``, ``timeout - lockTimeout`` fits 24 bits and
    the deadline is below 2**40.
    """
    problems = offer_problems(offer)
    if problems:
        raise InvalidOfferError("invalid offer: " + "; ".join(problems))
