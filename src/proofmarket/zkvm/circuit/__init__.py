"""The RV32IM segment circuit: tables on the multi-table STARK engine (docs/zkvm-circuit.md)."""
