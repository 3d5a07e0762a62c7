"""Maintenance run by ``aux`` agents on intervals (Bento's defaults): requeue timed-out
tasks and claims whose reply was lost (5 s), repair stuck pending tasks (60 s), clean up
finished jobs (3600 s)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from proofmarket.cluster.storage import SegmentStore, StorageError
from proofmarket.cluster.taskdb import DatabaseUnavailable, TaskDB

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaintenanceSettings:
    requeue_poll_interval: float = 5.0
    stuck_tasks_poll_interval: float = 60.0
    cleanup_poll_interval: float = 3600.0
    completed_job_age: float = 3600.0  # finished jobs older than this are deleted
    segment_data_age: float = 28_800.0  # filesystem segment data older than this is purged
    worker_prune_age: float = 3600.0  # agents unseen for this long leave the registry
    requeue_limit: int = 100
    claim_ack_secs: float = 5.0  # a claim not heartbeated this long lost its reply
    # After the database was unreachable, agents get this long to heartbeat again before
    # their (silent through no fault of theirs) tasks may be requeued.
    outage_grace_secs: float = 5.0
    enable_cleanup: bool = True


class Maintenance:
    """Runs each maintenance job when its interval has elapsed (call ``tick`` often)."""

    def __init__(
        self,
        taskdb: TaskDB,
        segments: SegmentStore,
        settings: MaintenanceSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.taskdb = taskdb
        self.segments = segments
        self.settings = settings or MaintenanceSettings()
        self.clock = clock
        self._last: dict[str, float] = {}
        self._outage = False
        self._grace_until = 0.0
        self.counters: dict[str, int] = {
            "requeued": 0,
            "unacked": 0,
            "unstuck": 0,
            "cleared": 0,
            "purged": 0,
        }

    def _due(self, name: str, interval: float) -> bool:
        now = self.clock()
        last = self._last.get(name)
        if last is not None and now - last < interval:
            return False
        self._last[name] = now
        return True

    def note_database_unavailable(self) -> None:
        """The agent saw the database fail: hold requeues until it has been back a while."""
        self._outage = True

    def _requeue_allowed(self) -> bool:
        if self._outage:
            self.taskdb.list_jobs(limit=1)  # still down: raises DatabaseUnavailable
            self._outage = False
            self._grace_until = self.clock() + self.settings.outage_grace_secs
            log.info("database back; requeues resume in %.1fs", self.settings.outage_grace_secs)
        return self.clock() >= self._grace_until

    def tick(self) -> None:
        s = self.settings
        try:
            if self._requeue_allowed() and self._due("requeue", s.requeue_poll_interval):
                n = self.taskdb.requeue_timed_out_tasks(s.requeue_limit)
                self.counters["requeued"] += n
                if n:
                    log.warning("requeued %d timed-out task(s)", n)
                n = self.taskdb.requeue_unacknowledged_claims(s.claim_ack_secs, s.requeue_limit)
                self.counters["unacked"] += n
                if n:
                    log.warning("requeued %d claim(s) whose reply was lost", n)
            if self._due("stuck", s.stuck_tasks_poll_interval):
                n = self.taskdb.fix_stuck_pending_tasks()
                self.counters["unstuck"] += n
                if n:
                    log.warning("made %d stuck pending task(s) ready", n)
            if s.enable_cleanup and self._due("cleanup", s.cleanup_poll_interval):
                self.counters["cleared"] += self.taskdb.clear_completed_jobs(s.completed_job_age)
                self.counters["purged"] += self.segments.purge_older_than(s.segment_data_age)
                self.taskdb.prune_workers(s.worker_prune_age)
        except DatabaseUnavailable as exc:
            self._outage = True
            log.warning("maintenance skipped, database unavailable: %s", exc)
        except StorageError as exc:
            log.warning("segment store cleanup failed: %s", exc)
        except Exception:  # maintenance must never take the agent down
            log.exception("maintenance failed")
