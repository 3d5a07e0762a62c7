"""Run the API with uvicorn: blocking (``serve``) or in a background thread
(``ApiServerThread``, used by ``cluster up`` tests and embedding)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from proofmarket.cluster.api.app import ApiContext, ApiSettings, create_app
from proofmarket.cluster.config import ClusterConfig
from proofmarket.cluster.taskdb import open_taskdb

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081


def build_app(config: ClusterConfig, settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings(
        exec_cycle_limit_mcycles=config.exec_cycle_limit_mcycles, limits=config.limits
    )
    ctx = ApiContext(open_taskdb(config.database_url), config.open_object_store(), settings)
    return create_app(ctx)


def serve(
    config: ClusterConfig,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    settings: ApiSettings | None = None,
    fd: int | None = None,
) -> None:
    """Serve until interrupted (uvicorn handles SIGTERM/SIGINT gracefully).

    ``fd`` is a socket already bound and listening (the supervisor's); ``host`` and
    ``port`` are then only what the logs name."""
    app = build_app(config, settings)
    server = uvicorn.Server(  # log_config=None: uvicorn logs through the root logger's format
        uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, log_config=None
        )
    )
    try:
        server.run(sockets=None if fd is None else [socket.socket(fileno=fd)])
    finally:
        app.state.ctx.taskdb.close()
        app.state.ctx.objects.close()


class ApiServerThread:
    """uvicorn in a daemon thread; ``start`` returns once the socket is listening."""

    def __init__(self, app: FastAPI, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        )
        self._thread = threading.Thread(target=self._server.run, name="cluster-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _bound_port(self) -> int:
        for server in getattr(self._server, "servers", []):
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self.port

    def start(self, timeout: float = 20.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"API server did not start on {self.url}")
            time.sleep(0.02)
        self.port = self._bound_port()  # port 0 asks the OS for a free one

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
