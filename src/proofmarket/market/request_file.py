"""Request files: a YAML (or JSON) document shaped like ``ProofRequest``.

Two conveniences, as in Boundless' ``request.yaml``: ``id`` may be omitted or ``0`` (a fresh
index is allocated for the signer) and ``offer.rampUpStart`` may be omitted or ``0`` (bidding
starts a few seconds after the current block).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from proofmarket.market.errors import InvalidRequestError
from proofmarket.market.types import ProofRequest


def load_request_document(path: str | Path) -> dict[str, Any]:
    """Parse the file into a mapping; precise errors for missing files and bad YAML."""
    file = Path(path)
    if not file.is_file():
        raise InvalidRequestError(f"request file {file} does not exist")
    try:
        document = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise InvalidRequestError(f"request file {file} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidRequestError(
            f"request file {file} must hold a mapping with id, requirements, imageUrl, input, offer"
        )
    return document


def request_from_document(document: dict[str, Any], *, request_id: int, now: int) -> ProofRequest:
    """Fill the automatic fields and validate the document into a :class:`ProofRequest`."""
    data = dict(document)
    if not data.get("id"):
        data["id"] = request_id
    offer = data.get("offer")
    if isinstance(offer, dict) and not offer.get("rampUpStart"):
        data["offer"] = {**offer, "rampUpStart": now}
    try:
        return ProofRequest.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequestError("invalid request file: " + describe_validation(exc)) from None


def describe_validation(exc: ValidationError) -> str:
    """One line per problem: ``offer.maxPrice: Input should be ...``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "<root>"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
