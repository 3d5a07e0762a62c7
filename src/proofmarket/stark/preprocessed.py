"""Preprocessed (fixed) columns: committed once per AIR, table contents, size and blowup.

Byte tables, range tables and instruction ROMs are tables of their own height whose
commitment depends only on the AIR; prover and verifier share this cache, and a verifier
can instead be handed a trusted root (:func:`preprocessed_root`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirError
from proofmarket.stark.domain import Domain
from proofmarket.stark.merkle import MerkleTree
from proofmarket.stark.ntt import coset_lde_and_coeffs
from proofmarket.stark.params import DEFAULT, StarkParams


@dataclass
class PreprocessedData:
    """The committed fixed columns of one AIR at one trace size."""

    trace: np.ndarray  # (n, Wp)
    coeffs: np.ndarray  # (n, Wp)
    lde: np.ndarray  # (N, Wp)
    tree: MerkleTree

    @property
    def root(self) -> bytes:
        return self.tree.root


_PRE_CACHE: OrderedDict[tuple[bytes, int, int, int, bytes, str], PreprocessedData] = OrderedDict()
_PRE_LOCK = Lock()
_PRE_CACHE_SIZE = 8


def preprocessed_data(air: Air, domain: Domain, hash: str = "keccak") -> PreprocessedData | None:
    """Commit the AIR's fixed columns once per (AIR, columns, size, blowup, hash); cache it.

    The cache key includes a digest of the fixed columns themselves, so two AIR objects
    with the same id but different tables never share a commitment.
    """
    if air.preprocessed_width == 0:
        return None
    trace = air.preprocessed_trace(domain.log_n)
    if trace is None:
        raise AirError(f"{air.name}: preprocessed_trace() returned None")
    trace = F.check_canonical(np.asarray(trace), f"{air.name} preprocessed trace")
    if trace.shape != (domain.n, air.preprocessed_width):
        raise AirError(
            f"{air.name}: preprocessed trace has shape {trace.shape}, "
            f"expected ({domain.n}, {air.preprocessed_width})"
        )
    digest = hashlib.sha256(np.ascontiguousarray(trace).tobytes()).digest()
    key = (air.air_id, domain.log_n, domain.log_blowup, domain.shift, digest, hash)
    with _PRE_LOCK:
        hit = _PRE_CACHE.get(key)
        if hit is not None:
            _PRE_CACHE.move_to_end(key)
            return hit
    lde, coeffs = coset_lde_and_coeffs(trace, domain.log_blowup, domain.shift, np.uint32)
    data = PreprocessedData(trace, coeffs, lde, MerkleTree.commit(lde, hash))
    with _PRE_LOCK:
        _PRE_CACHE[key] = data
        while len(_PRE_CACHE) > _PRE_CACHE_SIZE:
            _PRE_CACHE.popitem(last=False)
    return data


def clear_preprocessed_cache() -> None:
    """Forget cached preprocessed commitments (benchmarks measure a cold verifier)."""
    with _PRE_LOCK:
        _PRE_CACHE.clear()


def preprocessed_root(air: Air, log_n: int, params: StarkParams = DEFAULT) -> bytes | None:
    """The commitment to the AIR's fixed columns at 2^log_n rows (None without any).

    A verifier can compute it once per AIR and size (like a circuit's control root) and
    pass it to the verifier to skip the low-degree extension of the fixed columns.
    """
    data = preprocessed_data(air, Domain(log_n, params.log_blowup), params.hash)
    return data.root if data else None
