"""Off-chain market monitor: requests from the order stream, live, surviving reconnects.

Subscribes with the broker's key (the stream checks it holds collateral), hands every
order to the picker as a ``LockAndFulfill`` candidate, and remembers each request so a
later ``RequestLocked`` by another prover can become a ``FulfillAfterLockExpire`` order
even though the request never appeared on chain. The stream's resume cursor is stored in
the database, so a restart neither loses nor repeats orders.
"""

from __future__ import annotations

import logging
import time

from proofmarket.broker.context import BrokerContext
from proofmarket.broker.market_monitor import Candidate, MarketMonitor, Submit
from proofmarket.broker.order import FulfillmentType

log = logging.getLogger(__name__)


class OffchainMonitor:
    def __init__(
        self, ctx: BrokerContext, submit: Submit, url: str, market_monitor: MarketMonitor
    ) -> None:
        self.ctx = ctx
        self.submit = submit
        self.url = url
        self.market_monitor = market_monitor

    async def run(self) -> None:
        from proofmarket.orderstream.client import OrderStreamClient

        ctx = self.ctx
        client = OrderStreamClient(self.url, private_key="0x" + bytes(ctx.market.signer.key).hex())
        try:
            since = ctx.db.get_stream_cursor()
            async with client.subscribe(since=since) as subscription:
                log.info("following the order stream at %s (after order %s)", self.url, since)
                async for order in subscription:
                    request = order.request
                    self.market_monitor.known[int(request.id)] = (request, order.signature)
                    if not ctx.stopping:
                        await self.submit(
                            Candidate(
                                request,
                                order.signature,
                                FulfillmentType.LOCK_AND_FULFILL,
                                time.time(),
                                0,
                            )
                        )
                    ctx.db.set_stream_cursor(order.id)
        finally:
            client.close()
