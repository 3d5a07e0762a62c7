"""TaskDB benchmark: claims per second and ready→claimed latency, SQLite and PostgreSQL.

For each backend and each agent count (default 1, 4 and 16 agents, each agent a separate
process with its own TaskDB, like real agents; ``--mode threads`` shares one TaskDB in
one process instead) it runs three phases on a fresh database with empty tasks spread
over ``--jobs`` jobs of one user:

1. **claims** — ``--tasks`` ready tasks, agents call ``request_work`` until none is left
   (no completion): claims/s = tasks / wall time, plus the latency of one claim call.
2. **cycles** — the same with ``update_task_done`` after each claim (an agent's loop on
   empty work): cycles/s.
3. **latency** — agents idle in ``request_work(wait_secs=…)`` (long polling) while a
   producer creates ``--latency-tasks`` tasks one at a time every ``--interval`` seconds
   (agents do not complete them, so an agent is idle again right after its claim);
   latency = time the agent holds the task − time the producer started ``create_task``
   (so it includes the producer's commit: an upper bound of ready→claimed). Also
   reported: the producer's ``create_task`` call time and the claim time measured from
   the moment ``create_task`` returned (a lower bound; negative when the agent had the
   task before the producer got its answer).

``--history N`` first stores N *finished* tasks (bulk-inserted with SQL, as a cluster
accumulates them) so the phases run against a large table, and times the maintenance
calls (requeue sweeps, stuck-task repair) at that size: claims must not slow down as
history grows.

Usage::

    python bench/taskdb_bench.py                   # both backends, 1/4/16 agents
    python bench/taskdb_bench.py --backend postgres --agents 16 --json
    python bench/taskdb_bench.py --agents 1 --tasks 3000 --history 100000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from proofmarket.cluster.taskdb import TaskDB, open_taskdb

WORKER_TYPE = "prove"
USER = "bench"


@dataclass
class Result:
    backend: str
    mode: str
    agents: int
    tasks: int
    claims_per_sec: float
    claim_call_p50_ms: float
    claim_call_p99_ms: float
    cycles_per_sec: float
    latency_tasks: int
    ready_to_claimed_p50_ms: float
    ready_to_claimed_p99_ms: float
    ready_to_claimed_max_ms: float
    create_call_p50_ms: float
    claimed_after_create_returned_p50_ms: float
    history: int = 0
    maintenance_ms: dict[str, float] | None = None


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def agent_loop(db: TaskDB, ready: Any, go: list[Any], stop: Any, out: Any) -> None:
    """One agent: report ready, then run the three phases when told to."""
    db.request_work("warmup")  # open a connection before the clock starts
    ready.put(1)
    # Phase 1: claims only.
    go[0].wait()
    calls: list[float] = []
    while True:
        started = time.perf_counter()
        task = db.request_work(WORKER_TYPE)
        if task is None:
            break
        calls.append(time.perf_counter() - started)
    out.put(("claims", calls, time.time()))
    # Phase 2: claim + done.
    go[1].wait()
    count = 0
    while (task := db.request_work(WORKER_TYPE)) is not None:
        db.update_task_done(task.job_id, task.task_id)
        count += 1
    out.put(("cycles", count, time.time()))
    # Phase 3: long polling.
    go[2].wait()
    latencies: list[tuple[str, float]] = []
    while not stop.is_set():
        task = db.request_work(WORKER_TYPE, wait_secs=0.5)
        if task is not None:  # not completed: an idle agent's wake-up is what is measured
            latencies.append((task.task_id, time.time()))
    out.put(("latency", latencies, time.time()))


def agent_process(url: str, ready: Any, go: list[Any], stop: Any, out: Any) -> None:
    db = open_taskdb(url)
    try:
        agent_loop(db, ready, go, stop, out)
    finally:
        db.close()


def fill(db: TaskDB, stream: str, exec_stream: str, tasks: int, jobs: int, tag: str) -> list[str]:
    job_ids = [db.create_job(exec_stream, {}, 0, 3600, USER) for _ in range(jobs)]
    for i in range(tasks):
        db.create_task(job_ids[i % jobs], f"{tag}{i}", stream, {}, [], 0, 3600)
    return job_ids


def add_history(url: str, backend: str, stream: str, tasks: int, per_job: int = 10) -> None:
    """Bulk-insert ``tasks`` done tasks in finished jobs (what months of work leave)."""
    jobs = max(1, tasks // per_job)
    if backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///") :])
        now = time.time()
        with conn:
            for j in range(jobs):
                job_id = str(uuid.uuid4())
                seq = conn.execute(
                    "INSERT INTO jobs (id, state, user_id, created_at, finished_at) "
                    "VALUES (?, 'done', ?, ?, ?)",
                    (job_id, USER, now, now),
                ).lastrowid
                conn.executemany(
                    "INSERT INTO tasks (job_id, task_id, stream_id, worker_type, job_seq, "
                    "task_def, prerequisites, state, created_at, started_at, updated_at, "
                    "waiting_on, progress, max_retries, timeout_secs) VALUES "
                    "(?, ?, ?, ?, ?, '{}', '[]', 'done', ?, ?, ?, 0, 1.0, 0, 3600)",
                    [
                        (job_id, f"h{i}", stream, WORKER_TYPE, seq, now, now, now)
                        for i in range(min(per_job, tasks - j * per_job))
                    ],
                )
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO jobs (id, state, user_id, finished_at) "
            "SELECT gen_random_uuid(), 'done', %s, now() FROM generate_series(1, %s)",
            (USER, jobs),
        )
        conn.execute(
            "INSERT INTO tasks (job_id, task_id, stream_id, worker_type, job_seq, task_def, "
            "prerequisites, state, started_at, updated_at, waiting_on, progress, max_retries, "
            "timeout_secs) SELECT j.id, 'h' || g, %s, %s, j.seq, '{}', '[]', 'done', now(), "
            "now(), 0, 1, 0, 3600 FROM jobs j CROSS JOIN generate_series(1, %s) g "
            "WHERE j.state = 'done'",
            (stream, WORKER_TYPE, per_job),
        )
        conn.execute("ANALYZE")


def time_maintenance(db: TaskDB) -> dict[str, float]:
    """Milliseconds per maintenance call (each runs with some running tasks present)."""
    calls = {
        "requeue_timed_out_tasks": lambda: db.requeue_timed_out_tasks(),
        "requeue_unacknowledged_claims": lambda: db.requeue_unacknowledged_claims(5.0),
        "fix_stuck_pending_tasks": lambda: db.fix_stuck_pending_tasks(),
    }
    timings = {}
    for name, call in calls.items():
        started = time.perf_counter()
        call()
        timings[name] = round((time.perf_counter() - started) * 1e3, 2)
    return timings


def collect(out: Any, kind: str, agents: int) -> list[tuple[Any, float]]:
    got = []
    while len(got) < agents:
        item = out.get(timeout=600)
        if item[0] != kind:
            raise RuntimeError(f"expected {kind} report, got {item[0]}")
        got.append((item[1], item[2]))
    return got


def run_one(url: str, backend: str, mode: str, agents: int, args: argparse.Namespace) -> Result:
    db = open_taskdb(url)  # the producer of the latency phase: durable commits
    sep = "&" if "?" in url else "?"
    # Filling the queue is not measured: on PostgreSQL skip the WAL flush wait there.
    filler = (
        open_taskdb(url + f"{sep}options=-csynchronous_commit%3Doff")
        if backend == "postgres"
        else db
    )
    exec_stream = db.get_or_create_stream(USER, "exec")
    stream = db.get_or_create_stream(USER, WORKER_TYPE)
    if args.history:
        add_history(url, backend, stream, args.history)
    claim_jobs = fill(filler, stream, exec_stream, args.tasks, args.jobs, "c")
    workers: list[Any]
    shared: TaskDB | None = None
    if mode == "processes":
        ctx = multiprocessing.get_context("spawn")
        ready, out, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        go = [ctx.Event() for _ in range(3)]
        workers = [
            ctx.Process(target=agent_process, args=(url, ready, go, stop, out))
            for _ in range(agents)
        ]
    else:
        ready, out, stop = queue.Queue(), queue.Queue(), threading.Event()
        go = [threading.Event() for _ in range(3)]
        shared = open_taskdb(url + (f"{sep}pool_max={agents + 1}" if backend == "postgres" else ""))
        workers = [
            threading.Thread(target=agent_loop, args=(shared, ready, go, stop, out))
            for _ in range(agents)
        ]
    for worker in workers:
        worker.start()
    for _ in range(agents):
        ready.get(timeout=300)

    started = time.time()
    go[0].set()
    reports = collect(out, "claims", agents)
    wall = max(end for _, end in reports) - started
    calls = [c for chunk, _ in reports for c in chunk]
    claims_per_sec = len(calls) / wall

    maintenance = time_maintenance(db)  # the claimed tasks are all running now
    for job in claim_jobs:  # their tasks stay "running" otherwise
        db.delete_job(job)
    cycle_jobs = fill(filler, stream, exec_stream, args.tasks, args.jobs, "d")
    started = time.time()
    go[1].set()
    reports = collect(out, "cycles", agents)
    cycles_per_sec = sum(n for n, _ in reports) / (max(end for _, end in reports) - started)

    for job in cycle_jobs:
        db.delete_job(job)
    go[2].set()
    time.sleep(1.0)  # agents settle into long polling
    job = db.create_job(exec_stream, {}, 0, 3600, USER)
    created: dict[str, tuple[float, float]] = {}
    for i in range(args.latency_tasks):
        before = time.time()
        db.create_task(job, f"l{i}", stream, {}, [], 0, 3600)
        created[f"l{i}"] = (before, time.time())
        time.sleep(args.interval)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stats = next(s for s in db.stream_stats() if s.stream_id == stream)
        if stats.ready == 0:
            break
        time.sleep(0.05)
    stop.set()
    reports = collect(out, "latency", agents)
    claims = [x for chunk, _ in reports for x in chunk]
    latencies = [at - created[task_id][0] for task_id, at in claims]
    after_commit = [at - created[task_id][1] for task_id, at in claims]
    create_calls = [end - start for start, end in created.values()]
    for worker in workers:
        worker.join(60)
    if shared is not None:
        shared.close()
    if filler is not db:
        filler.close()
    db.close()
    return Result(
        backend=backend,
        mode=mode,
        agents=agents,
        tasks=args.tasks,
        claims_per_sec=round(claims_per_sec, 1),
        claim_call_p50_ms=round(percentile(calls, 50) * 1e3, 3),
        claim_call_p99_ms=round(percentile(calls, 99) * 1e3, 3),
        cycles_per_sec=round(cycles_per_sec, 1),
        latency_tasks=len(latencies),
        ready_to_claimed_p50_ms=round(percentile(latencies, 50) * 1e3, 3),
        ready_to_claimed_p99_ms=round(percentile(latencies, 99) * 1e3, 3),
        ready_to_claimed_max_ms=round(max(latencies, default=float("nan")) * 1e3, 3),
        create_call_p50_ms=round(percentile(create_calls, 50) * 1e3, 3),
        claimed_after_create_returned_p50_ms=round(percentile(after_commit, 50) * 1e3, 3),
        history=args.history,
        maintenance_ms=maintenance,
    )


def with_database(backend: str, mode: str, agents: int, args: argparse.Namespace) -> Result:
    """Run one configuration on a fresh database (deleted afterwards)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return run_one(f"sqlite:///{tmp}/taskdb.sqlite", backend, mode, agents, args)
    import psycopg
    from psycopg import sql

    name = f"pm_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = args.pg_admin_url.rsplit("/", 1)[0]
    try:
        return run_one(f"{base}/{name}", backend, mode, agents, args)
    finally:
        with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--agents", default="1,4,16", help="comma-separated agent counts")
    parser.add_argument(
        "--mode", default="processes", help="processes, threads, or both: processes,threads"
    )
    parser.add_argument("--tasks", type=int, default=3000, help="tasks per throughput phase")
    parser.add_argument("--jobs", type=int, default=8, help="jobs the tasks are spread over")
    parser.add_argument(
        "--history", type=int, default=0, help="finished tasks stored before the phases"
    )
    parser.add_argument("--latency-tasks", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between tasks")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("PM_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a database on the server where a temporary benchmark database is created",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    results = []
    modes = args.mode.split(",")
    if not set(modes) <= {"processes", "threads"}:
        parser.error("--mode takes processes, threads or processes,threads")
    for backend in backends:
        for mode, agents in ((m, int(a)) for m in modes for a in args.agents.split(",")):
            result = with_database(backend, mode, agents, args)
            results.append(result)
            if not args.json:
                print(
                    f"{backend:8s} {mode:9s} agents={agents:2d}  "
                    f"claims/s={result.claims_per_sec:8.1f}  "
                    f"claim call p50/p99={result.claim_call_p50_ms:.2f}/"
                    f"{result.claim_call_p99_ms:.2f} ms  "
                    f"claim+done/s={result.cycles_per_sec:8.1f}  "
                    f"ready->claimed p50/p99={result.ready_to_claimed_p50_ms:.2f}/"
                    f"{result.ready_to_claimed_p99_ms:.2f} ms  "
                    f"(create call p50 {result.create_call_p50_ms:.2f} ms, "
                    f"from its return p50 {result.claimed_after_create_returned_p50_ms:.2f} ms)"
                    f"  history={result.history} maintenance ms={result.maintenance_ms}",
                    flush=True,
                )
    if args.json:
        meta = {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average_at_end": os.getloadavg(),
        }
        print(json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
