"""Shared pytest configuration. Fixture modules live in tests/fixtures/, one per concern."""

pytest_plugins = ["fixtures.chain", "fixtures.services", "fixtures.storage"]
