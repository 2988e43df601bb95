"""zagi/core/layout.py is the one statement of where things are; the shell hooks repeat a
few of its names in shell, so these tests keep the two in step."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from zagi.core import layout

SCRIPTS = {"bash": "bash.sh", "zsh": "zsh.zsh", "fish": "fish.fish", "direnv": "direnv.sh"}


def script(shell: str) -> str:
    return resources.files("shellhooks").joinpath(f"scripts/{SCRIPTS[shell]}").read_text()


@pytest.mark.parametrize("shell", SCRIPTS)
def test_hooks_use_the_layouts_names(shell: str) -> None:
    text = script(shell)
    assert f"{layout.ZAGI_DIR}/{layout.SYNCED}" in text
    assert f"{layout.ZAGI_DIR}/{layout.ENV_LOCK}" in text
    assert "/envs/" in text
    sourced = {"bash": ["activate.sh", "deactivate.sh"], "zsh": ["activate.sh", "deactivate.sh"],
               "fish": ["activate.fish", "deactivate.fish"], "direnv": ["export.sh"]}[shell]
    for name in sourced:
        assert name in text and name in layout.ACTIVATION_FILES


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_hooks_find_a_project_by_env_toml_like_every_command(shell: str) -> None:
    text = script(shell)
    assert f"{layout.ZAGI_DIR}/{layout.ENV_TOML}" in text
    assert "/allow/" in text  # layout.allow_dir
    if shell != "fish":  # fish compares mtimes itself; bash and zsh keep a stamp per shell
        assert "/run/hook." in text  # layout.run_dir


def test_find_root_and_project_paths(tmp_path: Path) -> None:
    (tmp_path / ".zagi").mkdir()
    (tmp_path / ".zagi" / "env.toml").write_text("")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert layout.find_root(deep) == tmp_path.resolve()
    p = layout.Project(tmp_path)
    assert p == layout.Project(tmp_path) and len({p, layout.Project(tmp_path)}) == 1
    assert p.lock.name == "env.lock" and p.synced.name == ".synced" and p.mount.name == "env"


def test_synced_round_trips(tmp_path: Path) -> None:
    p = layout.Project(tmp_path)
    assert layout.read_synced(p) is None
    (tmp_path / ".zagi").mkdir()
    p.synced.write_text(layout.render_synced("a" * 32, "b" * 64))
    assert layout.read_synced(p) == ("a" * 32, "b" * 64)
    p.synced.write_text("garbage")
    assert layout.read_synced(p) is None


def test_home_paths_follow_zagi_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZAGI_HOME", str(tmp_path))
    assert layout.env_dir("x") == tmp_path / "envs" / "x"
    assert layout.allow_file("x", Path("/p/q")) == tmp_path / "allow" / "x" / "%p%q"
    assert layout.local_cache_url() == f"file://{tmp_path}/cache"
    assert layout.mirror_dir("s3://b").parent == tmp_path / "mirror"


def test_the_fast_paths_prepended_names_are_the_renderers() -> None:
    from shellhooks import activation
    from zagi.env import state

    assert set(activation.PREPEND) == state.PREPENDED


def test_sync_bounds_env_toml_as_the_spec_reader_does() -> None:
    """sync reads env.toml's bytes without importing the models; one bound for both."""
    from zagi.env import sync
    from zagi.formats import spec

    assert sync.MAX_SPEC_BYTES == spec.MAX_SPEC_BYTES
