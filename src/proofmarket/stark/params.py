"""STARK security parameters, named profiles and the security estimates they give.

Security formulas (reference zkvm.md §2.5, after ethSTARK README §7 and Plonky3
``fri/src/config.rs``):

* **conjectured** (ethSTARK "toy problem" conjecture, the one RISC Zero, Plonky3, Miden and
  lambdaworks quote)::

      bits = min(num_queries · log_blowup + pow_bits,
                 log2|F_p^4| − log_trace_len)

  The second term is ethSTARK's cap from the size of the field the out-of-domain point and
  the batching challenges are drawn from (|F_p^4| ≈ 2^123.6); for 2^22 rows it gives ≈ 101.6.
* **johnson** (an estimate in the Johnson-bound regime, Plonky3 ``security/src/assumption.rs``;
  approximate, ignores list-size terms)::

      bits = min(num_queries · −log2(√ρ + √ρ/20) + pow_bits, field cap)

* **provable** (unique-decoding regime as in SP1 ``fri_params.rs``)::

      bits = min(num_queries · −log2((1 + ρ)/2) + pow_bits, field cap)

with rate ρ = 2^−log_blowup. The profiles are chosen from those formulas; ``DEFAULT`` is
≥ 100 bits conjectured for traces up to 2^22 rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from .field import EXT_DEGREE, P


class ParamsError(ValueError):
    """Inconsistent or out-of-range STARK parameters."""


HASHES = ("keccak", "poseidon2")
"""Merkle/transcript hashes a profile may name (the index is the hash's wire id)."""

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
        if not 0 <= self.pow_bits <= 32:
            raise ParamsError(f"pow_bits must be in [0, 32], got {self.pow_bits}")
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

    def field_security_bits(self, log_trace_len: int | None = None) -> float:
        """ethSTARK's field-size cap: log2|F_p^4| − log2(trace length)."""
        lt = self.max_log_trace_len if log_trace_len is None else log_trace_len
        return EXT_FIELD_BITS - lt

    def conjectured_security_bits(self, log_trace_len: int | None = None) -> int:
        """Conjectured bits: min(queries·log_blowup + pow_bits, field cap), floored."""
        fri = self.num_queries * self.log_blowup + self.pow_bits
        return math.floor(min(fri, self.field_security_bits(log_trace_len)))

    def johnson_security_bits(self, log_trace_len: int | None = None) -> int:
        """Johnson-regime estimate (see module docstring), floored."""
        s = math.sqrt(self.rate)
        per_query = -math.log2(s + s / 20)
        fri = self.num_queries * per_query + self.pow_bits
        return math.floor(min(fri, self.field_security_bits(log_trace_len)))

    def provable_security_bits(self, log_trace_len: int | None = None) -> int:
        """Unique-decoding (provable) estimate, floored."""
        per_query = -math.log2((1 + self.rate) / 2)
        fri = self.num_queries * per_query + self.pow_bits
        return math.floor(min(fri, self.field_security_bits(log_trace_len)))

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
            f"grinding           {self.pow_bits} bits",
            f"FRI                arity {1 << self.fri_log_arity}, final polynomial < "
            f"2^{self.fri_final_log_degree} coefficients",
            f"hash               {self.hash}",
            f"rated trace length 2^{lt}",
            f"security           {self.conjectured_security_bits(lt)} bits conjectured, "
            f"~{self.johnson_security_bits(lt)} Johnson-regime, "
            f"~{self.provable_security_bits(lt)} provable (unique decoding)",
        ]
        if self.conjectured_security_bits(lt) < 80:
            lines.append("WARNING            insecure parameters: for tests only")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, int | str]:
        return asdict(self)

    def to_bytes(self) -> bytes:
        """Canonical encoding for the transcript (profile name excluded: values only).

        Keccak profiles keep the original seven-word block; any other hash appends its
        id as an eighth word, so the hash choice is bound into the transcript.
        """
        vals = [
            self.log_blowup,
            self.num_queries,
            self.pow_bits,
            self.extension_degree,
            self.fri_log_arity,
            self.fri_final_log_degree,
            self.max_log_trace_len,
        ]
        if self.hash != "keccak":
            vals.append(HASHES.index(self.hash))
        return b"stark-params-v1" + b"".join(v.to_bytes(4, "little") for v in vals)

    def with_(self, **changes: int | str) -> StarkParams:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT = StarkParams()
"""~101 bits conjectured for ≤ 2^22 rows: blowup 4, 64 queries, 16 PoW bits, FRI arity 4."""

CONSERVATIVE = StarkParams(name="conservative", num_queries=91)
"""~100 bits even in the Johnson-bound regime (91 queries)."""

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
