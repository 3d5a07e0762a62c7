"""Fault tests: real agent processes, faults injected with SIGKILL or a TCP proxy in front
of Redis / PostgreSQL, and every job must still end with a receipt that verifies.

Timeouts are shortened through the agents' options (heartbeat 0.3 s, prove/join 3 s, init
3 s of silence, claim acknowledgement 1 s) so each fault costs seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cluster_helpers import AgentThreads, api_server, fs_config, wait_for
from fault_helpers import AgentProcesses, submit_iter, verified_receipt, wait_session
from fault_proxy import FaultProxy, fault_proxy

from proofmarket.cluster.config import ClusterConfig, TaskLimits
from proofmarket.cluster.taskdb import TaskDB, TaskRow, TaskState

pytestmark = pytest.mark.slow

SEGMENT_PO2 = 13
ITERATIONS = 16  # ~16 segments of 2^13 cycles: faults land mid-job
#: init is requeued after 3 s without a heartbeat and may be retried
LIMITS = TaskLimits(
    exec_retries=3, exec_timeout=3, prove_timeout=3, join_timeout=3, finalize_timeout=3
)


def make_config(tmp_path: Path, database_url: str | None = None, **changes) -> ClusterConfig:
    return fs_config(tmp_path, database_url, segment_po2=SEGMENT_PO2, limits=LIMITS, **changes)


def tasks_by_id(db: TaskDB, job: str) -> dict[str, TaskRow]:
    return {t.task_id: t for t in db.get_job_tasks(job)}


def prove_tasks(db: TaskDB, job: str) -> list[TaskRow]:
    return [t for t in db.get_job_tasks(job) if "Prove" in t.task_def]


def wait_registered(db: TaskDB, *worker_types: str) -> None:
    wait_for(
        lambda: set(worker_types) <= {w["type"] for w in db.list_workers()},
        timeout=90,
        what=f"agents {worker_types} to register",
    )


def redis_job_keys(redis_url: str, job: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return list(client.scan_iter(match=f"job:{job}:*", count=500))
    finally:
        client.close()


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[FaultProxy]:
    parts = urlsplit(redis_url)
    with fault_proxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        yield proxy


def proxied(url: str, proxy: FaultProxy) -> str:
    parts = urlsplit(url)
    netloc = (f"{parts.username}@" if parts.username else "") + f"127.0.0.1:{proxy.port}"
    return parts._replace(netloc=netloc).geturl()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[AgentProcesses]:
    group = AgentProcesses(make_config(tmp_path).database_url, tmp_path, SEGMENT_PO2)
    try:
        yield group
    finally:
        group.stop()


def assert_done_and_verified(url: str, session: str) -> None:
    status = wait_session(url, session)
    assert status.status == "SUCCEEDED", status.error_msg
    verified_receipt(url, session)


@pytest.mark.redis
def test_exec_agent_killed_mid_execution(tmp_path, redis_url, redis_proxy, procs):
    """The exec agent is SIGKILLed after writing 3 segments (its 4th write hangs on a
    stalled Redis): init is requeued after 3 s of silence, a new exec agent re-runs it
    without duplicating tasks, the job completes and leaves no segment keys behind."""
    config = make_config(tmp_path, segment_store_url=redis_url)
    with api_server(config) as (url, ctx), _threads(config, "prove", "join", "aux"):
        victim = procs.spawn("exec", redis_url=proxied(redis_url, redis_proxy))
        wait_registered(ctx.taskdb, "exec")
        redis_proxy.after_replies(b"+OK", 3, "stall")
        session = submit_iter(url, ITERATIONS)
        assert redis_proxy.triggered.wait(60), "the exec agent never wrote 3 segments"
        wait_for(lambda: len(prove_tasks(ctx.taskdb, session)) >= 3, 30, "3 Prove tasks")
        before = tasks_by_id(ctx.taskdb, session)
        assert before["init"].state == TaskState.RUNNING and "finalize" not in before
        procs.kill9(victim)
        redis_proxy.heal()
        procs.spawn("exec", redis_url=redis_url)
        assert_done_and_verified(url, session)
        after = tasks_by_id(ctx.taskdb, session)
    assert after["init"].retries == 1
    segments = [t for t in after.values() if "Prove" in t.task_def]
    assert sorted(t.task_def["Prove"]["index"] for t in segments) == list(range(len(segments)))
    assert all(t.state == TaskState.DONE for t in after.values())
    assert redis_job_keys(redis_url, session) == []


@pytest.mark.redis
def test_prove_agent_killed_mid_proving(tmp_path, redis_url, redis_proxy, procs):
    """A prove agent is SIGKILLed inside a Prove task (its segment read hangs): the task
    is requeued after its 3 s timeout and another prove agent finishes the job."""
    config = make_config(tmp_path, segment_store_url=redis_url)
    with api_server(config) as (url, ctx), _threads(config, "exec", "join", "aux") as group:
        victim = procs.spawn("prove", redis_url=proxied(redis_url, redis_proxy))
        wait_registered(ctx.taskdb, "prove")
        redis_proxy.after_replies(b"+OK", 1, "stall")  # one receipt written, then hang
        session = submit_iter(url, ITERATIONS)
        assert redis_proxy.triggered.wait(60), "the prove agent never finished a task"
        time.sleep(1.0)  # the victim reports that task and hangs reading the next segment
        held = [t.task_id for t in prove_tasks(ctx.taskdb, session) if t.state == "running"]
        assert len(held) == 1, "the victim should hold exactly one Prove task"
        procs.kill9(victim)
        redis_proxy.heal()
        group.start(config, "prove")
        assert_done_and_verified(url, session)
        after = tasks_by_id(ctx.taskdb, session)
    assert [after[task_id].retries for task_id in held] == [1] * len(held)


@pytest.mark.redis
def test_redis_refused_for_5s_during_execution(tmp_path, redis_url, redis_proxy, procs):
    """Redis refuses every connection for 5 s while the exec agent streams segments: it
    backs off and resumes (no retry charged), and the job completes."""
    _redis_outage(tmp_path, redis_url, redis_proxy, procs, "exec", after_writes=3)


@pytest.mark.redis
def test_redis_refused_for_5s_during_proving(tmp_path, redis_url, redis_proxy, procs):
    """Redis refuses every connection for 5 s under a prove agent that has written one
    receipt: it backs off and resumes (no retry charged), and the job completes."""
    _redis_outage(tmp_path, redis_url, redis_proxy, procs, "prove", after_writes=1)


def _redis_outage(
    tmp_path: Path,
    redis_url: str,
    proxy: FaultProxy,
    procs: AgentProcesses,
    victim_type: str,
    after_writes: int,
) -> None:
    config = make_config(tmp_path, segment_store_url=redis_url)
    others = [t for t in ("exec", "prove", "join", "aux") if t != victim_type]
    with api_server(config) as (url, ctx), _threads(config, *others):
        procs.spawn(victim_type, redis_url=proxied(redis_url, proxy))
        wait_registered(ctx.taskdb, victim_type)
        proxy.after_replies(b"+OK", after_writes, "refuse")
        session = submit_iter(url, ITERATIONS)
        assert proxy.triggered.wait(60), "the fault point was never reached"
        time.sleep(5.0)
        mid = tasks_by_id(ctx.taskdb, session)
        proxy.heal()
        assert_done_and_verified(url, session)
        after = tasks_by_id(ctx.taskdb, session)
    assert any(t.state != TaskState.DONE for t in mid.values()), "outage after the job ended"
    assert all(t.retries == 0 for t in after.values()), "the outage cost retries"
    assert redis_job_keys(redis_url, session) == []


@pytest.mark.postgres
def test_lost_claim_reply_is_requeued(tmp_path, make_postgres_url, procs):
    """The connection drops between the database committing an exec agent's claim of
    ``init`` and the agent reading the reply: the claim is never acknowledged, maintenance
    puts it back after 1 s without charging a retry, and the job completes."""
    database_url = make_postgres_url()
    real = urlsplit(database_url)
    config = make_config(tmp_path, database_url)
    with (
        fault_proxy(real.hostname or "127.0.0.1", real.port or 5432) as proxy,
        api_server(config) as (url, ctx),
        _threads(config, "prove", "join", "aux"),
    ):
        procs.spawn("exec", database_url=proxied(database_url, proxy))
        wait_registered(ctx.taskdb, "exec")
        proxy.drop_next_reply(b'"Executor"')
        session = submit_iter(url, 2)
        assert_done_and_verified(url, session)
        init = tasks_by_id(ctx.taskdb, session)["init"]
    assert proxy.dropped_replies == 1
    assert init.retries == 0


@pytest.mark.postgres
def test_postgres_cut_for_10s(tmp_path, make_postgres_url):
    """Every connection to PostgreSQL is cut and refused for 10 s in the middle of a job
    (agents and API go through the proxy): the API answers 503 at once instead of hanging,
    work resumes when the database is back, and the job completes."""
    database_url = make_postgres_url()
    real = urlsplit(database_url)
    with fault_proxy(real.hostname or "127.0.0.1", real.port or 5432) as proxy:
        config = make_config(tmp_path, proxied(database_url, proxy))
        with (
            api_server(config) as (url, ctx),
            _threads(config, "exec", "prove", "join", "aux"),
            httpx.Client(base_url=url, timeout=30) as http,
        ):
            proxy.after_replies(b"Prove", 1, "refuse")  # first Prove task claimed
            session = submit_iter(url, ITERATIONS)
            assert proxy.triggered.wait(60)
            started = time.monotonic()
            health = http.get("/health")
            answered_in = time.monotonic() - started
            assert health.status_code == 503 and health.json()["type"] == "DbErr"
            time.sleep(max(0.0, 10.0 - (time.monotonic() - started)))
            proxy.heal()
            assert_done_and_verified(url, session)
            tasks = ctx.taskdb.get_job_tasks(session)
    assert answered_in < 5.0, f"503 took {answered_in:.1f}s"
    assert all(t.state == TaskState.DONE for t in tasks)


class _threads:
    """Agents of the given types in this process (the ones no fault is aimed at)."""

    def __init__(self, config: ClusterConfig, *worker_types: str) -> None:
        self.group = AgentThreads()
        self.config = config
        self.worker_types = worker_types

    def __enter__(self) -> AgentThreads:
        for worker_type in self.worker_types:
            self.group.start(self.config, worker_type)
        return self.group

    def __exit__(self, *_: object) -> None:
        self.group.stop()
