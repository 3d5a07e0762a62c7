"""The STARK proof object and its versioned binary encoding (multi-table, version 3).

Layout (all integers little-endian, field elements as u32 words, extension elements as 4
words)::

    magic      8 bytes  b"PMSTARK\\x00"
    version    u16      FORMAT_VERSION
    params     u32 length + StarkParams.to_bytes()
    tables     u32 T (1 ≤ T ≤ 256), then per table:
               air_id 32 bytes, log_n u8,
               widths 4 × u32: main, preprocessed, aux (base columns), quotient (base cols),
               roots 32 bytes each: main, aux (only if aux width > 0), quotient,
               claimed LogUp sum (one extension element, only if aux width > 0)
    openings   per table: main@z, main@zg, pre@z, pre@zg, aux@z, aux@zg, quotient@z
    queries    per table: u32 k (distinct queried rows of that table), then per tree
               (pre if any, main, aux if any, quotient): k × width words, u32 length +
               Merkle multi-proof bytes
    nonces     3 × u64: grinding before the LogUp challenges, the OOD point, DEEP batching
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
from proofmarket.stark.params import HASHES, PARAMS_TAG, PARAMS_WORDS, ParamsError, StarkParams

MAGIC = b"PMSTARK\x00"
FORMAT_VERSION = 3
MAX_WIDTH = 1 << 16
"""Upper bound on any column count, so a bad length cannot trigger a huge allocation."""
MAX_TABLES = 256

U64Array = npt.NDArray[np.uint64]


class ProofFormatError(ValueError):
    """The bytes are not a well-formed proof of this format version."""


@dataclass(frozen=True)
class Openings:
    """Column polynomials of one table evaluated at the out-of-domain point z (and z·g)."""

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
class TableProof:
    """One table's part of a proof: shape, commitments, claimed sum, openings."""

    air_id: bytes
    log_n: int
    main_width: int
    pre_width: int
    aux_width: int  # base columns (4 per extension column)
    quotient_width: int  # base columns (4 per chunk)
    main_root: bytes
    aux_root: bytes  # b"" when the AIR has no LogUp columns
    quotient_root: bytes
    claimed_sum: U64Array  # (4,): the table's LogUp total (zeros without LogUp)
    openings: Openings
    num_queries_distinct: int
    pre_opening: TreeOpening | None
    main_opening: TreeOpening
    aux_opening: TreeOpening | None
    quotient_opening: TreeOpening

    def tree_openings(self) -> list[TreeOpening]:
        items = [self.pre_opening, self.main_opening, self.aux_opening, self.quotient_opening]
        return [t for t in items if t is not None]


@dataclass(frozen=True)
class StarkProof:
    """Everything the verifier needs besides the AIRs, the public inputs and the params."""

    params: StarkParams
    tables: tuple[TableProof, ...]
    fri: FriProof
    lookup_pow_nonce: int = 0
    ood_pow_nonce: int = 0
    batch_pow_nonce: int = 0

    @property
    def log_heights(self) -> list[int]:
        """log2 trace height of every table, in machine order."""
        return [t.log_n for t in self.tables]

    @property
    def log_n(self) -> int:
        """log2 of the largest trace height (the one-table case: its height)."""
        return max(self.log_heights)

    # ------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The compact versioned encoding described in the module docstring."""
        out = bytearray(MAGIC)
        out += struct.pack("<H", FORMAT_VERSION)
        pb = self.params.to_bytes()
        out += struct.pack("<I", len(pb)) + pb
        out += struct.pack("<I", len(self.tables))
        for t in self.tables:
            out += t.air_id + struct.pack("<B", t.log_n)
            out += struct.pack("<IIII", t.main_width, t.pre_width, t.aux_width, t.quotient_width)
            out += t.main_root
            if t.aux_width:
                out += t.aux_root
            out += t.quotient_root
            if t.aux_width:
                out += F.to_bytes(np.asarray(t.claimed_sum, dtype=np.uint64).reshape(4))
        for t in self.tables:
            for arr in t.openings.all_arrays():
                out += F.to_bytes(arr)
        for t in self.tables:
            out += struct.pack("<I", t.num_queries_distinct)
            for opening in t.tree_openings():
                out += F.to_bytes(opening.rows)
                mp = opening.proof.to_bytes()
                out += struct.pack("<I", len(mp)) + mp
        out += struct.pack("<QQQ", self.lookup_pow_nonce, self.ood_pow_nonce, self.batch_pow_nonce)
        fb = self.fri.to_bytes()
        out += struct.pack("<I", len(fb)) + fb
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> StarkProof:
        """Parse :meth:`to_bytes` output; :class:`ProofFormatError` on any malformation."""
        return _Reader(bytes(data)).proof()

    def size_bytes(self) -> int:
        return len(self.to_bytes())


