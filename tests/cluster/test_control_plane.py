"""Cluster control plane: zombies are not alive, `cluster up` refuses a taken port,
agents deregister when they stop, `status` on a new data dir creates nothing, and agent
logs say why a job failed."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from cluster_helpers import free_port, fs_config, wait_for

from proofmarket.cluster.agent import Agent, AgentSettings
from proofmarket.cluster.supervisor import read_state
from proofmarket.cluster.taskdb import JobState, open_taskdb
from proofmarket.cluster.tasks.context import PermanentTaskError
from proofmarket.processes import pid_alive

CLI = [sys.executable, "-m", "proofmarket", "cluster"]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def test_a_zombie_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for(lambda: not pid_alive(child.pid), timeout=30, what="child to exit")
        # not reaped yet: the kernel still has the pid, as a zombie
        os.kill(child.pid, 0)
    finally:
        child.wait()
    assert not pid_alive(child.pid)
    assert pid_alive(os.getpid())


def test_up_fails_when_the_api_port_is_taken(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        data_dir = tmp_path / "cluster"
        up = run_cli("up", "--detach", "--port", str(port), "--data-dir", str(data_dir))
        assert up.returncode == 1
        assert f"127.0.0.1:{port}" in up.stderr and "address already in use" in up.stderr
        assert read_state(data_dir) is None
        foreground = run_cli("up", "--port", str(port), "--data-dir", str(data_dir))
        assert foreground.returncode == 1 and "address already in use" in foreground.stderr


def test_status_on_a_new_data_dir_creates_nothing(tmp_path) -> None:
    data_dir = tmp_path / "never-used"
    status = run_cli("status", "--data-dir", str(data_dir), "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["agents"] == [] and report["supervisor"] is None
    human = run_cli("status", "--data-dir", str(data_dir))
    assert human.returncode == 0 and "no cluster has run" in human.stdout
    assert not data_dir.exists()


def test_down_stops_agents_and_they_deregister(tmp_path) -> None:
    data_dir = tmp_path / "cluster"
    up = run_cli(  # dev mode: this test is about processes, not proving
        "up", "--detach", "--port", str(free_port()), "--data-dir", str(data_dir), "--dev-mode"
    )
    assert up.returncode == 0, up.stderr
    # `up` returns once the supervisor owns the API socket; it then starts the children
    assert read_state(data_dir) is not None

    def started() -> dict | None:
        state = read_state(data_dir)
        children = state["children"].values() if state else ()
        return state if children and all(c["pid"] for c in children) else None

    wait_for(lambda: started() is not None, timeout=60, what="every child to start")
    state = started()
    assert state is not None
    pids = [int(state["pid"]), *(int(c["pid"]) for c in state["children"].values())]
    try:

        def status() -> dict:
            return json.loads(run_cli("status", "--data-dir", str(data_dir), "--json").stdout)

        def registered() -> int:
            report = status()
            if report["supervisor"] is not None:  # "starting": started, not yet registered
                alive = {f"agent-{a['type']}" for a in report["agents"] if a["alive"]}
                agents = {f"agent-{t}" for t in ("exec", "prove", "join", "aux")}
                assert set(report["starting"]) == agents - alive
            else:
                assert report["starting"] == []
            return len(report["agents"])

        wait_for(lambda: registered() == 4, timeout=60, what="four agents to register")
        assert status()["starting"] == []
        names = {
            Path(f"/proc/{c['pid']}/comm").read_text().strip() for c in state["children"].values()
        }
        assert names == {
            "pm-api",
            "pm-agent-exec",
            "pm-agent-prove",
            "pm-agent-join",
            "pm-agent-aux",
        }
        bench = run_cli("bench", "-c", "1", "--data-dir", str(data_dir), "--json")
        assert bench.returncode == 0, bench.stderr
        result = json.loads(bench.stdout)
        # kHz comes from the job's server-side time, which excludes the client's polling
        assert 0 < result["server_elapsed_secs"] <= result["wall_secs"]
        expected_khz = result["total_cycles"] / 1000 / result["server_elapsed_secs"]
        assert abs(result["khz"] - expected_khz) < 1e-6 * expected_khz
        down = run_cli("down", "--data-dir", str(data_dir))
        assert down.returncode == 0 and "stopped" in down.stdout
        assert not any(pid_alive(pid) for pid in pids)
        assert registered() == 0
    finally:
        for pid in pids:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_agent_log_names_the_failed_job_and_reason(tmp_path, caplog) -> None:
    config = fs_config(tmp_path)
    db = open_taskdb(config.database_url)
    stream = db.get_or_create_stream("tester", "exec")
    job_id = db.create_job(stream, {"Executor": {}}, 0, 30, "tester")

    def broken(_ctx):
        raise PermanentTaskError("the image is not a RISC-V ELF")

    agent = Agent(config, AgentSettings(worker_type="exec", poll_time=0.2), handler=broken)
    thread = threading.Thread(target=agent.run, daemon=True)
    with caplog.at_level(logging.INFO, logger="proofmarket.cluster.agent"):
        thread.start()
        try:
            wait_for(
                lambda: db.get_job_state(job_id).state == JobState.FAILED,
                timeout=30,
                what="job to fail",
            )
        finally:
            agent.request_stop()
            thread.join(timeout=30)
    assert not thread.is_alive()
    failed = [r.getMessage() for r in caplog.records if job_id in r.getMessage()]
    assert any("failed" in m and "not a RISC-V ELF" in m for m in failed), failed
    assert db.list_workers() == []  # the agent deregistered as it stopped
    db.close()


def test_deregister_worker_on_both_backends(taskdb) -> None:
    taskdb.register_worker("exec-host-1", "exec", "host")
    taskdb.register_worker("aux-host-2", "aux", "host")
    assert taskdb.deregister_worker("exec-host-1") is True
    assert taskdb.deregister_worker("exec-host-1") is False
    assert [w["id"] for w in taskdb.list_workers()] == ["aux-host-2"]


def test_a_looping_session_stops_at_its_cycle_limit_and_leaves_no_segments(
    tmp_path, caplog
) -> None:
    from cluster_helpers import agents, api_server

    from proofmarket.cluster.client import ClusterClient
    from proofmarket.cluster.zkvm_api import compute_image_id
    from proofmarket.zkvm.elf import build_elf
    from proofmarket.zkvm.isa import asm, words_to_bytes

    code = [asm("addi", "a0", "a0", 1), asm("beq", "zero", "zero", -4)]  # never halts
    elf = build_elf([(0x0020_0800, words_to_bytes(code), 8)], 0x0020_0800)
    config = fs_config(tmp_path, segment_po2=13)
    caplog.set_level(logging.INFO, logger="proofmarket.cluster.agent")
    with api_server(config) as (url, _ctx), agents(config), ClusterClient(url) as client:
        image_id = compute_image_id(elf).hex()
        client.upload_img(image_id, elf)
        session = client.create_session(image_id, client.upload_input(b""), exec_cycle_limit=1)
        status = client.wait(session, poll_secs=0.1, timeout_secs=60)
        assert status.status == "FAILED"
        assert "limit exceeded" in (status.error_msg or "").lower()
        job_dir = tmp_path / "segments" / "job" / session
        wait_for(lambda: not any(job_dir.rglob("*")), timeout=30, what="segment cleanup")
    removed = [r.getMessage() for r in caplog.records if "removed" in r.getMessage()]
    assert any(session in m and " 0 segment" not in m for m in removed), removed


def test_state_counts_on_both_backends(taskdb) -> None:
    stream = taskdb.get_or_create_stream("user", "exec")
    first = taskdb.create_job(stream, {"Executor": {}}, 0, 30, "user")
    taskdb.create_job(stream, {"Executor": {}}, 0, 30, "user")
    taskdb.cancel_job(first)
    counts = taskdb.state_counts()
    assert counts.jobs == {"running": 1, "cancelled": 1}
    assert counts.tasks == {("exec", "ready"): 1, ("exec", "cancelled"): 1}
