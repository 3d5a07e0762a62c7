"""REST API over HTTP (real uvicorn server on a free port) through the Bonsai-style client."""

from __future__ import annotations

import struct
import uuid

import httpx
import pytest
from cluster_helpers import api_server, fs_config

from proofmarket.cluster.api import ApiSettings
from proofmarket.cluster.client import ClusterApiError, ClusterClient
from proofmarket.cluster.storage import keys
from proofmarket.cluster.taskdb import JobState


@pytest.fixture(scope="module")
def iter_elf() -> bytes:
    from proofmarket.cluster.zkvm_api import example_elf

    return example_elf("iter")


@pytest.fixture(scope="module")
def iter_image_id(iter_elf) -> str:
    from proofmarket.cluster.zkvm_api import compute_image_id

    return compute_image_id(iter_elf).hex()


@pytest.fixture
def api(tmp_path):
    config = fs_config(tmp_path)
    settings = ApiSettings(max_image_bytes=64 * 1024, max_input_bytes=1024, limits=config.limits)
    with api_server(config, settings) as (url, ctx):
        yield url, ctx


@pytest.fixture
def client(api):
    with ClusterClient(api[0]) as c:
        yield c


def error_of(call) -> ClusterApiError:
    with pytest.raises(ClusterApiError) as info:
        call()
    return info.value


def test_health_version_quotas_and_openapi(api, client):
    assert client.health()
    version = client.version()
    assert version["risc0_zkvm"] and isinstance(version["proofmarket"], str)
    assert client.quotas()["dedicated_gpu"] == 0
    with ClusterClient(api[0], api_key="v1:reserved:3") as reserved:
        assert reserved.quotas()["dedicated_gpu"] == 3
    schema = httpx.get(f"{api[0]}/openapi.json").json()
    for path in ("/sessions/create", "/images/upload/{image_id}", "/receipts/{job_id}"):
        assert path in schema["paths"]


def test_image_upload_flow(api, client, iter_elf, iter_image_id):
    assert not client.has_img(iter_image_id)
    response = httpx.get(f"{api[0]}/images/upload/{iter_image_id}")
    assert response.status_code == 200
    assert response.json()["url"].endswith(f"/images/upload/{iter_image_id}")
    assert client.upload_img(iter_image_id, iter_elf) is False
    assert client.has_img(iter_image_id)
    assert httpx.get(f"{api[0]}/images/upload/{iter_image_id}").status_code == 204
    assert httpx.put(f"{api[0]}/images/upload/{iter_image_id}", content=iter_elf).status_code == 204
    assert api[1].objects.get(keys.elf_key(iter_image_id)) == iter_elf
    client.delete_img(iter_image_id)
    assert not client.has_img(iter_image_id)
    err = error_of(lambda: client.delete_img(iter_image_id))
    assert (err.status, err.type_name) == (404, "ImageMissing")


def test_image_id_mismatch_and_invalid(client, iter_elf, iter_image_id):
    wrong = "00" * 32
    err = error_of(lambda: client.upload_img(wrong, iter_elf))
    assert (err.status, err.type_name) == (400, "ImageIdMismatch")
    assert iter_image_id in err.msg and wrong in err.msg
    err = error_of(lambda: client.upload_img(wrong, b"not an elf"))
    assert (err.status, err.type_name) == (400, "ImageInvalid")
    err = error_of(lambda: client.has_img("xyz"))
    assert (err.status, err.type_name) == (400, "ImageInvalid")


def test_upload_size_limits_give_413(api, client, iter_image_id):
    err = error_of(lambda: client.upload_input(b"x" * 1025))
    assert (err.status, err.type_name) == (413, "PayloadTooLarge")
    assert "1024" in err.msg
    err = error_of(lambda: client.upload_img(iter_image_id, b"\x7fELF" + bytes(70 * 1024)))
    assert (err.status, err.type_name) == (413, "PayloadTooLarge")

    def chunked():  # no Content-Length: the limit is enforced while streaming
        for _ in range(3):
            yield b"y" * 500

    response = httpx.put(f"{api[0]}/inputs/upload/{uuid.uuid4()}", content=chunked())
    assert response.status_code == 413
    assert response.json()["type"] == "PayloadTooLarge"


