"""STARK prover: one proof over the tables of a :class:`~proofmarket.stark.machine.Machine`.

The transcript schedule is in :mod:`proofmarket.stark.protocol`, shared with the
verifier. Per table the prover does the low-degree extension and Merkle commitment of the
main, aux and quotient matrices, evaluates the constraint quotient on the table's LDE
coset and opens everything at z and z·g; the DEEP codewords (one per distinct height) go
into one FRI proof, smaller heights rolled in at their size (:mod:`proofmarket.stark.fri`).

:func:`prove` is the one-table case with the original signature.

Zero-knowledge is **not** provided: openings reveal trace values at the queried rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air
from proofmarket.stark.aux_trace import claimed_sum, generate_aux_trace
from proofmarket.stark.backend import Backend, get_backend
from proofmarket.stark.backend.numpy_backend import NumpyBackend
from proofmarket.stark.constraint_vm import Recorder, Reg, allocate
from proofmarket.stark.constraint_vm import run as run_vm
from proofmarket.stark.domain import Domain, ext_powers_ints
from proofmarket.stark.expr import NUMPY_OPS, Algebra, ArrayOps, Expr, ExtValue, Group, Value
from proofmarket.stark.fri import fri_prove
from proofmarket.stark.kernels import evaluate_on_h_pair, lincomb_cols, lincomb_rows
from proofmarket.stark.machine import (
    GLOBAL_SUM_CONSTRAINT,
    Machine,
    MachineError,
    Table,
    single_table_machine,
)
from proofmarket.stark.merkle import MerkleTree
from proofmarket.stark.ntt import coset_intt, coset_lde, coset_lde_from_coeffs, evaluate_at
from proofmarket.stark.params import DEFAULT, StarkParams
from proofmarket.stark.preprocessed import PreprocessedData, preprocessed_data
from proofmarket.stark.proof import Openings, StarkProof, TableProof, TreeOpening
from proofmarket.stark.protocol import (
    begin_transcript,
    constraint_groups,
    deep_coefficients,
    deep_opened_sums,
    deep_values,
    ext_sum,
    ext_tuple,
    grind_site,
    observe_openings,
    sample_ood_point,
    times_g,
)
from proofmarket.stark.statement_bus import StatementTerms, statement_digest, statement_sum
from proofmarket.stark.trace_check import check_trace

EVAL_BLOCK_ROWS = 1 << 13
"""LDE rows per block of array-op constraint evaluation (keeps intermediates in cache)."""
NATIVE_BLOCK_ROWS = 1 << 16
"""Block size for non-NumPy backends, where each operation is a (possibly GPU) kernel."""


class ProverError(ValueError):
    """The prover cannot produce a proof for this input (bad shape, unsatisfied trace)."""


@dataclass
class ProverTimings:
    """Seconds spent per phase (filled in by :func:`prove`)."""

    phases: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds


class _Timer:
    def __init__(self, timings: ProverTimings | None, name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        if self.timings is not None:
            self.timings.add(self.name, time.perf_counter() - self.start)


@dataclass
class _Committed:
    """A matrix committed on the LDE coset (plus its trace-domain coefficients)."""

    coeffs: np.ndarray | None  # (n, w) coefficients (quotient: chunks); freed after OOD
    lde: np.ndarray  # (N, w)
    tree: MerkleTree
    native: Any = None  # the LDE as a backend array (for constraint evaluation)
    evals: np.ndarray | None = None  # values on H (openings by barycentric evaluation)


def _commit_trace(
    trace: np.ndarray, domain: Domain, backend: Backend, hash: str = "keccak"
) -> _Committed:
    if isinstance(backend, NumpyBackend):  # LDE stored as u32 words, no coefficients kept
        lde = coset_lde(trace, domain.log_blowup, domain.shift, np.uint32)
        return _Committed(None, lde, MerkleTree.commit(lde, hash), lde, trace)
    trace = np.asarray(trace, dtype=np.uint64)
    native = backend.coset_lde(backend.asarray(trace), domain.log_blowup, domain.shift)
    lde = backend.to_numpy(native)
    coeffs = backend.to_numpy(backend.intt(backend.asarray(trace)))
    return _Committed(coeffs, lde, MerkleTree.commit(lde, hash), native)


class BackendOps:
    """:class:`~proofmarket.stark.expr.ArrayOps` over a compute backend's native arrays."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def add(self, a: Any, b: Any) -> Any:
        return self.backend.add(a, b)

    def sub(self, a: Any, b: Any) -> Any:
        return self.backend.sub(a, b)

    def mul(self, a: Any, b: Any) -> Any:
        return self.backend.mul(a, b)

    def neg(self, a: Any) -> Any:
        return self.backend.neg(a)

    def scalar(self, v: int) -> Any:
        return self.backend.asarray(np.asarray(v % F.P, dtype=np.uint64))


