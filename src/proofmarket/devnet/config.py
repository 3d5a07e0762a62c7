"""Where a local devnet keeps its files, and which dev accounts play which role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8545
DEFAULT_STATE_DIR = Path(".proofmarket/devnet")
DEFAULT_ENV_FILE = Path(".env.devnet")
REQUESTOR_ACCOUNT = 0
"""anvil account #0 deploys the contracts and is the requestor (``PRIVATE_KEY``)."""
PROVER_ACCOUNT = 1
"""anvil account #1 is the prover (``PROVER_PRIVATE_KEY``)."""
FUNDED_ACCOUNTS = 4
"""Accounts #0..#3 get HP minted, an ETH deposit and an HP stake in the market."""
MINT_HP = 1_000
DEPOSIT_ETH = 10
STAKE_HP = 100


@dataclass(frozen=True)
class DevnetPaths:
    """Files of one devnet, all under ``state_dir`` except the env file."""

    state_dir: Path
    env_file: Path

    @classmethod
    def of(
        cls, state_dir: str | Path | None = None, env_file: str | Path | None = None
    ) -> DevnetPaths:
        return cls(
            Path(state_dir) if state_dir is not None else DEFAULT_STATE_DIR,
            Path(env_file) if env_file is not None else DEFAULT_ENV_FILE,
        )

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "anvil.pid"

    @property
    def port_file(self) -> Path:
        return self.state_dir / "anvil.port"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "anvil.log"

    @property
    def chain_state(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def deployment_file(self) -> Path:
        return self.state_dir / "deployment.json"
