"""The order book on both backends (SQLite file, PostgreSQL in a fresh schema): unique
request IDs and digests, paging, one-time nonces; and the service end to end on
PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from proofmarket.market.client import MarketClient
from proofmarket.orderstream.errors import DbErr, DuplicateOrder
from proofmarket.orderstream.store import OrderStore, open_store

from .conftest import BROKER_KEY, Stream, signed_request


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'book.sqlite'}"
    make: Callable[[], str] = request.getfixturevalue("make_postgres_url")
    return make()


@pytest.fixture
def store(store_url: str) -> Iterator[OrderStore]:
    book = open_store(store_url)
    yield book
    book.close()


def test_orders_are_unique_and_paged(store: OrderStore, requestor: MarketClient) -> None:
    made = [signed_request(requestor)[:2] for _ in range(3)]
    orders = [store.add(req, requestor.request_digest(req), sig) for req, sig in made]
    assert [o.id for o in orders] == sorted(o.id for o in orders)
    request, signature = made[0]
    with pytest.raises(DuplicateOrder):
        store.add(request, requestor.request_digest(request), signature)
    # another ID with a digest already present is refused as well
    other, other_sig = signed_request(requestor)[:2]
    with pytest.raises(DuplicateOrder):
        store.add(other, requestor.request_digest(request), other_sig)
    assert store.get(request.id) == orders[0]
    assert store.get(request.id + 1) is None
    assert store.list(after=orders[0].id, limit=1) == [orders[1]]
    assert store.list(client=requestor.signer.address) == orders
    assert store.list(client="0x" + "00" * 20) == []
    assert store.count() == 3 and store.last_id() == orders[-1].id


def test_duplicate_race_accepts_exactly_one(store: OrderStore, requestor: MarketClient) -> None:
    request, signature = signed_request(requestor)[:2]
    digest = requestor.request_digest(request)
    outcomes: list[str] = []

    def add() -> None:
        try:
            store.add(request, digest, signature)
            outcomes.append("ok")
        except DuplicateOrder:
            outcomes.append("dup")

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["dup", "dup", "dup", "ok"]


def test_nonces_are_single_use_and_expire(store: OrderStore) -> None:
    address = "0x" + "ab" * 20
    store.issue_nonce(address, "n1", ttl=60)
    assert not store.consume_nonce("0x" + "cd" * 20, "n1", ttl=60)  # another address
    assert store.consume_nonce(address.upper().replace("0X", "0x"), "n1", ttl=60)
    assert not store.consume_nonce(address, "n1", ttl=60)  # spent
    store.issue_nonce(address, "n2", ttl=60)
    time.sleep(0.05)
    assert not store.consume_nonce(address, "n2", ttl=0.01)  # expired


def test_bad_database_urls() -> None:
    with pytest.raises(DbErr, match="unsupported"):
        open_store("mysql://x")
    with pytest.raises(DbErr, match="names no file"):
        open_store("sqlite:///")
    with pytest.raises(DbErr, match="cannot connect"):
        open_store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")


@pytest.mark.postgres
def test_service_on_postgres(
    start_stream: Callable[..., Stream],
    make_postgres_url: Callable[[], str],
    requestor: MarketClient,
) -> None:
    stream = start_stream(database_url=make_postgres_url())
    request, signature = signed_request(requestor)[:2]

    async def flow() -> None:
        async with stream.client(BROKER_KEY).subscribe(
            heartbeat_interval=0.25, heartbeat_timeout=1.0
        ) as sub:
            await sub.wait_connected()
            accepted = await asyncio.to_thread(stream.client(None).submit, request, signature)
            assert await asyncio.wait_for(anext(sub), 10) == accepted

    asyncio.run(flow())
    with pytest.raises(DuplicateOrder):
        stream.client(None).submit(request, signature)
    assert stream.client(None).status()["database"] == "postgresql"


@pytest.mark.postgres
def test_two_services_share_one_postgres_book(
    start_stream: Callable[..., Stream],
    make_postgres_url: Callable[[], str],
    requestor: MarketClient,
) -> None:
    """Orders accepted by either service reach a subscriber of the other, in id order,
    none lost, even when submissions to both race."""
    from concurrent.futures import ThreadPoolExecutor

    url = make_postgres_url()
    first, second = start_stream(database_url=url), start_stream(database_url=url)
    made = [signed_request(requestor)[:2] for _ in range(8)]

    async def flow() -> None:
        async with second.client(BROKER_KEY).subscribe(
            heartbeat_interval=0.25, heartbeat_timeout=1.0
        ) as sub:
            await sub.wait_connected()

            def submit(i: int) -> int:
                target = (first, second)[i % 2].client(None)
                return target.submit(*made[i]).id

            with ThreadPoolExecutor(4) as pool:
                ids = await asyncio.gather(
                    *(asyncio.wrap_future(pool.submit(submit, i)) for i in range(8))
                )
            got = [(await asyncio.wait_for(anext(sub), 10)).id for _ in range(8)]
            assert got == sorted(ids)

    asyncio.run(flow())
    assert first.client(None).status()["orders"] == 8
