"""What every command promises: --help, --json, exit codes, no tracebacks, cheap start-up."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Ran, run_zagi


def _commands() -> list[str]:
    """Every command the typer app registers, groups expanded ("secrets recipients add")."""
    from typing import Any

    import typer

    from zagi.cli.main import app

    def walk(cmd: Any, prefix: str) -> list[str]:
        subs = getattr(cmd, "commands", None)  # a group (typer vendors its own click)
        if subs:
            return [c for name, sub in sorted(subs.items())
                    for c in walk(sub, f"{prefix} {name}".strip())]
        return [prefix]

    return walk(typer.main.get_command(app), "")


COMMANDS = _commands()


def test_the_command_list_is_the_apps() -> None:
    assert len(COMMANDS) >= 30 and "secrets recipients ls" in COMMANDS and "doctor" in COMMANDS


def test_every_command_lives_in_a_module_named_after_it() -> None:
    """`zagi X ...` is zagi/cli/X.py: a newcomer finds any command's code by its name."""
    cli = Path(__file__).resolve().parents[2] / "zagi" / "cli"
    missing = sorted({c.split()[0] for c in COMMANDS} - {p.stem for p in cli.glob("*.py")})
    assert missing == []


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
