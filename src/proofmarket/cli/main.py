"""The ``proofmarket`` command, with command groups loaded lazily.

Each command group lives in its own module with a ``register(app)`` function. This file
only holds a registry mapping top-level command names to those modules plus the one-line
help shown by ``proofmarket --help``, so that ``--help`` or ``image-id`` never pay for
importing web3, boto3, the cluster or the prover (issue: start-up went from ~1 s to the
cost of typer itself).

How to register a new command or group
--------------------------------------
1. Write ``proofmarket/cli/<name>_cmds.py`` with ``register(app: typer.Typer)`` that
   adds your group (``app.add_typer(group, name="stark")``) or top-level commands
   (``app.command("prove")(prove_cmd)``). Keep heavy imports inside the module (or
   inside the command functions); nothing in this file imports it until it runs.
2. Add one line per top-level name to ``COMMANDS`` below:
   ``"stark": LazyCommand("proofmarket.cli.stark_cmds", "STARK engine tools."),``
   The help text must equal the first line of the command's own help; the test
   ``tests/cli/test_lazy.py`` checks that and that every name really registers.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

import typer
from typer._click.core import Command, Context  # typer ships its own click
from typer._click.exceptions import UsageError
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand, TyperGroup

from proofmarket import __version__
from proofmarket.cli import coercion

coercion.install()  # plain option values parsed without importing pydantic


@dataclass(frozen=True)
class LazyCommand:
    """Where a top-level command lives and what ``--help`` says about it."""

    module: str
    help: str


COMMANDS: dict[str, LazyCommand] = {
    "demo": LazyCommand(
        "proofmarket.cli.demo_cmds",
        "Run the end-to-end demo: request, lock, prove, fulfil, verify; then a STARK.",
    ),
    "execute": LazyCommand(
        "proofmarket.cli.zkvm_cmds",
        "Execute a guest and report image ID, exit code, cycles, segments and journal.",
    ),
    "image-id": LazyCommand(
        "proofmarket.cli.zkvm_cmds",
        "Print the image ID of a guest ELF (digest of its initial machine state).",
    ),
    "prove": LazyCommand(
        "proofmarket.cli.guest_cmds",
        "Execute a guest and prove every segment with a STARK (--dev-mode: no proof).",
    ),
    "verify": LazyCommand(
        "proofmarket.cli.guest_cmds",
        "Verify a receipt against an image ID; exit status 1 when it does not verify.",
    ),
    "guest": LazyCommand(
        "proofmarket.cli.guest_cmds", "Build RV32IM guest programs with the bundled C SDK."
    ),
    "devnet": LazyCommand(
        "proofmarket.cli.devnet_cmds", "Run a local anvil devnet with the market deployed."
    ),
    "account": LazyCommand(
        "proofmarket.cli.account_cmds", "Deposit, withdraw and inspect market balances."
    ),
    "request": LazyCommand(
        "proofmarket.cli.request_cmds", "Submit proof requests and fetch their proofs."
    ),
    "ops": LazyCommand(
        "proofmarket.cli.ops_cmds",
        "Market operations: slashing (anyone) and the owner's two-step handover.",
    ),
    "cluster": LazyCommand(
        "proofmarket.cli.cluster_cmds",
        "Proving cluster: agents, REST API, operator commands, bench.",
    ),
    "broker": LazyCommand(
        "proofmarket.cli.broker_cmds", "Run a prover's broker (price, lock, prove, fulfil)."
    ),
    "prover": LazyCommand(
        "proofmarket.cli.prover_cmds", "Benchmark the proving cluster and generate a broker.toml."
    ),
    "stark": LazyCommand(
        "proofmarket.cli.stark_cmds", "STARK engine tools: the security calculator."
    ),
    "orderstream": LazyCommand(
        "proofmarket.cli.orderstream_cmds",
        "Off-chain order stream: requests without gas, pushed to brokers.",
    ),
    "tools": LazyCommand(
        "proofmarket.cli.tools_cmds", "Install and locate external tools; precompile numba kernels."
    ),
}


def load_command(name: str) -> Command:
    """Import the module behind ``name`` and build its click command."""
    entry = COMMANDS[name]
    module = importlib.import_module(entry.module)
    holder = typer.Typer(pretty_exceptions_enable=False)

    @holder.callback()
    def _group() -> None:  # a callback makes typer build a group even for one command
        pass

    module.register(holder)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    command = group.commands.get(name)
    if command is None:
        raise RuntimeError(f"{entry.module}.register() does not add a command named {name!r}")
    return command


class LazyGroup(TyperGroup):
    """A root group whose sub-commands are imported only when they run.

    While help is being printed it answers with light stand-ins carrying the registry's
    help text, so ``--help`` imports nothing.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name].help)
        command = load_command(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as exc:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                exc.message = exc.message.rstrip(".") + ". Did you mean " + repr(matches[0]) + "?"
            raise


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"proofmarket {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="proofmarket",
    cls=LazyGroup,
    help="proofmarket: a market for verifiable compute (zkVM, prover cluster, on-chain market).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        is_eager=True,
        callback=_show_version,
    ),
) -> None:
    """proofmarket: a market for verifiable compute (zkVM, prover cluster, on-chain market)."""


def run(args: list[str]) -> int:
    """Run ``proofmarket <args>`` in this process and return its exit status (used by the
    cluster supervisor to start its children in forked copies of itself)."""
    try:
        app(args=args, prog_name="proofmarket", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def main() -> None:
    """Console-script entry point: runs the command and reports whatever it did not.

    Usage errors print as usual (as JSON under ``--json``); an exception that no command
    handled becomes one ``error:`` line (or JSON object) instead of a traceback, unless
    ``PROOFMARKET_DEBUG`` is set.
    """
    from typer import Abort
    from typer._click.exceptions import ClickException

    from proofmarket.cli.errors import DEBUG_ENV, describe, report

    args = sys.argv[1:]
    as_json = "--json" in args
    try:
        result = app(args=args, prog_name="proofmarket", standalone_mode=False)
    except ClickException as exc:
        if not as_json:
            from typer import rich_utils

            rich_utils.rich_format_error(exc)
        else:
            report(exc.format_message(), as_json=True)
        sys.exit(exc.exit_code)
    except Abort:
        report("aborted", as_json=as_json)
        sys.exit(1)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        hint = "" if as_json else f" (set {DEBUG_ENV}=1 for the traceback)"
        report(describe(exc) + hint, as_json=as_json)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
