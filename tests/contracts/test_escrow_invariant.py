"""Escrow invariant under random operation sequences.

After every operation -- deposit (own or to another account), withdraw, stake (own or to
another account), unstake, lock (direct or relayed with a prover signature), commit, fulfil,
fulfil-and-withdraw, slash, unfreeze, time travel; valid or rejected -- the ETH the market
holds equals the sum of all account balances (treasury included) plus the prices escrowed in
open locks, and the collateral it holds equals all stakes plus the collateral escrowed in
unsettled locks.
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError, Web3RPCError

from proofmarket.contracts.deploy import DeploymentError
from proofmarket.contracts.testing import ChainEnv, Market, Request, fulfillment, sign_lock

_lock = st.tuples(st.just("lock"), st.integers(0, 7), st.integers(0, 2))
_fulfill = st.tuples(st.just("fulfill"), st.integers(0, 7), st.integers(0, 2))
_slash = st.tuples(st.just("slash"), st.integers(0, 7), st.integers(0, 2))
_commit = st.tuples(st.just("commit"), st.integers(0, 7), st.integers(0, 2))
_relay_lock = st.tuples(st.just("relay_lock"), st.integers(0, 7), st.integers(0, 2))
_fulfill_withdraw = st.tuples(st.just("fulfill_withdraw"), st.integers(0, 7), st.integers(0, 2))
_advance = st.tuples(st.just("advance"), st.integers(0, 2), st.sampled_from([1, 15, 40, 90]))
# market operations are listed twice so that sequences exercise them more often
ops = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, 1), st.integers(0, 10**16)),
    st.tuples(st.just("withdraw"), st.integers(0, 1), st.integers(0, 10**16)),
    st.tuples(st.just("stake"), st.integers(0, 2), st.integers(0, 20 * 10**18)),
    st.tuples(st.just("unstake"), st.integers(0, 2), st.integers(0, 20 * 10**18)),
    st.tuples(st.just("request"), st.integers(0, 1), st.integers(0, 3)),
    st.tuples(st.just("unfreeze"), st.integers(0, 2), st.integers(0, 0)),
    st.tuples(st.just("deposit_to"), st.integers(0, 4), st.integers(0, 10**16)),
    st.tuples(st.just("collateral_to"), st.integers(0, 2), st.integers(0, 5 * 10**18)),
    _commit,
    _commit,
    _relay_lock,
    _fulfill_withdraw,
    _lock,
    _lock,
    _fulfill,
    _fulfill,
    _slash,
    _advance,
    _advance,
)

EXPECTED_FAILURES = (ContractLogicError, DeploymentError, Web3RPCError, ValueError)


def _check_invariant(env: ChainEnv, requests: list[tuple[Request, bytes]]) -> None:
    market = env.market.functions
    holders = [a.address for a in (*env.clients, *env.provers)] + [env.deployment.treasury]
    locks = [market.requestLock(r.id).call() for r, _ in requests]
    escrowed_eth = sum(lock[1] for lock in locks)
    escrowed_collateral = sum(lock[2] for lock in locks)
    eth_held = env.w3.eth.get_balance(env.deployment.market)
    assert eth_held == sum(env.balance(h) for h in holders) + escrowed_eth
    collateral_held = env.token.functions.balanceOf(env.deployment.market).call()
    assert collateral_held == sum(env.stake(h) for h in holders) + escrowed_collateral


def _apply(env: ChainEnv, m: Market, requests: list[tuple[Request, bytes]], op: tuple) -> None:
    name, a, b = op
    market = env.market.functions
    if name == "deposit":
        env.send(market.deposit(), env.clients[a], value=b)
    elif name == "withdraw":
        env.send(market.withdraw(b), env.clients[a])
    elif name == "stake":
        env.deposit_stake(env.provers[a], b)
    elif name == "unstake":
        env.send(market.withdrawStake(b), env.provers[a])
    elif name == "deposit_to":
        receiver = (*env.clients, *env.provers)[a]
        env.send(market.depositTo(receiver.address), env.others[0], value=b)
    elif name == "collateral_to":
        payer, receiver = env.provers[a], env.provers[(a + 1) % 3]
        env.send(env.token.functions.approve(env.deployment.market, b), payer)
        env.send(market.depositCollateralTo(receiver.address, b), payer)
    elif name == "request":
        req, sig = m.request(
            env.clients[a],
            start_in=b * 5,
            min_price=10**14,
            max_price=10**15,
            ramp_up_period=20,
            lock_timeout=40,
            timeout=120,
            lock_collateral=3 * 10**18 + b,
        )
        # broadcast it; the attached ETH is deposited for the client
        env.send(market.submitRequest(req.as_tuple(), sig), env.clients[a], value=b * 10**14)
        requests.append((req, sig))
    elif name == "advance":
        env.advance(b)
    elif name == "unfreeze":
        env.send(market.unfreezeAccount(), env.provers[a])
    elif requests:
        req, sig = requests[a % len(requests)]
        prover = env.provers[b]
        if name == "lock":
            m.lock(req, sig, prover)
        elif name == "relay_lock":
            prover_sig = sign_lock(req, prover, m.chain_id, m.address, expires_at=env.now() + 30)
            call = market.lockRequestWithSignature(
                req.as_tuple(), sig, prover_sig, 0, env.now() + 30
            )
            env.send(call, env.others[1])
        elif name == "commit":
            m.commit([fulfillment(req, sig)], prover)
        elif name == "fulfill":
            m.fulfill(fulfillment(req, sig), prover)
        elif name == "fulfill_withdraw":
            env.send(market.fulfillAndWithdraw([fulfillment(req, sig)]), prover)
        elif name == "slash":
            env.send(market.slash(req.id), prover)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(ops, min_size=5, max_size=30))
def test_escrow_invariant_random_sequences(chain: ChainEnv, sequence: list[tuple]) -> None:
    snapshot = chain.rpc("evm_snapshot")
    try:
        for client in chain.clients:
            chain.deposit(client, 10**16)
        for prover in chain.provers:
            chain.deposit_stake(prover, 10 * 10**18)
        m = Market(chain)
        requests: list[tuple[Request, bytes]] = []
        for client_index, delay in ((0, 0), (1, 1), (0, 2)):
            _apply(chain, m, requests, ("request", client_index, delay))
        _check_invariant(chain, requests)
        for op in sequence:
            # a rejected operation must leave the books balanced too
            with contextlib.suppress(*EXPECTED_FAILURES):
                _apply(chain, m, requests, op)
            _check_invariant(chain, requests)
    finally:
        assert chain.rpc("evm_revert", snapshot) is True


def test_escrow_invariant_scripted_lifecycle(chain: ChainEnv) -> None:
    """Every payment path once, in a fixed order (a deterministic companion to the above)."""
    m = Market(chain)
    for client in chain.clients:
        chain.deposit(client, 10**17)
    for prover in chain.provers:
        chain.deposit_stake(prover, 10 * 10**18)
    short = {"start_in": 0, "lock_timeout": 20, "timeout": 60, "ramp_up_period": 10}
    paid, paid_sig = m.request(chain.clients[0], **short)
    lapsed, lapsed_sig = m.request(chain.clients[0], **short)
    dropped, dropped_sig = m.request(chain.clients[1], **short)
    open_req, open_sig = m.request(chain.clients[1], **short)
    requests = [
        (paid, paid_sig),
        (lapsed, lapsed_sig),
        (dropped, dropped_sig),
        (open_req, open_sig),
    ]
    m.lock(paid, paid_sig, chain.provers[0])
    m.lock(lapsed, lapsed_sig, chain.provers[1])
    m.lock(dropped, dropped_sig, chain.provers[2])
    _check_invariant(chain, requests)
    m.fulfill(fulfillment(paid, paid_sig), chain.provers[0])
    m.commit_and_fulfill(fulfillment(open_req, open_sig), chain.provers[0])
    _check_invariant(chain, requests)
    chain.mine(lapsed.offer.lock_deadline + 1)
    m.commit([fulfillment(lapsed, lapsed_sig)], chain.provers[0])
    chain.send(
        chain.market.functions.fulfillAndWithdraw([fulfillment(lapsed, lapsed_sig)]),
        chain.provers[0],
    )
    assert chain.balance(chain.provers[0].address) == 0
    _check_invariant(chain, requests)
    chain.mine(lapsed.offer.deadline + 1)
    chain.send(chain.market.functions.slash(lapsed.id), chain.others[0])
    chain.send(chain.market.functions.slash(dropped.id), chain.others[0])
    _check_invariant(chain, requests)
    assert chain.stake(chain.deployment.treasury) > 0
