"""Gas used by the market's hot paths on a fresh anvil with the dev stack deployed.

Reports: lockRequest, a single fulfil (locked path, dev-mode seal), the set-root submission,
and the per-fill cost of a batch of 32 fills proved by set inclusion (root submitted first,
and root submitted in the same transaction). Figures are receipt ``gasUsed`` (after refunds),
each the median over a few runs.

    python bench/gas_report.py [--batch 32] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from web3 import Web3

from proofmarket.contracts.deploy import contract_at, deploy_market_stack
from proofmarket.contracts.seals import (
    dev_root_seal,
    merkle_path,
    merkle_root,
    set_inclusion_seal,
)
from proofmarket.contracts.testing import (
    IMAGE_ID,
    ChainEnv,
    Market,
    claim_digest,
    digest_match,
    fulfillment,
)
from proofmarket.devnet.anvil import AnvilProcess, dev_accounts

TARGETS = {"lock": 110_000, "fulfill_single": 90_000, "fulfill_batch_per_fill": 50_000}
BOUNDLESS = {"lock": 135_000, "fulfill_single": 117_000, "fulfill_batch_per_fill": 67_000}


def _setup(anvil: AnvilProcess) -> tuple[ChainEnv, Market]:
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 120}))
    deployer = dev_accounts()[0].address
    deployment = deploy_market_stack(w3, deployer, dev_mode=True)
    env = ChainEnv(w3, deployment, anvil)
    token = contract_at(w3, "HitPoints", deployment.collateral_token)
    for prover in env.provers:
        env.send(token.functions.mint(prover.address, 10**24), deployer)
        env.deposit_stake(prover, 10**24)
    for client in env.clients:
        env.deposit(client, 1_000 * 10**18)
    return env, Market(env)


def _measure(env: ChainEnv, market: Market, batch: int, runs: int) -> dict[str, Any]:
    prover = env.provers[0]
    client = env.clients[0]
    lock_gas: list[int] = []
    single_gas: list[int] = []
    never_locked_gas: list[int] = []
    for _ in range(runs):
        req, sig = market.request(client, start_in=0)
        lock_gas.append(market.lock(req, sig, prover)["gasUsed"])
        single_gas.append(market.fulfill(fulfillment(req, sig), prover)["gasUsed"])
        req2, sig2 = market.request(client, start_in=0)
        never_locked_gas.append(market.fulfill(fulfillment(req2, sig2), prover)["gasUsed"])

    image_id = bytes.fromhex(env.deployment.set_builder_image_id[2:])
    selector = bytes.fromhex(env.deployment.set_verifier_selector[2:])
    per_fill: list[float] = []
    per_fill_with_root: list[float] = []
    root_gas: list[int] = []
    for run in range(runs):
        for with_root in (False, True):
            items = []
            for i in range(batch):
                journal = f"batch {run}/{with_root}/{i}".encode()
                req, sig = market.request(
                    client, start_in=0, predicate=digest_match(IMAGE_ID, journal)
                )
                market.lock(req, sig, prover)
                items.append((req, sig, journal))
            digests = [claim_digest(IMAGE_ID, j) for _, _, j in items]
            root = merkle_root(digests)
            fills = [
                fulfillment(
                    req,
                    sig,
                    journal=journal,
                    seal=set_inclusion_seal(selector, merkle_path(digests, i)),
                )
                for i, (req, sig, journal) in enumerate(items)
            ]
            root_seal = dev_root_seal(image_id, root)
            if with_root:
                call = env.market.functions.submitRootAndFulfillBatch(
                    env.deployment.set_verifier, root, root_seal, fills
                )
                per_fill_with_root.append(env.send(call, prover)["gasUsed"] / batch)
            else:
                receipt = env.send(
                    env.set_verifier.functions.submitMerkleRoot(root, root_seal), prover
                )
                root_gas.append(receipt["gasUsed"])
                call = env.market.functions.fulfillBatch(fills)
                per_fill.append(env.send(call, prover)["gasUsed"] / batch)
    return {
        "lock": int(statistics.median(lock_gas)),
        "fulfill_single": int(statistics.median(single_gas)),
        "fulfill_single_never_locked": int(statistics.median(never_locked_gas)),
        "submit_root": int(statistics.median(root_gas)),
        "batch_size": batch,
        "fulfill_batch_per_fill": int(statistics.median(per_fill)),
        "submit_root_and_fulfill_batch_per_fill": int(statistics.median(per_fill_with_root)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32, help="fills per batch (default 32)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions per figure (median)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    with AnvilProcess.start() as anvil:
        env, market = _setup(anvil)
        figures = _measure(env, market, args.batch, args.runs)
    if args.json:
        print(json.dumps({"gas": figures, "targets": TARGETS, "boundless": BOUNDLESS}, indent=2))
        return
    print(f"{'operation':44} {'gas':>9} {'target':>9} {'Boundless':>10}")
    for name, value in figures.items():
        if name == "batch_size":
            continue
        target = f"{TARGETS[name]:,}" if name in TARGETS else "-"
        ref = f"{BOUNDLESS[name]:,}" if name in BOUNDLESS else "-"
        print(f"{name:44} {value:>9,} {target:>9} {ref:>10}")
    print(f"(batch of {figures['batch_size']} fills, set-inclusion seals, dev-mode root seal)")


if __name__ == "__main__":
    main()
