"""BabyBear prime field and its degree-4 extension, vectorised over NumPy arrays.

Representation
--------------
* Base field elements are ``np.uint64`` arrays holding *canonical* values in ``[0, P)``
  with ``P = 15·2^27 + 1 = 2013265921``. A product of two canonical values is below
  2^62, so plain 64-bit arithmetic never overflows.
* Extension elements live in ``F_p[x] / (x^4 + 11)`` — the same modulus as RISC Zero
  (``x^4 = −11``; Plonky3 uses ``x^4 − 11`` instead). An element is an array whose
  trailing axis has length 4 in coefficient order ``c0 + c1·x + c2·x² + c3·x³``.
* Bytes: every element is one little-endian ``u32`` word; an extension element is its
  four coefficients in order (16 bytes).

The elementwise kernels are numba ufuncs (compiled once and cached on disk), so they
broadcast like NumPy operators. Functions whose name ends in ``_int`` work on Python
integers and are meant for scalars (challenges, generators, exponents).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt

P = 2013265921
"""The BabyBear prime 15·2^27 + 1 (0x78000001)."""
TWO_ADICITY = 27
"""Largest k with 2^k | P − 1."""
GENERATOR = 31
"""A generator of the multiplicative group F_p^* (also the default LDE coset shift)."""
EXT_DEGREE = 4
"""Degree of the extension field."""
EXT_NONRESIDUE = P - 11
"""``W`` with ``x^4 = W`` in the extension, i.e. −11 mod P (modulus x^4 + 11)."""

_P64 = np.uint64(P)
_PU = np.uint64(P)  # uint64 constants keep numba kernels in integer arithmetic
_U2 = np.uint64(2)
_U11 = np.uint64(11)
_U22 = np.uint64(22)

FieldArray = npt.NDArray[np.uint64]
"""A ``np.uint64`` array of canonical field values."""


class FieldError(ValueError):
    """Raised on invalid field input: non-canonical values, inverse of zero, bad shapes."""


# ---------------------------------------------------------------------------------------
# Python-int scalar helpers
# ---------------------------------------------------------------------------------------


def add_int(a: int, b: int) -> int:
    """(a + b) mod P for Python ints."""
    return (a + b) % P


def sub_int(a: int, b: int) -> int:
    """(a − b) mod P for Python ints."""
    return (a - b) % P


def mul_int(a: int, b: int) -> int:
    """(a · b) mod P for Python ints."""
    return (a * b) % P


def pow_int(a: int, e: int) -> int:
    """a^e mod P; negative exponents invert first (raises FieldError for 0^-k)."""
    if e < 0:
        return pow(inv_int(a), -e, P)
    return pow(a % P, e, P)


def inv_int(a: int) -> int:
    """Multiplicative inverse of a Python int; raises FieldError for zero."""
    a %= P
    if a == 0:
        raise FieldError("inverse of zero in the BabyBear field")
    return pow(a, P - 2, P)


def two_adic_generator(log_n: int) -> int:
    """A primitive 2^log_n-th root of unity: GENERATOR^((P−1)/2^log_n).

    The roots are nested: ``two_adic_generator(k)^2 == two_adic_generator(k − 1)``.
    """
    if not 0 <= log_n <= TWO_ADICITY:
        raise FieldError(f"log_n must be in [0, {TWO_ADICITY}], got {log_n}")
    return pow(GENERATOR, (P - 1) >> log_n, P)


# ---------------------------------------------------------------------------------------
# conversions and validation
# ---------------------------------------------------------------------------------------


def as_field(values: Any) -> FieldArray:
    """Convert ints/arrays to a canonical ``np.uint64`` array, reducing mod P.

    Accepts negative Python ints and any integer dtype; use :func:`check_canonical` instead
    when non-canonical input should be an error (e.g. data coming from a proof).
    """
    arr = np.asarray(values)
    if arr.dtype == np.uint64:
        return np.asarray(arr % _P64, dtype=np.uint64)
    if arr.dtype.kind in "iu":
        return np.asarray(np.mod(arr.astype(np.int64), P), dtype=np.uint64)
    if arr.dtype == object:
        return np.array([int(v) % P for v in arr.ravel()], dtype=np.uint64).reshape(arr.shape)
    raise FieldError(f"cannot convert dtype {arr.dtype} to field elements")


def check_canonical(arr: Any, what: str = "value") -> FieldArray:
    """Return ``arr`` as uint64 after checking every entry is in [0, P); else FieldError."""
    a = np.asarray(arr)
    if a.dtype.kind not in "iu":
        raise FieldError(f"{what}: expected an integer array, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= P):
        raise FieldError(f"{what}: entries must be canonical BabyBear values in [0, {P})")
    return np.asarray(a, dtype=np.uint64)


def canonical_words(arr: Any, what: str = "value") -> np.ndarray:
    """Like :func:`check_canonical` but a uint32 or uint64 array keeps its dtype (no copy):
    traces and LDEs may be stored as u32 words to halve their memory."""
    a = np.asarray(arr)
    if a.dtype == np.uint32 or a.dtype == np.uint64:
        if a.size and a.max() >= P:
            raise FieldError(f"{what}: entries must be canonical BabyBear values in [0, {P})")
        return a
    return check_canonical(a, what)


def to_bytes(arr: Any) -> bytes:
    """Serialise base elements (any shape, C order) as little-endian u32 words."""
    a = np.ascontiguousarray(np.asarray(arr, dtype=np.uint64))
    return a.astype("<u4").tobytes()


def from_bytes(data: bytes, shape: tuple[int, ...] | None = None) -> FieldArray:
    """Parse little-endian u32 words into canonical base elements (FieldError if ≥ P)."""
    if len(data) % 4:
        raise FieldError(f"field bytes must be a multiple of 4 long, got {len(data)}")
    words = np.frombuffer(data, dtype="<u4").astype(np.uint64)
    if words.size and int(words.max()) >= P:
        raise FieldError("non-canonical field element in byte string")
    if shape is not None:
        try:
            words = words.reshape(shape)
        except ValueError as exc:
            raise FieldError(f"cannot reshape {words.size} elements to {shape}") from exc
    return words


def ext_to_bytes(arr: Any) -> bytes:
    """Serialise extension elements ``(..., 4)``: 16 bytes each, coefficients c0..c3."""
    a = np.asarray(arr)
    if a.ndim == 0 or a.shape[-1] != EXT_DEGREE:
        raise FieldError(f"extension arrays need a trailing axis of 4, got shape {a.shape}")
    return to_bytes(a)


def ext_from_bytes(data: bytes, shape: tuple[int, ...] | None = None) -> FieldArray:
    """Inverse of :func:`ext_to_bytes`; ``shape`` excludes the trailing 4."""
    if len(data) % 16:
        raise FieldError(f"extension bytes must be a multiple of 16 long, got {len(data)}")
    flat = from_bytes(data)
    lead = shape if shape is not None else (flat.size // 4,)
    try:
        return flat.reshape((*lead, EXT_DEGREE))
    except ValueError as exc:
        raise FieldError(f"cannot reshape {flat.size // 4} extension elements to {lead}") from exc


# ---------------------------------------------------------------------------------------
# base-field ufuncs (numba, cached)
# ---------------------------------------------------------------------------------------

_SIG = ["uint64(uint64, uint64)"]


@numba.vectorize(_SIG, cache=True)
def _add(a: Any, b: Any) -> Any:  # pragma: no cover - compiled
    s = a + b
    return s - _PU if s >= _PU else s


@numba.vectorize(_SIG, cache=True)
def _sub(a: Any, b: Any) -> Any:  # pragma: no cover - compiled
    return a - b if a >= b else a + _PU - b


@numba.vectorize(_SIG, cache=True)
def _mul(a: Any, b: Any) -> Any:  # pragma: no cover - compiled
    return (a * b) % _PU


@numba.vectorize(["uint64(uint64)"], cache=True)
def _neg(a: Any) -> Any:  # pragma: no cover - compiled
    return _PU - a if a != 0 else a


def _u64(a: Any) -> FieldArray:
    return np.asarray(a, dtype=np.uint64)


def add(a: Any, b: Any) -> FieldArray:
    """Elementwise a + b (broadcasting; inputs must be canonical)."""
    return np.asarray(_add(_u64(a), _u64(b)), dtype=np.uint64)


def sub(a: Any, b: Any) -> FieldArray:
    """Elementwise a − b."""
    return np.asarray(_sub(_u64(a), _u64(b)), dtype=np.uint64)


def mul(a: Any, b: Any) -> FieldArray:
    """Elementwise a · b."""
    return np.asarray(_mul(_u64(a), _u64(b)), dtype=np.uint64)


def neg(a: Any) -> FieldArray:
    """Elementwise −a."""
    return np.asarray(_neg(_u64(a)), dtype=np.uint64)


@numba.njit(cache=True)
def _pow_kernel(flat: np.ndarray, e: int, out: np.ndarray) -> None:  # pragma: no cover
    for i in range(flat.size):
        base = flat[i]
        acc = np.uint64(1)
        k = e
        while k > 0:
            if k & 1:
                acc = (acc * base) % _PU
            base = (base * base) % _PU
            k >>= 1
        out[i] = acc


def pow_(a: Any, e: int) -> FieldArray:
    """Elementwise a^e for a Python-int exponent (negative e inverts; 0^0 = 1)."""
    arr = _u64(a)
    if e < 0:
        arr = inv(arr)
        e = -e
    e_red = e % (P - 1) if e >= P - 1 else e
    if e > 0 and e_red == 0:
        # a^(k(P-1)) = 1 for a != 0 and 0 for a == 0
        return np.where(arr == 0, np.uint64(0), np.uint64(1)).astype(np.uint64)
    flat = np.ascontiguousarray(arr).ravel()
    out = np.empty_like(flat)
    _pow_kernel(flat, e_red, out)
    return out.reshape(arr.shape)


@numba.njit(cache=True)
def _batch_inv_kernel(flat: np.ndarray, out: np.ndarray) -> bool:  # pragma: no cover
    n = flat.size
    acc = np.uint64(1)
    for i in range(n):
        if flat[i] == 0:
            return False
        out[i] = acc
        acc = (acc * flat[i]) % _PU
    # acc^(P-2)
    base = acc
    inv_acc = np.uint64(1)
    k = P - 2
    while k > 0:
        if k & 1:
            inv_acc = (inv_acc * base) % _PU
        base = (base * base) % _PU
        k >>= 1
    for i in range(n - 1, -1, -1):
        out[i] = (out[i] * inv_acc) % _PU
        inv_acc = (inv_acc * flat[i]) % _PU
    return True


def batch_inv(a: Any) -> FieldArray:
    """Elementwise inverse with Montgomery's trick (one exponentiation for the batch).

    Raises FieldError if any entry is zero.
    """
    arr = _u64(a)
    flat = np.ascontiguousarray(arr).ravel()
    out = np.empty_like(flat)
    if flat.size and not _batch_inv_kernel(flat, out):
        raise FieldError("inverse of zero in the BabyBear field")
    return out.reshape(arr.shape)


def inv(a: Any) -> FieldArray:
    """Elementwise inverse (alias of :func:`batch_inv`); FieldError on zero."""
    return batch_inv(a)


def powers(base: int, n: int, start: int = 1) -> FieldArray:
    """``[start·base^0, start·base^1, …, start·base^(n−1)]`` as a uint64 array."""
    out = np.empty(n, dtype=np.uint64)
    _powers_kernel(np.uint64(base % P), np.uint64(start % P), out)
    return out


@numba.njit(cache=True)
def _powers_kernel(base: np.uint64, start: np.uint64, out: np.ndarray) -> None:  # pragma: no cover
    acc = start
    for i in range(out.size):
        out[i] = acc
        acc = (acc * base) % _PU


# ---------------------------------------------------------------------------------------
# extension field F_p[x]/(x^4 + 11)
# ---------------------------------------------------------------------------------------


def _check_ext(a: np.ndarray, what: str) -> None:
    if a.ndim == 0 or a.shape[-1] != EXT_DEGREE:
        raise FieldError(f"{what}: extension arrays need a trailing axis of 4, got {a.shape}")


def ext_zero(shape: tuple[int, ...] = ()) -> FieldArray:
    """Zero extension element(s) of the given leading shape."""
    return np.zeros((*shape, EXT_DEGREE), dtype=np.uint64)


def ext_one(shape: tuple[int, ...] = ()) -> FieldArray:
    """The extension one (1, 0, 0, 0), broadcast to the given leading shape."""
    out = ext_zero(shape)
    out[..., 0] = 1
    return out


def ext_from_base(a: Any) -> FieldArray:
    """Embed base elements into the extension: shape (...) → (..., 4)."""
    arr = _u64(a)
    out = np.zeros((*arr.shape, EXT_DEGREE), dtype=np.uint64)
    out[..., 0] = arr
    return out


def ext_add(a: Any, b: Any) -> FieldArray:
    """Extension addition (coefficientwise, broadcasting over leading axes)."""
    x, y = _u64(a), _u64(b)
    _check_ext(x, "ext_add")
    _check_ext(y, "ext_add")
    return add(x, y)


def ext_sub(a: Any, b: Any) -> FieldArray:
    """Extension subtraction."""
    x, y = _u64(a), _u64(b)
    _check_ext(x, "ext_sub")
    _check_ext(y, "ext_sub")
    return sub(x, y)


def ext_neg(a: Any) -> FieldArray:
    """Extension negation."""
    x = _u64(a)
    _check_ext(x, "ext_neg")
    return neg(x)


def ext_mul_base(a: Any, b: Any) -> FieldArray:
    """Extension × base: ``a`` has shape (..., 4), ``b`` shape (...) broadcastable."""
    x = _u64(a)
    _check_ext(x, "ext_mul_base")
    return mul(x, _u64(b)[..., None])


@numba.njit(cache=True, inline="always")
def _ext_mul_at(a: Any, b: Any, out: Any, i: int) -> None:  # pragma: no cover - compiled
    """out[i] = a[i]·b[i] in F_p[x]/(x^4 + 11).

    Canonical inputs make every product < 2^62 and the sum of four of them < 2^64, so each
    output coefficient needs a single reduction; the x^4 = −11 wrap-around adds
    11·(P − hi) instead of subtracting.
    """
    a0, a1, a2, a3 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
    b0, b1, b2, b3 = b[i, 0], b[i, 1], b[i, 2], b[i, 3]
    hi0 = (a1 * b3 + a2 * b2 + a3 * b1) % _PU
    hi1 = (a2 * b3 + a3 * b2) % _PU
    hi2 = (a3 * b3) % _PU
    lo0 = (a0 * b0) % _PU
    lo1 = (a0 * b1 + a1 * b0) % _PU
    lo2 = (a0 * b2 + a1 * b1 + a2 * b0) % _PU
    out[i, 0] = (lo0 + _U11 * (_PU - hi0)) % _PU
    out[i, 1] = (lo1 + _U11 * (_PU - hi1)) % _PU
    out[i, 2] = (lo2 + _U11 * (_PU - hi2)) % _PU
    out[i, 3] = (a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0) % _PU


@numba.njit(cache=True)
def _ext_mul_kernel(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    for i in range(out.shape[0]):
        _ext_mul_at(a, b, out, i)


@numba.njit(parallel=True, cache=True)
def _ext_mul_kernel_par(a: Any, b: Any, out: Any) -> None:  # pragma: no cover - compiled
    for i in numba.prange(out.shape[0]):
        _ext_mul_at(a, b, out, i)


_PAR_MIN = 1 << 14  # below this many elements threading costs more than it saves


def _broadcast_ext(a: Any, b: Any, what: str) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    x, y = _u64(a), _u64(b)
    _check_ext(x, what)
    _check_ext(y, what)
    shape = np.broadcast_shapes(x.shape, y.shape)
    xb = np.ascontiguousarray(np.broadcast_to(x, shape)).reshape(-1, EXT_DEGREE)
    yb = np.ascontiguousarray(np.broadcast_to(y, shape)).reshape(-1, EXT_DEGREE)
    return xb, yb, shape


def ext_mul(a: Any, b: Any) -> FieldArray:
    """Extension multiplication modulo x^4 + 11 (broadcasting over leading axes)."""
    x, y, shape = _broadcast_ext(a, b, "ext_mul")
    out = np.empty_like(x)
    if x.shape[0] >= _PAR_MIN:
        _ext_mul_kernel_par(x, y, out)
    else:
        _ext_mul_kernel(x, y, out)
    return out.reshape(shape)


def ext_square(a: Any) -> FieldArray:
    """Extension squaring."""
    return ext_mul(a, a)


@numba.njit(cache=True)
def _ext_norm_parts(a: np.ndarray, conj: np.ndarray, norm: np.ndarray) -> None:  # pragma: no cover
    # For a(x) = e(x^2) + x·o(x^2): a(x)·a(-x) = e(y)^2 − y·o(y)^2 =: b0 + b1·y with y = x^2,
    # y^2 = −11. Then b(y)·b(−y) = b0^2 + 11·b1^2 is the norm in F_p.
    # a^{-1} = a(−x)·(b0 − b1·x^2) / norm; conj holds a(−x)·(b0 − b1·x^2).
    for i in range(a.shape[0]):
        a0, a1, a2, a3 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
        # e(y)^2 = a0^2 + 2 a0 a2 y + a2^2 y^2 = (a0^2 − 11 a2^2) + 2 a0 a2 y
        # y·o(y)^2 = y (a1^2 + 2 a1 a3 y + a3^2 y^2) = −22 a1 a3 + (a1^2 − 11 a3^2) y
        e0 = ((a0 * a0) % _PU + _PU - (_U11 * ((a2 * a2) % _PU)) % _PU) % _PU
        e1 = (_U2 * ((a0 * a2) % _PU)) % _PU
        o0 = (_PU - (_U22 * ((a1 * a3) % _PU)) % _PU) % _PU
        o1 = ((a1 * a1) % _PU + _PU - (_U11 * ((a3 * a3) % _PU)) % _PU) % _PU
        b0 = (e0 + _PU - o0) % _PU
        b1 = (e1 + _PU - o1) % _PU
        norm[i] = ((b0 * b0) % _PU + (_U11 * ((b1 * b1) % _PU)) % _PU) % _PU
        # c(x) = a(−x) = a0 − a1 x + a2 x^2 − a3 x^3 ; d(x) = b0 − b1 x^2
        c0, c1, c2, c3 = a0, (_PU - a1) % _PU, a2, (_PU - a3) % _PU
        d0, d2 = b0, (_PU - b1) % _PU
        # c·d with x^4 = −11: only even d-terms
        r0 = ((c0 * d0) % _PU + _PU - (_U11 * ((c2 * d2) % _PU)) % _PU) % _PU
        r1 = ((c1 * d0) % _PU + _PU - (_U11 * ((c3 * d2) % _PU)) % _PU) % _PU
        r2 = ((c2 * d0) % _PU + (c0 * d2) % _PU) % _PU
        r3 = ((c3 * d0) % _PU + (c1 * d2) % _PU) % _PU
        conj[i, 0] = r0
        conj[i, 1] = r1
        conj[i, 2] = r2
        conj[i, 3] = r3


def ext_batch_inv(a: Any) -> FieldArray:
    """Inverse of every extension element (one base-field batch inversion of the norms).

    Raises FieldError if any element is zero.
    """
    x = _u64(a)
    _check_ext(x, "ext_inv")
    flat = np.ascontiguousarray(x).reshape(-1, EXT_DEGREE)
    conj = np.empty_like(flat)
    norm = np.empty(flat.shape[0], dtype=np.uint64)
    _ext_norm_parts(flat, conj, norm)
    try:
        ninv = batch_inv(norm)
    except FieldError:
        raise FieldError("inverse of zero in the extension field") from None
    return mul(conj, ninv[:, None]).reshape(x.shape)


def ext_inv(a: Any) -> FieldArray:
    """Extension inverse (alias of :func:`ext_batch_inv`)."""
    return ext_batch_inv(a)


def ext_pow(a: Any, e: int) -> FieldArray:
    """Extension a^e by square-and-multiply (negative e inverts first)."""
    x = _u64(a)
    _check_ext(x, "ext_pow")
    if e < 0:
        x = ext_inv(x)
        e = -e
    acc = ext_one(x.shape[:-1])
    base = x.copy()
    while e > 0:
        if e & 1:
            acc = ext_mul(acc, base)
        e >>= 1
        if e:
            base = ext_mul(base, base)
    return acc


def ext_powers(base: Any, n: int) -> FieldArray:
    """``[1, β, β², …, β^(n−1)]`` for one extension element β, shape (n, 4)."""
    b = _u64(base)
    if b.shape != (EXT_DEGREE,):
        raise FieldError(f"ext_powers expects one extension element, got shape {b.shape}")
    out = np.empty((n, EXT_DEGREE), dtype=np.uint64)
    _ext_powers_kernel(b, out)
    return out


@numba.njit(cache=True)
def _ext_powers_kernel(b: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    cur = np.zeros((1, 4), dtype=np.uint64)
    cur[0, 0] = 1
    bb = b.reshape(1, 4)
    nxt = np.empty((1, 4), dtype=np.uint64)
    for i in range(out.shape[0]):
        out[i, :] = cur[0, :]
        _ext_mul_kernel(cur, bb, nxt)
        cur[0, :] = nxt[0, :]


def ext_dot_base(coeffs_ext: Any, base: Any) -> FieldArray:
    """Σ_i coeffs_ext[i] · base[i, ...] — random linear combination of base columns.

    ``coeffs_ext`` has shape (k, 4); ``base`` has shape (k, ...). Returns (..., 4).
    """
    c = _u64(coeffs_ext)
    b = _u64(base)
    _check_ext(c, "ext_dot_base")
    if c.ndim != 2 or b.shape[0] != c.shape[0]:
        raise FieldError(f"ext_dot_base: shapes {c.shape} and {b.shape} do not match")
    out = np.zeros((*b.shape[1:], EXT_DEGREE), dtype=np.uint64)
    for i in range(c.shape[0]):
        out = add(out, mul(b[i][..., None], c[i]))
    return out


def ext_is_zero(a: Any) -> npt.NDArray[np.bool_]:
    """Boolean mask of zero extension elements."""
    x = _u64(a)
    _check_ext(x, "ext_is_zero")
    return np.asarray(np.all(x == 0, axis=-1))


# scalar conveniences for a single extension element given as a sequence of 4 ints


def ext_int(c0: int = 0, c1: int = 0, c2: int = 0, c3: int = 0) -> FieldArray:
    """Build one extension element from (possibly non-canonical) Python ints."""
    return np.array([c0 % P, c1 % P, c2 % P, c3 % P], dtype=np.uint64)
