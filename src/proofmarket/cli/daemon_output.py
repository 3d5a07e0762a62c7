"""What a long-running command (cluster agent and API, broker, order stream) prints.

For people: log lines as before. Under ``--json`` every line is one JSON object, so a log
collector or a script can follow the daemon without parsing text:

* ``{"event": "starting", "daemon": ..., "pid": ..., ...}`` on stdout when it starts,
* ``{"event": "stopped", "daemon": ..., "ok": true|false, "reason": ...}`` on stdout when
  it leaves (a signal, the end of its work or an error),
* every log record as ``{"ts", "level", "logger", "message"}`` (``"exc"`` with a
  traceback) on stderr,
* a failure as ``{"ok": false, "error": ...}`` on stdout, as every command reports it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per log record."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line)


class StderrHandler(logging.StreamHandler[Any]):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the stream that
    was current when logging was set up (a host that swaps and closes stderr, such as an
    embedding program or a test runner, must not turn every later record into an error)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def setup_logging(level: str, as_json: bool) -> None:
    """Log to stderr at ``level`` (an unknown name means INFO), as text or JSON lines."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))


def emit(line: dict[str, Any]) -> None:
    """One JSON line on stdout, flushed at once (stdout is often a pipe or a log file)."""
    sys.stdout.write(json.dumps(line, default=str) + "\n")
    sys.stdout.flush()


class Signalled(Exception):
    """SIGTERM reached a daemon that has no handler of its own."""


def _raise_signalled(signum: int, _frame: FrameType | None) -> None:
    raise Signalled(signal.Signals(signum).name)


@contextmanager
def lifecycle(daemon: str, as_json: bool, **fields: Any) -> Iterator[None]:
    """Under ``--json``, announce the daemon's start and its stop (with why it stopped).

    A SIGTERM that would otherwise kill the process silently (uvicorn re-raises the
    signal it caught once it has shut down) ends the daemon with a "stopped" line and
    exit status 0; a daemon with its own SIGTERM handler keeps it."""
    if not as_json:
        yield
        return
    emit({"event": "starting", "daemon": daemon, "pid": os.getpid(), **fields})
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_signalled)
    try:
        yield
    except Signalled as exc:
        emit({"event": "stopped", "daemon": daemon, "ok": True, "reason": str(exc)})
        return
    except KeyboardInterrupt:
        emit({"event": "stopped", "daemon": daemon, "ok": True, "reason": "interrupted"})
        raise
    except SystemExit as exc:
        ok = exc.code in (0, None)
        emit({"event": "stopped", "daemon": daemon, "ok": ok, "reason": f"exit {exc.code}"})
        raise
    except BaseException as exc:
        code = getattr(exc, "exit_code", None)  # typer.Exit
        if code is not None:
            reason = f"exit {code}"
        else:
            from proofmarket.cli.errors import describe

            reason = describe(exc)
        emit({"event": "stopped", "daemon": daemon, "ok": code == 0, "reason": reason})
        raise
    emit({"event": "stopped", "daemon": daemon, "ok": True, "reason": "done"})