def test_input_upload_and_delete(api, client):
    input_id = client.upload_input(b"\x01\x00\x00\x00")
    assert api[1].objects.get(keys.input_key(input_id)) == b"\x01\x00\x00\x00"
    assert httpx.put(f"{api[0]}/inputs/upload/{input_id}", content=b"2").status_code == 204
    client.delete_input(input_id)
    err = error_of(lambda: client.delete_input(input_id))
    assert (err.status, err.type_name) == (404, "InputMissing")
    err = error_of(lambda: client.delete_input("not-a-uuid"))
    assert (err.status, err.type_name) == (400, "InvalidRequest")


def test_session_create_validates_references(client, iter_elf, iter_image_id):
    client.upload_img(iter_image_id, iter_elf)
    input_id = client.upload_input(struct.pack("<I", 1))
    err = error_of(lambda: client.create_session("11" * 32, input_id))
    assert (err.status, err.type_name) == (404, "ImageMissing")
    err = error_of(lambda: client.create_session(iter_image_id, str(uuid.uuid4())))
    assert (err.status, err.type_name) == (404, "InputMissing")
    err = error_of(lambda: client.create_session(iter_image_id, input_id, [str(uuid.uuid4())]))
    assert (err.status, err.type_name) == (404, "ReceiptMissing")
    err = error_of(lambda: client.create_session(iter_image_id, input_id, exec_cycle_limit=0))
    assert (err.status, err.type_name) == (400, "InvalidRequest")
    response = httpx.post(f"{client.endpoint}/sessions/create", json={"img": iter_image_id})
    assert response.status_code == 400 and response.json()["type"] == "InvalidRequest"
    assert "input" in response.json()["msg"]


def test_session_lifecycle_without_agents(api, client, iter_elf, iter_image_id):
    _, ctx = api
    client.upload_img(iter_image_id, iter_elf)
    input_id = client.upload_input(struct.pack("<I", 1))
    session = client.create_session(iter_image_id, input_id)
    status = client.status(session)
    assert (status.status, status.state, status.receipt_url) == ("RUNNING", "Setup", None)
    assert status.elapsed_time is not None and status.elapsed_time >= 0
    tasks = ctx.taskdb.get_job_tasks(session)
    assert [t.task_id for t in tasks] == ["init"]
    executor = tasks[0].task_def["Executor"]
    assert executor["image"] == iter_image_id and executor["input"] == input_id
    assert executor["user_id"] == "default_user" and executor["execute_only"] is False
    assert client.logs(session) == ""
    err = error_of(lambda: client.exec_only_journal(session))
    assert (err.status, err.type_name) == (404, "JournalMissing")
    err = error_of(lambda: client.receipt_url(session))
    assert (err.status, err.type_name) == (404, "ReceiptMissing")
    client.stop(session)
    stopped = client.status(session)
    assert stopped.status == "ABORTED" and stopped.error_msg
    assert ctx.taskdb.get_job_state(session).state == JobState.CANCELLED


def test_status_reflects_task_progress_and_results(api, client, iter_elf, iter_image_id):
    """Drive the TaskDB the way agents do and watch the API report it."""
    url, ctx = api
    db = ctx.taskdb
    client.upload_img(iter_image_id, iter_elf)
    input_id = client.upload_input(struct.pack("<I", 1))
    session = client.create_session(iter_image_id, input_id)
    init = db.request_work("exec")
    assert init is not None and init.job_id == session
    assert client.status(session).state == "Executor"
    prove = db.get_or_create_stream("default_user", "prove")
    aux = db.get_or_create_stream("default_user", "aux")
    db.create_task(session, "0", prove, {"Prove": {"index": 0}}, [], 3, 30)
    db.create_task(session, "1", prove, {"Prove": {"index": 1}}, [], 3, 30)
    assert client.status(session).state == "ProveSegments: 0/2"
    out = {"segments": 2, "user_cycles": 3000, "total_cycles": 32768, "assumption_count": 0}
    db.update_task_done(session, "init", out)
    db.create_task(
        session, "2", prove, {"Join": {"idx": 2, "left": 0, "right": 1}}, ["0", "1"], 3, 30
    )
    db.create_task(session, "finalize", aux, {"Finalize": {"max_idx": 2}}, ["2"], 0, 30)
    for _ in range(2):
        task = db.request_work("prove")
        db.update_task_done(task.job_id, task.task_id)
    status = client.status(session)
    assert status.state == "RecursionJoin: 0/1"
    assert (status.stats.segments, status.stats.total_cycles, status.stats.cycles) == (
        2,
        32768,
        3000,
    )
    task = db.request_work("prove")
    db.update_task_done(task.job_id, task.task_id)
    assert client.status(session).state == "Finalize"
    ctx.objects.put(keys.stark_receipt_key(session), b"receipt-bytes")
    task = db.request_work("aux")
    db.update_task_done(task.job_id, task.task_id)
    done = client.status(session)
    assert done.status == "SUCCEEDED" and done.error_msg is None
    assert done.receipt_url == f"{url}/receipts/stark/receipt/{session}"
    assert client.download_receipt(session) == b"receipt-bytes"
    # once maintenance removed the job, the stored receipt still answers SUCCEEDED
    db.delete_job(session)
    assert client.status(session).status == "SUCCEEDED"


