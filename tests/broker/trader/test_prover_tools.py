"""``prover benchmark`` and ``prover generate-config`` against a real cluster and anvil."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.broker import wizard
from proofmarket.broker.benchmark import parse_request_ids, recommend_peak_khz
from proofmarket.broker.config import load_config
from proofmarket.cli.main import app
from proofmarket.contracts.testing import ChainEnv

runner = CliRunner()


@pytest.mark.parametrize(
    ("gib", "po2"), [(4, 18), (8, 18), (8.5, 19), (16, 19), (20, 20), (24, 21), (80, 21)]
)
def test_gpu_memory_picks_the_segment_po2(gib: float, po2: int) -> None:
    hw = wizard.Hardware(cpu_threads=16, memory_gib=64, gpus=[wizard.Gpu("g", gib)])
    assert wizard.segment_po2(hw) == po2


def test_concurrency_follows_threads_and_gpus() -> None:
    two_gpus = wizard.Hardware(32, 128, [wizard.Gpu("a", 24), wizard.Gpu("b", 16)])
    assert wizard.executors(two_gpus) == 12  # (32 - 4 - 4) // 2
    assert wizard.max_concurrent_preflights(two_gpus) == 10
    assert wizard.max_concurrent_proofs(two_gpus) == 2
    assert wizard.segment_po2(two_gpus) == 19  # the smaller card decides
    laptop = wizard.Hardware(2, 8, [])
    assert wizard.executors(laptop) == 1
    assert wizard.max_concurrent_preflights(laptop) == 1
    assert wizard.max_concurrent_proofs(laptop) == 1
    assert wizard.segment_po2(laptop) == 18
    assert wizard.segment_po2(wizard.Hardware(64, 512, [])) == wizard.CPU_PO2_CAP


def test_nvidia_smi_output_is_parsed_and_junk_ignored() -> None:
    text = "NVIDIA H100 80GB HBM3, 81559\nNVIDIA GeForce RTX 4090, 24564\ngarbage\n"
    gpus = wizard.parse_nvidia_smi(text)
    assert [g.name for g in gpus] == ["NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 4090"]
    assert gpus[1].memory_gib == pytest.approx(23.99, abs=0.01)


def test_request_ids_parse_with_clear_errors() -> None:
    assert parse_request_ids("0x10, 17,") == [16, 17]
    with pytest.raises(ValueError, match="'zz'"):
        parse_request_ids("0x1,zz")
    with pytest.raises(ValueError, match="no request IDs"):
        parse_request_ids(" , ")
    assert recommend_peak_khz(100.0) == 75
    assert recommend_peak_khz(0.5) == 1


def test_generate_config_non_interactive_writes_a_valid_broker_toml(tmp_path: Path) -> None:
    out = tmp_path / "broker.toml"
    args = [
        "prover",
        "generate-config",
        "--yes",
        "-o",
        str(out),
        "--peak-prove-khz",
        "40",
        "--cpu-threads",
        "16",
        "--memory-gib",
        "64",
        "--gpu-memory-gib",
        "24",
        "--gpu-memory-gib",
        "24",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["segment_po2"] == 21
    config = load_config(out)
    assert config.market.peak_prove_khz == 40
    assert config.market.max_concurrent_proofs == 2
    assert config.market.max_concurrent_preflights == 2  # (16 - 4 - 4) // 2 - 2
    assert "--segment-po2 21" in out.read_text()
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--force" in again.output
    bad = runner.invoke(
        app,
        [
            "prover",
            "generate-config",
            "--yes",
            "-o",
            str(tmp_path / "no" / "dir.toml"),
            "--peak-prove-khz",
            "1",
        ],
    )
    assert bad.exit_code == 1 and "no such directory" in bad.output
    assert not (tmp_path / "no").exists()


@pytest.mark.anvil
@pytest.mark.slow
def test_benchmark_proves_requests_and_generate_config_uses_it(
    chain: ChainEnv, cluster_url: str, requestor: object, tmp_path: Path
) -> None:
    from proofmarket import zkvm

    ids = []
    for n in (2, 6):
        request, _, _ = requestor.submit(requestor.build(n))  # type: ignore[attr-defined]
        ids.append(request.id)
    result = runner.invoke(
        app,
        [
            "prover",
            "benchmark",
            "--request-ids",
            ",".join(hex(i) for i in ids),
            "--json",
            "--rpc-url",
            chain.anvil.rpc_url,
            "--market-address",
            chain.deployment.market,
            "--cluster-url",
            cluster_url,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [r["request_id"] for r in report["results"]] == [hex(i) for i in ids]
    elf = requestor.elf  # type: ignore[attr-defined]
    for row, n in zip(report["results"], (2, 6), strict=True):
        assert row["total_cycles"] == zkvm.execute(elf, n.to_bytes(4, "little")).total_cycles
        assert row["khz"] == pytest.approx(row["total_cycles"] / 1000 / row["wall_secs"])
    worst = min(r["khz"] for r in report["results"])
    assert report["worst_khz"] == worst
    assert report["recommended_peak_prove_khz"] == max(1, math.floor(0.75 * worst))

    missing = runner.invoke(
        app,
        [
            "prover",
            "benchmark",
            "--request-ids",
            hex(ids[-1] + 1000),
            "--rpc-url",
            chain.anvil.rpc_url,
            "--market-address",
            chain.deployment.market,
            "--cluster-url",
            cluster_url,
        ],
    )
    assert missing.exit_code == 1 and "no RequestSubmitted event" in missing.output

    status = runner.invoke(
        app, ["broker", "status", "--db", str(tmp_path / "none.db"), "--json",
              "--cluster-url", cluster_url, "--rpc-url", chain.anvil.rpc_url,
              "--market-address", chain.deployment.market],
    )  # fmt: skip
    assert status.exit_code == 0, status.output
    load = json.loads(status.output)["cluster"]
    assert load["healthy"] is True
    assert load["queues"]["prove"]["agents"] >= 1
    assert load["jobs"]["done"] >= 2  # the two benchmark proofs
    assert load["proven_khz"] > 0

    out = tmp_path / "broker.toml"
    wizard_run = runner.invoke(
        app,
        [
            "prover",
            "generate-config",
            "--yes",
            "-o",
            str(out),
            "--json",
            "--cluster-url",
            cluster_url,
            "--iter-count",
            "2",
        ],
    )
    assert wizard_run.exit_code == 0, wizard_run.output
    plan = json.loads(wizard_run.output)
    bench = plan["benchmark"]
    assert load_config(out).market.peak_prove_khz == bench["recommended_peak_prove_khz"]
    assert bench["results"][0]["total_cycles"] > 0
