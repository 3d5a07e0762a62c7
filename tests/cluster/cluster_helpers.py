"""Helpers shared by the cluster tests: free ports, an in-process API server, agents in
threads and a small cluster harness (API + one agent of each type)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from proofmarket.cluster.agent import Agent, AgentSettings
from proofmarket.cluster.api import ApiContext, ApiSettings, create_app
from proofmarket.cluster.api.server import ApiServerThread
from proofmarket.cluster.config import WORKER_TYPES, ClusterConfig, TaskLimits
from proofmarket.cluster.taskdb import open_taskdb
from proofmarket.cluster.tasks.aux import MaintenanceSettings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fs_config(tmp_path: Path, database_url: str | None = None, **changes) -> ClusterConfig:
    """Embedded-defaults config (SQLite + filesystem) in a test directory, in dev mode: most
    cluster tests are about orchestration (real STARK proving is tested on its own, with
    ``dev_mode=False`` and the fast test profile)."""
    config = ClusterConfig(
        database_url=database_url or f"sqlite:///{tmp_path / 'taskdb.sqlite'}",
        segment_store_url=str(tmp_path / "segments"),
        object_store_url=str(tmp_path / "objects"),
        segment_po2=14,
        join_stream=True,
        dev_mode=True,
        limits=TaskLimits(prove_timeout=6, join_timeout=6, finalize_timeout=6, resolve_timeout=6),
    )
    return config.with_(**changes) if changes else config


@contextmanager
def api_server(
    config: ClusterConfig, settings: ApiSettings | None = None
) -> Iterator[tuple[str, ApiContext]]:
    ctx = ApiContext(
        open_taskdb(config.database_url),
        config.open_object_store(),
        settings or ApiSettings(limits=config.limits),
    )
    server = ApiServerThread(create_app(ctx), port=0)
    server.start()
    try:
        yield server.url, ctx
    finally:
        server.stop()
        ctx.taskdb.close()


FAST_MAINTENANCE = MaintenanceSettings(
    requeue_poll_interval=0.5,
    stuck_tasks_poll_interval=2.0,
    cleanup_poll_interval=3600.0,
    claim_ack_secs=1.0,
    outage_grace_secs=1.0,
)


@dataclass
class AgentThreads:
    agents: list[Agent] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self, config: ClusterConfig, worker_type: str, **settings) -> Agent:
        agent = Agent(
            config,
            AgentSettings(
                worker_type=worker_type,
                poll_time=0.5,
                task_heartbeat_secs=0.5,
                maintenance=FAST_MAINTENANCE,
                **settings,
            ),
        )
        thread = threading.Thread(target=agent.run, name=f"agent-{worker_type}", daemon=True)
        thread.start()
        self.agents.append(agent)
        self.threads.append(thread)
        return agent

    def stop(self) -> None:
        for agent in self.agents:
            agent.request_stop()
        for thread in self.threads:
            thread.join(timeout=30)


@contextmanager
def agents(config: ClusterConfig, types: tuple[str, ...] = WORKER_TYPES) -> Iterator[AgentThreads]:
    group = AgentThreads()
    try:
        for worker_type in types:
            group.start(config, worker_type)
        yield group
    finally:
        group.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@contextmanager
def running_cluster(
    config: ClusterConfig, types: tuple[str, ...] = WORKER_TYPES
) -> Iterator[tuple[str, ApiContext, AgentThreads]]:
    """API server + one agent of each type, all in this process (threads)."""
    with api_server(config) as (url, ctx), agents(config, types) as group:
        yield url, ctx, group


def iter_expectation(iterations: int, segment_po2: int):
    """Journal and segment count of the iter guest, straight from the executor."""
    import struct

    from proofmarket.cluster.zkvm_api import example_elf, execute

    session = execute(
        example_elf("iter"),
        struct.pack("<I", iterations),
        segment_po2=segment_po2,
        keep_segments=False,
    )
    return session
