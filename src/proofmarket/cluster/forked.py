"""Children forked from an already-initialised supervisor, with a ``Popen``-like handle.

Starting the API and four agents as fresh interpreters costs each of them the import of
FastAPI, the TaskDB, the stores and the zkVM (seconds on a small machine, all at once).
The supervisor imports those modules once (:func:`preload`) and forks each child, which
then runs its ``proofmarket`` command in-process (through a function the CLI hands to the
supervisor, so the cluster never imports the CLI): children start in milliseconds and a
restarted child is as fast as the first.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol


class ChildProcess(Protocol):
    """What the supervisor needs from a child: the subset of ``subprocess.Popen`` it uses."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


def preload(modules: tuple[str, ...]) -> None:
    """Import ``modules`` now so that children forked afterwards share them."""
    for name in modules:
        importlib.import_module(name)


def _name_process(name: str) -> None:
    """Give a forked child its own name in ``ps -o comm`` / ``top`` (its command line is
    the supervisor's, since nothing was executed); Linux only, best effort."""
    if name:
        with contextlib.suppress(OSError):
            Path("/proc/self/comm").write_text(f"pm-{name}"[:15])


class ForkedProcess:
    """A child forked from this process that runs ``target()`` and exits with its result."""

    def __init__(self, target: Callable[[], int], log: IO[bytes], name: str = "") -> None:
        self._returncode: int | None = None
        pid = os.fork()
        if pid == 0:  # the child: never returns into the supervisor's code
            code = 1
            try:
                os.setsid()
                _name_process(name)
                for signum in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(signum, signal.SIG_DFL)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log.fileno(), 1)
                os.dup2(log.fileno(), 2)
                code = target()
            except BaseException:  # report anything, then leave without cleanup handlers
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        self._pid = pid

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self._returncode

    def poll(self) -> int | None:
        if self._returncode is None:
            try:
                done, status = os.waitpid(self._pid, os.WNOHANG)
            except ChildProcessError:  # already reaped elsewhere
                self._returncode = -1
                return self._returncode
            if done:
                self._returncode = os.waitstatus_to_exitcode(status)
        return self._returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self._pid}", timeout or 0.0)
            time.sleep(0.01)
        return code

    def _signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signum)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


__all__ = ["ChildProcess", "ForkedProcess", "preload"]
