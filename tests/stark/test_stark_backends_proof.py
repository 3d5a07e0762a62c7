"""NumPy and PyTorch backends produce byte-identical proofs."""

import pytest

from proofmarket.stark.examples import (
    BenchAir,
    HashChainAir,
    RangeCheckAir,
    bench_trace,
    hash_chain_trace,
    range_check_trace,
)
from proofmarket.stark.params import TEST
from proofmarket.stark.prover import prove
from proofmarket.stark.verifier import verify

pytest.importorskip("torch")


@pytest.mark.parametrize(
    "air,trace,pub",
    [
        (HashChainAir(3), *hash_chain_trace([1, 2, 3], 6)),
        (RangeCheckAir(1), *range_check_trace([7, 65535, 123], [123], 8)),
        (BenchAir(8), *bench_trace(8, 8)),
    ],
    ids=["hash-chain", "range-check", "bench"],
)
def test_numpy_and_torch_cpu_give_the_same_proof(air, trace, pub):
    from proofmarket.stark.backend import get_backend

    reference = prove(air, trace, pub, TEST).to_bytes()
    torch_bytes = prove(air, trace, pub, TEST, backend=get_backend("torch:cpu")).to_bytes()
    assert torch_bytes == reference
    verify(air, torch_bytes, pub, TEST)


def test_multi_table_proofs_match_across_backends():
    from proofmarket.stark.examples import example_machine, example_traces
    from proofmarket.stark.prover import prove_machine

    machine = example_machine()
    traces, pubs = example_traces([(3, 5), (7, 11), (250, 2)], mul_rows=8)
    reference = prove_machine(machine, traces, pubs, TEST).to_bytes()
    assert prove_machine(machine, traces, pubs, TEST, backend="torch:cpu").to_bytes() == reference
