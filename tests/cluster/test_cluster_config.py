"""Receipt settings of the cluster: real proving unless dev mode is asked for (flag or
PROOFMARKET_DEV_MODE), the STARK profile from the option or the environment, and
`cluster up` handing both to every agent it starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.cluster.config import (
    DEFAULT_STARK_PROFILE,
    DEV_MODE_ENV,
    INSECURE_STARK_PROFILE,
    STARK_PROFILE_ENV,
    resolve_config,
)
from proofmarket.cluster.supervisor import UpOptions, build_children


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEV_MODE_ENV, raising=False)
    monkeypatch.delenv(STARK_PROFILE_ENV, raising=False)


def test_real_proving_is_the_default(tmp_path: Path) -> None:
    config = resolve_config(data_dir=tmp_path)
    assert config.dev_mode is False
    assert config.stark_profile == DEFAULT_STARK_PROFILE
    assert not config.insecure_profile
    assert config.receipt_kind == "STARK (default profile)"


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("0", False)])
def test_dev_mode_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv(DEV_MODE_ENV, value)
    assert resolve_config(data_dir=tmp_path).dev_mode is expected
    assert resolve_config(data_dir=tmp_path, dev_mode=True).dev_mode is True


def test_profile_from_option_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STARK_PROFILE_ENV, "conservative")
    assert resolve_config(data_dir=tmp_path).stark_profile == "conservative"
    config = resolve_config(data_dir=tmp_path, stark_profile=INSECURE_STARK_PROFILE)
    assert config.stark_profile == INSECURE_STARK_PROFILE and config.insecure_profile
    with pytest.raises(ValueError, match="unknown STARK profile 'fast'"):
        resolve_config(data_dir=tmp_path, stark_profile="fast")


def test_up_passes_receipt_settings_to_every_agent(tmp_path: Path) -> None:
    children = build_children(
        UpOptions(tmp_path, dev_mode=True, stark_profile=INSECURE_STARK_PROFILE)
    )
    agents = [c for c in children if c.name.startswith("agent-")]
    assert len(agents) == 4
    for child in agents:
        assert "--dev-mode" in child.argv
        at = child.argv.index("--stark-profile")
        assert child.argv[at + 1] == INSECURE_STARK_PROFILE
    plain = build_children(UpOptions(tmp_path))
    assert not any("--dev-mode" in c.argv or "--stark-profile" in c.argv for c in plain)


def test_agent_refuses_an_unknown_profile(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["cluster", "agent", "--type", "prove", "--stark-profile", "fast", "--data-dir",
         str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "unknown STARK profile" in result.output
