"""Bonsai-compatible REST API (FastAPI) of the proving cluster."""

from proofmarket.cluster.api.app import ApiContext, ApiSettings, create_app

__all__ = ["ApiContext", "ApiSettings", "create_app"]
