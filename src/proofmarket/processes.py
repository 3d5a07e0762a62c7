"""Process helpers shared by the devnet and the cluster supervisor."""

from __future__ import annotations

import os
from pathlib import Path


def _is_zombie(pid: int) -> bool:
    """True when ``pid`` has exited but its parent has not reaped it yet (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (not Linux) or the process is gone
        return False
    # The state letter follows the command name, which is in parentheses and may itself
    # contain spaces or parentheses: take the text after the last ")".
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] in ("Z", "X")


def pid_alive(pid: int) -> bool:
    """Whether a running process with this id exists (it may belong to another user).

    Ids ≤ 0 are never "alive": ``kill`` would address a process group, not a process. A
    zombie (exited, not yet reaped: e.g. a detached supervisor whose parent is an init
    that does not reap) is not alive either, or callers would wait on it forever.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)
