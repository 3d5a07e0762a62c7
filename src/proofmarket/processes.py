"""Process helpers shared by the devnet and the cluster supervisor."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (it may belong to another user).

    Ids ≤ 0 are never "alive": ``kill`` would address a process group, not a process.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
