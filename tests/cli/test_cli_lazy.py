"""The root command loads command groups only when they run; ``--help`` lists them all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    root = {"proofmarket.cli.main", "proofmarket.cli.coercion"}
    assert not any(m.startswith("proofmarket.cli.") and m not in root for m in loaded)


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


def test_plain_commands_never_import_pydantic(tmp_path) -> None:
    """typer coerces through pydantic; plain option values skip it (cli/coercion.py)."""
    assert "pydantic" not in _modules_after(["image-id", str(tmp_path / "missing.elf")])
    assert "pydantic" not in _modules_after(["cluster", "down", "--data-dir", str(tmp_path)])


def _coerce_both(annotation: type, value: object) -> tuple[object, object]:
    """(typer's result, the fast path's result), an exception's message standing for it."""
    from typer._click.exceptions import BadParameter
    from typer._coercion import build_runtime_param, resolve_type_descriptor
    from typer.core import TyperOption
    from typer.models import OptionInfo

    from proofmarket.cli.coercion import PlainRuntimeParam, plain_or_typer

    descriptor = resolve_type_descriptor(annotation=annotation, parameter_info=OptionInfo())
    fast = plain_or_typer(descriptor)
    assert isinstance(fast, PlainRuntimeParam)
    param = TyperOption(param_decls=["--x"], type_descriptor=descriptor)
    ctx = load_command("image-id").make_context("image-id", ["missing.elf"])
    results: list[object] = []
    for runtime in (build_runtime_param(descriptor), fast):
        try:
            results.append(runtime.coerce(value, param=param, ctx=ctx))
        except BadParameter as exc:
            results.append(("error", exc.format_message()))
    return results[0], results[1]


@pytest.mark.parametrize(
    ("annotation", "value"),
    [(int, "8081"), (int, "-3"), (int, 7), (float, "0.25"), (float, "1e3"), (float, 2),
     (float, ".5"), (str, "x y"), (bool, True), (Path, "some/dir"), (Path, Path("/a")),
     (int, "abc"), (int, "1.5"), (int, " 12"), (int, "1_000"), (int, ""), (float, "nan"),
     (float, "1,5"), (Path, "")],
)  # fmt: skip
def test_the_fast_path_agrees_with_typer(annotation: type, value: object) -> None:
    expected, got = _coerce_both(annotation, value)
    assert repr(got) == repr(expected) and type(got) is type(expected)  # nan != nan
