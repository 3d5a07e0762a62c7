"""Reading and writing ``KEY=VALUE`` environment files such as ``.env.devnet``.

The format is the common dotenv subset: one assignment per line, ``#`` comments, optional
``export`` prefix and optional single or double quotes around the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEVNET_ENV_FILE = ".env.devnet"


class EnvFileError(ValueError):
    """An environment file has a line that is not ``KEY=VALUE``."""


def parse_env_text(text: str, source: str = "<env>") -> dict[str, str]:
    """Parse dotenv text into a dict; raises :class:`EnvFileError` on malformed lines."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "").isalnum():
            raise EnvFileError(f"{source}:{number}: expected KEY=VALUE, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def read_env_file(path: str | Path) -> dict[str, str]:
    """Parse an env file; a missing file gives an empty dict."""
    file = Path(path)
    if not file.is_file():
        return {}
    return parse_env_text(file.read_text(), str(file))


def write_env_file(path: str | Path, values: Mapping[str, str], header: str = "") -> Path:
    """Write ``values`` as ``KEY=VALUE`` lines (atomically), with an optional comment header."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [f"{key}={value}" for key, value in values.items()]
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(file)
    return file


def find_devnet_env(start: str | Path | None = None) -> Path | None:
    """``$PROOFMARKET_ENV_FILE`` if set, else ``.env.devnet`` in ``start`` (default: cwd)."""
    override = os.environ.get("PROOFMARKET_ENV_FILE")
    if override:
        return Path(override)
    candidate = Path(start or Path.cwd()) / DEVNET_ENV_FILE
    return candidate if candidate.is_file() else None
