"""The STARK proof object and its versioned binary encoding.

Layout (all integers little-endian, field elements as u32 words, extension elements as 4
words)::

    magic      8 bytes  b"PMSTARK\\x00"
    version    u16      FORMAT_VERSION
    params     StarkParams.to_bytes() (length-prefixed u32)
    log_n      u8       log2 of the trace height
    air_id     32 bytes keccak id of the AIR (name, widths, constraint DAG)
    widths     4 × u32  main, preprocessed, aux (base columns), quotient (base columns)
    roots      32 bytes each: main, aux (only if aux width > 0), quotient
    openings   ext elements: main@z, main@zg, pre@z, pre@zg, aux@z, aux@zg, quotient@z
    queries    u32      number k of distinct queried LDE rows
    per tree   (pre if any, main, aux if any, quotient):
               k × width words, then u32 length + Merkle multi-proof bytes
    fri        u32 length + FriProof bytes

Any malformed input raises :class:`ProofFormatError` naming the field that is wrong.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from proofmarket.stark import field as F
from proofmarket.stark.fri import FriError, FriProof
from proofmarket.stark.merkle import MerkleBatchProof, MerkleError
from proofmarket.stark.params import HASHES, ParamsError, StarkParams

MAGIC = b"PMSTARK\x00"
FORMAT_VERSION = 1
MAX_WIDTH = 1 << 16
"""Upper bound on any column count, so a bad length cannot trigger a huge allocation."""

U64Array = npt.NDArray[np.uint64]


class ProofFormatError(ValueError):
    """The bytes are not a well-formed proof of this format version."""


@dataclass(frozen=True)
class Openings:
    """Column polynomials evaluated at the out-of-domain point z (and at z·g)."""

    main_z: U64Array  # (W, 4)
    main_zg: U64Array
    pre_z: U64Array  # (Wp, 4)
    pre_zg: U64Array
    aux_z: U64Array  # (4·A, 4): one per committed base column
    aux_zg: U64Array
    quotient_z: U64Array  # (4·C, 4)

    def all_arrays(self) -> tuple[U64Array, ...]:
        """In transcript/serialization order."""
        return (
            self.main_z,
            self.main_zg,
            self.pre_z,
            self.pre_zg,
            self.aux_z,
            self.aux_zg,
            self.quotient_z,
        )


@dataclass(frozen=True)
class TreeOpening:
    """Rows of one committed matrix at the distinct queried LDE rows (ascending)."""

    rows: U64Array  # (k, width)
    proof: MerkleBatchProof


@dataclass(frozen=True)
class StarkProof:
    """Everything the verifier needs besides the AIR, the public inputs and the params."""

    params: StarkParams
    log_n: int
    air_id: bytes
    main_width: int
    pre_width: int
    aux_width: int  # base columns (4 per extension column)
    quotient_width: int  # base columns (4 per chunk)
    main_root: bytes
    aux_root: bytes  # b"" when the AIR has no LogUp columns
    quotient_root: bytes
    openings: Openings
    num_queries_distinct: int
    pre_opening: TreeOpening | None
    main_opening: TreeOpening
    aux_opening: TreeOpening | None
    quotient_opening: TreeOpening
    fri: FriProof

    # ------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The compact versioned encoding described in the module docstring."""
        out = bytearray(MAGIC)
        out += struct.pack("<H", FORMAT_VERSION)
        pb = self.params.to_bytes()
        out += struct.pack("<I", len(pb)) + pb
        out += struct.pack("<B", self.log_n)
        out += self.air_id
        out += struct.pack(
            "<IIII", self.main_width, self.pre_width, self.aux_width, self.quotient_width
        )
        out += self.main_root
        if self.aux_width:
            out += self.aux_root
        out += self.quotient_root
        for arr in self.openings.all_arrays():
            out += F.to_bytes(arr)
        out += struct.pack("<I", self.num_queries_distinct)
        for opening in self._tree_openings():
            out += F.to_bytes(opening.rows)
            mp = opening.proof.to_bytes()
            out += struct.pack("<I", len(mp)) + mp
        fb = self.fri.to_bytes()
        out += struct.pack("<I", len(fb)) + fb
        return bytes(out)

    def _tree_openings(self) -> list[TreeOpening]:
        items = [self.pre_opening, self.main_opening, self.aux_opening, self.quotient_opening]
        return [t for t in items if t is not None]

    @classmethod
    def from_bytes(cls, data: bytes) -> StarkProof:
        """Parse :meth:`to_bytes` output; :class:`ProofFormatError` on any malformation."""
        return _Reader(bytes(data)).proof()

    def size_bytes(self) -> int:
        return len(self.to_bytes())


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProofFormatError(f"proof truncated while reading {what}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u32(self, what: str) -> int:
        return int(struct.unpack("<I", self.take(4, what))[0])

    def words(self, shape: tuple[int, ...], what: str) -> U64Array:
        count = int(np.prod(shape)) if shape else 1
        raw = self.take(4 * count, what)
        try:
            return F.from_bytes(raw, shape)
        except F.FieldError as exc:
            raise ProofFormatError(f"{what}: {exc}") from exc

    def proof(self) -> StarkProof:
        if self.take(len(MAGIC), "magic") != MAGIC:
            raise ProofFormatError("not a proofmarket STARK proof (bad magic bytes)")
        (version,) = struct.unpack("<H", self.take(2, "version"))
        if version != FORMAT_VERSION:
            raise ProofFormatError(
                f"unsupported proof format version {version} (this build reads {FORMAT_VERSION})"
            )
        params = _parse_params(self.take(self.u32("params length"), "params"))
        (log_n,) = struct.unpack("<B", self.take(1, "log_n"))
        if not 1 <= log_n <= params.max_log_trace_len:
            raise ProofFormatError(
                f"trace size 2^{log_n} outside [2^1, 2^{params.max_log_trace_len}]"
            )
        air_id = self.take(32, "air id")
        widths = [self.u32(w) for w in ("main width", "pre width", "aux width", "quot width")]
        for name, w in zip(("main", "preprocessed", "aux", "quotient"), widths, strict=True):
            if w > MAX_WIDTH:
                raise ProofFormatError(f"{name} width {w} exceeds {MAX_WIDTH}")
        main_w, pre_w, aux_w, quot_w = widths
        if main_w == 0 or quot_w == 0 or aux_w % 4 or quot_w % 4:
            raise ProofFormatError(f"inconsistent column widths {widths}")
        main_root = self.take(32, "main root")
        aux_root = self.take(32, "aux root") if aux_w else b""
        quot_root = self.take(32, "quotient root")
        arrays = [
            self.words((w, 4), what)
            for w, what in (
                (main_w, "main@z"),
                (main_w, "main@zg"),
                (pre_w, "pre@z"),
                (pre_w, "pre@zg"),
                (aux_w, "aux@z"),
                (aux_w, "aux@zg"),
                (quot_w, "quotient@z"),
            )
        ]
        openings = Openings(*arrays)
        k = self.u32("query count")
        if not 1 <= k <= params.num_queries:
            raise ProofFormatError(f"{k} distinct queries, expected 1..{params.num_queries}")
        trees: list[TreeOpening | None] = []
        for w, what in ((pre_w, "pre"), (main_w, "main"), (aux_w, "aux"), (quot_w, "quotient")):
            if w == 0:
                trees.append(None)
                continue
            rows = self.words((k, w), f"{what} query rows")
            raw = self.take(self.u32(f"{what} Merkle proof length"), f"{what} Merkle proof")
            try:
                mp = MerkleBatchProof.from_bytes(raw)
            except MerkleError as exc:
                raise ProofFormatError(f"{what} Merkle proof: {exc}") from exc
            trees.append(TreeOpening(rows, mp))
        fri_raw = self.take(self.u32("FRI length"), "FRI proof")
        try:
            fri = FriProof.from_bytes(fri_raw)
        except FriError as exc:
            raise ProofFormatError(str(exc)) from exc
        if self.pos != len(self.data):
            raise ProofFormatError(f"{len(self.data) - self.pos} trailing bytes after the proof")
        main_open = trees[1]
        quot_open = trees[3]
        assert main_open is not None and quot_open is not None
        return StarkProof(
            params=params,
            log_n=log_n,
            air_id=air_id,
            main_width=main_w,
            pre_width=pre_w,
            aux_width=aux_w,
            quotient_width=quot_w,
            main_root=main_root,
            aux_root=aux_root,
            quotient_root=quot_root,
            openings=openings,
            num_queries_distinct=k,
            pre_opening=trees[0],
            main_opening=main_open,
            aux_opening=trees[2],
            quotient_opening=quot_open,
            fri=fri,
        )


_PARAMS_TAG = b"stark-params-v1"


def _parse_params(raw: bytes) -> StarkParams:
    words = (len(raw) - len(_PARAMS_TAG)) // 4
    if not raw.startswith(_PARAMS_TAG) or len(raw) != len(_PARAMS_TAG) + words * 4:
        raise ProofFormatError("malformed parameter block")
    if words not in (7, 8):
        raise ProofFormatError("malformed parameter block")
    vals = struct.unpack(f"<{words}I", raw[len(_PARAMS_TAG) :])
    hash_id = vals[7] if words == 8 else 0
    if hash_id >= len(HASHES):
        raise ProofFormatError(f"unknown hash id {hash_id} in parameter block")
    try:
        params = StarkParams(
            name="from-proof",
            log_blowup=vals[0],
            num_queries=vals[1],
            pow_bits=vals[2],
            extension_degree=vals[3],
            fri_log_arity=vals[4],
            fri_final_log_degree=vals[5],
            max_log_trace_len=vals[6],
            hash=HASHES[hash_id],
        )
    except ParamsError as exc:
        raise ProofFormatError(f"invalid parameters in proof: {exc}") from exc
    if params.to_bytes() != raw:
        raise ProofFormatError("parameter block is not canonical")
    return params
