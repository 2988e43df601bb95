from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Ran
from zagi.formats import spec

START = '# team env\nschema = 1\n\n[tools]\nnode = "20"  # LTS\nbun = "1.1"\n'


def project(tmp_path: Path) -> Path:
    (tmp_path / ".zagi").mkdir()
    (tmp_path / ".zagi" / "env.toml").write_text(START)
    return tmp_path


def test_add_and_remove_edit_in_place(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    p = project(tmp_path)
    assert zagi("add", "node@22", "zig@0.15", "uv", "-C", str(p)).code == 0
    assert zagi("add", "--service", "postgres@16", "-C", str(p)).code == 0
    assert zagi("add", "--system", "libpq", "-C", str(p)).code == 0
    ran = zagi("remove", "bun", "--json", "-C", str(p))
    assert ran.json() == {"removed": [{"name": "bun", "section": "tools"}], "relocked": False}
    text = (p / ".zagi" / "env.toml").read_text()
    assert text.startswith("# team env")
    assert 'node = "22"  # LTS' in text  # the user's comment survives the edit
    s = spec.load(p / ".zagi" / "env.toml")
    assert s.tools == {"node": "22", "zig": "0.15", "uv": "latest"}
    assert s.services == {"postgres": "16"} and s.system.packages == ["libpq"]


def test_bad_edits_exit_2_and_write_nothing(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    p = project(tmp_path)
    env = p / ".zagi" / "env.toml"
    for args, words in ((["add", "node@twenty"], "not a version request"),
                        (["add", "nodejs@20"], 'did you mean "node"'),
                        (["remove", "python"], "not in env.toml"),
                        (["add", "--service", "postgress@16"], 'did you mean "postgres"')):
        ran = zagi(*args, "-C", str(p))
        assert ran.code == 2, args
        assert words in ran.err
        assert env.read_text() == START
    assert sorted(f.name for f in env.parent.iterdir()) == ["env.toml"]


def test_edit_without_env_toml_says_how_to_create_it(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    ran = zagi("add", "node@20", "-C", str(tmp_path))
    assert ran.code == 2 and "zagi init" in ran.err
