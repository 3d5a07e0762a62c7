"""Turn the market's revert data into typed exceptions.

The Vyper contracts revert with ``Error(string)`` whose text is the Boundless error name
(``RequestIsLocked``, ``InsufficientBalance``...). web3 surfaces it as
``ContractLogicError("execution reverted: <Name>", data=0x08c379a0...)``.
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode

from proofmarket.market.errors import ContractRevert, revert_for

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
PANIC_SELECTOR = bytes.fromhex("4e487b71")


def reason_from_data(data: bytes) -> str | None:
    """The ``Error(string)`` text in revert data, ``Panic(uint256)`` rendered, else None."""
    if data[:4] == ERROR_STRING_SELECTOR:
        try:
            (text,) = abi_decode(["string"], data[4:])
        except Exception:  # malformed payload: fall back to the raw message
            return None
        return str(text)
    if data[:4] == PANIC_SELECTOR and len(data) >= 36:
        return f"Panic(0x{int.from_bytes(data[4:36], 'big'):x})"
    return None


def _data_bytes(data: Any) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    if isinstance(data, dict):
        return _data_bytes(data.get("data"))
    return b""


def revert_from_exception(exc: BaseException, action: str = "") -> ContractRevert:
    """Build the typed revert for a web3 ``ContractLogicError`` (or similar) exception."""
    data = _data_bytes(getattr(exc, "data", None))
    reason = reason_from_data(data) if data else None
    if reason is None:
        message = str(getattr(exc, "message", None) or exc)
        reason = message.split("execution reverted", 1)[-1].lstrip(": ").strip()
        if reason.startswith("0x"):
            reason = ""
    name, _, detail = reason.partition(":")
    name = name.strip()
    if not name:
        hint = "no reason (an argument likely failed ABI decoding or exceeded a size limit)"
        return ContractRevert("Reverted", message=_with_action(action, hint))
    return revert_for(name, message=_with_action(action, detail.strip()))


def _with_action(action: str, detail: str) -> str:
    if action and detail:
        return f"{action}: {detail}"
    return action or detail
