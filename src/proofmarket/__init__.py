"""proofmarket: an open, self-hostable market for verifiable compute."""

__version__ = "0.1.0"
