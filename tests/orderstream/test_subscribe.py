"""The WebSocket side: the signed, replay-proof handshake; heartbeats that find dead
sockets on both ends (Boundless #241); reconnects that resume without losing or repeating
an order."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from proofmarket.devnet.anvil import dev_accounts, dev_keys
from proofmarket.market.client import MarketClient
from proofmarket.orderstream.auth import AUTH_HEADER, sign_login
from proofmarket.orderstream.client import OrderStreamClient
from proofmarket.orderstream.errors import Unauthorized
from proofmarket.orderstream.models import Order

from .conftest import BROKER_KEY, FAST, Stream, signed_request
from .faults import FaultProxy

BROKER = dev_keys()[BROKER_KEY]
HEARTBEAT = {"heartbeat_interval": 0.25, "heartbeat_timeout": 1.0, "reconnect_delay": 0.1}


def ws_url(stream: Stream) -> str:
    return "ws" + stream.url[4:] + "/ws/v1/orders"


def fresh_login(stream: Stream, key: str = BROKER, *, address: str | None = None, skew: int = 0):
    client = OrderStreamClient(stream.url)
    account = dev_accounts()[dev_keys().index(key)]
    info = client._call("GET", f"/api/v1/nonce/{address or account.address}")
    auth = sign_login(key, info["market"], info["chainId"], info["nonce"], int(time.time()) + skew)
    if address is not None:
        auth = replace(auth, address=info["address"])
    return auth


async def open_raw(stream: Stream, header: str):
    return await connect(
        ws_url(stream), additional_headers={AUTH_HEADER: header}, ping_interval=None, proxy=None
    )


async def denied(stream: Stream, header: str | None) -> dict:
    with pytest.raises(InvalidStatus) as info:
        headers = {AUTH_HEADER: header} if header is not None else {}
        await connect(ws_url(stream), additional_headers=headers, proxy=None)
    response = info.value.response
    assert response.status_code == 401
    return json.loads(response.body)


def test_handshake_replay_and_forgery_are_refused(stream: Stream) -> None:
    async def flow() -> None:
        auth = fresh_login(stream)
        ws = await open_raw(stream, auth.header())
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello" and hello["address"] == auth.address
        await ws.close()
        # the same signed login again: the nonce is spent
        body = await denied(stream, auth.header())
        assert body["type"] == "Unauthorized" and "already used" in body["msg"]
        # a login signed by one key claiming another address
        victim = dev_accounts()[5].address
        body = await denied(stream, fresh_login(stream, address=victim).header())
        assert "signed by" in body["msg"]
        # an old timestamp
        body = await denied(stream, fresh_login(stream, skew=-3600).header())
        assert "server's clock" in body["msg"]
        body = await denied(stream, None)
        assert AUTH_HEADER in body["msg"]
        body = await denied(stream, "{not json")
        assert AUTH_HEADER in body["msg"]

    asyncio.run(flow())
    refused = stream.client(None).status()["refused"]
    assert refused["Unauthorized"] == 5


def test_subscribe_needs_collateral_when_configured(
    start_stream: Callable[..., Stream], prover: MarketClient
) -> None:
    stream = start_stream(replace(FAST, min_broker_stake=10**18))

    async def flow() -> None:
        poor = stream.client(BROKER_KEY)  # holds no collateral in the market
        async with poor.subscribe(**HEARTBEAT) as sub:
            with pytest.raises(Unauthorized, match="collateral"):
                await asyncio.wait_for(anext(sub), 10)
        staked = OrderStreamClient(stream.url, dev_keys()[3])  # the prover fixture's key
        async with staked.subscribe(**HEARTBEAT) as sub:
            await sub.wait_connected()

    asyncio.run(flow())


def test_server_drops_a_silent_subscriber(stream: Stream) -> None:
    """A client that never answers pings is closed (code 4000) within about the timeout."""

    async def flow() -> float:
        ws = await open_raw(stream, fresh_login(stream).header())
        assert json.loads(await ws.recv())["type"] == "hello"
        subscribers = stream.client(None).status()["subscribers"]
        assert [s["address"] for s in subscribers] == [dev_accounts()[BROKER_KEY].address]
        assert "ip" not in subscribers[0]  # the public status does not reveal brokers' hosts
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while time.monotonic() - started < 10:  # read the pings but never answer
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert message["type"] == "ping"
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
        return time.monotonic() - started

    elapsed = asyncio.run(flow())
    settings = stream.server.ctx.settings
    assert elapsed < settings.heartbeat_timeout + 2 * settings.heartbeat_interval + 1.0
    status = stream.client(None).status()
    assert status["droppedHeartbeat"] == 1 and status["subscribers"] == []


def test_client_answers_pings_and_stays_connected(stream: Stream) -> None:
    async def flow() -> None:
        async with stream.client().subscribe(**HEARTBEAT) as sub:
            await sub.wait_connected()
            await asyncio.sleep(4 * stream.server.ctx.settings.heartbeat_timeout)
            assert sub.connected.is_set() and sub.reconnects == 0

    asyncio.run(flow())
    assert stream.client(None).status()["droppedHeartbeat"] == 0


async def _submit(stream: Stream, requestor: MarketClient) -> Order:
    request, signature, _, _ = signed_request(requestor)
    return await asyncio.to_thread(stream.client(None).submit, request, signature)


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def _take(sub, count: int, timeout: float = 15.0) -> list[Order]:
    return [await asyncio.wait_for(anext(sub), timeout) for _ in range(count)]


def test_client_detects_a_dead_socket_and_resumes(stream: Stream, requestor: MarketClient) -> None:
    """The proxy swallows every byte of the open connection (no FIN, no RST): only the
    heartbeat can tell. The order sent meanwhile arrives on the new connection."""

    async def flow() -> None:
        proxy = FaultProxy("127.0.0.1", stream.server.port)
        url = await proxy.start()
        try:
            client = OrderStreamClient(url, BROKER)
            async with client.subscribe(**HEARTBEAT) as sub:
                await sub.wait_connected()
                first = await _submit(stream, requestor)
                assert [o.id for o in await _take(sub, 1)] == [first.id]
                proxy.freeze()
                started = time.monotonic()
                second = await _submit(stream, requestor)
                got = await _take(sub, 1)
                assert [o.id for o in got] == [second.id]
                assert time.monotonic() - started < 8
                assert sub.reconnects >= 1 and sub.last_id == second.id
        finally:
            await proxy.stop()

    asyncio.run(flow())


def test_reconnect_loses_nothing_and_repeats_nothing(
    stream: Stream, requestor: MarketClient
) -> None:
    async def flow() -> None:
        proxy = FaultProxy("127.0.0.1", stream.server.port)
        url = await proxy.start()
        try:
            client = OrderStreamClient(url, BROKER)
            async with client.subscribe(**HEARTBEAT) as sub:
                await sub.wait_connected()
                before = [await _submit(stream, requestor) for _ in range(2)]
                assert [o.id for o in await _take(sub, 2)] == [o.id for o in before]
                proxy.refuse = True
                proxy.cut()  # the socket dies and reconnecting fails for a while
                await _until(lambda: not sub.connected.is_set(), 3.0)
                during = [await _submit(stream, requestor) for _ in range(3)]
                await _until(lambda: sub.reconnects >= 2, 5.0)  # refused at least once
                assert not sub.connected.is_set()
                proxy.refuse = False
                after = [await _submit(stream, requestor) for _ in range(1)]
                got = await _take(sub, 4)
                assert [o.id for o in got] == [o.id for o in during + after]
                assert sub.reconnects >= 2
                with pytest.raises(TimeoutError):  # nothing delivered twice
                    await asyncio.wait_for(anext(sub), 1.0)
        finally:
            await proxy.stop()

    asyncio.run(flow())


def test_since_replays_the_book(stream: Stream, requestor: MarketClient) -> None:
    async def flow() -> None:
        orders = [await _submit(stream, requestor) for _ in range(3)]
        async with stream.client().subscribe(since=orders[0].id, **HEARTBEAT) as sub:
            got = await _take(sub, 2)
            assert got == orders[1:]
            live = await _submit(stream, requestor)
            assert await _take(sub, 1) == [live]
        async with stream.client().subscribe(**HEARTBEAT) as sub:  # default: only new orders
            await sub.wait_connected()
            assert sub.last_id == live.id
            newer = await _submit(stream, requestor)
            assert await _take(sub, 1) == [newer]

    asyncio.run(flow())


def test_capacity_limit(start_stream: Callable[..., Stream]) -> None:
    stream = start_stream(replace(FAST, max_subscribers=1))

    async def flow() -> None:
        first = await open_raw(stream, fresh_login(stream).header())
        with pytest.raises(InvalidStatus) as info:
            await open_raw(stream, fresh_login(stream).header())
        assert info.value.response.status_code == 503
        assert json.loads(info.value.response.body)["type"] == "ServerAtCapacity"
        await first.close()

    asyncio.run(flow())


def test_junk_frames_are_ignored(stream: Stream) -> None:
    async def flow() -> None:
        ws = await open_raw(stream, fresh_login(stream).header())
        assert json.loads(await ws.recv())["type"] == "hello"
        for junk in (b"\x00\x01binary", "{not json", "[1, 2]", '{"type": "nonsense"}'):
            await ws.send(junk)
        await ws.send(json.dumps({"type": "ping", "ts": 42}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if message["type"] == "pong":
                assert message["ts"] == 42
                break
        await ws.close()

    asyncio.run(flow())
    assert stream.client(None).status()["droppedHeartbeat"] == 0
