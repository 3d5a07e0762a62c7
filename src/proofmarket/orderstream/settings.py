"""Limits and timings of the order-stream service, in one typed place."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024


@dataclass(frozen=True)
class StreamSettings:
    """Defaults suit one public service; tests shrink the timings and limits."""

    max_body_bytes: int = 64 * KIB
    """A valid order is a few KiB (input ≤ 2 KiB inline); anything larger is refused (413)."""
    submit_per_minute_per_address: float = 60.0
    submit_per_minute_per_ip: float = 120.0
    connect_per_minute_per_ip: float = 30.0
    """Nonce requests and WebSocket connections."""
    read_per_minute_per_ip: float = 600.0
    heartbeat_interval: float = 5.0
    """Seconds between the server's pings; a subscriber must answer (or send anything)."""
    heartbeat_timeout: float = 15.0
    """A subscriber silent this long is dropped (Boundless #241: dead sockets went unseen)."""
    send_timeout: float = 10.0
    nonce_ttl: float = 300.0
    max_clock_skew: float = 120.0
    max_subscribers: int = 256
    subscriber_queue: int = 1000
    max_page: int = 1000
    replay_page: int = 500
    tail_interval: float = 0.5
    """Seconds between looks for orders stored by other processes sharing the database."""
    min_broker_stake: int = 0
    """Collateral (token units) a subscriber must hold in the market; 0 = anyone may listen."""
