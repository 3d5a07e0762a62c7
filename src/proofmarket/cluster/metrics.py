"""Prometheus metrics of a proving cluster, served by its API at ``/metrics``.

Everything is read from the TaskDB when Prometheus scrapes, so the API process needs no
counters of its own, the figures survive restarts, and they agree with ``cluster status``
whatever agents run where:

* ``proofmarket_cluster_jobs{state}`` and ``proofmarket_cluster_tasks{worker_type,state}``
  — how many jobs and tasks are in each state;
* ``proofmarket_cluster_queue_ready{worker_type}`` / ``..._queue_running{worker_type}`` —
  queue depth per worker type (over every stream);
* ``proofmarket_cluster_agents{worker_type}`` — agents that heart-beat recently;
* ``proofmarket_cluster_task_duration_seconds{task_type,stat}`` — mean and max wall time
  of each task type over the most recently finished jobs (``RECENT_JOBS``);
* ``proofmarket_cluster_proven_cycles_per_second`` — total cycles of those jobs over
  their summed job time (Bento's kHz × 1000).

A scrape costs a handful of queries: counts are ``GROUP BY`` queries and the recent-jobs
figures read at most ``RECENT_JOBS`` jobs' tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from proofmarket.cluster.config import WORKER_TYPES
from proofmarket.cluster.progress import job_report
from proofmarket.cluster.status import cluster_status
from proofmarket.cluster.taskdb import JobState, TaskDB, TaskState

log = logging.getLogger(__name__)

PREFIX = "proofmarket_cluster"
RECENT_JOBS = 20


class ClusterCollector(Collector):
    """Reads the TaskDB at each scrape."""

    def __init__(self, taskdb: TaskDB) -> None:
        self.taskdb = taskdb

    def collect(self) -> Iterator[Metric]:
        yield from self._counts()
        yield from self._queues_and_agents()
        yield from self._recent()

    def _counts(self) -> Iterator[Metric]:
        counts = self.taskdb.state_counts()
        jobs = GaugeMetricFamily(f"{PREFIX}_jobs", "Jobs by state.", labels=["state"])
        for state in JobState:
            jobs.add_metric([state.value], counts.jobs.get(state.value, 0))
        yield jobs
        tasks = GaugeMetricFamily(
            f"{PREFIX}_tasks", "Tasks by worker type and state.", labels=["worker_type", "state"]
        )
        for worker_type in WORKER_TYPES:
            for task_state in TaskState:
                value = counts.tasks.get((worker_type, task_state.value), 0)
                tasks.add_metric([worker_type, task_state.value], value)
        yield tasks

    def _queues_and_agents(self) -> Iterator[Metric]:
        report = cluster_status(self.taskdb, running_jobs_limit=1)
        ready = GaugeMetricFamily(
            f"{PREFIX}_queue_ready", "Tasks ready to be claimed.", labels=["worker_type"]
        )
        running = GaugeMetricFamily(
            f"{PREFIX}_queue_running", "Tasks claimed by an agent.", labels=["worker_type"]
        )
        agents = GaugeMetricFamily(
            f"{PREFIX}_agents", "Agents seen alive recently.", labels=["worker_type"]
        )
        for worker_type, queue in report["queues"].items():
            ready.add_metric([worker_type], queue["ready"])
            running.add_metric([worker_type], queue["running"])
            agents.add_metric([worker_type], queue["agents_alive"])
        yield from (ready, running, agents)

    def _recent(self) -> Iterator[Metric]:
        durations = GaugeMetricFamily(
            f"{PREFIX}_task_duration_seconds",
            f"Wall time per task type over the last {RECENT_JOBS} finished jobs.",
            labels=["task_type", "stat"],
        )
        cycles = 0
        seconds = 0.0
        walls: dict[str, list[tuple[float, float, int]]] = {}
        for job in self.taskdb.list_jobs(state=JobState.DONE, limit=RECENT_JOBS):
            report = job_report(
                job.job_id, job.state, job.error, self.taskdb.get_job_tasks(job.job_id)
            )
            if report.stats is not None and report.elapsed_secs:
                cycles += report.stats.total_cycles
                seconds += report.elapsed_secs
            for row in report.task_types:
                if row.avg_secs is not None and row.max_secs is not None:
                    walls.setdefault(row.task_type, []).append(
                        (row.avg_secs, row.max_secs, row.count)
                    )
        for task_type, rows in sorted(walls.items()):
            total = sum(count for _, _, count in rows)
            mean = sum(avg * count for avg, _, count in rows) / total
            durations.add_metric([task_type, "mean"], mean)
            durations.add_metric([task_type, "max"], max(peak for _, peak, _ in rows))
        yield durations
        rate = GaugeMetricFamily(
            f"{PREFIX}_proven_cycles_per_second",
            f"Total cycles over job time of the last {RECENT_JOBS} finished jobs.",
        )
        rate.add_metric([], cycles / seconds if seconds > 0 else 0.0)
        yield rate


def metrics_registry(taskdb: TaskDB) -> CollectorRegistry:
    """A registry holding only the cluster collector (no process metrics of the API)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector(taskdb))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition format of every metric in ``registry``."""
    return generate_latest(registry)


__all__ = ["ClusterCollector", "metrics_registry", "render"]
