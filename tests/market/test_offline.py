"""Pure helpers: request IDs, types, validation, predicates, units, env files, reverts."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from hypothesis import given
from hypothesis import strategies as st

from proofmarket.devnet.env import EnvFileError, parse_env_text, read_env_file, write_env_file
from proofmarket.market import pricing
from proofmarket.market.builder import OfferParams, RequestBuilder
from proofmarket.market.errors import (
    ContractRevert,
    InsufficientBalance,
    InvalidOfferError,
    InvalidRequestError,
    InvalidRequestIdError,
    RequestIsLocked,
)
from proofmarket.market.guest_env import decode_guest_env, encode_guest_env
from proofmarket.market.predicates import (
    claim_digest,
    claim_digest_match,
    digest_match,
    evaluate,
    expected_claim_digest,
    prefix_match,
)
from proofmarket.market.request_file import request_from_document
from proofmarket.market.request_id import SMART_CONTRACT_SIGNATURE_FLAG, RequestId
from proofmarket.market.reverts import revert_from_exception
from proofmarket.market.storage import FileStorageProvider, fetch_url
from proofmarket.market.types import InputType, Offer, ProofRequest, RequestInput
from proofmarket.market.units import BadAmountError, format_units, parse_units
from proofmarket.market.validation import request_problems

CLIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


@given(st.binary(min_size=20, max_size=20), st.integers(0, 2**32 - 1), st.booleans())
def test_request_id_round_trip(client: bytes, index: int, flag: bool) -> None:
    rid = RequestId("0x" + client.hex(), index, flag)
    assert RequestId.from_int(rid.value) == rid
    assert RequestId.parse(rid.hex()) == rid
    assert RequestId.parse(str(rid.value)) == rid
    assert rid.value >> 32 & (2**160 - 1) == int.from_bytes(client, "big")


def test_request_id_errors() -> None:
    assert RequestId(CLIENT, 7, True).value & SMART_CONTRACT_SIGNATURE_FLAG
    with pytest.raises(InvalidRequestIdError, match="outside"):
        RequestId(CLIENT, 2**32)
    with pytest.raises(InvalidRequestIdError, match="bits above 192"):
        RequestId.from_int(1 << 200)
    with pytest.raises(InvalidRequestIdError, match="bad client"):
        RequestId("0x1234", 1)
    with pytest.raises(InvalidRequestIdError, match="neither"):
        RequestId.parse("0xzz")


def _offer(**changes: int) -> Offer:
    base = dict(
        min_price=10,
        max_price=110,
        ramp_up_start=1000,
        ramp_up_period=100,
        lock_timeout=200,
        timeout=300,
        lock_collateral=7,
    )
    base.update(changes)
    return Offer(**base)


def test_price_curve_edges() -> None:
    offer = _offer()
    assert pricing.price_at(offer, 0) == 10
    assert pricing.price_at(offer, 1000) == 10
    assert pricing.price_at(offer, 1001) == 11
    assert pricing.price_at(offer, 1050) == 60
    assert pricing.price_at(offer, 1100) == 110
    assert pricing.price_at(offer, 1200) == 110
    assert pricing.price_at(offer, 1201) == 0  # after the lock deadline the client pays 0
    assert pricing.time_at_price(offer, 10) == 0
    assert pricing.time_at_price(offer, 60) == 1050
    assert pricing.time_at_price(offer, 61) == 1051  # ceiling
    assert pricing.lock_deadline(offer) == 1200 and pricing.deadline(offer) == 1300


@given(st.integers(0, 2**96), st.integers(0, 10_000))
def test_slash_split_adds_up(collateral: int, bps: int) -> None:
    split = pricing.slash_split(collateral, bps)
    assert split.burned + split.transferred == collateral
    assert split.burned == collateral * bps // 10_000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_price": 200}, "minPrice (200) is greater than maxPrice (110)"),
        ({"ramp_up_period": 250}, "rampUpPeriod (250) is longer than lockTimeout (200)"),
        ({"lock_timeout": 400}, "lockTimeout (400) is longer than timeout (300)"),
        ({"timeout": 2**24 + 300}, "exceeds 16777215"),
        ({"ramp_up_start": 2**40 - 100}, "below 2**40"),
    ],
)
def test_offer_validation_messages(changes: dict, message: str) -> None:
    with pytest.raises(InvalidOfferError, match=re.escape(message)):
        pricing.validate_offer(_offer(**changes))


def test_predicates_evaluate_like_the_contract() -> None:
    image, journal = os.urandom(32), b"hello world"
    assert evaluate(digest_match(image, journal), image, journal)
    assert not evaluate(digest_match(image, journal), image, b"hello")
    assert not evaluate(digest_match(image, journal), os.urandom(32), journal)
    assert evaluate(prefix_match(image, b"hello"), image, journal)
    assert not evaluate(prefix_match(image, b"world"), image, journal)
    assert evaluate(claim_digest_match(claim_digest(image, journal)), image, journal)
    # DigestMatch proves the claim of (image, sha256(journal)) without the journal itself
    predicate = digest_match(image, journal)
    assert expected_claim_digest(predicate, bytes(32), b"") == claim_digest(image, journal)
    with pytest.raises(InvalidRequestError, match="32 bytes"):
        digest_match(b"short", journal)
    with pytest.raises(InvalidRequestError, match="exceed"):
        prefix_match(image, b"x" * 300)


def _document(**overrides) -> dict:
    doc = {
        "requirements": {"predicate": {"type": "PrefixMatch", "data": "0x" + "ab" * 32}},
        "imageUrl": "file:///guest.elf",
        "input": {"type": "url", "data": "https://example.org/input.bin"},
        "offer": {
            "minPrice": "0",
            "maxPrice": "0x10",
            "rampUpPeriod": 1,
            "lockTimeout": 2,
            "timeout": 3,
            "lockCollateral": 0,
        },
    }
    doc.update(overrides)
    return doc


def test_request_document_fills_id_and_start_and_round_trips() -> None:
    rid = RequestId(CLIENT, 3).value
    request = request_from_document(_document(), request_id=rid, now=5000)
    assert request.id == rid and request.offer.ramp_up_start == 5000
    assert request.offer.max_price == 16
    assert request.input.input_type == InputType.URL
    assert request.input.url == "https://example.org/input.bin"
    again = ProofRequest.model_validate(request.to_json_dict())
    assert again == request
    binary = request.model_copy(update={"input": RequestInput.inline(b"\xff\xfe\x00\x80")})
    for dumped in (binary.to_json_dict(), binary.model_dump(mode="json", by_alias=True)):
        assert dumped["input"] == {"type": "inline", "data": "0xfffe0080"}
        assert ProofRequest.model_validate(dumped) == binary
    with pytest.raises(InvalidRequestError, match=r"offer\.maxPrice"):
        request_from_document(
            _document(offer={**_document()["offer"], "maxPrice": -1}), request_id=rid, now=1
        )
    with pytest.raises(InvalidRequestError, match=r"input\.data"):
        request_from_document(
            _document(input={"type": "inline", "data": "0xabc"}), request_id=rid, now=1
        )


def test_request_problems_cover_sizes_and_predicates() -> None:
    rid = RequestId(CLIENT, 1).value
    request = request_from_document(
        _document(
            imageUrl="file:///" + "x" * 300,
            requirements={"predicate": {"type": "DigestMatch", "data": "0x" + "00" * 40}},
            input={"type": "inline", "data": "0x" + "00" * 3000},
        ),
        request_id=rid | SMART_CONTRACT_SIGNATURE_FLAG,
        now=1,
    )
    problems = " | ".join(request_problems(request))
    assert "bits >=" not in problems  # the ERC-1271 flag is allowed
    request = request.model_copy(update={"id": request.id | (1 << 193)})
    problems = " | ".join(request_problems(request))
    for expected in ("bits >= 193", "imageUrl is", "input data is", "DigestMatch data"):
        assert expected in problems


def test_builder_inlines_small_inputs_and_uploads_large(tmp_path: Path) -> None:
    builder = RequestBuilder(storage=FileStorageProvider(tmp_path), inline_input_limit=64)
    image = os.urandom(32)
    small = builder.build(
        request_id=RequestId(CLIENT, 1), image_id=image, now=100, program=b"\x7fELF", stdin=b"hi"
    )
    assert small.input.input_type == InputType.INLINE
    assert decode_guest_env(small.input.data) == b"hi"
    assert fetch_url(small.image_url) == b"\x7fELF"
    assert small.offer.ramp_up_start == 115  # bidding starts 15 s after now
    big = builder.build(
        request_id=RequestId(CLIENT, 2),
        image_id=image,
        now=100,
        program_url="https://example.org/guest.elf",
        stdin=b"x" * 500,
        journal=b"out",
        offer=OfferParams(lock_timeout=30),
    )
    assert big.input.input_type == InputType.URL
    assert decode_guest_env(fetch_url(big.input.url)) == b"x" * 500
    assert big.requirements.predicate.data == image + hashlib.sha256(b"out").digest()
    assert big.offer.ramp_up_period == 30 and big.offer.timeout == 1200
    with pytest.raises(InvalidRequestError, match="program"):
        RequestBuilder().build(request_id=RequestId(CLIENT, 3), image_id=image, now=1)
    with pytest.raises(InvalidRequestError, match="too large to inline"):
        RequestBuilder(inline_input_limit=4).build(
            request_id=RequestId(CLIENT, 3),
            image_id=image,
            now=1,
            program_url="file:///x",
            stdin=b"12345",
        )


def test_guest_env_errors() -> None:
    assert encode_guest_env(b"abc") == b"\x00abc"
    with pytest.raises(InvalidRequestError, match="empty"):
        decode_guest_env(b"")
    with pytest.raises(InvalidRequestError, match="version 1"):
        decode_guest_env(b"\x01\x81")


@pytest.mark.parametrize(
    ("text", "decimals", "expected"),
    [("1", 18, 10**18), ("1.5", 18, 15 * 10**17), ("0.000001", 6, 1), ("1_000", 0, 1000)],
)
def test_units_parse(text: str, decimals: int, expected: int) -> None:
    assert parse_units(text, decimals) == expected
    assert parse_units(format_units(expected, decimals), decimals) == expected


@pytest.mark.parametrize("text", ["", "x", "-1", "1e400000", "nan", "0.0000001"])
def test_units_reject(text: str) -> None:
    with pytest.raises(BadAmountError):
        parse_units(text, 6)


def test_env_files(tmp_path: Path) -> None:
    path = write_env_file(tmp_path / ".env.devnet", {"A": "1", "B": "x y"}, "header\nline")
    assert read_env_file(path) == {"A": "1", "B": "x y"}
    assert parse_env_text("export K='v'\n# c\n\nJ=\"w\"") == {"K": "v", "J": "w"}
    assert read_env_file(tmp_path / "missing") == {}
    with pytest.raises(EnvFileError, match=":2: expected KEY=VALUE"):
        parse_env_text("A=1\nnot an assignment")


class _FakeLogicError(Exception):
    """Stands in for web3's ContractLogicError to inject revert payloads."""

    def __init__(self, message: str, data: object) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


def test_revert_decoding() -> None:
    payload = "0x08c379a0" + abi_encode(["string"], ["RequestIsLocked"]).hex()
    err = revert_from_exception(_FakeLogicError("execution reverted: RequestIsLocked", payload))
    assert isinstance(err, RequestIsLocked)
    err = revert_from_exception(_FakeLogicError("execution reverted: InsufficientBalance", None))
    assert isinstance(err, InsufficientBalance)
    err = revert_from_exception(_FakeLogicError("execution reverted: SomethingNew", None), "lock")
    assert type(err) is ContractRevert and err.name == "SomethingNew" and "lock" in str(err)
    err = revert_from_exception(_FakeLogicError("execution reverted", "0x"))
    assert "ABI decoding" in str(err)