@dataclass
class _Header:
    air_id: bytes
    log_n: int
    widths: tuple[int, int, int, int]
    main_root: bytes
    aux_root: bytes
    quot_root: bytes
    claimed_sum: U64Array


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

    def header(self, i: int, params: StarkParams) -> _Header:
        air_id = self.take(32, f"table {i} air id")
        (log_n,) = struct.unpack("<B", self.take(1, f"table {i} log_n"))
        if not 1 <= log_n <= params.max_log_trace_len:
            raise ProofFormatError(
                f"table {i}: trace size 2^{log_n} outside [2^1, 2^{params.max_log_trace_len}]"
            )
        names = ("main width", "pre width", "aux width", "quot width")
        widths = tuple(self.u32(f"table {i} {w}") for w in names)
        for name, w in zip(("main", "preprocessed", "aux", "quotient"), widths, strict=True):
            if w > MAX_WIDTH:
                raise ProofFormatError(f"table {i}: {name} width {w} exceeds {MAX_WIDTH}")
        main_w, _, aux_w, quot_w = widths
        if main_w == 0 or quot_w == 0 or aux_w % 4 or quot_w % 4:
            raise ProofFormatError(f"table {i}: inconsistent column widths {list(widths)}")
        main_root = self.take(32, f"table {i} main root")
        aux_root = self.take(32, f"table {i} aux root") if aux_w else b""
        quot_root = self.take(32, f"table {i} quotient root")
        if aux_w:
            claimed = self.words((4,), f"table {i} claimed sum")
        else:
            claimed = np.zeros(4, dtype=np.uint64)
        return _Header(air_id, log_n, widths, main_root, aux_root, quot_root, claimed)  # type: ignore[arg-type]

    def proof(self) -> StarkProof:
        if self.take(len(MAGIC), "magic") != MAGIC:
            raise ProofFormatError("not a proofmarket STARK proof (bad magic bytes)")
        (version,) = struct.unpack("<H", self.take(2, "version"))
        if version != FORMAT_VERSION:
            raise ProofFormatError(
                f"unsupported proof format version {version} (this build reads {FORMAT_VERSION})"
            )
        params = _parse_params(self.take(self.u32("params length"), "params"))
        count = self.u32("table count")
        if not 1 <= count <= MAX_TABLES:
            raise ProofFormatError(f"{count} tables, expected 1..{MAX_TABLES}")
        headers = [self.header(i, params) for i in range(count)]
        openings = []
        for i, h in enumerate(headers):
            main_w, pre_w, aux_w, quot_w = h.widths
            arrays = [
                self.words((w, 4), f"table {i} {what}")
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
            openings.append(Openings(*arrays))
        tables = []
        for i, (h, op) in enumerate(zip(headers, openings, strict=True)):
            tables.append(self.table(i, h, op, params))
        nonces = struct.unpack("<QQQ", self.take(24, "grinding nonces"))
        fri_raw = self.take(self.u32("FRI length"), "FRI proof")
        try:
            fri = FriProof.from_bytes(fri_raw)
        except FriError as exc:
            raise ProofFormatError(str(exc)) from exc
        if self.pos != len(self.data):
            raise ProofFormatError(f"{len(self.data) - self.pos} trailing bytes after the proof")
        return StarkProof(params, tuple(tables), fri, *nonces)

    def table(self, i: int, h: _Header, openings: Openings, params: StarkParams) -> TableProof:
        main_w, pre_w, aux_w, quot_w = h.widths
        k = self.u32(f"table {i} query count")
        if not 1 <= k <= params.num_queries:
            raise ProofFormatError(
                f"table {i}: {k} distinct queries, expected 1..{params.num_queries}"
            )
        trees: list[TreeOpening | None] = []
        for w, what in ((pre_w, "pre"), (main_w, "main"), (aux_w, "aux"), (quot_w, "quotient")):
            if w == 0:
                trees.append(None)
                continue
            rows = self.words((k, w), f"table {i} {what} query rows")
            raw = self.take(
                self.u32(f"table {i} {what} Merkle proof length"), f"table {i} {what} Merkle proof"
            )
            try:
                mp = MerkleBatchProof.from_bytes(raw)
            except MerkleError as exc:
                raise ProofFormatError(f"table {i} {what} Merkle proof: {exc}") from exc
            trees.append(TreeOpening(rows, mp))
        main_open, quot_open = trees[1], trees[3]
        assert main_open is not None and quot_open is not None
        return TableProof(
            air_id=h.air_id,
            log_n=h.log_n,
            main_width=main_w,
            pre_width=pre_w,
            aux_width=aux_w,
            quotient_width=quot_w,
            main_root=h.main_root,
            aux_root=h.aux_root,
            quotient_root=h.quot_root,
            claimed_sum=h.claimed_sum,
            openings=openings,
            num_queries_distinct=k,
            pre_opening=trees[0],
            main_opening=main_open,
            aux_opening=trees[2],
            quotient_opening=quot_open,
        )


def _parse_params(raw: bytes) -> StarkParams:
    if not raw.startswith(PARAMS_TAG) or len(raw) != len(PARAMS_TAG) + 4 * PARAMS_WORDS:
        raise ProofFormatError("malformed parameter block")
    vals = struct.unpack(f"<{PARAMS_WORDS}I", raw[len(PARAMS_TAG) :])
    if vals[7] >= len(HASHES):
        raise ProofFormatError(f"unknown hash id {vals[7]} in parameter block")
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
            hash=HASHES[vals[7]],
            lookup_pow_bits=vals[8],
            batch_pow_bits=vals[9],
            fold_pow_bits=vals[10],
            ood_pow_bits=vals[11],
        )
    except ParamsError as exc:
        raise ProofFormatError(f"invalid parameters in proof: {exc}") from exc
    if params.to_bytes() != raw:
        raise ProofFormatError("parameter block is not canonical")
    return params
