"""Agents: retry rules, a task abandoned by a dead agent is requeued and the job
completes, database connections dropped under running agents, SIGTERM shutdown."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from cluster_helpers import AgentThreads, api_server, free_port, fs_config, wait_for

from proofmarket.cluster.agent import AgentSettings, InvalidWorkerType
from proofmarket.cluster.client import ClusterClient
from proofmarket.cluster.config import TaskLimits
from proofmarket.cluster.tasks.dispatch import run_task
from proofmarket.cluster.zkvm_api import compute_image_id, example_elf

SEGMENT_PO2 = 13


def submit_iter(url: str, iterations: int = 2) -> str:
    elf = example_elf("iter")
    image_id = compute_image_id(elf).hex()
    with ClusterClient(url) as client:
        client.upload_img(image_id, elf)
        return client.create_session(image_id, client.upload_input(struct.pack("<I", iterations)))


def wait_session(url: str, session: str, timeout: float = 90):
    with ClusterClient(url) as client:
        return client.wait(session, poll_secs=0.2, timeout_secs=timeout)


class FlakyProve:
    """Fault injection: the first ``failures`` Prove tasks raise, the rest run for real."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.raised = 0

    def __call__(self, ctx):
        if "Prove" in ctx.task.task_def and self.raised < self.failures:
            self.raised += 1
            raise RuntimeError("injected prover crash")
        return run_task(ctx)


def start_group(config, prove_handler=None) -> AgentThreads:
    group = AgentThreads()
    for worker_type in ("exec", "join", "aux"):
        group.start(config, worker_type)
    if prove_handler is None:
        group.start(config, "prove")
    else:
        import threading

        from proofmarket.cluster.agent import Agent

        agent = Agent(
            config,
            AgentSettings(worker_type="prove", poll_time=0.5, task_heartbeat_secs=0.5),
            handler=prove_handler,
        )
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        group.agents.append(agent)
        group.threads.append(thread)
    return group


def test_failed_task_is_retried_and_job_completes(tmp_path):
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2)
    flaky = FlakyProve(failures=2)
    with api_server(config) as (url, ctx):
        group = start_group(config, prove_handler=flaky)
        try:
            session = submit_iter(url)
            status = wait_session(url, session)
            tasks = ctx.taskdb.get_job_tasks(session)
        finally:
            group.stop()
    assert status.status == "SUCCEEDED", status.error_msg
    assert flaky.raised == 2
    assert sum(t.retries for t in tasks) == 2


def test_retry_max_hit_fails_the_job(tmp_path):
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2).with_(limits=TaskLimits(prove_retries=1))
    with api_server(config) as (url, _):
        group = start_group(config, prove_handler=FlakyProve(failures=1000))
        try:
            status = wait_session(url, submit_iter(url))
        finally:
            group.stop()
    assert status.status == "FAILED"
    assert status.error_msg.startswith("retry max hit: injected prover crash")


def test_task_of_a_dead_agent_is_requeued_and_the_job_completes(tmp_path):
    """An agent claims a prove task and dies (no report, no heartbeat): the aux agent's
    requeue hands it to a live prove agent once the task's timeout passes."""
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2).with_(
        limits=TaskLimits(prove_timeout=2, join_timeout=5, finalize_timeout=5)
    )
    with api_server(config) as (url, ctx):
        group = AgentThreads()
        try:
            group.start(config, "exec")
            session = submit_iter(url)
            # the "dead" agent: claims a prove task, then never reports or heartbeats
            wait_for(
                lambda: any(s.ready for s in ctx.taskdb.stream_stats() if s.worker_type == "prove"),
                what="prove work",
            )
            abandoned = ctx.taskdb.request_work("prove")
            assert abandoned is not None and abandoned.job_id == session
            # acknowledged (a claim never heartbeated is requeued sooner, without a retry)
            assert ctx.taskdb.heartbeat(abandoned.job_id, abandoned.task_id)
            for worker_type in ("prove", "join", "aux"):
                group.start(config, worker_type)
            status = wait_session(url, session)
            tasks = {t.task_id: t for t in ctx.taskdb.get_job_tasks(session)}
        finally:
            group.stop()
    assert status.status == "SUCCEEDED", status.error_msg
    assert tasks[abandoned.task_id].retries == 1
    assert tasks[abandoned.task_id].state == "done"


@pytest.mark.postgres
def test_agents_survive_dropped_database_connections(make_postgres_url, tmp_path):
    """Every connection to the database is terminated (what a restart does to clients)
    while agents idle: they reconnect and the next job completes."""
    import psycopg

    database_url = make_postgres_url()
    config = fs_config(tmp_path, database_url=database_url, segment_po2=SEGMENT_PO2)
    dbname = urlsplit(database_url).path.lstrip("/")
    admin_url = database_url.split("?")[0].rsplit("/", 1)[0] + "/postgres"
    with api_server(config) as (url, _):
        group = start_group(config)
        try:
            assert wait_session(url, submit_iter(url)).status == "SUCCEEDED"
            with psycopg.connect(admin_url, autocommit=True) as admin:
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (dbname,),
                ).fetchone()[0]
            assert killed >= 4
            status = wait_session(url, submit_iter(url, 3), timeout=120)
            alive = [t.is_alive() for t in group.threads]
        finally:
            group.stop()
    assert status.status == "SUCCEEDED", status.error_msg
    assert all(alive)


