"""Helpers of the fault tests and the chaos benchmark: agents as real processes (so they
can be SIGKILLed), short timeouts, job submission and receipt verification."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from proofmarket.cluster.client import ClusterClient, SessionStatus
from proofmarket.cluster.zkvm_api import Receipt, compute_image_id, example_elf, verify

#: Agent options that make failures show up in seconds instead of Bento's minutes.
FAST_AGENT_ARGS = [
    "--dev-mode",  # these tests are about orchestration and faults, not proving
    "--poll-time",
    "0.2",
    "--heartbeat-secs",
    "0.3",
    "--no-warm-up",
    "--join-stream",
    "--prove-timeout",
    "3",
    "--join-timeout",
    "3",
    "--resolve-timeout",
    "3",
    "--finalize-timeout",
    "3",
    "--requeue-poll-interval",
    "0.3",
    "--claim-ack-secs",
    "1",
]


def iter_image_id() -> str:
    return compute_image_id(example_elf("iter")).hex()


def submit_iter(url: str, iterations: int) -> str:
    elf = example_elf("iter")
    with ClusterClient(url) as client:
        client.upload_img(iter_image_id(), elf)
        return client.create_session(
            iter_image_id(), client.upload_input(struct.pack("<I", iterations))
        )


def wait_session(url: str, session: str, timeout: float = 120) -> SessionStatus:
    with ClusterClient(url) as client:
        return client.wait(session, poll_secs=0.1, timeout_secs=timeout)


def verified_receipt(url: str, session: str) -> Receipt:
    """Download the session's receipt and verify it against the iter image (dev mode)."""
    with ClusterClient(url) as client:
        receipt = Receipt.from_bytes(client.download_receipt(session))
    verify(receipt, bytes.fromhex(iter_image_id()), allow_dev_mode=True)
    return receipt


@dataclass
class AgentProcesses:
    """``proofmarket cluster agent`` processes sharing one TaskDB and object directory."""

    database_url: str
    storage_dir: Path
    segment_po2: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(
        self, worker_type: str, *, redis_url: str | None = None, database_url: str | None = None
    ) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "proofmarket.cli.main", "cluster", "agent"]
        argv += ["--type", worker_type, "--database-url", database_url or self.database_url]
        argv += ["--storage-dir", str(self.storage_dir), "--segment-po2", str(self.segment_po2)]
        if redis_url:
            argv += ["--redis-url", redis_url]
        log = (self.storage_dir / f"agent-{worker_type}-{len(self.procs)}.log").open("ab")
        proc = subprocess.Popen(
            [*argv, *FAST_AGENT_ARGS], stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
        )
        log.close()
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill9(proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