def _resolve_backend(backend: Backend | str | None) -> Backend:
    if backend is None:
        return NumpyBackend()
    if isinstance(backend, str):
        return get_backend(backend)
    return backend


def prove(
    air: Air,
    main_trace: Any,
    public_inputs: Sequence[int],
    params: StarkParams = DEFAULT,
    *,
    check: bool = True,
    backend: Backend | str | None = None,
    timings: ProverTimings | None = None,
) -> StarkProof:
    """Prove that ``main_trace`` satisfies ``air`` with ``public_inputs`` (one table).

    ``check=True`` checks the trace first and raises
    :class:`~proofmarket.stark.air.TraceCheckError`; with ``check=False`` a bad trace
    still yields a proof, which the verifier rejects (used by the soundness tests).
    ``backend`` (a :class:`~proofmarket.stark.backend.Backend` or its name, default NumPy)
    runs the low-degree extensions and the constraint evaluation; every backend gives
    bit-identical proofs.
    """
    main = np.asarray(main_trace)
    if main.ndim != 2 or main.shape[1] != air.main_width:
        raise ProverError(f"main trace must have shape (n, {air.main_width}), got {main.shape}")
    n = main.shape[0]
    if n < 2 or n & (n - 1):
        raise ProverError(f"trace height must be a power of two, got {n}")
    if n < 1 << air.min_log_rows():
        raise ProverError(f"trace height {n} outside [2^{air.min_log_rows()}, ...] for {air.name}")
    machine = single_table_machine(air, params)
    return prove_machine(
        machine, [main], [public_inputs], params, check=check, backend=backend, timings=timings
    )


@dataclass
class _TableState:
    table: Table
    trace: np.ndarray
    pub: list[int]
    domain: Domain
    pre: PreprocessedData | None
    main: _Committed | None = None
    aux: _Committed | None = None
    quot: _Committed | None = None
    sum: ExtValue = (0, 0, 0, 0)
    openings: Openings | None = None

    @property
    def air(self) -> Air:
        return self.table.air

    def committed(self) -> list[_Committed]:
        pre_c = _Committed(self.pre.coeffs, self.pre.lde, self.pre.tree) if self.pre else None
        return [c for c in (pre_c, self.main, self.aux) if c is not None]


