"""Running the service: open the book and the market, then serve with uvicorn in the
foreground (``serve``) or in a thread (``StreamServer``, for tests and embedding).

A foreground server records ``state.json`` (pid, URL, database backend) in its data
directory so that ``proofmarket orderstream status`` can find it.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from proofmarket.orderstream.app import StreamContext, create_app
from proofmarket.orderstream.settings import StreamSettings
from proofmarket.orderstream.store import OrderStore, open_store
from proofmarket.processes import pid_alive

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8585
DEFAULT_DATA_DIR = Path(".proofmarket") / "orderstream"
STATE_FILE = "state.json"


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir.resolve() / 'orderstream.sqlite'}"


@dataclass(frozen=True)
class ServiceConfig:
    database_url: str
    rpc_url: str
    market_address: str
    settings: StreamSettings = field(default_factory=StreamSettings)


def open_context(config: ServiceConfig) -> StreamContext:
    """Connect to the chain (read-only) and open the order database."""
    from proofmarket.market.client import MarketClient

    market = MarketClient.connect(config.rpc_url, config.market_address)
    store: OrderStore = open_store(config.database_url)
    return StreamContext(store, market, config.settings)


def _uvicorn_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    # our own heartbeats detect dead peers; protocol pings stay on as a second net
    return uvicorn.Config(  # log_config=None: uvicorn logs in the root logger's format
        app, host=host, port=port, log_level="warning", access_log=False, log_config=None
    )


def serve(config: ServiceConfig, host: str, port: int, data_dir: Path) -> None:
    """Serve until interrupted, with ``state.json`` present while running."""
    ctx = open_context(config)
    state_path = data_dir / STATE_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    state = {
        "pid": os.getpid(),
        "url": f"http://{host}:{port}",
        "database": ctx.store.backend,
        "market": ctx.market.address,
        "chainId": ctx.domain.chain_id,
        "startedAt": time.time(),
    }

    def cleanup() -> None:
        with contextlib.suppress(OSError):
            if read_state(data_dir, check_alive=False) == state:
                state_path.unlink()
        ctx.store.close()

    app = create_app(ctx, on_shutdown=cleanup)
    state_path.write_text(json.dumps(state, indent=2))
    uvicorn.Server(_uvicorn_config(app, host, port)).run()


def read_state(data_dir: Path, *, check_alive: bool = True) -> dict[str, Any] | None:
    """The running service's record, or None (no file, unreadable, or process gone)."""
    try:
        state: dict[str, Any] = json.loads((data_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if check_alive and not pid_alive(int(state.get("pid", 0))):
        return None
    return state


class StreamServer:
    """The service on a background thread; port 0 picks a free port."""

    def __init__(self, ctx: StreamContext, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self.ctx = ctx
        self.app = create_app(ctx)
        self.host = host
        self.port = port
        self._server = uvicorn.Server(_uvicorn_config(self.app, host, port))
        self._thread = threading.Thread(target=self._server.run, name="orderstream", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> StreamServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"order stream did not start on {self.host}")
            time.sleep(0.02)
        for server in getattr(self._server, "servers", []):
            for sock in server.sockets:
                self.port = int(sock.getsockname()[1])
                break
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> StreamServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
