"""Choice of interpreter backend: numba-compiled (default) or pure Python.

``PROOFMARKET_EXECUTOR=python`` forces the pure-Python interpreter (``interp_python``);
it is also used when numba cannot be imported. The two are written independently against
the same contract, and the tests compare them with each other and with unicorn.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from proofmarket.zkvm import interp_python

BACKENDS = ("numba", "python")
ENV_VAR = "PROOFMARKET_EXECUTOR"

RunFn = Callable[..., Any]


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def resolve(name: str | None = None) -> str:
    """Backend name to use: the argument, else the environment, else numba if present."""
    choice = (name or os.environ.get(ENV_VAR) or "").strip().lower()
    if choice and choice not in BACKENDS:
        raise ValueError(f"unknown executor backend {choice!r}; choose one of {BACKENDS}")
    if choice == "python":
        return "python"
    if choice == "numba" and not numba_available():
        raise ValueError("executor backend 'numba' requested but numba is not installed")
    return "numba" if numba_available() else "python"


def run_function(name: str | None = None) -> RunFn:
    if resolve(name) == "numba":
        from proofmarket.zkvm import interp_numba

        return interp_numba.run
    return interp_python.run
