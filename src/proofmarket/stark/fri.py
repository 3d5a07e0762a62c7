"""FRI low-degree test for extension-field codewords on the LDE coset.

Domain and ordering
-------------------
The input codeword has ``N = 2^log_domain_size`` values over the coset ``s·⟨ω_N⟩`` in
**natural order** (position j ↔ point ``x_j = s·ω_N^j``), exactly the row order of
:func:`proofmarket.stark.ntt.coset_lde`. It must be the evaluations of a polynomial of
degree < ``N / 2^log_blowup``.

Folding (arity ``a = 2^fri_log_arity``; the last fold may be smaller so that the final
degree bound is met exactly). With ``M = N / a`` the positions ``j, j + M, …, j + (a−1)·M``
hold the values at ``x_j·ζ^k`` (``ζ = ω_N^M`` is a primitive a-th root of unity), which
all map to ``x_j^a``. Writing ``f(X) = Σ_k X^k f_k(X^a)``, a fold with challenge β gives
``f'(x_j^a) = Σ_k β^k f_k(x_j^a)`` at position j of the next layer, whose domain is
``s^a·⟨ω_N^a⟩`` — again in natural order, so no bit reversal is ever needed.

Each layer is committed as a Merkle tree with ``M`` leaves; leaf j holds the a values
``[v_j, v_{j+M}, …, v_{j+(a−1)M}]`` (``4a`` words). Layer 0 commits the input codeword
itself; the outer verifier ties it to its trace openings through ``first_layer_values``.

Queries
-------
A query index ``q ∈ [0, N)`` is a natural-order position in the input codeword (= the LDE
row the outer prover must open). In a layer of size ``N_l`` the query sits at position
``p = q mod N_l``, i.e. in leaf ``p mod (N_l/a)`` at slot ``p div (N_l/a)``.

Several heights ("roll-in")
---------------------------
A multi-table proof has one DEEP codeword per trace height. They enter FRI at their own
size: the largest is layer 0; after the fold whose output has the size of a smaller
codeword ``w`` (with arity ``a`` and challenge β), the layer becomes
``fold(prev, β) + β^a·w``. The arity schedule is chosen so that every input size is a
layer size, and folding continues at least down to the smallest input's degree bound.
``w`` is a codeword over its own coset ``s·⟨ω⟩`` while the layer lives on ``s^r·⟨ω⟩``;
position j ↦ position j is the affine change of variable ``Y = X·s^(r−1)``, which maps
polynomials of degree < d to polynomials of degree < d and preserves Hamming distance, so
``w`` is close to degree < d on one domain iff it is on the other. The folded-plus-rolled
value is a degree-a curve in β through the a fold components and ``w``; by the proximity
gaps theorem for low-degree curves (BCIKS20, Thm 1.5) it is far from the code with high
probability unless every component is close, with error at most a times the line error.

Protocol: for each layer commit → observe root → sample β (extension). Then observe the final
polynomial's coefficients (``2^min(fri_final_log_degree, log N − log_blowup)`` of them),
grind ``pow_bits``, sample ``num_queries`` indices of ``log N`` bits, and open every layer at
the deduplicated leaves the queries touch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .field import (
    EXT_DEGREE,
    GENERATOR,
    FieldArray,
    P,
    ext_add,
    ext_mul,
    ext_mul_base,
    from_bytes,
    inv_int,
    mul,
    pow_int,
    powers,
    to_bytes,
    two_adic_generator,
)
from .merkle import MerkleBatchProof, MerkleError, MerkleTree, verify_batch
from .ntt import coset_intt
from .params import StarkParams
from .transcript import Transcript


class FriError(Exception):
    """A FRI proof failed verification; the message says which check and where."""


@dataclass(frozen=True)
class FriLayerOpening:
    """Openings of one committed layer: the distinct leaves touched by the queries.

    ``rows`` has shape ``(k, arity, 4)``: leaf values in ascending leaf-index order.
    """

    rows: npt.NDArray[np.uint64]
    proof: MerkleBatchProof


@dataclass(frozen=True)
class FriProof:
    """Commitments, final polynomial, grinding nonce and per-layer openings."""

    commitments: tuple[bytes, ...]
    fold_nonces: tuple[int, ...]  # one per commitment (0 when fold_pow_bits is 0)
    final_poly: npt.NDArray[np.uint64]  # (d, 4) coefficients, lowest degree first
    pow_nonce: int
    layer_openings: tuple[FriLayerOpening, ...]

    def to_bytes(self) -> bytes:
        """Self-delimiting binary encoding (little-endian counts, u32 field words)."""
        out = bytearray()
        out += len(self.commitments).to_bytes(4, "little")
        for c in self.commitments:
            out += c
        out += len(self.fold_nonces).to_bytes(4, "little")
        for n in self.fold_nonces:
            out += n.to_bytes(8, "little")
        out += int(self.final_poly.shape[0]).to_bytes(4, "little")
        out += to_bytes(self.final_poly)
        out += self.pow_nonce.to_bytes(8, "little")
        out += len(self.layer_openings).to_bytes(4, "little")
        for layer in self.layer_openings:
            k, a = int(layer.rows.shape[0]), int(layer.rows.shape[1])
            out += k.to_bytes(4, "little") + a.to_bytes(4, "little")
            out += to_bytes(layer.rows)
            pb = layer.proof.to_bytes()
            out += len(pb).to_bytes(4, "little") + pb
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> FriProof:
        """Parse :meth:`to_bytes` output; FriError on malformed input."""
        pos = 0

        def take(n: int) -> bytes:
            nonlocal pos
            if n < 0 or pos + n > len(data):
                raise FriError("truncated FRI proof bytes")
            chunk = data[pos : pos + n]
            pos += n
            return chunk

        def u32() -> int:
            return int.from_bytes(take(4), "little")

        try:
            commitments = tuple(take(32) for _ in range(u32()))
            fold_nonces = tuple(int.from_bytes(take(8), "little") for _ in range(u32()))
            d = u32()
            final_poly = from_bytes(take(16 * d), (d, EXT_DEGREE))
            nonce = int.from_bytes(take(8), "little")
            layers = []
            for _ in range(u32()):
                k, a = u32(), u32()
                rows = from_bytes(take(16 * k * a), (k, a, EXT_DEGREE))
                proof = MerkleBatchProof.from_bytes(take(u32()))
                layers.append(FriLayerOpening(rows, proof))
        except (ValueError, MerkleError) as exc:
            raise FriError(f"malformed FRI proof bytes: {exc}") from exc
        if pos != len(data):
            raise FriError(f"{len(data) - pos} trailing bytes after FRI proof")
        return cls(commitments, fold_nonces, final_poly, nonce, tuple(layers))


@dataclass
class FriLayer:
    """Prover-side state of one committed layer."""

    log_size: int  # log2 of the layer's domain size
    log_arity: int
    shift: int  # the layer domain is shift·⟨ω_{2^log_size}⟩
    tree: MerkleTree
    fold_nonce: int = 0  # grinding before this layer's folding challenge


def _final_log_degree(log_sizes: Sequence[int], params: StarkParams) -> int:
    smallest = min(log_sizes) - params.log_blowup
    if smallest < 0:
        raise FriError(
            f"domain 2^{min(log_sizes)} is smaller than the blowup 2^{params.log_blowup}"
        )
    return min(params.fri_final_log_degree, smallest)


def fri_log_arities(
    log_domain_size: int, params: StarkParams, input_log_sizes: Sequence[int] = ()
) -> list[int]:
    """log2 arity of every fold for a codeword of ``2^log_domain_size`` values.

    With ``input_log_sizes`` (smaller codewords rolled in), no fold skips one of those
    sizes and folding goes at least down to the smallest one's degree bound.
    """
    sizes = {log_domain_size, *input_log_sizes}
    final = _final_log_degree(sorted(sizes), params)
    stops = sorted((ls - params.log_blowup for ls in sizes), reverse=True)
    log_degree = log_domain_size - params.log_blowup
    out = []
    while log_degree > final:
        below = [d for d in stops if d < log_degree]
        nearest = max(below) if below else final
        a = min(params.fri_log_arity, log_degree - max(nearest, final))
        out.append(a)
        log_degree -= a
    return out


def final_poly_len(
    log_domain_size: int, params: StarkParams, input_log_sizes: Sequence[int] = ()
) -> int:
    """Number of final-polynomial coefficients the verifier expects."""
    return 1 << _final_log_degree([log_domain_size, *input_log_sizes], params)


@lru_cache(maxsize=8)
def _inverse_dft_matrix(log_arity: int) -> FieldArray:
    """(1/a)·ζ^(−ik) for i, k < a (ζ a primitive a-th root of unity)."""
    a = 1 << log_arity
    zinv = inv_int(two_adic_generator(log_arity))
    ainv = inv_int(a)
    return np.array(
        [[(ainv * pow(zinv, i * k, P)) % P for k in range(a)] for i in range(a)],
        dtype=np.uint64,
    )


def fold_rows(rows: FieldArray, x_inv: FieldArray, beta: FieldArray) -> FieldArray:
    """Fold leaves ``(k, a, 4)`` whose base points have inverses ``x_inv`` (k,) with β.

    Returns the next layer's values ``(k, 4)``: ``Σ_m β^m f_m(x^a)``.
    """
    k, a, _ = rows.shape
    log_a = a.bit_length() - 1
    fmat = _inverse_dft_matrix(log_a)
    # g_m = x^m f_m(x^a) = Σ_i rows[:, i] · F[i, m]; each term < P, so a ≤ 16 terms sum
    # without overflow before one reduction
    g = [
        np.asarray(np.sum(mul(rows, fmat[:, m][None, :, None]), axis=1) % np.uint64(P))
        for m in range(a)
    ]
    r = ext_mul_base(np.broadcast_to(beta, (k, EXT_DEGREE)), x_inv)  # β / x
    acc = g[a - 1]
    for m in range(a - 2, -1, -1):
        acc = ext_add(g[m], ext_mul(r, acc))
    return acc


def _leaf_matrix(codeword: FieldArray, log_arity: int) -> FieldArray:
    """(N, 4) → (N/a, a, 4): leaf j = values at j, j+M, …"""
    n = codeword.shape[0]
    a = 1 << log_arity
    return np.ascontiguousarray(codeword.reshape(a, n // a, EXT_DEGREE).transpose(1, 0, 2))


def _check_codeword(codeword: np.ndarray) -> int:
    if codeword.dtype != np.uint64 or codeword.ndim != 2 or codeword.shape[1] != EXT_DEGREE:
        raise FriError(
            f"FRI codeword must be a (N, 4) uint64 array, got {codeword.dtype} {codeword.shape}"
        )
    n = codeword.shape[0]
    if n == 0 or n & (n - 1):
        raise FriError(f"FRI codeword length must be a power of two, got {n}")
    return n.bit_length() - 1


def fri_commit_phase(
    codeword: FieldArray,
    transcript: Transcript,
    params: StarkParams,
    shift: int = GENERATOR,
    rolled: Mapping[int, FieldArray] | None = None,
) -> tuple[list[FriLayer], list[bytes], FieldArray]:
    """Commit to every folding layer; returns (layers, roots, final polynomial (d, 4)).

    ``rolled`` maps log2 sizes (smaller than the codeword) to further codewords that are
    added as ``β^a·w`` to the layer of that size (see the module docstring).
    If a codeword is not of low degree the final polynomial is simply truncated and the
    verifier's query checks will fail with high probability.
    """
    codeword = np.asarray(codeword)
    log_n = _check_codeword(codeword)
    extra = _check_rolled(rolled or {}, log_n)
    layers: list[FriLayer] = []
    roots: list[bytes] = []
    current = codeword
    cur_shift = shift % P
    log_size = log_n
    for log_a in fri_log_arities(log_n, params, list(extra)):
        leaves = _leaf_matrix(current, log_a)
        tree = MerkleTree.commit(leaves, params.hash)
        roots.append(tree.root)
        transcript.observe_digest(tree.root)
        layers.append(
            FriLayer(log_size, log_a, cur_shift, tree, transcript.grind_site(params.fold_pow_bits))
        )
        beta = transcript.sample_ext()
        m = leaves.shape[0]
        x_inv = powers(inv_int(two_adic_generator(log_size)), m, start=inv_int(cur_shift))
        current = fold_rows(leaves, x_inv, beta)
        del leaves
        cur_shift = pow_int(cur_shift, 1 << log_a)
        log_size -= log_a
        if log_size in extra:
            current = _roll_in(current, extra[log_size], beta, log_a)
    coeffs = coset_intt(current, cur_shift)
    final_poly = np.ascontiguousarray(coeffs[: final_poly_len(log_n, params, list(extra))])
    transcript.observe_ext(final_poly)
    return layers, roots, final_poly


def _check_rolled(rolled: Mapping[int, FieldArray], log_n: int) -> dict[int, FieldArray]:
    out: dict[int, FieldArray] = {}
    for log_size, cw in rolled.items():
        arr = np.asarray(cw)
        if _check_codeword(arr) != log_size or not 0 < log_size < log_n:
            raise FriError(f"rolled-in codeword of size 2^{log_size} does not fit 2^{log_n}")
        out[log_size] = arr
    return out


def _roll_in(current: FieldArray, values: FieldArray, beta: FieldArray, log_a: int) -> FieldArray:
    """``current + β^a·values`` (the degree-a curve through the fold components and w)."""
    beta_a = np.asarray(beta, dtype=np.uint64)
    for _ in range(log_a):
        beta_a = ext_mul(beta_a, beta_a)
    k = values.shape[0]
    return ext_add(current, ext_mul(np.broadcast_to(beta_a, (k, EXT_DEGREE)), values))


def fri_prove(
    codeword: FieldArray,
    transcript: Transcript,
    params: StarkParams,
    shift: int = GENERATOR,
    rolled: Mapping[int, FieldArray] | None = None,
) -> tuple[FriProof, list[int]]:
    """Run FRI on an (N, 4) codeword; returns the proof and the sampled query indices.

    The outer prover opens its own committed matrices at the returned indices (natural
    order LDE rows; a matrix of 2^k rows at ``q mod 2^k``); duplicates may occur.
    """
    layers, roots, final_poly = fri_commit_phase(codeword, transcript, params, shift, rolled)
    nonce = transcript.grind(params.pow_bits)
    log_n = _check_codeword(np.asarray(codeword))
    queries = transcript.sample_indices(params.num_queries, log_n)
    openings = []
    for layer in layers:
        m = 1 << (layer.log_size - layer.log_arity)
        leaf_idx = sorted({q % m for q in queries})
        rows = np.asarray(layer.tree.rows)[leaf_idx]
        openings.append(FriLayerOpening(rows, layer.tree.open_batch(leaf_idx)))
    fold_nonces = tuple(layer.fold_nonce for layer in layers)
    return FriProof(tuple(roots), fold_nonces, final_poly, nonce, tuple(openings)), queries


def _eval_ext_poly_at_base(coeffs: FieldArray, xs: FieldArray) -> FieldArray:
    """Horner evaluation of an extension polynomial (d, 4) at base points (k,) → (k, 4)."""
    k = xs.shape[0]
    acc = np.zeros((k, EXT_DEGREE), dtype=np.uint64)
    for c in coeffs[::-1]:
        acc = ext_add(ext_mul_base(acc, xs), np.broadcast_to(c, (k, EXT_DEGREE)))
    return acc


def fri_verify(
    proof: FriProof,
    transcript: Transcript,
    params: StarkParams,
    log_domain_size: int,
    first_layer_values: Callable[[list[int]], np.ndarray],
    shift: int = GENERATOR,
    rolled: Mapping[int, Callable[[list[int]], np.ndarray]] | None = None,
) -> list[int]:
    """Verify a FRI proof; raises FriError on any failure, returns the query indices.

    ``first_layer_values(queries)`` must return the (len(queries), 4) values the verifier
    derives from its own openings of the outer commitments at those natural-order LDE rows.
    ``rolled`` maps the log2 size of each rolled-in codeword to the same kind of callback
    (its values at positions ``q mod 2^size``).
    """
    extra = dict(rolled or {})
    if any(not 0 < ls < log_domain_size for ls in extra):
        raise FriError(f"rolled-in sizes {sorted(extra)} do not fit 2^{log_domain_size}")
    arities = fri_log_arities(log_domain_size, params, list(extra))
    if len(proof.commitments) != len(arities):
        raise FriError(f"expected {len(arities)} FRI commitments, got {len(proof.commitments)}")
    if len(proof.layer_openings) != len(arities):
        raise FriError(
            f"expected {len(arities)} FRI layer openings, got {len(proof.layer_openings)}"
        )
    d = final_poly_len(log_domain_size, params, list(extra))
    fp = np.asarray(proof.final_poly)
    if fp.dtype != np.uint64 or fp.shape != (d, EXT_DEGREE):
        raise FriError(f"final polynomial must be ({d}, 4) uint64, got {fp.dtype} {fp.shape}")
    if fp.size and int(fp.max()) >= P:
        raise FriError("final polynomial has non-canonical coefficients")
    if len(proof.fold_nonces) != len(arities):
        raise FriError(f"expected {len(arities)} folding nonces, got {len(proof.fold_nonces)}")
    betas = []
    for root, fold_nonce in zip(proof.commitments, proof.fold_nonces, strict=True):
        if len(root) != 32:
            raise FriError("FRI commitment is not a 32-byte digest")
        transcript.observe_digest(root)
        if not transcript.check_site(fold_nonce, params.fold_pow_bits):
            raise FriError(f"folding nonce does not give {params.fold_pow_bits} zero bits")
        betas.append(transcript.sample_ext())
    transcript.observe_ext(fp)
    if not transcript.check_pow(proof.pow_nonce, params.pow_bits):
        raise FriError(f"proof-of-work nonce does not give {params.pow_bits} zero bits")
    queries = transcript.sample_indices(params.num_queries, log_domain_size)

    values = _input_values(first_layer_values, queries)
    log_size = log_domain_size
    cur_shift = shift % P
    for layer_no, (log_a, root, beta, opening) in enumerate(
        zip(arities, proof.commitments, betas, proof.layer_openings, strict=True)
    ):
        a = 1 << log_a
        m = 1 << (log_size - log_a)
        leaf_idx = sorted({q % m for q in queries})
        rows = np.asarray(opening.rows)
        if rows.dtype != np.uint64 or rows.shape != (len(leaf_idx), a, EXT_DEGREE):
            raise FriError(
                f"layer {layer_no}: opened rows have shape {rows.shape}, "
                f"expected ({len(leaf_idx)}, {a}, 4)"
            )
        if not verify_batch(root, leaf_idx, rows, opening.proof, m, params.hash):
            raise FriError(f"layer {layer_no}: Merkle opening does not match the commitment")
        where = {j: t for t, j in enumerate(leaf_idx)}
        sel = np.array([where[q % m] for q in queries], dtype=np.int64)
        slots = np.array([(q % (m * a)) // m for q in queries], dtype=np.int64)
        opened_vals = rows[sel, slots]
        bad = np.flatnonzero(np.any(opened_vals != values, axis=1))
        if bad.size:
            raise FriError(
                f"layer {layer_no}: query {int(bad[0])} (index {queries[int(bad[0])]}) "
                "is inconsistent with the previous layer"
            )
        omega_inv = inv_int(two_adic_generator(log_size))
        shift_inv = inv_int(cur_shift)
        x_inv = np.array(
            [(shift_inv * pow(omega_inv, j, P)) % P for j in leaf_idx], dtype=np.uint64
        )
        folded = fold_rows(rows, x_inv, beta)
        values = folded[sel]
        cur_shift = pow_int(cur_shift, a)
        log_size -= log_a
        if log_size in extra:
            values = _roll_in(values, _input_values(extra[log_size], queries), beta, log_a)
    omega = two_adic_generator(log_size)
    xs = np.array(
        [(cur_shift * pow(omega, q % (1 << log_size), P)) % P for q in queries], dtype=np.uint64
    )
    expected = _eval_ext_poly_at_base(fp, xs)
    bad = np.flatnonzero(np.any(expected != values, axis=1))
    if bad.size:
        raise FriError(
            f"final polynomial disagrees with the folded value at query {int(bad[0])} "
            f"(index {queries[int(bad[0])]})"
        )
    return list(queries)


def _input_values(source: Callable[[list[int]], np.ndarray], queries: list[int]) -> FieldArray:
    values = np.asarray(source(list(queries)), dtype=np.uint64)
    if values.shape != (len(queries), EXT_DEGREE):
        raise FriError(f"input values have shape {values.shape}, expected ({len(queries)}, 4)")
    return values


def query_positions(queries: Sequence[int], log_size: int) -> list[int]:
    """Positions of the queries in a layer of size 2^log_size (``q mod 2^log_size``)."""
    mask = (1 << log_size) - 1
    return [q & mask for q in queries]
