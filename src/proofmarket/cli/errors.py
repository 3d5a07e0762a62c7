"""How the CLI reports a failure: one line for people, one JSON object under ``--json``.

Every command group ends its errors here (directly, or through ``main()`` for anything a
command did not handle), so the same failure reads the same way everywhere:

* people: ``error: <message>`` on stderr;
* ``--json``: ``{"ok": false, "error": "<message>"}`` on stdout (what scripts parse);
* the exit status says the kind (1 failure, 2 bad usage).

``describe`` turns library exceptions into the user's terms without tracebacks or raw
pydantic/urllib3 text. ``PROOFMARKET_DEBUG=1`` shows the traceback of an unexpected error.
"""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import typer

DEBUG_ENV = "PROOFMARKET_DEBUG"


def json_requested() -> bool:
    """Whether the running command (or a group above it) was given ``--json``."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("as_json"):
            return True
        ctx = ctx.parent
    return False


def report(message: str, *, as_json: bool | None = None) -> None:
    """Print one failure in the requested form (``None``: as the running command asks)."""
    if as_json is None:
        as_json = json_requested()
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": message}))
    else:
        typer.echo(f"error: {message}", err=True)
    sys.stderr.flush()


def fail(message: str, *, as_json: bool | None = None, code: int = 1) -> NoReturn:
    """Report and exit."""
    report(message, as_json=as_json)
    raise typer.Exit(code)


def describe(exc: BaseException) -> str:
    """The user-facing one-line description of an exception."""
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"no such file: {exc.filename}"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"permission denied: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror.lower()}{where}"
    errors = getattr(exc, "errors", None)
    if type(exc).__name__ == "ValidationError" and callable(errors):  # pydantic
        parts = []
        for item in errors()[:3]:
            loc = ".".join(str(p) for p in item.get("loc", ()) if p != "__root__")
            parts.append(f"{loc}: {item.get('msg')}" if loc else str(item.get("msg")))
        return "invalid value: " + "; ".join(parts)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text


__all__ = ["DEBUG_ENV", "describe", "fail", "json_requested", "report"]
