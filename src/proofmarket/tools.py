"""Project-local external tools: anvil from npm and the ziglang clang from PyPI.

Tools are installed into the project's ``.tools/`` directory (never globally) so that a
fresh checkout needs nothing installed by hand beyond Python and Node.js/npm. This module
sits below every package that looks a tool up (the zkVM's guest toolchain needs zig, the
devnet needs anvil), so none of them imports a package above its own floor.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ANVIL_NPM_PACKAGE = "@foundry-rs/anvil"
ANVIL_NPM_VERSION = "1.7.1"


class ToolError(RuntimeError):
    """An external tool is missing and could not be installed."""


def project_root() -> Path:
    """The checkout root (the directory holding pyproject.toml), else the cwd."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


def tools_dir() -> Path:
    """Where project-local tools live; override with PROOFMARKET_TOOLS_DIR."""
    override = os.environ.get("PROOFMARKET_TOOLS_DIR")
    return Path(override) if override else project_root() / ".tools"


def anvil_path() -> Path | None:
    """The anvil binary to use: $ANVIL_BIN, the project-local one, or one on PATH."""
    override = os.environ.get("ANVIL_BIN")
    if override:
        return Path(override)
    local = tools_dir() / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return local
    found = shutil.which("anvil")
    return Path(found) if found else None


def ensure_anvil() -> Path:
    """Return the anvil binary, installing it from npm into the tools directory if missing."""
    existing = anvil_path()
    if existing is not None:
        return existing
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("anvil is not installed and npm was not found to install it")
    target = tools_dir()
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            npm,
            "install",
            "--no-fund",
            "--no-audit",
            "--prefix",
            str(target),
            f"{ANVIL_NPM_PACKAGE}@{ANVIL_NPM_VERSION}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    local = target / "node_modules" / ".bin" / "anvil"
    if result.returncode != 0 or not local.exists():
        detail = result.stderr.strip()[-2000:]
        raise ToolError(f"npm install of {ANVIL_NPM_PACKAGE} failed: {detail}")
    return local


def zig_command() -> list[str]:
    """The command prefix that runs the zig bundled in the ``ziglang`` PyPI package."""
    try:
        import ziglang  # noqa: F401
    except ImportError as exc:  # pragma: no cover - ziglang is a hard dependency
        raise ToolError("the 'ziglang' package is not installed") from exc
    return [sys.executable, "-m", "ziglang"]
