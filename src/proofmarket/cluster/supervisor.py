"""``cluster up``: run the API and one agent of each type as supervised subprocesses.

A child that dies is restarted (back-off from 0.25 s doubling up to 2 s, reset once the
child has lived 10 s), so a cluster whose dependency flapped is whole again within a
couple of seconds of it coming back. The supervisor writes
``cluster.json`` (its pid, endpoint, children) in the data directory, which ``cluster
down`` and ``cluster status`` read; SIGTERM/SIGINT stop every child, then the supervisor.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from proofmarket.cluster.config import WORKER_TYPES
from proofmarket.cluster.forked import ChildProcess, ForkedProcess, preload
from proofmarket.processes import pid_alive

log = logging.getLogger(__name__)
STATE_FILE = "cluster.json"
PID_FILE = "cluster.pid"
RESTART_BACKOFF_INITIAL = 0.25
RESTART_BACKOFF_MAX = 2.0
RESTART_BACKOFF_RESET_SECS = 10.0  # a child alive this long starts again from the initial
STOP_GRACE_SECS = 15.0
STOP_POLL_SECS = 0.02


class PortInUse(RuntimeError):
    """The API's address cannot be bound (another process listens there)."""


def _bound_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise PortInUse(f"cannot bind the cluster API to {host}:{port}: {reason}") from None
    return sock


def check_bindable(host: str, port: int) -> None:
    """Raise ``PortInUse`` unless ``host:port`` can be bound now.

    Checked before any child starts so that ``cluster up`` fails at once instead of
    reporting success while the API restarts forever on "address already in use".
    """
    _bound_socket(host, port).close()


def listen(host: str, port: int) -> socket.socket:
    """The API's listening socket, owned by the supervisor and served by the API child.

    Binding it here (not in the child) means the address is the cluster's from the moment
    ``cluster up`` returns: connections made while the API child is still importing wait
    in the backlog instead of being refused, and a restarted API child serves the same
    socket without racing anyone for the port.
    """
    sock = _bound_socket(host, port)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    preload: tuple[str, ...] = ()  # modules a forked child needs, imported before forking
    # Runs ``proofmarket <args>`` in this process (given by the CLI, which sits above the
    # cluster): when set, children are forked instead of started as new interpreters.
    run_cli: Callable[[list[str]], int] | None = None
    pass_fds: tuple[int, ...] = ()  # descriptors a new interpreter must inherit
    proc: ChildProcess | None = None
    restarts: int = 0
    started_at: float = 0.0
    dead_since: float | None = None
    backoff: float = RESTART_BACKOFF_INITIAL
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log is None:
            self._log = self.log_path.open("ab")
        self.started_at = time.monotonic()
        prefix = _cli_prefix()
        run_cli = self.run_cli
        if run_cli is not None and self.argv[: len(prefix)] == prefix and env == os.environ:
            preload(self.preload)
            args = self.argv[len(prefix) :]
            self.proc = ForkedProcess(lambda: run_cli(args), self._log, self.name)
            return
        self.proc = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            pass_fds=self.pass_fds,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass(frozen=True)
class UpOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8081
    database_url: str | None = None
    redis_url: str | None = None
    s3_url: str | None = None
    segment_po2: int | None = None
    agent_types: tuple[str, ...] = WORKER_TYPES
    dev_mode: bool = False  # agents get --dev-mode: DEV MODE receipts
    stark_profile: str | None = None  # agents get --stark-profile (None: their default)


def _cli_prefix() -> list[str]:
    """How a child would start ``proofmarket`` in a new interpreter (children with this
    prefix are forked instead, see ``proofmarket.cluster.forked``)."""
    return [sys.executable, "-m", "proofmarket.cli.main"]


def _cli() -> list[str]:
    return [*_cli_prefix(), "cluster"]


API_MODULES = ("proofmarket.cli.cluster_cmds", "proofmarket.cluster.api.server")
AGENT_MODULES = (
    "proofmarket.cli.cluster_cmds",
    "proofmarket.cluster.agent",
    "proofmarket.cluster.tasks.dispatch",
)


def _common_args(opts: UpOptions) -> list[str]:
    args = ["--data-dir", str(opts.data_dir)]
    if opts.database_url:
        args += ["--database-url", opts.database_url]
    if opts.redis_url:
        args += ["--redis-url", opts.redis_url]
    if opts.s3_url:
        args += ["--s3-url", opts.s3_url]
    return args


