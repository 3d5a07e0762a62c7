"""Gas used by the market's hot paths on a fresh anvil with the dev stack deployed.

Reports: lockRequest (direct and relayed with a prover signature), a single fulfil of a
locked request (dev-mode seal), the two steps of a never-locked fulfil (commitFulfillment,
then the reveal) and their sum, the set-root submission, the per-fill cost of batches of
locked fills proved by set inclusion (root submitted first, and root submitted in the same
transaction), the per-fill cost of committing a batch, and the deployed code sizes. Figures
are receipt ``gasUsed`` (after refunds), each the median over a few runs.

    python bench/gas_report.py [--batches 32,256] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from web3 import Web3

from proofmarket.contracts.compile import load_artifact
from proofmarket.contracts.deploy import contract_at, deploy_market_stack
from proofmarket.contracts.seals import (
    dev_root_seal,
    merkle_path,
    merkle_root,
    set_inclusion_seal,
)
from proofmarket.contracts.testing import (
    IMAGE_ID,
    NEVER,
    ChainEnv,
    Market,
    claim_digest,
    digest_match,
    fulfillment,
    sign_lock,
)
from proofmarket.devnet.anvil import AnvilProcess, dev_accounts

TARGETS = {"lock": 110_000, "fulfill_locked": 90_000, "fulfill_batch_32_per_fill": 50_000}
BOUNDLESS = {"lock": 135_000, "fulfill_locked": 117_000, "fulfill_batch_32_per_fill": 67_000}
CONTRACTS = ("ProofMarket", "ProofMarketExtension", "HitPoints", "VerifierRouter", "SetVerifier")
CODE_SIZE_LIMIT = 24_576  # EIP-170


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


def _singles(env: ChainEnv, market: Market, runs: int) -> dict[str, int]:
    prover, relayer, client = env.provers[0], env.others[0], env.clients[0]
    gas: dict[str, list[int]] = {}

    def add(name: str, value: int) -> None:
        gas.setdefault(name, []).append(value)

    for _ in range(runs):
        req, sig = market.request(client, start_in=0)
        add("lock", market.lock(req, sig, prover)["gasUsed"])
        add("fulfill_locked", market.fulfill(fulfillment(req, sig), prover)["gasUsed"])
        relayed, relayed_sig = market.request(client, start_in=0)
        prover_sig = sign_lock(relayed, prover, market.chain_id, market.address)
        call = env.market.functions.lockRequestWithSignature(
            relayed.as_tuple(), relayed_sig, prover_sig, 0, NEVER
        )
        add("lock_with_signature", env.send(call, relayer)["gasUsed"])
        open_req, open_sig = market.request(client, start_in=0)
        fill = fulfillment(open_req, open_sig)
        commit = market.commit([fill], prover)["gasUsed"]
        call = env.market.functions.commitFulfillment(market.commitment(fill, env.provers[1]))
        add("commit_fulfillment", env.send(call, env.provers[1])["gasUsed"])
        reveal = market.fulfill(fill, prover)["gasUsed"]
        add("fulfill_never_locked_reveal", reveal)
        add("fulfill_never_locked_total", commit + reveal)
    return {name: int(statistics.median(values)) for name, values in gas.items()}


def _batch(env: ChainEnv, market: Market, batch: int, tag: str) -> dict[str, int]:
    """Per-fill gas of one batch of locked fills (root apart, root included) and of
    committing a batch of never-locked fills."""
    prover, client = env.provers[0], env.clients[0]
    image_id = bytes.fromhex(env.deployment.set_builder_image_id[2:])
    selector = bytes.fromhex(env.deployment.set_verifier_selector[2:])
    out: dict[str, int] = {}
    for with_root in (False, True):
        items = []
        for i in range(batch):
            journal = f"batch {tag}/{with_root}/{i}".encode()
            req, sig = market.request(client, start_in=0, predicate=digest_match(IMAGE_ID, journal))
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
        if with_root and batch <= 32:  # one transaction takes at most 32 fills with the root
            call = env.market.functions.submitRootAndFulfillBatch(
                env.deployment.set_verifier, root, root_seal, fills
            )
            out[f"submit_root_and_fulfill_batch_{batch}_per_fill"] = (
                env.send(call, prover)["gasUsed"] // batch
            )
        elif not with_root:
            receipt = env.send(env.set_verifier.functions.submitMerkleRoot(root, root_seal), prover)
            out["submit_root"] = receipt["gasUsed"]
            gas = market.fulfill_batch(fills, prover)["gasUsed"]
            out[f"fulfill_batch_{batch}_per_fill"] = gas // batch
    open_fills = []
    for i in range(batch):
        req, sig = market.request(
            client, start_in=0, predicate=digest_match(IMAGE_ID, f"open {tag}/{i}".encode())
        )
        open_fills.append(fulfillment(req, sig, journal=f"open {tag}/{i}".encode()))
    out[f"commit_batch_{batch}_per_fill"] = market.commit(open_fills, prover)["gasUsed"] // batch
    return out


def _measure(env: ChainEnv, market: Market, batches: list[int], runs: int) -> dict[str, Any]:
    figures: dict[str, Any] = dict(_singles(env, market, runs))
    for batch in batches:
        figures.update(_batch(env, market, batch, str(batch)))
    figures["code_size"] = {name: load_artifact(name).runtime_size for name in CONTRACTS}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--batches", default="32,256", help="batch sizes, comma-separated (default 32,256)"
    )
    parser.add_argument("--runs", type=int, default=3, help="repetitions per single figure")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    batches = [int(part) for part in args.batches.split(",") if part.strip()]
    with AnvilProcess.start() as anvil:
        env, market = _setup(anvil)
        figures = _measure(env, market, batches, args.runs)
    if args.json:
        print(json.dumps({"gas": figures, "targets": TARGETS, "boundless": BOUNDLESS}, indent=2))
        return
    print(f"{'operation':44} {'gas':>9} {'target':>9} {'Boundless':>10}")
    for name, value in figures.items():
        if name == "code_size":
            continue
        target = f"{TARGETS[name]:,}" if name in TARGETS else "-"
        ref = f"{BOUNDLESS[name]:,}" if name in BOUNDLESS else "-"
        print(f"{name:44} {value:>9,} {target:>9} {ref:>10}")
    print("(batches: locked fills, set-inclusion seals, dev-mode root seal)")
    print(f"\n{'contract':24} {'runtime bytes':>14} {'of 24,576':>10}")
    for name, size in figures["code_size"].items():
        print(f"{name:24} {size:>14,} {size / CODE_SIZE_LIMIT:>10.1%}")


if __name__ == "__main__":
    main()
