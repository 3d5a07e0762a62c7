"""Multi-table statements ("machines"): several AIRs of different heights, one proof.

A :class:`Machine` is an ordered list of :class:`Table`\\ s. Each table has its own AIR
(widths, constraints, preprocessed columns, public inputs) and the set of trace heights
the statement allows; tables talk to each other only through LogUp buses, whose global
sum over all tables plus the public bus terms must be zero::

    machine = Machine([
        Table(cpu_air, heights=range(10, 21)),       # 2^10 … 2^20 rows
        Table(u16_air, heights=16),                  # a fixed 2^16-row range table
        Table(memory_air, heights=range(4, 21), name="memory"),
    ])
    proof = prove_machine(machine, [cpu_trace, None, mem_trace], [cpu_pub, [], []], params)
    log_heights = verify_machine(machine, proof, [cpu_pub, [], []], params)

A trace shorter than the table's smallest allowed height (``None`` or zero rows for a
table that is not used) is padded with the AIR's :meth:`~proofmarket.stark.air.Air.
padding_rows`, all-zero by default: write AIRs so that a zero row satisfies every
constraint and contributes multiplicity 0 to every bus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from Crypto.Hash import keccak

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirError, TraceCheckError
from proofmarket.stark.aux_trace import claimed_sum, generate_aux_trace
from proofmarket.stark.expr import ExtValue
from proofmarket.stark.params import StarkParams
from proofmarket.stark.statement_bus import StatementTerms, statement_sum
from proofmarket.stark.trace_check import check_challenges, check_trace

MAX_TABLES = 256
"""Upper bound on the tables of one proof (the proof format rejects more)."""


class MachineError(ValueError):
    """An ill-formed machine or statement (unknown table, disallowed height, bad trace)."""


@dataclass(frozen=True, init=False)
class Table:
    """One AIR of a machine and the log2 trace heights its statement allows."""

    air: Air
    log_heights: tuple[int, ...]
    name: str

    def __init__(
        self, air: Air, heights: int | Iterable[int] | None = None, name: str | None = None
    ) -> None:
        if heights is None:
            allowed = tuple(range(air.min_log_rows(), 31))
        elif isinstance(heights, int):
            allowed = (heights,)
        else:
            allowed = tuple(sorted(set(int(h) for h in heights)))
        if not allowed:
            raise MachineError(f"table {name or air.name!r}: no allowed height")
        if allowed[0] < air.min_log_rows() or allowed[-1] > 30:
            raise MachineError(
                f"table {name or air.name!r}: heights 2^{allowed[0]}..2^{allowed[-1]} outside "
                f"[2^{air.min_log_rows()}, 2^30]"
            )
        object.__setattr__(self, "air", air)
        object.__setattr__(self, "log_heights", allowed)
        object.__setattr__(self, "name", name or air.name)

    def allows(self, log_n: int) -> bool:
        return log_n in self.log_heights

    def height_for(self, rows: int) -> int:
        """The smallest allowed log2 height holding ``rows`` rows."""
        for h in self.log_heights:
            if (1 << h) >= rows:
                return h
        raise MachineError(
            f"table {self.name!r}: {rows} rows outside the allowed heights "
            f"(largest 2^{self.log_heights[-1]})"
        )

    def pad(self, trace: Any) -> np.ndarray:
        """The trace padded to the smallest allowed height (``None`` = no rows used)."""
        air = self.air
        if trace is None:
            trace = np.zeros((0, air.main_width), dtype=np.uint64)
        arr = np.asarray(trace)
        if arr.ndim != 2 or arr.shape[1] != air.main_width:
            raise MachineError(
                f"table {self.name!r}: trace must have shape (n, {air.main_width}), got {arr.shape}"
            )
        arr = F.canonical_words(arr, f"table {self.name!r} trace")
        rows = arr.shape[0]
        n = 1 << self.height_for(rows)
        if rows == n:
            return arr
        pad = np.asarray(air.padding_rows(n - rows, arr), dtype=np.uint64)
        if pad.shape != (n - rows, air.main_width):
            raise MachineError(f"table {self.name!r}: padding_rows returned shape {pad.shape}")
        return np.concatenate([arr, pad.astype(arr.dtype)], axis=0)


class Machine:
    """An ordered list of tables proven together (order is part of the statement)."""

    def __init__(self, tables: Sequence[Table | Air], name: str = "machine") -> None:
        items = [t if isinstance(t, Table) else Table(t) for t in tables]
        if not 1 <= len(items) <= MAX_TABLES:
            raise MachineError(f"a machine needs 1..{MAX_TABLES} tables, got {len(items)}")
        names = [t.name for t in items]
        if len(set(names)) != len(names):
            raise MachineError(f"table names must be unique, got {names}")
        self.tables: tuple[Table, ...] = tuple(items)
        self.name = name

    def __len__(self) -> int:
        return len(self.tables)

    def index(self, name: str) -> int:
        for i, t in enumerate(self.tables):
            if t.name == name:
                return i
        raise MachineError(f"no table named {name!r} in machine {self.name!r}")

    @cached_property
    def machine_id(self) -> bytes:
        """keccak256 over the tables' AIR ids and allowed heights (for caches and logs)."""
        h = keccak.new(digest_bits=256)
        h.update(b"proofmarket.stark.machine.v1")
        for t in self.tables:
            h.update(t.air.air_id + bytes([len(t.log_heights)]) + bytes(t.log_heights))
        return h.digest()

    def normalise_publics(self, public_inputs: Sequence[Sequence[int]] | None) -> list[list[int]]:
        """One validated public-input list per table (``None`` = none anywhere)."""
        if public_inputs is None:
            public_inputs = [[] for _ in self.tables]
        if len(public_inputs) != len(self.tables):
            raise MachineError(
                f"expected public inputs for {len(self.tables)} tables, got {len(public_inputs)}"
            )
        return [
            t.air.check_public_inputs(p) for t, p in zip(self.tables, public_inputs, strict=True)
        ]

    def pad_traces(self, traces: Sequence[Any]) -> list[np.ndarray]:
        if len(traces) != len(self.tables):
            raise MachineError(f"expected {len(self.tables)} traces, got {len(traces)}")
        return [t.pad(tr) for t, tr in zip(self.tables, traces, strict=True)]


