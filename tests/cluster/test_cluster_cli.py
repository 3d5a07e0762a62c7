"""Operator commands: `cluster up --detach` / bench / status / job-status / down as real
processes, supervisor restarts of a killed agent, and bad-input errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from cluster_helpers import free_port, wait_for
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.cluster.supervisor import pid_alive, read_state

CLI = [sys.executable, "-m", "proofmarket.cli.main", "cluster"]


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def detached_cluster(tmp_path):
    data_dir = tmp_path / "cluster"
    port = free_port()
    up = run_cli(
        "up", "--detach", "--data-dir", str(data_dir), "--port", str(port), "--segment-po2", "13",
        "--dev-mode",  # orchestration: real proving is tested in test_cluster_stark.py
    )  # fmt: skip
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield data_dir, f"http://127.0.0.1:{port}"
    finally:
        state = read_state(data_dir)
        run_cli("down", "--data-dir", str(data_dir), timeout=60)
        if state is not None:  # never leave processes behind, even if `down` failed
            for pid in [state["pid"], *(c["pid"] for c in state["children"].values())]:
                if pid and pid_alive(int(pid)):
                    os.kill(int(pid), signal.SIGKILL)


def test_up_bench_status_job_status_down(detached_cluster):
    data_dir, endpoint = detached_cluster
    bench = run_cli("bench", "-c", "3", "--endpoint", endpoint, "--json")  # 3 segments
    assert bench.returncode == 0, bench.stderr
    result = json.loads(bench.stdout)
    assert result["status"] == "SUCCEEDED" and result["receipt_mode"] == "DEV MODE"
    assert result["segments"] >= 3 and result["khz"] > 0

    human = run_cli("bench", "-c", "1", "--data-dir", str(data_dir))  # endpoint from state
    assert human.returncode == 0, human.stderr
    assert "kHz" in human.stdout and "DEV MODE" in human.stdout

    status = run_cli("status", "--data-dir", str(data_dir), "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["supervisor"]["endpoint"] == endpoint
    assert report["supervisor"]["dev_mode"] is True  # the fixture starts it with --dev-mode
    assert "receipts: DEV MODE" in run_cli("status", "--data-dir", str(data_dir)).stdout
    assert (data_dir / "cluster.pid").read_text().strip() == str(report["supervisor"]["pid"])
    assert {t: q["agents_alive"] for t, q in report["queues"].items()} == {
        "exec": 1,
        "prove": 1,
        "join": 1,
        "aux": 1,
    }

    job = run_cli("job-status", result["session_id"], "--data-dir", str(data_dir), "--json")
    assert job.returncode == 0, job.stderr
    job_report = json.loads(job.stdout)
    assert job_report["state"] == "done"
    assert job_report["stats"]["total_cycles"] == result["total_cycles"]
    counts = {row["task_type"]: row["count"] for row in job_report["task_types"]}
    assert counts["prove-lift"] == result["segments"]
    assert counts["join"] == result["segments"] - 1
    assert counts["executor"] == counts["finalize"] == 1
    assert job_report["khz"] > 0

    down = run_cli("down", "--data-dir", str(data_dir), timeout=60)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert read_state(data_dir) is None


def test_supervisor_restarts_a_dead_agent(detached_cluster):
    data_dir, endpoint = detached_cluster
    again = run_cli("up", "--detach", "--data-dir", str(data_dir), "--port", str(free_port()))
    assert again.returncode != 0
    assert "already running" in again.stderr

    def prove_agent_started() -> bool:  # `up --detach` returns before the agents start
        current = read_state(data_dir)
        return bool(current and current["children"]["agent-prove"]["pid"])

    wait_for(prove_agent_started, timeout=60, what="prove agent start")
    victim = int(read_state(data_dir)["children"]["agent-prove"]["pid"])
    os.kill(victim, signal.SIGKILL)

    def restarted() -> bool:
        current = read_state(data_dir)
        return bool(current and current["children"]["agent-prove"]["restarts"] >= 1)

    wait_for(restarted, timeout=60, what="agent restart")
    new_pid = read_state(data_dir)["children"]["agent-prove"]["pid"]
    assert new_pid != victim and pid_alive(int(new_pid))
    bench = run_cli("bench", "-c", "1", "--endpoint", endpoint, "--json")
    assert bench.returncode == 0, bench.stderr
    assert json.loads(bench.stdout)["status"] == "SUCCEEDED"


runner = CliRunner()


def test_bad_inputs_give_clear_errors(tmp_path):
    result = runner.invoke(app, ["cluster", "agent", "--type", "gpu", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "unknown worker type 'gpu'" in result.output
    result = runner.invoke(
        app,
        ["cluster", "agent", "--type", "prove", "--segment-po2", "40", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 2 and "--segment-po2" in result.output
    result = runner.invoke(
        app, ["cluster", "bench", "-c", "1", "--endpoint", f"http://127.0.0.1:{free_port()}"]
    )
    assert result.exit_code == 1
    result = runner.invoke(
        app, ["cluster", "job-status", "no-such-job", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    result = runner.invoke(app, ["cluster", "down", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0 and "no cluster running" in result.output
