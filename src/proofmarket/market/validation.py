"""Whole-request checks, the same ones the contract applies, with readable errors.

Failing any of these makes the contract revert ``InvalidRequest`` (or fail ABI decoding for
the size limits), so checking them first turns an opaque revert into a precise message.
"""

from __future__ import annotations

from proofmarket.market.errors import InvalidRequestError
from proofmarket.market.predicates import predicate_problems
from proofmarket.market.pricing import offer_problems
from proofmarket.market.types import ProofRequest

MAX_IMAGE_URL_BYTES = 256
MAX_INPUT_BYTES = 2048
MAX_JOURNAL_BYTES = 2048
MAX_SEAL_BYTES = 1024
MAX_BATCH_FILLS = 32
"""Fills per typed batch call (submitRootAndFulfillBatch, fulfillAndWithdraw)."""
MAX_FULFILL_BATCH_FILLS = 256
"""Fills per fulfillBatch (decoded from padded calldata)."""
_ID_RESERVED_BITS = 193  # bit 192 is the ERC-1271 (smart-contract signature) flag


def request_problems(request: ProofRequest) -> list[str]:
    """Every reason the contract would reject ``request`` (empty when it is valid)."""
    problems: list[str] = []
    if request.id >> _ID_RESERVED_BITS:
        problems.append(
            f"request ID {request.id:#x} sets bits >= 193 (only bit 192, the smart-contract "
            "signature flag, may be set above the client address)"
        )
    url_size = len(request.image_url.encode())
    if url_size > MAX_IMAGE_URL_BYTES:
        problems.append(f"imageUrl is {url_size} bytes, the limit is {MAX_IMAGE_URL_BYTES}")
    if len(request.input.data) > MAX_INPUT_BYTES:
        problems.append(
            f"input data is {len(request.input.data)} bytes, the limit is {MAX_INPUT_BYTES} "
            "(upload it and use a url input)"
        )
    problems += predicate_problems(request.requirements.predicate)
    problems += offer_problems(request.offer)
    return problems


def validate_request(request: ProofRequest) -> None:
    """Raise :class:`InvalidRequestError` listing every problem of ``request``."""
    problems = request_problems(request)
    if problems:
        raise InvalidRequestError("invalid request: " + "; ".join(problems))
