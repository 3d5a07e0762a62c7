"""`request status` and `request submit` in the user's terms, against anvil: an open
request is not a missing one, and a request that cannot succeed costs no gas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proofmarket.zkvm.guests import example_elf_path
from proofmarket.zkvm.layout import MAX_INPUT_BYTES

from .conftest import MarketChain
from .test_cli import cli_env, run, run_json  # noqa: F401 - cli_env is a fixture

SUBMITTER = 6  # the dev key cli_env uses


def nonce(chain: MarketChain) -> int:
    return chain.w3.eth.get_transaction_count(chain.anvil.addresses[SUBMITTER])


def test_status_tells_open_from_missing(cli_env: dict) -> None:  # noqa: F811
    missing = run_json(cli_env, "request", "status", "0x" + "ab" * 20 + "00000999")
    assert missing["state"].startswith("no such request")
    code, output = run(cli_env, "request", "status", "0x" + "ab" * 20 + "00000999")
    assert code == 0 and "never submitted" in output and "searched" in output

    elf = example_elf_path("fib")
    submitted = run_json(
        cli_env, "request", "submit", "--program", str(elf), "--input", "0a000000",
        "--max-price", "0.01", "--lock-stake", "1",
    )  # fmt: skip
    code, output = run(cli_env, "request", "status", submitted["requestId"])
    assert code == 0 and "open, not locked (provers may lock it until" in output
    assert " UTC (in " in output


def test_hopeless_requests_cost_no_gas(
    cli_env: dict,  # noqa: F811
    market_chain: MarketChain,
    tmp_path: Path,
) -> None:
    elf = example_elf_path("fib")
    before = nonce(market_chain)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(MAX_INPUT_BYTES + 1))
    code, output = run(
        cli_env, "request", "submit", "--program", str(elf), "--input-file", str(big),
        "--no-preflight",
    )  # fmt: skip
    assert code == 1 and "no prover could run it" in output, output

    late = tmp_path / "late.yaml"
    now = market_chain.w3.eth.get_block("latest")["timestamp"]
    late.write_text(
        f"""
requirements:
  predicate: {{type: ClaimDigestMatch, data: "0x{"11" * 32}"}}
imageUrl: file:///programs/guest.elf
input: {{type: inline, data: "0x00"}}
offer:
  minPrice: 0
  maxPrice: 1000
  rampUpStart: {now - 500}
  rampUpPeriod: 10
  lockTimeout: 100
  timeout: 200
  lockCollateral: 1
"""
    )
    code, output = run(cli_env, "request", "submit", str(late), "--json")
    assert code == 1
    assert "deadline" in json.loads(output)["error"]
    assert nonce(market_chain) == before  # nothing was sent

    code, output = run(
        cli_env, "request", "submit", "--program", str(elf), "--input", "0a000000",
        "--min-price", "0", "--max-price", "0", "--lock-stake", "1",
    )  # fmt: skip
    assert code == 0 and "warning: the max price is 0" in output


@pytest.mark.slow
def test_wait_says_when_nothing_competes(cli_env: dict) -> None:  # noqa: F811
    elf = example_elf_path("fib")
    code, output = run(
        cli_env, "request", "submit", "--program", str(elf), "--input", "0a000000",
        "--max-price", "0.01", "--lock-stake", "1", "--wait", "--wait-timeout", "24",
    )  # fmt: skip
    assert code == 1  # no prover runs here: the wait times out (bidding opens after 15 s)
    assert "bidding opens" in output, output
    assert "nothing is competing for this request yet" in output, output
    assert "no proof delivered within 24 s (the request is not locked by any prover)" in output


def test_a_token_address_is_not_taken_for_the_market(
    cli_env: dict,  # noqa: F811
    market_chain: MarketChain,
) -> None:
    token = market_chain.deployment.collateral_token
    code, output = run(dict(cli_env, PROOFMARKET_MARKET_ADDRESS=token), "account", "balance")
    assert code == 1
    assert "is not a proofmarket market contract" in output and "ETH" not in output


def test_insufficient_funds_name_the_amounts(cli_env: dict) -> None:  # noqa: F811
    code, output = run(cli_env, "account", "withdraw", "100000")
    assert code == 1 and "withdrawing 100000 ETH but the market balance of" in output
    code, output = run(cli_env, "account", "deposit", "1000000000", "--json")
    assert code == 1
    assert "depositing 1000000000 ETH but" in json.loads(output)["error"]
