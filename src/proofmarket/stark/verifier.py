"""STARK verifier for machine (multi-table) proofs and the one-table :func:`verify`.

The transcript schedule and the checks both sides share live in
:mod:`proofmarket.stark.protocol`. The verifier pins every table's height to what the
statement allows (``Table.log_heights``, or exactly ``log_heights`` when given) and
returns the heights it accepted, checks the parameters, AIR ids and widths, the global
LogUp sum, every Merkle opening, each table's out-of-domain identity and FRI, and raises
:class:`VerificationError` naming the failed check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirError
from proofmarket.stark.domain import Domain
from proofmarket.stark.expr import ExtValue
from proofmarket.stark.fri import FriError, fri_verify
from proofmarket.stark.machine import Machine, MachineError, Table, single_table_machine
from proofmarket.stark.merkle import verify_batch
from proofmarket.stark.params import DEFAULT, StarkParams
from proofmarket.stark.preprocessed import (
    PreprocessedData,
    clear_preprocessed_cache,
    preprocessed_data,
    preprocessed_root,
)
from proofmarket.stark.proof import ProofFormatError, StarkProof, TableProof, TreeOpening
from proofmarket.stark.protocol import (
    ProtocolError,
    begin_transcript,
    check_site,
    deep_coefficients,
    deep_opened_sums,
    deep_values,
    ext_sum,
    ext_tuple,
    observe_openings,
    ood_constraint_value,
    sample_ood_point,
    times_g,
)
from proofmarket.stark.statement_bus import StatementTerms, statement_digest, statement_sum


class VerificationError(Exception):
    """The proof does not verify; the message names the failed check."""


def verify(
    air: Air,
    proof: StarkProof | bytes,
    public_inputs: Sequence[int],
    params: StarkParams = DEFAULT,
    *,
    fixed_root: bytes | None = None,
    log_n: int | None = None,
) -> int:
    """Verify a one-table ``proof`` for ``air`` and ``public_inputs`` under ``params``.

    ``fixed_root`` (optional) is a trusted :func:`preprocessed_root` for the proof's trace
    size; without it the verifier commits the AIR's fixed columns itself (cached).
    ``log_n`` pins the trace height (a segment verifier must not let the prover choose
    it); without it any height the AIR and params allow is accepted. Returns the proof's
    log2 trace height; raises :class:`VerificationError` (or
    :class:`~proofmarket.stark.proof.ProofFormatError` for undecodable bytes).
    """
    machine = single_table_machine(air, params)
    heights = verify_machine(
        machine,
        proof,
        [public_inputs],
        params,
        fixed_roots=[fixed_root],
        log_heights=None if log_n is None else [log_n],
    )
    return heights[0]


def verify_machine(
    machine: Machine,
    proof: StarkProof | bytes,
    public_inputs: Sequence[Sequence[int]] | None,
    params: StarkParams = DEFAULT,
    *,
    fixed_roots: Sequence[bytes | None] | None = None,
    log_heights: Sequence[int | None] | None = None,
    statement_terms: Sequence[StatementTerms] = (),
) -> list[int]:
    """Verify a proof of all tables of ``machine``; return each table's log2 height.

    ``log_heights[t]`` (optional, per table) pins a table's height exactly; otherwise it
    must be one of the table's declared ``log_heights``. ``fixed_roots[t]`` optionally
    gives a trusted preprocessed root for table t. ``statement_terms``: the tuples the
    statement adds to buses (:mod:`proofmarket.stark.statement_bus`), as the prover had them.
    """
    if isinstance(proof, bytes | bytearray):
        proof = StarkProof.from_bytes(bytes(proof))
    try:
        return _verify(
            machine, proof, public_inputs, params, fixed_roots, log_heights, statement_terms
        )
    except (
        FriError,
        ProofFormatError,
        AirError,
        MachineError,
        ProtocolError,
        F.FieldError,
        ValueError,
    ) as exc:
        if isinstance(exc, VerificationError):
            raise
        raise VerificationError(f"{type(exc).__name__}: {exc}") from exc


def _check_shape(table: Table, tp: TableProof, params: StarkParams, pin: int | None) -> None:
    air, name = table.air, table.name
    if tp.air_id != air.air_id:
        raise VerificationError(
            f"table {name!r}: proof is not for AIR {air.name!r} (AIR id mismatch)"
        )
    if pin is not None and tp.log_n != pin:
        raise VerificationError(
            f"table {name!r}: trace height 2^{tp.log_n} but the statement pins 2^{pin}"
        )
    if not table.allows(tp.log_n) or not air.min_log_rows() <= tp.log_n <= params.max_log_trace_len:
        raise VerificationError(
            f"table {name!r}: trace size 2^{tp.log_n} not allowed for this AIR/params"
        )
    system = air.system
    expected = (
        air.main_width,
        air.preprocessed_width,
        4 * system.aux_width,
        4 * system.num_quotient_chunks,
    )
    got = (tp.main_width, tp.pre_width, tp.aux_width, tp.quotient_width)
    if got != expected:
        raise VerificationError(
            f"table {name!r}: proof column widths {got} do not match the AIR {expected}"
        )
    if system.num_quotient_chunks > params.blowup:
        raise VerificationError(f"table {name!r}: AIR degree too high for the blowup")
    op = tp.openings
    for label, arr, w in (
        ("main@z", op.main_z, tp.main_width),
        ("main@zg", op.main_zg, tp.main_width),
        ("pre@z", op.pre_z, tp.pre_width),
        ("pre@zg", op.pre_zg, tp.pre_width),
        ("aux@z", op.aux_z, tp.aux_width),
        ("aux@zg", op.aux_zg, tp.aux_width),
        ("quotient@z", op.quotient_z, tp.quotient_width),
    ):
        if np.asarray(arr).shape != (w, 4):
            raise VerificationError(
                f"table {name!r}: opening {label} has shape {np.asarray(arr).shape}"
            )
    if len(tp.main_root) != 32 or len(tp.quotient_root) != 32:
        raise VerificationError(f"table {name!r}: commitment roots must be 32 bytes")
    if tp.aux_width and len(tp.aux_root) != 32:
        raise VerificationError(f"table {name!r}: aux commitment root must be 32 bytes")
    if np.asarray(tp.claimed_sum).shape != (4,):
        raise VerificationError(f"table {name!r}: claimed sum must be one extension element")


def _verify(
    machine: Machine,
    proof: StarkProof,
    public_inputs: Sequence[Sequence[int]] | None,
    params: StarkParams,
    fixed_roots: Sequence[bytes | None] | None,
    log_heights: Sequence[int | None] | None,
    statement_terms: Sequence[StatementTerms] = (),
) -> list[int]:
    if proof.params.to_bytes() != params.to_bytes():
        raise VerificationError("proof was made with different STARK parameters")
    count = len(machine.tables)
    if len(proof.tables) != count:
        raise VerificationError(f"proof has {len(proof.tables)} tables, the machine {count}")
    pins = list(log_heights) if log_heights is not None else [None] * count
    roots_in = list(fixed_roots) if fixed_roots is not None else [None] * count
    if len(pins) != count or len(roots_in) != count:
        raise VerificationError("log_heights / fixed_roots need one entry per table")
    try:
        pubs = machine.normalise_publics(public_inputs)
    except (AirError, MachineError) as exc:
        raise VerificationError(str(exc)) from exc
    domains: list[Domain] = []
    pre_roots: list[bytes | None] = []
    for table, tp, pin, given in zip(machine.tables, proof.tables, pins, roots_in, strict=True):
        _check_shape(table, tp, params, pin)
        domain = Domain(tp.log_n, params.log_blowup)
        domains.append(domain)
        root: bytes | None = None
        if table.air.preprocessed_width:
            if given is not None:
                if len(given) != 32:
                    raise VerificationError("fixed_root must be a 32-byte Merkle root")
                root = given
            else:
                pre = preprocessed_data(table.air, domain, params.hash)
                assert pre is not None
                root = pre.root
        pre_roots.append(root)

    t = begin_transcript(
        params,
        [
            (tp.air_id, tp.log_n, pub, root)
            for tp, pub, root in zip(proof.tables, pubs, pre_roots, strict=True)
        ],
    )
    if statement_terms:
        t.observe_digest(statement_digest(statement_terms))
    for tp in proof.tables:
        t.observe_digest(tp.main_root)
    lookups = any(tb.air.system.num_challenges for tb in machine.tables)
    lookup_bits = params.lookup_pow_bits if lookups else 0
    if not check_site(t, proof.lookup_pow_nonce, lookup_bits):
        raise VerificationError(f"LogUp grinding nonce does not give {lookup_bits} zero bits")
    chals = [ext_tuple(t.sample_ext()) for _ in range(2)] if lookups else []
    sums: list[ExtValue] = []
    for tp in proof.tables:
        if tp.aux_width:
            t.observe_digest(tp.aux_root)
            t.observe_ext(np.asarray(tp.claimed_sum, dtype=np.uint64).reshape(1, 4))
            sums.append(ext_tuple(tp.claimed_sum))
        elif np.asarray(tp.claimed_sum).any():
            raise VerificationError("a table without lookups claims a LogUp sum")
    if statement_terms:
        if not chals:
            raise VerificationError("statement bus terms need a machine with lookups")
        sums.append(statement_sum(statement_terms, chals))
    if ext_sum(sums) != (0, 0, 0, 0):
        raise VerificationError(
            "LogUp buses do not balance: the tables' claimed sums plus public terms are not 0"
        )
    alpha = ext_tuple(t.sample_ext())
    for tp in proof.tables:
        t.observe_digest(tp.quotient_root)
    if not check_site(t, proof.ood_pow_nonce, params.ood_pow_bits):
        raise VerificationError(
            f"out-of-domain grinding nonce does not give {params.ood_pow_bits} zero bits"
        )
    z = sample_ood_point(t, domains)
    for tp in proof.tables:
        observe_openings(t, tp.openings)

    for table, tp, pub, domain in zip(machine.tables, proof.tables, pubs, domains, strict=True):
        table_chals = [*chals, ext_tuple(tp.claimed_sum)] if chals else []
        lhs, rhs = ood_constraint_value(
            table.air.system, tp.openings, pub, table_chals, alpha, z, domain
        )
        if lhs != rhs:
            raise VerificationError(
                f"table {table.name!r}: out-of-domain check failed: the constraints do not "
                "match the committed quotient"
            )

    if not check_site(t, proof.batch_pow_nonce, params.batch_pow_bits):
        raise VerificationError(
            f"batching grinding nonce does not give {params.batch_pow_bits} zero bits"
        )
    lam = ext_tuple(t.sample_ext())
    readers: dict[int, list[_TableReader]] = {}
    start = 0
    for table, tp, domain, root in zip(
        machine.tables, proof.tables, domains, pre_roots, strict=True
    ):
        reader = _TableReader(table.name, tp, domain, root, lam, start, z, params.hash)
        start = reader.next_power
        readers.setdefault(domain.log_lde, []).append(reader)

    def values_for(log_size: int) -> Callable[[list[int]], np.ndarray]:
        def at(queries: list[int]) -> np.ndarray:
            total = np.zeros((len(queries), 4), dtype=np.uint64)
            for r in readers[log_size]:
                total = F.add(total, r.values(queries))
            return total

        return at

    top = max(readers)
    rolled = {ls: values_for(ls) for ls in readers if ls != top}
    try:
        fri_verify(proof.fri, t, params, top, values_for(top), F.GENERATOR, rolled)
    except FriError as exc:
        raise VerificationError(f"FRI: {exc}") from exc
    return [tp.log_n for tp in proof.tables]


class _TableReader:
    """Recomputes one table's DEEP values at queried rows from its Merkle-checked rows."""

    def __init__(
        self,
        name: str,
        tp: TableProof,
        domain: Domain,
        pre_root: bytes | None,
        lam: ExtValue,
        start: int,
        z: ExtValue,
        hash: str,
    ) -> None:
        self.name, self.tp, self.domain, self.hash = name, tp, domain, hash
        widths_zg = tp.pre_width + tp.main_width + tp.aux_width
        widths_z = widths_zg + tp.quotient_width
        self.coeffs, self.next_power = deep_coefficients(lam, widths_z, widths_zg, start)
        self.v_z, self.v_zg = deep_opened_sums(tp.openings, self.coeffs)
        self.z, self.zg = z, times_g(z, domain)
        self.trees: list[tuple[str, bytes, TreeOpening | None, int]] = [
            ("preprocessed", pre_root or b"", tp.pre_opening, tp.pre_width),
            ("main", tp.main_root, tp.main_opening, tp.main_width),
            ("aux", tp.aux_root, tp.aux_opening, tp.aux_width),
            ("quotient", tp.quotient_root, tp.quotient_opening, tp.quotient_width),
        ]

    def values(self, queries: list[int]) -> np.ndarray:
        domain, tp = self.domain, self.tp
        size = domain.lde_size
        positions = [q % size for q in queries]
        distinct = sorted(set(positions))
        if len(distinct) != tp.num_queries_distinct:
            raise VerificationError(
                f"table {self.name!r}: proof opens {tp.num_queries_distinct} rows, the queries "
                f"need {len(distinct)}"
            )
        blocks = []
        for label, root, opening, width in self.trees:
            if width == 0:
                continue
            if opening is None or opening.rows.shape != (len(distinct), width):
                raise VerificationError(
                    f"table {self.name!r}: {label} query rows have the wrong shape"
                )
            if not verify_batch(root, distinct, opening.rows, opening.proof, size, self.hash):
                raise VerificationError(
                    f"table {self.name!r}: {label} Merkle opening does not match its commitment"
                )
            blocks.append(opening.rows)
        rows = np.concatenate(blocks, axis=1)
        omega = F.two_adic_generator(domain.log_lde)
        xs = np.array(
            [(domain.shift * pow(omega, q, F.P)) % F.P for q in distinct], dtype=np.uint64
        )
        d = deep_values(rows, self.coeffs, self.v_z, self.v_zg, xs, self.z, self.zg)
        where = {q: k for k, q in enumerate(distinct)}
        return d[[where[q] for q in positions]]


__all__ = [
    "PreprocessedData",
    "VerificationError",
    "clear_preprocessed_cache",
    "preprocessed_data",
    "preprocessed_root",
    "verify",
    "verify_machine",
]
