"""Files the CLI writes: checked before any work, written whole, never creating folders.

Every command that takes an output path calls :func:`check_output_path` before it does
its (possibly long) work and :func:`write_output` at the end. A path that names a
directory, sits in a folder that does not exist, or cannot be written gets one clear
message instead of a traceback, and no directory is ever created for it (``-o
/nonexistent/dir/x`` must not create ``/nonexistent``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class OutputPathError(ValueError):
    """An output path that cannot be written; the message says why, in one line."""


def check_output_path(path: Path, *, what: str = "output") -> Path:
    """Refuse an output path that cannot be written, before any work is done."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{what} {path} is a directory; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise OutputPathError(f"cannot write {what} {path}: no such directory {parent}")
    if not parent.is_dir():
        raise OutputPathError(f"cannot write {what} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"cannot write {what} {path}: directory {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"cannot write {what} {path}: the file is not writable")
    return path


def write_output(path: Path, data: bytes | str, *, what: str = "output") -> None:
    """Write ``data`` to ``path`` atomically (a temporary file, then a rename)."""
    path = check_output_path(path, what=what)
    payload = data.encode() if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputPathError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; give it the usual mode
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputPathError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


__all__ = ["OutputPathError", "check_output_path", "write_output"]
