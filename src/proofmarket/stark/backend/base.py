"""The compute-backend interface: the hot paths of the prover behind one small API.

A backend works on its own *native* arrays (``np.ndarray`` for NumPy, ``torch.Tensor`` for
PyTorch) so a chain of operations can stay on one device; :meth:`Backend.asarray` and
:meth:`Backend.to_numpy` move data across the boundary. Every operation returns canonical
field values, so all backends give bit-identical results (tested).

Shapes follow :mod:`proofmarket.stark.field` and :mod:`proofmarket.stark.ntt`: base-field
matrices are ``(n, m)``; extension arrays have a trailing axis of 4.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import numpy.typing as npt

from ..field import GENERATOR


class BackendError(RuntimeError):
    """A backend cannot be created or used (missing package, unknown name, bad device)."""


class Backend(ABC):
    """Field arithmetic, transforms and leaf hashing over native arrays."""

    name: str = "abstract"

    # -- data movement ------------------------------------------------------------------
    @abstractmethod
    def asarray(self, arr: Any) -> Any:
        """Convert a canonical NumPy uint64 array (or nested ints) to a native array."""

    @abstractmethod
    def to_numpy(self, arr: Any) -> npt.NDArray[np.uint64]:
        """Convert a native array back to a NumPy uint64 array."""

    # -- base field -------------------------------------------------------------------
    @abstractmethod
    def add(self, a: Any, b: Any) -> Any:
        """Elementwise a + b mod P (broadcasting)."""

    @abstractmethod
    def sub(self, a: Any, b: Any) -> Any:
        """Elementwise a − b mod P."""

    @abstractmethod
    def mul(self, a: Any, b: Any) -> Any:
        """Elementwise a · b mod P."""

    @abstractmethod
    def neg(self, a: Any) -> Any:
        """Elementwise −a mod P."""

    # -- extension field ------------------------------------------------------------------
    @abstractmethod
    def ext_mul(self, a: Any, b: Any) -> Any:
        """Extension product modulo x^4 + 11 (trailing axis 4, broadcasting)."""

    def ext_add(self, a: Any, b: Any) -> Any:
        """Extension sum (coefficientwise)."""
        return self.add(a, b)

    def ext_sub(self, a: Any, b: Any) -> Any:
        """Extension difference (coefficientwise)."""
        return self.sub(a, b)

    @abstractmethod
    def ext_mul_base(self, a: Any, b: Any) -> Any:
        """Extension (..., 4) times base (...)."""

    # -- transforms ---------------------------------------------------------------------
    @abstractmethod
    def ntt(self, coeffs: Any) -> Any:
        """Column NTT, (n, m) → (n, m), natural order (see ntt.ntt)."""

    @abstractmethod
    def intt(self, evals: Any) -> Any:
        """Inverse column NTT."""

    @abstractmethod
    def coset_lde(self, evals: Any, log_blowup: int, shift: int = GENERATOR) -> Any:
        """Coset low-degree extension (see ntt.coset_lde)."""

    def coset_lde_and_coeffs(
        self, evals: Any, log_blowup: int, shift: int = GENERATOR
    ) -> tuple[Any, Any]:
        """(coset LDE, coefficients) of the columns; backends may fuse the two."""
        return self.coset_lde(evals, log_blowup, shift), self.intt(evals)

    # -- hashing ------------------------------------------------------------------------
    def hash_leaves(self, rows: Any) -> npt.NDArray[np.uint8]:
        """Merkle leaf digests (N, 32) of a matrix's rows (CPU keccak by default)."""
        from ..merkle import hash_leaves

        return hash_leaves(self.to_numpy(rows))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
