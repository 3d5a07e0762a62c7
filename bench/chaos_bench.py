"""Chaos benchmark: jobs through a real cluster while random faults hit it.

A cluster of agent *processes* (1 exec, 2 prove, 1 join, 1 aux, short timeouts: heartbeat
0.3 s, task timeouts 3 s, claim acknowledgement 1 s) runs on PostgreSQL (or SQLite) and
Redis, both reached through fault proxies; the REST API runs in this process. For each
of ``--points`` fault points one job (the ``iter`` guest) is submitted and, at a random
moment of it, one random fault is injected:

* ``kill-<type>`` — SIGKILL an agent (a replacement starts 0.5 s later, as a supervisor
  would);
* ``redis-refuse`` / ``redis-stall`` — Redis refuses connections / stops answering for
  1–5 s;
* ``pg-cut`` — every PostgreSQL connection dropped and new ones refused for 2–10 s;
* ``pg-drop-claim`` — the reply of the next claim is lost after the database committed it.

Reported: jobs completed (SUCCEEDED and the receipt verifies), failed, lost (not finished
within ``--job-timeout``), duplicated (more jobs in the TaskDB than were submitted),
re-executed tasks (retries), leftover segment keys of finished jobs, and recovery times
(job finished − fault ended).

Usage::

    python bench/chaos_bench.py --points 50 [--backend postgres|sqlite] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "cluster"))

from cluster_helpers import api_server, fs_config, wait_for
from fault_helpers import (
    AgentProcesses,
    submit_iter,
    verified_receipt,
)
from fault_proxy import FaultProxy, fault_proxy

from proofmarket.cluster.client import ClusterClient
from proofmarket.cluster.config import TaskLimits
from proofmarket.cluster.taskdb import open_taskdb

SEGMENT_PO2 = 13
AGENT_TYPES = ("exec", "prove", "prove", "join", "aux")
LIMITS = TaskLimits(exec_retries=5, exec_timeout=3, prove_timeout=3, join_timeout=3)


@dataclass
class Point:
    index: int
    fault: str
    iterations: int
    fault_secs: float
    during_job: bool = False  # the job was still running when the fault began
    outcome: str = ""
    error: str = ""
    recovery_secs: float | None = None
    job_secs: float = 0.0
    retries: int = 0


@dataclass
class Report:
    backend: str
    points: int
    faults_during_a_job: int
    completed: int
    failed: int
    lost: int
    duplicated: int
    retried_tasks: int
    leftover_segment_keys: int
    recovery_p50_secs: float | None
    recovery_p95_secs: float | None
    recovery_max_secs: float | None
    faults: dict[str, int]
    load_average: tuple[float, float, float]
    details: list[Point] = field(default_factory=list)


class Cluster:
    """Agents as processes behind the proxies; replaces killed ones like a supervisor."""

    def __init__(self, procs: AgentProcesses, redis_url: str, database_url: str) -> None:
        self.procs = procs
        self.redis_url = redis_url
        self.database_url = database_url
        self.agents: dict[int, tuple[str, subprocess.Popen[bytes]]] = {}

    def start(self) -> None:
        for slot, worker_type in enumerate(AGENT_TYPES):
            self._spawn(slot, worker_type)

    def _spawn(self, slot: int, worker_type: str) -> None:
        proc = self.procs.spawn(
            worker_type, redis_url=self.redis_url, database_url=self.database_url
        )
        self.agents[slot] = (worker_type, proc)

    def kill(self, worker_type: str) -> None:
        slot = random.choice([s for s, (t, _) in self.agents.items() if t == worker_type])
        self.procs.kill9(self.agents[slot][1])
        time.sleep(0.5)
        self._spawn(slot, worker_type)


def proxied(url: str, proxy: FaultProxy) -> str:
    parts = urlsplit(url)
    netloc = (f"{parts.username}@" if parts.username else "") + f"127.0.0.1:{proxy.port}"
    return parts._replace(netloc=netloc).geturl()


def inject(
    fault: str, secs: float, cluster: Cluster, redis: FaultProxy, pg: FaultProxy | None
) -> None:
    if fault.startswith("kill-"):
        cluster.kill(fault[len("kill-") :])
    elif fault == "redis-refuse":
        redis.refuse()
        time.sleep(secs)
        redis.heal()
    elif fault == "redis-stall":
        redis.stall()
        time.sleep(secs)
        redis.heal()
    elif fault == "pg-cut" and pg is not None:
        pg.refuse()
        time.sleep(secs)
        pg.heal()
    elif fault == "pg-drop-claim" and pg is not None:
        pg.drop_next_reply(b'"Prove"')


def run_point(
    point: Point,
    url: str,
    db_url: str,
    cluster: Cluster,
    redis: FaultProxy,
    pg: FaultProxy | None,
    job_timeout: float,
) -> str:
    started = time.monotonic()
    session = submit_iter(url, point.iterations)
    time.sleep(random.uniform(0.1, 1.0))
    with ClusterClient(url) as client:
        point.during_job = client.status(session).status == "RUNNING"
    inject(point.fault, point.fault_secs, cluster, redis, pg)
    fault_end = time.monotonic()
    with ClusterClient(url) as client:
        deadline = time.monotonic() + job_timeout
        status = client.status(session)
        while status.status == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.1)
            status = client.status(session)
    finished = time.monotonic()
    point.job_secs = round(finished - started, 2)
    if status.status == "RUNNING":
        point.outcome = "lost"
        return session
    if status.status != "SUCCEEDED":
        point.outcome, point.error = "failed", status.error_msg or status.status
        return session
    try:
        verified_receipt(url, session)
    except Exception as exc:
        point.outcome, point.error = "failed", f"receipt does not verify: {exc}"
        return session
    point.outcome = "completed"
    point.recovery_secs = round(finished - fault_end, 2)
    db = open_taskdb(db_url)
    try:
        point.retries = sum(t.retries for t in db.get_job_tasks(session))
    finally:
        db.close()
    return session


@contextmanager
def database(backend: str, admin_url: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'taskdb.sqlite'}"
        return
    import psycopg
    from psycopg import sql

    name = f"pm_chaos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def leftover_keys(redis_url: str, sessions: list[str]) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        count = 0
        for session in sessions:
            keys = list(client.scan_iter(match=f"job:{session}:*", count=500))
            count += len(keys)
            if keys:
                client.delete(*keys)
        return count
    finally:
        client.close()


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run(args: argparse.Namespace, log: Callable[[str], None]) -> Report:
    rng = random.Random(args.seed)
    random.seed(args.seed)
    faults = ["kill-exec", "kill-prove", "kill-join", "kill-aux", "redis-refuse", "redis-stall"]
    if args.backend == "postgres":
        faults += ["pg-cut", "pg-drop-claim"]
    redis_parts = urlsplit(args.redis_url)
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        database(args.backend, args.pg_admin_url, Path(tmp_name)) as db_url,
    ):
        tmp = Path(tmp_name)
        with fault_proxy(redis_parts.hostname or "127.0.0.1", redis_parts.port or 6379) as redis:
            pg_ctx = None
            if args.backend == "postgres":
                pg_parts = urlsplit(db_url)
                pg_ctx = fault_proxy(pg_parts.hostname or "127.0.0.1", pg_parts.port or 5432)
            with pg_ctx if pg_ctx is not None else _null() as pg:
                config = fs_config(tmp, db_url, segment_po2=SEGMENT_PO2, limits=LIMITS)
                config = config.with_(segment_store_url=args.redis_url)
                agent_db = proxied(db_url, pg) if pg is not None else db_url
                procs = AgentProcesses(db_url, tmp, SEGMENT_PO2)
                cluster = Cluster(procs, proxied(args.redis_url, redis), agent_db)
                sessions: list[str] = []
                points: list[Point] = []
                try:
                    with api_server(config) as (url, ctx):
                        cluster.start()
                        wait_for(
                            lambda: len(ctx.taskdb.list_workers()) >= len(AGENT_TYPES),
                            120,
                            "agents to register",
                        )
                        for i in range(args.points):
                            point = Point(
                                index=i,
                                fault=rng.choice(faults),
                                iterations=rng.choice([16, 32, 64]),
                                fault_secs=round(rng.uniform(1.0, 5.0), 1),
                            )
                            if point.fault == "pg-cut":
                                point.fault_secs = round(rng.uniform(2.0, 10.0), 1)
                            sessions.append(
                                run_point(point, url, db_url, cluster, redis, pg, args.job_timeout)
                            )
                            points.append(point)
                            log(
                                f"{i:3d} {point.fault:14s} {point.fault_secs:4.1f}s "
                                f"{'mid-job' if point.during_job else 'late   '} "
                                f"-> {point.outcome:9s} job {point.job_secs:5.1f}s "
                                f"recovery {point.recovery_secs}s retries {point.retries} "
                                f"{point.error}"
                            )
                        jobs_in_db = len(ctx.taskdb.list_jobs(limit=10_000))
                finally:
                    procs.stop()
                leftovers = leftover_keys(args.redis_url, sessions)
    outcomes = Counter(p.outcome for p in points)
    recoveries = [p.recovery_secs for p in points if p.recovery_secs is not None]
    return Report(
        backend=args.backend,
        points=len(points),
        faults_during_a_job=sum(p.during_job for p in points),
        completed=outcomes["completed"],
        failed=outcomes["failed"],
        lost=outcomes["lost"],
        duplicated=max(0, jobs_in_db - len(sessions)),
        retried_tasks=sum(p.retries for p in points),
        leftover_segment_keys=leftovers,
        recovery_p50_secs=round(statistics.median(recoveries), 2) if recoveries else None,
        recovery_p95_secs=percentile(recoveries, 95),
        recovery_max_secs=max(recoveries, default=None),
        faults=dict(Counter(p.fault for p in points)),
        load_average=os.getloadavg(),
        details=points,
    )


@contextmanager
def _null() -> Iterator[None]:
    yield None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--job-timeout", type=float, default=60.0)
    parser.add_argument(
        "--redis-url", default=os.environ.get("PM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("PM_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    log = (lambda _msg: None) if args.json else (lambda msg: print(msg, flush=True))
    report = run(args, log)
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        summary = {k: v for k, v in asdict(report).items() if k != "details"}
        print(json.dumps(summary, indent=2))
    return 0 if report.lost == 0 and report.failed == 0 else 1


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # so the agents and the database are cleaned up


if __name__ == "__main__":
    threading.excepthook = lambda hook_args: None  # proxy threads dying at exit are noise
    signal.signal(signal.SIGTERM, _interrupt)
    raise SystemExit(main())
