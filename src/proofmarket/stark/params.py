"""STARK security parameters and the named profiles.

The soundness of a profile depends on the statement too (rows, columns, lookups), so the
full per-term figures come from :mod:`proofmarket.stark.security`
(:func:`~proofmarket.stark.security.describe_security`, ``proofmarket stark security``).
The ``*_security_bits`` methods here report that calculator's minimum at the reference
RV32IM shape (2^:data:`REFERENCE_LOG_ROWS` rows unless given, :data:`REFERENCE_COLUMNS`
committed columns, :data:`REFERENCE_INTERACTIONS` LogUp interactions of 4-tuples,
constraint degree 4).

``DEFAULT`` reaches 105 bits conjectured with every term counted at every rated size of
that shape (107.7 at 2^20 rows, 105.7 at 2^22; the DEEP batching challenge binds); without
its grinding sites the batching term alone would be 91.7 at 2^20 rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from .field import EXT_DEGREE, P


class ParamsError(ValueError):
    """Inconsistent or out-of-range STARK parameters."""


HASHES = ("keccak", "poseidon2")
"""Merkle/transcript hashes a profile may name (the index is the hash's wire id)."""

PARAMS_TAG = b"stark-params-v2"
PARAMS_WORDS = 12
""":meth:`StarkParams.to_bytes` is the tag then this many little-endian u32 words."""

REFERENCE_LOG_ROWS = 20
REFERENCE_COLUMNS = 400
REFERENCE_INTERACTIONS = 60

EXT_FIELD_BITS = EXT_DEGREE * math.log2(P)
"""log2 of the extension field's size (≈ 123.6)."""


@dataclass(frozen=True)
class StarkParams:
    """Parameters shared by prover and verifier; bind :meth:`to_bytes` into the transcript.

    * ``log_blowup``: LDE blowup 2^log_blowup (rate ρ = 2^−log_blowup); constraint degree
      must be ≤ 2^log_blowup + 1 for the quotient to fit.
    * ``num_queries``: FRI query repetitions.
    * ``pow_bits``: grinding bits before query sampling.
    * ``fri_log_arity``: FRI folds 2^fri_log_arity values at a time (the last fold may be
      smaller so that the final degree bound is hit exactly).
    * ``fri_final_log_degree``: folding stops once the polynomial has fewer than
      2^fri_final_log_degree coefficients; those coefficients are sent in clear.
    * ``max_log_trace_len``: the largest trace the profile is rated for (used for the
      field-size term of the security estimate).
    * ``lookup_pow_bits``: grinding bits right before the LogUp challenges (β, γ).
    * ``batch_pow_bits``: grinding bits right before the DEEP batching challenge λ.
    * ``fold_pow_bits``: grinding bits right before each FRI folding challenge.
    * ``ood_pow_bits``: grinding bits right before the out-of-domain point z.
    * ``hash``: the Merkle and Fiat–Shamir hash, ``keccak`` (default: cheap on the EVM) or
      ``poseidon2`` (BabyBear Poseidon2, width 24: cheap inside an AIR, for recursion).
    """

    name: str = "default"
    log_blowup: int = 2
    num_queries: int = 64
    pow_bits: int = 16
    extension_degree: int = EXT_DEGREE
    fri_log_arity: int = 2
    fri_final_log_degree: int = 6
    max_log_trace_len: int = 22
    hash: str = "keccak"
    lookup_pow_bits: int = 0
    batch_pow_bits: int = 0
    fold_pow_bits: int = 0
    ood_pow_bits: int = 0

    def __post_init__(self) -> None:
        self.validate()

    # -- checks ---------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise ParamsError for values the implementation cannot honour."""
        if self.extension_degree != EXT_DEGREE:
            raise ParamsError(f"only extension_degree {EXT_DEGREE} is supported")
        if not 1 <= self.log_blowup <= 6:
            raise ParamsError(f"log_blowup must be in [1, 6], got {self.log_blowup}")
        if not 1 <= self.num_queries <= 1024:
            raise ParamsError(f"num_queries must be in [1, 1024], got {self.num_queries}")
        for name in (
            "pow_bits",
            "lookup_pow_bits",
            "batch_pow_bits",
            "fold_pow_bits",
            "ood_pow_bits",
        ):
            if not 0 <= getattr(self, name) <= 32:
                raise ParamsError(f"{name} must be in [0, 32], got {getattr(self, name)}")
        if not 1 <= self.fri_log_arity <= 4:
            raise ParamsError(f"fri_log_arity must be in [1, 4], got {self.fri_log_arity}")
        if not 0 <= self.fri_final_log_degree <= 16:
            raise ParamsError(
                f"fri_final_log_degree must be in [0, 16], got {self.fri_final_log_degree}"
            )
        if self.hash not in HASHES:
            raise ParamsError(f"hash must be one of {HASHES}, got {self.hash!r}")
        if not 1 <= self.max_log_trace_len <= 27 - self.log_blowup:
            raise ParamsError(
                f"max_log_trace_len must be in [1, {27 - self.log_blowup}] "
                f"for log_blowup {self.log_blowup}, got {self.max_log_trace_len}"
            )

    # -- security ------------------------------------------------------------------------

    @property
    def blowup(self) -> int:
        return 1 << self.log_blowup

    @property
    def rate(self) -> float:
        return 2.0**-self.log_blowup

    def _minimum(self, regime: str, log_trace_len: int | None) -> int:
        from .security import Shape, describe_security

        lt = log_trace_len or min(REFERENCE_LOG_ROWS, self.max_log_trace_len)
        shape = Shape(lt, REFERENCE_COLUMNS, REFERENCE_INTERACTIONS, tuple_len=4)
        return math.floor(describe_security(self, shape, regime).bits)

    def conjectured_security_bits(self, log_trace_len: int | None = None) -> int:
        """Conjectured bits at the reference shape, every term counted (floored)."""
        return self._minimum("conjectured", log_trace_len)

    def johnson_security_bits(self, log_trace_len: int | None = None) -> int:
        """Johnson-bound (list-decoding, BCHKS25) bits at the reference shape (floored)."""
        return self._minimum("johnson", log_trace_len)

    def provable_security_bits(self, log_trace_len: int | None = None) -> int:
        """Unique-decoding (provable) bits at the reference shape (floored)."""
        return self._minimum("unique", log_trace_len)

    # -- presentation and binding --------------------------------------------------------

    def describe(self, log_trace_len: int | None = None) -> str:
        """Human-readable summary for CLIs."""
        lt = self.max_log_trace_len if log_trace_len is None else log_trace_len
        lines = [
            f"profile            {self.name}",
            f"field              BabyBear p = {P}, extension degree {self.extension_degree} "
            "(x^4 + 11)",
            f"blowup             {self.blowup} (log {self.log_blowup})",
            f"queries            {self.num_queries}",
            f"grinding           {self.pow_bits} bits before queries, "
            f"{self.lookup_pow_bits} before LogUp challenges, "
            f"{self.batch_pow_bits} before batching, {self.ood_pow_bits} before the OOD "
            f"point, {self.fold_pow_bits} before each FRI fold",
            f"FRI                arity {1 << self.fri_log_arity}, final polynomial < "
            f"2^{self.fri_final_log_degree} coefficients",
            f"hash               {self.hash}",
            f"rated trace length 2^{lt}",
        ]
        ref = min(REFERENCE_LOG_ROWS, lt)
        for size in sorted({ref, lt}):
            lines.append(
                f"security at 2^{size:<4} {self.conjectured_security_bits(size)} bits conjectured, "
                f"{self.johnson_security_bits(size)} Johnson-regime, "
                f"{self.provable_security_bits(size)} unique decoding"
            )
        lines.append(
            f"                   (every term, {REFERENCE_COLUMNS} columns and "
            f"{REFERENCE_INTERACTIONS} lookups: `proofmarket stark security`)"
        )
        if self.conjectured_security_bits(ref) < 80:
            lines.append("WARNING            insecure parameters: for tests only")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, int | str]:
        return asdict(self)

    def to_bytes(self) -> bytes:
        """Canonical encoding for the transcript (profile name excluded: values only)."""
        vals = (
            self.log_blowup,
            self.num_queries,
            self.pow_bits,
            self.extension_degree,
            self.fri_log_arity,
            self.fri_final_log_degree,
            self.max_log_trace_len,
            HASHES.index(self.hash),
            self.lookup_pow_bits,
            self.batch_pow_bits,
            self.fold_pow_bits,
            self.ood_pow_bits,
        )
        return PARAMS_TAG + b"".join(v.to_bytes(4, "little") for v in vals)

    def with_(self, **changes: int | str) -> StarkParams:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT = StarkParams(lookup_pow_bits=16, batch_pow_bits=16, fold_pow_bits=8, ood_pow_bits=8)
"""Blowup 4, 64 queries, FRI arity 4; grinding: 16 bits before the queries, the LogUp
challenges and DEEP batching, 8 before the OOD point and each FRI fold. ≥ 105 bits
conjectured with every term counted at the reference shape up to 2^22 rows (see
:mod:`proofmarket.stark.security`)."""

CONSERVATIVE = DEFAULT.with_(name="conservative", num_queries=91)
"""91 queries, same grinding: ~91–96 bits in the Johnson (list-decoding, BCHKS25) regime,
where over BabyBear^4 the FRI query phase and folding rounds bind."""

TEST = StarkParams(
    name="test-insecure",
    log_blowup=2,
    num_queries=16,
    pow_bits=4,
    fri_log_arity=2,
    fri_final_log_degree=2,
    max_log_trace_len=16,
)
"""Fast and INSECURE (~36 bits): for unit tests only."""

PROFILES: dict[str, StarkParams] = {p.name: p for p in (DEFAULT, CONSERVATIVE, TEST)}


def get_profile(name: str) -> StarkParams:
    """Look up a named profile (``default``, ``conservative``, ``test-insecure``)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ParamsError(
            f"unknown STARK parameter profile {name!r}; choose one of {sorted(PROFILES)}"
        ) from None
