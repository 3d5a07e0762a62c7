"""proofmarket.devnet."""
