"""-v is handled once for every command; --json output names the error's kind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Ran, run_zagi


def test_verbose_logs_the_programs_zagi_starts_after_or_before_the_command() -> None:
    for args in (["doctor", "-v"], ["-v", "doctor"]):
        ran = run_zagi(*args)
        assert "zagi: zagi.proc: run git" in ran.err, ran.err
    assert "zagi.proc" not in run_zagi("doctor").err


def test_dash_v_after_double_dash_belongs_to_the_command(tmp_path: Path) -> None:
    # `zagi run -- CMD -v`: the -v is CMD's, so zagi does not turn on its own logging
    ran = run_zagi("run", "-C", str(tmp_path), "--", "true", "-v")
    assert ran.code == 2 and "zagi.proc" not in ran.err  # no project here: bad input


def test_json_errors_name_their_kind(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    ran = zagi("init", "--json", str(tmp_path / "nope"))
    assert ran.code == 2 and ran.json()["kind"] == "BadInput"
    ran = zagi("publish", "--json", "-C", str(tmp_path))
    assert ran.code == 2 and ran.json()["kind"] == "BadInput"  # no project


def test_recipients_add_and_rm_print_json(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    from pyrage import x25519

    (tmp_path / ".zagi").mkdir()
    (tmp_path / ".zagi" / "env.toml").write_text("")
    a, b = (str(x25519.Identity.generate().to_public()) for _ in range(2))
    for key in (a, b):
        ran = zagi("secrets", "recipients", "add", key, "-C", str(tmp_path), "--json")
        assert ran.code == 0 and ran.json()["added"] == key
    assert zagi("secrets", "recipients", "ls", "-C", str(tmp_path), "--json").json() == \
        {"recipients": [a, b], "unconfirmed": []}
    ran = zagi("secrets", "recipients", "rm", a, "-C", str(tmp_path), "--json")
    assert ran.code == 0 and ran.json() == {"removed": a, "recipients": [b]}
