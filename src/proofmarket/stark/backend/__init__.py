"""Compute backends for the STARK hot paths: NumPy (default) and PyTorch (optional).

``get_backend("numpy")`` (default), ``get_backend("torch")`` (CUDA when available, else
CPU), ``get_backend("torch:cpu")`` or ``get_backend("torch:cuda")``.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from .base import Backend, BackendError
from .numpy_backend import NumpyBackend

if TYPE_CHECKING:
    from .torch_backend import TorchBackend

BACKEND_NAMES = ("numpy", "torch", "torch:cpu", "torch:cuda")


def get_backend(name: str = "numpy") -> Backend:
    """Create a backend by name; BackendError for unknown names or a missing PyTorch."""
    if name == "numpy":
        return NumpyBackend()
    if name == "torch" or name.startswith("torch:"):
        from .torch_backend import TorchBackend

        return TorchBackend(name.split(":", 1)[1] if ":" in name else None)
    raise BackendError(f"unknown compute backend {name!r}; choose one of {BACKEND_NAMES}")


def torch_available() -> bool:
    """True if PyTorch can be imported (checked without importing it)."""
    if find_spec("torch") is None:
        return False
    from . import torch_backend

    return torch_backend.torch_available()


def __getattr__(name: str) -> Any:
    # PyTorch (≈ 1.5–2.5 s to import) is loaded only when the torch backend is asked for
    if name == "TorchBackend":
        from .torch_backend import TorchBackend

        return TorchBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "BackendError",
    "NumpyBackend",
    "TorchBackend",
    "get_backend",
    "torch_available",
]
