"""The ``proofmarket`` command. Each command group lives in its own module with a
``register(app)`` function so that groups stay independent."""

from __future__ import annotations

import typer

from proofmarket.cli import (
    account_cmds,
    cluster_cmds,
    demo_cmds,
    devnet_cmds,
    guest_cmds,
    ops_cmds,
    request_cmds,
    tools_cmds,
    zkvm_cmds,
)

app = typer.Typer(
    name="proofmarket",
    help="proofmarket: a market for verifiable compute (zkVM, prover cluster, on-chain market).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_GROUPS = [
    demo_cmds,
    zkvm_cmds,
    guest_cmds,
    devnet_cmds,
    account_cmds,
    request_cmds,
    ops_cmds,
    cluster_cmds,
    tools_cmds,
]
for _group in _GROUPS:
    _group.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
