"""Local guest execution for the CLI: the ``--cycle-limit`` option and a progress line.

Shared by ``execute``, ``prove`` and ``request submit``'s preflight so that every local
execution is bounded the same way (see :mod:`proofmarket.limits`) and shows where
it is on a terminal.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from proofmarket.zkvm.session import Session

CycleLimitOpt = Annotated[
    str | None,
    typer.Option(
        "--cycle-limit",
        help="Stop beyond this many cycles, e.g. 500M or 256Mi "
        "(default: env PROOFMARKET_CYCLE_LIMIT, else 256Mi).",
    ),
]


def cycle_limit_value(text: str | None) -> int:
    """The effective limit: the option's value, else the configured default."""
    from proofmarket.limits import default_cycle_limit, parse_cycles

    try:
        return default_cycle_limit() if text is None else parse_cycles(text, what="--cycle-limit")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cycle-limit") from None


def execute_bounded(
    elf: bytes, data: bytes, *, cycle_limit: int, segment_po2: int | None = None, show: bool
) -> Session:
    """Execute without keeping segments (memory stays flat), with a live line on a terminal."""
    from proofmarket.zkvm.executor import execute
    from proofmarket.zkvm.layout import DEFAULT_SEGMENT_PO2

    po2 = DEFAULT_SEGMENT_PO2 if segment_po2 is None else segment_po2
    if not (show and sys.stderr.isatty()):
        return execute(elf, data, segment_po2=po2, cycle_limit=cycle_limit, keep_segments=False)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("executing"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} / {task.total:,.0f} cycles, {task.fields[segments]} seg"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        bar = progress.add_task("execute", total=cycle_limit, segments=0)

        def on_progress(segments: int, cycles: int) -> None:
            progress.update(bar, completed=cycles, segments=segments)

        return execute(
            elf,
            data,
            segment_po2=po2,
            cycle_limit=cycle_limit,
            keep_segments=False,
            on_progress=on_progress,
        )


__all__ = ["CycleLimitOpt", "cycle_limit_value", "execute_bounded"]
