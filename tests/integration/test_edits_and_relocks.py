"""What a newcomer tripped over when editing an env: a failed `zagi add` must change
nothing, a relock must not move what the edit did not touch, and `zagi run` must say
when it rewrites the committed lock."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Ran
from tests.integration.conftest import make_project

pytestmark = pytest.mark.integration


def _digests(p: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted((p / ".zagi").iterdir()) if f.is_file()}


def test_a_failed_add_leaves_every_file_byte_identical(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path / "p", '[tools]\nnode = "20" # .nvmrc:1 (pin)\n')
    z("lock", cwd=p)
    before = _digests(p)
    bad = z("add", "node@99", cwd=p, check=False)
    assert bad.code == 2 and bad.err.startswith("error: zagi add node@99: node '99'")
    assert "nothing was changed" in bad.err and "env.toml:" not in bad.err
    two = z("add", "zig", "foobar", cwd=p, check=False)  # the first is fine, the second not
    assert two.code == 2 and "zagi add zig foobar" in two.err and "env.toml:" not in two.err
    assert _digests(p) == before
    z("add", "zig@0.15", cwd=p)  # and the project still works afterwards
    assert 'zig = "0.15"' in (p / ".zagi" / "env.toml").read_text()


def _forge_older_node(tmp_path: Path, z: Callable[..., Ran], p: Path) -> None:
    """As if p's lock was written when the catalog's newest node 20 was 20.11.1."""
    old = make_project(tmp_path / "older", '[tools]\nnode = "20.11"\n')
    z("lock", cwd=old)
    older = json.loads((old / ".zagi" / "env.lock").read_text())
    lock = json.loads((p / ".zagi" / "env.lock").read_text())
    node = dict(older["packages"]["node"], request="20")
    lock["packages"]["node"] = node
    lock["nixpkgs"] = {node["nixpkgs"]: older["nixpkgs"][node["nixpkgs"]]}
    lock["systems"] = {}
    (p / ".zagi" / "env.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")


def test_relocks_keep_what_was_not_touched_and_update_moves_it(
        tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path / "p", '[tools]\nnode = "20"\n')
    z("lock", cwd=p)
    _forge_older_node(tmp_path, z, p)
    z("add", "uv@0.4", cwd=p)  # relocks: uv is new, node's request did not change
    packages = json.loads((p / ".zagi" / "env.lock").read_text())["packages"]
    assert packages["node"]["version"] == "20.11.1" and packages["uv"]["version"] == "0.4.18"
    moved = json.loads(z("update", "node", "--json", cwd=p).out)
    assert moved["updated"] == [{"name": "node", "from": "20.11.1", "to": "20.12.2"}]
    assert z("update", cwd=p).out.startswith("everything is already at the newest")
    assert z("update", "nope", cwd=p, check=False).code == 2


def test_run_says_when_it_relocks_and_frozen_refuses(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path / "p", '[tools]\nnode = "20"\n')
    z("sync", cwd=p)
    (p / ".zagi" / "env.toml").write_text('[tools]\nnode = "22"\n')
    frozen = z("run", "--frozen", "--", "node", "--version", cwd=p, check=False)
    assert frozen.code == 1 and "--frozen" in frozen.err
    ran = z("run", "--", "node", "--version", cwd=p)
    assert ran.out.strip() == "v22.2.0" and "relocked" in ran.err and "commit .zagi/env.lock" in ran.err


def test_secret_names_are_checked_first_and_may_not_run_code(tmp_path: Path,
                                                             z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path / "p", '[tools]\nnode = "20"\n')
    bad = z("secrets", "set", "BAD-NAME", cwd=p, check=False)  # no value on stdin at all
    assert bad.code == 2 and "not a valid secret name" in bad.err and "empty" not in bad.err
    for name in ("PATH", "LD_PRELOAD", "GIT_CONFIG_COUNT"):
        ran = z("secrets", "set", name, cwd=p, check=False)
        assert ran.code == 2 and "may not" in ran.err, ran.err


def test_hook_install_writes_an_absolute_path_and_fish_honours_xdg(tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.conftest import zagi_exe

    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    for shell in ("bash", "fish"):
        subprocess.run([zagi_exe(), "hook", shell, "--install"], env=env, check=True,
                       capture_output=True)
    bashrc = (tmp_path / ".bashrc").read_text()
    assert f'eval "$({zagi_exe()} hook bash)"' in bashrc  # not a bare `zagi`
    fish = tmp_path / "xdg" / "fish" / "config.fish"
    assert f"'{zagi_exe()}' hook fish | source" in fish.read_text()
    again = subprocess.run([zagi_exe(), "hook", "bash", "--install"], env=env, check=True,
                           capture_output=True, text=True)
    assert "already in" in again.stderr and (tmp_path / ".bashrc").read_text() == bashrc


def test_lock_refuses_a_system_nix_does_not_know(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path / "p", '[tools]\nnode = "20"\n')
    for bad in ("", "aarch64-darwn"):
        ran = z("lock", "--system", bad, cwd=p, check=False)
        assert ran.code == 2 and "not a Nix system" in ran.err and "nix" not in ran.err.split(":")[0]
    assert "did you mean \"aarch64-darwin\"" in z("lock", "--system", "aarch64-darwn", cwd=p,
                                                   check=False).err


@pytest.mark.parametrize("cmd", [["env"], ["allow"], ["sync", "--frozen"], ["lock", "--check"],
                                 ["run", "--frozen", "--", "true"]])
def test_one_exit_code_for_a_project_not_locked_yet(tmp_path: Path, z: Callable[..., Ran],
                                                    cmd: list[str]) -> None:
    """The same state, the same answer from every command (docs/cli.md's table)."""
    p = make_project(tmp_path / "p", '[tools]\nnode = "20"\n')
    ran = z(*cmd[:1], "--json", *cmd[1:], cwd=p, check=False)
    assert ran.code == 1, (cmd, ran.out, ran.err)
    if cmd[0] != "env":  # `zagi env --json` prints the env itself; its error is the same
        assert json.loads(ran.out)["kind"] == "NotLocked"
    assert not (p / ".zagi" / "env.lock").exists()


def test_usage_errors_are_json_with_json(z: Callable[..., Ran], tmp_path: Path) -> None:
    ran = z("lock", "--nope", "--json", cwd=tmp_path, check=False)
    assert ran.code == 2 and json.loads(ran.out) == {
        "error": "No such option: --nope", "exit_code": 2, "kind": "UsageError"}