def prove_machine(
    machine: Machine,
    traces: Sequence[Any],
    public_inputs: Sequence[Sequence[int]] | None,
    params: StarkParams = DEFAULT,
    *,
    check: bool = True,
    backend: Backend | str | None = None,
    timings: ProverTimings | None = None,
    statement_terms: Sequence[StatementTerms] = (),
) -> StarkProof:
    """Prove all tables of ``machine`` in one proof.

    ``traces[t]`` is table t's main trace (``None`` or fewer rows are padded to the
    smallest allowed height, see :class:`~proofmarket.stark.machine.Table`);
    ``public_inputs[t]`` its public inputs. ``check=True`` checks every table's
    constraints and the global bus balance (using the proof's own LogUp columns, so they
    are generated once) and raises :class:`~proofmarket.stark.air.TraceCheckError`.
    ``statement_terms``: tuples the statement adds to buses (see
    :mod:`proofmarket.stark.statement_bus`); the verifier must be given the same.
    """
    be = _resolve_backend(backend)
    try:
        pubs = machine.normalise_publics(public_inputs)
        padded = machine.pad_traces(traces)
    except (MachineError, F.FieldError) as exc:
        raise ProverError(str(exc)) from exc
    except ValueError as exc:  # AirError from public-input checks
        raise ProverError(str(exc)) from exc
    states: list[_TableState] = []
    for table, trace, pub in zip(machine.tables, padded, pubs, strict=True):
        air = table.air
        log_n = trace.shape[0].bit_length() - 1
        if not air.min_log_rows() <= log_n <= params.max_log_trace_len:
            raise ProverError(
                f"trace height 2^{log_n} outside [2^{air.min_log_rows()}, "
                f"2^{params.max_log_trace_len}] for {table.name} under params {params.name!r}"
            )
        if air.system.num_quotient_chunks > params.blowup:
            raise ProverError(
                f"{air.name}: constraints need {air.system.num_quotient_chunks} quotient "
                f"chunks but the blowup is only {params.blowup}"
            )
        domain = Domain(log_n, params.log_blowup)
        states.append(_TableState(table, trace, pub, domain, None))
    if check:
        _check_main_constraints(states)
    total_start = time.perf_counter()

    with _Timer(timings, "preprocessed"):
        for st in states:
            st.pre = preprocessed_data(
                st.air, st.domain, params.hash
            )  # cached per AIR, size, blowup
    with _Timer(timings, "commit"):
        t = begin_transcript(
            params,
            [
                (st.air.air_id, st.domain.log_n, st.pub, st.pre.root if st.pre else None)
                for st in states
            ],
        )
        if statement_terms:
            t.observe_digest(statement_digest(statement_terms))
        for st in states:
            st.main = _commit_trace(st.trace, st.domain, be, params.hash)
            t.observe_digest(st.main.tree.root)
        lookups = any(st.air.system.num_challenges for st in states)
        lookup_nonce = grind_site(t, params.lookup_pow_bits if lookups else 0)
        chals = [ext_tuple(t.sample_ext()) for _ in range(2)] if lookups else []
        for st in states:
            if not st.air.system.aux_width:
                continue
            aux = generate_aux_trace(
                st.air, st.trace, st.pre.trace if st.pre else None, st.pub, chals
            )
            assert aux is not None
            st.sum = claimed_sum(st.air, aux, st.pub, chals)
            if check:
                check_trace(
                    st.air,
                    st.trace,
                    st.pub,
                    [*chals, st.sum],
                    aux=aux,
                    preprocessed=st.pre.trace if st.pre else None,
                )
            st.aux = _commit_trace(aux, st.domain, be, params.hash)
            del aux
            t.observe_digest(st.aux.tree.root)
            t.observe_ext(np.asarray(st.sum, dtype=np.uint64).reshape(1, 4))
        sums = [st.sum for st in states]
        if statement_terms:
            sums.append(statement_sum(statement_terms, chals))
        if check and lookups and ext_sum(sums) != (0, 0, 0, 0):
            from proofmarket.stark.air import TraceCheckError

            raise TraceCheckError(
                GLOBAL_SUM_CONSTRAINT, -1, "the tables' LogUp sums plus public terms are not 0"
            )

    with _Timer(timings, "quotient"):
        alpha = ext_tuple(t.sample_ext())
        for st in states:
            st.quot = _table_quotient(st, [*chals, st.sum] if chals else [], alpha, be, params.hash)
            t.observe_digest(st.quot.tree.root)

    with _Timer(timings, "openings"):
        ood_nonce = grind_site(t, params.ood_pow_bits)
        z = sample_ood_point(t, [st.domain for st in states])
        for st in states:
            st.openings = _ood_openings(st, z)
            observe_openings(t, st.openings)
            for c in (st.main, st.aux, st.quot):  # only needed at z, z·g
                if c is not None:
                    c.coeffs = c.native = c.evals = None
        batch_nonce = grind_site(t, params.batch_pow_bits)
        lam = ext_tuple(t.sample_ext())
        by_size: dict[int, np.ndarray] = {}
        start = 0
        for st in states:
            deep, start = _deep_codeword(st, lam, start, z)
            key = st.domain.log_lde
            by_size[key] = deep if key not in by_size else F.add(by_size[key], deep)

    with _Timer(timings, "fri"):
        top = max(by_size)
        codeword = by_size.pop(top)
        fri_proof, queries = fri_prove(codeword, t, params, F.GENERATOR, by_size)

    with _Timer(timings, "queries"):
        tables = tuple(_table_proof(st, queries) for st in states)
        proof = StarkProof(
            params=params,
            tables=tables,
            fri=fri_proof,
            lookup_pow_nonce=lookup_nonce,
            ood_pow_nonce=ood_nonce,
            batch_pow_nonce=batch_nonce,
        )
    if timings is not None:
        timings.add("total", time.perf_counter() - total_start)
    return proof


