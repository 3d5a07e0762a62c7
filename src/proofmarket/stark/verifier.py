"""STARK verifier, and the protocol pieces the prover mirrors (transcript schedule, checks).

Transcript order (both sides):

1. ``Transcript(b"proofmarket.stark.v1")``; observe AIR id, log2 trace height, params bytes,
   public inputs, and the preprocessed root (if the AIR has fixed columns).
2. observe main root → sample LogUp challenges β, γ (if the AIR has lookups) →
   observe aux root.
3. sample α (constraint combination) → observe quotient root.
4. sample z ∈ F_p^4 until z ∉ H and z ∉ LDE coset → observe all openings.
5. sample λ (DEEP batching) → FRI (layer roots, final polynomial, grinding, query indices).

The verifier checks the OOD identity
``Σ_groups factor_g(z)·Σ_{i∈g} α^i·C_i(z) = Σ_j z^(j·n)·Q_j(z)``, then FRI on the DEEP
codeword whose first-layer values it recomputes from Merkle-checked trace rows.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Lock

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirError, ConstraintSystem
from proofmarket.stark.domain import (
    Domain,
    deep_quotients,
    ext_pow_ints,
    ext_powers_ints,
    lincomb_rows,
)
from proofmarket.stark.expr import Algebra, Expr, ExtValue, Group, Value, ext_mul_ints
from proofmarket.stark.fri import FriError, fri_verify
from proofmarket.stark.merkle import MerkleTree, verify_batch
from proofmarket.stark.ntt import coset_lde_and_coeffs
from proofmarket.stark.params import DEFAULT, StarkParams
from proofmarket.stark.proof import Openings, ProofFormatError, StarkProof, TreeOpening
from proofmarket.stark.transcript import Transcript

DOMAIN_LABEL = b"proofmarket.stark.v1"


class VerificationError(Exception):
    """The proof does not verify; the message names the failed check."""


# ---------------------------------------------------------------------------------------
# protocol helpers shared with the prover
# ---------------------------------------------------------------------------------------


@dataclass
class PreprocessedData:
    """The committed fixed columns of one AIR at one trace size."""

    trace: np.ndarray  # (n, Wp)
    coeffs: np.ndarray  # (n, Wp)
    lde: np.ndarray  # (N, Wp)
    tree: MerkleTree

    @property
    def root(self) -> bytes:
        return self.tree.root


_PRE_CACHE: OrderedDict[tuple[bytes, int, int, int, bytes, str], PreprocessedData] = OrderedDict()
_PRE_LOCK = Lock()
_PRE_CACHE_SIZE = 8


def preprocessed_data(air: Air, domain: Domain, hash: str = "keccak") -> PreprocessedData | None:
    """Commit the AIR's fixed columns once per (AIR, columns, size, blowup) and cache it.

    The cache key includes a digest of the fixed columns themselves, so two AIR objects
    with the same id but different tables never share a commitment.
    """
    if air.preprocessed_width == 0:
        return None
    trace = air.preprocessed_trace(domain.log_n)
    if trace is None:
        raise AirError(f"{air.name}: preprocessed_trace() returned None")
    trace = F.check_canonical(np.asarray(trace), f"{air.name} preprocessed trace")
    if trace.shape != (domain.n, air.preprocessed_width):
        raise AirError(
            f"{air.name}: preprocessed trace has shape {trace.shape}, "
            f"expected ({domain.n}, {air.preprocessed_width})"
        )
    digest = hashlib.sha256(np.ascontiguousarray(trace).tobytes()).digest()
    key = (air.air_id, domain.log_n, domain.log_blowup, domain.shift, digest, hash)
    with _PRE_LOCK:
        hit = _PRE_CACHE.get(key)
        if hit is not None:
            _PRE_CACHE.move_to_end(key)
            return hit
    lde, coeffs = coset_lde_and_coeffs(trace, domain.log_blowup, domain.shift)
    data = PreprocessedData(trace, coeffs, lde, MerkleTree.commit(lde, hash))
    with _PRE_LOCK:
        _PRE_CACHE[key] = data
        while len(_PRE_CACHE) > _PRE_CACHE_SIZE:
            _PRE_CACHE.popitem(last=False)
    return data


def clear_preprocessed_cache() -> None:
    """Forget cached preprocessed commitments (benchmarks measure a cold verifier)."""
    with _PRE_LOCK:
        _PRE_CACHE.clear()


def begin_transcript(
    air: Air,
    log_n: int,
    params: StarkParams,
    public_inputs: Sequence[int],
    pre_root: bytes | None,
) -> Transcript:
    """Bind the statement: AIR id, trace size, parameters, public inputs, fixed columns."""
    t = Transcript(DOMAIN_LABEL, params.hash)
    t.observe_bytes(air.air_id)
    t.observe_int(log_n)
    t.observe_bytes(params.to_bytes())
    t.observe_int(len(public_inputs))
    t.observe_field(np.asarray(list(public_inputs), dtype=np.uint64))
    if pre_root is not None:
        t.observe_digest(pre_root)
    return t


def sample_ood_point(transcript: Transcript, domain: Domain) -> ExtValue:
    """Draw z until it avoids H and the LDE coset (a handful of tries at most)."""
    for _ in range(64):
        z = tuple(int(c) for c in transcript.sample_ext())
        if domain.ood_point_ok(z):
            return (z[0], z[1], z[2], z[3])
    raise VerificationError("could not sample an out-of-domain point")  # pragma: no cover


def constraint_groups(system: ConstraintSystem, n: int) -> list[tuple[tuple[str, int], list[int]]]:
    """Constraint indices grouped by vanishing factor, in first-appearance order."""
    groups: dict[tuple[str, int], list[int]] = {}
    for i, c in enumerate(system.constraints):
        groups.setdefault(c.domain_key(n), []).append(i)
    return list(groups.items())


def ext_tuple(arr: np.ndarray) -> ExtValue:
    return (int(arr[0]), int(arr[1]), int(arr[2]), int(arr[3]))


def combine_ext_column(parts: Sequence[ExtValue]) -> ExtValue:
    """Σ_k x^k·parts[k]: an extension column from its 4 committed base columns' values."""
    alg = Algebra(None)
    total: Value = (0, 0, 0, 0)
    for k, part in enumerate(parts):
        basis: ExtValue = tuple(1 if j == k else 0 for j in range(4))  # type: ignore[assignment]
        total = alg.add(total, alg.mul(basis, part))
    return total


