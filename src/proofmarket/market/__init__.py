"""proofmarket.market."""
