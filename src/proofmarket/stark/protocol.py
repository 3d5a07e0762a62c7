"""The protocol shared by prover and verifier: transcript schedule, OOD identity, DEEP.

Transcript order (both sides), for tables t = 0 … T−1 in machine order:

1. ``Transcript(b"proofmarket.stark.v2")``; observe the params bytes and T; per table
   its AIR id, log2 height, public inputs and preprocessed root (if it has fixed columns).
2. observe every table's main root → grind ``lookup_pow_bits`` and sample the LogUp
   challenges β, γ (shared by all tables, if any table has lookups) → per table with
   lookups observe its aux root and its claimed sum S_t.
3. sample α (constraint combination) → observe every table's quotient root.
4. grind ``ood_pow_bits`` → sample z ∈ F_p^4 until z avoids every table's trace domain
   and LDE coset → observe all openings, table by table.
5. grind ``batch_pow_bits`` → sample λ (DEEP batching, one power sequence over all
   tables) → FRI over the DEEP codewords, one per distinct height, smaller ones rolled
   in at their own size.

The verifier checks ``Σ_t S_t = 0`` (the global LogUp sum), each table's OOD identity
``Σ_groups factor_g(z)·Σ_{i∈g} α^i·C_i(z) = Σ_j z^(j·n_t)·Q_{t,j}(z)``, then FRI.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import ConstraintSystem
from proofmarket.stark.domain import Domain, ext_pow_ints, ext_powers_ints
from proofmarket.stark.expr import Algebra, Expr, ExtValue, Group, Value, ext_mul_ints
from proofmarket.stark.kernels import deep_quotients, lincomb_rows
from proofmarket.stark.params import StarkParams
from proofmarket.stark.proof import Openings
from proofmarket.stark.transcript import Transcript

DOMAIN_LABEL = b"proofmarket.stark.v2"


class ProtocolError(Exception):
    """A protocol step cannot be completed (e.g. no out-of-domain point found)."""


def begin_transcript(
    params: StarkParams,
    statements: Sequence[tuple[bytes, int, Sequence[int], bytes | None]],
) -> Transcript:
    """Bind the statement: params and, per table, (AIR id, log_n, publics, fixed root)."""
    t = Transcript(DOMAIN_LABEL, params.hash)
    t.observe_bytes(params.to_bytes())
    t.observe_int(len(statements))
    for air_id, log_n, public_inputs, pre_root in statements:
        t.observe_bytes(air_id)
        t.observe_int(log_n)
        t.observe_int(len(public_inputs))
        t.observe_field(np.asarray(list(public_inputs), dtype=np.uint64))
        t.observe_int(0 if pre_root is None else 1)
        if pre_root is not None:
            t.observe_digest(pre_root)
    return t


def grind_site(t: Transcript, bits: int) -> int:
    """Grind ``bits`` right before the next challenge (nonce 0 and nothing observed at 0)."""
    return t.grind_site(bits)


def check_site(t: Transcript, nonce: int, bits: int) -> bool:
    """The verifier's side of :func:`grind_site` (a zero-bit site must carry nonce 0)."""
    return t.check_site(nonce, bits)


def sample_ood_point(transcript: Transcript, domains: Sequence[Domain]) -> ExtValue:
    """Draw z until it avoids every trace domain and LDE coset (a handful of tries)."""
    for _ in range(64):
        z = tuple(int(c) for c in transcript.sample_ext())
        if all(d.ood_point_ok(z) for d in domains):
            return (z[0], z[1], z[2], z[3])
    raise ProtocolError("could not sample an out-of-domain point")  # pragma: no cover


def constraint_groups(system: ConstraintSystem, n: int) -> list[tuple[tuple[str, int], list[int]]]:
    """Constraint indices grouped by vanishing factor, in first-appearance order."""
    groups: dict[tuple[str, int], list[int]] = {}
    for i, c in enumerate(system.constraints):
        groups.setdefault(c.domain_key(n), []).append(i)
    return list(groups.items())


def ext_tuple(arr: Sequence[int] | np.ndarray) -> ExtValue:
    return (int(arr[0]), int(arr[1]), int(arr[2]), int(arr[3]))


def ext_sum(values: Sequence[Sequence[int]]) -> ExtValue:
    """Σ of extension elements (the global LogUp sum)."""
    acc = [0, 0, 0, 0]
    for v in values:
        for k in range(4):
            acc[k] = (acc[k] + int(v[k])) % F.P
    return (acc[0], acc[1], acc[2], acc[3])


def combine_ext_column(parts: Sequence[ExtValue]) -> ExtValue:
    """Σ_k x^k·parts[k]: an extension column from its 4 committed base columns' values."""
    alg = Algebra(None)
    total: Value = (0, 0, 0, 0)
    for k, part in enumerate(parts):
        basis: ExtValue = tuple(1 if j == k else 0 for j in range(4))  # type: ignore[assignment]
        total = alg.add(total, alg.mul(basis, part))
    return total


def deep_coefficients(
    lam: ExtValue, widths_z: int, widths_zg: int, start: int = 0
) -> tuple[np.ndarray, int]:
    """Coefficient matrix ``(widths_z, 8)``: λ^(s+i) for the z-part, λ^(s+M+i) for z·g.

    Columns are ordered pre, main, aux, quotient; the first ``widths_zg`` (all but the
    quotient) are also opened at z·g. ``start`` = s continues the power sequence from
    earlier tables; the next table starts at ``s + widths_z + widths_zg`` (returned).
    """
    first = ext_pow_ints(lam, start)
    pows = ext_powers_ints(lam, widths_z + widths_zg)
    coeffs = np.zeros((widths_z, 8), dtype=np.uint64)
    for i in range(widths_z):
        coeffs[i, :4] = ext_mul_ints(first, pows[i])
    for i in range(widths_zg):
        coeffs[i, 4:] = ext_mul_ints(first, pows[widths_z + i])
    return coeffs, start + widths_z + widths_zg


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


def times_g(z: ExtValue, domain: Domain) -> ExtValue:
    """z·g for the table's trace generator g."""
    g = domain.g
    return (z[0] * g % F.P, z[1] * g % F.P, z[2] * g % F.P, z[3] * g % F.P)
