"""Bonsai-compatible REST API of the proving cluster (Bento's routes, §3.5).

Handlers that touch the TaskDB or a store are plain ``def`` functions, so FastAPI runs
them in its thread pool and blocking I/O never stalls the event loop; uploads are
``async`` to stream the body against a size limit, then hand the work to the pool.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException

import proofmarket
from proofmarket.cluster.api import errors
from proofmarket.cluster.api.auth import API_KEY_HEADER, Caller, caller_from_api_key
from proofmarket.cluster.api.models import (
    CreateSessRes,
    ImgUploadRes,
    ProofReq,
    Quotas,
    ReceiptDownload,
    SessionStats,
    SessionStatusRes,
    UploadRes,
    VersionInfo,
)
from proofmarket.cluster.api.openapi import allowed_methods, install_openapi
from proofmarket.cluster.config import (
    DEFAULT_EXEC_CYCLE_LIMIT_MCYCLES,
    MCYCLE,
    WORKER_TYPES,
    TaskLimits,
)
from proofmarket.cluster.metrics import metrics_registry
from proofmarket.cluster.metrics import render as render_metrics
from proofmarket.cluster.planner import INIT_TASK_ID
from proofmarket.cluster.progress import elapsed_seconds, exec_stats, progress_state
from proofmarket.cluster.storage import (
    ObjectMissing,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    keys,
)
from proofmarket.cluster.taskdb import (
    DatabaseUnavailable,
    JobState,
    JobStatus,
    TaskDB,
    TaskDBError,
    UnknownJob,
)
from proofmarket.cluster.tasks.defs import EXECUTOR_TAG, ExecutorReq, encode_task_def

log = logging.getLogger(__name__)
T = TypeVar("T")

# Receipt claims hash like RISC Zero 1.x; the version list tells Bonsai clients so.
RISC0_COMPAT_VERSIONS = ["1.2.0"]
MIB = 1 << 20
UNLIMITED_CYCLE_BUDGET = (1 << 63) - 1
_STATUS = {
    JobState.RUNNING: "RUNNING",
    JobState.DONE: "SUCCEEDED",
    JobState.FAILED: "FAILED",
    JobState.CANCELLED: "ABORTED",
}


@dataclass(frozen=True)
class ApiSettings:
    max_image_bytes: int = 64 * MIB
    max_input_bytes: int = 64 * MIB
    max_receipt_bytes: int = 256 * MIB
    exec_cycle_limit_mcycles: int = DEFAULT_EXEC_CYCLE_LIMIT_MCYCLES
    concurrent_proofs: int = 64
    limits: TaskLimits = field(default_factory=TaskLimits)


@dataclass
class ApiContext:
    taskdb: TaskDB
    objects: ObjectStore
    settings: ApiSettings = field(default_factory=ApiSettings)


def _caller(request: Request) -> Caller:
    return caller_from_api_key(request.headers.get(API_KEY_HEADER))


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _upload_slot(request: Request, collection: str) -> UploadRes:
    """A fresh UUID and the URL to PUT its bytes to (``/{collection}/upload/{uuid}``)."""
    new_id = str(uuid.uuid4())
    return UploadRes(url=f"{_base_url(request)}/{collection}/upload/{new_id}", uuid=new_id)


def _image_id(raw: str) -> str:
    text = raw.lower().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise errors.ImageInvalid(f"image id must be 32 bytes of hex (64 digits), got {raw!r}")
    return text


def _uuid(raw: str, what: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise errors.InvalidRequest(f"{what} id must be a UUID, got {raw!r}") from None


async def _read_body(request: Request, limit: int, what: str) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdecimal() and int(declared) > limit:
        raise errors.PayloadTooLarge(
            f"{what} of {int(declared)} bytes exceeds the limit of {limit} bytes"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise errors.PayloadTooLarge(f"{what} exceeds the limit of {limit} bytes")
    return bytes(body)


def _compute_image_id(elf: bytes) -> str:
    from proofmarket.cluster.zkvm_api import ZkvmError, compute_image_id

    try:
        return compute_image_id(elf).hex()
    except ZkvmError as exc:
        raise errors.ImageInvalid(f"not a loadable RV32IM ELF: {exc}") from None


def _check_receipt(data: bytes) -> None:
    from proofmarket.cluster.zkvm_api import Receipt

    try:
        Receipt.from_bytes(data)
    except Exception as exc:  # any decoding failure means a bad upload
        raise errors.ReceiptInvalid(f"not a proofmarket receipt: {exc}") from None


def _job_state(ctx: ApiContext, job_id: str, caller: Caller) -> JobStatus | None:
    try:
        return ctx.taskdb.get_job_state(job_id, caller.user_id)
    except UnknownJob:
        return None


def create_app(ctx: ApiContext) -> FastAPI:
    """Build the FastAPI application around a TaskDB and an object store."""
    # FastAPIOffline serves the Swagger UI and ReDoc assets from the installed package,
    # so /docs and /redoc work on a machine without internet access.
    app = FastAPIOffline(
        title="proofmarket cluster API",
        version=proofmarket.__version__,
        description="Bonsai-compatible proving API (Bento routes).",
    )
    app.state.ctx = ctx
    settings = ctx.settings
    objects = ctx.objects
    taskdb = ctx.taskdb

    def err_response(exc: errors.ApiError) -> Response:
        if exc.status_code == 204:
            return Response(status_code=204)
        return JSONResponse({"type": exc.type_name, "msg": exc.msg}, status_code=exc.status_code)

    @app.exception_handler(errors.ApiError)
    async def _api_error(_: Request, exc: errors.ApiError) -> Response:
        return err_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return err_response(errors.InvalidRequest(f"invalid request body: {details}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return err_response(errors.RouteMissing(f"no route {request.url.path}"))
        if exc.status_code == 405:
            response = err_response(
                errors.MethodNotAllowed(f"{request.method} not allowed on {request.url.path}")
            )
            response.headers["Allow"] = ", ".join(allowed_methods(app, request))
            return response
        return JSONResponse({"type": "HttpError", "msg": str(exc.detail)}, exc.status_code)

    @app.exception_handler(TaskDBError)
    async def _taskdb(_: Request, exc: TaskDBError) -> Response:
        if isinstance(exc, DatabaseUnavailable):
            return err_response(errors.DbErr(f"task database unavailable: {exc}"))
        if isinstance(exc, UnknownJob):
            return err_response(errors.JobMissing(str(exc)))
        log.exception("task database error")
        return err_response(errors.InternalErr(f"task database error: {exc}"))

    @app.exception_handler(StorageError)
    async def _storage(_: Request, exc: StorageError) -> Response:
        if isinstance(exc, StorageUnavailable):
            return err_response(errors.StorageErr(f"object store unavailable: {exc}"))
        log.exception("object store error")
        return err_response(errors.StorageErr(str(exc)))

    async def pool(fn: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(fn, *args)

    # -- health / version / quotas ------------------------------------------------------
    @app.get("/health")
    def health() -> dict[str, str]:
        taskdb.stream_stats()  # raises DatabaseUnavailable → 503
        return {"status": "ok"}

    registry = metrics_registry(taskdb)

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> Response:
        """Prometheus metrics (jobs, tasks, queues, agents, task times, proven cycles/s)."""
        return Response(render_metrics(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/version", response_model=VersionInfo)
    def version() -> VersionInfo:
        return VersionInfo(risc0_zkvm=RISC0_COMPAT_VERSIONS, proofmarket=proofmarket.__version__)

    @app.get("/user/quotas", response_model=Quotas)
    def quotas(request: Request) -> Quotas:
        caller = _caller(request)
        return Quotas(
            exec_cycle_limit=settings.exec_cycle_limit_mcycles * MCYCLE,
            concurrent_proofs=settings.concurrent_proofs,
            cycle_budget=UNLIMITED_CYCLE_BUDGET,
            cycle_usage=0,
            dedicated_executor=0,
            dedicated_gpu=caller.reserved,
        )

    # -- images ----------------------------------------------------------------------------
    @app.get("/images/upload/{image_id}", response_model=ImgUploadRes)
    def image_upload_url(image_id: str, request: Request) -> ImgUploadRes:
        _caller(request)
        image = _image_id(image_id)
        if objects.exists(keys.elf_key(image)):
            raise errors.ImgAlreadyExists(f"image {image} already exists")
        return ImgUploadRes(url=f"{_base_url(request)}/images/upload/{image}")

    @app.put("/images/upload/{image_id}")
    async def image_upload(image_id: str, request: Request) -> Response:
        _caller(request)
        image = _image_id(image_id)
        if await pool(objects.exists, keys.elf_key(image)):
            raise errors.ImgAlreadyExists(f"image {image} already exists")
        body = await _read_body(request, settings.max_image_bytes, "image upload")
        computed = await pool(_compute_image_id, body)
        if computed != image:
            raise errors.ImageIdMismatch(
                f"the image id does not match the computed id, req: {image} comp: {computed}"
            )
        await pool(objects.put, keys.elf_key(image), body)
        return Response(status_code=200)

    @app.delete("/images/{image_id}")
    def image_delete(image_id: str, request: Request) -> Response:
        _caller(request)
        image = _image_id(image_id)
        if not objects.delete(keys.elf_key(image)):
            raise errors.ImageMissing(f"image {image} does not exist")
        return Response(status_code=200)

    # -- inputs ----------------------------------------------------------------------------
    @app.get("/inputs/upload", response_model=UploadRes)
    def input_upload_url(request: Request) -> UploadRes:
        _caller(request)
        return _upload_slot(request, "inputs")

    @app.put("/inputs/upload/{input_id}")
    async def input_upload(input_id: str, request: Request) -> Response:
        _caller(request)
        ident = _uuid(input_id, "input")
        if await pool(objects.exists, keys.input_key(ident)):
            raise errors.InputAlreadyExists(f"input {ident} already exists")
        body = await _read_body(request, settings.max_input_bytes, "input upload")
        await pool(objects.put, keys.input_key(ident), body)
        return Response(status_code=200)

    @app.delete("/inputs/{input_id}")
    def input_delete(input_id: str, request: Request) -> Response:
        _caller(request)
        ident = _uuid(input_id, "input")
        if not objects.delete(keys.input_key(ident)):
            raise errors.InputMissing(f"input {ident} does not exist")
        return Response(status_code=200)

    # -- receipts (assumptions uploaded by the client, results downloaded) -----------------
    @app.get("/receipts/upload", response_model=UploadRes)
    def receipt_upload_url(request: Request) -> UploadRes:
        _caller(request)
        return _upload_slot(request, "receipts")

    @app.put("/receipts/upload/{receipt_id}")
    async def receipt_upload(receipt_id: str, request: Request) -> Response:
        _caller(request)
        ident = _uuid(receipt_id, "receipt")
        if await pool(objects.exists, keys.stark_receipt_key(ident)):
            raise errors.ReceiptAlreadyExists(f"receipt {ident} already exists")
        body = await _read_body(request, settings.max_receipt_bytes, "receipt upload")
        await pool(_check_receipt, body)
        await pool(objects.put, keys.stark_receipt_key(ident), body)
        return Response(status_code=200)

    @app.get("/receipts/stark/receipt/{job_id}")
    def receipt_bytes(job_id: str, request: Request) -> Response:
        _caller(request)
        ident = _uuid(job_id, "receipt")
        try:
            data = objects.get(keys.stark_receipt_key(ident))
        except ObjectMissing:
            raise errors.ReceiptMissing(f"receipt does not exist: {ident}") from None
        return Response(content=data, media_type="application/octet-stream")

    @app.get("/receipts/{job_id}", response_model=ReceiptDownload)
    def receipt_download(job_id: str, request: Request) -> ReceiptDownload:
        _caller(request)
        ident = _uuid(job_id, "receipt")
        if not objects.exists(keys.stark_receipt_key(ident)):
            raise errors.ReceiptMissing(f"receipt does not exist: {ident}")
        return ReceiptDownload(url=f"{_base_url(request)}/receipts/stark/receipt/{ident}")

    # -- sessions --------------------------------------------------------------------------
    @app.post("/sessions/create", response_model=CreateSessRes)
    def session_create(req: ProofReq, request: Request) -> CreateSessRes:
        caller = _caller(request)
        image = _image_id(req.img)
        input_id = _uuid(req.input, "input")
        assumptions = [_uuid(a, "assumption receipt") for a in req.assumptions]
        if not objects.exists(keys.elf_key(image)):
            raise errors.ImageMissing(f"image {image} has not been uploaded")
        if not objects.exists(keys.input_key(input_id)):
            raise errors.InputMissing(f"input {input_id} has not been uploaded")
        for receipt in assumptions:
            if not objects.exists(keys.stark_receipt_key(receipt)):
                raise errors.ReceiptMissing(f"assumption receipt {receipt} has not been uploaded")
        streams = {
            worker: taskdb.get_or_create_stream(caller.user_id, worker, caller.reserved)
            for worker in WORKER_TYPES
        }
        task_def = encode_task_def(
            ExecutorReq(
                image=image,
                input=input_id,
                user_id=caller.user_id,
                assumptions=assumptions,
                execute_only=req.execute_only,
                exec_limit=req.exec_cycle_limit,
            )
        )
        job_id = taskdb.create_job(
            streams["exec"],
            task_def,
            settings.limits.exec_retries,
            settings.limits.exec_timeout,
            caller.user_id,
        )
        return CreateSessRes(uuid=job_id)

    @app.get("/sessions/status/{job_id}", response_model=SessionStatusRes)
    def session_status(job_id: str, request: Request) -> SessionStatusRes:
        caller = _caller(request)
        ident = _uuid(job_id, "session")
        receipt_url = f"{_base_url(request)}/receipts/stark/receipt/{ident}"
        job = _job_state(ctx, ident, caller)
        if job is None:
            if objects.exists(keys.stark_receipt_key(ident)):  # job row cleaned up already
                return SessionStatusRes(status="SUCCEEDED", receipt_url=receipt_url, state="")
            raise errors.JobMissing(f"session {ident} not found")
        tasks = taskdb.get_job_tasks(ident)
        stats = exec_stats(tasks)
        init = next((t for t in tasks if t.task_id == INIT_TASK_ID), None)
        execute_only = bool(
            init is not None and init.task_def.get(EXECUTOR_TAG, {}).get("execute_only")
        )
        error_msg = job.error
        if job.state == JobState.CANCELLED and not error_msg:
            error_msg = "session was stopped"
        return SessionStatusRes(
            status=_STATUS[job.state],
            receipt_url=receipt_url if job.state == JobState.DONE and not execute_only else None,
            error_msg=error_msg if job.state != JobState.DONE else None,
            state=progress_state(tasks, job.state),
            elapsed_time=elapsed_seconds(tasks, job.state),
            stats=SessionStats(
                segments=stats.segments, total_cycles=stats.total_cycles, cycles=stats.user_cycles
            )
            if stats
            else None,
        )

    @app.get("/sessions/stop/{job_id}")
    def session_stop(job_id: str, request: Request) -> dict[str, str]:
        caller = _caller(request)
        ident = _uuid(job_id, "session")
        if _job_state(ctx, ident, caller) is None:
            raise errors.JobMissing(f"session {ident} not found")
        taskdb.cancel_job(ident, caller.user_id)
        return {}

    @app.get("/sessions/exec_only_journal/{job_id}")
    def exec_only_journal(job_id: str, request: Request) -> Response:
        _caller(request)
        ident = _uuid(job_id, "session")
        try:
            data = objects.get(keys.preflight_journal_key(ident))
        except ObjectMissing:
            raise errors.JournalMissing(f"journal does not exist: {ident}") from None
        return Response(content=data, media_type="application/octet-stream")

    @app.get("/sessions/logs/{job_id}", response_class=PlainTextResponse)
    def session_logs(job_id: str, request: Request) -> PlainTextResponse:
        caller = _caller(request)
        ident = _uuid(job_id, "session")
        try:
            data = objects.get(keys.exec_log_key(ident))
        except ObjectMissing:
            if _job_state(ctx, ident, caller) is None:
                raise errors.JobMissing(f"session {ident} not found") from None
            data = b""  # execution has not finished yet
        return PlainTextResponse(data.decode("utf-8", errors="replace"))

    # -- SNARK compression: known to Bonsai clients, not offered by this cluster yet ---------
    snark_msg = (
        "SNARK (Groth16) compression is not available on this cluster yet; use the STARK "
        "receipt from /receipts/{session_id}"
    )

    @app.post("/snark/create")
    def snark_create(request: Request) -> Response:
        _caller(request)
        raise errors.NotImplementedErr(snark_msg)

    @app.get("/snark/status/{job_id}")
    def snark_status(job_id: str, request: Request) -> Response:
        _caller(request)
        raise errors.NotImplementedErr(snark_msg)

    install_openapi(app)
    return app
