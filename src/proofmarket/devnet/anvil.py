"""Run a local anvil chain as a child process.

``AnvilProcess.start()`` picks a free port (unless given one), launches anvil with the
well-known development mnemonic, waits until it answers JSON-RPC and returns a handle that
is also a context manager (leaving the ``with`` block stops the chain). With ``detach=True``
the chain runs in its own session and outlives the caller (``proofmarket devnet up``);
``stop_anvil(pid)`` ends it later. ``state_dir`` makes the chain state persistent across
restarts (anvil ``--state``) and holds its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from proofmarket.processes import pid_alive
from proofmarket.tools import ensure_anvil

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 10
DEFAULT_CHAIN_ID = 31337
DEFAULT_BALANCE_ETH = 10_000
READY_TIMEOUT_S = 30.0


class AnvilError(RuntimeError):
    """anvil failed to start, exited early or did not answer in time."""


@cache
def dev_accounts() -> tuple[LocalAccount, ...]:
    """The accounts anvil funds by default (derived from ``DEV_MNEMONIC``, index 0..9)."""
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        for i in range(DEV_ACCOUNT_COUNT)
    )


def dev_keys() -> tuple[str, ...]:
    """0x-prefixed private keys of :func:`dev_accounts`."""
    return tuple("0x" + acct.key.hex().removeprefix("0x") for acct in dev_accounts())


def dev_addresses() -> tuple[str, ...]:
    """Checksummed addresses of :func:`dev_accounts`."""
    return tuple(acct.address for acct in dev_accounts())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` (so a node answering there would be ours)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as anvil itself uses it: a closed node's TIME_WAIT does not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def rpc_ready(rpc_url: str, timeout: float = 1.0) -> int | None:
    """The chain id answered by ``rpc_url``, or None when nothing answers."""
    try:
        resp = httpx.post(
            rpc_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            timeout=timeout,
        )
        return int(resp.json()["result"], 16)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def stop_anvil(pid: int, timeout: float = 10.0) -> bool:
    """Stop the anvil with process id ``pid`` (SIGTERM, then SIGKILL); False if not running."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
            if waited == pid:
                return True
        except ChildProcessError:
            pass  # not our child: fall back to probing
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    # Wait (bounded) for the kill to take effect, so callers may delete its files next.
    kill_deadline = time.monotonic() + 5.0
    while time.monotonic() < kill_deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                break
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    return True


@dataclass
class AnvilProcess:
    """A running anvil; use as a context manager or call :meth:`stop`."""

    port: int
    chain_id: int
    process: subprocess.Popen[bytes]
    log_path: Path
    state_dir: Path | None = None
    accounts: tuple[LocalAccount, ...] = field(default_factory=dev_accounts)

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def keys(self) -> tuple[str, ...]:
        return dev_keys()

    @property
    def addresses(self) -> tuple[str, ...]:
        return dev_addresses()

    @classmethod
    def start(
        cls,
        port: int | None = None,
        chain_id: int = DEFAULT_CHAIN_ID,
        block_time: float | None = None,
        state_dir: str | Path | None = None,
        *,
        detach: bool = False,
        balance_eth: int = DEFAULT_BALANCE_ETH,
        extra_args: tuple[str, ...] = (),
        ready_timeout: float = READY_TIMEOUT_S,
    ) -> AnvilProcess:
        """Launch anvil and wait until it answers; retries on a port race when auto-picking."""
        attempts = 1 if port is not None else 3
        last_error: AnvilError | None = None
        for _ in range(attempts):
            chosen = port if port is not None else free_port()
            try:
                return cls._launch(
                    chosen,
                    chain_id,
                    block_time,
                    Path(state_dir) if state_dir is not None else None,
                    detach,
                    balance_eth,
                    extra_args,
                    ready_timeout,
                )
            except AnvilError as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    @classmethod
    def _launch(
        cls,
        port: int,
        chain_id: int,
        block_time: float | None,
        state_dir: Path | None,
        detach: bool,
        balance_eth: int,
        extra_args: tuple[str, ...],
        ready_timeout: float,
    ) -> AnvilProcess:
        if not port_is_free(port):
            raise AnvilError(
                f"port {port} is already in use on 127.0.0.1 (another node or service); "
                "pick another port"
            )
        binary = ensure_anvil()
        args = [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(chain_id),
            "--mnemonic",
            DEV_MNEMONIC,
            "--accounts",
            str(DEV_ACCOUNT_COUNT),
            "--balance",
            str(balance_eth),
        ]
        if block_time is not None:
            if block_time <= 0:
                raise AnvilError(f"block_time must be positive, got {block_time}")
            args += ["--block-time", f"{block_time:g}"]
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            args += ["--state", str(state_dir / "state.json")]
            log_path = state_dir / "anvil.log"
        else:
            fd, name = tempfile.mkstemp(prefix="anvil-", suffix=".log")
            os.close(fd)
            log_path = Path(name)
        args += list(extra_args)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=detach,
            )
        anvil = cls(port, chain_id, process, log_path, state_dir)
        anvil._wait_ready(ready_timeout)
        return anvil

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_tail()
                self.stop()  # removes a temporary log
                raise AnvilError(
                    f"anvil exited with code {self.process.returncode} before it was ready "
                    f"(port {self.port}): {tail}"
                )
            answered = rpc_ready(self.rpc_url, timeout=0.5)
            if answered is not None:
                if answered != self.chain_id:
                    self.stop()
                    raise AnvilError(
                        f"port {self.port} answers chain id {answered}, expected {self.chain_id} "
                        "(another node is listening there)"
                    )
                return
            time.sleep(0.05)
        self.stop()
        raise AnvilError(f"anvil did not answer on {self.rpc_url} within {timeout:.0f}s")

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return "<no log>"

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate anvil (it dumps ``--state`` on SIGTERM); idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self.state_dir is None:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> AnvilProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
