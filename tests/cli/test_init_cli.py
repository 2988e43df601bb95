from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Ran
from zagi.formats import spec


def repo(tmp_path: Path) -> Path:
    (tmp_path / ".nvmrc").write_text("20\n")
    (tmp_path / "package.json").write_text('{"packageManager": "pnpm@9.0.3"}')
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: postgres:16\n")
    return tmp_path


def test_init_writes_a_valid_env_toml_with_evidence(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    ran = zagi("init", str(repo(tmp_path)))
    assert ran.code == 0, ran.err
    path = tmp_path / ".zagi" / "env.toml"
    text = path.read_text()
    assert 'node = "20" # .nvmrc:1 (pin)' in text
    assert 'postgres = "16" # compose.yaml:3 (pin)' in text
    loaded = spec.load(path)
    assert loaded.tool_version("pnpm") == "9"  # the major; corepack runs 9.0.3 itself
    assert "wrote" in ran.out and "node" in ran.out  # the summary table


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    repo(tmp_path)
    target = tmp_path / ".zagi" / "env.toml"
    target.parent.mkdir()
    target.write_text("# mine\n")
    ran = zagi("init", str(tmp_path))
    assert ran.code == 2 and "already exists" in ran.err and "--force" in ran.err
    assert target.read_text() == "# mine\n"
    assert zagi("init", "--force", str(tmp_path)).code == 0
    assert "node" in target.read_text()


def test_dry_run_prints_and_writes_nothing(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    ran = zagi("init", "--dry-run", str(repo(tmp_path)))
    assert ran.code == 0
    assert ran.out.startswith("# zagi environment")
    spec.parse_text(ran.out, "stdout")
    assert not (tmp_path / ".zagi").exists()


def test_json_keys_are_stable(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    data = zagi("init", "--dry-run", "--json", str(repo(tmp_path))).json()
    assert {"tools", "system", "services", "nix", "warnings", "projects"} <= set(data)
    node = data["tools"]["node"]
    assert node == {"version": "20", "kind": "pin", "project": ".",
                    "evidence": [{"file": ".nvmrc", "line": 1, "rule": ".nvmrc"}]}
    assert data["nix"] is None
    assert set(data["system"]) == {"packages"}
    json.dumps(data)


def test_with_overrides_detection(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    data = zagi("init", "-n", "--json", "--with", "node@22", str(repo(tmp_path))).json()
    assert data["tools"]["node"]["version"] == "22"
    assert data["tools"]["node"]["kind"] == "override"
    assert any(".nvmrc:1 says 20" in w for w in data["warnings"])
    bad = zagi("init", "-n", "--with", "nodejs@22", str(tmp_path))
    assert bad.code == 2 and "TOOL@VERSION" in bad.err


def test_unwritable_target_is_a_clear_error(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    repo(tmp_path)
    (tmp_path / ".zagi").write_text("a file where the directory should be")
    ran = zagi("init", str(tmp_path))
    assert ran.code == 1 and "cannot write" in ran.err and "internal error" not in ran.err
    (tmp_path / ".zagi").unlink()
    (tmp_path / ".zagi" / "env.toml").mkdir(parents=True)
    ran = zagi("init", "--force", str(tmp_path))
    assert ran.code == 1 and "cannot write" in ran.err
    assert [p.name for p in (tmp_path / ".zagi").iterdir()] == ["env.toml"]  # no temp left


def test_not_a_directory(tmp_path: Path, zagi: Callable[..., Ran]) -> None:
    f = tmp_path / "file"
    f.write_text("")
    assert zagi("init", str(f)).code == 2


def test_merge_reinfers_and_keeps_what_the_user_wrote(tmp_path: Path,
                                                      zagi: Callable[..., Ran]) -> None:
    """`zagi watch --infer` re-infers through this: a hand-added service, tool, system
    package and [env] variable survive; inferred values follow the files."""
    (tmp_path / ".nvmrc").write_text("20\n")
    (tmp_path / "package.json").write_text("{}")
    assert zagi("init", str(tmp_path)).code == 0
    toml = tmp_path / ".zagi" / "env.toml"
    text = toml.read_text()
    text = text.replace("[tools]\n", '[tools]\nzig = "0.15"  # mine\n')
    text = text.replace("[services]\n", '[services]\nredis = "7"\n')
    text = text.replace("[env]\n", '[env]\nAPP_ENV = "dev"\n')
    text = text.replace("[system]\npackages = []", '[system]\npackages = ["sqlite"]')
    toml.write_text(text)
    (tmp_path / ".nvmrc").write_text("22\n")
    assert zagi("init", "--merge", str(tmp_path)).code == 0
    s = spec.load(toml)
    assert s.tool_version("node") == "22" and s.tool_version("zig") == "0.15"
    assert s.services == {"redis": "7"} and s.env == {"APP_ENV": "dev"}
    assert s.system.packages == ["sqlite"]
    # plain --force still replaces the file with what detection finds
    assert zagi("init", "--force", str(tmp_path)).code == 0
    assert "redis" not in toml.read_text()
