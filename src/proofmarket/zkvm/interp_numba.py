"""The interpreter loop compiled by numba (cached on disk, so each process loads it)."""

from __future__ import annotations

from numba import njit

from proofmarket.zkvm import interp_core

run = njit(cache=True, nogil=True)(interp_core.run)
