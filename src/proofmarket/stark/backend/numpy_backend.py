"""Default backend: NumPy arrays and the numba kernels of field.py / ntt.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .. import field, ntt
from ..field import GENERATOR
from .base import Backend


class NumpyBackend(Backend):
    """CPU backend over ``np.uint64`` arrays (numba-compiled, multi-threaded)."""

    name = "numpy"

    def asarray(self, arr: Any) -> npt.NDArray[np.uint64]:
        return field.check_canonical(np.asarray(arr), "backend input")

    def to_numpy(self, arr: Any) -> npt.NDArray[np.uint64]:
        return np.asarray(arr, dtype=np.uint64)

    def add(self, a: Any, b: Any) -> Any:
        return field.add(a, b)

    def sub(self, a: Any, b: Any) -> Any:
        return field.sub(a, b)

    def mul(self, a: Any, b: Any) -> Any:
        return field.mul(a, b)

    def neg(self, a: Any) -> Any:
        return field.neg(a)

    def ext_mul(self, a: Any, b: Any) -> Any:
        return field.ext_mul(a, b)

    def ext_mul_base(self, a: Any, b: Any) -> Any:
        return field.ext_mul_base(a, b)

    def ntt(self, coeffs: Any) -> Any:
        return ntt.ntt(coeffs)

    def intt(self, evals: Any) -> Any:
        return ntt.intt(evals)

    def coset_lde(self, evals: Any, log_blowup: int, shift: int = GENERATOR) -> Any:
        return ntt.coset_lde(evals, log_blowup, shift)

    def coset_lde_and_coeffs(
        self, evals: Any, log_blowup: int, shift: int = GENERATOR
    ) -> tuple[Any, Any]:
        return ntt.coset_lde_and_coeffs(evals, log_blowup, shift)
