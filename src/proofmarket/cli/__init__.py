"""proofmarket.cli."""
