"""Helpers for the TaskDB tests: raw SQL for fault injection, agent processes, waiting."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from proofmarket.cluster.taskdb import DatabaseUnavailable, TaskDB, open_taskdb

T = TypeVar("T")

NO_RETRY = 0
TIMEOUT = 60


def raw_execute(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL directly against the TaskDB's database (fault injection / inspection).

    Use ``?`` placeholders; they are translated for PostgreSQL.
    """
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :], timeout=30)
        try:
            with conn:
                cur = conn.execute(query, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        cur = pg.execute(query.replace("?", "%s"), params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


def retrying(fn: Callable[[], T], attempts: int = 5) -> T:
    """Call ``fn`` like an agent does: retry after ``DatabaseUnavailable``."""
    for attempt in range(attempts):
        try:
            return fn()
        except DatabaseUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def make_job_with_tasks(
    db: TaskDB, user: str, count: int, worker_type: str = "prove", **stream: Any
) -> tuple[str, list[str]]:
    """A running job with ``count`` independent ready tasks on ``worker_type``."""
    exec_stream = db.get_or_create_stream(user, "exec")
    work_stream = db.get_or_create_stream(user, worker_type, **stream)
    job = db.create_job(exec_stream, {"Executor": {}}, NO_RETRY, TIMEOUT, user)
    ids = [str(i) for i in range(count)]
    for task_id in ids:
        db.create_task(job, task_id, work_stream, {"Prove": {"index": int(task_id)}}, [], 1, 60)
    return job, ids


def drain(db: TaskDB, worker_type: str, wait_secs: float = 0.0) -> list[tuple[str, str]]:
    """Claim and complete tasks until none is ready; returns what was claimed."""
    claimed: list[tuple[str, str]] = []
    while (task := db.request_work(worker_type, wait_secs)) is not None:
        claimed.append((task.job_id, task.task_id))
        db.update_task_done(task.job_id, task.task_id, {"by": os.getpid()})
    return claimed


def claim_threads(url: str, worker_type: str, threads: int) -> list[tuple[str, str]]:
    """``threads`` agents sharing one TaskDB object race to drain ``worker_type``."""
    db = open_taskdb(url)
    start = threading.Barrier(threads)
    results: list[list[tuple[str, str]]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def agent(slot: int) -> None:
        try:
            start.wait()
            results[slot] = drain(db, worker_type, wait_secs=0.2)
        except BaseException as exc:  # reported to the test
            errors.append(exc)

    workers = [threading.Thread(target=agent, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(TIMEOUT)
    db.close()
    if errors:
        raise errors[0]
    return [item for chunk in results for item in chunk]


def agent_process(url: str, worker_type: str, threads: int, start: Any, out: Any) -> None:
    """Process entry point: wait for ``start``, drain with ``threads`` threads, report."""
    start.wait(TIMEOUT)
    try:
        out.put(("ok", claim_threads(url, worker_type, threads)))
    except BaseException as exc:
        out.put(("error", repr(exc)))


def claim_and_hang(url: str, worker_type: str, out: Any) -> None:
    """Process entry point: claim one task, report it, then hang until killed."""
    db = open_taskdb(url)
    task = db.request_work(worker_type, wait_secs=TIMEOUT)
    out.put(None if task is None else (task.job_id, task.task_id))
    while True:
        time.sleep(1)


class TcpProxy:
    """A TCP forwarder to inject database outages: ``stop()`` drops every connection and
    refuses new ones (like a server that went down), ``start()`` brings it back on the
    same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        for sock in [s for s in (listener,) if s is not None] + sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(self._target)
            except OSError:
                return
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


def wait_for_work(url: str, worker_type: str, out: Any) -> None:
    """Process entry point: report that it is about to long-poll, then report the claim."""
    db = open_taskdb(url)
    db.request_work("warmup")  # connected (and migrated) before reporting
    out.put("waiting")
    task = db.request_work(worker_type, wait_secs=TIMEOUT)
    out.put(None if task is None else (task.job_id, task.task_id))
    db.close()