def _check_main_constraints(states: Sequence[_TableState]) -> None:
    """Check tables without lookups up front (tables with lookups are checked on their
    real aux trace inside the proof, so it is generated only once)."""
    for st in states:
        if st.air.system.num_challenges:
            continue
        check_trace(st.air, st.trace, st.pub)


def _table_quotient(
    st: _TableState, challenges: list[ExtValue], alpha: ExtValue, be: Backend, hash: str
) -> _Committed:
    assert st.main is not None
    pre, aux_c, air, domain = st.pre, st.aux, st.air, st.domain
    if isinstance(be, NumpyBackend):
        q_evals = quotient_compiled(
            air,
            domain,
            st.main.lde,
            pre.lde if pre else None,
            aux_c.lde if aux_c else None,
            st.pub,
            challenges,
            alpha,
        )
    else:
        q_evals = quotient_on_lde(
            air,
            domain,
            st.main.native,
            _native_pre(pre, be),
            aux_c.native if aux_c else None,
            st.pub,
            challenges,
            alpha,
            BackendOps(be),
            be,
            block_rows=NATIVE_BLOCK_ROWS,
        )
    return _split_quotient(q_evals, domain, air.system.num_quotient_chunks, hash)


def _ood_openings(st: _TableState, z: ExtValue) -> Openings:
    """Every committed column at z; all but the quotient chunks also at z·g."""
    zg = times_g(z, st.domain)
    empty = np.zeros((0, 4), dtype=np.uint64)

    def at(c: Any, point: Sequence[int]) -> np.ndarray:
        if c is None or c.coeffs.shape[1] == 0:
            return empty
        return evaluate_at(c.coeffs, np.asarray(point, dtype=np.uint64))

    def pair(c: _Committed | None) -> tuple[np.ndarray, np.ndarray]:
        if c is None:
            return empty, empty
        if c.evals is not None:
            return evaluate_on_h_pair(c.evals, z, st.domain.log_n)
        return at(c, z), at(c, zg)

    assert st.quot is not None
    main_z, main_zg = pair(st.main)
    aux_z, aux_zg = pair(st.aux)
    return Openings(
        main_z=main_z,
        main_zg=main_zg,
        pre_z=at(st.pre, z),
        pre_zg=at(st.pre, zg),
        aux_z=aux_z,
        aux_zg=aux_zg,
        quotient_z=at(st.quot, z),
    )


def _deep_codeword(
    st: _TableState, lam: ExtValue, start: int, z: ExtValue
) -> tuple[np.ndarray, int]:
    """The table's DEEP composition over its LDE coset, shape (N, 4) (see the verifier),
    and the λ-power where the next table starts."""
    assert st.quot is not None and st.openings is not None
    domain, quot = st.domain, st.quot
    committed = st.committed()
    widths_zg = sum(c.lde.shape[1] for c in committed)
    widths_z = widths_zg + quot.lde.shape[1]
    coeffs, nxt = deep_coefficients(lam, widths_z, widths_zg, start)
    # Σ λ^i f_i over the columns opened at both points, then the quotient columns;
    # the z·g coefficients are λ^(M+i) = λ^M·λ^i, so that half is one ext product.
    both = np.zeros((domain.lde_size, 4), dtype=np.uint64)
    offset = 0
    for c in committed:
        w = c.lde.shape[1]
        both = F.add(both, lincomb_rows(c.lde, coeffs[offset : offset + w, :4]))
        offset += w
    quot_part = lincomb_rows(quot.lde, coeffs[offset:, :4])
    lam_m = np.asarray(ext_powers_ints(lam, widths_z + 1)[widths_z], dtype=np.uint64)
    comb = np.concatenate([F.add(both, quot_part), F.ext_mul(both, lam_m)], axis=1)
    del both, quot_part
    v_z, v_zg = deep_opened_sums(st.openings, coeffs)
    return deep_values(comb, None, v_z, v_zg, domain.lde_points, z, times_g(z, domain)), nxt