def single_table_machine(air: Air, params: StarkParams) -> Machine:
    """The one-table machine behind :func:`prove` and :func:`verify`."""
    lo, hi = air.min_log_rows(), params.max_log_trace_len
    return Machine([Table(air, range(lo, max(lo, hi) + 1))], name=air.name)


GLOBAL_SUM_CONSTRAINT = "logup: global sum (buses must balance across tables)"


def check_machine(
    machine: Machine,
    traces: Sequence[Any],
    public_inputs: Sequence[Sequence[int]] | None = None,
    statement_terms: Sequence[StatementTerms] = (),
) -> list[np.ndarray]:
    """Check every table's constraints and the global bus balance; return padded traces.

    Raises :class:`~proofmarket.stark.air.TraceCheckError` naming the table, the
    constraint and the row (row −1 for the global LogUp sum).
    """
    pubs = machine.normalise_publics(public_inputs)
    padded = machine.pad_traces(traces)
    chals: list[ExtValue] | None = None
    total: tuple[int, ...] = (0, 0, 0, 0)
    for table, trace, pub in zip(machine.tables, padded, pubs, strict=True):
        air = table.air
        log_n = trace.shape[0].bit_length() - 1
        pre = air.preprocessed_trace(log_n) if air.preprocessed_width else None
        aux = None
        table_chals: list[Any] = []
        if air.system.num_challenges:
            if chals is None:
                chals = [(c[0], c[1], c[2], c[3]) for c in check_challenges(air)]
            aux = generate_aux_trace(air, trace, pre, pub, chals)
            assert aux is not None
            s = claimed_sum(air, aux, pub, chals)
            total = tuple((a + b) % F.P for a, b in zip(total, s, strict=True))
            table_chals = [*chals, s]
        try:
            check_trace(air, trace, pub, table_chals or None, aux=aux, preprocessed=pre)
        except TraceCheckError as exc:
            raise TraceCheckError(f"{table.name}: {exc.constraint}", exc.row, str(exc)) from exc
        except AirError as exc:
            raise MachineError(f"table {table.name!r}: {exc}") from exc
    if statement_terms:
        if chals is None:
            raise MachineError("statement bus terms need a machine with lookups")
        s = statement_sum(statement_terms, chals)
        total = tuple((a + b) % F.P for a, b in zip(total, s, strict=True))
    if total != (0, 0, 0, 0):
        raise TraceCheckError(
            GLOBAL_SUM_CONSTRAINT, -1, "the tables' LogUp sums plus public terms are not 0"
        )
    return padded
