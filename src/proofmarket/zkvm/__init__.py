"""proofmarket.zkvm."""
