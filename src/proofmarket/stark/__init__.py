"""proofmarket.stark: a STARK proving engine over BabyBear.

Primitives exported here: the field (BabyBear + quartic extension x^4 + 11), NTT / coset
LDE, keccak Merkle commitments, the Fiat–Shamir transcript, FRI, security parameters and
compute backends. See docs/stark-primitives.md.

The forward transform is ``proofmarket.stark.ntt.ntt`` (not re-exported here, so that
``proofmarket.stark.ntt`` stays the submodule).
"""

from __future__ import annotations

import os as _os
from typing import TYPE_CHECKING, Any

# Numba's "omp" threading layer (libgomp) keeps idle workers spinning between parallel
# regions by default. On a shared 2-core machine those spinning threads take the CPU from
# the threads doing the work: a 2^18-row segment proof took 37.1 s with spinning and
# 32.2 s with passive waiting at load average 5, and a po2 14 segment witness (many
# small parallel kernels) 1.8 s against 0.1 s. Passive waiting costs a futex wake-up per region.
# libgomp reads this when numba first loads it, i.e. at the first parallel kernel, which
# runs after this import; an explicit setting in the environment wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .air import (
    Air,
    AirBuilder,
    AirError,
    Constraint,
    ConstraintSystem,
    TraceCheckError,
    check_trace,
)
from .backend import Backend, BackendError, NumpyBackend, get_backend
from .field import (
    EXT_DEGREE,
    GENERATOR,
    TWO_ADICITY,
    FieldError,
    P,
    add,
    batch_inv,
    ext_add,
    ext_batch_inv,
    ext_from_base,
    ext_from_bytes,
    ext_inv,
    ext_mul,
    ext_mul_base,
    ext_neg,
    ext_one,
    ext_pow,
    ext_powers,
    ext_sub,
    ext_to_bytes,
    ext_zero,
    from_bytes,
    inv,
    mul,
    neg,
    pow_,
    sub,
    to_bytes,
    two_adic_generator,
)
from .fri import FriError, FriLayerOpening, FriProof, fri_commit_phase, fri_prove, fri_verify
from .keccak import keccak256, keccak256_rows
from .logup import LogUpError
from .machine import Machine, MachineError, Table, check_machine
from .merkle import MerkleBatchProof, MerkleError, MerkleTree, verify_batch
from .ntt import (
    NttError,
    coset_intt,
    coset_lde,
    coset_lde_and_coeffs,
    coset_ntt,
    coset_points,
    domain_points,
    evaluate_at,
    intt,
    vanishing_at,
    vanishing_on_coset,
)
from .params import CONSERVATIVE, DEFAULT, PROFILES, TEST, ParamsError, StarkParams, get_profile
from .precompile import warmup
from .proof import FORMAT_VERSION, ProofFormatError, StarkProof
from .prover import ProverError, ProverTimings, prove, prove_machine
from .transcript import Transcript, TranscriptError
from .verifier import VerificationError, preprocessed_root, verify, verify_machine

if TYPE_CHECKING:
    from .backend.torch_backend import TorchBackend


def __getattr__(name: str) -> Any:
    # optional backends are imported lazily: ``import proofmarket.stark`` never loads torch
    if name == "TorchBackend":
        from .backend.torch_backend import TorchBackend

        return TorchBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONSERVATIVE",
    "DEFAULT",
    "EXT_DEGREE",
    "FORMAT_VERSION",
    "GENERATOR",
    "PROFILES",
    "TEST",
    "TWO_ADICITY",
    "Air",
    "AirBuilder",
    "AirError",
    "Backend",
    "BackendError",
    "Constraint",
    "ConstraintSystem",
    "FieldError",
    "FriError",
    "FriLayerOpening",
    "FriProof",
    "LogUpError",
    "Machine",
    "MachineError",
    "MerkleBatchProof",
    "MerkleError",
    "MerkleTree",
    "NttError",
    "NumpyBackend",
    "P",
    "ParamsError",
    "ProofFormatError",
    "ProverError",
    "ProverTimings",
    "StarkParams",
    "StarkProof",
    "Table",
    "TorchBackend",
    "TraceCheckError",
    "Transcript",
    "TranscriptError",
    "VerificationError",
    "add",
    "batch_inv",
    "check_machine",
    "check_trace",
    "coset_intt",
    "coset_lde",
    "coset_lde_and_coeffs",
    "coset_ntt",
    "coset_points",
    "domain_points",
    "evaluate_at",
    "ext_add",
    "ext_batch_inv",
    "ext_from_base",
    "ext_from_bytes",
    "ext_inv",
    "ext_mul",
    "ext_mul_base",
    "ext_neg",
    "ext_one",
    "ext_pow",
    "ext_powers",
    "ext_sub",
    "ext_to_bytes",
    "ext_zero",
    "fri_commit_phase",
    "fri_prove",
    "fri_verify",
    "from_bytes",
    "get_backend",
    "get_profile",
    "intt",
    "inv",
    "keccak256",
    "keccak256_rows",
    "mul",
    "neg",
    "pow_",
    "preprocessed_root",
    "prove",
    "prove_machine",
    "sub",
    "to_bytes",
    "two_adic_generator",
    "vanishing_at",
    "vanishing_on_coset",
    "verify",
    "verify_batch",
    "verify_machine",
    "warmup",
]
