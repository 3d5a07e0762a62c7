"""proofmarket.devnet: local chain (anvil), deployment, funding and env files."""
