"""Aux maintenance on a real TaskDB (requeue of silent tasks, stuck-pending repair,
cleanup) and the job report formula (Bento's job_status.sh)."""

from __future__ import annotations

import time

from proofmarket.cluster.progress import job_report, progress_state
from proofmarket.cluster.storage import FsSegmentStore, keys
from proofmarket.cluster.taskdb import JobState, open_taskdb
from proofmarket.cluster.tasks.aux import Maintenance, MaintenanceSettings


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_maintenance_requeues_silent_tasks_on_its_interval(tmp_path):
    db = open_taskdb(f"sqlite:///{tmp_path / 'db.sqlite'}")
    clock = ManualClock()
    maintenance = Maintenance(
        db,
        FsSegmentStore(tmp_path / "seg"),
        MaintenanceSettings(requeue_poll_interval=5, cleanup_poll_interval=3600),
        clock=clock,
    )
    try:
        exec_stream = db.get_or_create_stream("u", "exec")
        prove_stream = db.get_or_create_stream("u", "prove")
        job = db.create_job(exec_stream, {"Executor": {}}, 0, 100, "u")
        db.create_task(job, "0", prove_stream, {"Prove": {"index": 0}}, [], 3, 1)
        claimed = db.request_work("prove")
        assert claimed is not None and claimed.task_id == "0"
        maintenance.tick()  # first tick runs at once; the task is not silent yet
        assert maintenance.counters["requeued"] == 0
        time.sleep(1.6)
        clock.now += 1  # interval (5 s) not elapsed: no requeue yet
        maintenance.tick()
        assert maintenance.counters["requeued"] == 0
        clock.now += 5
        maintenance.tick()
        assert maintenance.counters["requeued"] == 1
        again = db.request_work("prove")
        assert again is not None and again.task_id == "0"
    finally:
        db.close()


def test_maintenance_cleanup_removes_finished_jobs_and_old_segments(tmp_path):
    db = open_taskdb(f"sqlite:///{tmp_path / 'db.sqlite'}")
    segments = FsSegmentStore(tmp_path / "seg")
    maintenance = Maintenance(
        db,
        segments,
        MaintenanceSettings(completed_job_age=0.0, segment_data_age=0.0),
    )
    try:
        stream = db.get_or_create_stream("u", "exec")
        job = db.create_job(stream, {"Executor": {}}, 0, 100, "u")
        task = db.request_work("exec")
        db.update_task_done(task.job_id, task.task_id, {"segments": 0})
        segments.put(keys.segment_key(job, 0), b"x")
        time.sleep(0.05)
        maintenance.tick()
        assert db.get_job_state(job) is None
        assert not segments.exists(keys.segment_key(job, 0))
        assert maintenance.counters["cleared"] == 1
    finally:
        db.close()


def test_job_report_uses_bentos_formula(tmp_path):
    db = open_taskdb(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        exec_stream = db.get_or_create_stream("u", "exec")
        prove_stream = db.get_or_create_stream("u", "prove")
        job = db.create_job(exec_stream, {"Executor": {}}, 0, 100, "u")
        init = db.request_work("exec")
        db.create_task(job, "0", prove_stream, {"Prove": {"index": 0}}, [], 3, 30)
        assert progress_state(db.get_job_tasks(job), JobState.RUNNING) == "ProveSegments: 0/1"
        time.sleep(0.05)
        out = {"segments": 1, "user_cycles": 900, "total_cycles": 4096}
        db.update_task_done(init.job_id, init.task_id, out)
        prove = db.request_work("prove")
        time.sleep(0.05)
        db.update_task_done(prove.job_id, prove.task_id)
        tasks = db.get_job_tasks(job)
        report = job_report(job, "done", None, tasks)
    finally:
        db.close()
    elapsed = max(t.updated_at for t in tasks) - min(t.started_at for t in tasks)
    assert report.elapsed_secs == elapsed
    assert report.khz == 4096 / elapsed / 1000
    rows = {r.task_type: r for r in report.task_types}
    assert rows["executor"].count == 1 and rows["prove-lift"].count == 1
