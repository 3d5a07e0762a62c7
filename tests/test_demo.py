"""The README's demo runs the whole stack: a broker process prices, locks, proves and
fulfils the requestor's requests on a local chain and cluster, and refuses the one priced
below its gas. The cluster proves for real (the default STARK profile, as in the README's
demo); the requestor verifies every STARK receipt off chain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proofmarket.zkvm import execute
from proofmarket.zkvm.guests import example_elf

DEMO = [sys.executable, "-m", "proofmarket.cli.main", "demo", "--n", "77", "--json"]


@pytest.mark.slow
def test_demo_runs_the_whole_market_with_a_broker() -> None:
    result = subprocess.run(
        DEMO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:] + result.stdout[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    requests = {r["name"]: r for r in summary["requests"]}
    broker = summary["broker"]["address"]

    fib = requests["fib(77)"]
    assert fib["journal"] == execute(example_elf("fib"), (77).to_bytes(4, "little")).journal.hex()
    fulfilled = [r for r in requests.values() if r["fulfilled_by"] is not None]
    assert {r["guest"] for r in fulfilled} == {"fib", "iter", "sha256"}
    for r in fulfilled:
        assert r["locked_by"] == r["fulfilled_by"] == broker
        assert r["journal"] == r["expected_journal"]
        assert r["checks"]["seal_verifies_on_chain"] is True
        assert r["checks"]["receipt_verifies_off_chain"] is True
        assert r["verified"] is True and r["dev_mode"] is False
        assert r["receipt_mode"] == "STARK (default)"
        assert r["receipt"]["mode"] == "STARK" and r["receipt"]["verified"] is True
        assert r["receipt"]["stark_profiles"] == ["default"]
        assert 0 < r["price_wei"] <= r["max_price_wei"]

    underpriced = [r for r in requests.values() if r["fulfilled_by"] is None]
    assert len(underpriced) == 1
    assert underpriced[0]["locked_by"] is None and "gas cost" in underpriced[0]["skipped"]

    assert summary["broker"]["orders"].get("Done") == len(fulfilled)
    transactions = summary["broker"]["transactions"]
    assert all(t["status"] == "confirmed" for t in transactions)
    nonces = [t["nonce"] for t in transactions]
    assert nonces == sorted(nonces) and len(set(nonces)) == len(nonces)
    assert sum(1 for t in transactions if t["purpose"] == "lock") == len(fulfilled)
    metrics = summary["broker"]["metrics"]
    assert metrics["proofmarket_broker_locks_total{outcome=confirmed}"] == len(fulfilled)
    assert metrics["proofmarket_broker_lock_latency_seconds_count"] == len(fulfilled)
    assert metrics["proofmarket_broker_orders{state=Done}"] == len(fulfilled)
    assert metrics["proofmarket_broker_profit_wei"] == pytest.approx(  # a float sample
        sum(r["price_wei"] for r in fulfilled) - summary["broker"]["gas_spent_wei"], rel=1e-12
    )
    assert summary["stark"]["proof_bytes"] > 0
    assert summary["proving"] == {"dev_mode": False, "stark_profile": "default"}
    assert "dev verifier" in summary["on_chain"]
