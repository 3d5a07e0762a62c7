"""`cluster prune`: old finished jobs leave the TaskDB, running ones stay."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.cluster.taskdb import TaskState, open_taskdb

runner = CliRunner()


def test_prune_removes_finished_jobs_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'taskdb.sqlite'}"
    db = open_taskdb(url)
    stream = db.get_or_create_stream("u", "exec")
    finished = []
    for _ in range(3):
        job = db.create_job(stream, {"Executor": {}}, 0, 60, "u")
        task = db.request_work("exec")
        assert task is not None and task.job_id == job
        db.update_task_done(job, "init", {})
        finished.append(job)
    failed = db.create_job(stream, {"Executor": {}}, 0, 60, "u")
    assert db.request_work("exec") is not None
    db.update_task_failed(failed, "init", "boom")
    running = db.create_job(stream, {"Executor": {}}, 0, 60, "u")

    kept = runner.invoke(app, ["cluster", "prune", "--data-dir", str(tmp_path), "--json"])
    assert kept.exit_code == 0, kept.output
    assert json.loads(kept.output)["removed_jobs"] == 0, "default keeps a day of history"

    result = runner.invoke(
        app, ["cluster", "prune", "--older-than", "0", "--data-dir", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["removed_jobs"] == 4
    assert {j.job_id for j in db.list_jobs()} == {running}
    assert [t.state for t in db.get_job_tasks(running)] == [TaskState.READY]
    db.close()


def test_prune_refuses_a_negative_age(tmp_path):
    result = runner.invoke(
        app, ["cluster", "prune", "--older-than", "-5", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "older_than_secs must be a number >= 0" in result.output
