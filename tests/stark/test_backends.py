"""NumPy and PyTorch backends give bit-identical results."""

from __future__ import annotations

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark import ntt as N
from proofmarket.stark.backend import (
    BackendError,
    NumpyBackend,
    get_backend,
    torch_available,
)
from proofmarket.stark.field import P

needs_torch = pytest.mark.skipif(not torch_available(), reason="PyTorch is not installed")


def _rand(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, P, size=shape, dtype=np.uint64)


def _backends() -> list[str]:
    names = ["numpy"]
    if torch_available():
        import torch

        names.append("torch:cpu")
        if torch.cuda.is_available():
            names.append("torch:cuda")
    return names


@pytest.mark.parametrize("name", _backends())
@pytest.mark.parametrize("log_n", [0, 1, 3, 8])
def test_transforms_match_reference(name: str, log_n: int) -> None:
    be = get_backend(name)
    x = _rand(log_n, (1 << log_n, 5))
    assert (be.to_numpy(be.ntt(be.asarray(x))) == N.ntt(x)).all()
    assert (be.to_numpy(be.intt(be.asarray(x))) == N.intt(x)).all()
    for log_b in (1, 2):
        got = be.to_numpy(be.coset_lde(be.asarray(x), log_b, 7))
        assert (got == N.coset_lde(x, log_b, 7)).all()
    lde, coeffs = be.coset_lde_and_coeffs(be.asarray(x), 1)
    assert (be.to_numpy(lde) == N.coset_lde(x, 1)).all()
    assert (be.to_numpy(coeffs) == N.intt(x)).all()


@pytest.mark.parametrize("name", _backends())
def test_field_ops_match_reference(name: str) -> None:
    be = get_backend(name)
    a, b = _rand(1, (257,)), _rand(2, (257,))
    a[:3] = [0, P - 1, 1]
    b[:3] = [P - 1, P - 1, 0]
    ta, tb = be.asarray(a), be.asarray(b)
    assert (be.to_numpy(be.add(ta, tb)) == F.add(a, b)).all()
    assert (be.to_numpy(be.sub(ta, tb)) == F.sub(a, b)).all()
    assert (be.to_numpy(be.mul(ta, tb)) == F.mul(a, b)).all()
    assert (be.to_numpy(be.neg(ta)) == F.neg(a)).all()
    x, y = _rand(3, (33, 4)), _rand(4, (33, 4))
    x[0] = P - 1
    y[0] = P - 1
    tx, ty = be.asarray(x), be.asarray(y)
    assert (be.to_numpy(be.ext_mul(tx, ty)) == F.ext_mul(x, y)).all()
    assert (be.to_numpy(be.ext_add(tx, ty)) == F.ext_add(x, y)).all()
    assert (be.to_numpy(be.ext_sub(tx, ty)) == F.ext_sub(x, y)).all()
    assert (be.to_numpy(be.ext_mul_base(tx, ta[:33])) == F.ext_mul_base(x, a[:33])).all()
    # broadcasting an extension constant
    assert (be.to_numpy(be.ext_mul(tx, be.asarray(y[0]))) == F.ext_mul(x, y[0])).all()
    rows = _rand(5, (8, 3))
    assert (be.hash_leaves(be.asarray(rows)) == NumpyBackend().hash_leaves(rows)).all()


def test_unknown_backend_and_bad_input() -> None:
    with pytest.raises(BackendError, match="unknown compute backend"):
        get_backend("cupy")
    with pytest.raises(F.FieldError, match="canonical"):
        get_backend("numpy").asarray(np.array([P], dtype=np.uint64))


@needs_torch
def test_torch_device_errors() -> None:
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="CUDA is not available"):
            get_backend("torch:cuda")
    be = get_backend("torch:cpu")
    with pytest.raises(N.NttError, match="power of two"):
        be.ntt(be.asarray(np.zeros((3, 1), dtype=np.uint64)))


def test_missing_torch_gives_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from proofmarket.stark.backend import torch_backend

    monkeypatch.setattr(torch_backend, "torch", None)  # inject the "not installed" fault
    assert not torch_backend.torch_available()
    with pytest.raises(BackendError, match=r"not installed.*proofmarket\[gpu\]"):
        get_backend("torch")
