"""The root command loads command groups only when they run; ``--help`` lists them all."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from proofmarket import __version__
from proofmarket.cli.main import COMMANDS, app, load_command

HEAVY = ("web3", "boto3", "eth_account", "proofmarket.cluster", "proofmarket.market")


def _modules_after(argv: list[str]) -> set[str]:
    """Run the CLI in a fresh interpreter and return the modules it imported."""
    code = (
        "import sys\n"
        "from proofmarket.cli.main import app\n"
        "try:\n"
        f"    app({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stderr.split())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_registry_entry_matches_the_real_command(name: str) -> None:
    command = load_command(name)
    real = (command.help or "").strip().splitlines()[0]
    assert COMMANDS[name].help == real, f"update the help of {name!r} in cli/main.py COMMANDS"


def test_help_lists_every_command_without_importing_them() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name, entry in COMMANDS.items():
        assert name in result.output
        assert entry.help[:40] in result.output
    loaded = _modules_after(["--help"])
    assert not {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}
    assert not any(m.startswith("proofmarket.cli.") and m != "proofmarket.cli.main" for m in loaded)


def test_image_id_imports_only_the_zkvm(tmp_path) -> None:
    loaded = _modules_after(["image-id", str(tmp_path / "missing.elf")])
    assert "proofmarket.cli.zkvm_cmds" in loaded
    assert not {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"proofmarket {__version__}"


def test_unknown_command_suggests_the_closest() -> None:
    result = CliRunner().invoke(app, ["imag-id"])
    assert result.exit_code == 2
    assert "image-id" in result.output


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "proofmarket", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"proofmarket {__version__}"
