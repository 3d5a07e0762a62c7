"""Shared pytest configuration. Fixture modules live in tests/fixtures/, one per concern."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

pytest_plugins = ["fixtures.chain", "fixtures.services", "fixtures.storage"]


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Daemon commands run in-process (``broker run`` refusing a bad RPC, for one) set up
    the root logger as a daemon would; later tests in the same worker must not inherit
    its handlers and level, or their captured CLI output fills with log lines."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