def test_agent_rejects_unknown_worker_type():
    with pytest.raises(InvalidWorkerType, match="snark"):
        AgentSettings(worker_type="snark")


def test_agent_process_stops_cleanly_on_sigterm(tmp_path):
    config = fs_config(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proofmarket.cli.main",
            "cluster",
            "agent",
            "--type",
            "prove",
            "--database-url",
            config.database_url,
            "--storage-dir",
            str(tmp_path),
            "--poll-time",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        from proofmarket.cluster.taskdb import open_taskdb

        db = open_taskdb(config.database_url)
        wait_for(lambda: any(w["type"] == "prove" for w in db.list_workers()), 60, "registration")
        db.close()
        os.kill(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = proc.stdout.read().decode()
    assert code == 0, output
    assert "stopped" in output


def test_agent_process_killed_mid_task_its_task_is_requeued(tmp_path):
    """A real prove agent process claims a task and is SIGKILLed while running it; its
    heartbeats stop, aux requeues the task after the prove timeout and a fresh prove agent
    finishes the job."""
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2).with_(
        limits=TaskLimits(prove_timeout=2, join_timeout=5, finalize_timeout=5)
    )
    marker = tmp_path / "claimed"
    helper = os.path.join(os.path.dirname(__file__), "slow_agent.py")
    victim = subprocess.Popen(
        [sys.executable, helper, config.database_url, str(tmp_path), str(marker)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    group = AgentThreads()
    try:
        with api_server(config) as (url, ctx):
            group.start(config, "exec")
            session = submit_iter(url)
            wait_for(marker.exists, timeout=60, what="the victim to claim a task")
            job_id, task_id = marker.read_text().split()
            assert job_id == session
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            for worker_type in ("prove", "join", "aux"):
                group.start(config, worker_type)
            status = wait_session(url, session)
            tasks = {t.task_id: t for t in ctx.taskdb.get_job_tasks(session)}
            group.stop()
    finally:
        group.stop()
        if victim.poll() is None:
            victim.kill()
    assert status.status == "SUCCEEDED", status.error_msg
    assert tasks[task_id].retries == 1 and tasks[task_id].state == "done"


def test_agent_waits_out_an_unreachable_object_store(tmp_path):
    config = fs_config(tmp_path).with_(object_store_url=f"http://127.0.0.1:{free_port()}")
    group = AgentThreads()
    agent = group.start(config, "prove")
    try:
        from proofmarket.cluster.taskdb import open_taskdb

        db = open_taskdb(config.database_url)
        wait_for(lambda: any(w["type"] == "prove" for w in db.list_workers()), 30, "register")
        db.close()
        time.sleep(1.0)
        assert group.threads[0].is_alive()  # still retrying, not crashed
    finally:
        agent.request_stop()
        group.threads[0].join(timeout=60)
    assert not group.threads[0].is_alive()


def test_warm_up_runs_before_the_first_claim(tmp_path, caplog):
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2)
    caplog.set_level("INFO", logger="proofmarket.cluster.agent")
    with api_server(config) as (url, _):
        group = AgentThreads()
        try:
            for worker_type in ("exec", "prove", "join", "aux"):
                group.start(config, worker_type, warm_up=True)
            status = wait_session(url, submit_iter(url))
        finally:
            group.stop()
    assert status.status == "SUCCEEDED"
    warmed = [r.getMessage() for r in caplog.records if "warmed up" in r.getMessage()]
    assert len(warmed) == 2  # exec and prove agents only


class DuplicateFinishesFirst:
    """Fault injection: a duplicate run of the first Prove task (a requeued task that
    another agent finished, or a done report repeated after its reply was lost) reports
    it done just before this agent does, so this agent's report is not recorded."""

    def __init__(self) -> None:
        self.duplicated: tuple[str, str] | None = None

    def __call__(self, ctx):
        output = run_task(ctx)
        if "Prove" in ctx.task.task_def and self.duplicated is None:
            assert ctx.taskdb.update_task_done(ctx.job_id, ctx.task_id, output)
            self.duplicated = (ctx.job_id, ctx.task_id)
        return output


def test_an_already_done_report_keeps_the_running_jobs_data(tmp_path):
    """A done report that is not recorded because the task was already done must not
    be mistaken for an aborted job: the job's segments and receipts stay and it completes."""
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2)
    duplicate = DuplicateFinishesFirst()
    with api_server(config) as (url, _):
        group = start_group(config, prove_handler=duplicate)
        try:
            session = submit_iter(url)
            status = wait_session(url, session)
        finally:
            group.stop()
    assert duplicate.duplicated is not None and duplicate.duplicated[0] == session
    assert status.status == "SUCCEEDED", status.error_msg
