"""Compute backends for the STARK hot paths: NumPy (default) and PyTorch (optional).

``get_backend("numpy")`` (default), ``get_backend("torch")`` (CUDA when available, else
CPU), ``get_backend("torch:cpu")`` or ``get_backend("torch:cuda")``.
"""

from __future__ import annotations

from .base import Backend, BackendError
from .numpy_backend import NumpyBackend
from .torch_backend import TorchBackend, torch_available

BACKEND_NAMES = ("numpy", "torch", "torch:cpu", "torch:cuda")


def get_backend(name: str = "numpy") -> Backend:
    """Create a backend by name; BackendError for unknown names or a missing PyTorch."""
    if name == "numpy":
        return NumpyBackend()
    if name == "torch":
        return TorchBackend()
    if name.startswith("torch:"):
        return TorchBackend(name.split(":", 1)[1])
    raise BackendError(f"unknown compute backend {name!r}; choose one of {BACKEND_NAMES}")


__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "BackendError",
    "NumpyBackend",
    "TorchBackend",
    "get_backend",
    "torch_available",
]
