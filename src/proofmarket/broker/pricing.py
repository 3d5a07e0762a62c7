"""Pricing: Boundless's ``OrderPicker`` formulas in integer arithmetic.

Pure functions of the request, the config and chain facts (gas price, balances, time), so
they are tested without a chain. ``exec_limits`` bounds the preflight, ``price_lockable``
and ``price_lock_expired`` turn a preflight's cycle count into a decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from proofmarket.broker.config import MarketConfig
from proofmarket.broker.order import FulfillmentType
from proofmarket.market import pricing as offer_math
from proofmarket.market.types import Offer, ProofRequest

MCYCLE = 1_000_000
U64_MAX = (1 << 64) - 1


@dataclass(frozen=True)
class Skip:
    """Do not take the order, and why."""

    reason: str


@dataclass(frozen=True)
class Take:
    """Lock (or prove, for lapsed locks) at ``target_timestamp`` (0 = as soon as possible)."""

    total_cycles: int
    target_timestamp: int
    expiry: int


def order_gas(config: MarketConfig, request: ProofRequest, kind: FulfillmentType) -> int:
    """Gas of the fulfil (+ lock) transactions this order needs."""
    gas = config.fulfill_gas_estimate + request.requirements.callback.gas_limit
    if kind is FulfillmentType.LOCK_AND_FULFILL:
        gas += config.lockin_gas_estimate
    return gas


def fulfil_gas(config: MarketConfig, request: ProofRequest) -> int:
    return config.fulfill_gas_estimate + request.requirements.callback.gas_limit


def exec_limits(
    config: MarketConfig,
    request: ProofRequest,
    kind: FulfillmentType,
    gas_cost: int,
    now: int,
    *,
    priority: bool = False,
) -> tuple[int, int]:
    """``(preflight_limit, prove_limit)`` in cycles (``calculate_exec_limits``)."""
    offer = request.offer
    lock_expired = kind is FulfillmentType.FULFILL_AFTER_LOCK_EXPIRE
    reward = offer_math.collateral_reward_if_locked_and_not_fulfilled(offer)
    stake_price = config.mcycle_price_collateral_units
    stake_limit = U64_MAX if stake_price == 0 else offer_math.ceil_div(reward * MCYCLE, stake_price)
    preflight = prove = stake_limit
    if not lock_expired:
        price = config.mcycle_price_wei
        eth_limit = U64_MAX if price == 0 else max(0, offer.max_price - gas_cost) * MCYCLE // price
        if eth_limit > stake_limit:
            preflight = prove = eth_limit
        else:
            prove = eth_limit
    if config.max_mcycle_limit is not None and not priority:
        cap = config.max_mcycle_limit * MCYCLE
        preflight, prove = min(preflight, cap), min(prove, cap)
    if config.peak_prove_khz:
        expiry = offer.lock_deadline if not lock_expired else offer.deadline
        window = config.peak_prove_khz * 1000 * max(0, expiry - now)
        prove = min(prove, window)
        lapsed = config.peak_prove_khz * 1000 * (offer.deadline - offer.lock_deadline)
        preflight = min(preflight, max(window, lapsed))
    return min(preflight, U64_MAX), min(prove, U64_MAX)


def price_lockable(
    config: MarketConfig, offer: Offer, total_cycles: int, gas_cost: int
) -> Take | Skip:
    """``evaluate_lockable_order``: lock when the offer reaches ``mcycle_price``."""
    cycles = max(total_cycles, 1)
    price = config.mcycle_price_wei
    max_per_mcycle = max(0, offer.max_price - gas_cost) * MCYCLE // cycles
    if max_per_mcycle < price:
        return Skip(
            f"max price pays {max_per_mcycle} wei per Mcycle after gas, below mcycle_price "
            f"({price} wei)"
        )
    min_per_mcycle = max(0, offer.min_price - gas_cost) * MCYCLE // cycles
    if min_per_mcycle >= price:
        target = 0
    else:
        wanted = offer_math.ceil_div(price * cycles, MCYCLE) + gas_cost
        target = offer_math.time_at_price(offer, min(wanted, offer.max_price))
    return Take(total_cycles, target, offer.lock_deadline)


def price_lock_expired(config: MarketConfig, offer: Offer, total_cycles: int) -> Take | Skip:
    """``evaluate_lock_expired_order``: priced only on the collateral reward."""
    reward = offer_math.collateral_reward_if_locked_and_not_fulfilled(offer)
    per_mcycle = reward * MCYCLE // max(total_cycles, 1)
    if per_mcycle < config.mcycle_price_collateral_units:
        return Skip(
            f"collateral reward pays {per_mcycle} per Mcycle, below "
            f"mcycle_price_collateral_token ({config.mcycle_price_collateral_units})"
        )
    return Take(total_cycles, offer.lock_deadline, offer.deadline)
