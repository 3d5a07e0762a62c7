"""The versioned binary proof format: round trips, clear errors, and no malleable byte."""

import struct

import pytest
from stark_cases import flips_accepted

from proofmarket.stark.examples import RangeCheckAir, range_check_trace
from proofmarket.stark.params import TEST
from proofmarket.stark.proof import FORMAT_VERSION, MAGIC, ProofFormatError, StarkProof
from proofmarket.stark.prover import prove
from proofmarket.stark.verifier import verify


@pytest.fixture(scope="module")
def statement():
    # an AIR with preprocessed, aux and quotient trees, so every section is present
    air = RangeCheckAir(1)
    t, pub = range_check_trace([10, 20, 65000], [20], 8)
    return air, pub, prove(air, t, pub, TEST).to_bytes()


def test_header_and_round_trip(statement):
    _, _, data = statement
    assert data.startswith(MAGIC)
    assert struct.unpack("<H", data[len(MAGIC) : len(MAGIC) + 2])[0] == FORMAT_VERSION
    proof = StarkProof.from_bytes(data)
    assert proof.to_bytes() == data
    assert proof.params.to_bytes() == TEST.to_bytes()
    assert proof.size_bytes() == len(data)


def test_bad_magic_version_truncation_and_trailing_bytes(statement):
    _, _, data = statement
    with pytest.raises(ProofFormatError, match="magic"):
        StarkProof.from_bytes(b"XXXXXXXX" + data[8:])
    bumped = MAGIC + struct.pack("<H", FORMAT_VERSION + 1) + data[10:]
    with pytest.raises(ProofFormatError, match="version"):
        StarkProof.from_bytes(bumped)
    with pytest.raises(ProofFormatError, match="trailing"):
        StarkProof.from_bytes(data + b"\x00")
    for cut in (0, 5, 9, 40, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(ProofFormatError):
            StarkProof.from_bytes(data[:cut])
    with pytest.raises(ProofFormatError):
        StarkProof.from_bytes(b"")


def test_every_flipped_byte_is_rejected(statement):
    """250 seeded single-byte corruptions: each one fails to decode or to verify."""
    air, pub, data = statement
    assert flips_accepted(lambda d: verify(air, d, pub, TEST), data, 250, 20240601) == []


def test_format_errors_are_clear(statement):
    _, _, data = statement
    # make the first opened field element non-canonical (0xFFFFFFFF ≥ P)
    proof = StarkProof.from_bytes(data)
    offset = data.index(proof.tables[0].openings.main_z.astype("<u4").tobytes())
    broken = data[:offset] + b"\xff\xff\xff\xff" + data[offset + 4 :]
    with pytest.raises(ProofFormatError, match="main@z"):
        StarkProof.from_bytes(broken)
