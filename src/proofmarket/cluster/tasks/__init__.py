"""Task handlers run by agents, one module per task type."""