def _table_proof(st: _TableState, queries: Sequence[int]) -> TableProof:
    assert st.main is not None and st.quot is not None and st.openings is not None
    size = st.domain.lde_size
    distinct = sorted({q % size for q in queries})
    pre_c = _Committed(st.pre.coeffs, st.pre.lde, st.pre.tree) if st.pre else None

    def opening(c: _Committed | None) -> TreeOpening | None:
        if c is None:
            return None
        rows = np.asarray(c.lde[distinct], dtype=np.uint64)
        return TreeOpening(rows, c.tree.open_batch(distinct))

    main_open, quot_open = opening(st.main), opening(st.quot)
    assert main_open is not None and quot_open is not None
    air = st.air
    return TableProof(
        air_id=air.air_id,
        log_n=st.domain.log_n,
        main_width=air.main_width,
        pre_width=air.preprocessed_width,
        aux_width=st.aux.lde.shape[1] if st.aux else 0,
        quotient_width=st.quot.lde.shape[1],
        main_root=st.main.tree.root,
        aux_root=st.aux.tree.root if st.aux else b"",
        quotient_root=st.quot.tree.root,
        claimed_sum=np.asarray(st.sum, dtype=np.uint64),
        openings=st.openings,
        num_queries_distinct=len(distinct),
        pre_opening=opening(pre_c),
        main_opening=main_open,
        aux_opening=opening(st.aux),
        quotient_opening=quot_open,
    )


# ---------------------------------------------------------------------------------------
# quotient
# ---------------------------------------------------------------------------------------


def quotient_on_lde(
    air: Air,
    domain: Domain,
    main_lde: np.ndarray,
    pre_lde: np.ndarray | None,
    aux_lde: np.ndarray | None,
    public_inputs: Sequence[int],
    challenges: Sequence[ExtValue],
    alpha: ExtValue,
    ops: ArrayOps = NUMPY_OPS,
    backend: Backend | None = None,
    block_rows: int = EVAL_BLOCK_ROWS,
) -> np.ndarray:
    """``Q(x) = Σ_groups factor_g(x)·Σ_{i∈g} α^i·C_i(x)`` on every LDE point, shape (N, 4).

    The matrices are backend-native arrays (NumPy arrays by default); the result is NumPy.
    """
    be = backend if backend is not None else NumpyBackend()
    native = not isinstance(be, NumpyBackend)
    system = air.system
    big_n, b = domain.lde_size, domain.blowup
    groups = constraint_groups(system, domain.n)
    group_of = [0] * len(system.constraints)
    for gi, (_, members) in enumerate(groups):
        for i in members:
            group_of[i] = gi
    factors = [domain.vanishing_factor(key) for key, _ in groups]
    if native:
        factors = [be.asarray(f) for f in factors]
    alpha_pows = ext_powers_ints(alpha, len(system.constraints))
    alg = Algebra(ops)
    out = np.empty((big_n, 4), dtype=np.uint64)
    cache: dict[int, Value] = {}
    pub = [int(v) for v in public_inputs]
    blk = min(block_rows, big_n)
    mats: dict[Group, np.ndarray | None] = {
        Group.MAIN: main_lde,
        Group.PREPROCESSED: pre_lde,
        Group.AUX: aux_lde,
    }
    for start in range(0, big_n, blk):
        stop = start + blk
        frame = _LdeBlock(mats, start, stop, b, big_n, pub, challenges)
        sink = _GroupSink(alg, group_of, alpha_pows, len(groups), not native)
        system.program.evaluate(alg, frame.leaf, sink, cache)
        accs = sink.finish()
        total: Value = (0, 0, 0, 0)
        for g, acc in enumerate(accs):
            total = alg.add(total, alg.mul(factors[g][start:stop], acc))
        comps = alg.to_ext(total)
        for k in range(4):
            c = comps[k]
            out[start:stop, k] = c if isinstance(c, int) or not native else be.to_numpy(c)
    return out


