"""What every command promises: --help, --json, exit codes, no tracebacks, cheap start-up."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Ran, run_zagi

COMMANDS = ["init", "add", "remove", "lock", "sync", "envs", "gc", "catalog search",
            "catalog update", "hook", "allow", "deny", "env", "run", "shell", "watch",
            "secrets init", "secrets set", "secrets ls", "secrets get", "secrets rm",
            "secrets check", "secrets recipients add", "agent", "keys generate", "keys list",
            "publish", "clone", "cache serve", "doctor"]


@pytest.mark.parametrize("cmd", [[], *(c.split() for c in COMMANDS)])
def test_help_everywhere(cmd: list[str], zagi: Callable[..., Ran]) -> None:
    ran = zagi(*cmd, "--help")
    assert ran.code == 0
    assert "Usage" in ran.out
    if cmd:
        assert "--json" in ran.out and "--verbose" in ran.out


def test_version(zagi: Callable[..., Ran]) -> None:
    from zagi import __version__

    assert zagi("--version").out.strip() == f"zagi {__version__}"
    assert run_zagi("--version").out.strip() == f"zagi {__version__}"
    assert run_zagi("-V").code == 0


def test_usage_errors_exit_2(zagi: Callable[..., Ran]) -> None:
    assert zagi("frobnicate").code == 2
    assert zagi("init", "--no-such-flag").code == 2


def test_bad_input_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    ran = run_zagi("init", str(tmp_path / "nope"))
    assert ran.code == 2
    assert "not a directory" in ran.err
    assert "Traceback" not in ran.err + ran.out


def test_errors_in_json_mode_are_json(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    ran = zagi("init", "--json", str(tmp_path / "nope"))
    assert ran.code == 2
    assert ran.json()["exit_code"] == 2 and "not a directory" in ran.json()["error"]


def test_no_color_means_no_escape_codes(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    ran = run_zagi("init", "--dry-run", str(tmp_path), env={"NO_COLOR": "1", "TERM": "xterm",
                                                              "FORCE_COLOR": ""})
    assert ran.code == 0
    assert "\x1b[" not in ran.out + ran.err


def _imported(*args: str) -> set[str]:
    """Modules imported by running the console entry point with ARGS (-X importtime)."""
    code = "import sys; sys.argv=['zagi', *sys.argv[1:]]; from zagi.__main__ import main; main()"
    cp = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args],
                        capture_output=True, text=True, timeout=60)
    return {line.split("|")[-1].strip() for line in cp.stderr.splitlines() if "|" in line}


def test_version_imports_nothing_heavy() -> None:
    mods = _imported("--version")
    assert not {"typer", "pydantic", "tomlkit", "rich", "yaml", "detectors"} & mods


def test_help_imports_no_pydantic_tomlkit_or_detectors() -> None:
    mods = _imported("--help")
    assert "typer" in mods  # sanity: the probe saw the CLI load
    assert not {"pydantic", "tomlkit", "detectors", "yaml", "rich"} & mods
    sub = _imported("init", "--help")
    assert not {"pydantic", "tomlkit", "detectors", "yaml", "rich"} & sub


def test_docs_cover_every_command() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    for cmd in COMMANDS:
        assert f"## zagi {cmd}" in text, f"docs/cli.md lacks a section for zagi {cmd}"
