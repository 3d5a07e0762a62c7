"""``proofmarket broker status``: one report of a broker's orders, money, cluster and queue.

Every part is optional and reported independently: a broker database that does not exist
yet, an unreachable chain or cluster each leave an ``error`` in their own section instead
of failing the whole report, because an operator runs this exactly when something is off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proofmarket.broker.metrics import gas_spent, order_totals, read_orders
from proofmarket.broker.trader.store import TxStore
from proofmarket.broker.trader.types import ACTIVE_STATUSES, TxStatus


def orders_section(db_path: str | Path) -> dict[str, Any]:
    if not Path(db_path).exists():
        return {"database": str(db_path), "error": "no broker database yet"}
    totals = order_totals(read_orders(db_path))
    return {
        "database": str(db_path),
        "by_state": totals["by_state"],
        "total": sum(totals["by_state"].values()),
        "locked_collateral": totals["locked_collateral"],
        "revenue_wei": totals["revenue_wei"],
    }


def queue_section(store: TxStore | None, sender: str | None) -> dict[str, Any]:
    if store is None:
        return {"error": "no transaction store"}
    records = store.list(sender)
    counts = {str(status): 0 for status in TxStatus}
    for record in records:
        counts[str(record.status)] += 1
    active = [r.summary() for r in records if r.status in ACTIVE_STATUSES]
    spent = gas_spent(store, sender)
    return {
        "store": store.url,
        "by_status": counts,
        "active": active,
        "gas_spent_wei": spent,
        "gas_spent_total_wei": sum(spent.values()),
    }


def balances_section(market: Any, address: str | None) -> dict[str, Any]:
    """Wallet ETH, market escrow and stake of ``address`` (``market`` is a MarketClient)."""
    if market is None or address is None:
        return {"error": "no chain settings or prover address"}
    try:
        return {
            "address": address,
            "wallet_wei": int(market.w3.eth.get_balance(address)),
            "market_balance_wei": market.balance_of(address),
            "stake": market.balance_of_stake(address),
            "frozen": market.account_is_frozen(address),
        }
    except Exception as exc:  # the report must still print the other sections
        return {"address": address, "error": f"chain unavailable: {exc}"}


def cluster_section(cluster_url: str | None, cluster_db: str | None) -> dict[str, Any]:
    """Health and quotas from the REST API; queue depth and agents from the TaskDB."""
    out: dict[str, Any] = {}
    if cluster_url:
        from proofmarket.cluster.client import ClusterApiError, ClusterClient

        out["url"] = cluster_url
        try:
            with ClusterClient(cluster_url, timeout=5) as client:
                out["healthy"] = client.health()
                out["quotas"] = client.quotas()
        except ClusterApiError as exc:
            out["healthy"] = False
            out["error"] = str(exc)
        else:
            out.update(cluster_load(cluster_url))
    if cluster_db:
        from proofmarket.cluster.status import cluster_status
        from proofmarket.cluster.taskdb import TaskDBError, open_taskdb

        try:
            db = open_taskdb(cluster_db)
            try:
                report = cluster_status(db)
            finally:
                db.close()
            out["queues"] = report["queues"]
            out["agents_alive"] = sum(1 for a in report["agents"] if a["alive"])
            out["running_jobs"] = len(report["running_jobs"])
        except TaskDBError as exc:
            out["taskdb_error"] = str(exc)
    if not out:
        out["error"] = "no cluster URL or TaskDB given"
    return out


def cluster_load(cluster_url: str) -> dict[str, Any]:
    """Queue depths, live agents, running jobs and recent throughput from the cluster
    API's Prometheus ``/metrics`` (nothing when the API has no metrics endpoint)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    try:
        response = httpx.get(cluster_url.rstrip("/") + "/metrics", timeout=5)
        response.raise_for_status()
        families = list(text_string_to_metric_families(response.text))
    except (httpx.HTTPError, ValueError) as exc:
        return {"metrics_error": str(exc)}
    queues: dict[str, dict[str, float]] = {}
    load: dict[str, Any] = {"queues": queues}
    for family in families:
        for sample in family.samples:
            worker = sample.labels.get("worker_type", "")
            if sample.name == "proofmarket_cluster_queue_ready":
                queues.setdefault(worker, {})["ready"] = sample.value
            elif sample.name == "proofmarket_cluster_queue_running":
                queues.setdefault(worker, {})["running"] = sample.value
            elif sample.name == "proofmarket_cluster_agents":
                queues.setdefault(worker, {})["agents"] = sample.value
            elif sample.name == "proofmarket_cluster_jobs" and sample.labels.get("state"):
                load.setdefault("jobs", {})[sample.labels["state"]] = sample.value
            elif sample.name == "proofmarket_cluster_proven_cycles_per_second":
                load["proven_khz"] = round(sample.value / 1000, 2)
    return load


def broker_status(
    db_path: str | Path,
    store: TxStore | None,
    *,
    sender: str | None = None,
    market: Any = None,
    cluster_url: str | None = None,
    cluster_db: str | None = None,
) -> dict[str, Any]:
    return {
        "orders": orders_section(db_path),
        "balances": balances_section(market, sender),
        "cluster": cluster_section(cluster_url, cluster_db),
        "trader": queue_section(store, sender),
    }
