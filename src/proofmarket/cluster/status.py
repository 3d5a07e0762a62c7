"""``cluster status``: agents alive, streams, queue depth per worker type, running jobs."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from proofmarket.cluster.config import WORKER_TYPES
from proofmarket.cluster.taskdb import JobState, TaskDB

AGENT_ALIVE_SECS = 30.0  # an agent heartbeats every 10 s


def empty_status() -> dict[str, Any]:
    """The report for a cluster that has never run: no agents, empty queues."""
    queues = {t: {"ready": 0, "running": 0, "agents_alive": 0} for t in WORKER_TYPES}
    return {"agents": [], "queues": queues, "streams": [], "running_jobs": []}


def cluster_status(db: TaskDB, *, running_jobs_limit: int = 50) -> dict[str, Any]:
    now = time.time()
    workers = []
    for worker in db.list_workers():
        seen = float(worker.get("last_seen") or 0)
        workers.append(
            {
                "id": worker.get("id"),
                "type": worker.get("type"),
                "host": worker.get("host"),
                "last_seen_secs_ago": round(now - seen, 1),
                "alive": now - seen <= AGENT_ALIVE_SECS,
            }
        )
    streams = [asdict(s) for s in db.stream_stats()]
    queues: dict[str, dict[str, int]] = {
        t: {"ready": 0, "running": 0, "agents_alive": 0} for t in WORKER_TYPES
    }
    for stream in streams:
        q = queues.setdefault(stream["worker_type"], {"ready": 0, "running": 0, "agents_alive": 0})
        q["ready"] += int(stream["ready"])
        q["running"] += int(stream["running"])
    for worker in workers:
        if worker["alive"] and worker["type"] in queues:
            queues[str(worker["type"])]["agents_alive"] += 1
    jobs = [
        {"job_id": j.job_id, "user_id": j.user_id}
        for j in db.list_jobs(state=JobState.RUNNING, limit=running_jobs_limit)
    ]
    return {"agents": workers, "queues": queues, "streams": streams, "running_jobs": jobs}
