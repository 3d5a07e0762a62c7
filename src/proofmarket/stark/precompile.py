"""Compile (or load from numba's disk cache) every kernel of the STARK engine.

Every numba kernel in :mod:`proofmarket.stark` is declared with ``cache=True``, so the
machine code is written to numba's cache the first time it is compiled. :func:`warmup`
runs one small multi-table proof and verification per Merkle hash, sized so that the
parallel variants of the field kernels (chosen above 2^14 elements) are reached too;
``proofmarket tools precompile`` (run by setup) calls it, so the first real proof after
setup loads compiled code instead of compiling.
"""

from __future__ import annotations

import time

import numpy as np

WARMUP_LOG_ROWS = 12
"""Rows of the warm-up tables (2^12 rows → 2^14 LDE points with blowup 4)."""


def warmup() -> dict[str, float]:
    """Prove and verify a small machine with each hash; seconds per hash."""
    from proofmarket.stark.examples import BenchAir, bench_trace, example_machine, example_traces
    from proofmarket.stark.machine import Machine, Table
    from proofmarket.stark.params import HASHES, TEST
    from proofmarket.stark.poseidon2_kernel import permute_many
    from proofmarket.stark.prover import prove_machine
    from proofmarket.stark.verifier import verify_machine

    bench = BenchAir(8)
    bench_rows, bench_pub = bench_trace(8, WARMUP_LOG_ROWS)
    base = example_machine()
    machine = Machine([*base.tables, Table(bench, WARMUP_LOG_ROWS, name="bench")])
    rng = np.random.default_rng(0)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, 256, size=(64, 2))]
    traces, pubs = example_traces(pairs)
    traces.append(bench_rows)
    pubs.append(bench_pub)
    took: dict[str, float] = {}
    start = time.perf_counter()
    for width in (16, 24):  # the batch permutation kernel (trace generation of hashing AIRs)
        permute_many(np.zeros((2, width), dtype=np.uint64))
    took["poseidon2 permutations"] = round(time.perf_counter() - start, 3)
    for hash_name in HASHES:
        start = time.perf_counter()
        params = TEST.with_(hash=hash_name, max_log_trace_len=WARMUP_LOG_ROWS)
        proof = prove_machine(machine, traces, pubs, params)
        verify_machine(machine, proof.to_bytes(), pubs, params)
        took[hash_name] = round(time.perf_counter() - start, 3)
    return took
