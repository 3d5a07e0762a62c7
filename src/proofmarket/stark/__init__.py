"""proofmarket.stark."""
