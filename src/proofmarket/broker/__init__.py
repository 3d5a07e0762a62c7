"""The prover's market agent: prices, locks, proves and fulfils requests."""