def quotient_compiled(
    air: Air,
    domain: Domain,
    main_lde: np.ndarray,
    pre_lde: np.ndarray | None,
    aux_lde: np.ndarray | None,
    public_inputs: Sequence[int],
    challenges: Sequence[ExtValue],
    alpha: ExtValue,
) -> np.ndarray:
    """Same result as :func:`quotient_on_lde`, via the lowered instruction program.

    The DAG, the α-combination and the vanishing factors are recorded as base-field
    instructions (:mod:`proofmarket.stark.constraint_vm`) and run by the compiled
    interpreter over all LDE rows (NumPy arrays only).
    """
    system = air.system
    b = domain.blowup
    groups = constraint_groups(system, domain.n)
    group_of = [0] * len(system.constraints)
    for gi, (_, members) in enumerate(groups):
        for i in members:
            group_of[i] = gi
    alpha_pows = ext_powers_ints(alpha, len(system.constraints))
    rec = Recorder()
    alg = Algebra(rec)
    loads: dict[tuple[int, int, int], Reg] = {}
    pub = [int(v) for v in public_inputs]
    mat_id = {Group.MAIN: 0, Group.PREPROCESSED: 1, Group.AUX: 2}

    def load(mat: int, col: int, offset: int) -> Reg:
        key = (mat, col, offset)
        if key not in loads:
            loads[key] = rec.load(mat, col, offset)
        return loads[key]

    def leaf(node: Expr) -> Value:
        if node.op == "col":
            group, j, nxt = node.data
            off = b if nxt else 0
            if group is Group.AUX:
                return tuple(load(2, 4 * j + k, off) for k in range(4))
            return load(mat_id[group], j, off)
        if node.op == "pub":
            return pub[node.data]
        return challenges[node.data]

    sink = _GroupSink(alg, group_of, alpha_pows, len(groups), False)
    system.program.evaluate(alg, leaf, sink, {})
    total: Value = (0, 0, 0, 0)
    for g, acc in enumerate(sink.finish()):
        total = alg.add(total, alg.mul(load(3, g, 0), acc))
    for k, comp in enumerate(alg.to_ext(total)):
        rec.store(rec.scalar(comp) if isinstance(comp, int) else comp, k)
    program = allocate(rec)
    factors = np.stack([domain.vanishing_factor(key) for key, _ in groups], axis=1)
    return run_vm(program, [main_lde, pre_lde, aux_lde, factors], domain.lde_size, 4)


class _LdeBlock:
    """Leaf values for LDE rows [start, stop): transposed column blocks, next = +blowup."""

    def __init__(
        self,
        mats: dict[Group, Any],
        start: int,
        stop: int,
        step: int,
        size: int,
        pub: list[int],
        challenges: Sequence[ExtValue],
    ) -> None:
        self.mats, self.start, self.stop, self.step, self.size = mats, start, stop, step, size
        self.pub, self.challenges = pub, challenges
        self.columns: dict[tuple[Group, bool], Any] = {}

    def block_of(self, group: Group, nxt: bool) -> Any:
        key = (group, nxt)
        if key not in self.columns:
            mat = self.mats[group]
            assert mat is not None
            lo, hi = self.start, self.stop
            if not nxt:
                rows = mat[lo:hi]
            elif hi + self.step <= self.size:
                rows = mat[lo + self.step : hi + self.step]
            else:
                rows = _concat_rows(mat[lo + self.step :], mat[: hi + self.step - self.size])
            self.columns[key] = _transposed(rows)
        return self.columns[key]

    def leaf(self, node: Expr) -> Value:
        if node.op == "col":
            group, j, nxt = node.data
            cols = self.block_of(group, nxt)
            if group is Group.AUX:
                return (cols[4 * j], cols[4 * j + 1], cols[4 * j + 2], cols[4 * j + 3])
            return cols[j]
        if node.op == "pub":
            return self.pub[node.data]
        return self.challenges[node.data]


