"""anvil refuses a port that something else already listens on."""

from __future__ import annotations

import socket

import pytest

from proofmarket.devnet.anvil import AnvilError, AnvilProcess, port_is_free


def test_start_on_a_busy_port_fails_clearly() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        assert not port_is_free(port)
        with pytest.raises(AnvilError, match="already in use"):
            AnvilProcess.start(port=port)
    assert port_is_free(port)
