"""End to end: `cluster bench -c 2` through the REST API with real agents, on both TaskDB
backends, with filesystem storage and with Redis + S3 storage; exec-only journals; guest
panics and cycle limits fail the job with the reference's messages."""

from __future__ import annotations

import struct

import pytest
from cluster_helpers import fs_config, iter_expectation, running_cluster

from proofmarket.cluster.bench import run_bench
from proofmarket.cluster.client import ClusterClient
from proofmarket.cluster.storage import RedisSegmentStore, keys
from proofmarket.cluster.zkvm_api import DEV_MODE_LABEL, compute_image_id, example_elf

SEGMENT_PO2 = 13  # the smallest segment: several segments from a tiny guest run
ITERATIONS = 3  # three segments at po2 13 (paging costs cycles too), so joins run


def test_bench_on_each_taskdb_backend_with_fs_storage(taskdb_url, tmp_path):
    config = fs_config(tmp_path, database_url=taskdb_url, segment_po2=SEGMENT_PO2)
    expected = iter_expectation(ITERATIONS, SEGMENT_PO2)
    assert expected.segment_count >= 3
    with running_cluster(config) as (url, ctx, _):
        result = run_bench(url, ITERATIONS, timeout_secs=120)
        tasks = ctx.taskdb.get_job_tasks(result.session_id)
    assert result.status == "SUCCEEDED"
    assert result.receipt_mode == DEV_MODE_LABEL
    assert result.journal_hex == expected.journal.hex()
    assert (result.segments, result.total_cycles) == (
        expected.segment_count,
        expected.total_cycles,
    )
    kinds = [next(iter(t.task_def)) for t in tasks]
    assert kinds.count("Prove") == expected.segment_count
    assert kinds.count("Join") == expected.segment_count - 1
    assert kinds[-2:] == ["Resolve", "Finalize"]
    assert all(t.state == "done" for t in tasks)
    # intermediate data is dropped once the receipt exists
    assert not config.open_segment_store().exists(keys.segment_key(result.session_id, 0))


@pytest.mark.redis
def test_bench_with_redis_segments_and_s3_objects(
    tmp_path, redis_url, redis_key_prefix, s3_server_url, s3_bucket
):
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2).with_(
        segment_store_url=redis_url,
        redis_prefix=redis_key_prefix,
        redis_ttl=600,
        object_store_url=s3_server_url,
        s3_bucket=s3_bucket,
        s3_access_key="testing",
        s3_secret_key="testing",
        s3_create_bucket=True,
    )
    expected = iter_expectation(ITERATIONS, SEGMENT_PO2)
    with running_cluster(config) as (url, _ctx, _):
        result = run_bench(url, ITERATIONS, timeout_secs=120)
        objects = config.open_object_store()
        receipt = objects.get(keys.stark_receipt_key(result.session_id))
        image_id = compute_image_id(example_elf("iter")).hex()
        assert objects.exists(keys.elf_key(image_id))
        assert b"total_cycles=" in objects.get(keys.exec_log_key(result.session_id))
    assert result.journal_hex == expected.journal.hex()
    assert len(receipt) == result.receipt_bytes
    segments = config.open_segment_store()
    assert isinstance(segments, RedisSegmentStore)
    assert not segments.exists(keys.journal_key(result.session_id))


def test_exec_only_job_stores_journal_and_plans_nothing(tmp_path):
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2)
    expected = iter_expectation(3, SEGMENT_PO2)
    with running_cluster(config, types=("exec",)) as (url, ctx, _):
        result = run_bench(url, 3, execute_only=True, timeout_secs=60)
        tasks = ctx.taskdb.get_job_tasks(result.session_id)
        with ClusterClient(url) as client:
            journal = client.exec_only_journal(result.session_id)
            status = client.status(result.session_id)
            err = None
            try:
                client.receipt_url(result.session_id)
            except Exception as exc:
                err = exc
    assert journal == expected.journal
    assert [t.task_id for t in tasks] == ["init"]
    assert tasks[0].output["segments"] == expected.segment_count
    assert tasks[0].output["user_cycles"] == expected.user_cycles
    assert status.receipt_url is None and status.stats.total_cycles == expected.total_cycles
    assert err is not None and "ReceiptMissing" in str(err)


def _submit(client: ClusterClient, payload: bytes, **kwargs) -> str:
    elf = example_elf("iter")
    image_id = compute_image_id(elf).hex()
    client.upload_img(image_id, elf)
    return client.create_session(image_id, client.upload_input(payload), **kwargs)


def test_guest_panic_fails_the_job_with_its_message(tmp_path):
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2)
    with running_cluster(config) as (url, ctx, _), ClusterClient(url) as client:
        session = _submit(client, struct.pack("<I", 0))  # iter panics on N = 0
        status = client.wait(session, poll_secs=0.2, timeout_secs=60)
        tasks = ctx.taskdb.get_job_tasks(session)
        logs = client.logs(session)
    assert status.status == "FAILED"
    assert status.error_msg.startswith("Guest panicked: ")
    assert len(status.error_msg) > len("Guest panicked: ")
    assert "finalize" not in [t.task_id for t in tasks]
    assert "Guest panicked" in logs


def test_cycle_limit_fails_the_job(tmp_path):
    config = fs_config(tmp_path, segment_po2=16)
    with running_cluster(config, types=("exec",)) as (url, _, _), ClusterClient(url) as client:
        session = _submit(client, struct.pack("<I", 400), execute_only=True, exec_cycle_limit=1)
        status = client.wait(session, poll_secs=0.2, timeout_secs=60)
    assert status.status == "FAILED"
    assert status.error_msg.startswith("Session limit exceeded")


def test_without_join_stream_joins_run_on_prove_agents(tmp_path):
    """Bento's default routing: no JOIN_STREAM → Join and resolve go to the prove stream."""
    config = fs_config(tmp_path, segment_po2=SEGMENT_PO2, join_stream=False)
    with running_cluster(config, types=("exec", "prove", "aux")) as (url, ctx, _):
        result = run_bench(url, ITERATIONS, timeout_secs=120)
        tasks = ctx.taskdb.get_job_tasks(result.session_id)
    assert result.status == "SUCCEEDED"
    by_kind = {next(iter(t.task_def)): t.worker_type for t in tasks}
    assert by_kind == {
        "Executor": "exec",
        "Prove": "prove",
        "Join": "prove",
        "Resolve": "prove",
        "Finalize": "aux",
    }
