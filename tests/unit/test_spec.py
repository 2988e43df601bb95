from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zagi.core.errors import BadInput
from zagi.formats import spec

GOOD = """\
# my env
schema = 1

[project]
name = "demo"

[tools]
node = "20"  # keep 20 until the upgrade
rust = { version = "1.79", components = ["clippy"] }
foo = { attr = "foo_1_2" }

[system]
packages = ["libpq"]

[services]
postgres = "16"

[env]
APP_ENV = "dev"

[nix]
flake = "."
"""


def test_good_spec_loads() -> None:
    s = spec.parse_text(GOOD, "env.toml")
    assert s.tool_version("node") == "20"
    assert s.tool_version("rust") == "1.79"
    assert s.system.packages == ["libpq"]
    assert s.services == {"postgres": "16"}
    assert s.nix is not None and s.nix.flake == "."


@pytest.mark.parametrize(("body", "line", "col", "words"), [
    ("[tool]\nnode = '20'\n", 1, 2, ['unknown table [tool]', 'did you mean "tools"']),
    ("[project]\nnmae = 'x'\n", 2, 1, ['project.nmae', 'did you mean "name"']),
    ("[tools]\nnode = '20'\nnodejs = '20'\n", 3, 1, ["tools.nodejs", 'did you mean "node"']),
    ("[tools]\n\nnode = 'twenty'\n", 3, 1, ["tools.node", "not a version request", "expected"]),
    ("[tools]\nrust = { version = '1', compnents = [] }\n", 2, 25, ['did you mean "components"']),
    ("[services]\npostgress = '16'\n", 2, 1, ['did you mean "postgres"']),
    ("[env]\nOK = 'a'\n1BAD = 'b'\n", 3, 1, ["env.1BAD", "environment variable"]),
    ("schema = 9\n", 1, 1, ["schema 9 is not supported"]),
    ("[tools\n", 1, 7, ["invalid TOML"]),
    ("[tools]\nnode = 20\n", 2, 1, ["tools.node", "valid string"]),
])
def test_errors_name_line_column_and_expectation(body: str, line: int, col: int,
                                                 words: list[str]) -> None:
    with pytest.raises(BadInput) as info:
        spec.parse_text(body, ".zagi/env.toml")
    err = info.value
    assert (err.file, err.line, err.column) == (".zagi/env.toml", line, col)
    assert err.exit_code == 2
    for w in words:
        assert w in str(err)


def test_not_utf8_is_bad_input(tmp_path: Path) -> None:
    p = tmp_path / "env.toml"
    p.write_bytes(b'[tools]\nnode = "\xff"\n')
    with pytest.raises(BadInput, match="not UTF-8") as info:
        spec.load(p)
    assert info.value.line == 2


def test_edits_keep_comments_and_order(tmp_path: Path) -> None:
    p = tmp_path / "env.toml"
    p.write_text(GOOD)
    spec.set_entry(p, "tools", "zig", "0.15")
    spec.set_entry(p, "tools", "rust", "1.80")
    spec.set_entry(p, "services", "redis", "7")
    spec.add_system_package(p, "openssl")
    assert spec.remove_entry(p, "node") == "tools"
    text = p.read_text()
    assert "# my env" in text
    assert 'components = ["clippy"]' in text  # the table form keeps its options
    assert 'zig = "0.15"' in text and 'redis = "7"' in text
    assert "node" not in spec.load(p).tools
    assert spec.load(p).tool_version("rust") == "1.80"
    assert spec.load(p).system.packages == ["libpq", "openssl"]


def test_invalid_edit_writes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "env.toml"
    p.write_text(GOOD)
    before = p.read_bytes()
    with pytest.raises(BadInput):
        spec.set_entry(p, "tools", "nodejs", "20")
    with pytest.raises(BadInput):
        spec.set_entry(p, "services", "postgres", "sixteen")
    with pytest.raises(BadInput, match=r"not in env\.toml"):
        spec.remove_entry(p, "bun")
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["env.toml"]  # no temp files left


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_loader_only_ever_raises_bad_input(text: str) -> None:
    try:
        spec.parse_text(text, "env.toml")
    except BadInput as err:
        assert err.exit_code == 2
        assert err.line is None or err.line >= 1


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(["tools", "services", "env", "project", "system", "nix",
                                        "schema", "tool"]),
                       st.dictionaries(st.text(min_size=1, max_size=8),
                                       st.one_of(st.text(max_size=8), st.integers()),
                                       max_size=3), max_size=4))
def test_structured_garbage_only_raises_bad_input(data: dict[str, dict[str, object]]) -> None:
    import tomlkit

    text = tomlkit.dumps(data)
    with contextlib.suppress(BadInput):
        spec.parse_text(text, "env.toml")


@pytest.mark.parametrize("name", ["GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "PYTHONPATH",
                                  "LD_AUDIT", "DYLD_FRAMEWORK_PATH", "NODE_OPTIONS", "PERL5LIB",
                                  "RUBYOPT", "NPM_CONFIG_SCRIPT_SHELL", "NIX_CONFIG", "ZAGI_HOME",
                                  "XDG_CONFIG_HOME", "BASH_ENV", "PROMPT_COMMAND", "EDITOR"])
def test_env_may_not_set_variables_that_run_code(name: str) -> None:
    """The families an attack pass used: git's config by environment runs core.fsmonitor on
    `git status`; the loader's and interpreters' hooks; zagi's and Nix's own settings."""
    with pytest.raises(BadInput, match="may not set it"):
        spec.parse_text(f'[env]\n{name} = "x"\n', "env.toml")


def test_ordinary_project_variables_are_fine() -> None:
    s = spec.parse_text('[env]\nDATABASE_URL = "postgres://"\nPYTHONUNBUFFERED = "1"\n'
                        'RUST_LOG = "debug"\n', "env.toml")
    assert s.env["PYTHONUNBUFFERED"] == "1"
