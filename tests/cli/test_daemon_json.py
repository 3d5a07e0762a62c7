"""``--json`` on the long-running commands: every line a JSON object, start and stop
announced, errors as ``{"ok": false, ...}``; and ``broker config-template --json``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from proofmarket.cli.daemon_output import lifecycle

CLI = [sys.executable, "-m", "proofmarket"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_cluster_api_announces_start_and_stop_as_json(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "cluster", "api", "--json", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["event"] == "starting" and first["daemon"] == "cluster-api"
        assert first["pid"] == proc.pid and first["url"] == f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:  # the API answers, then stops cleanly on SIGTERM
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "API did not answer"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    last = _json_lines(out)[-1]
    assert last == {"event": "stopped", "daemon": "cluster-api", "ok": True, "reason": "SIGTERM"}
    for record in _json_lines(err):  # log records, if any, are JSON too
        assert {"ts", "level", "logger", "message"} <= set(record)


def test_daemon_usage_and_config_errors_are_json(tmp_path: Path) -> None:
    agent = _run("cluster", "agent", "--json", "--type", "bogus", "--data-dir", str(tmp_path))
    assert agent.returncode == 2
    assert _json_lines(agent.stdout)[-1]["ok"] is False
    assert "bogus" in _json_lines(agent.stdout)[-1]["error"]

    missing = tmp_path / "missing.toml"
    broker = _run("broker", "run", "--json", "--config", str(missing))
    assert broker.returncode == 1
    (error,) = _json_lines(broker.stdout)
    assert error["ok"] is False and str(missing) in error["error"]

    stream = _run("orderstream", "up", "--json", "--heartbeat-interval", "0")
    assert stream.returncode == 1
    (error,) = _json_lines(stream.stdout)
    assert error["ok"] is False and "--heartbeat-interval" in error["error"]


def test_config_template_json(tmp_path: Path) -> None:
    target = tmp_path / "broker.toml"
    written = _run("broker", "config-template", str(target), "--json")
    assert written.returncode == 0, written.stderr
    assert json.loads(written.stdout) == {"ok": True, "path": str(target)}
    assert target.read_text().strip()
    again = _run("broker", "config-template", str(target), "--json")
    assert again.returncode == 1
    error = json.loads(again.stdout)
    assert error["ok"] is False and "--force" in error["error"]


def test_lifecycle_reports_why_a_daemon_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError), lifecycle("demo", True, port=1):
        raise ValueError("database unreachable")
    starting, stopped = _json_lines(capsys.readouterr().out)
    assert starting["event"] == "starting" and starting["port"] == 1
    assert stopped == {
        "event": "stopped",
        "daemon": "demo",
        "ok": False,
        "reason": "database unreachable",
    }
    with lifecycle("demo", False):  # people get no event lines
        pass
    assert capsys.readouterr().out == ""
