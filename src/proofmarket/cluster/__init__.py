"""proofmarket.cluster."""
