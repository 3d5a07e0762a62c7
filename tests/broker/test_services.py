"""Service plumbing: chunked log scans under an RPC range cap, and the supervisor."""

from __future__ import annotations

import asyncio

import pytest

from proofmarket.broker.chain import LogRangeError, LogReader
from proofmarket.broker.supervisor import RetryPolicy, ServiceGaveUp, supervise
from proofmarket.market import events as ev

CAP = 3


@pytest.mark.anvil
def test_log_reader_survives_a_range_cap(requestor):
    start = requestor.client.block_number()
    submitted = []
    for n in range(5):
        request, _, _ = requestor.submit(requestor.build(4 + n, journal=b"j"))
        submitted.append(request.id)
        requestor.client.deposit(1)  # more blocks between requests
    end = requestor.client.block_number()
    w3 = requestor.client.w3
    calls: list[tuple[int, int]] = []

    def capped(params):
        span = params["toBlock"] - params["fromBlock"] + 1
        calls.append((params["fromBlock"], params["toBlock"]))
        if span > CAP:
            raise ValueError(f"query exceeds max block range {CAP}")
        return list(w3.eth.get_logs(params))

    reader = LogReader(requestor.client, chunk=1000, get_logs=capped)
    events = reader.fetch(start, end)
    found = [e.request_id for e in events if isinstance(e, ev.RequestSubmitted)]
    assert found == submitted
    assert reader.chunk <= CAP
    assert any(b - a + 1 > CAP for a, b in calls)  # it was refused, then adapted

    def refuse_all(params):
        raise ValueError("block range limit")

    with pytest.raises(LogRangeError):
        LogReader(requestor.client, chunk=4, get_logs=refuse_all).fetch(start, end)


def test_supervisor_restarts_a_failing_service_with_backoff():
    runs = 0
    restarts: list[str] = []

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise RuntimeError(f"boom {runs}")
        await asyncio.sleep(10)

    async def main() -> None:
        task = asyncio.create_task(
            supervise(
                "flaky",
                flaky,
                policy=RetryPolicy(initial=0.01, factor=2, maximum=0.05),
                on_restart=lambda name, exc: restarts.append(str(exc)),
            )
        )
        await asyncio.sleep(0.3)
        task.cancel()

    asyncio.run(main())
    assert runs == 3
    assert restarts == ["boom 1", "boom 2"]


def test_supervisor_gives_up_after_max_retries():
    async def broken() -> None:
        raise RuntimeError("always")

    async def main() -> None:
        await supervise("broken", broken, policy=RetryPolicy(initial=0.001), max_retries=lambda: 2)

    with pytest.raises(ServiceGaveUp, match="failed 3 times"):
        asyncio.run(main())
