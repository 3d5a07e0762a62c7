"""Parameter coercion without pydantic for the plain values most options take.

typer 0.29 coerces every parameter it parses through a pydantic ``TypeAdapter``, so any
command with a ``bool``, ``str``, ``Path``, ``int`` or ``float`` parameter imported pydantic
(0.2 s on an idle machine, far more on a busy one) before doing its own work; that was
most of what ``image-id`` and the ``cluster`` control commands paid on top of their own
imports. ``install`` gives such parameters a runtime coercion that converts the values a
shell passes (``"8081"``, ``"guest.elf"``) directly and hands anything else to typer's
own coercion, so bad values get exactly typer's error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer.core as typer_core
from typer._click.core import Context
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_path
from typer.core import _TyperParameter

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NOT_FAST = object()


def _fast(descriptor: TypeDescriptor, value: Any, param: _TyperParameter, ctx: Context) -> Any:
    """The coerced value, or ``_NOT_FAST`` when typer's own coercion must decide."""
    annotation = descriptor.annotation
    if annotation is bool:
        return value if isinstance(value, bool) else _NOT_FAST
    if annotation is str:
        return value if isinstance(value, str) else _NOT_FAST
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return int(value) if isinstance(value, str) and _INT.fullmatch(value) else _NOT_FAST
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return float(value) if isinstance(value, str) and _FLOAT.fullmatch(value) else _NOT_FAST
    if annotation is Path and isinstance(value, (str, Path)) and str(value):
        # typer's checks (exists, dir_okay, resolve_path, ...) run on the Path as usual
        return coerce_cli_path(
            Path(value), descriptor.parameter_info, path_type=Path, param=param, ctx=ctx
        )
    return _NOT_FAST


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    """Direct conversion for plain values; typer's (pydantic) coercion for the rest."""

    descriptor: TypeDescriptor

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        result = _fast(self.descriptor, value, param, ctx)
        if result is not _NOT_FAST:
            return result
        fallback = build_runtime_param(self.descriptor)
        return fallback._coerce_value(value, param=param, ctx=ctx)


def _is_plain(descriptor: TypeDescriptor) -> bool:
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return False
    if descriptor.annotation in (int, float):
        return info.min is None and info.max is None and not info.clamp
    return descriptor.annotation in (bool, str, Path) and info.path_type is None


def plain_or_typer(descriptor: TypeDescriptor) -> RuntimeParam:
    """The runtime coercion of one parameter: the fast path where it applies."""
    if _is_plain(descriptor):
        return PlainRuntimeParam(
            parameter_info=descriptor.parameter_info,
            annotation=descriptor.annotation,
            descriptor=descriptor,
        )
    return build_runtime_param(descriptor)


def install() -> None:
    """Make typer build every parameter's coercion through ``plain_or_typer``.

    typer builds a parameter's coercion on first use through the ``build_runtime_param``
    name in ``typer.core`` (options created on the fly, such as ``--help``, included);
    ``tests/cli/test_cli_lazy.py`` fails if a typer upgrade stops using that name.
    """
    typer_core.build_runtime_param = plain_or_typer
