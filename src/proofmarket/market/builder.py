"""``RequestBuilder``: from a program, an input and an offer to a complete ProofRequest.

It uploads the program (the request carries only its URL), inlines small inputs and uploads
large ones, computes the image ID, picks the predicate (exact journal when known, else any
journal of the image) and fills offer defaults the way Boundless' ``OfferLayer`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from proofmarket.market.errors import InvalidRequestError
from proofmarket.market.guest_env import encode_guest_env
from proofmarket.market.predicates import digest_match, prefix_match
from proofmarket.market.request_id import RequestId
from proofmarket.market.storage import StorageProvider
from proofmarket.market.types import (
    ZERO_ADDRESS,
    Callback,
    Offer,
    Predicate,
    ProofRequest,
    RequestInput,
    Requirements,
)
from proofmarket.market.validation import MAX_INPUT_BYTES, validate_request

DEFAULT_INLINE_INPUT_LIMIT = 2048
"""Inputs up to this many encoded bytes go in the request; larger ones are uploaded."""
ETHER = 10**18


@dataclass(frozen=True)
class OfferParams:
    """Offer knobs; ``None`` means "use the default". Prices in wei, times in seconds.

    Defaults follow Boundless' offer layer: bidding starts 15 s after now, 60 s ramp-up,
    600 s lock timeout, 1200 s timeout. Prices default to 0 → 0.001 ETH and the lock
    collateral to 5 whole collateral tokens of 18 decimals.
    """

    min_price: int | None = None
    max_price: int | None = None
    ramp_up_start: int | None = None
    ramp_up_period: int | None = None
    lock_timeout: int | None = None
    timeout: int | None = None
    lock_collateral: int | None = None

    bidding_start_delay: int = 15
    default_min_price: int = 0
    default_max_price: int = ETHER // 1000
    default_ramp_up_period: int = 60
    default_lock_timeout: int = 600
    default_timeout: int = 1200
    default_lock_collateral: int = 5 * ETHER

    def build(self, now: int) -> Offer:
        """The concrete offer, with ``rampUpStart`` relative to ``now`` unless given."""
        lock_timeout = _pick(self.lock_timeout, self.default_lock_timeout)
        timeout = self.timeout
        if timeout is None:
            timeout = max(self.default_timeout, lock_timeout)
        ramp = self.ramp_up_period
        if ramp is None:
            ramp = min(self.default_ramp_up_period, lock_timeout)
        return Offer(
            min_price=_pick(self.min_price, self.default_min_price),
            max_price=_pick(self.max_price, self.default_max_price),
            ramp_up_start=_pick(self.ramp_up_start, now + self.bidding_start_delay),
            ramp_up_period=ramp,
            lock_timeout=lock_timeout,
            timeout=timeout,
            lock_collateral=_pick(self.lock_collateral, self.default_lock_collateral),
        )

    def with_values(self, **values: int | None) -> OfferParams:
        return replace(self, **values)  # type: ignore[arg-type]


def _pick(value: int | None, default: int) -> int:
    return default if value is None else value


@dataclass
class RequestBuilder:
    """Builds requests; ``storage`` is where programs and large inputs are uploaded."""

    storage: StorageProvider | None = None
    inline_input_limit: int = DEFAULT_INLINE_INPUT_LIMIT

    def image_url(self, program: bytes | None, program_url: str | None) -> str:
        """``program_url`` as given, else the URL of the uploaded program."""
        if program_url:
            return program_url
        if program is None:
            raise InvalidRequestError("a request needs a program (ELF bytes) or a program URL")
        if self.storage is None:
            raise InvalidRequestError("uploading the program needs a storage provider")
        return self.storage.upload_program(program)

    def request_input(self, stdin: bytes, *, input_url: str | None = None) -> RequestInput:
        """Inline the GuestEnv-encoded input if small, else upload it (or use ``input_url``)."""
        if input_url:
            return RequestInput.from_url(input_url)
        encoded = encode_guest_env(stdin)
        if len(encoded) <= min(self.inline_input_limit, MAX_INPUT_BYTES):
            return RequestInput.inline(encoded)
        if self.storage is None:
            raise InvalidRequestError(
                f"input of {len(encoded)} bytes is too large to inline "
                f"(limit {self.inline_input_limit}) and no storage provider is configured"
            )
        return RequestInput.from_url(self.storage.upload_input(encoded))

    def build(
        self,
        *,
        request_id: RequestId,
        image_id: bytes,
        now: int,
        program: bytes | None = None,
        program_url: str | None = None,
        stdin: bytes = b"",
        input_url: str | None = None,
        journal: bytes | None = None,
        predicate: Predicate | None = None,
        offer: OfferParams | None = None,
        callback_address: str = ZERO_ADDRESS,
        callback_gas_limit: int = 0,
        selector: bytes = b"\x00\x00\x00\x00",
    ) -> ProofRequest:
        """Assemble and validate a request.

        The predicate is, in order: ``predicate`` if given, DigestMatch on ``journal`` when
        the expected journal is known, else PrefixMatch with an empty prefix (any journal
        from this image).
        """
        if len(image_id) != 32:
            raise InvalidRequestError(f"image ID must be 32 bytes, got {len(image_id)}")
        if predicate is None:
            predicate = (
                digest_match(image_id, journal)
                if journal is not None
                else prefix_match(image_id, b"")
            )
        request = ProofRequest(
            id=request_id.value,
            requirements=Requirements(
                predicate=predicate,
                callback=Callback(addr=callback_address, gas_limit=callback_gas_limit),
                selector=selector,
            ),
            image_url=self.image_url(program, program_url),
            input=self.request_input(stdin, input_url=input_url),
            offer=(offer or OfferParams()).build(now),
        )
        validate_request(request)
        return request