def test_failed_session_reports_error(api, client, iter_elf, iter_image_id):
    _, ctx = api
    client.upload_img(iter_image_id, iter_elf)
    session = client.create_session(iter_image_id, client.upload_input(b"\0\0\0\0"))
    task = ctx.taskdb.request_work("exec")
    ctx.taskdb.update_task_failed(task.job_id, task.task_id, "Guest panicked: boom")
    status = client.status(session)
    assert status.status == "FAILED" and status.error_msg == "Guest panicked: boom"


def test_api_keys_scope_sessions_and_reserve_workers(api, iter_elf, iter_image_id):
    url, ctx = api
    with ClusterClient(url, api_key="v1:reserved:2") as alice, ClusterClient(url) as anon:
        alice.upload_img(iter_image_id, iter_elf)
        session = alice.create_session(iter_image_id, alice.upload_input(b"\1\0\0\0"))
        assert alice.status(session).status == "RUNNING"
        err = error_of(lambda: anon.status(session))
        assert (err.status, err.type_name) == (404, "JobMissing")
        err = error_of(lambda: anon.stop(session))
        assert err.status == 404
    streams = [s for s in ctx.taskdb.stream_stats() if s.user_id == "v1:reserved:2"]
    assert {s.worker_type for s in streams} >= {"exec", "prove", "join", "aux"}
    assert all(s.reserved == 2 for s in streams)
    with ClusterClient(url, api_key="v1:reserved:lots") as bad:
        err = error_of(bad.quotas)
    assert (err.status, err.type_name) == (400, "InvalidApiKey")


def test_receipt_upload_checks_format(api, client):
    err = error_of(lambda: client.upload_receipt(b"garbage"))
    assert (err.status, err.type_name) == (400, "ReceiptInvalid")


def test_receipt_upload_accepts_a_receipt(api, client, iter_elf):
    from proofmarket.zkvm.prove import prove

    receipt = prove(iter_elf, struct.pack("<I", 1), dev_mode=True, segment_po2=14)
    receipt_id = client.upload_receipt(receipt.to_bytes())
    assert api[1].objects.get(keys.stark_receipt_key(receipt_id)) == receipt.to_bytes()
    again = httpx.put(f"{api[0]}/receipts/upload/{receipt_id}", content=receipt.to_bytes())
    assert again.status_code == 204


def test_unknown_route_and_method_are_json_errors(api, client):
    response = httpx.get(f"{api[0]}/no/such/route")
    assert response.status_code == 404 and response.json()["type"] == "NotFound"
    response = httpx.post(f"{api[0]}/health")
    assert response.status_code == 405 and response.json()["type"] == "MethodNotAllowed"
    err = error_of(lambda: client.status(str(uuid.uuid4())))
    assert (err.status, err.type_name) == (404, "JobMissing")
    response = httpx.post(f"{api[0]}/snark/create", json={"session_id": str(uuid.uuid4())})
    assert response.status_code == 501 and response.json()["type"] == "NotImplemented"
    assert "Groth16" in response.json()["msg"]
    err = error_of(lambda: client.status("nope"))
    assert (err.status, err.type_name) == (400, "InvalidRequest")
