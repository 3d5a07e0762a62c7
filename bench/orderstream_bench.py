"""Order-stream figures: submit latency and throughput, submit → subscriber delivery
latency, and replay speed on resume.

Starts anvil (automine) with the dev-mode market, one order stream on a free port
(SQLite by default, ``--database-url postgresql://…`` for PostgreSQL) and one subscriber
(the Python client). Then, all in this fresh process:

* the first submission (cold: first signature check, first chain reads, first insert);
* ``--orders`` sequential submissions: latency of ``POST /api/v1/submit_order`` (the
  service checks the EIP-712 signature, reads chain time, lock state and balance, stores,
  publishes) and end to end, from the start of the POST to the order in the subscriber's
  hands;
* ``--orders`` submissions from ``--threads`` threads: orders accepted per second;
* a new subscriber with ``since=0``: orders per second replayed from the database.

Run: ``python bench/orderstream_bench.py [--orders 200] [--threads 4] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ETHER = 10**18


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50_ms": round(pick(0.50) * 1000, 2),
        "p95_ms": round(pick(0.95) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from web3 import Web3

    from proofmarket.contracts.deploy import deploy_market_stack
    from proofmarket.devnet.anvil import AnvilProcess, dev_keys
    from proofmarket.market.builder import OfferParams, RequestBuilder
    from proofmarket.market.client import MarketClient, load_account
    from proofmarket.market.request_id import RequestId
    from proofmarket.orderstream import (
        OrderStreamClient,
        StreamContext,
        StreamServer,
        StreamSettings,
        open_store,
    )

    settings = StreamSettings(
        submit_per_minute_per_address=0,
        submit_per_minute_per_ip=0,
        read_per_minute_per_ip=0,
        connect_per_minute_per_ip=0,
    )
    with tempfile.TemporaryDirectory() as tmp, AnvilProcess.start() as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 60}))
        deployment = deploy_market_stack(w3, anvil.addresses[0], dev_mode=True)
        requestor = MarketClient(w3, deployment.market, load_account(dev_keys()[1]))
        requestor.deposit(100 * ETHER)
        now = requestor.block_timestamp()
        offer = OfferParams(
            min_price=0, max_price=ETHER // 1000, ramp_up_start=now, ramp_up_period=100,
            lock_timeout=3000, timeout=6000, lock_collateral=ETHER,
        )  # fmt: skip
        total = 1 + 3 * args.orders

        def signed(_: int) -> tuple[Any, bytes]:
            request = RequestBuilder().build(
                request_id=RequestId(requestor.signer.address, secrets.randbelow(2**32)),
                image_id=os.urandom(32), now=now, program_url="file:///guest.elf",
                stdin=b"x", journal=b"j", offer=offer,
            )  # fmt: skip
            return request, requestor.sign_request(request)

        batch = [signed(i) for i in range(total)]
        db_url = args.database_url or f"sqlite:///{Path(tmp) / 'orders.sqlite'}"
        market = MarketClient.connect(anvil.rpc_url, deployment.market)
        server = StreamServer(StreamContext(open_store(db_url), market, settings)).start()
        http = OrderStreamClient(server.url)
        report: dict[str, Any] = {"orders": args.orders, "threads": args.threads}
        report["database"] = server.ctx.store.backend

        async def run() -> None:
            broker = OrderStreamClient(server.url, dev_keys()[4])
            async with broker.subscribe() as sub:
                await sub.wait_connected()
                started = time.perf_counter()
                first = await asyncio.to_thread(http.submit, *batch[0])
                report["first_submit_ms"] = round((time.perf_counter() - started) * 1000, 2)
                await anext(sub)
                submit_lat, deliver_lat = [], []
                for request, signature in batch[1 : 1 + args.orders]:
                    t0 = time.perf_counter()
                    order = await asyncio.to_thread(http.submit, request, signature)
                    t1 = time.perf_counter()
                    got = await anext(sub)
                    t2 = time.perf_counter()
                    assert got.id == order.id
                    submit_lat.append(t1 - t0)
                    deliver_lat.append(t2 - t0)
                report["submit"] = percentiles(submit_lat)
                report["submit_to_subscriber"] = percentiles(deliver_lat)

                rest = batch[1 + args.orders :]
                clients = [OrderStreamClient(server.url) for _ in range(args.threads)]
                t0 = time.perf_counter()
                with ThreadPoolExecutor(args.threads) as pool:
                    futures = [
                        pool.submit(clients[i % args.threads].submit, *item)
                        for i, item in enumerate(rest[: args.orders])
                    ]
                    loop_done = [f.result() for f in futures]
                elapsed = time.perf_counter() - t0
                report["concurrent_submit_per_s"] = round(len(loop_done) / elapsed, 1)
                for _ in loop_done:
                    await anext(sub)
                del first

            replayer = OrderStreamClient(server.url, dev_keys()[5])
            count = 1 + 2 * args.orders
            async with replayer.subscribe(since=0) as sub:
                t0 = time.perf_counter()
                for _ in range(count):
                    await anext(sub)
                elapsed = time.perf_counter() - t0
            report["replay_orders_per_s"] = round(count / elapsed, 1)

        asyncio.run(run())
        server.stop()
        server.ctx.store.close()
        report["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"order stream ({report['database']}), {args.orders} orders")
    print(f"  first submit (cold):          {report['first_submit_ms']} ms")
    print(f"  submit latency:               {report['submit']}")
    print(f"  submit -> subscriber:         {report['submit_to_subscriber']}")
    print(f"  concurrent submit ({args.threads} threads): {report['concurrent_submit_per_s']}/s")
    print(f"  replay on resume:             {report['replay_orders_per_s']} orders/s")
    print(f"  load average:                 {report['loadavg']}")


if __name__ == "__main__":
    main()
