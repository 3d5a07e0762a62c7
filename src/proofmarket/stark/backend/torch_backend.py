"""Optional PyTorch backend: int64 tensors on CPU or CUDA.

Every value stays canonical in [0, P) inside ``torch.int64`` tensors. Products of two
canonical values are < 2^62 and butterflies multiply a value < 2P by a twiddle < P
(< 2^63), so int64 never overflows and ``torch.remainder`` gives exact results. NTTs are
radix-2 DIF stages vectorised over all columns, followed by a bit-reversal gather, the same
maths as the NumPy backend, so the outputs are bit-identical. Leaf hashing falls back to
the CPU keccak kernel.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from ..field import GENERATOR, P, check_canonical, inv_int, powers, two_adic_generator
from ..ntt import NttError, bit_reverse_indices, log2_exact
from .base import Backend, BackendError

torch: Any
try:  # pragma: no cover - exercised only where torch is absent
    import torch
except ImportError:  # pragma: no cover
    torch = None


def torch_available() -> bool:
    """True if PyTorch can be imported."""
    return torch is not None


class TorchBackend(Backend):
    """PyTorch backend; ``device`` is e.g. ``"cpu"`` or ``"cuda"`` (default: CUDA if present)."""

    def __init__(self, device: str | None = None):
        if torch is None:
            raise BackendError(
                "the torch backend needs PyTorch, which is not installed "
                "(install the optional extra: pip install 'proofmarket[gpu]')"
            )
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendError(f"torch device {device!r} requested but CUDA is not available")
        self.device = torch.device(device)
        self.name = f"torch:{self.device.type}"

    # -- data movement ------------------------------------------------------------------
    def asarray(self, arr: Any) -> Any:
        if isinstance(arr, torch.Tensor):
            return arr.to(device=self.device, dtype=torch.int64)
        a = check_canonical(np.asarray(arr), "backend input")
        return torch.from_numpy(a.astype(np.int64)).to(self.device)

    def to_numpy(self, arr: Any) -> npt.NDArray[np.uint64]:
        if isinstance(arr, torch.Tensor):
            return arr.detach().to("cpu").numpy().astype(np.uint64)
        return np.asarray(arr, dtype=np.uint64)

    def _t(self, a: Any) -> Any:
        if isinstance(a, torch.Tensor):
            return a
        if isinstance(a, int):
            return torch.tensor(a % P, dtype=torch.int64, device=self.device)
        return self.asarray(a)

    # -- base field -------------------------------------------------------------------
    def add(self, a: Any, b: Any) -> Any:
        s = self._t(a) + self._t(b)
        return torch.where(s >= P, s - P, s)

    def sub(self, a: Any, b: Any) -> Any:
        d = self._t(a) - self._t(b)
        return torch.where(d < 0, d + P, d)

    def mul(self, a: Any, b: Any) -> Any:
        return torch.remainder(self._t(a) * self._t(b), P)

    def neg(self, a: Any) -> Any:
        x = self._t(a)
        return torch.where(x == 0, x, P - x)

    # -- extension field ------------------------------------------------------------------
    def ext_mul(self, a: Any, b: Any) -> Any:
        x, y = torch.broadcast_tensors(self._t(a), self._t(b))
        if x.shape[-1] != 4:
            raise BackendError(f"extension arrays need a trailing axis of 4, got {tuple(x.shape)}")
        a0, a1, a2, a3 = x.unbind(-1)
        b0, b1, b2, b3 = y.unbind(-1)

        def m(u: Any, v: Any) -> Any:
            return torch.remainder(u * v, P)

        hi0 = torch.remainder(m(a1, b3) + m(a2, b2) + m(a3, b1), P)
        hi1 = torch.remainder(m(a2, b3) + m(a3, b2), P)
        hi2 = m(a3, b3)
        lo0 = m(a0, b0)
        lo1 = torch.remainder(m(a0, b1) + m(a1, b0), P)
        lo2 = torch.remainder(m(a0, b2) + m(a1, b1) + m(a2, b0), P)
        lo3 = torch.remainder(m(a0, b3) + m(a1, b2) + m(a2, b1) + m(a3, b0), P)
        c0 = torch.remainder(lo0 + P - torch.remainder(hi0 * 11, P), P)
        c1 = torch.remainder(lo1 + P - torch.remainder(hi1 * 11, P), P)
        c2 = torch.remainder(lo2 + P - torch.remainder(hi2 * 11, P), P)
        return torch.stack([c0, c1, c2, lo3], dim=-1)

    def ext_mul_base(self, a: Any, b: Any) -> Any:
        return torch.remainder(self._t(a) * self._t(b).unsqueeze(-1), P)

    # -- transforms ---------------------------------------------------------------------
    @lru_cache(maxsize=64)  # noqa: B019 - a backend lives as long as the process
    def _twiddles(self, log_n: int, inverse: bool) -> list[Any]:
        n = 1 << log_n
        root = two_adic_generator(log_n)
        if inverse:
            root = inv_int(root)
        full = powers(root, max(n // 2, 1))
        out = []
        h = n // 2
        while h >= 1:
            step = n // (2 * h)
            tw = full[: h * step : step].astype(np.int64)
            out.append(torch.from_numpy(tw).to(self.device))
            h //= 2
        return out

    @lru_cache(maxsize=64)  # noqa: B019
    def _bitrev(self, log_n: int) -> Any:
        return torch.from_numpy(np.array(bit_reverse_indices(log_n))).to(self.device)

    def _check(self, x: Any, what: str) -> Any:
        t = self._t(x)
        if t.dim() != 2:
            raise NttError(f"{what}: expected a 2-D (rows, columns) tensor, got {tuple(t.shape)}")
        log2_exact(int(t.shape[0]))
        return t

    def _dif(self, x: Any, inverse: bool) -> Any:
        n, m = int(x.shape[0]), int(x.shape[1])
        log_n = log2_exact(n)
        data = x.clone()
        for tw in self._twiddles(log_n, inverse):
            h = int(tw.shape[0])
            if h == 0:
                break
            v = data.view(n // (2 * h), 2, h, m)
            u0 = v[:, 0]
            u1 = v[:, 1]
            s = u0 + u1
            s = torch.where(s >= P, s - P, s)
            d = torch.remainder((u0 - u1 + P) * tw.view(1, h, 1), P)
            v[:, 0] = s
            v[:, 1] = d
        return data.index_select(0, self._bitrev(log_n))

    def ntt(self, coeffs: Any) -> Any:
        x = self._check(coeffs, "ntt")
        if x.shape[0] == 1:
            return x.clone()
        return self._dif(x, inverse=False)

    def intt(self, evals: Any) -> Any:
        x = self._check(evals, "intt")
        n = int(x.shape[0])
        if n == 1:
            return x.clone()
        return torch.remainder(self._dif(x, inverse=True) * inv_int(n), P)

    def coset_lde(self, evals: Any, log_blowup: int, shift: int = GENERATOR) -> Any:
        x = self._check(evals, "coset_lde")
        if log_blowup < 0:
            raise NttError(f"log_blowup must be ≥ 0, got {log_blowup}")
        n, m = int(x.shape[0]), int(x.shape[1])
        coeffs = self._dif(x, inverse=True) if n > 1 else x.clone()
        scale = torch.from_numpy(powers(shift, n, start=inv_int(n)).astype(np.int64))
        coeffs = torch.remainder(coeffs * scale.to(self.device).view(n, 1), P)
        padded = torch.zeros((n << log_blowup, m), dtype=torch.int64, device=self.device)
        padded[:n] = coeffs
        return self._dif(padded, inverse=False) if padded.shape[0] > 1 else padded
