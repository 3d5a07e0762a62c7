"""Pricing (Boundless's formulas) and capacity math, without a chain."""

from __future__ import annotations

from proofmarket.broker import capacity, pricing
from proofmarket.broker.config import parse_config
from proofmarket.broker.order import FulfillmentType
from proofmarket.market.types import Offer

ETHER = 10**18


def offer(**changes) -> Offer:
    values = dict(
        min_price=ETHER // 1000,
        max_price=ETHER // 100,
        ramp_up_start=1000,
        ramp_up_period=100,
        lock_timeout=300,
        timeout=600,
        lock_collateral=2 * ETHER,
    )
    values.update(changes)
    return Offer(**values)


def market(text: str = ""):
    return parse_config("[market]\n" + text).market


def test_lockable_locks_at_once_when_min_price_pays():
    cfg = market('mcycle_price = "0.001"')
    take = pricing.price_lockable(cfg, offer(), total_cycles=100_000, gas_cost=0)
    assert isinstance(take, pricing.Take)
    assert take.target_timestamp == 0
    assert take.expiry == 1300


def test_lockable_waits_for_the_ramp():
    # 1M cycles at 0.005 ETH/Mcycle: worth it once the price reaches 0.005 ETH
    cfg = market('mcycle_price = "0.005"')
    take = pricing.price_lockable(cfg, offer(), total_cycles=1_000_000, gas_cost=0)
    assert isinstance(take, pricing.Take)
    o = offer()
    assert take.target_timestamp == 1000 + -(
        -(5 * ETHER // 1000 - o.min_price) * 100 // (o.max_price - o.min_price)
    )
    from proofmarket.market.pricing import price_at

    assert price_at(o, take.target_timestamp) >= 5 * ETHER // 1000
    assert price_at(o, take.target_timestamp - 1) < 5 * ETHER // 1000


def test_lockable_skips_when_max_price_does_not_pay():
    cfg = market('mcycle_price = "0.02"')
    skip = pricing.price_lockable(cfg, offer(), total_cycles=1_000_000, gas_cost=0)
    assert isinstance(skip, pricing.Skip)
    assert "below mcycle_price" in skip.reason
    # gas eats the margin
    cfg = market('mcycle_price = "0.001"')
    skip = pricing.price_lockable(cfg, offer(), total_cycles=1_000_000, gas_cost=ETHER // 100)
    assert isinstance(skip, pricing.Skip)


def test_lock_expired_priced_on_half_the_collateral():
    cfg = market('mcycle_price_collateral_token = "1"')
    take = pricing.price_lock_expired(cfg, offer(), total_cycles=1_000_000)
    assert isinstance(take, pricing.Take)  # reward 1 HP per Mcycle
    assert (take.target_timestamp, take.expiry) == (1300, 1600)
    skip = pricing.price_lock_expired(cfg, offer(), total_cycles=1_000_001)
    assert isinstance(skip, pricing.Skip)


def test_exec_limits():
    cfg = market('mcycle_price = "0.001"\nmcycle_price_collateral_token = "1"')
    pre, prove = pricing.exec_limits(
        cfg, _request(offer()), FulfillmentType.LOCK_AND_FULFILL, 0, 1000
    )
    # ETH limit: 0.01 ETH / 0.001 per Mcycle = 10 Mcycles; stake limit 1 Mcycle
    assert (pre, prove) == (10_000_000, 10_000_000)
    cfg = market(
        'mcycle_price = "0.001"\nmcycle_price_collateral_token = "1"\nmax_mcycle_limit = 2'
    )
    assert pricing.exec_limits(
        cfg, _request(offer()), FulfillmentType.LOCK_AND_FULFILL, 0, 1000
    ) == (2_000_000, 2_000_000)
    cfg = market('mcycle_price = "0.001"\nmcycle_price_collateral_token = "1"\npeak_prove_khz = 1')
    pre, prove = pricing.exec_limits(
        cfg, _request(offer()), FulfillmentType.LOCK_AND_FULFILL, 0, 1200
    )
    assert prove == 1000 * 100  # 100 s to the lock deadline at 1 kHz
    assert pre == 1000 * 300  # enough to serve the lapsed-lock order too


def _request(o: Offer):
    from proofmarket.market.predicates import prefix_match
    from proofmarket.market.types import ProofRequest, RequestInput, Requirements

    return ProofRequest(
        id=(0x1234 << 32) | 1,
        requirements=Requirements(predicate=prefix_match(bytes(32), b"")),
        image_url="file:///x",
        input=RequestInput.inline(b"\x00"),
        offer=o,
    )


def test_capacity_by_count():
    candidates = [capacity.Candidate(str(i), 1000, 10_000) for i in range(5)]
    decision = capacity.apply_capacity(
        candidates,
        [capacity.Committed(1000, 0)],
        now=0,
        max_concurrent_proofs=3,
        peak_prove_khz=None,
        additional_proof_cycles=0,
        deadline_buffer=0,
    )
    assert decision.accepted == ["0", "1"]
    assert decision.later == ["2", "3", "4"]
    stop = capacity.apply_capacity(
        candidates,
        [],
        now=0,
        max_concurrent_proofs=0,
        peak_prove_khz=None,
        additional_proof_cycles=0,
        deadline_buffer=0,
    )
    assert stop.accepted == [] and len(stop.later) == 5


def test_capacity_by_deadline_math():
    # 1 kHz: 100k cycles take 100 s each
    candidates = [
        capacity.Candidate("a", 100_000, 150),
        capacity.Candidate("b", 100_000, 210),
        capacity.Candidate("c", 100_000, 260),
        capacity.Candidate("d", 100_000, 90),
    ]
    decision = capacity.apply_capacity(
        candidates,
        [],
        now=0,
        max_concurrent_proofs=None,
        peak_prove_khz=1,
        additional_proof_cycles=0,
        deadline_buffer=20,
    )
    # a finishes at 100 (+20 <= 150); b would finish at 200 (+20 > 210): later;
    # c fits after a (200 + 20 <= 260)
    assert decision.accepted == ["a", "c"]
    assert decision.later == ["b"]
    assert "d" in decision.never  # cannot finish by 90 even alone
    assert capacity.prove_seconds(100_001, 1) == 101


def test_pricing_rank_puts_priority_requestors_first_then_the_configured_order():
    from proofmarket.broker.market_monitor import Candidate
    from proofmarket.broker.picker import pricing_rank

    def candidate(client_index: int, lock_timeout: int, seen: float) -> Candidate:
        request = _request(offer(lock_timeout=lock_timeout, timeout=900))
        request = request.model_copy(update={"id": (client_index << 32) | 1})
        return Candidate(request, b"", FulfillmentType.LOCK_AND_FULFILL, seen, 0)

    early_long = candidate(0x11, 800, seen=1.0)
    late_short = candidate(0x22, 200, seen=2.0)
    vip = candidate(0x33, 800, seen=3.0)
    vip_address = vip.request.client

    def order(text: str) -> list[Candidate]:
        cfg = market(text + f'\npriority_requestor_addresses = ["{vip_address}"]')
        return sorted([early_long, late_short, vip], key=lambda c: pricing_rank(cfg, c))

    assert order('order_pricing_priority = "observation_time"') == [vip, early_long, late_short]
    assert order('order_pricing_priority = "shortest_expiry"') == [vip, late_short, early_long]
    assert order('order_pricing_priority = "random"')[0] is vip


def test_batch_finalize_triggers():
    from proofmarket.broker.aggregator import finalize_reason
    from proofmarket.broker.config import parse_config

    def cfg(text: str = ""):
        return parse_config("[batcher]\n" + text).batcher

    batch = {
        "orders": ["a"],
        "journal_bytes": 10,
        "start_time": 1000,
        "fees": "0x0",
        "deadline": 5000,
    }
    assert finalize_reason({**batch, "orders": []}, cfg(), now=1000, wall=1000) is None
    assert finalize_reason(batch, cfg("min_batch_size = 1"), 1000, 1000) == "min_batch_size (1)"
    wide = "min_batch_size = 5\nblock_deadline_buffer_secs = 10\n"
    assert finalize_reason(batch, cfg(wide), 1000, 1000) is None
    assert finalize_reason(batch, cfg(wide + "batch_max_journal_bytes = 10"), 1000, 1000) == (
        "batch_max_journal_bytes"
    )
    assert finalize_reason(batch, cfg(wide + "batch_max_time = 30"), 1000, 1030) == "batch_max_time"
    rich = {**batch, "fees": hex(ETHER)}
    assert finalize_reason(rich, cfg(wide + 'batch_max_fees = "1"'), 1000, 1000) == "batch_max_fees"
    assert finalize_reason(batch, cfg(wide), now=4990, wall=1000) == "block_deadline_buffer_secs"
    full = {**batch, "orders": [str(i) for i in range(32)]}
    assert finalize_reason(full, cfg("min_batch_size = 100"), 1000, 1000) == "full"
