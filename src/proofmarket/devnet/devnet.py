"""A local devnet: a detached anvil with the dev-mode market stack deployed and funded.

``devnet_up`` is idempotent: when the chain already runs and the contracts are there it only
rewrites the env file; when anvil was stopped it restarts it on the saved state (anvil
``--state``), and redeploys only if the contracts are gone. ``devnet_down`` stops anvil (which
dumps its state) and keeps the state for the next ``up`` unless asked to purge it.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3

from proofmarket.contracts.deploy import (
    Deployment,
    DeploymentError,
    deploy_market_stack,
    mint_hit_points,
)
from proofmarket.devnet.anvil import (
    AnvilError,
    AnvilProcess,
    dev_accounts,
    dev_keys,
    rpc_ready,
    stop_anvil,
)
from proofmarket.devnet.config import (
    DEFAULT_PORT,
    DEPOSIT_ETH,
    FUNDED_ACCOUNTS,
    MINT_HP,
    PROVER_ACCOUNT,
    REQUESTOR_ACCOUNT,
    STAKE_HP,
    DevnetPaths,
)
from proofmarket.devnet.env import write_env_file
from proofmarket.market.client import MarketClient
from proofmarket.processes import pid_alive

ETHER = 10**18
STATE_INTERVAL_S = 5


class DevnetError(RuntimeError):
    """The devnet could not be started, deployed or inspected."""


@dataclass
class DevnetStatus:
    """What ``devnet status`` reports."""

    running: bool
    state_dir: str
    env_file: str
    pid: int | None = None
    port: int | None = None
    rpc_url: str | None = None
    chain_id: int | None = None
    block_number: int | None = None
    contracts_present: bool = False
    deployment: Deployment | None = None
    actions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "port": self.port,
            "rpcUrl": self.rpc_url,
            "chainId": self.chain_id,
            "blockNumber": self.block_number,
            "contractsPresent": self.contracts_present,
            "stateDir": self.state_dir,
            "envFile": self.env_file,
            "deployment": self.deployment.to_dict() if self.deployment else None,
            "actions": self.actions,
        }


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _load_deployment(paths: DevnetPaths) -> Deployment | None:
    if not paths.deployment_file.is_file():
        return None
    try:
        return Deployment.from_json(paths.deployment_file.read_text())
    except DeploymentError:
        return None


def devnet_status(paths: DevnetPaths) -> DevnetStatus:
    """Inspect the devnet recorded in ``paths`` without changing anything."""
    status = DevnetStatus(
        running=False, state_dir=str(paths.state_dir), env_file=str(paths.env_file)
    )
    pid = _read_int(paths.pid_file)
    port = _read_int(paths.port_file)
    status.deployment = _load_deployment(paths)
    if pid is None or port is None or not pid_alive(pid):
        return status
    rpc_url = f"http://127.0.0.1:{port}"
    chain_id = rpc_ready(rpc_url)
    if chain_id is None:
        return status
    status.running = True
    status.pid, status.port, status.rpc_url, status.chain_id = pid, port, rpc_url, chain_id
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    status.block_number = int(w3.eth.block_number)
    if status.deployment is not None:
        status.contracts_present = bool(
            w3.eth.get_code(Web3.to_checksum_address(status.deployment.market))
        )
    return status


def _deploy_and_fund(w3: Web3) -> Deployment:
    accounts = dev_accounts()
    deployer = accounts[REQUESTOR_ACCOUNT].address
    deployment = deploy_market_stack(w3, deployer, dev_mode=True)
    for account in accounts[:FUNDED_ACCOUNTS]:
        mint_hit_points(w3, deployer, deployment, account.address, MINT_HP * ETHER)
        client = MarketClient(w3, deployment.market, account, tx_timeout=60)
        client.deposit(DEPOSIT_ETH * ETHER)
        client.deposit_stake(STAKE_HP * ETHER)
    return deployment


def env_values(rpc_url: str, deployment: Deployment, paths: DevnetPaths) -> dict[str, str]:
    """The variables ``.env.devnet`` holds."""
    keys = dev_keys()
    return {
        "RPC_URL": rpc_url,
        "CHAIN_ID": str(deployment.chain_id),
        "PRIVATE_KEY": keys[REQUESTOR_ACCOUNT],
        "PROVER_PRIVATE_KEY": keys[PROVER_ACCOUNT],
        "PROOFMARKET_MARKET_ADDRESS": deployment.market,
        "PROOFMARKET_COLLATERAL_TOKEN_ADDRESS": deployment.collateral_token,
        "PROOFMARKET_VERIFIER_ROUTER_ADDRESS": deployment.verifier_router,
        "PROOFMARKET_SET_VERIFIER_ADDRESS": deployment.set_verifier,
        "PROOFMARKET_MOCK_VERIFIER_ADDRESS": deployment.mock_verifier or "",
        "PROOFMARKET_DEPLOY_BLOCK": str(deployment.deploy_block),
        "STORAGE_PROVIDER": "file",
        "FILE_STORAGE_DIR": str((paths.state_dir / "storage").resolve()),
    }


ENV_HEADER = """proofmarket local devnet (written by `proofmarket devnet up`).
PRIVATE_KEY is anvil account #0 (deployer and requestor); PROVER_PRIVATE_KEY is account #1.
Accounts #0-#3 hold a 10 ETH market deposit and a 100 HP stake. On chain the mock verifier
accepts seals that prove nothing (receipts are checked off chain); never reuse these keys
or addresses on a real network."""


def devnet_up(
    paths: DevnetPaths, port: int | None = None, *, block_time: float | None = None
) -> DevnetStatus:
    """Start (or reuse) the devnet and make sure the contracts are deployed and funded.

    ``port`` defaults to the running devnet's port, else the last one used, else 8545.
    """
    status = devnet_status(paths)
    actions: list[str] = []
    if status.running:
        if port is not None and status.port != port:
            raise DevnetError(
                f"the devnet in {paths.state_dir} already runs on port {status.port}; "
                f"run `proofmarket devnet down` first to move it to port {port}"
            )
        actions.append("anvil already running")
    else:
        paths.state_dir.mkdir(parents=True, exist_ok=True)
        paths.pid_file.unlink(missing_ok=True)
        restoring = paths.chain_state.is_file()
        if port is None:
            port = _read_int(paths.port_file) or DEFAULT_PORT
        if rpc_ready(f"http://127.0.0.1:{port}", timeout=0.5) is not None:
            raise DevnetError(
                f"port {port} already answers JSON-RPC (another node or devnet); "
                "pick another --port or stop that node"
            )
        try:
            anvil = AnvilProcess.start(
                port=port,
                block_time=block_time,
                state_dir=paths.state_dir,
                detach=True,
                extra_args=("--state-interval", str(STATE_INTERVAL_S)),
            )
        except AnvilError as exc:
            raise DevnetError(f"cannot start anvil on port {port}: {exc}") from exc
        paths.pid_file.write_text(f"{anvil.pid}\n")
        paths.port_file.write_text(f"{anvil.port}\n")
        actions.append(
            f"started anvil (pid {anvil.pid}, port {anvil.port})"
            + (" on the saved chain state" if restoring else "")
        )
        status = devnet_status(paths)
        if not status.running:
            raise DevnetError(f"anvil started but does not answer; see {paths.log_file}")
    assert status.rpc_url is not None
    w3 = Web3(Web3.HTTPProvider(status.rpc_url))
    if status.deployment is not None and status.contracts_present:
        actions.append(f"contracts present (market {status.deployment.market})")
    else:
        deployment = _deploy_and_fund(w3)
        paths.deployment_file.write_text(deployment.to_json())
        actions.append(f"deployed and funded (market {deployment.market})")
    status = devnet_status(paths)
    assert status.deployment is not None and status.rpc_url is not None
    write_env_file(paths.env_file, env_values(status.rpc_url, status.deployment, paths), ENV_HEADER)
    actions.append(f"wrote {paths.env_file}")
    status.actions = actions
    return status


def devnet_down(paths: DevnetPaths, *, purge: bool = False) -> list[str]:
    """Stop anvil (its state is dumped for the next ``up``); ``purge`` deletes everything."""
    actions: list[str] = []
    pid = _read_int(paths.pid_file)
    if pid is not None and pid_alive(pid):
        stop_anvil(pid)
        actions.append(f"stopped anvil (pid {pid})")
    else:
        actions.append("anvil was not running")
    paths.pid_file.unlink(missing_ok=True)
    if purge:
        if paths.state_dir.exists():
            _remove_tree(paths.state_dir)
            actions.append(f"removed {paths.state_dir}")
        with contextlib.suppress(FileNotFoundError):
            paths.env_file.unlink()
            actions.append(f"removed {paths.env_file}")
    return actions


def _remove_tree(path: Path) -> None:
    """Delete ``path``; retried briefly because a just-stopped anvil may still be closing
    its state and log files (rmtree then fails with "Directory not empty")."""
    for attempt in range(20):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if attempt == 19:
                raise
            time.sleep(0.1)
