"""Bad input to the order stream's HTTP API: every refusal has its status code and a
``{type, msg}`` body that says what is wrong, and nothing bad reaches the book."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from proofmarket.market.builder import OfferParams
from proofmarket.market.client import MarketClient
from proofmarket.market.eip712 import MarketDomain, sign_request
from proofmarket.orderstream.errors import (
    DuplicateOrder,
    InsufficientBalance,
    InvalidSignature,
    NotFound,
)

from .conftest import ETHER, FAST, Stream, market_client, signed_request


@pytest.fixture
def http(stream: Stream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stream.url, timeout=10) as client:
        yield client


def refused(response: httpx.Response, status: int, kind: str, words: str = "") -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == kind, body
    assert words in body["msg"], body["msg"]
    return str(body["msg"])


def body_for(request_json: dict, signature: bytes) -> dict:
    return {"request": request_json, "signature": "0x" + signature.hex()}


def test_signature_must_be_the_requestors_for_this_market(
    stream: Stream, http: httpx.Client, requestor: MarketClient
) -> None:
    request, _, _, _ = signed_request(requestor)
    other = market_client(stream.chain, 2)
    by_other = sign_request(request, requestor.domain, other.signer.key)
    msg = refused(
        http.post("/api/v1/submit_order", json=body_for(request.to_json_dict(), by_other)),
        400,
        "InvalidSignature",
    )
    assert other.signer.address in msg and requestor.signer.address in msg
    # the requestor's own signature, but over another chain's domain
    foreign = MarketDomain(requestor.chain_id + 1, requestor.address)
    replayed = sign_request(request, foreign, requestor.signer.key)
    refused(
        http.post("/api/v1/submit_order", json=body_for(request.to_json_dict(), replayed)),
        400,
        "InvalidSignature",
    )
    garbage = b"\x01" * 64 + b"\x05"  # v out of range
    refused(
        http.post("/api/v1/submit_order", json=body_for(request.to_json_dict(), garbage)),
        400,
        "InvalidSignature",
    )
    assert stream.client(None).status()["orders"] == 0


def test_balance_must_cover_the_max_price(stream: Stream, requestor: MarketClient) -> None:
    poor = market_client(stream.chain, 2)  # no market deposit
    request, signature, _, _ = signed_request(poor)
    with pytest.raises(InsufficientBalance, match="less than the max price"):
        stream.client(None).submit(request, signature)
    poor.deposit(request.offer.max_price - 1)
    with pytest.raises(InsufficientBalance):
        stream.client(None).submit(request, signature)
    poor.deposit(1)  # exactly the max price is enough
    assert stream.client(None).submit(request, signature).request == request


def test_duplicates_are_refused(stream: Stream, requestor: MarketClient) -> None:
    client = stream.client(None)
    request, signature, _image, _journal = signed_request(requestor)
    first = client.submit(request, signature)
    with pytest.raises(DuplicateOrder, match="already in the order stream"):
        client.submit(request, signature)
    # same request ID, different offer, validly signed: still one order per ID
    changed = request.model_copy(
        update={
            "offer": request.offer.model_copy(update={"max_price": request.offer.max_price - 1})
        }
    )
    with pytest.raises(DuplicateOrder):
        client.submit(changed, requestor.sign_request(changed))
    assert client.get(request.id) == first
    assert client.status()["orders"] == 1


def test_request_locked_on_chain_is_refused(
    stream: Stream, requestor: MarketClient, prover: MarketClient
) -> None:
    request, signature, _, _ = signed_request(requestor)
    prover.lock_request(request, signature)  # someone saw it elsewhere and locked it
    with pytest.raises(DuplicateOrder, match="already locked"):
        stream.client(None).submit(request, signature)


def test_expired_request_is_refused(
    stream: Stream, http: httpx.Client, requestor: MarketClient
) -> None:
    now = requestor.block_timestamp()
    offer = OfferParams(
        min_price=0,
        max_price=ETHER // 100,
        ramp_up_start=now - 1000,
        ramp_up_period=10,
        lock_timeout=100,
        timeout=2000,
        lock_collateral=ETHER,
    )
    request, signature, _, _ = signed_request(requestor, offer=offer)
    refused(
        http.post("/api/v1/submit_order", json=body_for(request.to_json_dict(), signature)),
        422,
        "InvalidOrder",
        "lock deadline",
    )


@pytest.mark.parametrize(
    ("mutate", "status", "kind", "words"),
    [
        (lambda body: b"{not json", 400, "MalformedBody", "not JSON"),
        (lambda body: b"\xff\xfe", 400, "MalformedBody", "not JSON"),
        (lambda body: json.dumps([body]).encode(), 400, "MalformedBody", "JSON object"),
        (lambda body: json.dumps({"request": body["request"]}).encode(), 422, "InvalidOrder",
         "missing field(s) signature"),
        (lambda body: json.dumps({**body, "tip": 1}).encode(), 422, "InvalidOrder",
         "unknown field(s) tip"),
        (lambda body: json.dumps({**body, "signature": "0xzz"}).encode(), 422, "InvalidOrder",
         "not valid hex"),
        (lambda body: json.dumps({**body, "signature": "0x" + "11" * 64}).encode(), 422,
         "InvalidOrder", "65 bytes"),
        (lambda body: json.dumps({**body, "request": {**body["request"], "imageUrl": 7}}).encode(),
         422, "InvalidOrder", "imageUrl"),
        (lambda body: json.dumps(
            {**body, "request": {**body["request"], "offer": {
                **body["request"]["offer"], "minPrice": 10**30}}}).encode(),
         422, "InvalidOrder", "minPrice"),
        (lambda body: json.dumps(
            {**body, "request": {**body["request"], "offer": {
                **body["request"]["offer"], "lockTimeout": 10**6}}}).encode(),
         422, "InvalidOrder", "lockTimeout"),
    ],
)  # fmt: skip
def test_malformed_bodies(
    stream: Stream,
    http: httpx.Client,
    requestor: MarketClient,
    mutate: Callable[[dict], bytes],
    status: int,
    kind: str,
    words: str,
) -> None:
    request, signature, _, _ = signed_request(requestor)
    content = mutate(body_for(request.to_json_dict(), signature))
    response = http.post(
        "/api/v1/submit_order", content=content, headers={"content-type": "application/json"}
    )
    refused(response, status, kind, words)
    assert stream.client(None).status()["orders"] == 0


def test_oversize_bodies_are_refused(stream: Stream, http: httpx.Client) -> None:
    limit = stream.server.ctx.settings.max_body_bytes
    big = b'{"request": "' + b"a" * limit + b'"}'
    refused(http.post("/api/v1/submit_order", content=big), 413, "PayloadTooLarge", str(limit))

    def chunks() -> Iterator[bytes]:  # no content-length: the stream itself is cut off
        for _ in range(limit // 4096 + 2):
            yield b" " * 4096

    refused(http.post("/api/v1/submit_order", content=chunks()), 413, "PayloadTooLarge")


def test_rate_limits_per_address_and_ip(
    start_stream: Callable[..., Stream], requestor: MarketClient
) -> None:
    from dataclasses import replace

    stream = start_stream(replace(FAST, submit_per_minute_per_address=2, read_per_minute_per_ip=3))
    client = stream.client(None)
    for _ in range(2):
        request, signature, _, _ = signed_request(requestor)
        client.submit(request, signature)
    request, signature, _, _ = signed_request(requestor)
    with httpx.Client(base_url=stream.url) as http:
        response = http.post(
            "/api/v1/submit_order", json=body_for(request.to_json_dict(), signature)
        )
        msg = refused(response, 429, "RateLimited", requestor.signer.address)
        assert "retry in" in msg and int(response.headers["retry-after"]) >= 1
        for _ in range(3):
            assert http.get("/api/v1/orders").status_code == 200
        refused(http.get("/api/v1/orders"), 429, "RateLimited", "reads from this IP")
    # another requestor is not held back by the first one's limit
    other = market_client(stream.chain, 2)
    other.deposit(ETHER)
    request, signature, _, _ = signed_request(other)
    assert client.submit(request, signature).client == other.signer.address


def test_list_and_get_with_paging(stream: Stream, requestor: MarketClient) -> None:
    client = stream.client(None)
    other = market_client(stream.chain, 2)
    other.deposit(ETHER)
    submitted = []
    for owner in (requestor, other, requestor):
        request, signature, _, _ = signed_request(owner)
        submitted.append(client.submit(request, signature))
    ids = [order.id for order in submitted]
    assert ids == sorted(ids) and len(set(ids)) == 3
    page = client.list(limit=2)
    assert [o.id for o in page.orders] == ids[:2] and page.next == ids[1]
    rest = client.list(after=page.next, limit=2)
    assert [o.id for o in rest.orders] == ids[2:] and rest.next is None
    assert [o.id for o in client.iter_orders(page_size=1)] == ids
    mine = client.list(client=requestor.signer.address.lower())
    assert [o.id for o in mine.orders] == [ids[0], ids[2]]
    fetched = client.get(submitted[1].request.id)
    assert fetched == submitted[1]
    with pytest.raises(NotFound):
        client.get(submitted[1].request.id + 1)


def test_bad_queries_and_routes(stream: Stream, http: httpx.Client) -> None:
    refused(http.get("/api/v1/orders/not-an-id"), 422, "InvalidOrder", "not-an-id")
    refused(http.get("/api/v1/orders", params={"limit": 0}), 422, "InvalidOrder", "limit")
    refused(http.get("/api/v1/orders", params={"after": "x"}), 422, "InvalidOrder", "after")
    refused(http.get("/api/v1/nonce/0x1234"), 422, "InvalidOrder", "not an address")
    refused(http.get("/api/v1/nope"), 404, "NotFound", "/api/v1/nope")
    refused(http.get("/api/v1/submit_order"), 405, "MethodNotAllowed", "GET")
    assert http.get("/api/v1/health").json() == {"status": "ok"}
    status = http.get("/api/v1/status").json()
    assert status["refused"]["InvalidOrder"] == 4
    assert status["database"] == "sqlite"


def test_smart_contract_requestor(stream: Stream, prover: MarketClient) -> None:
    """An ERC-1271 wallet as the client (request ID bit 192): the service asks the wallet,
    as the contract does at lock time."""
    from market.helpers import make_request
    from proofmarket.contracts.deploy import deploy_contract, send_transaction
    from proofmarket.market.request_id import RequestId

    owner = market_client(stream.chain, 2)
    wallet = deploy_contract(owner.w3, owner.signer.address, "TestWallet", owner.signer.address)
    owner.deposit_to(wallet.address, ETHER)
    client = stream.client(None)

    def wallet_request(index: int):
        rid = RequestId(wallet.address, index, smart_contract_signed=True)
        return make_request(owner, rid)[0]

    request = wallet_request(1)
    signature = owner.sign_request(request)  # the wallet's owner signs; the wallet vouches
    order = client.submit(request, signature)
    assert order.client == wallet.address
    prover.lock_request(order.request, order.signature)  # the contract agrees
    assert prover.request_is_locked(request.id)

    other = wallet_request(2)
    stranger = market_client(stream.chain, 6)
    with pytest.raises(InvalidSignature, match="ERC-1271"):
        client.submit(other, stranger.sign_request(other))
    send_transaction(owner.w3, owner.signer.address, wallet.functions.setAccept(False))
    with pytest.raises(InvalidSignature, match="does not accept"):
        client.submit(other, owner.sign_request(other))
    # a flagged ID whose "wallet" is a plain account (no code) is refused too
    plain = make_request(owner, RequestId(owner.signer.address, 9, smart_contract_signed=True))[0]
    with pytest.raises(InvalidSignature):
        client.submit(plain, owner.sign_request(plain))


def test_chain_outage_is_a_503_and_the_service_survives(
    stream: Stream, requestor: MarketClient
) -> None:
    """Fault injection: the service's RPC endpoint stops answering, then comes back."""
    import socket

    from web3 import Web3

    market = stream.server.ctx.market
    working = market.w3.provider
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    request, signature, _, _ = signed_request(requestor)
    market.w3.provider = Web3.HTTPProvider(dead)
    try:
        with httpx.Client(base_url=stream.url) as http:
            body = body_for(request.to_json_dict(), signature)
            refused(http.post("/api/v1/submit_order", json=body), 503, "ChainUnavailable", dead)
            assert http.get("/api/v1/health").status_code == 200
    finally:
        market.w3.provider = working
    assert stream.client(None).submit(request, signature).request == request


def test_a_subscriber_too_far_behind_is_told_to_leave() -> None:
    import asyncio

    from proofmarket.orderstream.hub import Hub
    from proofmarket.orderstream.models import Order

    async def flow() -> None:
        hub = Hub(max_subscribers=2, queue_limit=2)
        slow, fast = hub.add("0xslow", "ip"), hub.add("0xfast", "ip")
        orders = [Order(i, None, b"", b"", 0.0) for i in range(1, 5)]  # type: ignore[arg-type]
        for order in orders[:2]:
            hub.publish(order)
        while not fast.queue.empty():
            fast.queue.get_nowait()
        hub.publish(orders[2])
        assert slow.overflowed and not fast.overflowed
        drained = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
        assert drained == [orders[0], orders[1], None]  # None: close and resume later
        hub.publish(orders[2])  # already published: ignored
        hub.publish(orders[3])
        assert slow.queue.empty()  # nothing more for a subscriber told to leave
        assert [fast.queue.get_nowait() for _ in range(2)] == orders[2:]
        assert hub.last_published == 4

    asyncio.run(flow())
