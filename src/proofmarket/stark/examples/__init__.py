"""Example AIRs: Fibonacci, a toy hash chain, 16-bit range checks, LogUp memory checking
and the benchmark AIR."""

from proofmarket.stark.examples.bench import BenchAir, bench_air, bench_trace
from proofmarket.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from proofmarket.stark.examples.hash_chain import HashChainAir, hash_chain_trace
from proofmarket.stark.examples.memory import MemoryAir, memory_trace
from proofmarket.stark.examples.multi import (
    MulChipAir,
    ProgramAir,
    RangeTableAir,
    example_machine,
    example_traces,
)
from proofmarket.stark.examples.range_check import RangeCheckAir, range_check_trace

__all__ = [
    "BenchAir",
    "FibonacciAir",
    "HashChainAir",
    "MemoryAir",
    "MulChipAir",
    "ProgramAir",
    "RangeCheckAir",
    "RangeTableAir",
    "bench_air",
    "bench_trace",
    "example_machine",
    "example_traces",
    "fibonacci_trace",
    "hash_chain_trace",
    "memory_trace",
    "range_check_trace",
]
