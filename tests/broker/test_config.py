"""broker.toml: strict parsing, every key in the template, hot reload, the CLI template."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

import pytest

from proofmarket.broker.config import (
    BatcherConfig,
    BrokerConfig,
    BrokerConfigError,
    ConfigWatcher,
    MarketConfig,
    ProverConfig,
    load_config,
    parse_config,
)
from proofmarket.broker.template import TEMPLATE

GUIDE_KEYS = [
    "mcycle_price",
    "assumption_price",
    "peak_prove_khz",
    "min_deadline",
    "lookback_blocks",
    "max_stake",
    "skip_preflight_ids",
    "max_file_size",
    "allow_client_addresses",
    "lockin_priority_gas",
    "max_concurrent_proofs",
    "max_concurrent_preflights",
]


def test_unknown_key_is_named():
    with pytest.raises(BrokerConfigError, match=re.escape("unknown key 'market.mcycle_pric'")):
        parse_config('[market]\nmcycle_pric = "0.1"\n')
    with pytest.raises(BrokerConfigError, match=re.escape("unknown key 'batchr'")):
        parse_config("[batchr]\ntxn_timeout = 4\n")
    with pytest.raises(BrokerConfigError, match=re.escape("unknown key 'prover.status_pol_ms'")):
        parse_config("[prover]\nstatus_pol_ms = 4\n")


def test_bad_values_say_which_key():
    with pytest.raises(BrokerConfigError, match=r"market.mcycle_price: .*not a number"):
        parse_config('[market]\nmcycle_price = "cheap"\n')
    with pytest.raises(BrokerConfigError, match=re.escape("batcher.txn_timeout")):
        parse_config("[batcher]\ntxn_timeout = 0\n")
    with pytest.raises(BrokerConfigError, match=re.escape("market.allow_client_addresses")):
        parse_config('[market]\nallow_client_addresses = ["0x1234"]\n')
    with pytest.raises(BrokerConfigError, match="not valid TOML"):
        parse_config("[market\n")
    with pytest.raises(BrokerConfigError, match="cannot read"):
        load_config("/nonexistent/broker.toml")


def test_guide_keys_and_aliases():
    config = parse_config(
        '[market]\nmax_collateral = "7.5"\nmax_concurrent_locks = 3\n[batcher]\nbatch_size = 4\n'
    )
    assert config.market.max_stake_units == 7_500_000_000_000_000_000
    assert config.market.max_concurrent_proofs == 3
    assert config.batcher.min_batch_size == 4
    market_fields = set(MarketConfig.model_fields)
    for key in GUIDE_KEYS:
        assert key in market_fields
    assert "txn_timeout" in BatcherConfig.model_fields
    assert "block_deadline_buffer_secs" in BatcherConfig.model_fields
    assert "max_mcycle_limit" in market_fields and "max_journal_bytes" in market_fields


def test_template_lists_every_key_and_parses():
    config = parse_config(TEMPLATE, "template")
    assert isinstance(config, BrokerConfig)
    # every key appears, set or commented out, in its section
    sections = {"market": MarketConfig, "prover": ProverConfig, "batcher": BatcherConfig}
    current = None
    seen: dict[str, set[str]] = {name: set() for name in sections}
    for line in TEMPLATE.splitlines():
        stripped = line.lstrip("# ").strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1]
            continue
        key = stripped.split("=", 1)[0].strip()
        if current and "=" in stripped and key.isidentifier():
            seen[current].add(key)
    for name, model in sections.items():
        missing = set(model.model_fields) - seen[name]
        assert not missing, f"[{name}] keys missing from the template: {missing}"
    # every commented-out assignment is valid TOML when uncommented
    for line in TEMPLATE.splitlines():
        if line.startswith("# ") and "=" in line and line[2:].split("=")[0].strip().isidentifier():
            text = line[2:].replace('"0x..."', '"0x0000000000000000000000000000000000000001"')
            tomllib.loads(text)


def test_watcher_reloads_and_keeps_old_config_on_error(tmp_path):
    path = tmp_path / "broker.toml"
    path.write_text("[market]\nmax_concurrent_proofs = 2\n")
    watcher = ConfigWatcher(path)
    assert watcher.current.market.max_concurrent_proofs == 2
    assert watcher.poll() is False
    path.write_text("[market]\nmax_concurrent_proofs = 0\n")
    os.utime(path, ns=(1, 1))
    assert watcher.poll() is True
    assert watcher.current.market.max_concurrent_proofs == 0
    path.write_text("[market]\nmax_concurent_proofs = 5\n")
    os.utime(path, ns=(2, 2))
    assert watcher.poll() is False
    assert watcher.current.market.max_concurrent_proofs == 0
    assert watcher.last_error is not None and "max_concurent_proofs" in watcher.last_error


def test_cli_config_template(tmp_path):
    out = tmp_path / "broker.toml"
    command = [sys.executable, "-m", "proofmarket.cli.main", "broker", "config-template"]
    done = subprocess.run([*command, str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert load_config(out) == parse_config(TEMPLATE)
    again = subprocess.run([*command, str(out)], capture_output=True, text=True, check=False)
    assert again.returncode == 1
    assert "exists" in again.stderr


def test_run_refuses_a_bad_config_naming_the_key(tmp_path):
    bad = tmp_path / "broker.toml"
    bad.write_text('[market]\nmcycle_prise = "1"\n')
    done = subprocess.run(
        [sys.executable, "-m", "proofmarket.cli.main", "broker", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert "unknown key 'market.mcycle_prise'" in done.stderr


def test_run_reports_an_unreachable_rpc(tmp_path):
    from proofmarket.devnet.anvil import dev_keys, free_port

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "proofmarket.cli.main",
            "broker",
            "run",
            "--rpc-url",
            f"http://127.0.0.1:{free_port()}",
            "--private-key",
            dev_keys()[3],
            "--market-address",
            "0x" + "11" * 20,
            "--db",
            str(tmp_path / "b.db"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PROOFMARKET_ENV_FILE": str(tmp_path / "none.env")},
    )
    assert done.returncode == 1
    assert "cannot reach the RPC endpoint" in done.stderr
    assert "Traceback" not in done.stderr