def deep_coefficients(lam: ExtValue, widths_z: int, widths_zg: int) -> tuple[np.ndarray, int]:
    """Coefficient matrix ``(widths_z, 8)``: λ^i for the z-part, λ^(M+i) for the z·g part.

    Columns are ordered pre, main, aux, quotient; the first ``widths_zg`` (all but the
    quotient) are also opened at z·g.
    """
    pows = ext_powers_ints(lam, widths_z + widths_zg)
    coeffs = np.zeros((widths_z, 8), dtype=np.uint64)
    for i in range(widths_z):
        coeffs[i, :4] = pows[i]
    for i in range(widths_zg):
        coeffs[i, 4:] = pows[widths_z + i]
    return coeffs, widths_z


def observe_openings(transcript: Transcript, openings: Openings) -> None:
    for arr in openings.all_arrays():
        transcript.observe_ext(np.asarray(arr, dtype=np.uint64).reshape(-1, 4))


def ood_constraint_value(
    system: ConstraintSystem,
    openings: Openings,
    public_inputs: Sequence[int],
    challenges: Sequence[ExtValue],
    alpha: ExtValue,
    z: ExtValue,
    domain: Domain,
) -> tuple[ExtValue, ExtValue]:
    """(Σ factor·Σ α^i C_i at z, Σ_j z^(jn) Q_j(z)) — equal for an honest proof."""
    alg = Algebra(None)
    main_z = [ext_tuple(v) for v in openings.main_z]
    main_zg = [ext_tuple(v) for v in openings.main_zg]
    pre_z = [ext_tuple(v) for v in openings.pre_z]
    pre_zg = [ext_tuple(v) for v in openings.pre_zg]
    aux_z = [ext_tuple(v) for v in openings.aux_z]
    aux_zg = [ext_tuple(v) for v in openings.aux_zg]
    pub = [int(v) for v in public_inputs]

    def leaf(node: Expr) -> Value:
        if node.op == "col":
            group, j, nxt = node.data
            if group is Group.MAIN:
                return (main_zg if nxt else main_z)[j]
            if group is Group.PREPROCESSED:
                return (pre_zg if nxt else pre_z)[j]
            src = aux_zg if nxt else aux_z
            return combine_ext_column(src[4 * j : 4 * j + 4])
        if node.op == "pub":
            return pub[node.data]
        return challenges[node.data]

    values: list[Value] = [0] * len(system.constraints)

    def sink(r: int, v: Value) -> None:
        values[r] = v

    system.program.evaluate(alg, leaf, sink)
    alpha_pows = ext_powers_ints(alpha, len(system.constraints))
    total: Value = (0, 0, 0, 0)
    for key, members in constraint_groups(system, domain.n):
        acc: Value = (0, 0, 0, 0)
        for i in members:
            acc = alg.add(acc, alg.mul(alpha_pows[i], values[i]))
        total = alg.add(total, alg.mul(domain.vanishing_factor_at(key, z), acc))
    quot_parts = [ext_tuple(v) for v in openings.quotient_z]
    zn = ext_pow_ints(z, domain.n)
    q: Value = (0, 0, 0, 0)
    zpow: ExtValue = (1, 0, 0, 0)
    for j in range(len(quot_parts) // 4):
        chunk = combine_ext_column(quot_parts[4 * j : 4 * j + 4])
        q = alg.add(q, alg.mul(zpow, chunk))
        zpow = ext_mul_ints(zpow, zn)
    return alg.to_ext(total), alg.to_ext(q)


# ---------------------------------------------------------------------------------------
# the verifier
# ---------------------------------------------------------------------------------------


def preprocessed_root(air: Air, log_n: int, params: StarkParams = DEFAULT) -> bytes | None:
    """The commitment to the AIR's fixed columns at 2^log_n rows (None without any).

    A verifier can compute it once per AIR and size (like a circuit's control root) and
    pass it to :func:`verify` to skip the low-degree extension of the fixed columns.
    """
    data = preprocessed_data(air, Domain(log_n, params.log_blowup), params.hash)
    return data.root if data else None


def verify(
    air: Air,
    proof: StarkProof | bytes,
    public_inputs: Sequence[int],
    params: StarkParams = DEFAULT,
    *,
    fixed_root: bytes | None = None,
) -> None:
    """Verify ``proof`` for ``air`` and ``public_inputs`` under ``params``.

    ``fixed_root`` (optional) is a trusted :func:`preprocessed_root` for the proof's trace
    size; without it the verifier commits the AIR's fixed columns itself (cached).
    Returns None on success; raises :class:`VerificationError` (or
    :class:`~proofmarket.stark.proof.ProofFormatError` for undecodable bytes).
    """
    if isinstance(proof, bytes | bytearray):
        proof = StarkProof.from_bytes(bytes(proof))
    try:
        _verify(air, proof, public_inputs, params, fixed_root)
    except (FriError, ProofFormatError, AirError, F.FieldError, ValueError) as exc:
        if isinstance(exc, VerificationError):
            raise
        raise VerificationError(f"{type(exc).__name__}: {exc}") from exc


def _verify(
    air: Air,
    proof: StarkProof,
    public_inputs: Sequence[int],
    params: StarkParams,
    fixed_root: bytes | None,
) -> None:
    if proof.params.to_bytes() != params.to_bytes():
        raise VerificationError("proof was made with different STARK parameters")
    if proof.air_id != air.air_id:
        raise VerificationError(f"proof is not for AIR {air.name!r} (AIR id mismatch)")
    try:
        pub = air.check_public_inputs(public_inputs)
    except AirError as exc:
        raise VerificationError(str(exc)) from exc
    system = air.system
    if not air.min_log_rows() <= proof.log_n <= params.max_log_trace_len:
        raise VerificationError(f"trace size 2^{proof.log_n} not allowed for this AIR/params")
    expected = (
        air.main_width,
        air.preprocessed_width,
        4 * system.aux_width,
        4 * system.num_quotient_chunks,
    )
    got = (proof.main_width, proof.pre_width, proof.aux_width, proof.quotient_width)
    if got != expected:
        raise VerificationError(f"proof column widths {got} do not match the AIR {expected}")
    if system.num_quotient_chunks > params.blowup:
        raise VerificationError("AIR degree too high for the blowup")
    op = proof.openings
    for name, arr, w in (
        ("main@z", op.main_z, proof.main_width),
        ("main@zg", op.main_zg, proof.main_width),
        ("pre@z", op.pre_z, proof.pre_width),
        ("pre@zg", op.pre_zg, proof.pre_width),
        ("aux@z", op.aux_z, proof.aux_width),
        ("aux@zg", op.aux_zg, proof.aux_width),
        ("quotient@z", op.quotient_z, proof.quotient_width),
    ):
        if np.asarray(arr).shape != (w, 4):
            raise VerificationError(f"opening {name} has shape {np.asarray(arr).shape}")
    if len(proof.main_root) != 32 or len(proof.quotient_root) != 32:
        raise VerificationError("commitment roots must be 32 bytes")
    if proof.aux_width and len(proof.aux_root) != 32:
        raise VerificationError("aux commitment root must be 32 bytes")
    domain = Domain(proof.log_n, params.log_blowup)
    pre_root: bytes | None = None
    if air.preprocessed_width:
        if fixed_root is not None:
            if len(fixed_root) != 32:
                raise VerificationError("fixed_root must be a 32-byte Merkle root")
            pre_root = fixed_root
        else:
            pre = preprocessed_data(air, domain, params.hash)
            assert pre is not None
            pre_root = pre.root

    t = begin_transcript(air, proof.log_n, params, pub, pre_root)
    t.observe_digest(proof.main_root)
    challenges = [ext_tuple(t.sample_ext()) for _ in range(system.num_challenges)]
    if system.aux_width:
        t.observe_digest(proof.aux_root)
    alpha = ext_tuple(t.sample_ext())
    t.observe_digest(proof.quotient_root)
    z = sample_ood_point(t, domain)
    observe_openings(t, proof.openings)

    lhs, rhs = ood_constraint_value(system, proof.openings, pub, challenges, alpha, z, domain)
    if lhs != rhs:
        raise VerificationError(
            "out-of-domain check failed: the constraints do not match the committed quotient"
        )

    lam = ext_tuple(t.sample_ext())
    widths_zg = proof.pre_width + proof.main_width + proof.aux_width
    widths_z = widths_zg + proof.quotient_width
    coeffs, _ = deep_coefficients(lam, widths_z, widths_zg)
    v_z, v_zg = deep_opened_sums(proof.openings, coeffs)
    g = domain.g
    zg = tuple((c * g) % F.P for c in z)

    trees: list[tuple[str, bytes, TreeOpening | None, int]] = [
        ("preprocessed", pre_root or b"", proof.pre_opening, proof.pre_width),
        ("main", proof.main_root, proof.main_opening, proof.main_width),
        ("aux", proof.aux_root, proof.aux_opening, proof.aux_width),
        ("quotient", proof.quotient_root, proof.quotient_opening, proof.quotient_width),
    ]

    def first_layer_values(queries: list[int]) -> np.ndarray:
        distinct = sorted(set(queries))
        if len(distinct) != proof.num_queries_distinct:
            raise VerificationError(
                f"proof opens {proof.num_queries_distinct} rows, the queries need {len(distinct)}"
            )
        blocks = []
        for name, root, opening, width in trees:
            if width == 0:
                continue
            if opening is None or opening.rows.shape != (len(distinct), width):
                raise VerificationError(f"{name} query rows have the wrong shape")
            if not verify_batch(
                root, distinct, opening.rows, opening.proof, domain.lde_size, params.hash
            ):
                raise VerificationError(f"{name} Merkle opening does not match its commitment")
            blocks.append(opening.rows)
        rows = np.concatenate(blocks, axis=1)
        xs = np.array(
            [
                (domain.shift * pow(F.two_adic_generator(domain.log_lde), q, F.P)) % F.P
                for q in distinct
            ],
            dtype=np.uint64,
        )
        d = deep_values(rows, coeffs, v_z, v_zg, xs, z, zg)
        where = {q: k for k, q in enumerate(distinct)}
        return d[[where[q] for q in queries]]

    try:
        fri_verify(proof.fri, t, params, domain.log_lde, first_layer_values, domain.shift)
    except FriError as exc:
        raise VerificationError(f"FRI: {exc}") from exc


def deep_opened_sums(openings: Openings, coeffs: np.ndarray) -> tuple[ExtValue, ExtValue]:
    """``V_z = Σ λ^i f_i(z)`` and ``V_zg = Σ λ^(M+i) f_i(z·g)`` from the openings."""
    at_z = np.concatenate(
        [openings.pre_z, openings.main_z, openings.aux_z, openings.quotient_z], axis=0
    )
    at_zg = np.concatenate([openings.pre_zg, openings.main_zg, openings.aux_zg], axis=0)
    alg = Algebra(None)
    v_z: Value = (0, 0, 0, 0)
    for i in range(at_z.shape[0]):
        v_z = alg.add(v_z, alg.mul(ext_tuple(coeffs[i, :4]), ext_tuple(at_z[i])))
    v_zg: Value = (0, 0, 0, 0)
    for i in range(at_zg.shape[0]):
        v_zg = alg.add(v_zg, alg.mul(ext_tuple(coeffs[i, 4:]), ext_tuple(at_zg[i])))
    return alg.to_ext(v_z), alg.to_ext(v_zg)


def deep_values(
    combined_or_rows: np.ndarray,
    coeffs: np.ndarray | None,
    v_z: ExtValue,
    v_zg: ExtValue,
    xs: np.ndarray,
    z: Sequence[int],
    zg: Sequence[int],
) -> np.ndarray:
    """DEEP codeword ``(F_z(x) − V_z)/(x − z) + (F_zg(x) − V_zg)/(x − z·g)`` at points xs.

    ``combined_or_rows`` is either the committed rows (with ``coeffs``) or, when ``coeffs``
    is None, the already combined ``(k, 8)`` values ``[F_z | F_zg]``.
    """
    comb = combined_or_rows if coeffs is None else lincomb_rows(combined_or_rows, coeffs)
    return deep_quotients(comb, v_z, v_zg, xs, z, zg)