class _GroupSink:
    """Accumulates α^i·C_i into one sum per vanishing-factor group.

    With NumPy, base-field constraint values are stashed and combined per group by one
    compiled linear-combination kernel instead of 8 elementwise operations each.
    """

    def __init__(
        self,
        alg: Algebra,
        group_of: list[int],
        alpha_pows: list[ExtValue],
        groups: int,
        stash_base: bool,
    ) -> None:
        self.alg, self.group_of, self.alpha_pows = alg, group_of, alpha_pows
        self.accs: list[Value] = [0] * groups
        self.stash: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(groups)]
        self.stash_base = stash_base

    def __call__(self, r: int, v: Value) -> None:
        g = self.group_of[r]
        if self.stash_base and isinstance(v, np.ndarray):
            self.stash[g].append((r, v))
            return
        self.accs[g] = self.alg.add(self.accs[g], self.alg.mul(self.alpha_pows[r], v))

    def finish(self) -> list[Value]:
        for g, items in enumerate(self.stash):
            if not items:
                continue
            mat = np.stack([v for _, v in items])
            coeffs = np.array([self.alpha_pows[r] for r, _ in items], dtype=np.uint64)
            comb = lincomb_cols(mat, coeffs)
            part: Value = (comb[0], comb[1], comb[2], comb[3])
            self.accs[g] = self.alg.add(self.accs[g], part)
            items.clear()
        return self.accs


def _concat_rows(a: Any, b: Any) -> Any:
    if isinstance(a, np.ndarray):
        return np.concatenate([a, b], axis=0)
    import torch  # only non-NumPy backend today

    return torch.cat([a, b], dim=0)


def _transposed(rows: Any) -> Any:
    if isinstance(rows, np.ndarray):
        return np.ascontiguousarray(rows.T)
    return rows.T.contiguous()


def _native_pre(pre: Any, backend: Backend) -> Any:
    if pre is None:
        return None
    if isinstance(backend, NumpyBackend):
        return pre.lde
    return backend.asarray(np.asarray(pre.lde, dtype=np.uint64))


def _split_quotient(
    q_evals: np.ndarray, domain: Domain, chunks: int, hash: str = "keccak"
) -> _Committed:
    """Interpolate Q on the coset and cut it into ``chunks`` polynomials of degree < n.

    ``Q(X) = Σ_j X^(j·n)·Q_j(X)``; each extension chunk is committed as 4 base columns.
    Coefficients above ``chunks·n`` are dropped: they are zero for a valid trace, and for
    an invalid one the out-of-domain check fails.
    """
    n = domain.n
    coeffs = coset_intt(q_evals, domain.shift)  # (N, 4)
    # chunk j is coefficients [j·n, (j+1)·n) of Q, stored as base columns 4j … 4j+3
    chunk_coeffs = np.ascontiguousarray(
        coeffs[: chunks * n].reshape(chunks, n, 4).transpose(1, 0, 2).reshape(n, 4 * chunks)
    )
    del coeffs
    lde = coset_lde_from_coeffs(chunk_coeffs, domain.log_blowup, domain.shift, np.uint32)
    return _Committed(chunk_coeffs, lde, MerkleTree.commit(lde, hash))


def quotient_degree_ok(q_evals: np.ndarray, domain: Domain, chunks: int) -> bool:
    """Debug helper: True when Q has no coefficients at or above ``chunks·n``."""
    coeffs = coset_intt(q_evals, domain.shift)
    return not coeffs[chunks * domain.n :].any()


__all__ = [
    "ProverError",
    "ProverTimings",
    "prove",
    "prove_machine",
    "quotient_on_lde",
]
