"""Storage defaults, kept apart from the Redis and S3 modules so that reading them does
not import redis or boto3 (slow to import, and unused by the embedded filesystem stores)."""

from __future__ import annotations

DEFAULT_REDIS_TTL = 28_800
DEFAULT_S3_BUCKET = "proofmarket"
DEFAULT_S3_REGION = "us-west-2"