def build_children(opts: UpOptions) -> list[Child]:
    logs = opts.data_dir / "logs"
    common = _common_args(opts)
    children = [
        Child(
            "api",
            [*_cli(), "api", "--host", opts.host, "--port", str(opts.port), *common],
            logs / "api.log",
            API_MODULES,
        )
    ]
    for worker_type in opts.agent_types:
        argv = [*_cli(), "agent", "--type", worker_type, *common]
        if "join" in opts.agent_types:
            argv.append("--join-stream")
        if opts.segment_po2 is not None:
            argv += ["--segment-po2", str(opts.segment_po2)]
        if opts.dev_mode:
            argv.append("--dev-mode")
        if opts.stark_profile is not None:
            argv += ["--stark-profile", opts.stark_profile]
        log_path = logs / f"agent-{worker_type}.log"
        children.append(Child(f"agent-{worker_type}", argv, log_path, AGENT_MODULES))
    return children


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """The running cluster's state file, or None (also when its supervisor is gone)."""
    path = state_path(data_dir)
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not pid_alive(int(state.get("pid", 0))):
        return None
    return state


class Supervisor:
    def __init__(self, opts: UpOptions, run_cli: Callable[[list[str]], int] | None = None) -> None:
        self.opts = opts
        self.children = build_children(opts)
        for child in self.children:
            child.run_cli = run_cli
        self._stopping = threading.Event()

    @property
    def endpoint(self) -> str:
        return f"http://{self.opts.host}:{self.opts.port}"

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "endpoint": self.endpoint,
            "data_dir": str(self.opts.data_dir),
            "dev_mode": self.opts.dev_mode,
            "stark_profile": self.opts.stark_profile,
            "children": {
                c.name: {"pid": c.proc.pid if c.proc else None, "restarts": c.restarts}
                for c in self.children
            },
        }
        path = state_path(self.opts.data_dir)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(path)
        (self.opts.data_dir / PID_FILE).write_text(f"{os.getpid()}\n")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("supervisor: signal %d, stopping the cluster", signum)
        self._stopping.set()

    def run(self, ready: Callable[[], None] | None = None) -> None:
        """Bind the API's socket, start every child and supervise them until signalled.

        ``ready`` is called once the socket is bound, the state file written and the signal
        handlers installed, before any child starts: from then on the cluster owns its
        address and ``cluster down`` stops it, while ``cluster status`` shows the agents
        that are still starting.
        """
        existing = read_state(self.opts.data_dir)
        if existing is not None:
            raise RuntimeError(
                f"a cluster is already running from {self.opts.data_dir} "
                f"(pid {existing['pid']}, {existing['endpoint']}); run `cluster down` first"
            )
        listener = listen(self.opts.host, self.opts.port)
        try:
            self._supervise(listener, ready)
        finally:
            listener.close()

    def _supervise(self, listener: socket.socket, ready: Callable[[], None] | None) -> None:
        for child in self.children:
            if child.name == "api":
                child.argv = [*child.argv, "--fd", str(listener.fileno())]
                child.pass_fds = (listener.fileno(),)
        self.opts.data_dir.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        env = dict(os.environ)
        try:
            self._write_state()
            if ready is not None:
                ready()
            for child in self.children:
                if self._stopping.is_set():
                    break
                child.start(env)
                self._write_state()
            while not self._stopping.is_set():
                if self._restart_dead(env):
                    self._write_state()
                self._stopping.wait(0.1)  # a stop signal ends the wait at once
        finally:
            self.stop_children()
            state_path(self.opts.data_dir).unlink(missing_ok=True)
            (self.opts.data_dir / PID_FILE).unlink(missing_ok=True)

    def _restart_dead(self, env: dict[str, str]) -> bool:
        """Restart children that died, each after its back-off; True if any restarted."""
        now = time.monotonic()
        restarted = False
        for child in self.children:
            if child.alive():
                if now - child.started_at > RESTART_BACKOFF_RESET_SECS:
                    child.backoff = RESTART_BACKOFF_INITIAL
                continue
            if child.dead_since is None:
                child.dead_since = now
                code = child.proc.returncode if child.proc else None
                log.warning("%s exited (%s); restarting in %.2fs", child.name, code, child.backoff)
                continue
            if now - child.dead_since >= child.backoff:
                child.start(env)
                child.restarts += 1
                child.dead_since = None
                child.backoff = min(child.backoff * 2, RESTART_BACKOFF_MAX)
                restarted = True
        return restarted

    def stop_children(self) -> None:
        for child in self.children:
            if child.alive():
                assert child.proc is not None
                child.proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECS
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait(timeout=5)
            child.close_log()


def stop_cluster(data_dir: Path, timeout: float = STOP_GRACE_SECS + 10) -> bool:
    """SIGTERM the supervisor named in the state file and wait for it; False if none ran."""
    state = read_state(data_dir)
    if state is None:
        state_path(data_dir).unlink(missing_ok=True)
        return False
    pid = int(state["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(STOP_POLL_SECS)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
        for child in state.get("children", {}).values():
            if child.get("pid") and pid_alive(int(child["pid"])):
                os.kill(int(child["pid"]), signal.SIGKILL)
    state_path(data_dir).unlink(missing_ok=True)
    (data_dir / PID_FILE).unlink(missing_ok=True)
    return True
