"""Security calculator: every soundness error term of a proof, in bits, and the minimum.

A proof of ``n = 2^log_rows`` rows over BabyBear^4 (``F = log2|F_p^4| ≈ 123.6`` bits) is
attacked at each random challenge; each term below is ``−log2`` of one error probability
(plus the grinding bits placed right before that challenge). The proof's security is the
minimum over the terms. Formulas follow ethSTARK (eprint 2021/582), BCIKS20 (2020/654),
"On the security of STARKs with FRI" (2024/1553), BCHKS25 (2025/2055) and Plonky3's
``p3-security`` crate; ``N = n·blowup`` is the LDE size, ``ρ = 1/blowup``.

* **logup** (β, γ): ``F − log2(n·I·(W+2)) + lookup_pow_bits`` for ``I`` interactions
  per row with tuples of ``W`` values (a root of the cleared numerator, or a vanishing
  denominator).
* **constraints** (α, powers): ``F − log2(C) − log2(L)`` for ``C`` constraints.
* **deep** (out-of-domain point z): ``F − log2(L·(d·(n+1) + (n−1))) + ood_pow_bits`` for
  constraint degree ``d`` and two opening points (z, z·g).
* **batching** (λ, powers over every opened column at every point, ``m`` functions):
  ``F − log2(N) − log2(m−1) + batch_pow_bits`` (unique-decoding proximity gap for powers;
  BCHKS25 at ``m_J`` in the Johnson regime). The conjectured figure counts it too.
* **fri_folding** (one challenge per fold of arity ``a``): ``F − log2((a−1)·(N+1))`` in the
  conjectured and unique-decoding regimes; BCHKS25 Thm 1.5 (the smaller error of that and
  the n/q bound) in the Johnson regime; plus ``fold_pow_bits`` (grinding before each fold).
* **fri_queries**: conjectured (random words, eprint 2025/2010) ``q·−log2(ρ+η) + pow_bits``
  with ``η = ρ·(log2 e + log_blowup)/F``; Johnson ``q·−log2((1 + 1/2m)·√ρ) + pow_bits``;
  unique decoding ``q·−log2((1+ρ⁺)/2) + pow_bits`` with ``ρ⁺ = (n+2)/N``.
* **hash**: collision resistance of the commitment hash (keccak 128; Poseidon2's
  8-element digest ≈ 123.6).

``L`` is the list size: 1 in the conjectured and unique-decoding regimes,
``(m_J + 1/2)/√ρ`` in the Johnson regime, where ``m_J ∈ [3, 1000]`` is chosen to maximise
the minimum over all terms (``p3-security`` maximises the FRI terms only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .air import MAX_CONSTRAINT_DEGREE, Air
from .machine import Machine
from .params import EXT_FIELD_BITS, StarkParams

REGIMES = ("conjectured", "johnson", "unique")
_HASH_BITS = {"keccak": 128.0, "poseidon2": 8 * math.log2(2013265921) / 2}
_M_CAP = 1000


class SecurityError(ValueError):
    """Out-of-range input to the calculator (rows, columns, interactions, degree)."""


@dataclass(frozen=True)
class Shape:
    """What the calculator needs to know about the proven statement."""

    log_rows: int
    columns: int  # committed base columns (main + preprocessed)
    interactions: int = 0  # LogUp interactions per row
    tuple_len: int = 4  # widest LogUp tuple
    constraints: int = 0  # 0: as many as columns (+ LogUp constraints)
    max_degree: int = MAX_CONSTRAINT_DEGREE
    # exact counts from real AIRs (shape_of); None: estimated from the fields above
    aux_exact: int | None = None
    quotient_exact: int | None = None
    constraints_exact: int | None = None

    def validate(self) -> None:
        if not 1 <= self.log_rows <= 27:
            raise SecurityError(f"rows must be 2^1 … 2^27, got 2^{self.log_rows}")
        if self.columns < 1:
            raise SecurityError(f"columns must be ≥ 1, got {self.columns}")
        if self.interactions < 0 or self.tuple_len < 1 or self.constraints < 0:
            raise SecurityError("interactions, constraints must be ≥ 0 and tuple length ≥ 1")
        if not 1 <= self.max_degree <= MAX_CONSTRAINT_DEGREE:
            raise SecurityError(
                f"constraint degree must be in [1, {MAX_CONSTRAINT_DEGREE}], got {self.max_degree}"
            )

    @property
    def aux_columns(self) -> int:
        """Extension aux columns: LogUp helpers (batched to the degree cap) + running sum."""
        if self.aux_exact is not None:
            return self.aux_exact
        if not self.interactions:
            return 0
        per_helper = min(MAX_CONSTRAINT_DEGREE, max(3, self.max_degree)) - 1
        return math.ceil(self.interactions / per_helper) + 1

    @property
    def quotient_columns(self) -> int:
        """Extension quotient chunks."""
        if self.quotient_exact is not None:
            return self.quotient_exact
        return max(1, self.max_degree - 1)

    @property
    def num_constraints(self) -> int:
        if self.constraints_exact is not None:
            return self.constraints_exact
        user = self.constraints or self.columns
        return user + (self.aux_columns + 2 if self.interactions else 0)

    @property
    def batched_functions(self) -> int:
        """λ powers of the DEEP combination: every base column at z, main/pre/aux at z·g."""
        aux = 4 * self.aux_columns
        return (self.columns + aux + 4 * self.quotient_columns) + (self.columns + aux)


@dataclass(frozen=True)
class SecurityTerm:
    name: str
    bits: float
    formula: str


@dataclass(frozen=True)
class SecurityReport:
    """All terms for one regime; :attr:`bits` is their minimum."""

    profile: str
    regime: str
    shape: Shape
    terms: tuple[SecurityTerm, ...]
    notes: tuple[str, ...] = field(default=())
    johnson_m: int | None = None

    def term(self, name: str) -> SecurityTerm:
        """The term called ``name`` (KeyError when this shape has none)."""
        for t in self.terms:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def binding(self) -> SecurityTerm:
        return min(self.terms, key=lambda t: t.bits)

    @property
    def bits(self) -> float:
        return self.binding.bits

    def to_dict(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "regime": self.regime,
            "log_rows": self.shape.log_rows,
            "columns": self.shape.columns,
            "interactions": self.shape.interactions,
            "tuple_len": self.shape.tuple_len,
            "constraints": self.shape.num_constraints,
            "max_degree": self.shape.max_degree,
            "batched_functions": self.shape.batched_functions,
            "terms": {t.name: round(t.bits, 2) for t in self.terms},
            "formulas": {t.name: t.formula for t in self.terms},
            "minimum": round(self.bits, 2),
            "binding": self.binding.name,
            "notes": list(self.notes),
        }


def _rho(params: StarkParams) -> float:
    return 2.0**-params.log_blowup


def _fold_arity(params: StarkParams, log_rows: int) -> int:
    """Largest fold arity FRI uses for this size (0 when it does not fold at all)."""
    log_degree = log_rows
    if log_degree <= params.fri_final_log_degree:
        return 0
    return 1 << min(params.fri_log_arity, log_degree - params.fri_final_log_degree)


def _johnson_fri(params: StarkParams, shape: Shape, f: float, m: int) -> tuple[float, float]:
    """FRI (query bits, folding bits) in the Johnson regime at proximity parameter ``m``."""
    n = 2.0**shape.log_rows
    lde = n * params.blowup
    rho = _rho(params)
    sqrt_rho = math.sqrt(rho)
    arity = _fold_arity(params, shape.log_rows)
    ms = m + 0.5
    alpha = (1.0 + 0.5 / m) * sqrt_rho
    gamma = 1.0 - alpha
    query = params.num_queries * -math.log2(alpha) + params.pow_bits
    fold = math.inf
    if arity > 1 and gamma > 0:
        eps_lin = (2.0 * ms**5 + 3.0 * ms * gamma * rho) * lde / (3.0 * rho * sqrt_rho)
        eps_lin += ms / sqrt_rho
        linear = f - math.log2(max(1.0, eps_lin * (arity - 1)))
        n_over_q = (
            f - math.log2(arity) - math.log2(lde + 1.0) - math.log2(2.0 * m + 1.0)
        ) + 0.5 * math.log2(rho)
        fold = max(0.0, min(linear, n_over_q)) + params.fold_pow_bits
    return query, fold


def _johnson_ms(log_rows: int) -> range:
    """Proximity parameters m with the η > 0 precondition (eprint 2021/582, Thm 1)."""
    n = 2.0**log_rows
    upper = math.ceil(1.0 / (2.0 * (math.sqrt((n + 2.0) / n) - 1.0)))
    return range(3, max(3, min(upper, _M_CAP)) + 1)


def describe_security(
    params: StarkParams, shape: Shape, regime: str = "conjectured"
) -> SecurityReport:
    """Every soundness term of a proof of ``shape`` under ``params``, in one ``regime``.

    In the Johnson regime every admissible ``m`` gives a valid bound; the report is the
    one whose minimum over all terms is largest.
    """
    shape.validate()
    if regime not in REGIMES:
        raise SecurityError(f"regime must be one of {REGIMES}, got {regime!r}")
    if shape.log_rows > params.max_log_trace_len:
        raise SecurityError(
            f"profile {params.name!r} is rated up to 2^{params.max_log_trace_len} rows, "
            f"not 2^{shape.log_rows}"
        )
    if regime != "johnson":
        return _report(params, shape, regime, None)
    reports = (_report(params, shape, regime, m) for m in _johnson_ms(shape.log_rows))
    return max(reports, key=lambda r: r.bits)


def _report(params: StarkParams, shape: Shape, regime: str, m_j: int | None) -> SecurityReport:
    f = EXT_FIELD_BITS
    n = 2.0**shape.log_rows
    log_lde = shape.log_rows + params.log_blowup
    lde = 2.0**log_lde
    rho = _rho(params)
    arity = _fold_arity(params, shape.log_rows)
    m_fn = shape.batched_functions
    terms: list[SecurityTerm] = []
    notes: list[str] = []

    log_list = 0.0
    if m_j is not None:
        query, fold = _johnson_fri(params, shape, f, m_j)
        log_list = math.log2((m_j + 0.5) / math.sqrt(rho))
        notes.append(f"Johnson regime at m = {m_j}, list size 2^{log_list:.2f}")
        q_formula = "q·−log2((1 + 1/2m)·√ρ) + pow_bits"
        f_formula = "F − log2((a−1)·ε_BCHKS25(m, N)) + fold_pow_bits"
    else:
        if regime == "conjectured":
            eta = rho * (math.log2(math.e) + params.log_blowup) / f
            query = params.num_queries * -math.log2(rho + eta) + params.pow_bits
            q_formula = "q·−log2(ρ + η) + pow_bits"
        else:
            alpha = (1.0 + (n + 2.0) / lde) / 2.0
            query = params.num_queries * -math.log2(alpha) + params.pow_bits
            q_formula = "q·−log2((1 + ρ⁺)/2) + pow_bits"
        fold = f - math.log2((arity - 1) * (lde + 1.0)) if arity > 1 else math.inf
        fold += params.fold_pow_bits
        f_formula = "F − log2((a−1)·(N+1)) + fold_pow_bits"
    terms.append(SecurityTerm("fri_queries", query, q_formula))
    if arity > 1:
        terms.append(SecurityTerm("fri_folding", fold, f_formula))

    d = shape.max_degree
    deep = f - log_list - math.log2(d * (n + 1.0) + (n - 1.0)) + params.ood_pow_bits
    terms.append(SecurityTerm("deep", deep, "F − log2(L·(d·(n+1) + n − 1)) + ood_pow_bits"))
    ali = f - log_list - math.log2(shape.num_constraints)
    terms.append(SecurityTerm("constraints", ali, "F − log2(L·C)"))

    if m_fn >= 2:
        if m_j is not None:
            ms = m_j + 0.5
            err = log_lde + math.log2(2.0 * ms**5 / 3.0) + 1.5 * params.log_blowup
            formula = "F − log2(2(m+½)^5·N/(3ρ^1.5)) − log2(m_fn−1) + batch_pow_bits"
        else:
            err = float(log_lde)
            formula = "F − log2(N) − log2(m_fn−1) + batch_pow_bits"
        batching = f - err - math.log2(m_fn - 1) + params.batch_pow_bits
        terms.append(SecurityTerm("batching", batching, formula))

    if shape.interactions:
        logup = (
            f
            - shape.log_rows
            - math.log2(shape.interactions)
            - math.log2(shape.tuple_len + 2)
            + params.lookup_pow_bits
        )
        terms.append(SecurityTerm("logup", logup, "F − log2(n·I·(W+2)) + lookup_pow_bits"))

    terms.append(SecurityTerm("hash", _HASH_BITS[params.hash], f"{params.hash} collisions"))
    return SecurityReport(params.name, regime, shape, tuple(terms), tuple(notes), m_j)


def shape_of(machine: Machine | Air, log_heights: Sequence[int]) -> Shape:
    """The shape of a real statement: ``log_heights[t]`` rows for table t of ``machine``.

    Exact column, constraint, auxiliary and quotient counts; the LogUp and DEEP terms use
    the tallest table's height for every table (an over-count, so the figure is safe).
    """
    tables = [t.air for t in machine.tables] if isinstance(machine, Machine) else [machine]
    if len(log_heights) != len(tables):
        raise SecurityError(f"need {len(tables)} table heights, got {len(log_heights)}")
    systems = [a.system for a in tables]
    inters = [s.logup.interactions if s.logup else () for s in systems]
    return Shape(
        log_rows=max(log_heights),
        columns=sum(s.main_width + s.preprocessed_width for s in systems),
        interactions=sum(len(i) for i in inters),
        tuple_len=max((len(x.values) for i in inters for x in i), default=1),
        max_degree=max(s.max_degree for s in systems),
        aux_exact=sum(s.aux_width for s in systems),
        quotient_exact=sum(s.num_quotient_chunks for s in systems),
        constraints_exact=sum(len(s.constraints) for s in systems),
    )


def describe_all(params: StarkParams, shape: Shape) -> dict[str, SecurityReport]:
    """The report in every regime (conjectured, Johnson, unique decoding)."""
    return {r: describe_security(params, shape, r) for r in REGIMES}


def format_reports(reports: dict[str, SecurityReport]) -> str:
    """A table: one row per term, one column per regime, then the minimum."""
    names: list[str] = []
    for rep in reports.values():
        names += [t.name for t in rep.terms if t.name not in names]
    first = next(iter(reports.values()))
    s = first.shape
    lines = [
        f"profile {first.profile}: 2^{s.log_rows} rows, {s.columns} columns, "
        f"{s.interactions} interactions (tuples of {s.tuple_len}), {s.num_constraints} "
        f"constraints of degree ≤ {s.max_degree}, {s.batched_functions} batched functions",
        f"{'term':<14}" + "".join(f"{r:>13}" for r in reports),
    ]
    for name in names:
        row = f"{name:<14}"
        for rep in reports.values():
            val = next((t.bits for t in rep.terms if t.name == name), None)
            row += f"{'—' if val is None else f'{val:.1f}':>13}"
        lines.append(row)
    lines.append(f"{'minimum':<14}" + "".join(f"{r.bits:>13.1f}" for r in reports.values()))
    lines.append(f"{'binding':<14}" + "".join(f"{r.binding.name:>13}" for r in reports.values()))
    for rep in reports.values():
        lines += [f"note: {n}" for n in rep.notes]
    return "\n".join(lines)
