"""proofmarket.contracts."""
